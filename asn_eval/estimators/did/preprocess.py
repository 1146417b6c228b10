"""Data preparation for :func:`~asn_eval.estimators.did.att_gt` (R's did ``pre_process_did``).

A long panel becomes wide ``units x periods`` arrays: the columns are checked, cohorts adopting
after the last period (and after any anticipation) are recoded as never treated, units treated
in the first period are dropped, the panel is balanced (or kept for pairwise cells) and each
unit is assigned to its cluster.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.config import NEVER_TREATED

CONTROL_GROUPS = ("never", "notyet")
BASE_PERIODS = ("varying", "universal")
UNBALANCED = ("drop", "pairwise")


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


def _check_anticipation(anticipation) -> int:
    """``anticipation`` as an int >= 0, or a clear message."""
    whole = isinstance(anticipation, int | np.integer) and not isinstance(anticipation, bool)
    if not whole or anticipation < 0:
        raise ValueError(
            f"anticipation must be a whole number of periods >= 0; got {anticipation!r}."
        )
    return int(anticipation)
