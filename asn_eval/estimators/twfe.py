"""Two-way fixed effects (TWFE) regression for panels, fast enough for national data.

The unit and time fixed effects are removed by the exact within-transformation of
:mod:`asn_eval.estimators.fixed_effects` (group-by sums, no dummy variables, no Python loop
over units). The module also holds the dynamic TWFE event study, one dummy per event time,
that :func:`asn_eval.estimators.did.event_study` runs with ``method="twfe"``.

Standard errors
---------------
Without ``cluster``: classical (homoskedastic) standard errors with residual degrees of
freedom ``N - K - (units + periods - 1)``, the same as linearmodels' ``PanelOLS`` with
entity and time effects and as Stata's ``xtreg, fe`` with year dummies.

With ``cluster``: cluster-robust CRV1 with the small-sample convention of R's fixest and of
pyfixest (``ssc(adj=TRUE, fixef.K="nested", cluster.adj=TRUE)``): the sandwich is scaled by
``G/(G-1) * (N-1)/(N-K)`` where ``K`` counts the regressors and the fixed effects that are
*not* nested in the clusters. linearmodels counts every fixed effect in ``K`` and so reports
clustered standard errors some 8-10% larger on employee-in-agency panels. Intervals and
p-values use Student's t with ``G - 1`` degrees of freedom (clustered) or ``N - K`` (classical),
as fixest does.

Singleton units (observed once) are kept, as in linearmodels and Stata; pyfixest drops them by
default, so compare with ``fixef_rm="none"`` when a panel has singletons.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from asn_eval.estimators.fixed_effects import MAX_DIRECT_LEVELS, TwoWayAbsorber, _codes
from asn_eval.estimators.fixed_effects import _group_sum as _group_sum  # for inference.py
from asn_eval.estimators.results import EstimateTable

__all__ = ["TwfeResult", "twfe"]

# A regressor whose within-variation is this small relative to its raw variation is taken as
# absorbed by the fixed effects (e.g. a time-invariant covariate).
ABSORBED_TOLERANCE = 1e-10


@dataclass(frozen=True)
class TwfeResult(EstimateTable):
    """Result of :func:`twfe`: estimates by regressor (index column ``term``).

    Besides the :class:`~asn_eval.estimators.results.EstimateTable` members it holds the
    covariance matrix ``vcov``, the number of observations ``nobs``, the number of clusters
    ``n_clusters`` (``None`` without clustering) and ``df`` (degrees of freedom of the t
    distribution used for intervals and p-values).
    """

    vcov: pd.DataFrame | None = None
    nobs: int = 0
    n_clusters: int | None = None
    se_type: str = ""


@dataclass(frozen=True)
class _Fit:
    """Internals of a TWFE fit, shared with the few-cluster inference module."""

    names: list[str]
    y: np.ndarray  # outcome after the within-transformation
    x: np.ndarray  # regressors after the within-transformation (N x K)
    params: np.ndarray
    resid: np.ndarray
    xtx_inv: np.ndarray
    absorber: TwoWayAbsorber
    cluster_codes: np.ndarray | None
    n_clusters: int | None
    df_k: int  # K in (N-1)/(N-K)
    dropped: int
    unit_codes: np.ndarray
    time_codes: np.ndarray

    @property
    def nobs(self) -> int:
        return self.y.size

    @property
    def crv1_factor(self) -> float:
        g, n = self.n_clusters, self.nobs
        return g / (g - 1) * (n - 1) / (n - self.df_k)


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _nested(inner: np.ndarray, n_inner: int, outer: np.ndarray) -> bool:
    """True when every level of ``inner`` lies within a single level of ``outer``."""
    n_outer = int(outer.max()) + 1
    if n_outer > n_inner:  # every outer level holds some inner level, so some must share
        return False
    # Scatter one outer value per inner level (any of them), then check every row agrees.
    representative = np.empty(n_inner, dtype=outer.dtype)
    representative[inner] = outer
    return bool(np.array_equal(representative[inner], outer))


def _prepare(
    data: pd.DataFrame,
    *,
    outcome: str,
    regressors: list[str],
    unit: str,
    time: str,
    cluster: str | None,
    caller: str = "twfe",
) -> tuple[pd.DataFrame, int]:
    columns = list(
        dict.fromkeys([outcome, *regressors, unit, time] + ([cluster] if cluster else []))
    )
    missing_cols = [c for c in columns if c not in data.columns]
    if missing_cols:
        raise KeyError(
            f"{caller}: column(s) {', '.join(missing_cols)} not found in the data; "
            f"available columns are {', '.join(map(str, data.columns))}."
        )
    keep = None
    with_missing = []
    for column in columns:
        series = data[column]
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iub":
            # NumPy integer and boolean columns cannot hold missing values (nullable
            # extension dtypes such as Int64 can, so they are checked).
            continue
        missing = series.isna().to_numpy()
        if missing.any():
            with_missing.append(column)
            keep = ~missing if keep is None else keep & ~missing
    frame = data
    dropped = 0
    if keep is not None:
        dropped = int(keep.size - keep.sum())
        warnings.warn(
            f"{caller}: dropped {dropped:,} of {keep.size:,} rows with missing values "
            f"(in {', '.join(with_missing)}).",
            UserWarning,
            stacklevel=4,
        )
        frame = data.loc[keep, columns]
    if len(frame) == 0:
        raise ValueError(f"{caller}: no rows left after dropping rows with missing values.")
    return frame, dropped


def _fit(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str | Sequence[str],
    unit: str,
    time: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    caller: str = "twfe",
) -> _Fit:
    names = list(dict.fromkeys(_as_list(treatment) + list(covariates)))
    frame, dropped = _prepare(
        data,
        outcome=outcome,
        regressors=names,
        unit=unit,
        time=time,
        cluster=cluster,
        caller=caller,
    )
    unit_codes, n_units = _codes(frame[unit])
    time_codes, n_times = _codes(frame[time])
    # read at call time, so that the threshold can be lowered here (the tests do)
    absorber = TwoWayAbsorber(unit_codes, time_codes, max_direct_levels=MAX_DIRECT_LEVELS)
    raw = np.empty((len(frame), len(names) + 1), order="F")
    for j, column in enumerate([outcome, *names]):
        raw[:, j] = frame[column].to_numpy(dtype=float)
    within = absorber.residualize(raw)
    y, x = within[:, 0], within[:, 1:]
    xtx = x.T @ x
    # Within-variation left, relative to raw variation: ~0 when the FE absorb a regressor.
    raw_ss = np.array([np.var(raw[:, j]) for j in range(1, raw.shape[1])]) * len(raw)
    absorbed = [
        n for n, w, r in zip(names, np.diag(xtx), raw_ss, strict=True)
        if w <= ABSORBED_TOLERANCE**2 * r or w == 0
    ]  # fmt: skip
    if absorbed:
        raise ValueError(
            f"{caller}: {', '.join(absorbed)} do(es) not vary within units and periods once the "
            f"{unit} and {time} fixed effects are removed, so no effect can be estimated; "
            "drop it or use a variable that changes over time within units."
        )
    xtx_inv = np.linalg.inv(xtx)
    params = xtx_inv @ (x.T @ y)
    resid = y - x @ params
    k = len(names)
    if cluster is None:
        cluster_codes, n_clusters = None, None
        df_k = k + n_units + n_times - 1
    else:
        cluster_codes, n_clusters = _codes(frame[cluster])
        if n_clusters < 2:
            raise ValueError(f"{caller}: clustering needs at least 2 clusters; {cluster} has 1.")
        # fixest "nested" convention: fixed effects nested in the clusters are not counted.
        unit_nested = _nested(unit_codes, n_units, cluster_codes)
        time_nested = _nested(time_codes, n_times, cluster_codes)
        df_k = (
            k
            + (n_units + n_times - 1)
            - (n_units if unit_nested else 0)
            - (n_times if time_nested else 0)
            + int(unit_nested)
            + int(time_nested)
        )
    return _Fit(
        names=names,
        y=y,
        x=x,
        params=params,
        resid=resid,
        xtx_inv=xtx_inv,
        absorber=absorber,
        cluster_codes=cluster_codes,
        n_clusters=n_clusters,
        df_k=df_k,
        dropped=dropped,
        unit_codes=unit_codes,
        time_codes=time_codes,
    )


def _cluster_vcov(fit: _Fit) -> np.ndarray:
    scores = np.column_stack(
        [
            np.bincount(
                fit.cluster_codes, weights=fit.x[:, j] * fit.resid, minlength=fit.n_clusters
            )
            for j in range(fit.x.shape[1])
        ]
    )
    return fit.crv1_factor * fit.xtx_inv @ (scores.T @ scores) @ fit.xtx_inv


def twfe(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str | Sequence[str],
    unit: str,
    time: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    level: float = 0.95,
) -> TwfeResult:
    """Two-way fixed effects regression of ``outcome`` on ``treatment`` and ``covariates``.

    Estimates ``y_it = a_i + l_t + D_it' b + X_it' c + e_it`` by the within-transformation.
    With staggered adoption and effects that differ between cohorts or grow over time, the
    TWFE coefficient is a weighted average of 2x2 comparisons, some with negative weights
    (Goodman-Bacon 2021, *J. Econometrics* 225(2)); see :func:`bacon_decomposition`, and
    prefer ``att_gt`` for the causal effect.

    Parameters
    ----------
    data
        Long panel, one row per unit and period.
    outcome
        Outcome column.
    treatment
        One regressor column or a list of them (e.g. event-time dummies).
    unit, time
        Columns identifying the unit and period fixed effects.
    covariates
        Further time-varying regressors; reported in ``params`` after the treatments.
    cluster
        Column to cluster standard errors on (e.g. ``"agency_code"``). ``None`` gives
        classical standard errors.
    level
        Confidence level of the intervals.

    Returns
    -------
    TwfeResult
        ``params``, ``std_errors``, ``vcov``, ``nobs``, ``n_clusters``; ``to_frame()`` has
        the index column ``term``; ``summary()`` states the standard-error convention.

    Notes
    -----
    Standard errors follow linearmodels' PanelOLS without ``cluster`` and the fixest/pyfixest
    CRV1 convention with it (fixed effects nested in the clusters not counted); see the
    module docstring. Rows with a missing value in any used column are dropped with a warning.

    Examples
    --------
    >>> from linearmodels.datasets import jobtraining
    >>> res = twfe(jobtraining.load(), outcome="lscrap", treatment=["grant", "grant_1"],
    ...            unit="fcode", time="year")  # doctest: +SKIP
    >>> round(res.params["grant"], 4)  # doctest: +SKIP
    -0.2523
    """
    fit = _fit(
        data,
        outcome=outcome,
        treatment=treatment,
        unit=unit,
        time=time,
        covariates=covariates,
        cluster=cluster,
    )
    n = fit.nobs
    if cluster is None:
        df = n - fit.df_k
        if df <= 0:
            raise ValueError(
                "twfe: no residual degrees of freedom left (more parameters than rows)."
            )
        sigma2 = float(fit.resid @ fit.resid) / df
        vcov = sigma2 * fit.xtx_inv
        se_type = (
            f"classical (homoskedastic), residual df = N - K - (units + periods - 1) = {df:,}, "
            "as linearmodels PanelOLS"
        )
    else:
        vcov = _cluster_vcov(fit)
        df = fit.n_clusters - 1
        se_type = (
            f"clustered by {cluster} (CRV1, fixest/pyfixest convention: G/(G-1) x (N-1)/(N-K), "
            f"fixed effects nested in clusters not counted in K = {fit.df_k:,}); t({df}) intervals"
        )
    index = pd.Index(fit.names, name="term")
    params = pd.Series(fit.params, index=index, name="estimate")
    std_errors = pd.Series(np.sqrt(np.diag(vcov)), index=index, name="std_error")
    info = {
        "Observations": f"{n:,}",
        "Units": f"{fit.absorber.n_units:,}",
        "Periods": f"{fit.absorber.n_times:,}",
        "Fixed effects": f"{unit}, {time}",
        "Standard errors": se_type,
    }
    if cluster is not None:
        info["Clusters"] = f"{fit.n_clusters:,}"
    if fit.dropped:
        info["Rows dropped (missing)"] = f"{fit.dropped:,}"
    return TwfeResult(
        params=params,
        std_errors=std_errors,
        method="TWFE",
        outcome=outcome,
        level=level,
        info=info,
        vcov=pd.DataFrame(vcov, index=index, columns=index.rename(None)),
        nobs=n,
        n_clusters=fit.n_clusters,
        df=df,
        se_type=se_type,
    )
