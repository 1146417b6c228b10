"""Discipline (PP 94/2021): the sanction for unexcused absence, and who was sanctioned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from asn_eval.domain import regulations as reg
from asn_eval.indices._common import _as_series, _fmt, _numeric, _row

# "none" is the data contract's word for "no sanction" (performance.sanction_level).
SANCTION_LEVEL_DTYPE = pd.CategoricalDtype(["none", *reg.DISCIPLINE_LEVELS], ordered=True)
# PP 94/2021: this many consecutive days of unexcused absence also lead to dismissal.
DISMISSAL_CONSECUTIVE_DAYS = 10


@dataclass(frozen=True)
class Sanction:
    """PP 94/2021 sanction for one count of unexcused absence days."""

    absence_days: int
    sanction: str | None
    level: str


def _sanction_for(days: int, consecutive: int) -> tuple[str | None, str]:
    if consecutive >= DISMISSAL_CONSECUTIVE_DAYS:
        top = reg.DISCIPLINE_LADDER[0]
        return top[1], top[2]
    for lowest, sanction, level in reg.DISCIPLINE_LADDER:
        if days >= lowest:
            return sanction, level
    return None, "none"


def _whole_days(values: Any, column: str) -> tuple[pd.Series, pd.Series, bool]:
    series, scalar = _as_series(values, column)
    what = "days of absence must be whole numbers of at least 0"
    numbers = _numeric(series, column, scalar, what)
    bad = numbers.notna() & ((numbers < 0) | (numbers % 1 != 0))
    if bad.any():
        label = bad.idxmax()
        raise ValueError(f"{column} has {_fmt(series[label])}{_row(label, scalar)}; {what}")
    return series, numbers, scalar


def discipline_sanction(
    absence_days: Any, *, consecutive_days: Any = None
) -> Sanction | pd.DataFrame:
    """Disciplinary sanction for unexcused absence in a year (PP 94/2021).

    3 days teguran lisan, 4-6 teguran tertulis, 7-10 pernyataan tidak puas (ringan);
    11-13 / 14-16 / 17-20 days a 25% cut of tunjangan kinerja for 6 / 9 / 12 months
    (sedang); 21-24 demotion, 25-27 moved to jabatan pelaksana, 28 or more (or 10
    consecutive days) dismissal (berat). Fewer than 3 days: no sanction, level ``"none"``.
    The ladder is :data:`asn_eval.domain.regulations.DISCIPLINE_LADDER`.

    Parameters
    ----------
    absence_days
        Unexcused absence days in the year: a whole number or an array-like of them.
    consecutive_days
        Optional longest run of consecutive absence days (same shape); 10 or more means
        dismissal whatever the total.

    Returns
    -------
    Sanction or DataFrame
        A :class:`Sanction` for a scalar; otherwise a DataFrame on the input's index with
        ``absence_days``, ``sanction`` and ``level`` (ordered :data:`SANCTION_LEVEL_DTYPE`).
        Missing days give a missing sanction and level.

    Examples
    --------
    >>> discipline_sanction(5).level
    'ringan'
    """
    series, days, scalar = _whole_days(absence_days, "absence_days")
    if consecutive_days is None:
        runs = pd.Series(0.0, index=series.index)
    else:
        _, runs, _ = _whole_days(consecutive_days, "consecutive_days")
        if len(runs) != len(days):
            raise ValueError(
                f"consecutive_days has {len(runs)} values but absence_days has {len(days)}"
            )
        runs = pd.Series(runs.to_numpy(), index=series.index).fillna(0.0)
    results = [
        (None, None) if pd.isna(d) else _sanction_for(int(d), int(r))
        for d, r in zip(days.to_numpy(), runs.to_numpy(), strict=True)
    ]
    if scalar:
        sanction, level = results[0]
        if level is None:
            return Sanction(absence_days=days.iloc[0], sanction=None, level=None)
        return Sanction(absence_days=int(days.iloc[0]), sanction=sanction, level=level)
    return pd.DataFrame(
        {
            "absence_days": days.astype("Int64"),
            "sanction": pd.Series([s for s, _ in results], index=series.index, dtype=object),
            "level": pd.Series(
                [lev for _, lev in results], index=series.index, dtype=SANCTION_LEVEL_DTYPE
            ),
        },
        index=series.index,
    )


def sanctioned(level: Any) -> pd.Series:
    """Whether each employee-year carries a disciplinary sanction of any level (PP 94/2021).

    ``"ringan"``, ``"sedang"`` or ``"berat"`` count; ``"none"`` does not. A missing level is
    counted as no sanction: the performance table records sanctions that were imposed, so
    an empty cell means none was (the data contract's reading).

    Examples
    --------
    >>> sanctioned(["none", "ringan", None, "berat"]).tolist()
    [False, True, False, True]
    """
    series, scalar = _as_series(level, "sanction_level")
    text = series.astype(object)
    bad = text.notna() & ~text.isin(list(SANCTION_LEVEL_DTYPE.categories))
    if bad.any():
        label = bad.idxmax()
        allowed = ", ".join(repr(c) for c in SANCTION_LEVEL_DTYPE.categories)
        raise ValueError(
            f"sanction_level has {_fmt(series[label])}{_row(label, scalar)}; "
            f"expected one of {allowed}"
        )
    return text.fillna("none").ne("none").rename("sanctioned")
