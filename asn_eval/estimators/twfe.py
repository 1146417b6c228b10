"""Two-way fixed effects (TWFE) regression for panels, fast enough for national data.

The unit and time fixed effects are removed by a within-transformation computed from
group-by sums (``numpy.bincount``) rather than by dummy variables, so memory and time grow
linearly with the number of rows and there is no Python loop over units:

* balanced panel: the exact one-pass transformation ``z - mean_unit - mean_time + mean``;
* unbalanced panel: exact as well, by the Frisch-Waugh-Lovell theorem on the smaller of the
  two dimensions (usually time): the data are demeaned within units, and the within-unit
  time dummies are partialled out through their small ``T x T`` cross-product, which is
  itself a group-by aggregate. No iteration, so no convergence tolerance;
* both dimensions large (more than ``MAX_DIRECT_LEVELS`` levels each): alternating
  projections (demeaning by unit and by time in turn) until the largest change is below
  ``MAP_TOLERANCE``.

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
from scipy import sparse

from asn_eval.estimators.results import EstimateTable

__all__ = ["TwfeResult", "twfe"]

# Above this many levels in both fixed-effect dimensions the exact small-dimension solve
# (a dense levels x levels system) gets expensive and alternating projections take over.
MAX_DIRECT_LEVELS = 2000
MAP_TOLERANCE = 1e-12
MAP_MAX_ITER = 100_000
# A regressor whose within-variation is this small relative to its raw variation is taken as
# absorbed by the fixed effects (e.g. a time-invariant covariate).
ABSORBED_TOLERANCE = 1e-10


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes 0..n-1 for the levels of a column (no missing values)."""
    array = values.to_numpy()
    if isinstance(values.dtype, np.dtype) and array.dtype.kind in "iu" and array.size:
        # Integer identifiers over a compact range: a lookup table beats hashing.
        low, high = int(array.min()), int(array.max())
        if high - low <= max(2 * array.size, 1_000_000):
            shifted = (array - low if low else array).astype(np.intp, copy=False)
            present = np.bincount(shifted, minlength=high - low + 1) > 0
            if present.all():
                return shifted, present.size
            lookup = np.cumsum(present) - 1
            return lookup[shifted], int(present.sum())
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.intp, copy=False), len(uniques)


def _pinv_psd(matrix: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """Pseudo-inverse of a positive semi-definite matrix.

    The cross-product of within-unit time dummies is singular (the constant is absorbed
    twice), and rounding leaves its null eigenvalue at about 1e-14 of the largest rather
    than zero; a relative cut-off far above rounding keeps that direction out.
    """
    values, vectors = np.linalg.eigh(matrix)
    keep = values > rtol * values.max()
    return (vectors[:, keep] / values[keep]) @ vectors[:, keep].T


def _group_sum(z: np.ndarray, codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Sum of each column of ``z`` (N x m) by group, as a (levels x m) array."""
    return np.column_stack(
        [np.bincount(codes, weights=z[:, j], minlength=n_levels) for j in range(z.shape[1])]
    )


def _group_mean(z: np.ndarray, codes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean of each column of ``z`` by group, returned as a (levels x columns) array."""
    return (
        np.column_stack(
            [np.bincount(codes, weights=z[:, j], minlength=counts.size) for j in range(z.shape[1])]
        )
        / counts[:, None]
    )


def _grid_layout(unit_codes, time_codes, n_units: int, n_times: int) -> str | None:
    """``"unit-major"`` or ``"time-major"`` when rows form a full, sorted unit x time grid.

    Then the within-transformation is a reshape and two axis means, with no gather.
    """
    if unit_codes.size != n_units * n_times:
        return None
    units_axis, times_axis = np.arange(n_units), np.arange(n_times)
    by_unit = unit_codes.reshape(n_units, n_times), time_codes.reshape(n_units, n_times)
    if (by_unit[0] == units_axis[:, None]).all() and (by_unit[1] == times_axis).all():
        return "unit-major"
    by_time = unit_codes.reshape(n_times, n_units), time_codes.reshape(n_times, n_units)
    if (by_time[0] == units_axis).all() and (by_time[1] == times_axis[:, None]).all():
        return "time-major"
    return None


def _demean_grid(column: np.ndarray, layout: str, n_units: int, n_times: int) -> np.ndarray:
    shape = (n_units, n_times) if layout == "unit-major" else (n_times, n_units)
    grid = column.reshape(shape)
    out = grid - grid.mean(axis=1, keepdims=True)
    out -= grid.mean(axis=0, keepdims=True)
    out += grid.mean()
    return out.reshape(-1)


class TwoWayAbsorber:
    """Removes unit and time fixed effects from columns of data (the within-transformation).

    Parameters
    ----------
    unit_codes, time_codes
        Integer codes 0..levels-1 of the two fixed effects, one per row.

    Notes
    -----
    The set-up cost (counts, and for unbalanced panels the small cross-product of the
    within-unit time dummies and its pseudo-inverse) is paid once; :meth:`residualize` then
    costs a few ``bincount`` passes per column.
    """

    def __init__(self, unit_codes: np.ndarray, time_codes: np.ndarray):
        self.nobs = unit_codes.size
        self.n_units = int(unit_codes.max()) + 1
        self.n_times = int(time_codes.max()) + 1
        unit_counts = np.bincount(unit_codes, minlength=self.n_units).astype(float)
        time_counts = np.bincount(time_codes, minlength=self.n_times).astype(float)
        self.layout = _grid_layout(unit_codes, time_codes, self.n_units, self.n_times)
        self.balanced = self.layout is not None or (
            self.nobs == self.n_units * self.n_times
            and bool(
                np.all(
                    np.bincount(
                        unit_codes * self.n_times + time_codes,
                        minlength=self.n_units * self.n_times,
                    )
                    == 1
                )
            )
        )
        # Absorb the larger dimension by group means, solve the smaller one exactly.
        if self.n_units >= self.n_times:
            self._big, self._small = unit_codes, time_codes
            self._big_counts, self._small_counts = unit_counts, time_counts
        else:
            self._big, self._small = time_codes, unit_codes
            self._big_counts, self._small_counts = time_counts, unit_counts
        if self.balanced:
            self.method = "exact (balanced panel)"
        elif self._small_counts.size <= MAX_DIRECT_LEVELS:
            self.method = "exact (unbalanced panel, small-dimension solve)"
            self._small_pinv = _pinv_psd(self._small_crossproduct())
        else:
            self.method = "alternating projections"

    def _small_crossproduct(self) -> np.ndarray:
        """``D'M D`` for the dummies D of the small dimension, M = within the big dimension.

        Equals ``diag(n_t) - C' diag(1/n_i) C`` with C the (big x small) cell counts.
        """
        n_big, n_small = self._big_counts.size, self._small_counts.size
        if n_big * n_small <= max(4 * self.nobs, 10_000_000):
            cells = np.bincount(
                self._big * n_small + self._small, minlength=n_big * n_small
            ).reshape(n_big, n_small)
            cells = cells.astype(float)
            inner = cells.T @ (cells / self._big_counts[:, None])
        else:
            cells = sparse.csr_matrix(
                (np.ones(self.nobs), (self._big, self._small)), shape=(n_big, n_small)
            )
            inner = (cells.T @ sparse.diags(1 / self._big_counts) @ cells).toarray()
        return np.diag(self._small_counts) - inner

    def residualize(self, z: np.ndarray) -> np.ndarray:
        """Return ``z`` (N x m, float) with both fixed effects projected out."""
        z = np.asarray(z, dtype=float)
        squeeze = z.ndim == 1
        if squeeze:
            z = z[:, None]
        if self.layout is not None:
            # Fortran order keeps each column contiguous for the reshapes.
            out = np.empty(z.shape, order="F")
            for j in range(z.shape[1]):
                out[:, j] = _demean_grid(z[:, j], self.layout, self.n_units, self.n_times)
        elif self.balanced:
            out = (
                z
                - _group_mean(z, self._big, self._big_counts)[self._big]
                - _group_mean(z, self._small, self._small_counts)[self._small]
                + z.mean(axis=0)
            )
        elif self.method.startswith("exact"):
            within = z - _group_mean(z, self._big, self._big_counts)[self._big]
            sums = np.column_stack(
                [
                    np.bincount(
                        self._small, weights=within[:, j], minlength=self._small_counts.size
                    )
                    for j in range(within.shape[1])
                ]
            )
            gamma = self._small_pinv @ sums
            fitted = gamma[self._small]
            out = within - (fitted - _group_mean(fitted, self._big, self._big_counts)[self._big])
        else:
            out = self._alternating_projections(z)
        return out[:, 0] if squeeze else out

    def _alternating_projections(self, z: np.ndarray) -> np.ndarray:
        out = z - _group_mean(z, self._big, self._big_counts)[self._big]
        scale = np.maximum(np.abs(z).max(axis=0), 1.0)
        for _ in range(MAP_MAX_ITER):
            step = _group_mean(out, self._small, self._small_counts)
            out = out - step[self._small]
            step_big = _group_mean(out, self._big, self._big_counts)
            out = out - step_big[self._big]
            change = max(np.abs(step).max(axis=0).max(), np.abs(step_big).max(axis=0).max())
            if change / scale.max() < MAP_TOLERANCE:
                return out
        warnings.warn(
            "The fixed-effect demeaning did not converge; estimates may be inaccurate.",
            RuntimeWarning,
            stacklevel=3,
        )
        return out


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
    absorber = TwoWayAbsorber(unit_codes, time_codes)
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
