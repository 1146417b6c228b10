"""The within-transformation: unit and time fixed effects removed from columns of data.

Computed from group-by sums (``numpy.bincount``) rather than by dummy variables, so memory and
time grow linearly with the number of rows and there is no Python loop over units:

* balanced panel: the exact one-pass transformation ``z - mean_unit - mean_time + mean``;
* unbalanced panel: exact as well, by the Frisch-Waugh-Lovell theorem on the smaller of the
  two dimensions (usually time): the data are demeaned within units, and the within-unit
  time dummies are partialled out through their small ``T x T`` cross-product, which is
  itself a group-by aggregate. No iteration, so no convergence tolerance;
* both dimensions large (more than ``MAX_DIRECT_LEVELS`` levels each): alternating
  projections (demeaning by unit and by time in turn) until the largest change is below
  ``MAP_TOLERANCE``.

Used by :func:`asn_eval.estimators.twfe.twfe` and the wild cluster bootstrap.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import sparse

# Above this many levels in both fixed-effect dimensions the exact small-dimension solve
# (a dense levels x levels system) gets expensive and alternating projections take over.
MAX_DIRECT_LEVELS = 2000
MAP_TOLERANCE = 1e-12
MAP_MAX_ITER = 100_000


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
    max_direct_levels
        Above this many levels in both dimensions, alternating projections replace the
        exact small-dimension solve.

    Notes
    -----
    The set-up cost (counts, and for unbalanced panels the small cross-product of the
    within-unit time dummies and its pseudo-inverse) is paid once; :meth:`residualize` then
    costs a few ``bincount`` passes per column.
    """

    def __init__(
        self,
        unit_codes: np.ndarray,
        time_codes: np.ndarray,
        *,
        max_direct_levels: int = MAX_DIRECT_LEVELS,
    ):
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
        elif self._small_counts.size <= max_direct_levels:
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
