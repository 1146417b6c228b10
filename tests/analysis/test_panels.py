"""Panels: identities with the input tables, cohorts, treatment maps and IKM arithmetic."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from support import YEARS, make_dataset

from asn_eval.analysis import panels


@pytest.fixture(scope="module")
def dataset():
    return make_dataset()


def test_age_band_edges_are_left_closed():
    assert list(panels.age_band([29.9, 30, 39, 40, 50, 59])) == [
        "<30",
        "30-39",
        "30-39",
        "40-49",
        "50+",
        "50+",
    ]


def test_cohorts_are_adoption_years_and_zero_for_never_or_after_window(dataset):
    cohorts = panels.adoption_cohorts(dataset).set_index("agency_code")
    # Agency A00 adopts training in 2021, A01 in 2022, A02 in 2023, A03 never.
    assert cohorts.loc[["A00", "A01", "A02", "A03"], "training_programme"].tolist() == [
        2021,
        2022,
        2023,
        0,
    ]
    # An adoption after the last covered year counts as never adopted within the window.
    short = panels.adoption_cohorts(dataset, years=[2019, 2020, 2021, 2022])
    assert short.set_index("agency_code").loc["A02", "training_programme"] == 0


def test_treatment_map_switches_on_in_adoption_year_and_stays_on(dataset):
    grid = panels.treatment_map(dataset, "performance_appraisal")
    assert list(grid.columns) == YEARS
    cohorts = panels.adoption_cohorts(dataset).set_index("agency_code")["performance_appraisal"]
    for code, row in grid.iterrows():
        expected = [int(cohorts[code] > 0 and y >= cohorts[code]) for y in YEARS]
        assert row.tolist() == expected
    # Rows run from earliest adopter to never-adopters.
    order = cohorts.loc[grid.index].replace(0, 9999).tolist()
    assert order == sorted(order)


def test_unknown_policy_message(dataset):
    with pytest.raises(ValueError, match="Unknown policy 'pelatihan'; the policies are"):
        panels.treatment_map(dataset, "pelatihan")


def test_employee_year_panel_keeps_every_performance_row_and_all_training(dataset):
    person = panels.employee_year_panel(dataset)
    perf = dataset.tables["performance"]
    assert len(person) == len(perf)
    assert not person.duplicated(["employee_id", "year"]).any()
    # Every JP of training falls in some employee-year (all trainees have performance rows).
    assert person["jp"].sum() == pytest.approx(dataset.tables["training"]["jp"].sum())
    expected_good = perf["skp_predicate"].astype(str).isin(["Sangat Baik", "Baik"]).mean()
    assert person["skp_good"].mean() == pytest.approx(expected_good)
    assert (person["meets_jp_minimum"] == (person["jp"] >= 20)).all()
    born = dataset.tables["employees"].set_index("employee_id")["birth_date"].dt.year
    assert (person["age"] == person["year"] - person["employee_id"].map(born)).all()


def test_skp_good_is_missing_when_predicate_is_missing():
    data = make_dataset(n_agencies=4, per_agency=5, years=[2020, 2021])
    perf = data.tables["performance"]
    perf.loc[perf["year"] == 2020, "skp_predicate"] = np.nan
    person = panels.employee_year_panel(data)
    assert person.loc[person["year"] == 2020, "skp_good"].isna().all()
    assert person.loc[person["year"] == 2021, "skp_good"].notna().all()
    agency = panels.agency_year_panel(data)
    assert (agency.loc[agency["year"] == 2020, "n_skp"] == 0).all()


def test_agency_year_panel_aggregates_add_up(dataset):
    agency = panels.agency_year_panel(dataset)
    assert len(agency) == 12 * len(YEARS)
    per_year = dataset.tables["performance"].groupby("year").size()
    assert agency.groupby("year")["n_employees"].sum().to_dict() == per_year.to_dict()
    person = panels.employee_year_panel(dataset)
    weighted = (agency["jp_mean"] * agency["n_employees"]).sum()
    assert weighted == pytest.approx(person["jp"].sum())
    assert (agency["budget_per_employee"] == agency["training_budget"] / 20).all()
    treated = agency["treated_digitalisation"] == (
        (agency["cohort_digitalisation"] > 0) & (agency["year"] >= agency["cohort_digitalisation"])
    )
    assert treated.all()


def test_ikm_is_25_times_mean_element_score(dataset):
    ikm = panels.ikm_by_agency_year(dataset).set_index("agency_code")
    # All nine elements scored 3 -> NRR 3 -> IKM 75; all scored 4 -> IKM 100 (PermenPANRB 14/2017).
    assert ikm.loc["A00", "ikm"] == pytest.approx(75.0)
    assert ikm.loc["A01", "ikm"] == pytest.approx(100.0)
    assert ikm.loc["A00", "ikm_respondents"] == 4


def test_ikm_needs_all_nine_elements(dataset):
    # PermenPANRB 14/2017 weighs nine element means; with one element unanswered by every
    # respondent of an agency-year there is no IKM, rather than a mean of the other eight.
    sat = dataset.tables["satisfaction"].copy()
    sat.loc[sat["agency_code"] == "A00", "u9"] = np.nan
    copy = SimpleNamespace(tables={**dataset.tables, "satisfaction": sat}, years=dataset.years)
    ikm = panels.ikm_by_agency_year(copy).set_index("agency_code")["ikm"]
    assert ikm.loc[["A00"]].isna().all()
    assert ikm.loc["A01"] == pytest.approx(100.0)


def test_monthly_series_post_indicator_starts_in_adoption_month(dataset):
    series = panels.monthly_service_series(dataset)
    start = dataset.tables["policies"].set_index("agency_code").loc["A00", "training_programme"]
    post = series.set_index("month")["post_training_programme"]
    assert post[post == 1].index.min() == start
    assert series["completion_rate"].iloc[0] == pytest.approx(0.95)


def test_workforce_snapshot_counts_those_serving_at_year_end():
    data = make_dataset(n_agencies=4, per_agency=5, years=[2020, 2021])
    employees = data.tables["employees"]
    employees.loc[0, "service_end"] = pd.Timestamp("2020-06-30")
    employees.loc[1, "service_start"] = pd.Timestamp("2022-01-01")
    snap = panels.workforce_snapshot(data, year=2021)
    assert len(snap) == 20 - 2
    assert "birth_date" not in snap


def test_pre_2022_scores_count_as_good_from_the_pp46_baik_band():
    data = make_dataset(n_agencies=4, per_agency=5, years=[2021, 2022])
    perf = data.tables["performance"]
    old = perf["year"] == 2021
    perf.loc[old, "skp_predicate"] = np.nan
    # PP 46/2011: 76-90 Baik, 91-100 Sangat Baik, 61-75 Cukup.
    perf["skp_score"] = np.nan
    perf.loc[old, "skp_score"] = np.tile([75.9, 76.0, 91.0, 60.0, np.nan], 4)
    person = panels.employee_year_panel(data)
    got = person.loc[person["year"] == 2021, "skp_good"].to_numpy()
    expected = np.tile([0.0, 1.0, 1.0, 0.0, np.nan], 4)
    np.testing.assert_array_equal(got, expected)


def test_training_capacity_needs_20_jp_per_head_in_course_units(dataset):
    cap = panels.training_capacity(dataset, year=2024)
    training = dataset.tables["training"]
    jp_per_course = training.loc[training["date"].dt.year == 2024, "jp"].mean()
    row = cap.set_index("agency_code").loc["A00"]
    # Agency A00: 20 employees, 5 places; 20 JP each needs 20 * 20 / jp_per_course places,
    # whole seats, so the agencies' shortfalls add up to the total the report states.
    assert row["places_needed"] == np.ceil(20 * 20 / jp_per_course)
    assert row["shortfall"] == max(0.0, np.ceil(20 * 20 / jp_per_course) - 5)
    assert (cap["shortfall"] >= 0).all() and (cap["shortfall"] % 1 == 0).all()
    assert cap["shortfall"].is_monotonic_decreasing


def test_training_gap_prices_the_missing_places_at_the_years_budget_per_place(dataset):
    """Cost = places short x (the year's training budget / its training places)."""
    cap = panels.training_capacity(dataset, year=2024)
    gap = panels.training_gap(dataset, year=2024)
    per_place = cap["training_budget"].sum() / cap["training_places"].sum()
    assert gap.places_short == cap["shortfall"].sum() > 0
    assert gap.budget_per_place == pytest.approx(per_place, rel=1e-12)
    assert gap.cost == pytest.approx(gap.places_short * per_place, rel=1e-12)
    assert 0 <= gap.share_below <= 1


def test_panels_are_reused_only_for_the_same_tables_and_years():
    data = make_dataset()
    first = panels.agency_year_panel(data, years=[2021, 2022])
    first["n_employees"] = -1  # a caller's edit must not reach the next caller
    again = panels.agency_year_panel(data, years=[2021, 2022])
    assert (again["n_employees"] >= 0).all()
    assert set(panels.agency_year_panel(data, years=[2022])["year"]) == {2022}
    perf = data.tables["performance"]
    data.tables["performance"] = perf[perf["year"] != 2022].reset_index(drop=True)
    rebuilt = panels.agency_year_panel(data, years=[2021, 2022])
    assert rebuilt.loc[rebuilt["year"] == 2022, "n_employees"].eq(0).all()
    assert rebuilt.loc[rebuilt["year"] == 2021, "n_employees"].sum() > 0
