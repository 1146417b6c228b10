"""The imputation estimator of Borusyak, Jaravel and Spiess (2024) for staggered adoption.

Under parallel trends and no anticipation the untreated outcome is ``Y_it(0) = a_i + l_t +
e_it``. The estimator fits the unit and period effects on the untreated observations only
(never-treated units and not-yet-treated periods), imputes ``Y_it(0)`` for every treated
observation, and averages the observation-level effects ``tau_it = Y_it - a_i - l_t``: all
treated observations with equal weight for the overall ATT (BJS's default), the treated
observations ``h`` periods after adoption for the effect at event time ``h``. It is the
efficient linear unbiased estimator under homoskedastic, serially uncorrelated errors, and
no treated observation serves as a comparison for another (unlike static TWFE).

Computation
-----------
The fixed-effect regression on the untreated rows is solved through its normal equations:
the larger dimension (units) is eliminated by group sums and the smaller (periods) solved
exactly from its small Schur complement, so the cost is a few ``bincount`` passes over the
rows whatever the number of units. Each estimate is linear in the outcome,
``sum_it v_it Y_it``, with ``v_it = w_it`` on treated rows and
``v_0 = -Z_0 (Z_0'Z_0)^- Z_1' w_1`` on untreated rows (BJS eq. 5, ``Z`` the fixed-effect
dummies); ``v_0`` comes from the same solve with the right-hand sides ``Z_1' w_1`` (sums of
the weights by unit and by period), never from an N x N matrix.

Inference
---------
BJS Theorem 3: ``Var = sum_c (sum_{it in c} v_it e~_it)^2`` over clusters ``c``, with
``e~_it`` the first-stage residual on untreated rows and ``tau_it - tau~_g`` on treated rows,
where ``tau~_g`` averages the effects within the cell ``g`` = (adoption cohort, period) as in
BJS eq. 8, ``sum_c (sum v)(sum v tau) / sum_c (sum v)^2`` with sums over the cluster's rows
in the cell (``sum v^2 tau / sum v^2`` when each cluster has one row per cell, R's
``didimputation``). The variance is conservative when effects vary within a cell. No
small-sample factor is applied (as R's ``didimputation`` and Stata's ``did_imputation``
without ``leaveout``).

References
----------
Borusyak, K., Jaravel, X. and Spiess, J. (2024). Revisiting event-study designs: robust and
efficient estimation. Review of Economic Studies 91(6), 3253-3285.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse import csgraph

from asn_eval.config import NEVER_TREATED

from .results import EFFECT_WORDS, EstimateTable, interval_sign, plotting_backend

__all__ = ["ImputationResult", "did_imputation"]

METHOD_NAME = "Imputation (Borusyak-Jaravel-Spiess)"
# Relative cut-off for the null eigenvalues of the period Schur complement: one per connected
# component of the untreated rows (the constant is absorbed twice), left at about 1e-14 of
# the largest eigenvalue by rounding rather than at zero.
_PINV_RTOL = 1e-9


@dataclass(frozen=True, eq=False)
class ImputationResult(EstimateTable):
    """Result of :func:`did_imputation`: effects by ``event_time`` and the overall ATT.

    ``params``/``std_errors`` are indexed by ``event_time``: the post-treatment horizons
    (0, 1, ...) and, when ``pretrends`` was asked for, the pre-trend coefficients (negative
    event times, from the regression on untreated rows of BJS's Test 1). ``overall_att`` and
    ``overall_se`` average all treated observations with equal weight. ``vcov`` is the
    covariance of the post-treatment rows; ``scores`` holds their cluster contributions
    (one row per post-treatment horizon, then the overall ATT; one column per cluster, in
    the order of ``cluster_labels``), so that each variance is the sum of squares of its row.
    ``n_obs`` counts the treated observations behind each post-treatment row.
    """

    overall_att: float = np.nan
    overall_se: float = np.nan
    vcov: pd.DataFrame | None = field(default=None, repr=False)
    scores: np.ndarray | None = field(default=None, repr=False)
    cluster_labels: np.ndarray | None = field(default=None, repr=False)
    n_obs: pd.Series | None = field(default=None, repr=False)
    pretrend: object | None = field(default=None, repr=False)
    kind: str = "dynamic"

    def overall_interval(self) -> tuple[float, float]:
        """Pointwise confidence interval of ``overall_att``."""
        z = self.pointwise_critical()
        return self.overall_att - z * self.overall_se, self.overall_att + z * self.overall_se

    def statement(self) -> str:
        lo, hi = self.overall_interval()
        verdict = EFFECT_WORDS[interval_sign(lo, hi)]
        pct = round(self.level * 100)
        return (
            f"{self.method} finds {verdict} on {self.outcome} for the average effect over all "
            f"treated observations: {self.overall_att:.4g} ({pct}% CI {lo:.4g} to {hi:.4g})."
        )

    def plot(self, ax=None, **kwargs):
        """Event-study plot, the same figure as Callaway-Sant'Anna's (see
        :func:`asn_eval.report.plots.event_study`: ``lang``, ``percent``, ``labels``, ...);
        returns the Axes."""
        return plotting_backend().event_study(self, ax=ax, **kwargs)


# --------------------------------------------------------------------------------------
# The fixed-effect regression on untreated rows
# --------------------------------------------------------------------------------------
class _UntreatedFixedEffects:
    """Unit and period effects fitted on untreated rows, by the normal equations.

    The unit block is eliminated by group sums; the period block is solved exactly from its
    Schur complement ``diag(m_t) - C' diag(1/n_i) C`` (``C`` the unit x period counts of
    untreated rows), a periods x periods matrix. :meth:`solve` returns the fixed effects
    ``(a, l)`` solving ``Z_0'Z_0 (a, l) = (r_unit, r_time)`` for any right-hand sides in the
    span of the untreated rows: the outcome's sums (the regression) and the treated weights'
    sums (the weights ``v`` of the untreated rows).
    """

    def __init__(self, unit0: np.ndarray, time0: np.ndarray, n_units: int, n_times: int):
        self.unit0, self.time0 = unit0, time0
        self.n_units, self.n_times = n_units, n_times
        self.unit_counts = np.bincount(unit0, minlength=n_units).astype(float)
        self.time_counts = np.bincount(time0, minlength=n_times).astype(float)
        self.counts = sparse.csr_matrix(
            (np.ones(unit0.size), (unit0, time0)), shape=(n_units, n_times)
        )
        self.counts.sum_duplicates()
        inv_units = np.divide(
            1.0, self.unit_counts, out=np.zeros(n_units), where=self.unit_counts > 0
        )
        self.inv_units = inv_units
        scaled = sparse.diags(inv_units) @ self.counts
        schur = np.diag(self.time_counts) - (self.counts.T @ scaled).toarray()
        values, vectors = np.linalg.eigh(schur)
        keep = values > _PINV_RTOL * max(values.max(), 1.0)
        self.schur_pinv = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T

    def components(self) -> tuple[np.ndarray, np.ndarray]:
        """Connected component of every unit and every period in the untreated rows."""
        graph = sparse.bmat([[None, self.counts], [self.counts.T, None]], format="csr")
        _, labels = csgraph.connected_components(graph, directed=False)
        return labels[: self.n_units], labels[self.n_units :]

    def solve(self, r_unit: np.ndarray, r_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fixed effects for right-hand sides ``r_unit`` (units x k), ``r_time`` (periods x k)."""
        per_unit = r_unit * self.inv_units[:, None]
        rhs = r_time - self.counts.T @ per_unit
        time_fe = self.schur_pinv @ rhs
        unit_fe = per_unit - (self.counts @ time_fe) * self.inv_units[:, None]
        return unit_fe, time_fe


def _sums(codes: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Column sums of ``weights`` (rows x k) by ``codes``, as an (n x k) array."""
    return np.column_stack(
        [np.bincount(codes, weights=weights[:, j], minlength=n) for j in range(weights.shape[1])]
    )


# --------------------------------------------------------------------------------------
# Data preparation
# --------------------------------------------------------------------------------------
def _require_columns(data: pd.DataFrame, columns: dict[str, str | None]) -> None:
    missing = [f"{role} {name!r}" for role, name in columns.items() if name and name not in data]
    if missing:
        raise KeyError(
            f"did_imputation: the data have no column for {', '.join(missing)}; "
            f"available columns: {', '.join(map(str, data.columns))}."
        )


def _event_times(spec, available: np.ndarray, what: str) -> np.ndarray:
    """Requested event times among ``available``; ``True`` means all of them."""
    if spec is True:
        return available
    wanted = np.unique(np.atleast_1d(np.asarray(spec, dtype=float)))
    absent = np.setdiff1d(wanted, available)
    if absent.size:
        raise ValueError(
            f"did_imputation: {what} {', '.join(f'{v:g}' for v in absent)} not in the data; "
            f"available: {', '.join(f'{v:g}' for v in available)}."
        )
    return wanted


def _as_labels(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr.astype(np.int64) if np.all(arr == np.round(arr)) else arr


# --------------------------------------------------------------------------------------
# did_imputation
# --------------------------------------------------------------------------------------
def did_imputation(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    cluster: str | None = None,
    horizons: Sequence[int] | bool | None = None,
    pretrends: Sequence[int] | int | bool | None = None,
    leaveout: bool = False,
    level: float = 0.95,
) -> ImputationResult:
    """Imputation estimator of Borusyak, Jaravel and Spiess (2024) with clustered inference.

    Fits unit and period fixed effects on the untreated observations (never treated, and
    eventually treated units before their adoption), imputes the untreated outcome of each
    treated observation, and averages the differences: with equal weight over all treated
    observations (``overall_att``) and over those ``h`` periods after adoption (one row per
    event time ``h``). Point estimates equal those of Gardner's two-stage estimator
    (pyfixest's ``did2s``) with the same first stage; standard errors are BJS's conservative
    clustered variance (Theorem 3), the same as R's ``didimputation`` and Stata's
    ``did_imputation`` (without ``leaveout``).

    Parameters
    ----------
    data
        Long panel, one row per unit and period (balanced or not).
    outcome, unit, time
        Column names; ``time`` holds integer-like periods (e.g. years).
    cohort
        First treated period of the unit (0 or missing = never treated); constant within
        units. A unit is treated from that period on; cohorts after the last period never are.
    cluster
        Column to cluster on (e.g. agency). ``None``: the unit, as BJS's default. With a
        cluster column intervals use t(G - 1) quantiles, as :func:`att_gt`; normal otherwise.
    horizons
        Post-treatment event times to report (``None`` or ``True``: all). The overall ATT
        always averages every treated observation.
    pretrends
        Pre-trend coefficients (BJS's Test 1): ``None`` (none), ``True`` (every pre-period
        event time), an integer ``k`` (event times -k..-1) or a list of negative event times.
        They are the coefficients of lead dummies added to the fixed-effect regression on
        untreated rows, with clustered CRV1 standard errors (fixest convention), and are
        tested jointly (Wald F with ``G - 1`` denominator degrees of freedom, in
        ``pretrend``). They do not change the effect estimates.
    leaveout
        Average the effects of a cohort-period cell without the cluster's own rows when
        forming its residuals (BJS appendix A.9, Stata's ``leaveout``, which BJS recommend):
        the plain average shrinks each cluster's residual towards zero when a cell has few
        clusters. ``False`` (default) is R's ``didimputation`` and Stata's default.
    level
        Confidence level.

    Returns
    -------
    ImputationResult
        ``to_frame()`` has the columns ``event_time``, ``estimate``, ``std_error``,
        ``ci_low``, ``ci_high``; ``overall_att``, ``overall_se``, ``overall_interval()``,
        ``vcov``, ``scores`` (cluster contributions, for :func:`romano_wolf`), ``plot()``.

    Notes
    -----
    Treated observations whose unit has no untreated period (treated when first observed)
    or whose period has no untreated observation cannot be imputed; they are dropped with a
    warning (Stata's ``autosample``), and the estimand is the average over the rest.

    Examples
    --------
    >>> from asn_eval.data.synth import simulate_panel
    >>> panel = simulate_panel(n_employees=600, n_agencies=20, seed=1)
    >>> res = did_imputation(panel, outcome="y", unit="employee_id", time="year",
    ...                      cohort="cohort", cluster="agency")
    >>> res.to_frame().columns[0]
    'event_time'
    """
    _require_columns(
        data, {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort, "cluster": cluster}
    )
    if data[unit].isna().any() or data[time].isna().any():
        raise ValueError(f"did_imputation: {unit!r} and {time!r} must not be missing.")
    if cluster is not None and data[cluster].isna().any():
        raise ValueError(f"did_imputation: cluster column {cluster!r} has missing values.")
    y_all = pd.to_numeric(data[outcome]).to_numpy(dtype=float)
    observed = ~np.isnan(y_all)
    notes: dict[str, int] = {}
    if not observed.all():
        notes["rows with a missing outcome dropped"] = int((~observed).sum())
        warnings.warn(
            f"did_imputation: dropped {int((~observed).sum()):,} rows with a missing {outcome}.",
            stacklevel=2,
        )
    frame = data.loc[observed] if not observed.all() else data
    y = y_all[observed]

    unit_codes, unit_labels = pd.factorize(frame[unit], sort=False)
    n_units = len(unit_labels)
    time_values = frame[time].to_numpy(dtype=float)
    periods, time_codes = np.unique(time_values, return_inverse=True)
    n_times = periods.size
    key = unit_codes.astype(np.int64) * n_times + time_codes
    if np.bincount(key, minlength=n_units * n_times).max(initial=0) > 1:
        raise ValueError(
            f"did_imputation: each ({unit}, {time}) pair must appear once; the data have "
            "duplicates."
        )
    g = pd.to_numeric(frame[cohort]).fillna(NEVER_TREATED).to_numpy(dtype=float)
    unit_g = np.full(n_units, np.nan)
    unit_g[unit_codes] = g
    varying = unit_g[unit_codes] != g
    if varying.any():
        raise ValueError(
            f"did_imputation: cohort {cohort!r} must be constant within each {unit}, but it "
            f"varies for {np.unique(unit_codes[varying]).size} of them."
        )
    treated = (g != NEVER_TREATED) & (time_values >= g)
    if not treated.any():
        raise ValueError(f"did_imputation: no observation is ever treated (column {cohort!r}).")
    if treated.all():
        raise ValueError("did_imputation: every observation is treated; nothing to impute from.")

    untreated = ~treated
    fe = _UntreatedFixedEffects(unit_codes[untreated], time_codes[untreated], n_units, n_times)
    unit_comp, time_comp = fe.components()
    imputable = unit_comp[unit_codes] == time_comp[time_codes]
    lost = treated & ~imputable
    if lost.any():
        notes["treated rows not imputable (no untreated row for their unit or period)"] = int(
            lost.sum()
        )
        warnings.warn(
            f"did_imputation: {int(lost.sum()):,} treated observations cannot be imputed (their "
            "unit has no untreated period, or their period no untreated observation "
            "connected to it) and are left out of the averages.",
            stacklevel=2,
        )
        treated &= imputable
        if not treated.any():
            raise ValueError("did_imputation: no treated observation can be imputed.")

    # clusters in sorted label order, so that families of results align on them
    cluster_codes, cluster_labels = pd.factorize(frame[cluster or unit], sort=True)
    cluster_labels = np.asarray(cluster_labels)
    n_clusters = len(cluster_labels)
    if n_clusters < 2:
        raise ValueError("did_imputation: clustering needs at least 2 clusters.")

    # First stage: fixed effects on the untreated rows, effects of the treated rows.
    u0, t0 = unit_codes[untreated], time_codes[untreated]
    y0 = y[untreated][:, None]
    a, lam = fe.solve(_sums(u0, y0, n_units), _sums(t0, y0, n_times))
    fitted = a[unit_codes, 0] + lam[time_codes, 0]
    resid = np.where(untreated, y - fitted, 0.0)
    idx1 = np.flatnonzero(treated)
    tau = y[idx1] - fitted[idx1]
    event1 = (time_values[idx1] - g[idx1]).astype(float)

    all_post = np.unique(event1)
    post = all_post if horizons is None else _event_times(horizons, all_post, "horizons")

    # One weight column per horizon, then the overall ATT (equal weight per observation).
    columns = [(event1 == h).astype(float) for h in post] + [np.ones(idx1.size)]
    weights = np.column_stack(columns)
    n_obs = weights.sum(axis=0)
    weights /= n_obs
    estimates = weights.T @ tau

    # Weights of the untreated rows: v_0 = -Z_0 (Z_0'Z_0)^- Z_1' w_1.
    u1, t1 = unit_codes[idx1], time_codes[idx1]
    wa, wl = fe.solve(_sums(u1, weights, n_units), _sums(t1, weights, n_times))
    v0 = -(wa[u0] + wl[t0])

    scores = _theorem3_scores(
        tau=tau,
        weights=weights,
        v0=v0,
        resid0=resid[untreated],
        cluster1=cluster_codes[idx1],
        cluster0=cluster_codes[untreated],
        cell1=np.unique(g[idx1], return_inverse=True)[1] * n_times + time_codes[idx1],
        n_clusters=n_clusters,
        leaveout=leaveout,
    )
    se = np.sqrt(np.einsum("kc,kc->k", scores, scores))

    labels = pd.Index(_as_labels(post), name="event_time")
    params = pd.Series(estimates[:-1], index=labels, name="estimate")
    std_errors = pd.Series(se[:-1], index=labels, name="std_error")
    vcov = pd.DataFrame(scores[:-1] @ scores[:-1].T, index=labels, columns=labels)
    counts = pd.Series(n_obs[:-1].astype(np.int64), index=labels, name="n_obs")

    df = n_clusters - 1 if cluster is not None else None
    pretrend = None
    if pretrends is not None and pretrends is not False:
        pre_params, pre_se, pretrend = _pretrend_regression(
            frame=frame,
            y=y,
            g=g,
            time_values=time_values,
            untreated=untreated,
            unit_codes=unit_codes,
            time_codes=time_codes,
            cluster_codes=cluster_codes,
            spec=pretrends,
        )
        params = pd.concat([pre_params, params]).rename_axis("event_time").rename("estimate")
        std_errors = pd.concat([pre_se, std_errors]).rename_axis("event_time")
        std_errors = std_errors.rename("std_error")

    n_treated_units = np.unique(unit_codes[idx1]).size
    info = {
        "Observations": f"{y.size:,} ({idx1.size:,} treated, {int(untreated.sum()):,} untreated)",
        "Units": f"{n_units:,} ({n_treated_units:,} treated)",
        "Clusters": f"{n_clusters:,} ({cluster or unit})",
        "First stage": f"{unit} and {time} fixed effects on untreated observations",
        "Overall ATT": f"{estimates[-1]:.4f} (SE {se[-1]:.4f}), equal weight per treated "
        "observation",
        "Standard errors": "BJS (2024) Theorem 3, conservative, clustered by "
        f"{cluster or unit}; effects averaged by cohort x period (eq. 8"
        + (", leave-out, A.9); " if leaveout else "); ")
        + (f"t({df}) intervals" if df is not None else "normal intervals"),
    }
    if pretrend is not None:
        info["Pre-trend test"] = pretrend.statement()
    for what, count in notes.items():
        info[what[0].upper() + what[1:]] = f"{count:,}"
    return ImputationResult(
        params=params,
        std_errors=std_errors,
        method=METHOD_NAME,
        outcome=outcome,
        level=level,
        info=info,
        df=df,
        overall_att=float(estimates[-1]),
        overall_se=float(se[-1]),
        vcov=vcov,
        scores=scores,
        cluster_labels=cluster_labels,
        n_obs=counts,
        pretrend=pretrend,
    )


def _theorem3_scores(
    *, tau, weights, v0, resid0, cluster1, cluster0, cell1, n_clusters, leaveout
) -> np.ndarray:
    """Cluster contributions ``sum_{it in c} v_it e~_it`` of every estimate (BJS Theorem 3).

    Returns an (estimates x clusters) array; each estimate's variance is the sum of squares
    of its row. ``tau~`` of each (cohort, period) cell is BJS eq. 8 with clusters as units;
    with ``leaveout`` each cluster's own rows are left out of its cell's average (BJS
    appendix A.9), except in cells where it is the only cluster.
    """
    cells, cell_codes = np.unique(cell1, return_inverse=True)
    pair, pair_codes = np.unique(cell_codes.astype(np.int64) * n_clusters + cluster1,
                                 return_inverse=True)  # fmt: skip
    pair_cell = pair // n_clusters
    out = np.empty((weights.shape[1], n_clusters))
    for k in range(weights.shape[1]):
        v1 = weights[:, k]
        sum_v = np.bincount(pair_codes, weights=v1, minlength=pair.size)
        sum_v_tau = np.bincount(pair_codes, weights=v1 * tau, minlength=pair.size)
        num = np.bincount(pair_cell, weights=sum_v * sum_v_tau, minlength=cells.size)[pair_cell]
        den = np.bincount(pair_cell, weights=sum_v * sum_v, minlength=cells.size)[pair_cell]
        if leaveout:
            own_num, own_den = sum_v * sum_v_tau, sum_v * sum_v
            others = den - own_den > 1e-12 * den
            num = np.where(others, num - own_num, num)
            den = np.where(others, den - own_den, den)
        tau_tilde = np.divide(num, den, out=np.zeros(pair.size), where=den > 0)
        e1 = tau - tau_tilde[pair_codes]
        out[k] = np.bincount(cluster1, weights=v1 * e1, minlength=n_clusters)
        out[k] += np.bincount(cluster0, weights=v0[:, k] * resid0, minlength=n_clusters)
    return out


def _pretrend_regression(
    *, frame, y, g, time_values, untreated, unit_codes, time_codes, cluster_codes, spec
):
    """BJS Test 1: lead dummies in the fixed-effect regression on untreated rows."""
    from .did import PretrendTest  # the project's joint-test result
    from .twfe import twfe

    event = np.where(g != NEVER_TREATED, time_values - g, np.nan)
    pre_available = np.unique(event[untreated & ~np.isnan(event)])
    if pre_available.size == 0:
        raise ValueError("did_imputation: no pre-treatment periods of treated units to test.")
    if spec is True:
        wanted = pre_available
    elif np.isscalar(spec) and float(spec) > 0:
        wanted = _event_times(-np.arange(1, int(spec) + 1), pre_available, "pretrends")
    else:
        wanted = _event_times(spec, pre_available, "pretrends")
    if wanted.size == pre_available.size:
        # with every lead in, treated units' pre-periods would be saturated: keep the
        # earliest as the reference, as fixest's i() drops one collinear level
        wanted = wanted[1:]
    if wanted.size == 0:
        raise ValueError("did_imputation: only one pre-treatment event time; nothing to test.")
    names = [f"lead_{int(-k)}" if float(k).is_integer() else f"lead_{-k:g}" for k in wanted]
    rows = np.flatnonzero(untreated)
    ev0 = event[rows]
    design = pd.DataFrame(
        {
            "_y": y[rows],
            "_unit": unit_codes[rows],
            "_time": time_codes[rows],
            "_cluster": cluster_codes[rows],
        }
        | {n: (ev0 == k).astype(float) for n, k in zip(names, wanted, strict=True)}
    )
    fit = twfe(
        design, outcome="_y", treatment=names, unit="_unit", time="_time", cluster="_cluster"
    )
    labels = pd.Index(_as_labels(wanted), name="event_time")
    b = fit.params.loc[names].to_numpy()
    v = fit.vcov.loc[names, names].to_numpy()
    q, n_clusters = len(names), int(fit.n_clusters)
    wald = float(b @ np.linalg.solve(v, b))
    test = PretrendTest(
        statistic=wald / q,
        df=q,
        p_value=float(stats.f.sf(wald / q, q, n_clusters - 1)),
        tested=tuple(labels),
        method="f",
        df_denom=float(n_clusters - 1),
        n_clusters=n_clusters,
    )
    return (
        pd.Series(b, index=labels, name="estimate"),
        pd.Series(fit.std_errors.loc[names].to_numpy(), index=labels, name="std_error"),
        test,
    )
