"""Goodman-Bacon decomposition: the identities of Theorem 1 and the bias it reveals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from asn_eval.estimators.bacon import (
    EARLIER_VS_LATER,
    LATER_VS_ALWAYS,
    LATER_VS_EARLIER,
    TREATED_VS_NEVER,
    bacon_decomposition,
)
from asn_eval.estimators.twfe import twfe


def panel(*, cohorts, sizes, n_periods=8, effect=lambda e: 1.0 + 0 * e, noise=1.0, seed=0):
    """Balanced panel; ``cohorts`` are first treated periods (0 = never, 2019 = always)."""
    rng = np.random.default_rng(seed)
    first = np.repeat(cohorts, sizes)
    n_units = first.size
    unit = np.repeat(np.arange(n_units), n_periods)
    year = np.tile(np.arange(2019, 2019 + n_periods), n_units)
    start = first[unit]
    treated = (start > 0) & (year >= start)
    event_time = np.where(treated, year - start, 0)
    y = (
        rng.normal(size=n_units)[unit]
        + 0.2 * (year - 2019)
        + np.where(treated, effect(event_time), 0.0)
        + noise * rng.normal(size=unit.size)
    )
    return pd.DataFrame({"unit": unit, "year": year, "treated": treated.astype(int), "y": y})


@pytest.mark.parametrize(
    "cohorts, sizes",
    [
        ((0, 2021, 2023, 2025), (30, 20, 25, 15)),  # never treated and three timing groups
        ((2019, 2022, 2024), (10, 40, 30)),  # always treated, no never treated
        ((0, 2019, 2020, 2022, 2026), (7, 11, 13, 17, 19)),  # all types at once
    ],
)
def test_weights_sum_to_one_and_reproduce_twfe(cohorts, sizes):
    data = panel(cohorts=cohorts, sizes=sizes, effect=lambda e: 1.0 + 0.5 * e, seed=len(sizes))
    res = bacon_decomposition(data, outcome="y", treatment="treated", unit="unit", time="year")
    frame = res.to_frame()
    assert frame["weight"].sum() == pytest.approx(1.0, abs=1e-8)
    assert (frame["weight"] > 0).all()
    reg = twfe(data, outcome="y", treatment="treated", unit="unit", time="year")
    assert (frame["weight"] * frame["estimate"]).sum() == pytest.approx(
        reg.params["treated"], abs=1e-8
    )
    assert res.twfe_estimate == pytest.approx(reg.params["treated"], abs=1e-8)
    # Each 2x2 is a DiD between two timing groups: n groups give n(n-1) ordered (treated,
    # control) pairs, less those where the never-treated would be the treated group or the
    # always-treated would need a pre-period.
    n = len(cohorts)
    has_never, has_always = 0 in cohorts, 2019 in cohorts
    expected = n * (n - 1) - (n - 1) * has_never - (n - 1) * has_always
    assert len(frame) == expected


def test_constant_effect_every_comparison_recovers_it():
    """Noise-free, homogeneous effect: every 2x2 equals the effect, so does TWFE."""
    data = panel(cohorts=(0, 2021, 2023, 2019), sizes=(5, 6, 7, 8), noise=0.0)
    res = bacon_decomposition(data, outcome="y", treatment="treated", unit="unit", time="year")
    np.testing.assert_allclose(res.params.to_numpy(), 1.0, atol=1e-12)
    assert set(res.to_frame()["type"]) == {
        TREATED_VS_NEVER,
        EARLIER_VS_LATER,
        LATER_VS_EARLIER,
        LATER_VS_ALWAYS,
    }


def test_growing_effects_bias_later_vs_earlier_comparisons():
    """Effects that build up (1 + e) make already-treated controls understate the effect."""
    data = panel(cohorts=(0, 2021, 2024), sizes=(30, 30, 30), effect=lambda e: 1.0 + e, noise=0.0)
    res = bacon_decomposition(data, outcome="y", treatment="treated", unit="unit", time="year")
    types = res.by_type()
    # The clean comparisons are positive averages of 1 + e >= 1 ...
    assert types.loc[TREATED_VS_NEVER, "estimate"] > 1.0
    # ... while the earlier cohort's growing effect is subtracted in the forbidden one.
    assert types.loc[LATER_VS_EARLIER, "estimate"] < 1.0
    assert "use already-treated units as controls" in res.statement()


def test_unbalanced_panel_message():
    data = panel(cohorts=(0, 2021), sizes=(3, 3)).iloc[1:]
    with pytest.raises(ValueError) as err:
        bacon_decomposition(data, outcome="y", treatment="treated", unit="unit", time="year")
    assert str(err.value) == (
        "bacon_decomposition needs a balanced panel with one row per unit and period: "
        "6 units x 8 periods would be 48 rows, found 47 (after dropping rows with missing "
        "values)."
    )


def test_treatment_that_switches_off_is_refused():
    data = panel(cohorts=(0, 2021), sizes=(3, 3))
    data.loc[(data["unit"] == 4) & (data["year"] == 2024), "treated"] = 0
    with pytest.raises(ValueError, match="must be absorbing"):
        bacon_decomposition(data, outcome="y", treatment="treated", unit="unit", time="year")
