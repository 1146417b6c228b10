"""Callaway and Sant'Anna (2021) group-time average treatment effects and event studies.

Staggered adoption (agencies adopting a policy in different years) breaks the static two-way
fixed effects regression when effects change over time or differ between adoption cohorts:
already-treated units end up as controls. Callaway and Sant'Anna (2021) instead estimate one
clean 2x2 comparison per adoption cohort ``g`` and period ``t``, ATT(g, t), against units not
(yet) treated, and then average these with explicit weights ("simple", "dynamic", "group",
"calendar"). The defaults follow R's ``did`` package (``att_gt``/``aggte``): never-treated
controls, varying base period, no anticipation, analytic standard errors from the influence
function (or a multiplier bootstrap with Rademacher weights), doubly robust (Sant'Anna and Zhao
2020) 2x2 estimates when covariates are given.

The computation works on a wide ``units x periods`` array and on influence functions summed
within clusters, so that it is vectorised over units (no Python loop over units; one loop over
the few (g, t) cells) and scales to national panels.

References
----------
Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
periods. Journal of Econometrics 225(2), 200-230.
Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences estimators.
Journal of Econometrics 219(1), 101-122.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .inference import WEBB_POINTS
from .results import EFFECT_WORDS, EstimateTable, interval_sign

NEVER_TREATED = 0
AGGREGATIONS = ("simple", "dynamic", "group", "calendar")
CONTROL_GROUPS = ("never", "notyet")
BASE_PERIODS = ("varying", "universal")
UNBALANCED = ("drop", "pairwise")
# Multiplier-bootstrap weights: Rademacher is R's did's (BMisc::multiplier_bootstrap); Webb's
# six points give more distinct draws with few clusters; Mammen's two points are skewed.
BOOT_WEIGHTS = ("rademacher", "mammen", "webb")
# Below this many clusters Rademacher weights allow too few distinct draws (2**G) for a
# smooth sup-t quantile, and Webb weights are the usual advice (Webb 2023).
FEW_CLUSTERS_WEBB = 12
# Propensity scores of comparison units above this are trimmed, as in R's DRDID (trim.level).
PS_TRIM_LEVEL = 0.995
METHOD_NAME = "Callaway-Sant'Anna"
# R's did reports a standard error as missing below this (sqrt(.Machine$double.eps) * 10).
_ZERO_SE = np.sqrt(np.finfo(float).eps) * 10
# Leverage-corrected influence functions (for the small-sample pre-trend test) are kept only
# up to this many clusters: beyond it the correction is negligible unless a cohort is tiny,
# and a second (cells x clusters) array would double the memory of national panels.
SMALL_SAMPLE_MAX_CLUSTERS = 20_000
# Below this many clusters no calibration of a joint pre-trend test is reliable: the
# covariance of the pre-period effects rests on too few independent sums.
MIN_CLUSTERS_PRETREND = 10
PRETREND_METHODS = ("f", "chi2")


# --------------------------------------------------------------------------------------
# Inference from cluster-summed influence functions
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Inference:
    """Everything needed to turn influence functions into standard errors.

    Influence functions are stored summed within clusters (one column per cluster; a unit is
    its own cluster without ``cluster``), scaled as in R's did so that
    ``Var(estimate) = adjustment * sum_c IF_c**2 / n_units**2``.
    """

    n_units: int
    cluster_sizes: np.ndarray  # units per cluster, shape (C,)
    cohort_counts: np.ndarray  # units per cluster and treated cohort, shape (C, n_groups)
    groups: np.ndarray  # treated cohorts, sorted
    adjustment: float  # G/(G-1) with clusters, 1 otherwise
    n_boot: int = 0
    seed: int | None = None
    boot_weights: str = "rademacher"
    level: float = 0.95

    clustered: bool = False

    @property
    def n_clusters(self) -> int:
        return int(self.cluster_sizes.size)

    @property
    def df(self) -> int | None:
        """Degrees of freedom G-1 of the t intervals with clustering (None: normal)."""
        return self.n_clusters - 1 if self.clustered and self.n_boot <= 0 else None

    @property
    def pg(self) -> np.ndarray:
        """Share of all units in each treated cohort (R's ``pg``)."""
        return self.cohort_counts.sum(axis=0) / self.n_units

    def vcov(self, influence: np.ndarray) -> np.ndarray:
        return self.adjustment * (influence @ influence.T) / self.n_units**2

    def analytic_se(self, influence: np.ndarray) -> np.ndarray:
        se = np.sqrt(self.adjustment * np.einsum("kc,kc->k", influence, influence)) / self.n_units
        return np.where(se <= _ZERO_SE, np.nan, se)

    def multipliers(self, rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
        if self.boot_weights == "rademacher":
            return rng.choice(np.array([-1.0, 1.0]), size=size)
        if self.boot_weights == "webb":
            return WEBB_POINTS[rng.integers(0, WEBB_POINTS.size, size=size)]
        # Mammen (1993) two-point weights: mean 0, variance 1, third moment 1.
        kappa = (np.sqrt(5.0) + 1.0) / 2.0
        draw = rng.random(size) < kappa / np.sqrt(5.0)
        return np.where(draw, 1.0 - kappa, kappa)

    def standard_errors(self, influence: np.ndarray) -> tuple[np.ndarray, float | None]:
        """Analytic SEs, or bootstrap SEs and the sup-t critical value when ``n_boot > 0``."""
        if self.n_boot <= 0:
            return self.analytic_se(influence), None
        return self.bootstrap(influence)

    def bootstrap(self, influence: np.ndarray) -> tuple[np.ndarray, float]:
        """Multiplier bootstrap over clusters (R's ``mboot``): IQR-based SEs and sup-t value.

        The same seed gives the same multipliers for every call, so the bands of the cells
        and of their aggregations come from one set of draws.
        """
        rng = np.random.default_rng(self.seed)
        scale = np.sqrt(self.adjustment) / self.n_units
        draws = np.empty((self.n_boot, influence.shape[0]))
        chunk = max(1, min(self.n_boot, 20_000_000 // max(self.n_clusters, 1)))
        for start in range(0, self.n_boot, chunk):
            stop = min(start + chunk, self.n_boot)
            v = self.multipliers(rng, (stop - start, self.n_clusters))
            draws[start:stop] = scale * (v @ influence.T)
        q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0)
        se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
        se = np.where(se <= _ZERO_SE, np.nan, se)
        ok = np.isfinite(se)
        if not ok.any():
            return se, None
        sup_t = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
        crit = float(np.quantile(sup_t, self.level, method="inverted_cdf"))
        return se, crit

    def weight_influence(
        self, cohort_index: np.ndarray, pg: np.ndarray, estimates: np.ndarray
    ) -> np.ndarray:
        """Influence of estimating the cohort-share weights, times the estimates (R's ``wif``).

        For weights ``pg_k / sum(pg)`` over the estimates kept (cohort ``cohort_index[k]``),
        returns ``wif @ estimates`` summed within clusters. R's ``wif`` is
        ``(1{G=g_k} - pg_k) / S - sum_j (1{G=g_j} - pg_j) * pg_k / S**2`` with ``S = sum(pg)``;
        the ``pg`` parts cancel in ``wif @ estimates``, leaving one small matrix product with
        the cluster-by-cohort counts.
        """
        total = pg.sum()
        n_groups = self.cohort_counts.shape[1]
        per_cohort = np.bincount(cohort_index, weights=estimates / total, minlength=n_groups)
        cells_per_cohort = np.bincount(cohort_index, minlength=n_groups)
        coef = per_cohort - cells_per_cohort * (estimates @ pg) / total**2
        return self.cohort_counts @ coef


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
def _bootstrap_note(inference: _Inference) -> str:
    weights = inference.boot_weights.capitalize()
    note = (
        f"multiplier bootstrap ({inference.n_boot} draws, {weights} weights, seed "
        f"{inference.seed}); bands are uniform (sup-t)"
    )
    if inference.boot_weights == "rademacher" and inference.n_clusters < FEW_CLUSTERS_WEBB:
        note += (
            f"; with {inference.n_clusters} clusters Rademacher weights allow only "
            f"{2**inference.n_clusters} distinct draws: consider boot_weights='webb'"
        )
    return note


@dataclass(frozen=True, eq=False)
class _DidTable(EstimateTable):
    """Intervals and p-values from t(df) when ``df`` is set (clustered), normal otherwise."""

    def _overall_interval(self, estimate: float, se: float) -> tuple[float, float]:
        # pointwise interval: the sup-t value belongs to the band over the rows
        z = self.pointwise_critical()
        return estimate - z * se, estimate + z * se


@dataclass(frozen=True, eq=False)
class AggregateResult(_DidTable):
    """An aggregation of group-time ATTs (R's ``aggte``).

    ``params``/``std_errors`` are indexed by ``event_time`` (dynamic), ``cohort`` (group),
    ``time`` (calendar) or a single ``aggregation`` row (simple). ``overall_att`` and
    ``overall_se`` are the single summary of the aggregation, as R's ``aggte`` reports it.
    """

    kind: str = "simple"
    overall_att: float = np.nan
    overall_se: float = np.nan
    influence: np.ndarray | None = field(default=None, repr=False)
    inference: _Inference | None = field(default=None, repr=False)
    influence_adj: np.ndarray | None = field(default=None, repr=False)

    @property
    def vcov(self) -> pd.DataFrame:
        """Analytic covariance of the rows (from the influence function)."""
        v = self.inference.vcov(self.influence)
        return pd.DataFrame(v, index=self.params.index, columns=self.params.index)

    def overall_interval(self) -> tuple[float, float]:
        """Confidence interval of ``overall_att``."""
        return self._overall_interval(self.overall_att, self.overall_se)

    def statement(self) -> str:
        lo, hi = self.overall_interval()
        label = {
            "simple": "the average effect over all treated cohorts and periods",
            "dynamic": "the average effect over event times 0 and later",
            "group": "the average effect across adoption cohorts",
            "calendar": "the average effect across calendar periods",
        }[self.kind]
        return _verdict(self.method, self.outcome, label, self.overall_att, lo, hi, self.level)


@dataclass(frozen=True, eq=False)
class GroupTimeResult(_DidTable):
    """Group-time average treatment effects ATT(g, t) of Callaway and Sant'Anna (2021).

    ``params``/``std_errors`` have a (``cohort``, ``time``) index; ``cells`` lists each
    comparison with its base period and the number of treated and comparison units;
    ``info`` holds ``n_units``, ``n_clusters``, ``cohort_sizes`` and what was dropped.
    """

    cells: pd.DataFrame | None = field(default=None, repr=False)
    dropped: dict[str, int] = field(default_factory=dict)
    influence: np.ndarray | None = field(default=None, repr=False)
    inference: _Inference | None = field(default=None, repr=False)
    # leverage-corrected influence functions (CR2), for the small-sample pre-trend test
    influence_adj: np.ndarray | None = field(default=None, repr=False)

    @property
    def vcov(self) -> pd.DataFrame:
        """Analytic covariance of the ATT(g, t) (from the influence function)."""
        v = self.inference.vcov(self.influence)
        return pd.DataFrame(v, index=self.params.index, columns=self.params.index)

    def aggregate(
        self, kind: str = "simple", *, min_e: float | None = None, max_e: float | None = None
    ) -> AggregateResult:
        """Average the ATT(g, t) as R's ``aggte`` does.

        Parameters
        ----------
        kind
            ``"simple"`` (post-treatment cells weighted by cohort size), ``"dynamic"`` (by
            event time ``t - g``; overall = mean over event times >= 0), ``"group"`` (by
            cohort; overall = cohort-size weighted mean) or ``"calendar"`` (by period; overall
            = mean over periods).
        min_e, max_e
            Keep only cells with event time in ``[min_e, max_e]`` (dynamic: the rows shown;
            other kinds: the post-treatment cells used, as ``aggte(max_e=)``).

        Returns
        -------
        AggregateResult
        """
        if kind not in AGGREGATIONS:
            raise ValueError(f"kind must be one of {', '.join(AGGREGATIONS)}; got {kind!r}.")
        return _aggregate(self, kind, min_e=min_e, max_e=max_e)

    def statement(self) -> str:
        simple = self.aggregate("simple")
        lo, hi = simple.overall_interval()
        label = "the average effect over all treated cohorts and periods (simple aggregation)"
        return _verdict(self.method, self.outcome, label, simple.overall_att, lo, hi, self.level)


@dataclass(frozen=True, eq=False)
class EventStudyResult(_DidTable):
    """Effects by ``event_time`` (periods since adoption), with their covariance.

    The reference event time is a row with estimate 0 and a missing standard error.
    ``overall_att``/``overall_se`` average the event times >= 0 in the window.
    """

    reference: int | None = None
    vcov: pd.DataFrame | None = field(default=None, repr=False)
    overall_att: float = np.nan
    overall_se: float = np.nan
    source: Any = field(default=None, repr=False)

    def statement(self) -> str:
        lo, hi = self._overall_interval(self.overall_att, self.overall_se)
        label = "the average effect over event times 0 and later"
        return _verdict(self.method, self.outcome, label, self.overall_att, lo, hi, self.level)


def _verdict(method, outcome, label, estimate, lo, hi, level) -> str:
    verdict = EFFECT_WORDS[interval_sign(lo, hi)]
    pct = round(level * 100)
    return (
        f"{method} finds {verdict} on {outcome} for {label}: {estimate:.4g} "
        f"({pct}% CI {lo:.4g} to {hi:.4g})."
    )


@dataclass(frozen=True)
class PretrendTest:
    """Joint test that all pre-treatment effects are zero.

    ``statistic`` is the Wald statistic (``method="chi2"``) or the Hotelling-scaled F
    statistic (``method="f"``); ``df`` is the number of effects tested and ``df_denom`` the
    denominator degrees of freedom of the F reference (``None`` for chi-squared).
    ``reliable`` is False, and ``note`` says why, when there are too few clusters for any
    calibration of the test; the p-value is then only indicative (or missing).
    """

    statistic: float
    df: int
    p_value: float
    tested: tuple
    method: str = "chi2"
    df_denom: float | None = None
    n_clusters: int | None = None
    reliable: bool = True
    note: str = ""

    def reference(self) -> str:
        """The reference distribution, e.g. ``chi2(4)`` or ``F(4, 39)``."""
        if self.df_denom is None:
            return f"chi2({self.df})"
        return f"F({self.df}, {self.df_denom:g})"

    def statement(self) -> str:
        if not np.isfinite(self.p_value):
            return (
                f"The pre-trend test of {self.df} pre-treatment effects is not computed: "
                f"{self.note}"
            )
        verdict = (
            "rejects parallel pre-trends at the 5% level"
            if self.p_value < 0.05
            else "does not reject parallel pre-trends at the 5% level (a pass is not proof "
            "of parallel trends: pre-tests have limited power)"
        )
        name = "Wald" if self.method == "chi2" else "small-sample F"
        text = (
            f"Joint {name} test of {self.df} pre-treatment effects: {self.reference()} = "
            f"{self.statistic:.3f}, p = {self.p_value:.4f}; the test {verdict}."
        )
        return f"{text} {self.note}" if self.note else text

    def __str__(self) -> str:
        return self.statement()


# --------------------------------------------------------------------------------------
# Data preparation: long panel -> wide arrays
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Wide:
    periods: np.ndarray  # sorted period values, shape (T,)
    y: np.ndarray  # outcome, shape (n, T), NaN where missing
    x: np.ndarray | None  # covariates, shape (n, T, p)
    cohort: np.ndarray  # first treated period per unit, 0 = never, shape (n,)
    cluster: np.ndarray  # cluster code per unit, shape (n,)
    n_clusters: int
    info: dict


def _require_columns(data: pd.DataFrame, columns: dict[str, str | None]) -> None:
    missing = [f"{role} {name!r}" for role, name in columns.items() if name and name not in data]
    if missing:
        raise KeyError(
            f"att_gt: the data have no column for {', '.join(missing)}; "
            f"available columns: {', '.join(map(str, data.columns))}."
        )


def _per_unit(values: np.ndarray, codes: np.ndarray, n: int, what: str, unit: str) -> np.ndarray:
    """Value of a unit-level column; raise if it varies within a unit."""
    out = np.empty(n, dtype=values.dtype)
    out[codes] = values
    changed = out[codes] != values
    if changed.any():
        raise ValueError(
            f"att_gt: {what} must be constant within each {unit}, but it varies for "
            f"{np.unique(codes[changed]).size} of them."
        )
    return out


def _prepare(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    covariates: Sequence[str],
    cluster: str | None,
    unbalanced: str,
    anticipation: int = 0,
) -> _Wide:
    _require_columns(
        data,
        {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort, "cluster": cluster}
        | {f"covariate {i + 1}": c for i, c in enumerate(covariates)},
    )
    info: dict[str, Any] = {}
    n_rows = len(data)
    needed = data[[outcome, *covariates]].notna().all(axis=1).to_numpy()
    if data[time].isna().any() or data[unit].isna().any():
        raise ValueError(f"att_gt: {unit!r} and {time!r} must not be missing.")
    dropped_rows = int(n_rows - needed.sum())

    unit_codes, unit_labels = pd.factorize(data[unit], sort=False)
    n = len(unit_labels)
    time_values = data[time].to_numpy()
    periods = np.unique(time_values)
    time_codes = np.searchsorted(periods, time_values)
    n_periods = periods.size
    if n_periods < 2:
        raise ValueError(f"att_gt: need at least two periods in {time!r}, got {n_periods}.")

    key = unit_codes.astype(np.int64) * n_periods + time_codes
    if np.bincount(key, minlength=n * n_periods).max(initial=0) > 1:
        raise ValueError(
            f"att_gt: each ({unit}, {time}) pair must appear once; the data have duplicates."
        )

    cohort_values = pd.to_numeric(data[cohort]).fillna(NEVER_TREATED).to_numpy(dtype=float)
    unit_cohort = _per_unit(cohort_values, unit_codes, n, f"cohort {cohort!r}", unit)

    if cluster is not None:
        cluster_codes, cluster_labels = pd.factorize(data[cluster], sort=True)
        if (cluster_codes < 0).any():
            raise ValueError(f"att_gt: cluster column {cluster!r} has missing values.")
        # the unit's cluster in its first observed period (units may move between agencies)
        first_time = np.full(n, n_periods, dtype=np.int64)
        np.minimum.at(first_time, unit_codes, time_codes)
        at_first = time_codes == first_time[unit_codes]
        first_cluster = np.empty(n, dtype=np.int64)
        first_cluster[unit_codes[at_first]] = cluster_codes[at_first]
        movers = np.unique(unit_codes[first_cluster[unit_codes] != cluster_codes]).size
        info["cluster_movers"] = movers
        if movers:
            warnings.warn(
                f"att_gt: {movers} units change {cluster!r} over time; each is assigned to "
                "its cluster in the first period it is observed.",
                stacklevel=3,
            )
    else:
        first_cluster = None

    y = np.full(n * n_periods, np.nan)
    y[key[needed]] = data[outcome].to_numpy(dtype=float)[needed]
    y = y.reshape(n, n_periods)
    x = None
    if covariates:
        x = np.full((n * n_periods, len(covariates)), np.nan)
        x[key[needed]] = data.loc[needed, list(covariates)].to_numpy(dtype=float)
        x = x.reshape(n, n_periods, len(covariates))

    keep = np.ones(n, dtype=bool)
    # Cohorts adopting after the last period (and after any anticipation) are never treated
    # within the window (as R's did).
    late = unit_cohort > periods[-1] + anticipation
    unit_cohort[late] = NEVER_TREATED
    info["recoded_never"] = int(late.sum())
    treated = unit_cohort != NEVER_TREATED
    early = treated & (unit_cohort <= periods[0] + anticipation)
    if early.any():
        within = f" or within anticipation={anticipation} periods of it" if anticipation else ""
        warnings.warn(
            f"att_gt: dropped {int(early.sum())} units already treated in the first period "
            f"({periods[0]}){within}; they have no untreated base period.",
            stacklevel=3,
        )
    keep &= ~early
    info["dropped_treated_first_period"] = int(early.sum())
    # cohorts adopting in the anticipation window after the last period have only pre cells
    odd = treated & ~early & ~np.isin(unit_cohort, periods) & (unit_cohort <= periods[-1])
    if odd.any():
        bad = np.unique(unit_cohort[odd])[:5]
        raise ValueError(
            f"att_gt: cohort values must be periods of {time!r} (or 0/missing for never "
            f"treated); these are not: {', '.join(f'{v:g}' for v in bad)}."
        )

    observed = ~np.isnan(y)
    incomplete = keep & ~observed.all(axis=1)
    if unbalanced == "drop":
        keep &= ~incomplete
        info["dropped_unbalanced"] = int(incomplete.sum())
        if incomplete.any():
            warnings.warn(
                f"att_gt: dropped {int(incomplete.sum())} of {n} units not observed (with "
                "complete data) in every period, to balance the panel (as R's did); use "
                "unbalanced='pairwise' to keep them.",
                stacklevel=3,
            )
    else:
        info["dropped_unbalanced"] = 0
        info["kept_unbalanced"] = int(incomplete.sum())
    info["dropped_rows_missing"] = dropped_rows

    if not keep.all():
        y = y[keep]
        x = None if x is None else x[keep]
        unit_cohort = unit_cohort[keep]
        if first_cluster is not None:
            first_cluster = first_cluster[keep]
    n_kept = int(keep.sum())
    if n_kept == 0:
        raise ValueError("att_gt: no units left after dropping incomplete or early-treated ones.")

    if first_cluster is None:
        cluster_code = np.arange(n_kept)
        n_clusters = n_kept
    else:
        used, cluster_code = np.unique(first_cluster, return_inverse=True)
        n_clusters = used.size
        info["cluster"] = cluster
    return _Wide(
        periods=periods,
        y=y,
        x=x,
        cohort=unit_cohort,
        cluster=cluster_code,
        n_clusters=n_clusters,
        info=info,
    )


# --------------------------------------------------------------------------------------
# 2x2 estimators on one (g, t) cell
# --------------------------------------------------------------------------------------
def _dr_panel(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Locally efficient doubly robust DiD for panel data (Sant'Anna and Zhao 2020, eq. 3.1).

    ``x`` includes the intercept. Returns the ATT and its influence function on this
    subsample (as R's ``DRDID::drdid_panel``, logit propensity score trimmed at 0.995).
    """
    n = d.size
    ps = _logit_fit(d, x)
    ps = np.clip(ps, 1e-6, 1 - 1e-6)
    trim = np.ones(n, dtype=bool)
    trim[d == 0] = ps[d == 0] < PS_TRIM_LEVEL
    ctrl = d == 0
    xc = x[ctrl]
    beta = np.linalg.lstsq(xc, dy[ctrl], rcond=None)[0]
    out = x @ beta
    w_treat = trim * d
    w_cont = trim * ps * (1 - d) / (1 - ps)
    resid = dy - out
    att_treat = w_treat * resid
    att_cont = w_cont * resid
    mw_treat, mw_cont = w_treat.mean(), w_cont.mean()
    if mw_treat == 0 or mw_cont == 0:
        raise ValueError("att_gt: no treated or comparison units left after trimming.")
    eta_treat = att_treat.mean() / mw_treat
    eta_cont = att_cont.mean() / mw_cont

    w_ols = 1.0 - d
    xtwx = x.T @ (w_ols[:, None] * x) / n
    if np.linalg.cond(xtwx) > 1 / np.finfo(float).eps:
        raise ValueError(
            "att_gt: the outcome regression on comparison units is singular; remove covariates."
        )
    lin_ols = ((w_ols * resid)[:, None] * x) @ np.linalg.inv(xtwx)
    w_ps = ps * (1 - ps)
    lin_ps = ((d - ps)[:, None] * x) @ (np.linalg.inv(x.T @ (w_ps[:, None] * x)) * n)

    inf_treat = (att_treat - w_treat * eta_treat - lin_ols @ (w_treat[:, None] * x).mean(0)) / (
        mw_treat
    )
    cont_base = att_cont - w_cont * eta_cont
    inf_cont = (
        cont_base
        + lin_ps @ (cont_base[:, None] * x).mean(0)
        - lin_ols @ (w_cont[:, None] * x).mean(0)
    ) / mw_cont
    return float(eta_treat - eta_cont), inf_treat - inf_cont


def _logit_fit(d: np.ndarray, x: np.ndarray, *, max_iter: int = 50, tol: float = 1e-12):
    """Maximum-likelihood logit by Newton-Raphson; returns fitted probabilities."""
    beta = np.zeros(x.shape[1])
    p = np.full(d.size, d.mean())
    beta[0] = np.log(p[0] / (1 - p[0]))  # start at the intercept-only solution
    for _ in range(max_iter):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1 - p)
        hess = x.T @ (w[:, None] * x)
        step = np.linalg.solve(hess, x.T @ (d - p))
        beta += step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    else:
        warnings.warn("att_gt: the propensity-score logit did not converge.", stacklevel=4)
    return 1.0 / (1.0 + np.exp(-(x @ beta)))


# --------------------------------------------------------------------------------------
# att_gt
# --------------------------------------------------------------------------------------
def att_gt(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    control_group: str = "never",
    base_period: str = "varying",
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    n_boot: int = 0,
    seed: int | None = None,
    boot_weights: str = "rademacher",
    anticipation: int = 0,
    unbalanced: str = "drop",
    level: float = 0.95,
) -> GroupTimeResult:
    """Group-time average treatment effects of Callaway and Sant'Anna (2021).

    For each adoption cohort ``g`` (first treated period) and period ``t``, ATT(g, t)
    compares the change in ``outcome`` from a base period to ``t`` in cohort ``g`` with the
    same change among comparison units (never treated, or not yet treated by ``t``). With
    ``base_period="varying"`` pre-treatment cells compare consecutive periods and
    post-treatment cells use ``g - 1``; ``"universal"`` uses ``g - 1`` throughout (its own
    cell is 0). Without covariates each cell is a difference of cohort means; with covariates
    it is the doubly robust estimator of Sant'Anna and Zhao (2020) with covariates from the
    earlier of the two periods, the default of R's did. Standard errors come from the
    influence function (R's did with ``bstrap=FALSE``). ``n_boot > 0`` gives multiplier-
    bootstrap standard errors and uniform (sup-t) confidence bands, with one weight per
    cluster (Rademacher by default, as R's did).

    With ``anticipation=d`` units may react ``d`` periods before adoption (R's did
    ``anticipation``): the base period of cohort ``g`` is the last period before ``g - d``,
    not-yet-treated comparison units must be untreated until ``d`` periods after the later
    of the two periods compared, cohorts adopting within ``d`` periods of the first period
    have no clean base period and are dropped, and cohorts adopting later than ``d``
    periods after the last one count as never treated.

    Clustering conventions, against R's did 2.5 (which reports analytic cluster-robust
    standard errors since 2.5.0, from the cluster sums of the influence function): with
    ``cluster`` the cluster sums here are multiplied by G/(G-1) and intervals and p-values
    use t(G-1) quantiles, the usual small-sample corrections for few clusters (as Stata and
    fixest do for clustered regressions); R's did uses neither, so clustered standard errors
    here are ``sqrt(G/(G-1))`` times R's (the bootstrap ones too) and intervals wider.
    Clustering on the unit column itself is allowed and adds only the factor G/(G-1); R's
    did ignores a cluster variable equal to the unit id. Without ``cluster`` the results
    equal R's.

    Parameters
    ----------
    data
        Long panel, one row per unit and period.
    outcome, unit, time
        Column names; ``time`` holds integer-like periods (e.g. years).
    cohort
        Column with the first treated period of the unit; 0 or missing = never treated.
        Cohorts after the last period count as never treated; units treated in the first
        period are dropped (as R's did).
    control_group
        ``"never"`` (never treated) or ``"notyet"`` (never or not yet treated).
    base_period
        ``"varying"`` or ``"universal"``.
    covariates
        Columns for the doubly robust estimator (values of the earlier period are used).
    cluster
        Column to cluster on (e.g. agency); each unit belongs to its cluster of its first
        observed period. ``None``: the unit is the cluster, as R's did.
    n_boot, seed, boot_weights
        Multiplier bootstrap draws (0 = analytic), seed, and the weights drawn per cluster:
        ``"rademacher"`` (+-1, R's did), ``"webb"`` (six points, Webb 2023; more distinct
        draws with fewer than about 12 clusters) or ``"mammen"`` (two skewed points). The
        summary states which were used.
    anticipation
        Number of periods before adoption in which units may already react (integer >= 0;
        R's did ``anticipation``).
    unbalanced
        ``"drop"``: keep only units observed in every period (R's did default);
        ``"pairwise"``: each cell uses the units observed in both of its periods.
    level
        Confidence level.

    Returns
    -------
    GroupTimeResult
        ATT(g, t) with ``to_frame()`` columns ``cohort``, ``time``, ``estimate``,
        ``std_error``, ``ci_low``, ``ci_high``; ``.aggregate(kind)``; ``cells``; ``vcov``.

    Examples
    --------
    >>> from asn_eval.data.synth import simulate_panel
    >>> panel = simulate_panel(n_employees=600, n_agencies=20, seed=1)
    >>> res = att_gt(panel, outcome="y", unit="employee_id", time="year", cohort="cohort")
    >>> res.aggregate("dynamic").to_frame().columns[0]
    'event_time'
    """
    if control_group not in CONTROL_GROUPS:
        raise ValueError(f"control_group must be 'never' or 'notyet'; got {control_group!r}.")
    if base_period not in BASE_PERIODS:
        raise ValueError(f"base_period must be 'varying' or 'universal'; got {base_period!r}.")
    if unbalanced not in UNBALANCED:
        raise ValueError(f"unbalanced must be 'drop' or 'pairwise'; got {unbalanced!r}.")
    if boot_weights not in BOOT_WEIGHTS:
        raise ValueError(
            f"boot_weights must be 'rademacher', 'mammen' or 'webb'; got {boot_weights!r}."
        )
    anticipation = _check_anticipation(anticipation)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)

    wide = _prepare(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        cohort=cohort,
        covariates=covariates,
        cluster=cluster,
        unbalanced=unbalanced,
        anticipation=anticipation,
    )
    periods, y, x, g_unit, unit_cluster = wide.periods, wide.y, wide.x, wide.cohort, wide.cluster
    n = y.shape[0]
    # Units sorted by cohort: each cohort is then a contiguous block of rows (a slice, read
    # without copying), which is what makes the cells cheap on national panels.
    order = np.argsort(g_unit, kind="stable")
    if np.any(order != np.arange(n)):
        y, g_unit, unit_cluster = y[order], g_unit[order], unit_cluster[order]
        x = None if x is None else x[order]
    values, starts, sizes = np.unique(g_unit, return_index=True, return_counts=True)
    block = {v: slice(int(a), int(a + k)) for v, a, k in zip(values, starts, sizes, strict=True)}
    groups = values[values != NEVER_TREATED]
    if groups.size == 0:
        raise ValueError(f"att_gt: no unit is ever treated (column {cohort!r}).")
    never_idx = block.get(NEVER_TREATED, slice(0, 0))
    n_never = never_idx.stop - never_idx.start
    if control_group == "never" and n_never == 0:
        raise ValueError(
            "att_gt: there are no never-treated units to compare with; use control_group='notyet'."
        )
    cohort_idx = {g: block[g] for g in groups}
    clustered = cluster is not None
    n_clusters = wide.n_clusters

    records = []
    first = 1 if base_period == "varying" else 0
    # one row per cell, filled in place: at national scale a row is a few tens of MB
    influence = np.zeros((groups.size * (periods.size - first), n_clusters))
    influence_adj = np.zeros_like(influence) if n_clusters <= SMALL_SAMPLE_MAX_CLUSTERS else None
    for g in groups:
        # the last period before units may react (R's did: t + anticipation < g)
        base_g = int(np.flatnonzero(periods + anticipation < g)[-1])
        for ti in range(first, periods.size):
            t = periods[ti]
            bi = base_g if (t >= g or base_period == "universal") else ti - 1
            if ti == bi:  # universal base: the reference cell itself
                records.append((g, t, periods[bi], t >= g, _size(cohort_idx[g]), 0, 0.0))
                continue
            if control_group == "never":
                ctrl = never_idx
            else:
                # comparison units must be untreated, anticipation included, in both periods
                later = max(t, periods[bi]) + anticipation
                ctrl = np.flatnonzero(
                    (g_unit == NEVER_TREATED) | ((g_unit > later) & (g_unit != g))
                )
            treat = cohort_idx[g]
            row = len(records)
            att, n_t, n_c = _cell(
                y,
                x,
                treat,
                ctrl,
                ti,
                bi,
                n,
                unit_cluster,
                clustered,
                influence[row],
                None if influence_adj is None else influence_adj[row],
            )
            if att is None:
                continue
            records.append((g, t, periods[bi], t >= g, n_t, n_c, att))

    skipped = sum(1 for g in groups for _ in range(first, periods.size)) - len(records)
    cells = pd.DataFrame(
        records,
        columns=["cohort", "time", "base", "post", "n_treated", "n_control", "estimate"],
    )
    cells = cells.astype({"post": bool, "n_treated": int, "n_control": int})
    influence = influence[: len(records)]
    if influence_adj is not None:
        influence_adj = influence_adj[: len(records)]

    cluster_sizes = np.bincount(unit_cluster, minlength=n_clusters).astype(float)
    cohort_counts = np.zeros((n_clusters, groups.size))
    for j, g in enumerate(groups):
        cohort_counts[:, j] = np.bincount(unit_cluster[cohort_idx[g]], minlength=n_clusters)
    inference = _Inference(
        n_units=n,
        cluster_sizes=cluster_sizes,
        cohort_counts=cohort_counts,
        groups=groups,
        adjustment=n_clusters / (n_clusters - 1) if clustered and n_clusters > 1 else 1.0,
        clustered=clustered,
        n_boot=int(n_boot),
        seed=seed,
        boot_weights=boot_weights,
        level=level,
    )
    se, crit = inference.standard_errors(influence)
    index = pd.MultiIndex.from_arrays(
        [_as_period(cells["cohort"]), _as_period(cells["time"])], names=["cohort", "time"]
    )
    info = {
        "n_units": n,
        "n_clusters": n_clusters,
        "cohort_sizes": {_scalar(g): _size(cohort_idx[g]) for g in groups} | {"never": n_never},
        "control_group": {"never": "never treated", "notyet": "not yet treated"}[control_group],
        "base_period": base_period,
        **({"anticipation": f"{anticipation} period(s)"} if anticipation else {}),
        "estimator": "doubly robust (Sant'Anna-Zhao)" if covariates else "difference of means",
        "standard_errors": _se_note(inference, clustered, cluster),
    }
    counts = dict(wide.info)
    counts["skipped_cells"] = skipped
    info["dropped"] = _drop_account(counts)
    cells.insert(0, "cohort_label", index.get_level_values("cohort"))
    cells = cells.drop(columns="cohort").rename(columns={"cohort_label": "cohort"})
    cells["time"] = index.get_level_values("time")
    cells["base"] = _as_period(cells["base"])
    return GroupTimeResult(
        params=pd.Series(cells["estimate"].to_numpy(), index=index, name="estimate"),
        std_errors=pd.Series(se, index=index, name="std_error"),
        method=METHOD_NAME,
        outcome=outcome,
        level=level,
        critical_value=crit,
        df=inference.df,
        info=info,
        cells=cells.drop(columns="estimate").reset_index(drop=True),
        dropped=counts,
        influence=influence,
        inference=inference,
        influence_adj=influence_adj,
    )


_DROP_TEXT = {
    "dropped_unbalanced": "{} units not observed with complete data in every period",
    "dropped_treated_first_period": "{} units already treated in the first period",
    "dropped_rows_missing": "{} rows with a missing outcome or covariate",
    "recoded_never": "{} units first treated after the last period counted as never treated",
    "kept_unbalanced": "{} units observed in only some periods kept (pairwise cells)",
    "cluster_movers": "{} units changing cluster, assigned to their first cluster",
    "skipped_cells": "{} (g, t) cells without treated or comparison units left out",
}


def _check_anticipation(anticipation) -> int:
    """``anticipation`` as an int >= 0, or a clear message."""
    whole = isinstance(anticipation, int | np.integer) and not isinstance(anticipation, bool)
    if not whole or anticipation < 0:
        raise ValueError(
            f"anticipation must be a whole number of periods >= 0; got {anticipation!r}."
        )
    return int(anticipation)


def _drop_account(counts: dict[str, int]) -> str:
    """One readable sentence on what was dropped or recoded."""
    parts = [_DROP_TEXT[k].format(v) for k, v in counts.items() if v and k in _DROP_TEXT]
    return "; ".join(parts) if parts else "nothing"


def _se_note(inference: _Inference, clustered: bool, cluster: str | None) -> str:
    if clustered:
        how = (
            f"clustered by {cluster} ({inference.n_clusters} clusters, "
            "influence function summed within clusters, times G/(G-1); t(G-1) intervals)"
        )
    else:
        how = "by unit (influence function, as R's did)"
    if inference.n_boot > 0:
        return f"{_bootstrap_note(inference)}; {how}"
    return f"analytic, {how}"


def _as_period(values) -> np.ndarray:
    """Periods back as integers when they are whole numbers (years)."""
    arr = np.asarray(values, dtype=float)
    if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    return arr


def _scalar(value):
    value = float(value)
    return int(value) if value.is_integer() else value


def _size(index) -> int:
    return index.stop - index.start if isinstance(index, slice) else int(index.size)


def _differences(y, index, ti, bi):
    """Outcome changes of the units in ``index`` (slice or array), missing ones left out."""
    dy = y[index, ti] - y[index, bi]
    ok = ~np.isnan(dy)
    if ok.all():
        return dy, index
    if isinstance(index, slice):
        index = np.arange(index.start, index.stop)
    return dy[ok], index[ok]


def _leverage_sum(codes: np.ndarray, infl: np.ndarray, size: int) -> np.ndarray:
    """Cluster sums of one group's influence function divided by sqrt(1 - leverage).

    A cluster holding the share ``h`` of a group's units pulls the group mean towards
    itself, so its centred sum understates its variance by the factor ``1 - h``; dividing
    by ``sqrt(1 - h)`` makes the variance of a difference of cluster means unbiased (the
    CR2 correction of Bell and McCaffrey 2002, exact here). A group with a single cluster
    has no estimable variance; its (zero) contribution is left as it is.
    """
    total = np.bincount(codes, weights=infl, minlength=size)
    h = np.bincount(codes, minlength=size) / max(codes.size, 1)
    return total / np.sqrt(np.where(h < 1.0, 1.0 - h, 1.0))


def _cell(y, x, treat, ctrl, ti, bi, n, cluster, clustered, out, out_adj=None):
    """ATT of one 2x2 comparison; its cluster-summed influence function goes into ``out``.

    ``out_adj`` (optional) receives the leverage-corrected version (:func:`_leverage_sum`).
    """
    if x is None:
        dy_t, treat = _differences(y, treat, ti, bi)
        dy_c, ctrl = _differences(y, ctrl, ti, bi)
        n_t, n_c = dy_t.size, dy_c.size
        if n_t == 0 or n_c == 0:
            return None, n_t, n_c
        m_t, m_c = dy_t.mean(), dy_c.mean()
        # influence function of a difference of means, scaled as R's did (n / n_cell)
        inf_t = (n / n_t) * (dy_t - m_t)
        inf_c = (-n / n_c) * (dy_c - m_c)
        if clustered:
            out[:] = np.bincount(cluster[treat], weights=inf_t, minlength=out.size)
            out += np.bincount(cluster[ctrl], weights=inf_c, minlength=out.size)
        else:
            out[cluster[treat]] = inf_t
            out[cluster[ctrl]] = inf_c
        if out_adj is not None:
            out_adj[:] = _leverage_sum(cluster[treat], inf_t, out.size)
            out_adj += _leverage_sum(cluster[ctrl], inf_c, out.size)
        return float(m_t - m_c), n_t, n_c
    treat = np.arange(treat.start, treat.stop) if isinstance(treat, slice) else treat
    ctrl = np.arange(ctrl.start, ctrl.stop) if isinstance(ctrl, slice) else ctrl
    idx = np.concatenate([treat, ctrl])
    dy = y[idx, ti] - y[idx, bi]
    d = np.zeros(idx.size)
    d[: treat.size] = 1.0
    ok = ~np.isnan(dy)
    if x is not None:
        xs = x[idx, min(ti, bi), :]
        ok &= ~np.isnan(xs).any(axis=1)
    if not ok.all():  # pairwise mode: units observed in both periods only
        idx, dy, d = idx[ok], dy[ok], d[ok]
        if x is not None:
            xs = xs[ok]
    n_t = int(d.sum())
    n_c = int(d.size - n_t)
    if n_t == 0 or n_c == 0:
        return None, n_t, n_c
    design = np.column_stack([np.ones(dy.size), xs])
    att, local = _dr_panel(dy, d, design)
    infl = (n / dy.size) * local
    if clustered:
        out[:] = np.bincount(cluster[idx], weights=infl, minlength=out.size)
    else:
        out[cluster[idx]] = infl
    if out_adj is not None:
        # leverage of the doubly robust fit approximated by the cluster's share of its group
        is_t = d == 1
        out_adj[:] = _leverage_sum(cluster[idx[is_t]], infl[is_t], out.size)
        out_adj += _leverage_sum(cluster[idx[~is_t]], infl[~is_t], out.size)
    return att, n_t, n_c


# --------------------------------------------------------------------------------------
# Aggregation (R's aggte)
# --------------------------------------------------------------------------------------
def _aggregate(res: GroupTimeResult, kind: str, *, min_e=None, max_e=None) -> AggregateResult:
    inf = res.inference
    cells = res.cells
    g = cells["cohort"].to_numpy(dtype=float)
    t = cells["time"].to_numpy(dtype=float)
    e = t - g
    att = res.params.to_numpy(dtype=float)
    psi = res.influence
    gi = np.searchsorted(inf.groups.astype(float), g)
    pg_cell = inf.pg[gi]
    lo = -np.inf if min_e is None else min_e
    hi = np.inf if max_e is None else max_e
    in_window = (e >= lo) & (e <= hi)
    post = (g <= t) & in_window

    recorded: list[tuple[np.ndarray, np.ndarray | float]] = []

    def combine(which: np.ndarray, weights: np.ndarray, with_wif: bool) -> np.ndarray:
        full = np.zeros(psi.shape[0])
        full[which] = weights  # a full weight vector avoids copying rows of psi
        out = full @ psi
        wif = 0.0
        if with_wif:
            wif = inf.weight_influence(gi[which], pg_cell[which], att[which])
            out = out + wif
        recorded.append((full, wif))  # every row is one call: redone on influence_adj
        return out

    rows: list[tuple[Any, float, np.ndarray]] = []
    if kind == "simple":
        keep = np.flatnonzero(post)
        w = pg_cell[keep] / pg_cell[keep].sum()
        overall = float(w @ att[keep])
        overall_if = combine(keep, w, True)
        index_name = "aggregation"
        rows.append(("simple", overall, overall_if))
    elif kind == "group":
        index_name = "cohort"
        used = []
        for j, grp in enumerate(inf.groups):
            keep = np.flatnonzero(post & (g == grp))
            if keep.size == 0:
                continue
            w = np.full(keep.size, 1.0 / keep.size)
            rows.append((_scalar(grp), float(w @ att[keep]), combine(keep, w, False)))
            used.append(j)
        used = np.array(used)
        est_g = np.array([r[1] for r in rows])
        psi_g = np.vstack([r[2] for r in rows])
        pgg = inf.pg[used]
        w = pgg / pgg.sum()
        overall = float(w @ est_g)
        overall_if = w @ psi_g + inf.weight_influence(used, pgg, est_g)
    elif kind == "dynamic":
        index_name = "event_time"
        for ev in np.unique(e[in_window]):
            keep = np.flatnonzero((e == ev) & in_window)
            w = pg_cell[keep] / pg_cell[keep].sum()
            rows.append((_scalar(ev), float(w @ att[keep]), combine(keep, w, True)))
        ev_all = np.array([r[0] for r in rows], dtype=float)
        pos = ev_all >= 0
        est = np.array([r[1] for r in rows])
        psi_e = np.vstack([r[2] for r in rows])
        overall = float(est[pos].mean())
        overall_if = psi_e[pos].mean(axis=0)
    else:  # calendar
        index_name = "time"
        for period in np.unique(t[post]):
            keep = np.flatnonzero(post & (t == period))
            w = pg_cell[keep] / pg_cell[keep].sum()
            rows.append((_scalar(period), float(w @ att[keep]), combine(keep, w, True)))
        est = np.array([r[1] for r in rows])
        psi_t = np.vstack([r[2] for r in rows])
        overall = float(est.mean())
        overall_if = psi_t.mean(axis=0)

    labels = pd.Index([r[0] for r in rows], name=index_name)
    psi_rows = np.vstack([r[2] for r in rows])
    psi_adj_rows = None
    if res.influence_adj is not None:
        psi_adj_rows = np.vstack([full @ res.influence_adj + wif for full, wif in recorded])
    # reference cells of a universal base period have an exactly zero influence function
    se, crit = inf.standard_errors(psi_rows)
    overall_se = inf.standard_errors(overall_if[None, :])[0][0]
    return AggregateResult(
        params=pd.Series([r[1] for r in rows], index=labels, name="estimate"),
        std_errors=pd.Series(se, index=labels, name="std_error"),
        method=f"{METHOD_NAME} ({kind} aggregation)",
        outcome=res.outcome,
        level=res.level,
        critical_value=crit,
        df=inf.df,
        info={
            "overall ATT": f"{overall:.4f} (SE {overall_se:.4f})",
            **{k: v for k, v in res.info.items() if k in _CARRIED_INFO},
        },
        kind=kind,
        overall_att=overall,
        overall_se=float(overall_se),
        influence=psi_rows,
        inference=inf,
        influence_adj=psi_adj_rows,
    )


_CARRIED_INFO = (
    "n_units",
    "n_clusters",
    "control_group",
    "base_period",
    "anticipation",
    "standard_errors",
)


# --------------------------------------------------------------------------------------
# Pre-trend test
# --------------------------------------------------------------------------------------
def pretrend_test(result, *, method: str = "f") -> PretrendTest:
    """Joint test that all pre-treatment effects are zero.

    Works on :func:`att_gt` results (cells with ``time < cohort``, as R's did pre-test), on
    dynamic aggregations and on :func:`event_study` results (event times < 0, without the
    reference).

    ``method="f"`` (default) is calibrated for the few clusters of a city: the covariance
    of the pre-period effects is the leverage-corrected (CR2, Bell and McCaffrey 2002)
    cluster covariance of the influence functions, and the Wald statistic ``W`` of ``q``
    effects with ``G`` clusters is referred, Hotelling-style, as ``W (G - q) / (q (G - 1))``
    to ``F(q, G - q)``. Both corrections are needed: with adoption cohorts of 4-12
    agencies, each cohort's variance is estimated from its few agencies and the usual
    covariance understates it by ``1 - 1/k`` (the larger share of the over-rejection), and
    the covariance of ``q`` effects estimated from ``G`` cluster sums makes the Wald
    statistic heavier-tailed than chi-squared. The F reference therefore has ``eta - q + 1``
    degrees of freedom, ``eta`` (at most ``G - 1``) estimated from the cohort sizes
    (:func:`_effective_df`); when ``eta < q`` the effects cannot be tested jointly and the
    p-value is missing, with a note. On placebo event studies (reference -1, 600 panels each)
    of 15, 20, 30 and 43 agencies without pre-trends, this test rejected 3.2-7.7% at the 5%
    level where the chi-squared test rejected 13-41% (tests/test_did_pretrend.py). On the
    group-time form (10 pre-period cells of consecutive differences, cohorts of 4-11
    agencies) it still over-rejects, 16-33% against 50-95% for chi-squared, because the far
    tail of the statistic is heavier than any F: test the event-study form. For
    :func:`event_study` with
    ``method="twfe"`` the clustered (CR1) covariance of the regression is used with the
    same F reference (no leverage correction). With fewer than ``MIN_CLUSTERS_PRETREND``
    (10) clusters no calibration is reliable: the result says so (``reliable``, ``note``).

    ``method="chi2"`` is R's did pre-test: the analytic covariance (also after a bootstrap)
    and a chi-squared reference; it reproduces R's p-value on mpdta and suits many clusters.
    With ``cluster`` it differs from R's did 2.5 (which reports the clustered Wald pre-test
    without a bootstrap since 2.5.0) by the small-sample factor of :func:`att_gt`: the
    covariance here is G/(G-1) times R's, so R's Wald statistic is G/(G-1) times this one
    and its p-value a little smaller (with 40 clusters, 2.6% larger statistic). Without
    ``cluster`` the two are equal.

    As in R's did, the cells tested are all those before adoption (``time < cohort``, or
    event times < 0), including those inside an ``anticipation`` window, where effects are
    allowed: with anticipation, a rejection may come from the anticipation itself.

    Parameters
    ----------
    result
        An att_gt result, its dynamic aggregation or an event_study result.
    method
        ``"f"`` (small-sample, default) or ``"chi2"`` (as R's did).

    Returns
    -------
    PretrendTest
        ``statistic``, ``df``, ``p_value``, the labels tested, ``df_denom``,
        ``n_clusters``, ``reliable`` and ``note``.

    Examples
    --------
    >>> from asn_eval.data.synth import simulate_panel
    >>> panel = simulate_panel(n_employees=800, n_agencies=40, effects=0, seed=1)
    >>> res = att_gt(panel, outcome="y", unit="employee_id", time="year", cohort="cohort",
    ...              cluster="agency")
    >>> pretrend_test(res).reference()  # 40 agencies carry about 24 degrees of freedom
    'F(10, 15.3)'
    >>> pretrend_test(res, method="chi2").reference()
    'chi2(10)'
    """
    if method not in PRETREND_METHODS:
        raise ValueError(f"pretrend_test: method must be 'f' or 'chi2'; got {method!r}.")
    adjusted = None
    pre = None
    if isinstance(result, EventStudyResult):
        pre_labels = [e for e in result.vcov.index if e < 0]
        source = result.source
        if isinstance(source, GroupTimeResult):
            # rows of the dynamic aggregation do not depend on the window or the rows kept
            result = source.aggregate("dynamic")
            pre = np.isin(np.asarray(result.params.index), pre_labels)
        else:  # TWFE event study: the regression's clustered covariance
            b = result.params.loc[pre_labels].to_numpy(dtype=float)
            v = result.vcov.loc[pre_labels, pre_labels].to_numpy()
            n_clusters = getattr(source, "n_clusters", None)
            return _wald(b, v, tuple(pre_labels), method=method, n_clusters=n_clusters)
    if isinstance(result, GroupTimeResult):
        idx = result.params.index
        pre = np.asarray(idx.get_level_values("cohort") > idx.get_level_values("time"))
    elif isinstance(result, AggregateResult) and result.kind == "dynamic":
        if pre is None:
            pre = np.asarray(result.params.index < 0)
    else:
        raise TypeError(
            "pretrend_test needs an att_gt result, its dynamic aggregation or an "
            f"event_study result; got {type(result).__name__}."
        )
    v = result.vcov.to_numpy()
    b = result.params.to_numpy(dtype=float)
    # cells fixed at zero (universal base reference) carry no information
    pre &= np.diag(v) > _ZERO_SE**2
    labels = tuple(result.params.index[pre])
    inference = result.inference
    n_clusters = inference.n_clusters
    eta = None
    if method == "f" and result.influence_adj is not None and pre.any():
        psi = result.influence_adj[pre] / inference.n_units
        adjusted = psi @ psi.T
        if np.linalg.cond(adjusted) < 1 / np.finfo(float).eps:
            eta = _effective_df(psi, adjusted, _cluster_roles(inference))
    return _wald(
        b[pre],
        v[np.ix_(pre, pre)],
        labels,
        method=method,
        n_clusters=n_clusters,
        adjusted=adjusted,
        eta=eta,
    )


def _cluster_roles(inference: _Inference) -> np.ndarray:
    """Each cluster's adoption cohort (0 = never treated): the cohort most of its units hold.

    Clusters of one cohort play the same part in every (g, t) comparison, so they are
    pooled to estimate the covariance of one cluster's contribution.
    """
    never = inference.cluster_sizes - inference.cohort_counts.sum(axis=1)
    return np.argmax(np.column_stack([never, inference.cohort_counts]), axis=1)


def _effective_df(psi: np.ndarray, v: np.ndarray, roles: np.ndarray) -> float:
    """Degrees of freedom of a Wishart approximation to the cluster covariance ``v``.

    The Hotelling approximation of Tipton and Pustejovsky (2015) and Pustejovsky and
    Tipton (2018, "HTZ"): ``eta = q (q + 1) / sum_st Var(Omega_st)`` for the standardised
    covariance ``Omega``, which is ``sum_g k_g**2 / (k_g - 1) * (tr(B_g)**2 + tr(B_g**2))``
    when the ``k_g`` clusters of adoption cohort ``g`` (``roles``) share one covariance
    ``B_g`` of their standardised contributions and each cohort has ``k_g - 1`` degrees of
    freedom. For a single estimate this is the Welch-Satterthwaite formula. ``B_g`` is
    estimated from the cohort's own clusters, and the two traces are corrected for the
    bias of that estimate (Wishart moments with ``k_g - 1`` degrees of freedom): without
    the correction the plug-in understates ``eta`` and the test is conservative.
    """
    q = psi.shape[0]
    values, vectors = np.linalg.eigh(v)
    z = (vectors / np.sqrt(values)) @ vectors.T @ psi  # standardised contributions
    total = 0.0
    for role in np.unique(roles):
        zg = z[:, roles == role]
        k = zg.shape[1]
        b = zg @ zg.T / k
        sq_trace, trace_sq = np.trace(b) ** 2, np.trace(b @ b)
        m = k - 1
        if m >= 2:
            # E[tr(B^)^2] = tr(B)^2 + 2 tr(B^2)/m and E[tr(B^^2)] = (1 + 1/m) tr(B^2) + tr(B)^2/m
            trace_sq = max((trace_sq - sq_trace / m) / (1 + 1 / m - 2 / m**2), 0.0)
            sq_trace = max(sq_trace - 2 * trace_sq / m, 0.0)
        total += k * k / max(m, 1) * (sq_trace + trace_sq)
    return float(q * (q + 1) / total) if total > 0 else np.inf


def _few_clusters_note(g: int, *, computed: bool = True) -> str:
    return (
        f"Only {g} clusters: too few for any calibration of the pre-trend test (at least "
        f"{MIN_CLUSTERS_PRETREND} are needed)"
        + ("; its p-value is only indicative." if computed else ".")
    )


def _wald(
    b: np.ndarray,
    v: np.ndarray,
    labels: tuple,
    *,
    method: str,
    n_clusters: int | None,
    adjusted: np.ndarray | None = None,
    eta: float | None = None,
) -> PretrendTest:
    if b.size == 0:
        raise ValueError("pretrend_test: the result has no pre-treatment estimates to test.")
    if method == "f" and adjusted is not None:
        v = adjusted
    q = int(b.size)
    if np.linalg.cond(v) > 1 / np.finfo(float).eps:
        clusters = "" if n_clusters is None else f" from {n_clusters} clusters"
        why = (
            f"the covariance of the {q} pre-treatment estimates{clusters} is singular (too "
            "few clusters in some adoption cohort); the Wald statistic is not defined."
        )
        if method == "chi2" or n_clusters is None:
            raise ValueError(f"pretrend_test: {why}")
        # the small-sample test says in its result that it cannot be computed
        notes = [why[0].upper() + why[1:]]
        if n_clusters < MIN_CLUSTERS_PRETREND:
            notes.append(_few_clusters_note(int(n_clusters), computed=False))
        return PretrendTest(
            statistic=np.nan,
            df=q,
            p_value=np.nan,
            tested=labels,
            method="f",
            n_clusters=int(n_clusters),
            reliable=False,
            note=" ".join(notes),
        )
    wald = float(b @ np.linalg.solve(v, b))
    if method == "chi2":
        return PretrendTest(
            statistic=wald,
            df=q,
            p_value=float(stats.chi2.sf(wald, q)),
            tested=labels,
            method="chi2",
            n_clusters=n_clusters,
        )
    if n_clusters is None:  # unclustered regression: residual degrees of freedom are many
        return PretrendTest(
            statistic=wald / q,
            df=q,
            p_value=float(stats.chi2.sf(wald, q)),
            tested=labels,
            method="f",
        )
    g = int(n_clusters)
    # Wishart degrees of freedom of the covariance: the effective number of clusters, never
    # more than G - 1 (Hotelling's T-squared with G cluster sums)
    eta = g - 1.0 if eta is None else min(float(eta), g - 1.0)
    df_denom = eta - q + 1.0
    notes = []
    if adjusted is None:
        notes.append("The covariance has no leverage correction (regression or too many clusters).")
    if g < MIN_CLUSTERS_PRETREND:
        notes.append(_few_clusters_note(g, computed=df_denom >= 1.0))
    if df_denom < 1.0:
        notes.append(
            f"The {q} pre-treatment effects cannot be tested jointly: their covariance rests "
            f"on about {eta:.1f} effective clusters (the adoption cohorts are too small), "
            f"and the F reference needs at least {q}."
        )
        return PretrendTest(
            statistic=np.nan,
            df=q,
            p_value=np.nan,
            tested=labels,
            method="f",
            n_clusters=g,
            reliable=False,
            note=" ".join(notes),
        )
    f_stat = wald * df_denom / (q * eta)
    return PretrendTest(
        statistic=f_stat,
        df=q,
        p_value=float(stats.f.sf(f_stat, q, df_denom)),
        tested=labels,
        method="f",
        df_denom=round(df_denom, 1),
        n_clusters=g,
        reliable=g >= MIN_CLUSTERS_PRETREND,
        note=" ".join(notes),
    )


# --------------------------------------------------------------------------------------
# Event study
# --------------------------------------------------------------------------------------
def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    method: str = "cs",
    window: tuple[int, int] | None = None,
    reference: int | None = -1,
    cluster: str | None = None,
    control_group: str = "never",
    anticipation: int = 0,
    endpoints: str = "bin",
    n_boot: int = 0,
    seed: int | None = None,
    boot_weights: str = "rademacher",
    level: float = 0.95,
) -> EventStudyResult:
    """Effects by event time (periods since adoption).

    ``method="cs"`` aggregates :func:`att_gt` by event time (R's ``aggte(type="dynamic")``);
    with ``reference=-1`` it uses the universal base period ``g - 1`` so that event time
    -1 is 0 by construction, as in a regression event study (Roth 2024 recommends this for
    plots); ``reference=None`` uses the varying base period of R's did default. With
    ``anticipation=d`` the universal base period is ``g - 1 - d``, so the reference must be
    ``-1 - d`` (or ``None``).
    ``method="twfe"`` is the dynamic two-way fixed effects regression with one dummy per
    event time except ``reference``; never-treated units have all dummies 0. This
    specification is biased when effects differ between cohorts (Sun and Abraham 2021) and
    is offered for comparison.

    Parameters
    ----------
    data, outcome, unit, time, cohort
        As in :func:`att_gt` (cohort 0 or missing = never treated).
    method
        ``"cs"`` or ``"twfe"``.
    window
        ``(first, last)`` event times. ``cs``: cells outside are left out. ``twfe``: see
        ``endpoints``.
    reference
        Event time normalised to 0 (``-1``); ``cs`` also accepts ``None``.
    cluster
        Column to cluster on (e.g. agency, or the unit itself). The conventions against R's
        did are those of :func:`att_gt` (``cs``) and :func:`~asn_eval.estimators.twfe.twfe`
        (``twfe``).
    control_group
        ``cs`` only: ``"never"`` or ``"notyet"``.
    anticipation
        Periods before adoption in which units may already react (R's did
        ``anticipation``). ``cs``: as in :func:`att_gt`; ``twfe``: the regression is
        unchanged and the reference must be an event time before the anticipation,
        ``reference <= -1 - anticipation``.
    endpoints
        ``twfe`` with a window: ``"bin"`` puts event times beyond the window into the end
        points (Schmidheiny and Siegloch 2023), which assumes the effect is constant beyond
        them; ``"trim"`` drops treated rows outside the window.
    n_boot, seed, boot_weights
        ``cs`` only: multiplier-bootstrap draws for uniform (sup-t) bands over event times,
        their seed and weights (``"rademacher"``, as R's did, ``"webb"`` or ``"mammen"``).

    Returns
    -------
    EventStudyResult
        Indexed by ``event_time``, with ``vcov`` of the estimated event times and
        ``overall_att``/``overall_se`` (average over event times >= 0).
    """
    if window is not None:
        window = (int(window[0]), int(window[1]))
        if window[0] > window[1]:
            raise ValueError(f"event_study: window must be (first, last); got {window}.")
    if endpoints not in ("bin", "trim"):
        raise ValueError(f"event_study: endpoints must be 'bin' or 'trim'; got {endpoints!r}.")
    anticipation = _check_anticipation(anticipation)
    if method == "twfe" and n_boot:
        raise ValueError(
            "event_study(method='twfe'): n_boot is for method='cs'; for few-cluster inference "
            "on TWFE use the wild cluster bootstrap."
        )
    if method == "cs":
        return _event_study_cs(
            data,
            outcome=outcome,
            unit=unit,
            time=time,
            cohort=cohort,
            window=window,
            reference=reference,
            cluster=cluster,
            control_group=control_group,
            anticipation=anticipation,
            n_boot=n_boot,
            seed=seed,
            boot_weights=boot_weights,
            level=level,
        )
    if method == "twfe":
        return _event_study_twfe(
            data,
            outcome=outcome,
            unit=unit,
            time=time,
            cohort=cohort,
            window=window,
            reference=reference,
            cluster=cluster,
            anticipation=anticipation,
            endpoints=endpoints,
            level=level,
        )
    raise ValueError(f"event_study: method must be 'cs' or 'twfe'; got {method!r}.")


def _event_study_cs(
    data,
    *,
    outcome,
    unit,
    time,
    cohort,
    window,
    reference,
    cluster,
    control_group,
    anticipation,
    n_boot,
    seed,
    boot_weights,
    level,
) -> EventStudyResult:
    universal = -1 - anticipation
    if reference not in (universal, None):
        base = f"g-{1 + anticipation}"
        with_anticipation = f" with anticipation={anticipation}" if anticipation else ""
        raise ValueError(
            f"event_study(method='cs'): reference must be {universal} (universal base period "
            f"{base}{with_anticipation}) or None (varying base period); got {reference!r}."
        )
    res = att_gt(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        cohort=cohort,
        control_group=control_group,
        base_period="varying" if reference is None else "universal",
        cluster=cluster,
        n_boot=n_boot,
        seed=seed,
        boot_weights=boot_weights,
        anticipation=anticipation,
        level=level,
    )
    lo, hi = (None, None) if window is None else window
    agg = res.aggregate("dynamic", min_e=lo, max_e=hi)
    se = agg.std_errors.copy()
    estimated = se.notna().to_numpy()
    if reference is not None:
        estimated &= agg.params.index != reference
    vcov = agg.vcov.loc[estimated, estimated]
    info = dict(agg.info)
    info.pop("overall ATT", None)
    info["specification"] = "aggregation of ATT(g,t) by event time, " + (
        "varying base period"
        if reference is None
        else f"universal base period g{reference} (event time {reference} is 0)"
    )
    info["overall ATT (e >= 0)"] = f"{agg.overall_att:.4f} (SE {agg.overall_se:.4f})"
    return EventStudyResult(
        params=agg.params,
        std_errors=se,
        method=METHOD_NAME + " event study",
        outcome=outcome,
        level=level,
        critical_value=agg.critical_value,
        df=agg.df,
        info=info,
        reference=reference,
        vcov=vcov,
        overall_att=agg.overall_att,
        overall_se=agg.overall_se,
        source=res,
    )


def _event_name(e: int) -> str:
    return f"lead_{-e}" if e < 0 else f"lag_{e}"


def _event_study_twfe(
    data, *, outcome, unit, time, cohort, window, reference, cluster, anticipation, endpoints,
    level,
) -> EventStudyResult:  # fmt: skip
    from .twfe import twfe  # lazily: the TWFE module is only needed for this method

    if reference is None:
        raise ValueError("event_study(method='twfe'): reference must be an event time, e.g. -1.")
    if reference > -1 - anticipation:
        raise ValueError(
            f"event_study(method='twfe'): with anticipation={anticipation} units may react "
            f"from event time {-anticipation}; the reference must be {-1 - anticipation} or "
            f"earlier, got {reference}."
        )
    _require_columns(
        data, {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort, "cluster": cluster}
    )
    g = pd.to_numeric(data[cohort]).fillna(NEVER_TREATED).to_numpy(dtype=float)
    t = data[time].to_numpy(dtype=float)
    treated = g != NEVER_TREATED
    if not treated.any():
        raise ValueError(f"event_study: no unit is ever treated (column {cohort!r}).")
    e = np.where(treated, t - g, np.nan)
    if window is not None:
        if not window[0] <= reference <= window[1]:
            raise ValueError(
                f"event_study: reference {reference} lies outside the window {window}."
            )
        if endpoints == "trim":
            inside = ~treated | ((e >= window[0]) & (e <= window[1]))
            data, e, treated = data.loc[inside], e[inside], treated[inside]
        else:
            e = np.where(treated, np.clip(e, window[0], window[1]), np.nan)
    times = np.unique(e[treated]).astype(int)
    if reference not in times:
        raise ValueError(
            f"event_study: reference event time {reference} does not occur in the data "
            f"(event times {times.min()}..{times.max()})."
        )
    estimated = [int(k) for k in times if k != reference]
    # the cluster may be the unit (or time) column itself: select each column once
    frame = data[list(dict.fromkeys([outcome, unit, time] + ([cluster] if cluster else [])))]
    names = [_event_name(k) for k in estimated]
    frame = frame.assign(
        **{n: (e == k).astype(float) for n, k in zip(names, estimated, strict=True)}
    )
    if not (~treated).any():
        warnings.warn(
            "event_study(method='twfe'): without never-treated units the dynamic "
            "specification is identified only through the binned or farthest event times; "
            "consider a window.",
            stacklevel=2,
        )
    fit = twfe(frame, outcome=outcome, treatment=names, unit=unit, time=time, cluster=cluster)
    by_name = dict(zip(names, estimated, strict=True))
    params = fit.params.loc[names].rename(index=by_name)
    se = fit.std_errors.loc[names].rename(index=by_name)
    vcov = fit.vcov.loc[names, names].rename(index=by_name, columns=by_name)
    params.loc[reference] = 0.0
    se.loc[reference] = np.nan
    params = params.sort_index().rename_axis("event_time").rename("estimate")
    se = se.sort_index().rename_axis("event_time").rename("std_error")
    vcov.index.name = "event_time"
    vcov.columns.name = None
    post = [k for k in estimated if k >= 0]
    w = np.full(len(post), 1.0 / len(post)) if post else np.zeros(0)
    overall = float(w @ params.loc[post].to_numpy()) if post else np.nan
    overall_se = float(np.sqrt(w @ vcov.loc[post, post].to_numpy() @ w)) if post else np.nan
    info = {
        "specification": "dynamic two-way fixed effects, unit and time effects, one dummy "
        f"per event time, reference {reference}"
        + (
            ""
            if window is None
            else f", end points {'binned' if endpoints == 'bin' else 'trimmed'} at {window}"
        ),
        **({"anticipation": f"{anticipation} period(s)"} if anticipation else {}),
        "overall ATT (e >= 0)": f"{overall:.4f} (SE {overall_se:.4f})",
        **{k: v for k, v in fit.info.items()},
    }
    return EventStudyResult(
        params=params,
        std_errors=se,
        method="TWFE event study",
        outcome=outcome,
        level=level,
        df=getattr(fit, "df", None) or None,
        info=info,
        reference=reference,
        vcov=vcov,
        overall_att=overall,
        overall_se=overall_se,
        source=fit,
    )


__all__ = [
    "AggregateResult",
    "EventStudyResult",
    "GroupTimeResult",
    "PretrendTest",
    "att_gt",
    "event_study",
    "pretrend_test",
]
