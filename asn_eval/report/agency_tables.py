"""Per-agency tables that stay readable from one city to a province.

A city has some 40 agencies and a table with one row per agency fits a page; a province has
a thousand, and one row per agency fills fifty pages that nobody reads. Above
:data:`MANY_AGENCIES` agencies the chapters show, per type of agency, how the agencies are
spread (:func:`agency_distribution`) instead of one row per agency; below it, one row per
agency in natural order (:func:`sort_naturally`: "Wilayah 2" before "Wilayah 10").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

__all__ = ["MANY_AGENCIES", "agency_distribution", "natural_key", "sort_naturally"]

# Above this many agencies a per-agency table no longer fits a few pages: show distributions
# by agency type instead (about two pages of a one-row-per-agency table).
MANY_AGENCIES = 60

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: object) -> tuple:
    """Sort key that orders the numbers inside a name by value: "Wilayah 2" < "Wilayah 10".

    >>> sorted(["Wilayah 10", "Wilayah 2", "Wilayah 1"], key=natural_key)
    ['Wilayah 1', 'Wilayah 2', 'Wilayah 10']
    """
    # Case kept: names without numbers keep the plain text order the tables had.
    parts = _DIGITS.split(str(text))
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts)


def sort_naturally(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame`` with its rows in the natural order of ``column`` (stable, index reset)."""
    order = sorted(range(len(frame)), key=lambda i: natural_key(frame[column].iloc[i]))
    return frame.iloc[order].reset_index(drop=True)


def agency_distribution(
    per_agency: pd.DataFrame,
    *,
    group: str,
    spread: Sequence[str] = (),
    medians: Sequence[str] = (),
    total: str | None = None,
) -> pd.DataFrame:
    """One row per group of agencies: how many, and how a per-agency statistic is spread.

    Parameters
    ----------
    per_agency
        One row per agency. Suppressed cells (a text mark) count as missing.
    group
        Column to group agencies by (e.g. ``"agency_type"``); groups in natural order.
    spread
        Columns shown as the 10th percentile, median and 90th percentile across the agencies
        of a group: ``<column>_p10``, ``<column>_median``, ``<column>_p90``.
    medians
        Columns shown as the median across the agencies of a group (same name).
    total
        A count column (e.g. employees) also summed over the group, as ``<total>_total``.

    Returns
    -------
    DataFrame
        ``group``, ``agencies`` and the columns above.
    """
    numeric = per_agency[[group]].copy()
    for column in dict.fromkeys([*spread, *medians, *([total] if total else [])]):
        numeric[column] = pd.to_numeric(per_agency[column], errors="coerce")
    grouped = numeric.groupby(group, observed=True, sort=False)
    out = pd.DataFrame({"agencies": grouped.size()})
    if total:
        out[f"{total}_total"] = grouped[total].sum()
    for column in spread:
        out[f"{column}_p10"] = grouped[column].quantile(0.1)
        out[f"{column}_median"] = grouped[column].median()
        out[f"{column}_p90"] = grouped[column].quantile(0.9)
    for column in medians:
        out[column] = grouped[column].median()
    out = out.reset_index()
    return sort_naturally(out, group)
