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


# What became of each employee (or adoption record) in the adoption curves, as
# asn_eval.estimators.adoption.adoption_curves sorts them: at risk from the agency's
# digitalisation start, or left out for the reason named.
ADOPTION_STATUSES: tuple[str, ...] = (
    "at_risk",
    "not_digitalised",  # the agency had not digitalised by the data date (or has no date)
    "left_before",  # left service before the agency's start
    "no_birth_date",  # at risk, but no age band (grouping by age band only)
    "no_record",  # an employee without a row in digital_adoption
    "orphan",  # a digital_adoption row of no known employee
)
ADOPTION_COUNT_COLUMNS: tuple[str, ...] = ("status", "grp", "days", "adopted", "early", "n")


def _day_number(column: str) -> str:
    """Days from a fixed origin to the date of ``column`` (proleptic Gregorian calendar).

    Written with ``year``, ``month``, ``day`` and FLOOR of a DOUBLE division, which DuckDB and
    Spark read alike (their own day-difference functions take their arguments in opposite
    orders). The March-based year puts the leap day last, so the count of days before each
    month is ``floor((153 * m + 2) / 5)`` (m = 0 for March).
    """
    y = f"(year({column}) - CASE WHEN month({column}) <= 2 THEN 1 ELSE 0 END)"
    m = f"((month({column}) + 9) % 12)"

    def floor(numerator: str, denominator: int) -> str:
        return f"FLOOR(CAST({numerator} AS DOUBLE) / {denominator})"

    return (
        f"CAST(365 * {y} + {floor(y, 4)} - {floor(y, 100)} + {floor(y, 400)} "
        f"+ {floor(f'153 * {m} + 2', 5)} + day({column}) AS BIGINT)"
    )


def _timestamp(value) -> str:
    """A date or time as a TIMESTAMP literal both engines read (``YYYY-MM-DD HH:MM:SS``)."""
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise ValueError(f"{value!r} cannot be written into the query: it must be a date")
    return f"CAST('{stamp:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP)"


def adoption_counts_sql(as_of, *, by: str | None = "age_band") -> str:
    """SQL for the grouped inputs of the adoption curves: employees per group, day and status.

    The Kaplan-Meier curves of :func:`asn_eval.estimators.adoption.adoption_curves` depend on
    the employees only through how many share each group, duration and event status; this
    query counts them, with the clock of ``adoption_curves`` (the later of the agency's
    ``digitalisation`` start and the employee's ``service_start``, stopped at the first use or,
    censored, at the earlier of ``as_of`` and ``service_end``) and its reasons for leaving an
    employee out. It reads three views: ``employees`` (``employee_id, agency_code,
    birth_date, service_start, service_end`` and the ``by`` column), ``digital_adoption``
    (``employee_id, first_use``) and ``policies`` (``agency_code, digitalisation``, one row
    per agency). Dates are calendar days, as the data contract has them.

    Parameters
    ----------
    as_of
        End of follow-up (the data date).
    by
        ``"age_band"`` (age in completed years at the start of the clock, the position of its
        band in :data:`asn_eval.domain.subgroups.AGE_BAND_LABELS`), another column of
        ``employees`` (its value as text), or ``None`` (one group).

    Returns
    -------
    str
        One ``SELECT`` with the columns of :data:`ADOPTION_COUNT_COLUMNS`: ``status`` (one of
        :data:`ADOPTION_STATUSES`), ``grp``, ``days`` (from the start of the clock to the first
        use or censoring; negative for a first use before the start), ``adopted`` and
        ``early`` (first use before the start) as 0/1, and ``n`` employees. ``grp``, ``days``,
        ``adopted`` and ``early`` are NULL for the statuses that are not at risk (``early`` is
        kept for ``no_birth_date``, which ``adoption_curves`` counts there too).

    Examples
    --------
    >>> "FULL OUTER JOIN digital_adoption" in adoption_counts_sql("2025-12-31")
    True
    """
    from asn_eval.domain.subgroups import AGE_BAND_EDGES

    as_of_sql = _timestamp(as_of)
    if by == "age_band":
        group = "CAST(NULL AS BIGINT)"
    elif by is None:
        group = "CAST(0 AS BIGINT)"
    else:
        if not isinstance(by, str) or not by.isidentifier():
            raise ValueError(f"{by!r} is not a column name: use letters, digits and _ only")
        group = f"CAST(e.{by} AS STRING)"
    bands = " ".join(
        f"WHEN age >= {low} AND age < {high} THEN {i}"
        for i, (low, high) in enumerate(zip(AGE_BAND_EDGES[:-1], AGE_BAND_EDGES[1:], strict=True))
    )
    band = f"CASE {bands} END" if by == "age_band" else "grp"
    no_birth = "band IS NULL" if by == "age_band" else "FALSE"
    return f"""\
-- Employees per group, duration and status for the adoption curves (asn_eval.engine).
WITH staff AS (
    SELECT
        e.employee_id,
        e.birth_date,
        e.service_start,
        e.service_end,
        {group} AS grp,
        p.digitalisation AS start
    FROM employees AS e
    LEFT JOIN policies AS p ON p.agency_code = e.agency_code
),
linked AS (
    SELECT
        s.*,
        u.first_use,
        CASE
            WHEN s.employee_id IS NULL THEN 'orphan'
            WHEN u.employee_id IS NULL THEN 'no_record'
        END AS unlinked
    FROM staff AS s
    FULL OUTER JOIN digital_adoption AS u ON u.employee_id = s.employee_id
),
clock AS (
    -- The clock starts at the later of the agency's start and the service start and ends,
    -- censored, at the earlier of the data date and the service end.
    SELECT
        grp,
        birth_date,
        first_use,
        start,
        unlinked,
        CASE WHEN service_start IS NULL OR start >= service_start
            THEN start ELSE service_start END AS origin,
        CASE WHEN service_end IS NOT NULL AND service_end < {as_of_sql}
            THEN service_end ELSE {as_of_sql} END AS stop_end
    FROM linked
),
stopped AS (
    SELECT
        *,
        CASE
            WHEN unlinked IS NOT NULL THEN unlinked
            WHEN start IS NULL OR start > {as_of_sql} THEN 'not_digitalised'
            WHEN stop_end < origin THEN 'left_before'
            ELSE 'at_risk'
        END AS kept,
        CASE WHEN first_use IS NOT NULL AND first_use <= stop_end THEN 1 ELSE 0 END AS adopted
    FROM clock
),
timed AS (
    SELECT
        *,
        CASE WHEN adopted = 1 THEN first_use ELSE stop_end END AS stop,
        CASE WHEN adopted = 1 AND first_use < origin THEN 1 ELSE 0 END AS early,
        -- Age in completed years at the start of the clock (subgroups.age_band_at).
        year(origin) - year(birth_date)
            - CASE WHEN month(origin) * 100 + day(origin)
                < month(birth_date) * 100 + day(birth_date) THEN 1 ELSE 0 END AS age
    FROM stopped
),
banded AS (
    SELECT *, {band} AS band FROM timed
),
classified AS (
    SELECT
        CASE WHEN kept = 'at_risk' AND {no_birth} THEN 'no_birth_date' ELSE kept END AS status,
        band AS grp,
        {_day_number("stop")} - {_day_number("origin")} AS days,
        adopted,
        early
    FROM banded
)
SELECT
    status,
    CASE WHEN status = 'at_risk' THEN grp END AS grp,
    CASE WHEN status = 'at_risk' THEN days END AS days,
    CASE WHEN status = 'at_risk' THEN adopted END AS adopted,
    CASE WHEN status IN ('at_risk', 'no_birth_date') THEN early END AS early,
    COUNT(*) AS n
FROM classified
GROUP BY 1, 2, 3, 4, 5
"""


# Outcomes of the employee-year panel that the dose-response moments can take.
DOSE_OUTCOMES: tuple[str, ...] = ("skp_good", "absence_days", "sanctioned")


def dose_terms(bins: Iterable[float], threshold: float, years: Iterable[int]) -> dict[str, list]:
    """Names of the columns of :func:`dose_moments_sql`: ``y``, then the regressors.

    ``bin<j>`` is the j-th hour bin above ``0 JP`` (as :func:`asn_eval.estimators.dose.
    hour_bin_labels`), ``hours`` the JP, ``above<i>`` the JP above the i-th candidate knot
    (the bin edges above 0 and the threshold, sorted), ``step`` 1 from the threshold on and
    ``year<yyyy>`` the dummy of each year.
    """
    edges = [float(b) for b in bins]
    knots = sorted(set(edges[1:]) | {float(threshold)})
    return {
        "bins": [f"bin{j}" for j in range(1, len(edges) + 1)],
        "knots": knots,
        "spline": ["hours", *(f"above{i}" for i in range(len(knots))), "step"],
        "years": [f"year{int(y)}" for y in sorted({operator.index(y) for y in years})],
    }


def dose_moments_sql(
    years: Iterable[int],
    *,
    outcome: str = "skp_good",
    bins: Iterable[float] = (0, 10, 20, 40, 80),
    threshold: float = reg.JP_MINIMUM_PER_YEAR,
    good_predicates: Iterable[str] = reg.SKP_GOOD_PREDICATES,
    good_score: float = _GOOD_SCORE,
) -> str:
    """SQL for the sufficient statistics of the TWFE dose-response, per agency.

    :func:`asn_eval.estimators.dose.dose_response` regresses an employee-year outcome on
    training-hour bins (and on a piecewise-linear function of hours with a step at the
    threshold) with employee and year fixed effects, clustered by agency. By the
    Frisch-Waugh-Lovell theorem its estimates and CRV1 standard errors depend on the rows
    only through, per agency, the cross-products of the outcome, the regressors and the year
    dummies after each is demeaned within employee (the employee fixed effect removed
    exactly; the year effects are then partialled out of these sums); the employee mean is
    taken over all the employee's rows, whichever agency each is in. This query computes
    them with the panel of :func:`asn_eval.analysis.panels.employee_year_panel`: performance
    rows of ``years`` with an agency and a non-missing ``outcome``, JP of the calendar year
    (0 without a course).

    Returns
    -------
    str
        One ``SELECT`` with a row per ``agency_code``: ``n`` rows, ``m_<a>__<b>`` (sum of the
        product of demeaned columns ``a`` and ``b`` of :func:`dose_terms`, ``a`` before ``b``),
        ``s_<a>`` and ``ss_<a>`` (sum and sum of squares of the raw regressor), and the
        panel-wide ``n_units`` (employees), ``n_times`` (years), ``split_units`` (employees in
        more than one agency), ``max_clusters_per_year``, ``jp_min`` and ``jp_max``.

    Examples
    --------
    >>> "PARTITION BY employee_id" in dose_moments_sql([2024, 2025])
    True
    """
    if outcome not in DOSE_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(DOSE_OUTCOMES)}; got {outcome!r}")
    year_list = _years(years)
    terms = dose_terms(bins, threshold, [int(y) for y in year_list.split(", ")])
    edges = [float(b) for b in bins]
    statistics = agency_year_statistics_sql(
        years, good_predicates=good_predicates, good_score=good_score
    )
    # The employee-year outcomes of the agency-year query, one row each, before its GROUP BY.
    body = statistics[: statistics.rindex("SELECT\n    agency_code,")].rstrip()
    body = body.replace(
        "    SELECT\n        e.agency_code,",
        "    SELECT\n        e.employee_id,\n        e.agency_code,",
        1,
    )
    zero, one = "CAST(0 AS DOUBLE)", "CAST(1 AS DOUBLE)"

    def flag(condition: str) -> str:
        return f"CASE WHEN {condition} THEN {one} ELSE {zero} END"

    upper = [_number(e) for e in edges[1:]]
    columns = {"y": outcome}
    for j, name in enumerate(terms["bins"], start=1):
        if j == 1:
            columns[name] = flag(f"jp > {zero} AND jp < {upper[0]}")
        elif j <= len(upper):
            columns[name] = flag(f"jp >= {upper[j - 2]} AND jp < {upper[j - 1]}")
        else:
            columns[name] = flag(f"jp >= {upper[-1]}")
    columns["hours"] = "jp"
    for i, knot in enumerate(terms["knots"]):
        k = _number(knot)
        columns[f"above{i}"] = f"CASE WHEN jp > {k} THEN jp - {k} ELSE {zero} END"
    columns["step"] = flag(f"jp >= {_number(threshold)}")
    for name in terms["years"]:
        columns[name] = flag(f"year = {int(name[4:])}")
    names = list(columns)
    regressors = names[1:]
    raw = ",\n        ".join(f"{expr} AS {name}" for name, expr in columns.items())
    within = ",\n        ".join(
        f"{name} - AVG({name}) OVER (PARTITION BY employee_id) AS {name}" for name in names
    )
    kept = ",\n        ".join(f"{name} AS r_{name}" for name in regressors)
    products = ",\n    ".join(
        f"SUM({a} * {b}) AS m_{a}__{b}" for i, a in enumerate(names) for b in names[i:]
    )
    raw_sums = ",\n    ".join(
        f"SUM(r_{a}) AS s_{a},\n    SUM(r_{a} * r_{a}) AS ss_{a}" for a in regressors
    )
    return f"""\
-- Per-agency sufficient statistics of the TWFE dose-response (asn_eval.engine).
{body},
panel AS (
    SELECT employee_id, agency_code, year, {outcome}, jp
    FROM outcome
    WHERE {outcome} IS NOT NULL
),
terms AS (
    SELECT
        employee_id,
        agency_code,
        {raw}
    FROM panel
),
demeaned AS (
    -- The employee fixed effect removed: each column minus the employee's mean.
    SELECT
        agency_code,
        {within},
        {kept}
    FROM terms
),
by_agency AS (
    SELECT
    agency_code,
    COUNT(*) AS n,
    {products},
    {raw_sums}
    FROM demeaned
    GROUP BY agency_code
),
split AS (
    SELECT employee_id FROM panel GROUP BY employee_id HAVING COUNT(DISTINCT agency_code) > 1
),
per_year AS (
    SELECT year, COUNT(DISTINCT agency_code) AS clusters FROM panel GROUP BY year
),
scalars AS (
    SELECT
        (SELECT COUNT(DISTINCT employee_id) FROM panel) AS n_units,
        (SELECT COUNT(DISTINCT year) FROM panel) AS n_times,
        (SELECT COUNT(*) FROM split) AS split_units,
        (SELECT MAX(clusters) FROM per_year) AS max_clusters_per_year,
        (SELECT MIN(jp) FROM panel) AS jp_min,
        (SELECT MAX(jp) FROM panel) AS jp_max
)
SELECT by_agency.*, scalars.*
FROM by_agency CROSS JOIN scalars
"""


SUBGROUP_CELL_COLUMNS: tuple[str, ...] = (
    "age_band",
    "education_group",
    "position_type",
    "cluster",
    "cohort",
    "year",
    "n_years",
    "n",
    "sum_y",
    "n_employees",
    "n_agencies",
)


def subgroup_cells_sql(
    years: Iterable[int],
    *,
    outcome: str = "skp_good",
    age_at,
    education_groups: dict[str, str],
    good_predicates: Iterable[str] = reg.SKP_GOOD_PREDICATES,
    good_score: float = _GOOD_SCORE,
) -> str:
    """SQL for the cell sums behind the subgroup effects of chapter 4.

    Without covariates, Callaway and Sant'Anna's ATT(g, t) on a balanced panel and its
    influence function depend on the employees only through, per cluster, cohort and year,
    the number of employees and the sum of their outcome: the cells this query returns.
    The panel is that of :func:`asn_eval.analysis.challenges.heterogeneity_panel`: the
    performance rows of ``years`` with an agency, each employee in the cohort of the agency
    of his or her first row (view ``cohorts``: ``agency_code, cohort``, 0 = never; agencies
    missing from it count as never; ``-1``, dates unknown, is left out), rows with a missing
    ``outcome`` left out after that. The subgroups are fixed per employee: the age band in
    completed years at ``age_at`` (its position in
    :data:`asn_eval.domain.subgroups.AGE_BAND_LABELS`), ``education_groups`` of the
    ``education`` and the ``position_type`` (view ``employees``).

    Returns
    -------
    str
        One ``SELECT`` with the columns of :data:`SUBGROUP_CELL_COLUMNS`: the three subgroups,
        ``cluster`` (the agency of the employee's first row with an outcome), ``cohort``,
        ``year``, ``n_years`` (years with an outcome of the employees of the cell: a balanced
        employee has them all), ``n`` and ``sum_y``, and the panel-wide ``n_employees`` and
        ``n_agencies``.

    Examples
    --------
    >>> "ROW_NUMBER() OVER" in subgroup_cells_sql([2024], age_at="2024-01-01",
    ...                                           education_groups={"S1": "D4/S1"})
    True
    """
    from asn_eval.domain.subgroups import AGE_BAND_EDGES

    if outcome not in DOSE_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(DOSE_OUTCOMES)}; got {outcome!r}")
    at = pd.Timestamp(age_at)
    statistics = agency_year_statistics_sql(
        years, good_predicates=good_predicates, good_score=good_score
    )
    body = statistics[: statistics.rindex("SELECT\n    agency_code,")].rstrip()
    body = body.replace(
        "    SELECT\n        e.agency_code,",
        "    SELECT\n        e.employee_id,\n        e.agency_code,",
        1,
    )
    bands = " ".join(
        f"WHEN age >= {low} AND age < {high} THEN {i}"
        for i, (low, high) in enumerate(zip(AGE_BAND_EDGES[:-1], AGE_BAND_EDGES[1:], strict=True))
    )
    education = " ".join(
        f"WHEN {_text(level)} THEN {_text(group)}" for level, group in education_groups.items()
    )
    return f"""\
-- Cells (subgroup x cluster x cohort x year) of the subgroup effects (asn_eval.engine).
{body},
first_row AS (
    -- The employee's cohort is that of the agency of his or her first row.
    SELECT employee_id, agency_code
    FROM (
        SELECT employee_id, agency_code,
            ROW_NUMBER() OVER (PARTITION BY employee_id ORDER BY year) AS r
        FROM outcome
    ) AS ranked
    WHERE r = 1
),
person AS (
    SELECT
        f.employee_id,
        COALESCE(CAST(c.cohort AS BIGINT), CAST(0 AS BIGINT)) AS cohort,
        {int(at.year)} - year(e.birth_date)
            - CASE WHEN {int(at.month) * 100 + int(at.day)}
                < month(e.birth_date) * 100 + day(e.birth_date) THEN 1 ELSE 0 END AS age,
        CASE CAST(e.education AS STRING) {education} END AS education_group,
        COALESCE(CAST(e.position_type AS STRING), 'nan') AS position_type
    FROM first_row AS f
    LEFT JOIN cohorts AS c ON c.agency_code = f.agency_code
    LEFT JOIN employees AS e ON e.employee_id = f.employee_id
),
panel AS (
    SELECT
        o.employee_id,
        o.agency_code,
        o.year,
        o.{outcome} AS y,
        p.cohort,
        CASE {bands} END AS age_band,
        p.education_group,
        p.position_type
    FROM outcome AS o
    JOIN person AS p ON p.employee_id = o.employee_id
    WHERE p.cohort <> -1 AND o.{outcome} IS NOT NULL
),
unit AS (
    SELECT employee_id, agency_code AS cluster, n_years
    FROM (
        SELECT employee_id, agency_code,
            COUNT(*) OVER (PARTITION BY employee_id) AS n_years,
            ROW_NUMBER() OVER (PARTITION BY employee_id ORDER BY year) AS r
        FROM panel
    ) AS ranked
    WHERE r = 1
),
cells AS (
    SELECT
        p.age_band,
        p.education_group,
        p.position_type,
        u.cluster,
        p.cohort,
        p.year,
        u.n_years,
        COUNT(*) AS n,
        SUM(p.y) AS sum_y
    FROM panel AS p
    JOIN unit AS u ON u.employee_id = p.employee_id
    GROUP BY 1, 2, 3, 4, 5, 6, 7
),
scalars AS (
    SELECT
        (SELECT COUNT(DISTINCT employee_id) FROM panel) AS n_employees,
        (SELECT COUNT(DISTINCT agency_code) FROM panel) AS n_agencies
)
SELECT cells.*, scalars.*
FROM cells CROSS JOIN scalars
"""
