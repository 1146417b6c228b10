"""The subgroups the report compares employees by, and the policy and outcome it compares them on.

Chapter 4 (challenges) asks whether the policy whose uptake depends on each employee
(:data:`RESISTANCE_POLICY`, the source article's example of resistance to change) works
differently by age, education and position; the synthetic generator plants its true effects
on the same groups, so both read them from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# The policy whose uptake depends on each employee, and the outcome its subgroups are
# compared on.
RESISTANCE_POLICY = "digitalisation"
HETEROGENEITY_OUTCOME = "skp_good"

# Age bands for the heterogeneity and adoption analyses: a project choice (ASN enter at 18 and
# most retire at 58 or 60), wide enough that each band holds many employees per agency.
AGE_BAND_EDGES: tuple[int, ...] = (0, 30, 40, 50, 200)
AGE_BAND_LABELS: tuple[str, ...] = ("<30", "30-39", "40-49", "50+")

# Education levels grouped so that each group holds enough employees per agency.
EDUCATION_GROUPS: dict[str, str] = {
    "SD": "SMA-",
    "SMP": "SMA-",
    "SMA": "SMA-",
    "D1": "D1-D3",
    "D2": "D1-D3",
    "D3": "D1-D3",
    "D4": "D4/S1",
    "S1": "D4/S1",
    "S2": "S2/S3",
    "S3": "S2/S3",
}
EDUCATION_ORDER: tuple[str, ...] = ("SMA-", "D1-D3", "D4/S1", "S2/S3")


def age_band(age: pd.Series | Sequence[float]) -> pd.Series:
    """Ordered age band of each age in years (``<30``, ``30-39``, ``40-49``, ``50+``).

    Examples
    --------
    >>> list(age_band([29, 30, 49.5, 61]))
    ['<30', '30-39', '40-49', '50+']
    """
    ages = pd.Series(age, dtype=float)
    return pd.cut(
        ages,
        bins=list(AGE_BAND_EDGES),
        labels=list(AGE_BAND_LABELS),
        right=False,
        ordered=True,
    )


def age_band_at(birth_date, at) -> pd.Series:
    """Age band (:func:`age_band`) in completed years at a date.

    Parameters
    ----------
    birth_date
        Birth dates (Series or array-like of dates).
    at
        The date at which age is taken: one date, or one per birth date.

    Returns
    -------
    pandas.Series
        Ordered categorical, with the index of ``birth_date`` when it is a Series.

    Examples
    --------
    >>> births = pd.Series(pd.to_datetime(["1990-06-15", "1990-06-16", "1974-01-01"]))
    >>> list(age_band_at(births, at="2020-06-15"))
    ['30-39', '<30', '40-49']
    """
    born = pd.Series(pd.to_datetime(birth_date))
    index = birth_date.index if isinstance(birth_date, pd.Series) else born.index
    born.index = index
    when = (
        pd.Series(pd.to_datetime(at), index=index)
        if np.ndim(at) == 0
        else pd.Series(pd.to_datetime(np.asarray(at)), index=index)
    )
    before_birthday = (when.dt.month * 100 + when.dt.day) < (born.dt.month * 100 + born.dt.day)
    age = when.dt.year - born.dt.year - before_birthday.astype(int)
    bands = age_band(age.astype(float))
    bands.index = index
    return bands
