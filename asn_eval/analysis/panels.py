"""Analysis panels built from a loaded, validated and pseudonymised dataset.

Data flows one way (STYLE.md): ``asn_eval.data.load_dataset`` gives the tables, this module
turns them into the three panels every chapter analyses, and nothing here reads raw files.

* :func:`employee_year_panel`: one row per employee and year (from the performance table),
  with age and age band, "SKP Baik or better", absence, sanctions, JP of training that year and
  the policy exposure of the agency the employee worked in that year.
* :func:`agency_year_panel`: one row per agency and year, with the shares and means of the
  employee-year panel, budget and places, IKM, and for each policy the adoption cohort
  (first year of adoption, 0 = never within the years covered).
* :func:`monthly_service_series`: the monthly service table with each agency's adoption month
  and a post-adoption indicator per policy, for interrupted time series.

An agency without an accepted row in the ``policies`` table (its row was rejected, or it has
none) has unknown adoption dates. It is not a never-adopter: its cohort is
:data:`UNKNOWN_COHORT` and its ``treated_<policy>`` / ``post_<policy>`` are missing, so that
it is neither a treated nor a comparison unit; :func:`known_adoption` leaves it out of one
policy's analysis (``Dataset.policy_gaps`` says which agencies and why).

Only the data contract of ``asn_eval.data`` is assumed: any object with ``.tables`` (a dict of
DataFrames) and ``.years`` works, so the functions are easy to test on small frames.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from asn_eval import indices
from asn_eval.common.memory import release_memory
from asn_eval.config import NEVER_TREATED
from asn_eval.data.contract import POLICIES
from asn_eval.domain.regulations import IKM_REPORT_WEIGHTS, JP_MINIMUM_PER_YEAR
from asn_eval.domain.subgroups import age_band

# Adoption dates unknown (the agency's policies row was rejected or is missing): never a
# calendar year and never NEVER_TREATED, so "> 0" (treated) and "== 0" (never) both exclude it.
UNKNOWN_COHORT = -1
OUTPATIENT_SERVICE = "rawat_jalan"
DUKCAPIL_SERVICES: tuple[str, ...] = ("ktp_el", "kk", "akta_kelahiran")


# Panels built per dataset and years are kept for reuse: a report asks for the same panel
# several times (each chapter and its notebook). A kept panel is a second copy beside the
# caller's, so only panels up to this many rows are kept: a province's employee-year panel
# (about 750,000 rows) is rebuilt instead (about 1.5 s) and its kernel holds one copy.
_PANEL_CACHE_ROWS = 500_000
_PANEL_CACHE_SIZE = 4
_PANEL_CACHE: OrderedDict[tuple, tuple[Any, pd.DataFrame]] = OrderedDict()


def _reused(build: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """Return a copy of the panel built earlier from the same dataset, tables and years.

    The key holds the identity and shape of every table of the dataset, and the entry keeps
    the dataset (and so its tables) alive, so an identity cannot be reused by another object
    while the entry exists: replacing a table (``dataset.tables[name] = ...``) builds anew.
    Tables are the validated input and are not edited in place (data flows one way).
    """

    @functools.wraps(build)
    def panel(dataset: Any, *, years: Sequence[int] | None = None) -> pd.DataFrame:
        tables = getattr(dataset, "tables", None)
        if not isinstance(tables, dict):
            return build(dataset, years=years)
        key = (
            build.__name__,
            id(dataset),
            # a cached dataset names its tables without reading them
            tables.identity()
            if hasattr(tables, "identity")
            else tuple(
                sorted((name, id(t), getattr(t, "shape", None)) for name, t in tables.items())
            ),
            None if years is None else tuple(int(y) for y in years),
        )
        hit = _PANEL_CACHE.get(key)
        if hit is not None and hit[0] is dataset:
            _PANEL_CACHE.move_to_end(key)
            return hit[1].copy()
        frame = build(dataset, years=years)
        if len(frame) <= _PANEL_CACHE_ROWS:
            _PANEL_CACHE[key] = (dataset, frame.copy())
            while len(_PANEL_CACHE) > _PANEL_CACHE_SIZE:
                _PANEL_CACHE.popitem(last=False)
        return frame

    return panel


def _years(dataset: Any, years: Sequence[int] | None) -> list[int]:
    if years is not None:
        return sorted(int(y) for y in years)
    if getattr(dataset, "years", None):
        return sorted(int(y) for y in dataset.years)
    return sorted(int(y) for y in dataset.tables["performance"]["year"].unique())


def adoption_cohorts(dataset: Any, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """First year of adoption of each policy by each agency.

    Parameters
    ----------
    dataset
        Loaded dataset (``.tables["agencies"]`` and ``.tables["policies"]``).
    years
        Years covered; defaults to ``dataset.years``.

    Returns
    -------
    DataFrame
        One row per agency (sorted by ``agency_code``) with ``agency_code`` and one integer
        column per policy: the calendar year of the start date, or 0 when the agency never
        adopted the policy or adopted it after the last year covered (so it is a comparison
        unit throughout, the convention of R's ``did``). An agency that adopted before the
        first year keeps that earlier year: it is treated in every year covered. An agency
        without a row in ``policies`` gets :data:`UNKNOWN_COHORT` for every policy.
    """
    covered = _years(dataset, years)
    last = covered[-1]
    agencies = dataset.tables["agencies"][["agency_code"]].drop_duplicates()
    policies = dataset.tables.get("policies")
    out = agencies.copy()
    for policy in POLICIES:
        if policies is None or policy not in policies:
            out[policy] = NEVER_TREATED
            continue
        start = policies.set_index("agency_code")[policy]
        year = pd.to_datetime(start).dt.year
        year = year.where(year <= last)
        cohort = out["agency_code"].map(year).fillna(NEVER_TREATED).astype(int)
        known = out["agency_code"].isin(policies["agency_code"])
        out[policy] = cohort.where(known, UNKNOWN_COHORT).to_numpy()
    return out.sort_values("agency_code").reset_index(drop=True)


def known_adoption(panel: pd.DataFrame, policy: str) -> pd.DataFrame:
    """The rows of ``panel`` whose agency's adoption of ``policy`` is known.

    Estimators read a missing cohort as "never treated" (R's ``did`` convention), so an
    agency with unknown dates must be left out before estimation, not passed on as
    missing.

    Examples
    --------
    >>> panel = pd.DataFrame({"cohort_digitalisation": [2021, 0, UNKNOWN_COHORT]})
    >>> len(known_adoption(panel, "digitalisation"))
    2
    """
    _check_policy(policy)
    return panel.loc[panel[f"cohort_{policy}"] != UNKNOWN_COHORT]


def _treated(cohort: pd.Series, year: pd.Series) -> pd.Series:
    """1 from the adoption year on, 0 before or never, missing when adoption is unknown."""
    treated = ((cohort > 0) & (cohort <= year)).astype(int)
    unknown = cohort == UNKNOWN_COHORT
    return treated.astype(float).where(~unknown) if unknown.any() else treated


def treatment_map(dataset: Any, policy: str, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """Agency x year 0/1 map of whether ``policy`` was in force (adopted in or before the year).

    Rows are agencies ordered by adoption year (never-adopters last), columns are years.
    """
    _check_policy(policy)
    covered = _years(dataset, years)
    cohorts = adoption_cohorts(dataset, years=covered)
    cohort = cohorts.set_index("agency_code")[policy]
    cohort = cohort[cohort != UNKNOWN_COHORT]  # dates unknown: not shown as never adopting
    grid = pd.DataFrame(
        {year: ((cohort > 0) & (cohort <= year)).astype(int) for year in covered},
        index=cohort.index,
    )
    order = cohort.replace(NEVER_TREATED, np.iinfo(np.int64).max).sort_values(kind="stable")
    grid = grid.loc[order.index]
    grid.columns.name = "year"
    return grid


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise ValueError(f"Unknown policy {policy!r}; the policies are {', '.join(POLICIES)}.")


def training_by_employee_year(dataset: Any, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """Total JP per employee and calendar year (only employee-years with any training).

    The dataset's ``training`` table through :func:`asn_eval.indices.jp_by_employee_year`;
    for a dataset from the columnar cache, the same sum by DuckDB over the cached Parquet file
    (:func:`asn_eval.engine.employee_year_jp_sql`, the covered years), so that the course
    records are never loaded into pandas.
    """
    path = _parquet_path(dataset, "training")
    if path is None:
        return indices.jp_by_employee_year(dataset.tables.get("training"))
    from asn_eval.engine import employee_year_jp_sql

    sql = employee_year_jp_sql(_years(dataset, years))
    frame = _on_engine({"training": path}, lambda backend: backend.run(sql))
    return frame.astype({"employee_id": object, "year": int, "jp": float})


def _parquet_path(dataset: Any, name: str) -> Any:
    """The cached Parquet file of table ``name`` (None for a dataset held in memory)."""
    path_of = getattr(dataset, "parquet_path", None)
    return path_of(name) if path_of is not None else None


def _on_engine(tables: dict[str, Any], query: Callable[[Any], pd.DataFrame]) -> pd.DataFrame:
    """``query(backend)`` on the report's engine (:func:`asn_eval.engine.default_backend`)
    over ``tables``, the backend closed after."""
    from asn_eval.engine import default_backend

    backend = default_backend(tables)
    try:
        return query(backend)
    finally:
        backend.close()


def adoption_counts(dataset: Any, *, as_of: Any, by: str | None = "age_band") -> pd.DataFrame:
    """Employees per group, duration and status for the adoption curves, on DuckDB (or Spark).

    The grouped input of :func:`asn_eval.estimators.adoption.adoption_curves_from_counts`
    (:func:`asn_eval.engine.adoption_counts`): the engine reads the ``employees``,
    ``digital_adoption`` and ``policies`` tables (the cached Parquet files in place when the
    dataset comes from the columnar cache), so the employees never pass through pandas.
    """
    from asn_eval.engine import adoption_counts as counts_on

    tables: dict[str, Any] = {}
    for name in ("employees", "digital_adoption", "policies"):
        path = _parquet_path(dataset, name)
        tables[name] = path if path is not None else dataset.tables[name]
    return _on_engine(tables, lambda backend: counts_on(backend, as_of, by=by))


@_reused
def employee_year_panel(dataset: Any, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """One row per employee and year, the unit of the individual-level analyses.

    Returns
    -------
    DataFrame
        Sorted by ``employee_id, year``. Columns: ``employee_id, year, agency_code`` (agency
        that year), ``agency_type, sex, education, rank, position_type, employment_type``,
        ``age`` (years completed by 31 December), ``age_band``, ``tenure`` (years since
        ``service_start``), ``skp_predicate``, ``skp_good`` (1.0 if Sangat Baik or Baik, 0.0
        otherwise; from ``skp_score`` >= 76 (PP 46/2011 Baik band) when the predicate is
        missing, NaN when both are), ``absence_days``, ``sanction_level``,
        ``sanctioned`` (any sanction), ``jp`` (training hours that year, 0 when none),
        ``meets_jp_minimum`` (JP >= the 20 JP minimum, PP 17/2020), and per policy
        ``cohort_<policy>`` (the agency's adoption year, 0 = never, :data:`UNKNOWN_COHORT` =
        dates unknown) and ``treated_<policy>`` (missing when the dates are unknown).
    """
    covered = _years(dataset, years)
    perf = dataset.tables["performance"]
    panel = perf[perf["year"].isin(covered)].reset_index(drop=True)
    panel["year"] = panel["year"].astype(int)

    # The joins are hash lookups of each row's employee (and agency) position; the keys are
    # unique in the validated tables (checked here, as merge(validate="m:1") would).
    employees = dataset.tables["employees"]
    person_cols = [
        c
        for c in (
            "birth_date",
            "sex",
            "education",
            "rank",
            "position_type",
            "employment_type",
            "service_start",
        )
        if c in employees
    ]
    people = _unique_index(employees["employee_id"], "employees", "employee_id")
    at = people.get_indexer(panel["employee_id"])
    # Sorted by employee_id (as text) and year, before any column is added (one copy of the
    # performance columns, not of the whole panel): the rank of each employee's id is
    # computed once over the employees, not over every employee-year.
    rank = np.empty(len(people), dtype=np.int64)
    rank[np.argsort(people.to_numpy(), kind="stable")] = np.arange(len(people))
    where = np.where(at >= 0, rank[np.maximum(at, 0)], len(people))
    order = np.lexsort((panel["year"].to_numpy(), where))
    panel = panel.take(order).reset_index(drop=True)
    at = at[order]
    for column in person_cols:
        panel[column] = _take(employees[column], at)
    agencies = dataset.tables["agencies"]
    places = _unique_index(agencies["agency_code"], "agencies", "agency_code")
    panel["agency_type"] = _take(agencies["agency_type"], places.get_indexer(panel["agency_code"]))

    birth_year = pd.to_datetime(panel["birth_date"]).dt.year
    panel["age"] = (panel["year"] - birth_year).astype(float)
    panel["age_band"] = age_band(panel["age"]).to_numpy()
    if "service_start" in panel:
        panel["tenure"] = (panel["year"] - pd.to_datetime(panel["service_start"]).dt.year).astype(
            float
        )

    score = panel["skp_score"] if "skp_score" in panel else None
    panel["skp_good"] = indices.skp_good(panel["skp_predicate"], score).to_numpy()
    panel["sanctioned"] = indices.sanctioned(panel["sanction_level"]).to_numpy()

    # JP per employee-year, joined on (employee position, year) as one integer key.
    jp = training_by_employee_year(dataset, years=covered)
    first = min(covered)
    span = max(covered) - first + 1
    row_key = at.astype(np.int64) * span + (panel["year"].to_numpy() - first)
    jp = jp[jp["year"].between(first, first + span - 1)]
    jp_at = people.get_indexer(jp["employee_id"])
    jp_key = pd.Index(jp_at.astype(np.int64) * span + (jp["year"].to_numpy() - first))
    if not jp_key.is_unique:
        raise ValueError("training JP per employee-year is not unique per employee and year")
    hours = _take(jp["jp"], jp_key.get_indexer(row_key))
    panel["jp"] = pd.Series(hours, index=panel.index).fillna(0.0).astype(float)
    panel["meets_jp_minimum"] = indices.meets_jp_minimum(panel["jp"]).to_numpy()

    cohorts = adoption_cohorts(dataset, years=covered).set_index("agency_code")
    for policy in POLICIES:
        cohort = panel["agency_code"].map(cohorts[policy]).fillna(NEVER_TREATED).astype(int)
        panel[f"cohort_{policy}"] = cohort
        panel[f"treated_{policy}"] = _treated(cohort, panel["year"])

    for column in ("birth_date", "service_start"):
        if column in panel:
            del panel[column]  # in place: drop() would copy the whole panel
    release_memory()  # the joins' transient arrays
    return panel


def _unique_index(values: pd.Series, table: str, column: str) -> pd.Index:
    index = pd.Index(values.to_numpy())
    if not index.is_unique:
        raise ValueError(f"{column} is not unique in the {table} table")
    return index


def _take(values: pd.Series, positions: np.ndarray) -> Any:
    """``values`` at ``positions``, missing where a position is -1 (no match)."""
    array = values.array if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) else None
    array = values.to_numpy() if array is None else array
    return pd.api.extensions.take(array, positions, allow_fill=True)


def ikm_by_agency_year(dataset: Any) -> pd.DataFrame:
    """IKM (PermenPANRB 14/2017) per agency and calendar year from respondent scores.

    Computed by :func:`asn_eval.indices.ikm` with the report's weights
    (:data:`asn_eval.domain.regulations.IKM_REPORT_WEIGHTS`); the semesters of a year are pooled.
    Returns ``agency_code, year, ikm, ikm_respondents``.
    """
    sat = dataset.tables.get("satisfaction")
    if sat is None or sat.empty:
        return pd.DataFrame(columns=["agency_code", "year", "ikm", "ikm_respondents"])
    frame = sat.assign(year=sat["period"].astype(str).str[:4].astype(int))
    result = indices.ikm(
        frame, group_by=["agency_code", "year"], weights=IKM_REPORT_WEIGHTS, n_boot=0
    )
    table = result.table.rename(columns={"respondents": "ikm_respondents"})
    return table[["agency_code", "year", "ikm", "ikm_respondents"]]


def agency_year_outcomes(dataset: Any, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """The employee-year outcomes aggregated per agency and year, on DuckDB (or Spark).

    The employee-level step of :func:`agency_year_panel`, run as the engine-neutral query of
    :mod:`asn_eval.engine` (the outcome definitions of :mod:`asn_eval.indices`): DuckDB scans
    the cached Parquet tables in place when the dataset comes from the columnar cache
    (:meth:`asn_eval.data.Dataset.parquet_path`), else the frames in memory; no employee-year
    frame is built in pandas. With ``ASN_EVAL_ENGINE=spark`` the same query runs on Spark
    (:func:`asn_eval.engine.default_backend`).

    Returns
    -------
    DataFrame
        ``agency_code, year, n_employees, skp_good_share, n_skp, absence_mean,
        sanction_share, jp_mean, jp_minimum_share`` for the agency-years with employees.
    """
    from asn_eval.engine import agency_year_means, agency_year_statistics

    covered = _years(dataset, years)
    tables = _performance_and_training(dataset)
    statistics = _on_engine(tables, lambda backend: agency_year_statistics(backend, covered))
    return agency_year_means(statistics)


def dose_moments(dataset: Any, *, years: Sequence[int] | None = None, **options) -> pd.DataFrame:
    """Per-agency sufficient statistics of the training dose-response, on DuckDB (or Spark).

    :func:`asn_eval.engine.dose_moments` over the ``performance`` and ``training`` tables
    (the cached Parquet files in place when the dataset comes from the columnar cache), for
    the covered years: the input of
    :func:`asn_eval.estimators.dose.dose_response_from_moments`, which gives the
    dose-response of the employee-year panel (:func:`employee_year_panel`) without building
    it. ``options`` go to :func:`asn_eval.engine.dose_moments_sql`.
    """
    from asn_eval.engine import dose_moments as moments_on

    covered = _years(dataset, years)
    tables = _performance_and_training(dataset)
    return _on_engine(tables, lambda backend: moments_on(backend, covered, **options))


def subgroup_cells(
    dataset: Any, *, policy: str, years: Sequence[int] | None = None
) -> pd.DataFrame:
    """Employees and outcome sums per subgroup, cluster, cohort and year, on DuckDB (or Spark).

    :func:`asn_eval.engine.subgroup_cells` over the ``performance``, ``training`` and
    ``employees`` tables (cached Parquet files in place when the dataset comes from the
    columnar cache) and the agencies' adoption years of ``policy``
    (:func:`adoption_cohorts`), with the age band on 1 January of the first covered year and
    the education groups of :data:`asn_eval.domain.subgroups.EDUCATION_GROUPS`: the input of
    :func:`asn_eval.estimators.dose.heterogeneity_from_cells`.
    """
    from asn_eval.domain.subgroups import EDUCATION_GROUPS
    from asn_eval.engine import subgroup_cells as cells_on

    _check_policy(policy)
    covered = _years(dataset, years)
    tables = _performance_and_training(dataset)
    path = _parquet_path(dataset, "employees")
    tables["employees"] = path if path is not None else dataset.tables["employees"]
    cohorts = adoption_cohorts(dataset, years=covered)[["agency_code", policy]]
    tables["cohorts"] = cohorts.rename(columns={policy: "cohort"})
    age_at = pd.Timestamp(year=covered[0], month=1, day=1)
    return _on_engine(
        tables,
        lambda backend: cells_on(
            backend, covered, age_at=age_at, education_groups=EDUCATION_GROUPS
        ),
    )


def employee_count(dataset: Any, *, years: Sequence[int] | None = None) -> int:
    """Employees with a performance row in the covered years, counted by the engine.

    The number of distinct ``employee_id`` of :func:`employee_year_panel`, without loading
    the performance table into pandas when the dataset comes from the columnar cache.
    """
    covered = _years(dataset, years)
    sql = (
        "SELECT COUNT(DISTINCT employee_id) AS n FROM performance "
        f"WHERE year IN ({', '.join(str(int(year)) for year in covered)})"
    )
    tables = {"performance": _performance_and_training(dataset)["performance"]}
    return int(_on_engine(tables, lambda backend: backend.run(sql))["n"].iloc[0])


def _performance_and_training(dataset: Any) -> dict[str, Any]:
    """The ``performance`` and ``training`` views of the engine queries (Parquet or frames)."""
    tables: dict[str, Any] = {}
    for name in ("performance", "training"):
        path = _parquet_path(dataset, name)
        tables[name] = path if path is not None else dataset.tables.get(name)
    performance = tables["performance"]
    if isinstance(performance, pd.DataFrame) and "skp_score" not in performance:
        # an optional contract column (pre-2022 scores); the loader always adds it
        tables["performance"] = performance.assign(skp_score=np.nan)
    if tables["training"] is None or (
        isinstance(tables["training"], pd.DataFrame) and tables["training"].empty
    ):
        tables["training"] = pd.DataFrame(
            {"employee_id": pd.Series([], dtype=object), "date": [], "jp": []}
        ).astype({"date": "datetime64[ns]", "jp": float})
    return tables


@_reused
def agency_year_panel(dataset: Any, *, years: Sequence[int] | None = None) -> pd.DataFrame:
    """One row per agency and year: outcomes, resources and adoption cohorts.

    Returns
    -------
    DataFrame
        Sorted by ``agency_code, year``; every agency appears for every covered year.
        Columns: ``agency_code, agency_type, year, n_employees, skp_good_share, n_skp``
        (employees with a predicate), ``absence_mean, sanction_share, jp_mean,
        jp_minimum_share``, budget columns when present (``training_budget, training_places,
        headcount, budget_per_employee, places_per_employee``), ``ikm, ikm_respondents`` when
        the satisfaction table is present, ``health_minutes`` (mean of the monthly median
        outpatient minutes) for agencies with outpatient services, and for each policy
        ``cohort_<policy>`` (first year of adoption, 0 = never, :data:`UNKNOWN_COHORT` = dates
        unknown) and ``treated_<policy>`` (missing when the dates are unknown).
    """
    covered = _years(dataset, years)
    outcomes = agency_year_outcomes(dataset, years=covered)

    agencies = dataset.tables["agencies"][["agency_code", "agency_type"]].drop_duplicates()
    grid = agencies.merge(pd.DataFrame({"year": covered}), how="cross")
    panel = grid.merge(outcomes, on=["agency_code", "year"], how="left", validate="1:1")
    panel["n_employees"] = panel["n_employees"].fillna(0).astype(int)
    panel["n_skp"] = panel["n_skp"].fillna(0).astype(int)

    budget = dataset.tables.get("budget")
    if budget is not None and not budget.empty:
        cols = ["agency_code", "year", "training_budget", "training_places", "headcount"]
        panel = panel.merge(
            budget[[c for c in cols if c in budget]], on=["agency_code", "year"], how="left"
        )
        staff = panel["headcount"].where(panel["headcount"] > 0)
        panel["budget_per_employee"] = panel["training_budget"] / staff
        panel["places_per_employee"] = panel["training_places"] / staff

    if dataset.tables.get("satisfaction") is not None:
        panel = panel.merge(
            ikm_by_agency_year(dataset), on=["agency_code", "year"], how="left", validate="1:1"
        )

    services = dataset.tables.get("services")
    if services is not None and (services["service"] == OUTPATIENT_SERVICE).any():
        visits = services[services["service"] == OUTPATIENT_SERVICE]
        minutes = (
            visits.assign(year=pd.to_datetime(visits["month"]).dt.year)
            .groupby(["agency_code", "year"], as_index=False)["median_time"]
            .mean()
            .rename(columns={"median_time": "health_minutes"})
        )
        panel = panel.merge(minutes, on=["agency_code", "year"], how="left", validate="1:1")

    cohorts = adoption_cohorts(dataset, years=covered).set_index("agency_code")
    for policy in POLICIES:
        cohort = panel["agency_code"].map(cohorts[policy]).fillna(NEVER_TREATED).astype(int)
        panel[f"cohort_{policy}"] = cohort
        panel[f"treated_{policy}"] = _treated(cohort, panel["year"])
    return panel.sort_values(["agency_code", "year"]).reset_index(drop=True)


def monthly_service_series(dataset: Any) -> pd.DataFrame:
    """Monthly service records with each agency's adoption month per policy.

    Returns
    -------
    DataFrame
        The ``services`` table sorted by ``service, agency_code, month``, plus
        ``completion_rate`` (completed / requests), and for each policy ``adopted_<policy>``
        (first month of adoption, NaT = never) and ``post_<policy>`` (1 from the adoption
        month on; missing for an agency whose adoption dates are unknown).
    """
    services = dataset.tables["services"].copy()
    services["month"] = pd.to_datetime(services["month"]).dt.to_period("M").dt.to_timestamp()
    requests = services["requests"].where(services["requests"] > 0)
    services["completion_rate"] = services["completed"] / requests
    policies = dataset.tables.get("policies")
    for policy in POLICIES:
        if policies is None or policy not in policies:
            start = pd.Series(dtype="datetime64[ns]")
        else:
            start = pd.to_datetime(policies.set_index("agency_code")[policy])
            start = start.dt.to_period("M").dt.to_timestamp()
        adopted = pd.to_datetime(services["agency_code"].map(start))
        services[f"adopted_{policy}"] = adopted
        post = (adopted.notna() & (services["month"] >= adopted)).astype(int)
        if policies is not None and policy in policies:
            unknown = ~services["agency_code"].isin(policies["agency_code"])
            post = post.astype(float).where(~unknown) if unknown.any() else post
        services[f"post_{policy}"] = post
    return services.sort_values(["service", "agency_code", "month"]).reset_index(drop=True)


def workforce_snapshot(dataset: Any, *, year: int) -> pd.DataFrame:
    """Employees serving on 31 December of ``year``, with age and age band at that date.

    One row per employee (no identifying columns beyond the pseudonym), for the descriptive
    tables of the introduction; callers aggregate and suppress small cells before showing.
    """
    employees = dataset.tables["employees"]
    cutoff = pd.Timestamp(year=int(year), month=12, day=31)
    start = pd.to_datetime(employees["service_start"])
    end = pd.to_datetime(employees["service_end"])
    serving = (start <= cutoff) & (end.isna() | (end > cutoff))
    frame = employees.loc[serving].copy()
    frame["age"] = (int(year) - pd.to_datetime(frame["birth_date"]).dt.year).astype(float)
    frame["age_band"] = age_band(frame["age"]).to_numpy()
    agencies = dataset.tables["agencies"][["agency_code", "agency_name", "agency_type"]]
    frame = frame.merge(agencies, on="agency_code", how="left", validate="m:1")
    drop = ["birth_date", "service_start", "service_end", "nip_flag"]
    return frame.drop(columns=drop, errors="ignore").reset_index(drop=True)


def training_capacity(dataset: Any, *, year: int) -> pd.DataFrame:
    """Training places against what the 20 JP minimum needs, per agency in ``year``.

    A place is taken to be one seat on one course. Courses in ``year`` average
    ``jp_per_course`` JP, so bringing every employee to the minimum needs
    ``headcount * 20 / jp_per_course`` places (PP 17/2020: 20 JP per ASN per year), rounded
    up to whole places: a seat is not bought in parts, and the agencies' shortfalls then add
    up to the city's.

    Returns
    -------
    DataFrame
        One row per agency with budget data that year: ``agency_code, agency_name,
        headcount, training_places, training_budget, places_needed, shortfall`` (places
        missing, 0 when enough), ``n_employees`` (in the performance table),
        ``jp_minimum_share`` and ``jp_per_course``; sorted by shortfall, largest first.
    """
    budget = dataset.tables.get("budget")
    training = dataset.tables.get("training")
    if budget is None or training is None or budget.empty or training.empty:
        return pd.DataFrame()
    courses = training[pd.to_datetime(training["date"]).dt.year == int(year)]
    jp_per_course = float(courses["jp"].mean()) if len(courses) else np.nan
    frame = budget[budget["year"] == int(year)].copy()
    # A tiny tolerance keeps an exact multiple (40 x 20 / 20.0000000001) from one more seat.
    frame["places_needed"] = np.ceil(
        frame["headcount"] * JP_MINIMUM_PER_YEAR / jp_per_course - 1e-9
    )
    frame["shortfall"] = (frame["places_needed"] - frame["training_places"]).clip(lower=0)
    frame["jp_per_course"] = jp_per_course
    agency = agency_year_panel(dataset, years=[int(year)])
    frame = frame.merge(
        agency[["agency_code", "n_employees", "jp_minimum_share"]], on="agency_code", how="left"
    )
    names = dataset.tables["agencies"][["agency_code", "agency_name"]]
    frame = frame.merge(names, on="agency_code", how="left")
    columns = [
        "agency_code",
        "agency_name",
        "headcount",
        "training_places",
        "training_budget",
        "places_needed",
        "shortfall",
        "n_employees",
        "jp_minimum_share",
        "jp_per_course",
    ]
    return (
        frame[columns]
        .sort_values(["shortfall", "agency_code"], ascending=[False, True])
        .reset_index(drop=True)
    )


@dataclass(frozen=True)
class TrainingGap:
    """The city's training gap in one year and what closing it would cost.

    ``share_below`` is the share of appraised employees below the 20 JP minimum;
    ``places_short`` the places missing (:func:`training_capacity`'s shortfall, summed);
    ``budget_per_place`` the year's training budget over its training places (all agencies,
    from the ``budget`` table); ``cost`` = ``places_short * budget_per_place`` (rupiah), the
    cost of the missing places at this year's price. NaN where the data do not hold it.
    """

    year: int
    share_below: float
    places_short: float
    budget_per_place: float
    cost: float


def training_gap(dataset: Any, *, year: int) -> TrainingGap:
    """:class:`TrainingGap` of ``year`` from the performance, training and budget tables."""
    person = employee_year_panel(dataset, years=[int(year)])
    below = float(1 - person["meets_jp_minimum"].mean()) if len(person) else np.nan
    cap = training_capacity(dataset, year=year)
    if cap.empty:
        return TrainingGap(int(year), below, np.nan, np.nan, np.nan)
    short = float(cap["shortfall"].sum())
    places = float(cap["training_places"].sum())
    per_place = float(cap["training_budget"].sum()) / places if places > 0 else np.nan
    return TrainingGap(int(year), below, short, per_place, short * per_place)
