"""Dose-response of training hours and effect heterogeneity: known truth recovered."""

import numpy as np
import pandas as pd
import pytest

from asn_eval.estimators.dose import _hour_bins, dose_response, heterogeneity, hour_bin_labels

EDGES = [0.0, 10.0, 20.0, 40.0, 80.0]


def employee_panel(rng, *, n=3000, years=6, agencies=40):
    frame = pd.DataFrame(
        {
            "employee_id": np.repeat(np.arange(n), years),
            "year": np.tile(np.arange(2018, 2018 + years), n),
        }
    )
    frame["agency_code"] = frame["employee_id"] % agencies
    ability = rng.normal(size=n)
    # Abler staff train more: the unit fixed effect must absorb this selection.
    trains = rng.random(len(frame)) < 1 / (1 + np.exp(-np.repeat(ability, years) - 1))
    frame["jp"] = np.where(trains, rng.gamma(2.0, 15.0, len(frame)).round(1), 0.0)
    frame["base"] = 2 * np.repeat(ability, years) + 0.1 * (frame["year"] - 2018)
    frame["noise"] = rng.normal(size=len(frame))
    return frame


def concave(hours):
    return 2.0 * np.log1p(hours / 10.0)


def test_bin_edges_follow_the_labels():
    hours = np.array([0.0, 0.5, 9.99, 10.0, 19.9, 20.0, 39.9, 40.0, 80.0, 250.0])
    assert hour_bin_labels(EDGES) == [
        "0 JP",
        ">0-10 JP",
        "10-20 JP",
        "20-40 JP",
        "40-80 JP",
        "80+ JP",
    ]
    assert list(_hour_bins(hours, EDGES)) == [0, 1, 1, 2, 2, 3, 3, 4, 5, 5]


def test_known_concave_dose_response_is_recovered():
    frame = employee_panel(np.random.default_rng(11))
    frame["y"] = frame["base"] + concave(frame["jp"]) + frame["noise"]
    res = dose_response(
        frame, outcome="y", hours="jp", unit="employee_id", time="year", cluster="agency_code"
    )
    # True bin effect: mean of f(hours) over the employee-years in the bin, minus f(0).
    codes = _hour_bins(frame["jp"].to_numpy(), EDGES)
    truth = pd.Series(concave(frame["jp"]).to_numpy()).groupby(codes).mean().iloc[1:]
    z = (res.params.to_numpy() - truth.to_numpy()) / res.std_errors.to_numpy()
    assert np.all(np.abs(z) < 3), z
    # Concave: the gain per extra JP between neighbouring bins falls.
    mean_hours = frame["jp"].groupby(codes).mean().to_numpy()
    effects = np.concatenate([[0.0], res.params.to_numpy()])
    slopes = np.diff(effects) / np.diff(mean_hours)
    assert np.all(np.diff(slopes) < 0), slopes
    # No step at 20 JP in a smooth curve.
    assert abs(res.jump) < 3 * res.jump_se
    assert res.to_frame()["n"].sum() + (codes == 0).sum() == len(frame)


def test_known_step_at_the_minimum_is_recovered():
    frame = employee_panel(np.random.default_rng(12))
    jp = frame["jp"]
    # Concave piecewise-linear curve with knots at the bin edges and a 0.5 step at 20 JP.
    smooth = (
        0.10 * jp
        - 0.04 * np.maximum(jp - 10, 0)
        - 0.03 * np.maximum(jp - 20, 0)
        - 0.02 * np.maximum(jp - 40, 0)
    )
    frame["y"] = frame["base"] + smooth + 0.5 * (jp >= 20) + frame["noise"]
    res = dose_response(
        frame, outcome="y", hours="jp", unit="employee_id", time="year", cluster="agency_code"
    )
    assert abs(res.jump - 0.5) < 3 * res.jump_se
    assert res.jump_pvalue < 1e-6
    assert res.statement().startswith(
        "Two-way fixed effects with training-hour bins find a step up in y at the 20 JP minimum"
    )
    assert res.spline_fit.params["hours_slope"] == pytest.approx(0.10, abs=0.02)


def test_dose_response_messages():
    frame = employee_panel(np.random.default_rng(13), n=200)
    frame["y"] = frame["noise"]
    with pytest.raises(ValueError) as err:
        dose_response(frame, outcome="y", hours="jp", unit="employee_id", time="year", bins=(5, 10))
    assert str(err.value) == (
        "dose_response: bins must be increasing edges starting at 0, e.g. (0, 10, 20, 40, 80); "
        "got (5, 10)."
    )
    frame.loc[3, "jp"] = -2
    with pytest.raises(ValueError) as err:
        dose_response(frame, outcome="y", hours="jp", unit="employee_id", time="year")
    assert str(err.value) == (
        "dose_response: jp has 1 negative value(s); training hours must be 0 or more."
    )


def staggered_panel(rng, *, effects, n=2400, agencies=40, noise=1.0, growth=0.0):
    """Employees in agencies adopting in 2020, 2022 or never; effect by education group."""
    years = np.arange(2017, 2024)
    agency_cohort = rng.choice([2020, 2022, 0], size=agencies, p=[0.35, 0.35, 0.30])
    employee = np.arange(n)
    agency = rng.integers(0, agencies, n)
    group = rng.choice(list(effects), size=n)
    frame = pd.DataFrame(
        {
            "employee_id": np.repeat(employee, len(years)),
            "year": np.tile(years, n),
            "agency_code": np.repeat(agency, len(years)),
            "education": np.repeat(group, len(years)),
            "cohort": np.repeat(agency_cohort[agency], len(years)),
        }
    )
    treated = (frame["cohort"] > 0) & (frame["year"] >= frame["cohort"])
    effect = frame["education"].map(effects) + growth * (frame["year"] - frame["cohort"])
    frame["true_effect"] = np.where(treated, effect, 0.0)
    frame["y"] = (
        np.repeat(rng.normal(size=n), len(years))
        + 0.2 * (frame["year"] - 2017)
        + treated * effect
        + rng.normal(0, noise, len(frame))
    )
    return frame


@pytest.mark.parametrize("method", ["cs", "twfe"])
def test_known_difference_between_groups_is_recovered(method):
    effects = {"S1": 1.5, "SMA": 0.5}
    frame = staggered_panel(np.random.default_rng(21), effects=effects)
    res = heterogeneity(
        frame,
        outcome="y",
        unit="employee_id",
        time="year",
        cohort="cohort",
        by="education",
        cluster="agency_code",
        method=method,
    )
    assert list(res.params.index) == ["S1", "SMA"]
    z = (res.params - pd.Series(effects)) / res.std_errors
    assert (z.abs() < 3).all(), z
    diff = res.differences
    assert diff.params.index[0] == "SMA - S1"
    assert abs(diff.params.iloc[0] - (-1.0)) < 3 * diff.std_errors.iloc[0]
    assert res.equality_pvalue < 1e-6
    assert "the groups differ detectably" in res.statement()


def test_subgroup_must_be_fixed_per_unit():
    frame = staggered_panel(np.random.default_rng(22), effects={"S1": 1.0, "SMA": 1.0}, n=100)
    frame.loc[frame["year"] == 2023, "education"] = "S2"
    with pytest.raises(ValueError) as err:
        heterogeneity(
            frame, outcome="y", unit="employee_id", time="year", cohort="cohort", by="education"
        )
    assert str(err.value).startswith(
        "heterogeneity: education changes over time for 100 of 100 units; subgroups must be "
        "fixed per unit"
    )


def test_effects_that_grow_with_exposure_are_recovered_by_callaway_santanna():
    # With effects growing with time since adoption, the "simple" ATT of a group on a balanced
    # panel is the mean true effect over its treated employee-years.
    effects = {"S1": 1.0, "SMA": 0.2}
    frame = staggered_panel(np.random.default_rng(23), effects=effects, growth=0.4)
    res = heterogeneity(
        frame,
        outcome="y",
        unit="employee_id",
        time="year",
        cohort="cohort",
        by="education",
        cluster="agency_code",
    )
    treated = frame.loc[frame["true_effect"] != 0]
    truth = treated.groupby("education")["true_effect"].mean()
    z = (res.params - truth) / res.std_errors
    assert (z.abs() < 3).all(), (res.params, truth)
    expected = truth["SMA"] - truth["S1"]
    assert abs(res.differences.params.iloc[0] - expected) < 3 * res.differences.std_errors.iloc[0]
    # The static TWFE coefficient, by contrast, is pulled down by already-treated controls.
    static = heterogeneity(
        frame,
        outcome="y",
        unit="employee_id",
        time="year",
        cohort="cohort",
        by="education",
        cluster="agency_code",
        method="twfe",
    )
    assert ((static.params - truth) / static.std_errors < -2).all()
