"""Dose-response of training hours (JP) and effect heterogeneity by subgroup.

Two questions of the challenges chapter: does more training go with better performance, and
is there a step at the 20 JP yearly minimum (PP 17/2020)? And do policies help some staff
(by age band, education, position type) more than others?
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from asn_eval.domain.regulations import JP_MINIMUM_PER_YEAR
from asn_eval.estimators.results import EstimateTable, interval_sign, plotting_backend
from asn_eval.estimators.twfe import TwfeResult, twfe

__all__ = [
    "DoseResponseResult",
    "HeterogeneityResult",
    "dose_response",
    "dose_response_from_moments",
    "heterogeneity",
    "heterogeneity_from_cells",
    "hour_bin_labels",
]

DEFAULT_BINS: tuple[float, ...] = (0, 10, 20, 40, 80)
REFERENCE_BIN = "0 JP"


def _fmt(x: float) -> str:
    return f"{x:g}"


def hour_bin_labels(bins: Sequence[float] = DEFAULT_BINS) -> list[str]:
    """Labels of the hour bins: ``0 JP`` (reference) then ``[a, b)`` bins and the open top bin.

    Examples
    --------
    >>> hour_bin_labels((0, 10, 20, 40, 80))
    ['0 JP', '>0-10 JP', '10-20 JP', '20-40 JP', '40-80 JP', '80+ JP']
    """
    edges = list(bins)
    labels = [REFERENCE_BIN, f">0-{_fmt(edges[1])} JP"] if len(edges) > 1 else [REFERENCE_BIN]
    labels += [f"{_fmt(a)}-{_fmt(b)} JP" for a, b in zip(edges[1:-1], edges[2:], strict=True)]
    labels.append(f"{_fmt(edges[-1])}+ JP" if len(edges) > 1 else ">0 JP")
    return labels


def _hour_bins(hours: np.ndarray, edges: list[float]) -> np.ndarray:
    """Bin index per row: 0 for exactly 0 JP, then (0, e1), [e1, e2), ..., [e_last, inf)."""
    return np.where(hours == 0, 0, np.searchsorted(edges[1:], hours, side="right") + 1)


@dataclass(frozen=True)
class DoseResponseResult(EstimateTable):
    """Effects of training-hour bins relative to no training, and the jump at the minimum.

    ``params``/``std_errors`` are indexed by ``hours_bin`` (the reference bin ``0 JP`` is not
    estimated). ``jump`` is the estimated step at ``threshold`` JP from a piecewise-linear
    specification, with ``jump_se`` and ``jump_pvalue``. ``bin_fit`` and ``spline_fit`` are
    the two underlying :class:`~asn_eval.estimators.twfe.TwfeResult` objects, ``counts`` the
    number of employee-years per bin.
    """

    threshold: float = JP_MINIMUM_PER_YEAR
    jump: float = np.nan
    jump_se: float = np.nan
    jump_pvalue: float = np.nan
    counts: pd.Series = field(default_factory=pd.Series)
    bin_fit: TwfeResult | None = None
    spline_fit: TwfeResult | None = None

    def to_frame(self) -> pd.DataFrame:
        frame = super().to_frame()
        frame.insert(1, "n", self.counts.reindex(frame["hours_bin"]).to_numpy())
        return frame

    def plot(self, ax=None, **kwargs):
        """Draw each hours bin's estimate and interval against the reference bin at zero;
        return the matplotlib Axes.

        Keywords go to :func:`asn_eval.report.plots.dose_response` (``lang``, ``percent``,
        ``labels``, ``legend``, ...); a new full-width figure is made when ``ax`` is None.
        """
        return plotting_backend().dose_response(self, ax=ax, **kwargs)

    def statement(self) -> str:
        """One sentence on the step at the threshold, in plain English."""
        crit = stats.t.ppf(0.5 + self.level / 2, self.spline_fit.df)
        lo, hi = self.jump - crit * self.jump_se, self.jump + crit * self.jump_se
        verdict = {1: "a step up", -1: "a step down", 0: "no detectable step"}[
            interval_sign(lo, hi)
        ]
        pct = round(self.level * 100)
        return (
            f"Two-way fixed effects with training-hour bins find {verdict} in {self.outcome} at "
            f"the {_fmt(self.threshold)} JP minimum: {self.jump:.4g} "
            f"({pct}% CI {lo:.4g} to {hi:.4g}, p = {self.jump_pvalue:.3g})."
        )


def dose_response(
    data: pd.DataFrame,
    *,
    outcome: str,
    hours: str,
    unit: str,
    time: str,
    cluster: str | None = None,
    bins: Sequence[float] = DEFAULT_BINS,
    threshold: float = JP_MINIMUM_PER_YEAR,
    level: float = 0.95,
) -> DoseResponseResult:
    """Dose-response of training hours by two-way fixed effects with hour bins.

    Two TWFE regressions with unit and time fixed effects (:func:`~asn_eval.estimators.twfe.
    twfe`):

    1. *bins*: dummies for ``>0-10, 10-20, 20-40, 40-80, 80+`` JP (by default) against the
       reference of no training at all (``0 JP``); each coefficient is the mean difference in
       the outcome, within employee and year, against a year without training;
    2. *threshold*: a continuous piecewise-linear function of hours with knots at the bin
       edges plus a step ``1{hours >= threshold}``; the step's coefficient is the jump at the
       20 JP minimum (PP 11/2017 art. 203 as amended by PP 17/2020) over and above the smooth
       dose-response, tested against zero.

    Training hours are chosen, not assigned: read the curve as an association within employee
    and year, not as a causal dose-response, unless hours were allocated as good as randomly.

    Parameters
    ----------
    data
        Employee-year panel, e.g. ``asn_eval.analysis.panels.employee_year_panel`` (columns ``jp``,
        ``employee_id``, ``year``, ``agency_code``).
    outcome
        Outcome column (e.g. ``"skp_good"``).
    hours
        Training hours (JP) in the year; 0 for no training.
    unit, time
        Fixed-effect columns.
    cluster
        Column to cluster on (e.g. ``"agency_code"``); ``None`` gives classical SEs.
    bins
        Increasing bin edges starting at 0; the top bin is open.
    threshold
        Hours at which the step is tested (default: the 20 JP minimum); employee-years on
        both sides of it must be observed.
    level
        Confidence level.

    Returns
    -------
    DoseResponseResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(300), 4), "year": np.tile(range(4), 300)})
    >>> df["jp"] = rng.choice([0, 5, 15, 30, 60, 100], size=len(df))
    >>> df["y"] = np.log1p(df["jp"]) + rng.normal(size=len(df))
    >>> res = dose_response(df, outcome="y", hours="jp", unit="id", time="year")
    >>> list(res.to_frame()["hours_bin"])
    ['>0-10 JP', '10-20 JP', '20-40 JP', '40-80 JP', '80+ JP']
    """
    edges = [float(b) for b in bins]
    if len(edges) < 2 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
        raise ValueError(
            f"dose_response: bins must be increasing edges starting at 0, e.g. (0, 10, 20, 40, "
            f"80); got {tuple(bins)}."
        )
    missing = [c for c in (outcome, hours, unit, time, cluster) if c and c not in data.columns]
    if missing:
        raise KeyError(f"dose_response: column(s) {missing} not in the data.")
    columns = list(dict.fromkeys(c for c in (outcome, hours, unit, time, cluster) if c))
    frame = data[columns]
    incomplete = frame.isna().any(axis=1)
    if incomplete.any():
        warnings.warn(
            f"dose_response dropped {int(incomplete.sum())} of {len(frame)} rows with missing "
            f"values in {columns}.",
            stacklevel=2,
        )
        frame = frame.loc[~incomplete]
    jp = frame[hours].to_numpy(dtype=float)
    if (jp < 0).any():
        raise ValueError(
            f"dose_response: {hours} has {int((jp < 0).sum())} negative value(s); training "
            f"hours must be 0 or more."
        )
    if not (jp < threshold).any() or not (jp >= threshold).any():
        raise ValueError(
            f"dose_response: no employee-years on one side of the {_fmt(threshold)} JP "
            f"threshold, so the step there cannot be estimated."
        )

    labels = hour_bin_labels(edges)
    codes = _hour_bins(jp, edges)
    counts = pd.Series(
        np.bincount(codes, minlength=len(labels)), index=pd.Index(labels, name="hours_bin")
    )
    if counts[REFERENCE_BIN] == 0:
        raise ValueError(
            "dose_response: no employee-year has 0 JP, the reference category, so the bin "
            "effects have nothing to be compared with."
        )
    empty = [label for label, n in counts.items() if n == 0]
    if empty:
        warnings.warn(
            f"dose_response: no employee-years in bin(s) {empty}; left out.", stacklevel=2
        )
    estimated = [label for label in labels[1:] if counts[label] > 0]
    work = frame.reset_index(drop=True).copy()
    for label in estimated:
        work[label] = (codes == labels.index(label)).astype(float)

    # Continuous piecewise-linear in hours (knots at the bin edges and the threshold) plus
    # a step at the threshold: the step is then a jump over and above the smooth curve.
    knots = sorted({e for e in edges[1:] if e < jp.max()} | {float(threshold)})
    spline_terms = ["hours_slope"] + [f"hours_above_{_fmt(k)}" for k in knots]
    work["hours_slope"] = jp
    for k in knots:
        work[f"hours_above_{_fmt(k)}"] = np.maximum(jp - k, 0.0)
    step = f"step_at_{_fmt(threshold)}"
    work[step] = (jp >= threshold).astype(float)

    common = dict(outcome=outcome, unit=unit, time=time, cluster=cluster, level=level)
    bin_fit = twfe(work, treatment=estimated, **common)
    spline_fit = twfe(work, treatment=[step, *spline_terms], **common)
    if step not in spline_fit.params.index or not np.isfinite(spline_fit.std_errors[step]):
        raise ValueError(
            f"dose_response: the step at {_fmt(threshold)} JP is not identified (too few "
            f"employee-years change sides of the threshold within employee)."
        )
    return _dose_result(bin_fit, spline_fit, estimated, step, counts, outcome, level, threshold)


def _dose_result(
    bin_fit: TwfeResult,
    spline_fit: TwfeResult,
    estimated: list[str],
    step: str,
    counts: pd.Series,
    outcome: str,
    level: float,
    threshold: float,
) -> DoseResponseResult:
    params = bin_fit.params[estimated].rename_axis("hours_bin")
    std_errors = bin_fit.std_errors[estimated].rename_axis("hours_bin")
    return DoseResponseResult(
        params=params,
        std_errors=std_errors,
        method="TWFE dose-response",
        outcome=outcome,
        level=level,
        df=bin_fit.df,
        info={
            "Employee-years": f"{bin_fit.nobs}",
            "Reference": "0 JP (no training that year)",
            "Standard errors": bin_fit.se_type,
            f"Step at {_fmt(threshold)} JP": (
                f"{spline_fit.params[step]:.4f} ({spline_fit.std_errors[step]:.4f}), "
                f"p = {spline_fit.pvalues[step]:.3g}"
            ),
        },
        threshold=float(threshold),
        jump=float(spline_fit.params[step]),
        jump_se=float(spline_fit.std_errors[step]),
        jump_pvalue=float(spline_fit.pvalues[step]),
        counts=counts,
        bin_fit=bin_fit,
        spline_fit=spline_fit,
    )


@dataclass(frozen=True)
class HeterogeneityResult(EstimateTable):
    """Overall ATT by subgroup, with differences against the first group.

    ``params``/``std_errors`` are indexed by the subgroup (index name = the ``by`` column).
    ``differences`` is an :class:`EstimateTable` of each group's ATT minus the reference
    (first) group's; ``equality_stat``/``equality_pvalue`` the Wald test that all ATTs are
    equal. ``results`` holds the per-group estimator results.
    """

    differences: EstimateTable | None = None
    equality_stat: float = np.nan
    equality_df: int = 0
    equality_pvalue: float = np.nan
    results: dict = field(default_factory=dict)

    def statement(self) -> str:
        """One sentence on the spread of the ATT across groups."""
        by = self.params.index.name
        hi, lo = self.params.idxmax(), self.params.idxmin()
        verdict = (
            "differ detectably"
            if self.equality_pvalue < 1 - self.level
            else "do not differ detectably"
        )
        return (
            f"By {by}, the effect on {self.outcome} ranges from {self.params[lo]:.4g} ({lo}) to "
            f"{self.params[hi]:.4g} ({hi}); the groups {verdict} "
            f"(Wald chi2({self.equality_df}) = {self.equality_stat:.3g}, "
            f"p = {self.equality_pvalue:.3g})."
        )


def _overall_att(sub, *, outcome, unit, time, cohort, cluster, method):
    """Overall ATT and SE for one subgroup: CS simple aggregation or static TWFE."""
    if method == "cs":
        from asn_eval.estimators.did import att_gt

        agg = att_gt(sub, outcome=outcome, unit=unit, time=time, cohort=cohort, cluster=cluster)
        agg = agg.aggregate("simple")
        return float(agg.overall_att), float(agg.overall_se), agg
    cohorts = sub[cohort].fillna(0).to_numpy()
    treated = ((cohorts > 0) & (sub[time].to_numpy() >= cohorts)).astype(float)
    res = twfe(
        sub.assign(_treated=treated),
        outcome=outcome,
        treatment="_treated",
        unit=unit,
        time=time,
        cluster=cluster,
    )
    return float(res.params["_treated"]), float(res.std_errors["_treated"]), res


def heterogeneity(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    by: str,
    cluster: str | None = None,
    method: str = "cs",
    level: float = 0.95,
) -> HeterogeneityResult:
    """Overall average treatment effect on the treated, separately by subgroup.

    Each subgroup (e.g. age band, education, position type) is estimated on its own, with
    its own treated and comparison units: by default Callaway and Sant'Anna (2021,
    J. Econometrics 225(2)) ``att_gt(...).aggregate("simple")``; ``method="twfe"`` gives the
    static two-way fixed effects coefficient instead (biased under staggered adoption with
    effects that vary over time; kept for comparison).

    Differences between groups and the Wald test of equal effects treat the subgroup
    estimates as independent. That holds when the groups share no cluster (e.g. clustering
    on employees); when they share agencies and ``cluster`` is the agency, the estimates
    are positively correlated and the difference's standard error is conservative.

    Parameters
    ----------
    data
        Long panel (e.g. the employee-year panel).
    outcome, unit, time
        Outcome, unit and period columns.
    cohort
        First treated period of the unit; 0 or missing for never treated.
    by
        Subgroup column; must be constant within each unit (fix a time-varying attribute
        such as age at one date, e.g. with ``asn_eval.estimators.adoption.age_band``).
    cluster
        Column to cluster on; ``None`` clusters on ``unit`` for ``"cs"`` and gives
        classical SEs for ``"twfe"``.
    method
        ``"cs"`` (Callaway-Sant'Anna) or ``"twfe"``.
    level
        Confidence level.

    Returns
    -------
    HeterogeneityResult
    """
    if method not in ("cs", "twfe"):
        raise ValueError(f'heterogeneity: method must be "cs" or "twfe"; got {method!r}.')
    missing = [c for c in (outcome, unit, time, cohort, by, cluster) if c and c not in data]
    if missing:
        raise KeyError(f"heterogeneity: column(s) {missing} not in the data.")
    n_no_group = int(data[by].isna().sum())
    frame = data.loc[data[by].notna()]
    if n_no_group:
        warnings.warn(f"heterogeneity dropped {n_no_group} rows with a missing {by}.", stacklevel=2)
    varying = frame.groupby(unit, observed=True)[by].nunique()
    if (varying > 1).any():
        raise ValueError(
            f"heterogeneity: {by} changes over time for {int((varying > 1).sum())} of "
            f"{len(varying)} units; subgroups must be fixed per unit (e.g. age band at the "
            f"start of the panel), so that no unit moves between groups."
        )
    values = frame[by]
    groups = (
        list(values.cat.categories[values.cat.categories.isin(values.unique())])
        if isinstance(values.dtype, pd.CategoricalDtype)
        else sorted(values.unique())
    )
    estimates, errors, results = {}, {}, {}
    for group in groups:
        sub = frame.loc[values == group]
        never = sub[cohort].fillna(0).eq(0)
        if never.all() or not never.any():
            warnings.warn(
                f"heterogeneity: {by} = {group} has "
                f"{'no treated' if never.all() else 'no never-treated'} units; left out.",
                stacklevel=2,
            )
            continue
        est, se, res = _overall_att(
            sub,
            outcome=outcome,
            unit=unit,
            time=time,
            cohort=cohort,
            cluster=cluster,
            method=method,
        )
        estimates[group], errors[group], results[group] = est, se, res
    return _heterogeneity_result(
        estimates, errors, results, by=by, outcome=outcome, level=level, method=method
    )


def _heterogeneity_result(estimates, errors, results, *, by, outcome, level, method):
    """The subgroup estimates as a :class:`HeterogeneityResult`, with the equality test."""
    if len(estimates) < 2:
        raise ValueError(
            f"heterogeneity: fewer than two groups of {by} have both treated and never-treated "
            f"units; there is nothing to compare."
        )
    index = pd.Index(list(estimates), name=by)
    params = pd.Series(estimates, index=index, dtype=float)
    std_errors = pd.Series(errors, index=index, dtype=float)
    reference = index[0]
    diff_index = pd.Index([f"{g} - {reference}" for g in index[1:]], name="comparison")
    differences = EstimateTable(
        params=pd.Series(params.iloc[1:].to_numpy() - params.iloc[0], index=diff_index),
        std_errors=pd.Series(
            np.sqrt(std_errors.iloc[1:].to_numpy() ** 2 + std_errors.iloc[0] ** 2),
            index=diff_index,
        ),
        method="Difference in ATT",
        outcome=outcome,
        level=level,
    )
    # Wald test of equal ATTs for independent estimates: precision-weighted dispersion.
    weights = 1 / std_errors**2
    pooled = float((weights * params).sum() / weights.sum())
    stat = float((weights * (params - pooled) ** 2).sum())
    df = len(params) - 1
    name = "Callaway-Sant'Anna (simple ATT)" if method == "cs" else "TWFE (static)"
    return HeterogeneityResult(
        params=params,
        std_errors=std_errors,
        method=f"{name} by {by}",
        outcome=outcome,
        level=level,
        info={
            "Groups": ", ".join(f"{g}" for g in index),
            "Reference group": f"{reference}",
            "Group differences": "estimates treated as independent",
        },
        differences=differences,
        equality_stat=stat,
        equality_df=df,
        equality_pvalue=float(stats.chi2.sf(stat, df)),
        results=results,
    )


def _moment_matrix(row: pd.Series, names: list[str]) -> np.ndarray:
    """The symmetric cross-product matrix of ``names`` from ``m_<a>__<b>`` entries (the
    query writes each pair once, in its own column order)."""
    p = len(names)
    out = np.empty((p, p))
    for i, a in enumerate(names):
        for j in range(i, p):
            b = names[j]
            key = f"m_{a}__{b}" if f"m_{a}__{b}" in row.index else f"m_{b}__{a}"
            out[i, j] = out[j, i] = row[key]
    return out


def _twfe_from_moments(
    moments: pd.DataFrame,
    *,
    regressors: list[str],
    labels: list[str],
    years: list[str],
    outcome: str,
    unit: str,
    time: str,
    cluster: str,
    level: float,
) -> TwfeResult:
    """:func:`~asn_eval.estimators.twfe.twfe` (clustered) from per-cluster within-unit moments.

    The columns of ``moments`` are demeaned within unit, so the unit effects are gone; the
    year dummies are partialled out of the sums (Frisch-Waugh-Lovell), which leaves what
    ``twfe`` computes from its residualised columns: ``x'x``, ``x'y`` and, per cluster, the
    score ``x'e``. One year dummy is dropped: the demeaned dummies sum to zero.
    """
    from asn_eval.estimators.twfe import ABSORBED_TOLERANCE

    names = ["y", *regressors, *years[1:]]
    k = len(regressors)
    per_cluster = [_moment_matrix(row, names) for _, row in moments.iterrows()]
    total = np.sum(per_cluster, axis=0)
    x_idx = np.arange(1, 1 + k)
    d_idx = np.arange(1 + k, len(names))
    # Projection of y and the regressors on the (within-unit) year dummies.
    dd = total[np.ix_(d_idx, d_idx)]
    coef = np.linalg.solve(dd, total[np.ix_(d_idx, np.r_[0, x_idx])]) if len(d_idx) else None
    # Each residualised column as a combination of the moment columns (rows: y, x...).
    lin = np.zeros((1 + k, len(names)))
    lin[0, 0] = 1.0
    lin[1:, x_idx] = np.eye(k)
    if coef is not None:
        lin[:, d_idx] = -coef.T
    resid_total = lin @ total @ lin.T
    xtx = resid_total[1:, 1:]
    raw_ss = np.array(
        [
            moments[f"ss_{r}"].sum() - moments[f"s_{r}"].sum() ** 2 / moments["n"].sum()
            for r in regressors
        ]
    )
    absorbed = [
        name
        for name, w, r in zip(labels, np.diag(xtx), raw_ss, strict=True)
        if w <= ABSORBED_TOLERANCE**2 * r or w == 0
    ]
    if absorbed:
        raise ValueError(
            f"twfe: {', '.join(absorbed)} do(es) not vary within units and periods once the "
            f"{unit} and {time} fixed effects are removed, so no effect can be estimated; "
            "drop it or use a variable that changes over time within units."
        )
    xtx_inv = np.linalg.inv(xtx)
    params = xtx_inv @ resid_total[1:, 0]
    # Per cluster: score x'e = x'y - x'x b of the residualised columns.
    e_vec = lin[0] - params @ lin[1:]
    scores = np.array([lin[1:] @ m @ e_vec for m in per_cluster])
    first = moments.iloc[0]
    n = int(moments["n"].sum())
    n_units, n_times = int(first["n_units"]), int(first["n_times"])
    n_clusters = len(moments)
    if n_clusters < 2:
        raise ValueError(f"twfe: clustering needs at least 2 clusters; {cluster} has 1.")
    unit_nested = int(first["split_units"]) == 0
    time_nested = int(first["max_clusters_per_year"]) == 1
    df_k = (
        k
        + (n_units + n_times - 1)
        - (n_units if unit_nested else 0)
        - (n_times if time_nested else 0)
        + int(unit_nested)
        + int(time_nested)
    )
    factor = n_clusters / (n_clusters - 1) * (n - 1) / (n - df_k)
    vcov = factor * xtx_inv @ (scores.T @ scores) @ xtx_inv
    df = n_clusters - 1
    se_type = (
        f"clustered by {cluster} (CRV1, fixest/pyfixest convention: G/(G-1) x (N-1)/(N-K), "
        f"fixed effects nested in clusters not counted in K = {df_k:,}); t({df}) intervals"
    )
    index = pd.Index(labels, name="term")
    return TwfeResult(
        params=pd.Series(params, index=index, name="estimate"),
        std_errors=pd.Series(np.sqrt(np.diag(vcov)), index=index, name="std_error"),
        method="TWFE",
        outcome=outcome,
        level=level,
        info={
            "Observations": f"{n:,}",
            "Units": f"{n_units:,}",
            "Periods": f"{n_times:,}",
            "Fixed effects": f"{unit}, {time}",
            "Standard errors": se_type,
            "Clusters": f"{n_clusters:,}",
        },
        vcov=pd.DataFrame(vcov, index=index, columns=index.rename(None)),
        nobs=n,
        n_clusters=n_clusters,
        df=df,
        se_type=se_type,
    )


def dose_response_from_moments(
    moments: pd.DataFrame,
    *,
    outcome: str,
    unit: str = "employee_id",
    time: str = "year",
    cluster: str = "agency_code",
    bins: Sequence[float] = DEFAULT_BINS,
    threshold: float = JP_MINIMUM_PER_YEAR,
    level: float = 0.95,
) -> DoseResponseResult:
    """:func:`dose_response` (clustered) from per-cluster sufficient statistics.

    The grouped form, exact rather than approximate: both TWFE regressions of
    :func:`dose_response` depend on the employee-years only through, per cluster, the
    cross-products of the outcome, the regressors and the year dummies demeaned within
    employee (Frisch-Waugh-Lovell: the employee effect is removed by the demeaning, the year
    effects are partialled out of the sums; the cluster scores ``x'e`` are linear in the same
    per-cluster sums). :func:`asn_eval.engine.dose_moments` computes them on DuckDB or Spark
    (``moments`` is its result for the same ``bins`` and ``threshold``), so the employee-year
    panel is never built in pandas. Agency-year-bin cells would not do: the employee effect
    needs each employee's own mean.

    Classical (unclustered) standard errors are not offered here (the report clusters); the
    rows dropped for a missing value are not counted (the query leaves them out). The engine
    adds its sums in parallel, in no fixed order, so the last digits (about 1e-13 relative
    on 120,000 employees) may change from run to run; the employee-level form is
    deterministic.

    Parameters
    ----------
    moments
        One row per cluster, columns of :func:`asn_eval.engine.dose_moments_sql`.
    outcome, unit, time, cluster
        Names, for the result's labels.
    bins, threshold, level
        As :func:`dose_response`.

    Returns
    -------
    DoseResponseResult
    """
    from asn_eval.engine.queries import dose_terms

    edges = [float(b) for b in bins]
    if len(edges) < 2 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
        raise ValueError(
            f"dose_response: bins must be increasing edges starting at 0, e.g. (0, 10, 20, 40, "
            f"80); got {tuple(bins)}."
        )
    years = sorted(c[len("m_y__") :] for c in moments.columns if c.startswith("m_y__year"))
    terms = dose_terms(edges, threshold, [int(y[4:]) for y in years])
    first = moments.iloc[0]
    n = int(moments["n"].sum())
    if first["jp_min"] < 0:
        raise ValueError(
            "dose_response: hours has negative value(s); training hours must be 0 or more."
        )
    n_above = int(round(moments["s_step"].sum()))
    if n_above == 0 or n_above == n:
        raise ValueError(
            f"dose_response: no employee-years on one side of the {_fmt(threshold)} JP "
            f"threshold, so the step there cannot be estimated."
        )
    labels = hour_bin_labels(edges)
    in_bins = [int(round(moments[f"s_{b}"].sum())) for b in terms["bins"]]
    counts = pd.Series(
        np.array([n - sum(in_bins), *in_bins]), index=pd.Index(labels, name="hours_bin")
    )
    if counts[REFERENCE_BIN] == 0:
        raise ValueError(
            "dose_response: no employee-year has 0 JP, the reference category, so the bin "
            "effects have nothing to be compared with."
        )
    empty = [label for label, c in counts.items() if c == 0]
    if empty:
        warnings.warn(
            f"dose_response: no employee-years in bin(s) {empty}; left out.", stacklevel=2
        )
    estimated = [label for label in labels[1:] if counts[label] > 0]
    bin_columns = [terms["bins"][labels.index(label) - 1] for label in estimated]
    jp_max = float(first["jp_max"])
    knots = sorted({e for e in edges[1:] if e < jp_max} | {float(threshold)})
    knot_columns = [f"above{terms['knots'].index(k)}" for k in knots]
    spline_terms = ["hours_slope"] + [f"hours_above_{_fmt(k)}" for k in knots]
    step = f"step_at_{_fmt(threshold)}"
    common = dict(years=years, outcome=outcome, unit=unit, time=time, cluster=cluster, level=level)
    bin_fit = _twfe_from_moments(moments, regressors=bin_columns, labels=estimated, **common)
    spline_fit = _twfe_from_moments(
        moments,
        regressors=["step", "hours", *knot_columns],
        labels=[step, *spline_terms],
        **common,
    )
    if step not in spline_fit.params.index or not np.isfinite(spline_fit.std_errors[step]):
        raise ValueError(
            f"dose_response: the step at {_fmt(threshold)} JP is not identified (too few "
            f"employee-years change sides of the threshold within employee)."
        )
    return _dose_result(bin_fit, spline_fit, estimated, step, counts, outcome, level, threshold)


def heterogeneity_from_cells(
    cells: pd.DataFrame,
    *,
    by: str,
    outcome: str,
    time: str = "year",
    cluster: str = "agency_code",
    categories: Sequence | None = None,
    label: str | None = None,
    level: float = 0.95,
) -> HeterogeneityResult:
    """:func:`heterogeneity` (Callaway-Sant'Anna, clustered) from cluster x cohort x year cells.

    The grouped form, exact for what :func:`heterogeneity` runs by default (``method="cs"``,
    no covariates, ``att_gt``'s balanced panel, ``unbalanced="drop"``, analytic standard
    errors clustered on ``cluster``, each employee in the cluster of his or her first row):
    ATT(g, t) is a difference of cohort means of the change in the outcome, and the cluster
    sums of its influence function, of the simple aggregation's weights too, are linear in
    the number of employees and the sum of their outcome per cluster, cohort and year. So
    each cluster x cohort becomes one unit with the cell means as its outcome and its
    employees as ``att_gt``'s sampling weights (constant over time in a balanced panel),
    which gives the same estimates and standard errors to rounding
    (``tests/estimators/test_heterogeneity_cells.py``).

    Not exact, and not offered: ``method="twfe"``; unclustered (unit-level) standard errors,
    whose sum of squared influence functions needs each employee's own change; covariates;
    ``unbalanced="pairwise"`` or ``allow_unbalanced=True``, which use the unbalanced
    employees per cell or per row. The per-group ``results`` are ``att_gt`` aggregates over
    these cluster x cohort units, so their unit counts are cells, not employees.

    Parameters
    ----------
    cells
        Columns of :data:`asn_eval.engine.SUBGROUP_CELL_COLUMNS` (``n_years``: years with an
        outcome of the cell's employees; those seen in every year of their group are kept,
        the others count only for the check that a group has treated and never-treated
        employees, as in :func:`heterogeneity`).
    by
        Subgroup column of ``cells`` (``age_band`` holds the band's position in
        :data:`asn_eval.domain.subgroups.AGE_BAND_LABELS`, turned into its label).
    outcome, time, cluster
        Names, for the result's labels.
    categories
        Order of the groups; sorted values when None (as :func:`heterogeneity` orders a
        column that is not categorical).
    label
        Name of the subgroup in the result (the ``by`` of :func:`heterogeneity` on the
        employee-year panel, e.g. ``"age_band_start"``); ``by`` when None.
    level
        Confidence level.
    """
    from asn_eval.domain.subgroups import AGE_BAND_LABELS
    from asn_eval.estimators.did import att_gt

    frame = cells.loc[cells[by].notna()].copy()
    n_no_group = int(cells.loc[cells[by].isna(), "n"].sum())
    if n_no_group:
        warnings.warn(f"heterogeneity dropped {n_no_group} rows with a missing {by}.", stacklevel=2)
    if by == "age_band":
        frame[by] = [AGE_BAND_LABELS[int(code)] for code in frame[by]]
        categories = list(AGE_BAND_LABELS) if categories is None else categories
    present = set(frame[by])
    groups = [g for g in categories if g in present] if categories is not None else sorted(present)
    estimates, errors, results = {}, {}, {}
    for group in groups:
        sub = frame.loc[frame[by] == group]
        never = sub["cohort"].eq(0)
        if never.all() or not never.any():
            warnings.warn(
                f"heterogeneity: {by} = {group} has "
                f"{'no treated' if never.all() else 'no never-treated'} units; left out.",
                stacklevel=2,
            )
            continue
        balanced = sub.loc[sub["n_years"] == sub[time].nunique()]
        units = balanced.groupby(["cluster", "cohort", time], as_index=False)[["n", "sum_y"]].sum()
        units["y"] = units["sum_y"] / units["n"]
        units["unit"] = units["cluster"].astype(str) + "|" + units["cohort"].astype(str)
        agg = att_gt(
            units,
            outcome="y",
            unit="unit",
            time=time,
            cohort="cohort",
            cluster="cluster",
            weights="n",
        ).aggregate("simple")
        estimates[group], errors[group], results[group] = (
            float(agg.overall_att),
            float(agg.overall_se),
            agg,
        )
    return _heterogeneity_result(
        estimates, errors, results, by=label or by, outcome=outcome, level=level, method="cs"
    )
