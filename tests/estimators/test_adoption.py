"""Digital adoption curves: published Kaplan-Meier numbers, a hand example, a known hazard."""

import numpy as np
import pandas as pd
import pytest

from asn_eval.estimators.adoption import (
    DAYS_PER_MONTH,
    adoption_curves,
    age_band,
    kaplan_meier,
)

# Freireich et al. (1963) leukaemia remission data (weeks; 0 = censored), as printed and
# analysed in Kleinbaum and Klein, Survival Analysis: A Self-Learning Text (3rd ed., 2012),
# chapter 2: KM estimates of the 6-MP group, medians 23 (6-MP) and 8 (placebo) weeks, and
# log-rank chi-square 16.79 (1 df).
SIX_MP = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
SIX_MP_KM = {6: 0.8571, 7: 0.8067, 10: 0.7529, 13: 0.6902, 16: 0.6275, 22: 0.5378, 23: 0.4482}


def test_freireich_published_numbers():
    res = kaplan_meier(
        SIX_MP + PLACEBO,
        np.r_[SIX_MP_EVENT, np.ones(21)],
        ["6-MP"] * 21 + ["placebo"] * 21,
        by="treatment",
    )
    curve = res.curves.loc[res.curves["group"] == "6-MP"].set_index("months")
    for week, survival in SIX_MP_KM.items():
        assert 1 - curve.loc[week, "share_using"] == pytest.approx(survival, abs=5e-5)
    assert res.medians.loc["6-MP", "median_months"] == 23
    assert res.medians.loc["placebo", "median_months"] == 8
    assert res.logrank_stat == pytest.approx(16.79, abs=5e-3)
    assert res.logrank_df == 1
    assert res.medians.loc["6-MP", "adopted"] == 9
    assert list(curve["at_risk"].iloc[:3]) == [21, 21, 17]


def test_age_band_in_completed_years():
    births = pd.Series(pd.to_datetime(["1990-06-15", "1990-06-16", "1981-01-01", "1970-02-28"]))
    assert list(age_band(births, at="2020-06-15")) == ["30-39", "<30", "30-39", "50+"]
    ats = pd.to_datetime(["2020-06-14", "2020-06-16", "2021-01-01", "2020-02-27"])
    assert list(age_band(births, at=ats)) == ["<30", "30-39", "40-49", "40-49"]


def hand_example():
    """Agency A digitalised on 2022-01-01, agency B never; follow-up until 2023-01-01."""
    employees = pd.DataFrame(
        {
            "employee_id": [f"e{i}" for i in range(1, 9)],
            "agency_code": ["A"] * 5 + ["B", "A", "A"],
            "birth_date": pd.to_datetime(["1990-01-01"] * 8),
            "service_start": pd.to_datetime(
                ["2010-01-01"] * 2 + ["2022-07-01"] + ["2010-01-01"] * 5
            ),
            "service_end": pd.to_datetime(
                [None, None, None, "2022-03-01", None, None, "2021-06-01", None]
            ),
        }
    )
    adoption = pd.DataFrame(
        {
            "employee_id": employees["employee_id"],
            "first_use": pd.to_datetime(
                [
                    "2022-04-01",
                    None,
                    "2022-08-01",
                    None,
                    "2021-12-15",
                    "2022-05-01",
                    None,
                    "2023-02-01",
                ]
            ),
        }
    )
    policies = pd.DataFrame(
        {"agency_code": ["A", "B"], "digitalisation": pd.to_datetime(["2022-01-01", None])}
    )
    return adoption, employees, policies


def test_hand_example_durations_censoring_and_median():
    adoption, employees, policies = hand_example()
    res = adoption_curves(adoption, employees, policies=policies, by=None, as_of="2023-01-01")
    got = res.durations.set_index("employee_id")
    # e1: used after 90 days; e2: censored at as-of (365 days); e3: clock starts when hired
    # (2022-07-01), used 31 days later; e4: left after 59 days; e5: used before the start
    # (month 0); e8: first use after as-of, so censored. e6 (agency B) and e7 (left in 2021)
    # are not at risk.
    expected_days = {"e1": 90, "e2": 365, "e3": 31, "e4": 59, "e5": 0, "e8": 365}
    assert sorted(got.index) == sorted(expected_days)
    for emp, days in expected_days.items():
        assert got.loc[emp, "months"] == pytest.approx(days / DAYS_PER_MONTH)
    assert list(got.loc[["e1", "e2", "e3", "e4", "e5", "e8"], "adopted"]) == [
        True,
        False,
        True,
        False,
        True,
        False,
    ]
    # By hand: S = 5/6 at 0, 4/6 at 31 days, e4 censored, 4/6 * 2/3 = 4/9 < 1/2 at 90 days.
    assert res.medians.loc["all", "median_months"] == pytest.approx(90 / DAYS_PER_MONTH)
    assert res.curves["share_using"].iloc[-1] == pytest.approx(1 - 4 / 9)
    assert res.info["Agency not digitalised"] == 1
    assert res.info["Left before the start"] == 1
    assert res.info["Used before the start"] == 1
    assert res.statement() == (
        "Half of the employees first used the digital system within 2.96 months of their "
        "agency's start (Kaplan-Meier median)."
    )


def test_known_hazards_are_recovered():
    rng = np.random.default_rng(31)
    hazards = {"S1": 0.4, "SMA": 0.2, "SD": 0.1}  # per month: medians ln 2 / hazard
    n = 3000
    education = rng.choice(list(hazards), size=n)
    agency = rng.integers(0, 30, n)
    starts = pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, 30), unit="D")
    start = starts[agency]
    months = rng.exponential(1 / pd.Series(education).map(hazards).to_numpy())
    first_use = start + pd.to_timedelta(np.round(months * DAYS_PER_MONTH), unit="D")
    as_of = pd.Timestamp("2023-01-01")
    employees = pd.DataFrame(
        {
            "employee_id": np.arange(n),
            "agency_code": agency,
            "birth_date": pd.Timestamp("1985-01-01"),
            "service_start": pd.Timestamp("2010-01-01"),
            "service_end": pd.NaT,
            "education": education,
        }
    )
    adoption = pd.DataFrame(
        {"employee_id": np.arange(n), "first_use": first_use.where(first_use <= as_of)}
    )
    policies = pd.DataFrame({"agency_code": np.arange(30), "digitalisation": starts})
    res = adoption_curves(adoption, employees, policies=policies, by="education", as_of=as_of)
    for group, rate in hazards.items():
        row = res.medians.loc[group]
        assert row["ci_low"] <= np.log(2) / rate <= row["ci_high"], (group, row)
        assert row["median_months"] == pytest.approx(np.log(2) / rate, rel=0.1)
    assert res.logrank_df == 2
    assert res.logrank_pvalue < 1e-10
    frame = res.to_frame()
    assert list(frame.columns) == ["education", "n", "estimate", "std_error", "ci_low", "ci_high"]
    assert res.statement().startswith(
        "By education, the median time to first use of the digital system ranges from"
    )
    assert "Follow-up until" in str(res.summary())


def test_small_groups_are_left_out_with_a_warning():
    durations = np.arange(1, 14, dtype=float)
    groups = ["a"] * 10 + ["b"] * 3
    with pytest.warns(UserWarning) as record:
        res = kaplan_meier(durations, np.ones(13, bool), groups, by="g")
    assert str(record[0].message) == (
        "Left out 1 group(s) with fewer than 5 employees (b) so that no individual can be "
        "recognised."
    )
    assert list(res.medians.index) == ["a"]


def test_missing_start_dates_message():
    adoption, employees, _ = hand_example()
    with pytest.raises(ValueError) as err:
        adoption_curves(adoption, employees)
    assert str(err.value) == (
        "adoption_curves needs each agency's digitalisation start: pass "
        "policies=dataset.tables['policies'] (or a 'start' column in digital_adoption)."
    )


def test_employees_without_birth_date_are_left_out_of_age_bands():
    adoption, employees, policies = hand_example()
    employees.loc[employees["employee_id"] == "e2", "birth_date"] = pd.NaT
    with pytest.warns(UserWarning) as record:
        res = adoption_curves(adoption, employees, policies=policies, as_of="2023-01-01")
    messages = [str(r.message) for r in record]
    assert (
        "adoption_curves: 1 employee(s) without a birth date have no age band and are left out."
        in messages
    )
    assert res.info["No birth date"] == 1
    assert "e2" not in set(res.durations["employee_id"])
