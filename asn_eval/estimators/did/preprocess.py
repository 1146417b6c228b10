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
# a panel unit is sampled once, so its sampling weight is one number (R's did refuses too)
_W_HINT = " (in a panel a unit's sampling weight does not change over time)"


@dataclass(frozen=True, eq=False)
class _Wide:
    periods: np.ndarray  # sorted period values, shape (T,)
    y: np.ndarray  # outcome, shape (n, T), NaN where missing
    x: np.ndarray | None  # covariates, shape (n, T, p)
    cohort: np.ndarray  # first treated period per unit, 0 = never, shape (n,)
    cluster: np.ndarray  # cluster code per unit, shape (n,)
    n_clusters: int
    info: dict
    weights: np.ndarray | None = None  # sampling weight per unit, mean one, shape (n,)


def _require_columns(data: pd.DataFrame, columns: dict[str, str | None]) -> None:
    missing = [f"{role} {name!r}" for role, name in columns.items() if name and name not in data]
    if missing:
        raise KeyError(
            f"att_gt: the data have no column for {', '.join(missing)}; "
            f"available columns: {', '.join(map(str, data.columns))}."
        )


def _per_unit(
    values: np.ndarray, codes: np.ndarray, n: int, what: str, unit: str, hint: str = ""
) -> np.ndarray:
    """Value of a unit-level column; raise if it varies within a unit (``hint`` ends the
    message)."""
    out = np.empty(n, dtype=values.dtype)
    out[codes] = values
    changed = out[codes] != values
    if changed.any():
        raise ValueError(
            f"att_gt: {what} must be constant within each {unit}, but it varies for "
            f"{np.unique(codes[changed]).size} of them{hint}."
        )
    return out


def _require_present(data: pd.DataFrame, columns: dict[str, str]) -> None:
    """Raise, naming the column and the number of rows, if an id column has missing values."""
    for role, name in columns.items():
        missing = int(data[name].isna().sum())
        if missing:
            raise ValueError(
                f"att_gt: the {role} column {name!r} has {missing} missing value"
                f"{'' if missing == 1 else 's'}; every row needs one."
            )


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
    weights: str | None = None,
) -> _Wide:
    _require_columns(
        data,
        {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort, "cluster": cluster}
        | ({"weights": weights} if weights else {})
        | {f"covariate {i + 1}": c for i, c in enumerate(covariates)},
    )
    info: dict[str, Any] = {}
    n_rows = len(data)
    needed = data[[outcome, *covariates]].notna().all(axis=1).to_numpy()
    _require_present(data, {"unit": unit, "time": time})
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
            f"att_gt: each ({unit}, {time}) pair must appear once; the data have duplicates "
            "(for repeated cross-sections, with new respondents each period, use "
            "panel=False)."
        )

    cohort_values = pd.to_numeric(data[cohort]).fillna(NEVER_TREATED).to_numpy(dtype=float)
    unit_cohort = _per_unit(cohort_values, unit_codes, n, f"cohort {cohort!r}", unit)
    unit_weight = None
    if weights is not None:
        unit_weight = _per_unit(
            _check_weights(data, weights), unit_codes, n, f"weights {weights!r}", unit, _W_HINT
        )

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
        unit_weight = None if unit_weight is None else unit_weight[keep]
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
        weights=unit_weight,
    )


def _check_anticipation(anticipation) -> int:
    """``anticipation`` as an int >= 0, or a clear message."""
    whole = isinstance(anticipation, int | np.integer) and not isinstance(anticipation, bool)
    if not whole or anticipation < 0:
        raise ValueError(
            f"anticipation must be a whole number of periods >= 0; got {anticipation!r}."
        )
    return int(anticipation)


@dataclass(frozen=True, eq=False)
class _Long:
    """Observations of repeated cross-sections (or of an unbalanced panel), one per row."""

    periods: np.ndarray  # sorted period values, shape (T,)
    y: np.ndarray  # outcome per row, shape (m,)
    x: np.ndarray | None  # covariates per row, shape (m, p)
    time: np.ndarray  # period index per row, shape (m,)
    cohort: np.ndarray  # first treated period per row, 0 = never, shape (m,)
    weights: np.ndarray | None  # sampling weight per row, mean one, shape (m,)
    owner: np.ndarray  # observation unit per row (the row itself, or the panel unit), (m,)
    n_owners: int  # observation units: rows (repeated cross-sections) or panel units
    owner_cohort: np.ndarray  # cohort of each observation unit, shape (n_owners,)
    owner_weight: np.ndarray  # weight of each observation unit, shape (n_owners,)
    cluster: np.ndarray  # cluster code per observation unit, shape (n_owners,)
    n_clusters: int
    info: dict


def _check_weights(data: pd.DataFrame, weights: str) -> np.ndarray:
    """The weights column as floats divided by their mean (as R's did), or a clear message."""
    values = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
    problems = (
        (np.isnan(values), "missing or non-numeric"),
        (np.isinf(values), "infinite"),
        (values < 0, "negative"),
    )
    for bad, what in problems:
        if bad.any():
            count = int(bad.sum())
            raise ValueError(
                f"att_gt: the weights column {weights!r} has {count} {what} value"
                f"{'' if count == 1 else 's'}; sampling weights must be numbers >= 0 in "
                "every row."
            )
    if values.sum() <= 0:
        raise ValueError(
            f"att_gt: the weights column {weights!r} is zero in every row; at least one "
            "weight must be positive."
        )
    return values / values.mean()


def _recode_cohorts(cohort_values, periods, anticipation, time_name, what):
    """Late cohorts to never treated, early ones flagged, off-grid ones refused (as R's did)."""
    late = cohort_values > periods[-1] + anticipation
    cohort_values = np.where(late, NEVER_TREATED, cohort_values)
    treated = cohort_values != NEVER_TREATED
    early = treated & (cohort_values <= periods[0] + anticipation)
    odd = treated & ~early & ~np.isin(cohort_values, periods) & (cohort_values <= periods[-1])
    if odd.any():
        bad = np.unique(cohort_values[odd])[:5]
        raise ValueError(
            f"att_gt: cohort values must be periods of {time_name!r} (or 0/missing for never "
            f"treated); these are not: {', '.join(f'{v:g}' for v in bad)}."
        )
    if early.any():
        within = f" or within anticipation={anticipation} periods of it" if anticipation else ""
        warnings.warn(
            f"att_gt: dropped {int(early.sum())} {what} already treated in the first period "
            f"({periods[0]}){within}; they have no untreated base period.",
            stacklevel=4,
        )
    return cohort_values, early, int(late.sum())


def _prepare_long(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    covariates: Sequence[str],
    cluster: str | None,
    weights: str | None,
    panel: bool,
    anticipation: int = 0,
) -> _Long:
    """Rows of repeated cross-sections (``panel=False``: every row its own observation) or of
    an unbalanced panel (``panel=True``: rows of a unit share its id, cohort and weight)."""
    _require_columns(
        data,
        {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort, "cluster": cluster}
        | ({"weights": weights} if weights else {})
        | {f"covariate {i + 1}": c for i, c in enumerate(covariates)},
    )
    # repeated cross-sections do not use the id, so a respondent without one is kept
    _require_present(data, {"unit": unit, "time": time} if panel else {"time": time})
    info: dict[str, Any] = {}
    w_all = None if weights is None else _check_weights(data, weights)
    needed = data[[outcome, *covariates]].notna().all(axis=1).to_numpy()
    info["dropped_rows_missing"] = int(needed.size - needed.sum())
    time_values = data[time].to_numpy()
    periods = np.unique(time_values)
    if periods.size < 2:
        raise ValueError(f"att_gt: need at least two periods in {time!r}, got {periods.size}.")
    cohort_values = pd.to_numeric(data[cohort]).fillna(NEVER_TREATED).to_numpy(dtype=float)
    if panel:
        codes, labels = pd.factorize(data[unit], sort=False)
        key = codes.astype(np.int64) * periods.size + np.searchsorted(periods, time_values)
        if np.bincount(key).max(initial=0) > 1:
            raise ValueError(
                f"att_gt: each ({unit}, {time}) pair must appear once; the data have duplicates "
                "(for repeated cross-sections, with new respondents each period, use "
                "panel=False)."
            )
        _per_unit(cohort_values, codes, len(labels), f"cohort {cohort!r}", unit)
        if w_all is not None:
            _per_unit(w_all, codes, len(labels), f"weights {weights!r}", unit, _W_HINT)
    cohort_values, early, info["recoded_never"] = _recode_cohorts(
        cohort_values, periods, anticipation, time, f"{unit}s" if panel else "rows"
    )
    if panel:
        info["dropped_treated_first_period"] = int(np.unique(codes[early]).size)
    else:
        info["dropped_treated_first_period"] = int(early.sum())
    keep = needed & ~early
    if not keep.any():
        raise ValueError("att_gt: no observations left after dropping incomplete or early ones.")
    rows = np.flatnonzero(keep)
    sub = data.iloc[rows]
    if panel:
        owner, owner_labels = pd.factorize(codes[rows], sort=False)
        n_owners = owner_labels.size
        info["unbalanced_units"] = int(n_owners)
    else:
        owner = np.arange(rows.size)
        n_owners = rows.size
    cohort_rows = cohort_values[rows]
    w_rows = None if w_all is None else w_all[rows]
    owner_cohort = np.empty(n_owners)
    owner_cohort[owner] = cohort_rows
    owner_weight = np.ones(n_owners)
    if w_rows is not None:
        owner_weight[owner] = w_rows
    time_codes = np.searchsorted(periods, time_values[rows])
    if cluster is not None:
        cluster_codes, _ = pd.factorize(sub[cluster], sort=True)
        if (cluster_codes < 0).any():
            raise ValueError(f"att_gt: cluster column {cluster!r} has missing values.")
        first = np.full(n_owners, -1, dtype=np.int64)
        order = np.lexsort((time_codes, owner))
        leading = np.r_[True, owner[order][1:] != owner[order][:-1]]
        first[owner[order][leading]] = cluster_codes[order][leading]
        movers = np.unique(owner[first[owner] != cluster_codes]).size
        info["cluster_movers"] = movers
        if movers:
            warnings.warn(
                f"att_gt: {movers} units change {cluster!r} over time; each is assigned to "
                "its cluster in the first period it is observed.",
                stacklevel=3,
            )
        _, cluster_code = np.unique(first, return_inverse=True)
        n_clusters = int(cluster_code.max()) + 1
        info["cluster"] = cluster
    else:
        cluster_code = np.arange(n_owners)
        n_clusters = n_owners
    x = None
    if covariates:
        x = sub[list(covariates)].to_numpy(dtype=float)
    return _Long(
        periods=periods,
        y=sub[outcome].to_numpy(dtype=float),
        x=x,
        time=time_codes,
        cohort=cohort_rows,
        weights=w_rows,
        owner=owner,
        n_owners=int(n_owners),
        owner_cohort=owner_cohort,
        owner_weight=owner_weight,
        cluster=cluster_code,
        n_clusters=n_clusters,
        info=info,
    )


def _is_balanced(data: pd.DataFrame, *, outcome, unit, time, covariates) -> bool:
    """Whether every unit has a complete row in every period (R's did's balance test)."""
    needed = data[[outcome, *covariates]].notna().all(axis=1).to_numpy()
    units = data[unit].to_numpy()[needed]
    n_units = pd.unique(units).size
    n_periods = pd.unique(data[time].to_numpy()[needed]).size
    return units.size == n_units * n_periods
