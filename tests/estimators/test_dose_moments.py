"""The dose-response from the engine's per-agency moments equals the employee-year regression.

:func:`dose_response_from_moments` on :func:`asn_eval.engine.dose_moments` (DuckDB, and Spark)
gives the bin effects, their clustered standard errors and covariance, the step at 20 JP, the
bin counts and every ``info`` line of :func:`dose_response` on the employee-year panel, to
1e-10: on the committed Kupang data (whose employees move between agencies, so the employee
effects are not nested in the clusters) and on generated tables with hours exactly on the bin
edges, unbalanced employees, missing outcomes and a top bin no employee-year reaches.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from asn_eval import indices
from asn_eval.analysis.panels import employee_year_panel
from asn_eval.engine import DuckDBBackend, SparkBackend, dose_moments, local_spark_session
from asn_eval.estimators.dose import dose_response, dose_response_from_moments

TOLERANCE = 1e-10
COLUMNS = ["skp_good", "jp", "employee_id", "year", "agency_code"]


def _unit(person: pd.DataFrame, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dose_response(
            person,
            outcome="skp_good",
            hours="jp",
            unit="employee_id",
            time="year",
            cluster="agency_code",
            **options,
        )


def _assert_same(unit, grouped):
    for name in ("bin_fit", "spline_fit"):
        a, b = getattr(unit, name), getattr(grouped, name)
        pd.testing.assert_series_equal(
            a.params, b.params, check_exact=False, rtol=0, atol=TOLERANCE
        )
        pd.testing.assert_series_equal(
            a.std_errors, b.std_errors, check_exact=False, rtol=0, atol=TOLERANCE
        )
        pd.testing.assert_frame_equal(a.vcov, b.vcov, check_exact=False, rtol=0, atol=TOLERANCE)
        assert (a.nobs, a.n_clusters, a.df, a.info) == (b.nobs, b.n_clusters, b.df, b.info)
    assert abs(unit.jump - grouped.jump) <= TOLERANCE
    assert abs(unit.jump_se - grouped.jump_se) <= TOLERANCE
    pd.testing.assert_series_equal(unit.counts, grouped.counts)
    assert unit.info["Employee-years"] == grouped.info["Employee-years"]


def test_kupang_dose_response_from_moments(kupang_dataset):
    panel = employee_year_panel(kupang_dataset, years=kupang_dataset.years)
    person = panel[COLUMNS].dropna(subset=["skp_good"])
    unit = _unit(person)
    tables = {name: kupang_dataset.tables[name] for name in ("performance", "training")}
    moments = dose_moments(DuckDBBackend(tables), kupang_dataset.years)
    grouped = dose_response_from_moments(moments, outcome="skp_good")
    _assert_same(unit, grouped)
    assert len(moments) == person["agency_code"].nunique()
    # Employees who moved: the employee effects are not nested in the agency clusters.
    assert moments["split_units"].iloc[0] > 0


def _generated(seed: int = 5, n: int = 1500, years=range(2019, 2025)):
    """Performance and training tables, and the employee-year frame by the pandas indices."""
    rng = np.random.default_rng(seed)
    years = list(years)
    rows = []
    for i in range(n):
        agency = f"A{rng.integers(0, 14):02d}"
        for year in years:
            if rng.random() < 0.15:  # unbalanced: some years missing
                continue
            if rng.random() < 0.05:  # a transfer
                agency = f"A{rng.integers(0, 14):02d}"
            rows.append((f"e{i:05d}", agency, year))
    perf = pd.DataFrame(rows, columns=["employee_id", "agency_code", "year"])
    m = len(perf)
    perf["skp_predicate"] = rng.choice(
        ["Sangat Baik", "Baik", "Butuh Perbaikan", None], m, p=[0.2, 0.5, 0.2, 0.1]
    )
    perf["skp_score"] = np.where(rng.random(m) < 0.5, rng.uniform(60, 95, m), np.nan)
    perf["absence_days"] = rng.integers(0, 10, m).astype(float)
    perf["sanction_level"] = "none"
    # Courses whose yearly sums often land exactly on the bin edges 10, 20 and 40 JP.
    courses = perf.sample(frac=0.7, random_state=seed)[["employee_id", "year"]]
    courses = courses.loc[courses.index.repeat(rng.integers(1, 3, len(courses)))]
    hours = rng.choice([2.0, 5.0, 8.0, 10.0, 12.0, 20.0], len(courses))
    day = pd.to_timedelta(rng.integers(0, 365, len(courses)), unit="D")
    training = pd.DataFrame(
        {
            "employee_id": courses["employee_id"].to_numpy(),
            "date": pd.to_datetime(courses["year"].astype(str) + "-01-01").to_numpy() + day,
            "jp": hours,
        }
    )
    jp = indices.jp_by_employee_year(training)
    person = perf.merge(jp, on=["employee_id", "year"], how="left")
    person["jp"] = person["jp"].fillna(0.0)
    person["skp_good"] = indices.skp_good(person["skp_predicate"], person["skp_score"]).to_numpy()
    person = person[COLUMNS].dropna(subset=["skp_good"])
    return {"performance": perf, "training": training}, person, years


@pytest.mark.parametrize("bins", [(0, 10, 20, 40, 80), (0, 5, 20, 100)])
def test_generated_dose_response_from_moments(bins):
    tables, person, years = _generated()
    assert person["jp"].isin([10.0, 20.0, 40.0]).any()
    assert person["jp"].max() < 80  # the top bin and the knots above are empty
    unit = _unit(person, bins=bins)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grouped = dose_response_from_moments(
            dose_moments(DuckDBBackend(tables), years, bins=bins), outcome="skp_good", bins=bins
        )
    _assert_same(unit, grouped)
    assert any("no employee-years in bin(s)" in str(w.message) for w in caught)


def test_moments_refuse_what_the_unit_form_refuses():
    tables, person, years = _generated(n=200)
    # A course of 51 JP in every employee-year: nobody below the 20 JP threshold.
    perf = tables["performance"]
    every = pd.DataFrame(
        {
            "employee_id": perf["employee_id"],
            "date": pd.to_datetime(perf["year"].astype(str) + "-06-01"),
            "jp": 51.0,
        }
    )
    with pytest.raises(ValueError) as unit_error:
        _unit(person.assign(jp=51.0))
    moments = dose_moments(DuckDBBackend({**tables, "training": every}), years)
    with pytest.raises(ValueError) as grouped_error:
        dose_response_from_moments(moments, outcome="skp_good")
    assert str(grouped_error.value) == str(unit_error.value)
    assert "no employee-years on one side of the 20 JP threshold" in str(grouped_error.value)


@pytest.mark.slow
def test_spark_gives_the_duckdb_moments():
    tables, _, years = _generated(n=300)
    spark = local_spark_session(cores=2)
    try:
        duck = dose_moments(DuckDBBackend(tables), years)
        on_spark = dose_moments(SparkBackend(spark, tables), years)
    finally:
        spark.stop()
    pd.testing.assert_frame_equal(on_spark, duck, check_exact=False, rtol=1e-12, atol=1e-9)


def test_employee_count_is_that_of_the_employee_year_panel(kupang_dataset):
    """Chapter 3's count of employees, now from the engine, as the panel counted them."""
    from asn_eval.analysis.panels import employee_count

    years = kupang_dataset.years
    panel = employee_year_panel(kupang_dataset, years=years)
    assert employee_count(kupang_dataset, years=years) == panel["employee_id"].nunique()
    assert employee_count(kupang_dataset, years=years[-2:]) == (
        panel.loc[panel["year"].isin(years[-2:]), "employee_id"].nunique()
    )
