"""The pre-trend test with few agencies per adoption cohort: size, power and messages.

A placebo study on panels without pre-trends (``simulate_panel(effects=0)``: parallel trends
hold by construction) measures how often the test rejects at 5%. The chi-squared Wald test
of R's did rejects far too often when agencies are the clusters and a cohort has only a
handful of them; the small-sample default (leverage-corrected covariance, Hotelling F with
estimated degrees of freedom) must reject close to 5%.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from asn_eval.data.synth import simulate_panel
from asn_eval.estimators.did import (
    MIN_CLUSTERS_PRETREND,
    att_gt,
    event_study,
    pretrend_test,
)

AGENCY = dict(outcome="y", unit="agency", time="year", cohort="cohort")
EMPLOYEE = dict(outcome="y", unit="employee_id", time="year", cohort="cohort", cluster="agency")
ALPHA = 0.05


def agency_panel(n_agencies: int, seed: int, *, drift: float = 0.0) -> pd.DataFrame:
    """Agency-year means of a simulated city, as the impact chapter analyses them.

    ``drift`` adds a linear pre-trend: adopting agencies gain ``drift`` a year until their
    adoption year, so parallel trends fail before adoption.
    """
    panel = simulate_panel(n_employees=20 * n_agencies, n_agencies=n_agencies, effects=0, seed=seed)
    if drift:
        adopter = panel["cohort"] > 0
        years_to_adoption = np.minimum(panel["year"] - panel["cohort"], 0)
        panel = panel.assign(y=panel["y"] + np.where(adopter, drift * years_to_adoption, 0.0))
    return panel.groupby(["agency", "year"], as_index=False).agg(
        y=("y", "mean"), cohort=("cohort", "first")
    )


def placebo_pvalues(sizes, reps: int, *, level: str = "agency") -> pd.DataFrame:
    """p-values of both methods on the event study (reference -1) of placebo panels."""
    rows = []
    for n_agencies in sizes:
        for seed in range(reps):
            if level == "agency":
                data, columns = agency_panel(n_agencies, seed), AGENCY
            else:
                data = simulate_panel(
                    n_employees=20 * n_agencies, n_agencies=n_agencies, effects=0, seed=seed
                )
                columns = EMPLOYEE
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    es = event_study(data, **columns, reference=-1)
                except ValueError:  # a draw without never-treated agencies
                    continue
            try:
                chi2 = pretrend_test(es, method="chi2").p_value
            except ValueError:  # singular covariance: R's test gives no p-value
                chi2 = np.nan
            rows.append({"n_agencies": n_agencies, "chi2": chi2, "f": pretrend_test(es).p_value})
    return pd.DataFrame(rows)


def rejection(frame: pd.DataFrame, column: str) -> float:
    # an untestable draw (p missing) is not a rejection, as the chapter reports it
    return float((frame[column] < ALPHA).mean())


# --- size on placebo panels ---------------------------------------------------------------
def test_placebo_rejection_is_near_five_percent_with_agencies_as_clusters():
    # 2 x 120 placebo cities of 20 and 43 agencies (cohorts of about 4 and 8 agencies).
    # Measured: chi2 rejects 23.8% of the 240, the default 4.6%.
    frame = placebo_pvalues((20, 43), reps=120)
    assert len(frame) >= 230
    assert rejection(frame, "chi2") > 0.12  # the problem is real ...
    assert 0.025 <= rejection(frame, "f") <= 0.08  # ... and the default fixes it


@pytest.mark.slow
@pytest.mark.parametrize("level", ["agency", "employee"])
@pytest.mark.parametrize("n_agencies", [15, 20, 30, 43])
def test_placebo_rejection_by_number_of_agencies(level, n_agencies):
    # measured (15/20/30/43 agencies): agency means 6.4/6.2/4.0/3.3%, employees clustered
    # by agency 6.9/7.7/3.2/4.7%; chi2 13-41%. About 60 s for all eight.
    frame = placebo_pvalues((n_agencies,), reps=600, level=level)
    # 600 draws: a 5% rate has a Monte Carlo standard error of 0.9 points
    assert 0.02 <= rejection(frame, "f") <= 0.085
    assert rejection(frame, "chi2") > 0.10


# --- power --------------------------------------------------------------------------------
def test_a_real_linear_pre_trend_is_detected():
    # adopting agencies gain 0.25 a year (about one noise SD of an agency mean) before
    # adoption; the calibrated test must still find it in most of 40 cities of 43 agencies
    pvalues = []
    for seed in range(40):
        data = agency_panel(43, seed, drift=0.25)
        pvalues.append(pretrend_test(event_study(data, **AGENCY, reference=-1)).p_value)
    power = np.mean(np.array(pvalues) < ALPHA)
    assert power >= 0.8, power


def test_group_time_version_rejects_a_steep_pre_trend():
    data = agency_panel(43, 3, drift=0.5)
    test = pretrend_test(att_gt(data, **AGENCY))
    assert test.method == "f" and test.df == 10 and test.p_value < 0.01
    assert "rejects parallel pre-trends at the 5% level" in test.statement()


# --- what the result says ---------------------------------------------------------------
def test_many_units_the_default_is_close_to_the_chi_squared_test():
    data = simulate_panel(n_employees=2000, n_agencies=40, effects=0, seed=5)
    res = att_gt(data, outcome="y", unit="employee_id", time="year", cohort="cohort")
    chi2, small = pretrend_test(res, method="chi2"), pretrend_test(res)
    # each of 2,000 employees is a cluster: F(q, ~2000) * q is nearly chi2(q)
    assert small.df_denom > 1000 and small.reliable and small.note == ""
    assert small.p_value == pytest.approx(chi2.p_value, abs=0.01)
    assert small.statement().startswith("Joint small-sample F test of 10 pre-treatment effects")


def test_fewer_than_ten_clusters_is_said_out_loud():
    data = simulate_panel(n_employees=600, n_agencies=8, effects=0, seed=2, never_share=0.4)
    test = pretrend_test(event_study(data, **EMPLOYEE, reference=-1))
    assert test.n_clusters == 8 < MIN_CLUSTERS_PRETREND
    assert not test.reliable
    assert (
        "Only 8 clusters: too few for any calibration of the pre-trend test (at least 10 are "
        "needed); its p-value is only indicative." in test.note
    )


def test_too_small_cohorts_for_a_joint_test_give_no_p_value():
    # 10 agencies in five cohorts: 3 pre-period effects on about 1.5 effective clusters
    data = agency_panel(10, 3)
    test = pretrend_test(event_study(data, **AGENCY, reference=-1))
    assert np.isnan(test.p_value) and not test.reliable and test.df == 3
    assert test.statement().startswith(
        "The pre-trend test of 3 pre-treatment effects is not computed: The 3 pre-treatment "
        "effects cannot be tested jointly: their covariance rests on about "
    )
    assert test.note.endswith(
        "effective clusters (the adoption cohorts are too small), and the F reference needs "
        "at least 3."
    )


def test_more_effects_than_clusters_can_carry_are_not_tested_and_say_why():
    data = agency_panel(10, 0)  # 10 pre-period cells, 10 agencies, a one-agency cohort
    res = att_gt(data, **AGENCY)
    test = pretrend_test(res)
    assert np.isnan(test.p_value) and not test.reliable and test.n_clusters == 10
    assert test.statement() == (
        "The pre-trend test of 10 pre-treatment effects is not computed: The covariance of "
        "the 10 pre-treatment estimates from 10 clusters is singular (too few clusters in "
        "some adoption cohort); the Wald statistic is not defined."
    )
    with pytest.raises(ValueError) as error:  # R's chi-squared test has no result to give
        pretrend_test(res, method="chi2")
    assert str(error.value) == (
        "pretrend_test: the covariance of the 10 pre-treatment estimates from 10 clusters is "
        "singular (too few clusters in some adoption cohort); the Wald statistic is not "
        "defined."
    )


def test_unknown_method_is_refused():
    data = agency_panel(20, 0)
    with pytest.raises(
        ValueError, match=r"^pretrend_test: method must be 'f' or 'chi2'; got 'z'\.$"
    ):
        pretrend_test(att_gt(data, **AGENCY), method="z")


def test_nothing_before_adoption_to_test_is_an_error_with_a_reason():
    # three years, every adopter starts in the second: event time -1 is the reference
    data = simulate_panel(n_employees=300, n_agencies=12, years=range(2019, 2022), seed=1)
    es = event_study(data, **EMPLOYEE, reference=-1)
    for method in ("f", "chi2"):
        with pytest.raises(ValueError) as error:
            pretrend_test(es, method=method)
        assert str(error.value) == (
            "pretrend_test: the result has no pre-treatment estimates to test."
        )


@pytest.mark.slow
def test_placebo_cities_with_the_chapter_outcomes():
    """The city generator with every effect zero, the impact chapter's agency-year outcomes.

    Measured on 200 cities (seeds 100-299): the 43-agency outcomes reject 3.4% (chi2 13.9%),
    IKM with 14 agencies 5.9% (chi2 52%, 13% untestable), puskesmas minutes with 5 clusters
    are always flagged unreliable (chi2 28%). About 2 minutes.
    """
    from asn_eval.analysis import impact
    from asn_eval.analysis.panels import agency_year_panel
    from asn_eval.data.synth import generate_city

    rows = []
    for seed in range(100, 300):
        city = generate_city(seed=seed, effects=0)
        tables = {
            name: frame.rename(columns={"nip": "employee_id"})
            for name, frame in city.tables.items()
        }
        years = list(range(city.truth["years"][0], city.truth["years"][1] + 1))
        panel = agency_year_panel(SimpleNamespace(tables=tables, years=years), years=years)
        for policy, outcomes in impact.POLICY_OUTCOMES.items():
            for key in outcomes:
                complete = panel.groupby(impact.UNIT)[key].transform(lambda s: s.notna().all())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        es = event_study(
                            panel.loc[complete],
                            outcome=key,
                            unit=impact.UNIT,
                            time=impact.TIME,
                            cohort=f"cohort_{policy}",
                            reference=-1,
                        )
                        test = pretrend_test(es)
                    except ValueError:  # no never-adopters or nothing before adoption
                        continue
                    try:
                        chi2 = pretrend_test(es, method="chi2").p_value
                    except ValueError:
                        chi2 = np.nan
                rows.append(
                    {
                        "key": key,
                        "G": test.n_clusters,
                        "f": test.p_value,
                        "chi2": chi2,
                        "reliable": test.reliable,
                    }
                )
    frame = pd.DataFrame(rows)
    city_wide = frame[frame["G"] >= 40]
    assert len(city_wide) >= 1500
    assert 0.02 <= rejection(city_wide, "f") <= 0.08
    assert rejection(city_wide, "chi2") > 0.10
    ikm = frame[frame["key"] == "ikm"]
    assert rejection(ikm, "f") <= 0.09 < 0.3 < rejection(ikm, "chi2")
    few = frame[frame["G"] < MIN_CLUSTERS_PRETREND]  # puskesmas minutes: say so, always
    assert len(few) > 50 and not few["reliable"].any()
