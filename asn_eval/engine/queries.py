"""The employee-level aggregation as one SQL statement that DuckDB and Spark SQL both run.

:func:`agency_year_statistics_sql` writes the query; a backend (:mod:`asn_eval.engine.backends`)
runs it over views named like the data contract's tables. The query never builds the
employee-year panel in Python: the engine streams ``performance`` and ``training`` and returns
one row per agency and year with, for each outcome, the count of non-missing values, their sum
and their sum of squares. Means, shares and variances follow from those three numbers
(:func:`agency_year_means`), and so do pooled statistics over any grouping of agencies.

The outcome definitions are those of :mod:`asn_eval.indices`, written in SQL:

* ``skp_good`` (:func:`asn_eval.indices.skp_good`): the predicate decides when present (one of
  :data:`asn_eval.domain.regulations.SKP_GOOD_PREDICATES`); without one, a PP 46/2011 final score at
  or above the Baik band's lower edge counts; missing both gives NULL.
* ``sanctioned`` (:func:`asn_eval.indices.sanctioned`): any level but the contract's "none";
  a missing level is no sanction.
* ``jp`` (:func:`asn_eval.indices.jp_by_employee_year`): JP summed per employee and calendar
  year of the course date, 0 for an employee-year without a course.
* ``meets_jp_minimum`` (:func:`asn_eval.indices.meets_jp_minimum`): ``jp`` at least
  :data:`asn_eval.domain.regulations.JP_MINIMUM_PER_YEAR`.

Engine-neutral means: no identifier quoting (DuckDB quotes with ``"``, Spark with a backtick),
numbers cast to DOUBLE before they are summed (Spark reads ``1.0`` as a DECIMAL), no string
literal that needs escaping (the two engines escape quotes differently, so such a literal is
refused), and NaN read as missing (pandas' reading; both engines have ``isnan``).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable

import pandas as pd

from asn_eval.data.contract import SANCTION_LEVELS
from asn_eval.domain import regulations as reg

# Outcomes of the employee-year panel that the query summarises, in output order.
OUTCOMES: tuple[str, ...] = ("skp_good", "absence_days", "sanctioned", "jp", "meets_jp_minimum")
STATISTICS: tuple[str, ...] = ("n", "sum", "sumsq")
KEYS: tuple[str, ...] = ("agency_code", "year")
COLUMNS: tuple[str, ...] = (
    *KEYS,
    "n_employees",
    *(f"{stat}_{outcome}" for outcome in OUTCOMES for stat in STATISTICS),
)

# The data contract's word for "no sanction" (performance.sanction_level): the one level of
# the contract that is not a PP 94/2021 discipline level.
(_NO_SANCTION,) = tuple(level for level in SANCTION_LEVELS if level not in reg.DISCIPLINE_LEVELS)

# PP 46/2011: the lowest final score whose band is "Baik or better" (the Baik band, 76).
_GOOD_SCORE = min(low for low, label in reg.PP46_BANDS if label in reg.SKP_GOOD_PREDICATES)

# Text a literal may hold: what both engines read the same way between single quotes.
_SAFE_TEXT = re.compile(r"[A-Za-z0-9 /_.,()-]*")


def _text(value: str) -> str:
    """A string literal both engines read alike; anything else is refused, not escaped."""
    if not isinstance(value, str) or not _SAFE_TEXT.fullmatch(value):
        raise ValueError(
            f"{value!r} cannot be written into the query: a text constant may hold letters, "
            "digits, spaces and / _ . , ( ) - only (DuckDB and Spark escape quotes and "
            "backslashes differently)"
        )
    return f"'{value}'"


def _number(value: float) -> str:
    """A finite number as a DOUBLE literal (a bare ``76.0`` is a DECIMAL in Spark)."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} cannot be written into the query: it must be a finite number")
    return f"CAST({number!r} AS DOUBLE)"


def _years(years: Iterable[int]) -> str:
    try:
        values = sorted({operator.index(year) for year in years})
    except TypeError:
        raise ValueError(
            f"years must be whole numbers (calendar years), got {list(years)!r}"
        ) from None
    if not values:
        raise ValueError("years is empty: give at least one calendar year to aggregate")
    return ", ".join(str(int(year)) for year in values)


def _double(column: str) -> str:
    """``column`` as DOUBLE with NaN read as missing (pandas' reading of NaN)."""
    return f"CASE WHEN isnan(CAST({column} AS DOUBLE)) THEN NULL ELSE CAST({column} AS DOUBLE) END"


def agency_year_statistics_sql(
    years: Iterable[int],
    *,
    good_predicates: Iterable[str] = reg.SKP_GOOD_PREDICATES,
    good_score: float = _GOOD_SCORE,
    jp_minimum: float = reg.JP_MINIMUM_PER_YEAR,
) -> str:
    """SQL for the agency-year sufficient statistics of the employee-year outcomes.

    The statement reads two views, ``performance`` (``employee_id, agency_code, year,
    skp_predicate, skp_score, absence_days, sanction_level``) and ``training``
    (``employee_id, date, jp``), as :func:`asn_eval.data.load_dataset` names their columns,
    and runs unchanged on DuckDB and Spark SQL.

    Parameters
    ----------
    years
        Calendar years to aggregate (whole numbers); performance rows of other years are
        left out, and so are courses dated in other years.
    good_predicates
        SKP predicates counted as "Baik or better"; defaults to
        :data:`asn_eval.domain.regulations.SKP_GOOD_PREDICATES` (PermenPANRB 6/2022).
    good_score
        Lowest PP 46/2011 final score counted as "Baik or better" when the predicate is
        missing; defaults to the lower edge of the Baik band in
        :data:`asn_eval.domain.regulations.PP46_BANDS` (76).
    jp_minimum
        JP per year that meets the minimum; defaults to
        :data:`asn_eval.domain.regulations.JP_MINIMUM_PER_YEAR` (20 JP, PP 17/2020).

    Returns
    -------
    str
        One ``SELECT`` giving a row per ``agency_code`` and ``year`` with ``n_employees``
        (performance rows) and, per outcome in :data:`OUTCOMES`, ``n_<outcome>`` (non-missing
        values), ``sum_<outcome>`` and ``sumsq_<outcome>`` (sum of squares). Rows come in no
        particular order; :func:`asn_eval.engine.agency_year_statistics` sorts them.

    Raises
    ------
    ValueError
        When ``years`` is empty or not whole numbers, or a constant cannot be written as a
        literal both engines read alike.

    Examples
    --------
    >>> sql = agency_year_statistics_sql([2024, 2025])
    >>> "WHERE year IN (2024, 2025)" in sql
    True
    """
    year_list = _years(years)
    predicates = ", ".join(_text(p) for p in sorted(good_predicates))
    if not predicates:
        raise ValueError("good_predicates is empty: name at least one SKP predicate")
    score = _number(good_score)
    minimum = _number(jp_minimum)
    no_sanction = _text(_NO_SANCTION)

    def summary(outcome: str) -> str:
        return (
            f"    COUNT({outcome}) AS n_{outcome},\n"
            f"    SUM({outcome}) AS sum_{outcome},\n"
            f"    SUM({outcome} * {outcome}) AS sumsq_{outcome}"
        )

    summaries = ",\n".join(summary(outcome) for outcome in OUTCOMES)
    return f"""\
-- Agency-year sufficient statistics of the employee-year outcomes (asn_eval.engine).
-- Plain SQL that DuckDB and Spark SQL both accept: unquoted names, DOUBLE arithmetic.
WITH employee_year AS (
    -- One row per employee and year of the performance table, in the years covered.
    SELECT
        employee_id,
        agency_code,
        CAST(year AS BIGINT) AS year,
        skp_predicate,
        {_double("skp_score")} AS skp_score,
        {_double("absence_days")} AS absence_days,
        sanction_level
    FROM performance
    WHERE year IN ({year_list}) AND agency_code IS NOT NULL
),
course AS (
    -- Each course in the calendar year of its date (indices.jp_by_employee_year).
    SELECT employee_id, CAST(year(date) AS BIGINT) AS year, {_double("jp")} AS jp
    FROM training
    WHERE year(date) IN ({year_list})
),
training_year AS (
    -- JP per employee and year, only employee-years with a course.
    SELECT employee_id, year, SUM(jp) AS jp
    FROM course
    GROUP BY employee_id, year
),
outcome AS (
    -- The outcomes of the employee-year panel, one row per performance row.
    SELECT
        e.agency_code,
        e.year,
        -- indices.skp_good: the predicate decides when present, else the PP 46/2011 score.
        CASE
            WHEN e.skp_predicate IS NOT NULL THEN
                CASE WHEN e.skp_predicate IN ({predicates})
                    THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END
            WHEN e.skp_score IS NOT NULL THEN
                CASE WHEN e.skp_score >= {score}
                    THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END
        END AS skp_good,
        e.absence_days,
        -- indices.sanctioned: a missing level is no sanction.
        CASE WHEN e.sanction_level IS NULL OR e.sanction_level = {no_sanction}
            THEN CAST(0 AS DOUBLE) ELSE CAST(1 AS DOUBLE) END AS sanctioned,
        -- No course that year is 0 JP; JP of a year whose courses lack hours is 0 too.
        COALESCE(t.jp, CAST(0 AS DOUBLE)) AS jp,
        -- indices.meets_jp_minimum.
        CASE WHEN COALESCE(t.jp, CAST(0 AS DOUBLE)) >= {minimum}
            THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END AS meets_jp_minimum
    FROM employee_year AS e
    LEFT JOIN training_year AS t
        ON t.employee_id = e.employee_id AND t.year = e.year
)
SELECT
    agency_code,
    year,
    COUNT(*) AS n_employees,
{summaries}
FROM outcome
GROUP BY agency_code, year
"""


def agency_year_means(statistics: pd.DataFrame) -> pd.DataFrame:
    """The agency-year outcome columns of :func:`asn_eval.analysis.panels.agency_year_panel`.

    Parameters
    ----------
    statistics
        Sufficient statistics as returned by :func:`asn_eval.engine.agency_year_statistics`.

    Returns
    -------
    DataFrame
        ``agency_code, year, n_employees, skp_good_share, n_skp`` (employees with an SKP
        outcome), ``absence_mean, sanction_share, jp_mean, jp_minimum_share``: each mean is
        ``sum / n`` over the non-missing values, NaN when there are none.

    Examples
    --------
    >>> stats = pd.DataFrame({"agency_code": ["A"], "year": [2024], "n_employees": [4],
    ...     **{f"{s}_{o}": [4 if s == "n" else 2.0] for o in OUTCOMES for s in STATISTICS}})
    >>> agency_year_means(stats)["skp_good_share"].tolist()
    [0.5]
    """
    means = {
        "skp_good_share": "skp_good",
        "absence_mean": "absence_days",
        "sanction_share": "sanctioned",
        "jp_mean": "jp",
        "jp_minimum_share": "meets_jp_minimum",
    }
    out = statistics[[*KEYS, "n_employees"]].copy()
    for column, outcome in means.items():
        n = statistics[f"n_{outcome}"].astype(float)
        out[column] = statistics[f"sum_{outcome}"] / n.where(n > 0)
        if outcome == "skp_good":
            out["n_skp"] = statistics["n_skp_good"].astype(int)
    return out.reset_index(drop=True)


def employee_year_jp_sql(years: Iterable[int]) -> str:
    """SQL for the JP per employee and calendar year of the course date.

    The ``training`` view summed as :func:`asn_eval.indices.jp_by_employee_year` sums it
    (courses without hours add nothing; only employee-years with a course appear), for the
    courses dated in ``years``. Columns ``employee_id, year, jp``, ordered by employee and
    year.

    Examples
    --------
    >>> "GROUP BY employee_id, year(date)" in employee_year_jp_sql([2025])
    True
    """
    year_list = _years(years)
    return f"""\
-- JP per employee and calendar year of the course date (asn_eval.engine).
SELECT
    employee_id,
    CAST(year(date) AS BIGINT) AS year,
    COALESCE(SUM({_double("jp")}), CAST(0 AS DOUBLE)) AS jp
FROM training
WHERE year(date) IN ({year_list})
GROUP BY employee_id, year(date)
ORDER BY employee_id, year
"""
