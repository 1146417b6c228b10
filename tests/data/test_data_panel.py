"""simulate_panel: shape, truth, zero effects, and the bias it is built to show."""

import numpy as np
import pytest

from asn_eval.data.synth import simulate_panel, true_att


def test_same_seed_same_panel_and_columns():
    a = simulate_panel(n_employees=500, n_agencies=20, seed=3)
    b = simulate_panel(n_employees=500, n_agencies=20, seed=3)
    assert list(a.columns) == [
        "employee_id",
        "agency",
        "year",
        "cohort",
        "treated",
        "y",
        "true_effect",
    ]
    assert a.equals(b)
    assert len(a) == 500 * 7


def test_true_effect_follows_the_documented_formula():
    panel = simulate_panel(n_employees=2000, seed=5)
    treated = panel[panel["treated"] == 1]
    exposure = treated["year"] - treated["cohort"]
    # defaults: level 1, growth 0.5, spread 0.5 over cohorts 2021..2024
    expected = (1.0 + 0.5 * exposure) * (1 + 0.5 * (2024 - treated["cohort"]) / 3)
    np.testing.assert_allclose(treated["true_effect"], expected)
    assert (panel.loc[panel["treated"] == 0, "true_effect"] == 0).all()
    # treated exactly from the cohort year on; never-treated coded 0
    started = (panel["cohort"] > 0) & (panel["year"] >= panel["cohort"])
    assert ((panel["treated"] == 1) == started).all()
    assert set(panel["cohort"]) <= {0, 2021, 2022, 2023, 2024}


def test_zero_effects_give_zero_truth():
    panel = simulate_panel(n_employees=300, effects=0, seed=2)
    assert (panel["true_effect"] == 0).all()
    with pytest.raises(ValueError, match="unknown effect keys"):
        simulate_panel(effects={"slope": 1.0})


def test_twfe_is_biased_but_cohort_year_means_recover_truth():
    # Known truth recovered by a simple clean comparison: within each cohort, the change
    # from the last pre-year to year t minus the same change among never-treated units.
    panel = simulate_panel(n_employees=6000, seed=11, noise_sd=1.0)
    means = panel.groupby(["cohort", "year"])["y"].mean()
    g, t = 2021, 2023
    did = (means[g, t] - means[g, g - 1]) - (means[0, t] - means[0, g - 1])
    truth = true_att(panel, by=["cohort", "year"])[g, t]
    assert truth == pytest.approx(3.0)  # (1 + 0.5*2) * 1.5
    assert did == pytest.approx(truth, abs=0.25)

    # Naive TWFE (employee and year FE) via two-way demeaning on a balanced panel.
    y = panel["y"] - panel.groupby("employee_id")["y"].transform("mean")
    y = y - panel.assign(y=y).groupby("year")["y"].transform("mean")
    d = panel["treated"] - panel.groupby("employee_id")["treated"].transform("mean")
    d = d - panel.assign(d=d).groupby("year")["d"].transform("mean")
    twfe = float((d * y).sum() / (d * d).sum())
    assert twfe < true_att(panel) - 0.5  # visibly below the overall ATT
