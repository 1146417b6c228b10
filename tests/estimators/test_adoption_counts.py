"""The adoption curves from grouped counts equal those from one row per employee.

* ``kaplan_meier(..., counts=...)`` on rows that share durations (ties, censored and not)
  gives the curves, bands, medians and log-rank test of the same rows expanded one per
  employee.
* :func:`asn_eval.engine.adoption_counts` (DuckDB, and Spark) followed by
  :func:`adoption_curves_from_counts` gives what :func:`adoption_curves` gives on the pandas
  tables: on the committed Kupang data, on a generated city, and on generated tables that hit
  every reason to leave an employee out (orphan records, no record, no digitalisation date, a
  start after the data date, leaving before the start, a first use before the start or after
  leaving, no birth date, leap-day birthdays).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from asn_eval.data.synth import generate_city
from asn_eval.engine import DuckDBBackend, SparkBackend, adoption_counts, local_spark_session
from asn_eval.estimators.adoption import (
    adoption_curves,
    adoption_curves_from_counts,
    kaplan_meier,
)

TOLERANCE = 1e-10
VIEWS = ("employees", "digital_adoption", "policies")
AS_OF = pd.Timestamp("2025-12-31")


def _assert_same(unit, grouped):
    """Curves and medians equal to TOLERANCE, the same rows; the log-rank test likewise."""
    for name in ("curves", "medians"):
        a, b = getattr(unit, name), getattr(grouped, name)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=0, atol=TOLERANCE)
    for name in ("logrank_stat", "logrank_pvalue"):
        a, b = getattr(unit, name), getattr(grouped, name)
        assert (np.isnan(a) and np.isnan(b)) or abs(a - b) <= TOLERANCE * max(1.0, abs(a))
    assert unit.logrank_df == grouped.logrank_df
    assert unit.info == grouped.info


def _grouped(tables, *, by, as_of=AS_OF, backend=None):
    backend = backend or DuckDBBackend({name: tables[name] for name in VIEWS})
    counts = adoption_counts(backend, as_of, by=by)
    column = tables["employees"].get(by) if by not in (None, "age_band") else None
    categories = (
        column.cat.categories
        if column is not None and isinstance(column.dtype, pd.CategoricalDtype)
        else None
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = adoption_curves_from_counts(counts, by=by, as_of=as_of, categories=categories)
    return result, [str(w.message) for w in caught]


def _unit(tables, *, by, as_of=AS_OF):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = adoption_curves(
            tables["digital_adoption"],
            tables["employees"],
            by=by,
            as_of=as_of,
            policies=tables["policies"],
        )
    return result, [str(w.message) for w in caught]


def test_counts_give_the_curves_of_the_expanded_rows():
    rng = np.random.default_rng(11)
    # Few distinct durations, so that ties of events and censorings are the rule.
    rows = pd.DataFrame(
        {
            "months": rng.integers(0, 25, 400) / 2.0,
            "adopted": rng.random(400) < 0.6,
            "group": rng.choice(["a", "b", "c"], 400),
            "n": rng.integers(0, 9, 400),
        }
    )
    expanded = rows.loc[rows.index.repeat(rows["n"])]
    unit = kaplan_meier(expanded["months"], expanded["adopted"], expanded["group"], by="g")
    grouped = kaplan_meier(rows["months"], rows["adopted"], rows["group"], counts=rows["n"], by="g")
    _assert_same(unit, grouped)
    assert grouped.medians["employees"].sum() == rows["n"].sum()
    assert (
        grouped.info["Employees"]
        == f"{rows['n'].sum()} ({rows['n'][rows['adopted']].sum()} adopted)"
    )


def test_counts_leave_out_small_groups_by_their_employees():
    rows = pd.DataFrame(
        {"months": [1.0, 2.0, 3.0], "adopted": [True, False, True], "group": ["a", "a", "b"]}
    )
    with pytest.warns(
        UserWarning, match=r"Left out 1 group\(s\) with fewer than 10 employees \(b\)"
    ):
        result = kaplan_meier(
            rows["months"], rows["adopted"], rows["group"], counts=[6, 6, 9], min_group_size=10
        )
    assert list(result.medians.index) == ["a"]
    assert result.medians.loc["a", "employees"] == 12


def test_counts_must_be_whole_numbers():
    with pytest.raises(ValueError, match="counts must give a whole number of employees"):
        kaplan_meier([1.0, 2.0], [True, False], counts=[1.5, 2])


@pytest.mark.parametrize("by", ["age_band", None, "education"])
def test_engine_counts_give_the_kupang_curves(kupang_dataset, by):
    unit, unit_warnings = _unit(kupang_dataset.tables, by=by)
    grouped, grouped_warnings = _grouped(kupang_dataset.tables, by=by)
    _assert_same(unit, grouped)
    assert grouped_warnings == unit_warnings


def _city_tables(n_employees: int, seed: int) -> dict[str, pd.DataFrame]:
    tables = generate_city(n_employees=n_employees, seed=seed).tables
    # The generator's tables before pseudonymisation: the NIP stands in for employee_id.
    return {
        name: tables[name]
        .rename(columns={"nip": "employee_id"})
        .drop(columns="name", errors="ignore")
        for name in VIEWS
    }


def test_engine_counts_give_the_curves_of_a_generated_city():
    tables = _city_tables(4000, seed=7)
    for by in ("age_band", "position_type"):
        unit, _ = _unit(tables, by=by, as_of="2024-06-30")
        grouped, _ = _grouped(tables, by=by, as_of="2024-06-30")
        _assert_same(unit, grouped)


def _edge_tables(seed: int = 3, n: int = 3000) -> dict[str, pd.DataFrame]:
    """Employees that hit every branch of adoption_curves' clock."""
    rng = np.random.default_rng(seed)
    day = pd.Timestamp("2015-01-01")

    def dates(low: int, high: int, size: int, missing: float = 0.0) -> pd.Series:
        values = pd.Series(day + pd.to_timedelta(rng.integers(low, high, size), unit="D"))
        return values.where(rng.random(size) >= missing)

    agencies = [f"A{i:02d}" for i in range(12)]
    policies = pd.DataFrame(
        {
            "agency_code": agencies,
            # Some agencies never digitalised, one after the data date.
            "digitalisation": list(dates(1500, 3800, 10)) + [pd.NaT, day + pd.Timedelta(days=4200)],
        }
    )
    birth = pd.Series(pd.to_datetime(rng.integers(1960, 2000, n).astype(str) + "-01-01"))
    birth += pd.to_timedelta(rng.integers(0, 366, n), unit="D")
    birth[:40] = pd.Timestamp("1988-02-29")  # leap-day birthdays
    birth[rng.random(n) < 0.02] = pd.NaT
    employees = pd.DataFrame(
        {
            "employee_id": [f"e{i:05d}" for i in range(n)],
            "agency_code": rng.choice(agencies, n),
            "birth_date": birth,
            "service_start": dates(-3000, 3500, n),
            "service_end": dates(1000, 5000, n, missing=0.7),
            "education": rng.choice(["S1", "SMA", "D3"], n),
        }
    )
    first = dates(1000, 4200, n, missing=0.25)
    adoption = pd.DataFrame({"employee_id": employees["employee_id"], "first_use": first})
    # Some employees without a record, some records without an employee.
    adoption = adoption.iloc[50:]
    orphans = pd.DataFrame({"employee_id": ["x1", "x2", "x3"], "first_use": dates(2000, 3000, 3)})
    adoption = pd.concat([adoption, orphans], ignore_index=True)
    return {"employees": employees, "digital_adoption": adoption, "policies": policies}


@pytest.mark.parametrize("by", ["age_band", None, "education"])
def test_engine_counts_keep_every_reason_to_leave_out(by):
    tables = _edge_tables()
    unit, unit_warnings = _unit(tables, by=by, as_of="2025-06-30")
    grouped, grouped_warnings = _grouped(tables, by=by, as_of="2025-06-30")
    _assert_same(unit, grouped)
    assert grouped_warnings == unit_warnings
    reasons = (
        "Orphan adoption records",
        "No adoption record",
        "Agency not digitalised",
        "Left before the start",
        "Used before the start",
    )
    assert all(grouped.info[reason] > 0 for reason in reasons)
    if by == "age_band":
        assert grouped.info["No birth date"] > 0


@pytest.mark.slow
def test_spark_gives_the_duckdb_counts():
    tables = _edge_tables()
    spark = local_spark_session(cores=2)
    try:
        for by in ("age_band", "education"):
            duck = adoption_counts(DuckDBBackend(tables), "2025-06-30", by=by)
            on_spark = adoption_counts(SparkBackend(spark, tables), "2025-06-30", by=by)
            pd.testing.assert_frame_equal(on_spark, duck)
    finally:
        spark.stop()
