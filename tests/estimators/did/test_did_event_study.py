"""event_study: the dynamic TWFE regression against the Callaway-Sant'Anna event study."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from asn_eval.data.synth import simulate_panel, true_att
from asn_eval.estimators.did import event_study, pretrend_test

COLUMNS = dict(outcome="y", unit="employee_id", time="year", cohort="cohort")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(n_employees=1500, n_agencies=40, seed=11)


def test_one_cohort_twfe_event_study_equals_cs_exactly(panel):
    # With a single adoption cohort and never-treated controls the dynamic TWFE regression is
    # saturated: each coefficient is the 2x2 DiD of period t against g-1, i.e. CS's ATT(g,t)
    # with the universal base period.
    one = panel[panel["cohort"].isin([0, 2022])]
    cs = event_study(one, **COLUMNS, method="cs", reference=-1)
    tw = event_study(one, **COLUMNS, method="twfe", reference=-1)
    assert tw.params.index.tolist() == cs.params.index.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    np.testing.assert_allclose(tw.params.to_numpy(), cs.params.to_numpy(), atol=1e-9)
    assert tw.overall_att == pytest.approx(cs.overall_att, abs=1e-9)
    assert tw.params.loc[-1] == 0.0 and np.isnan(tw.std_errors.loc[-1])
    assert tw.to_frame().columns.tolist()[:2] == ["event_time", "estimate"]


def test_staggered_cs_recovers_the_true_dynamic_effects(panel):
    cs = event_study(panel, **COLUMNS, method="cs", cluster="agency")
    truth = true_att(panel, by="exposure")
    frame = cs.to_frame().set_index("event_time")
    post = frame.loc[truth.index]
    z = np.abs(post["estimate"] - truth) / post["std_error"]
    assert (z < 3.5).all(), z
    pre = frame.loc[[-4, -3, -2]]
    assert (pre["estimate"].abs() < 3.5 * pre["std_error"]).all()
    assert pretrend_test(cs).p_value > 0.01


def test_twfe_binned_window(panel):
    tw = event_study(panel, **COLUMNS, method="twfe", window=(-3, 3), cluster="agency")
    assert tw.params.index.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert "end points binned at (-3, 3)" in tw.info["specification"]
    assert tw.vcov.index.tolist() == [-3, -2, 0, 1, 2, 3]
    # binning changes the end points only: -5 and -4 join -3, event time 4 joins 3
    full = event_study(panel, **COLUMNS, method="twfe", cluster="agency")
    assert full.params.index.tolist() == list(range(-5, 5))
    test = pretrend_test(tw)
    assert test.df == 2 and test.tested == (-3, -2)
    trimmed = event_study(
        panel, **COLUMNS, method="twfe", window=(-3, 3), endpoints="trim", cluster="agency"
    )
    assert trimmed.params.index.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    event = panel["year"] - panel["cohort"]
    outside = (panel["cohort"] > 0) & ((event < -3) | (event > 3))
    assert trimmed.source.nobs == len(panel) - outside.sum() > 0
    assert "end points trimmed at (-3, 3)" in trimmed.info["specification"]


def test_twfe_event_study_recovers_effects_that_are_equal_across_cohorts():
    # effects grow with exposure but do not differ by cohort: the fully dynamic TWFE
    # regression is then unbiased (Sun and Abraham 2021)
    same = simulate_panel(n_employees=1500, n_agencies=40, seed=5, effects={"cohort_spread": 0})
    tw = event_study(same, **COLUMNS, method="twfe", cluster="agency")
    truth = true_att(same, by="exposure")
    est = tw.to_frame().set_index("event_time").loc[truth.index]
    assert ((est["estimate"] - truth).abs() < 3.5 * est["std_error"]).all()
    assert tw.df == 39


def test_event_study_messages(panel):
    with pytest.raises(ValueError, match="method must be 'cs' or 'twfe'; got 'sa'"):
        event_study(panel, **COLUMNS, method="sa")
    with pytest.raises(ValueError, match=r"reference -5 lies outside the window \(-3, 3\)"):
        event_study(panel, **COLUMNS, method="twfe", window=(-3, 3), reference=-5)
    with pytest.raises(ValueError, match="reference must be -1 .* or None"):
        event_study(panel, **COLUMNS, method="cs", reference=-2)


def test_cs_event_study_uniform_band_from_the_bootstrap(panel):
    es = event_study(panel, **COLUMNS, method="cs", cluster="agency", n_boot=999, seed=1)
    again = event_study(panel, **COLUMNS, method="cs", cluster="agency", n_boot=999, seed=1)
    pd.testing.assert_frame_equal(es.to_frame(), again.to_frame())
    # a band over nine event times needs a larger critical value than one pointwise interval
    assert 1.96 < es.critical_value < 3.5
    frame = es.to_frame().dropna()
    np.testing.assert_allclose(
        frame["ci_high"] - frame["estimate"], es.critical_value * frame["std_error"]
    )
    with pytest.raises(ValueError, match="n_boot is for method='cs'"):
        event_study(panel, **COLUMNS, method="twfe", n_boot=99)
