"""``anticipation=``: units that react before adoption, as R's did ``anticipation``.

References: moderndid 0.2 (the Python port of R's did 2.x; its ``att_gt(anticipation=)``
follows R's ``compute.att_gt``) on mpdta with ``anticipation=1``, to 1e-8 for every
ATT(g, t), its analytic standard error and the four aggregations. No R output of mpdta with
``anticipation=1`` was found in print (the did documentation prints ``Anticipation Periods:
0`` only), so R's own rules are checked directly: which units are comparison units, which
cohorts are dropped or kept (R's tests ``test-user_bug_fixes.R``), and the known truth of a
simulated anticipation dip (R's ``test-att_gt.R`` "anticipation").
"""

from __future__ import annotations

import re
import warnings

import moderndid
import numpy as np
import pandas as pd
import pytest

from asn_eval.estimators.did import att_gt, event_study, pretrend_test

COLUMNS = dict(outcome="lemp", unit="countyreal", time="year", cohort="first.treat")
KINDS = ("simple", "dynamic", "group", "calendar")


def _ours(data, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cohort 2004 is dropped: adopting within 1 period
        return att_gt(data, **COLUMNS, anticipation=1, **kwargs)


def _moderndid(data, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = moderndid.att_gt(
            data, yname="lemp", tname="year", idname="countyreal", gname="first.treat",
            boot=False, anticipation=1, **kwargs,
        )  # fmt: skip
        return res, {k: moderndid.aggte(res, type=k, boot=False) for k in KINDS}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({}, {}),
        (dict(control_group="notyet"), dict(control_group="notyettreated")),
        (dict(base_period="universal"), dict(base_period="universal")),
        (
            dict(base_period="universal", control_group="notyet"),
            dict(base_period="universal", control_group="notyettreated"),
        ),
        (dict(covariates=["lpop"]), dict(xformla="~lpop")),
        (
            dict(covariates=["lpop"], control_group="notyet"),
            dict(xformla="~lpop", control_group="notyettreated"),
        ),
    ],
    ids=["never", "notyet", "universal", "universal-notyet", "dr", "dr-notyet"],
)
def test_anticipation_one_on_mpdta_matches_moderndid(mpdta, ours, theirs):
    res = _ours(mpdta, **ours)
    ref, aggs = _moderndid(mpdta, **theirs)
    cells = list(zip(ref.groups.astype(int), ref.times.astype(int), strict=True))
    assert list(res.params.index) == cells
    np.testing.assert_allclose(res.params.to_numpy(), ref.att_gt, rtol=0, atol=1e-8)
    np.testing.assert_allclose(
        res.std_errors.fillna(0).to_numpy(), np.nan_to_num(ref.se_gt), rtol=0, atol=1e-8
    )
    for kind, agg_ref in aggs.items():
        agg = res.aggregate(kind)
        assert agg.overall_att == pytest.approx(agg_ref.overall_att, abs=1e-8), kind
        assert agg.overall_se == pytest.approx(agg_ref.overall_se, abs=1e-8), kind
    dynamic, dyn_ref = res.aggregate("dynamic"), aggs["dynamic"]
    assert dynamic.params.index.tolist() == dyn_ref.event_times.astype(int).tolist()
    np.testing.assert_allclose(dynamic.params.to_numpy(), dyn_ref.att_by_event, atol=1e-8)
    np.testing.assert_allclose(
        dynamic.std_errors.fillna(0).to_numpy(), np.nan_to_num(dyn_ref.se_by_event), atol=1e-8
    )
    # moderndid rounds its pre-test p-value to 5 decimals
    assert pretrend_test(res, method="chi2").p_value == pytest.approx(ref.wald_pvalue, abs=5e-6)


def test_base_period_and_comparison_units_follow_r_rules(mpdta):
    # cohort 2004 adopts within one period of the first year (2003): no clean base period
    with pytest.warns(UserWarning, match=re.escape("within anticipation=1 periods of it")):
        res = att_gt(mpdta, **COLUMNS, anticipation=1, control_group="notyet")
    assert res.dropped["dropped_treated_first_period"] == 20
    cells = res.cells.set_index(["cohort", "time"])
    # post-treatment cells compare with g - 1 - anticipation
    assert cells.loc[(2006, 2007), "base"] == 2004 and cells.loc[(2007, 2007), "base"] == 2005
    # not-yet-treated comparison units must be untreated through the later period + 1:
    # 309 never-treated counties, 40 of cohort 2006, 131 of cohort 2007
    assert cells.loc[(2006, 2005), "n_control"] == 309 + 131  # 2007 > 2005 + 1
    assert cells.loc[(2007, 2005), "n_control"] == 309  # 2006 is not > 2005 + 1
    without = att_gt(mpdta, **COLUMNS, control_group="notyet").cells.set_index(["cohort", "time"])
    assert without.loc[(2007, 2005), "n_control"] == 309 + 40  # 2006 > 2005
    assert res.info["anticipation"] == "1 period(s)"


def test_cohort_adopting_after_the_last_period_but_within_anticipation_is_kept():
    # R's test "groups treated after max(t) but within anticipation window are not coerced
    # to never-treated": periods 1-5, cohorts 0, 4 and 6, anticipation 2
    rng = np.random.default_rng(20250228)
    n = 600
    data = pd.DataFrame({"id": np.repeat(np.arange(n), 5), "time": np.tile(np.arange(1, 6), n)})
    data["group"] = np.repeat([0, 4, 6], 200)[data["id"]]
    data["y"] = rng.normal(size=len(data))
    cols = dict(outcome="y", unit="id", time="time", cohort="group")
    plain = att_gt(data, **cols)
    assert set(plain.params.index.get_level_values("cohort")) == {4}
    assert plain.info["cohort_sizes"]["never"] == 400
    ahead = att_gt(data, **cols, anticipation=2)
    assert set(ahead.params.index.get_level_values("cohort")) == {4, 6}
    assert ahead.info["cohort_sizes"]["never"] == 200
    # cohort 6 may react from period 4: all its cells are pre-treatment ones, and with a
    # universal base period they all compare with period 3
    universal = att_gt(data, **cols, anticipation=2, base_period="universal").cells
    six = universal[universal["cohort"] == 6]
    assert not six["post"].any() and (six["base"] == 3).all()


def _dip_panel(seed: int = 3, n: int = 3000) -> pd.DataFrame:
    """Units dip by 1 one period before adoption, then gain e + 1 at event time e >= 0."""
    rng = np.random.default_rng(seed)
    periods = np.arange(1, 9)
    cohort = rng.choice([0, 4, 6], size=n, p=[0.3, 0.35, 0.35])
    frame = pd.DataFrame({"id": np.repeat(np.arange(n), periods.size), "t": np.tile(periods, n)})
    frame["g"] = cohort[frame["id"]]
    e = np.where(frame["g"] > 0, frame["t"] - frame["g"], -99)
    effect = np.where(e == -1, -1.0, np.where(e >= 0, e + 1.0, 0.0))
    frame["y"] = rng.normal(size=n)[frame["id"]] + 0.3 * frame["t"] + effect
    frame["y"] += rng.normal(size=len(frame))
    return frame


@pytest.mark.parametrize("control_group", ["never", "notyet"])
def test_anticipation_recovers_a_known_dip_that_biases_the_default(control_group):
    data = _dip_panel()
    cols = dict(outcome="y", unit="id", time="t", cohort="g", control_group=control_group)
    truth = pd.Series({-1: -1.0, 0: 1.0, 1: 2.0, 2: 3.0})
    ahead = att_gt(data, **cols, anticipation=1).aggregate("dynamic")
    est, se = ahead.params.loc[truth.index], ahead.std_errors.loc[truth.index]
    assert (np.abs(est - truth) < 4 * se).all(), (est - truth) / se
    # ignoring the dip puts it in the base period: every effect overstated by 1 (more where
    # not-yet-treated comparison units are dipping themselves)
    naive = att_gt(data, **cols).aggregate("dynamic")
    bias = naive.params.loc[[0, 1, 2]] - truth.loc[[0, 1, 2]]
    if control_group == "never":
        assert (np.abs(bias - 1.0) < 4 * naive.std_errors.loc[[0, 1, 2]]).all(), bias
    assert (bias > 0.8).all(), bias


def test_event_study_reference_moves_with_anticipation(mpdta):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = event_study(mpdta, **COLUMNS, anticipation=1, reference=-2)
        tw = event_study(mpdta, **COLUMNS, method="twfe", anticipation=1, reference=-2)
    assert es.params.loc[-2] == 0.0 and np.isnan(es.std_errors.loc[-2])
    assert "universal base period g-2 (event time -2 is 0)" in es.info["specification"]
    assert np.isfinite(es.std_errors.loc[-1]) and np.isfinite(tw.std_errors.loc[-1])
    assert tw.params.loc[-2] == 0.0
    message = (
        "event_study(method='cs'): reference must be -2 (universal base period g-2 with "
        "anticipation=1) or None (varying base period); got -1."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        event_study(mpdta, **COLUMNS, anticipation=1)
    message = (
        "event_study(method='twfe'): with anticipation=1 units may react from event time -1; "
        "the reference must be -2 or earlier, got -1."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        event_study(mpdta, **COLUMNS, method="twfe", anticipation=1)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_anticipation_must_be_a_whole_number(mpdta, bad):
    message = f"anticipation must be a whole number of periods >= 0; got {bad!r}."
    with pytest.raises(ValueError, match=re.escape(message)):
        att_gt(mpdta, **COLUMNS, anticipation=bad)
    with pytest.raises(ValueError, match=re.escape(message)):
        event_study(mpdta, **COLUMNS, anticipation=bad)
