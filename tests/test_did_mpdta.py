"""att_gt and its aggregations against R's did on mpdta (Callaway and Sant'Anna 2021).

Reference numbers: R did 2.1, ``att_gt(yname="lemp", tname="year", idname="countyreal",
gname="first.treat", data=mpdta, bstrap=FALSE)`` and ``aggte(type=..., bstrap=FALSE)``,
as printed (4 decimals) in the did documentation and quoted in issue 6. The doubly robust,
not-yet-treated and universal-base variants are checked against moderndid, the Python port
of R's did, to 1e-10.
"""

from __future__ import annotations

import importlib.resources

import moderndid  # the Python port of R's did: mpdta and a second reference
import numpy as np
import pandas as pd
import pytest

from asn_eval.estimators.did import att_gt, event_study, pretrend_test

# (cohort, time): (ATT, SE) printed by R's did
R_ATT_GT = {
    (2004, 2004): (-0.0105, 0.0233),
    (2004, 2005): (-0.0704, 0.0310),
    (2004, 2006): (-0.1373, 0.0364),
    (2004, 2007): (-0.1008, 0.0344),
    (2006, 2004): (0.0065, 0.0233),
    (2006, 2005): (-0.0028, 0.0196),
    (2006, 2006): (-0.0046, 0.0178),
    (2006, 2007): (-0.0412, 0.0202),
    (2007, 2004): (0.0305, 0.0150),
    (2007, 2005): (-0.0027, 0.0164),
    (2007, 2006): (-0.0311, 0.0179),
    (2007, 2007): (-0.0261, 0.0167),
}
R_OVERALL = {
    "simple": (-0.0400, 0.0120),
    "group": (-0.0310, 0.0124),
    "dynamic": (-0.0772, 0.0200),
    "calendar": (-0.0417, 0.0160),
}
R_DYNAMIC = pd.DataFrame(
    {
        "event_time": [-3, -2, -1, 0, 1, 2, 3],
        "estimate": [0.0305, -0.0006, -0.0245, -0.0199, -0.0510, -0.1373, -0.1008],
        "std_error": [0.0150, 0.0133, 0.0142, 0.0118, 0.0169, 0.0364, 0.0344],
    }
)
# R's did prints "P-value for pre-test of parallel trends assumption: 0.16812".
R_PRETEST_P = 0.16812
HALF_UNIT_4DP = 0.5e-4 + 1e-12

COLUMNS = dict(outcome="lemp", unit="countyreal", time="year", cohort="first.treat")


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    path = importlib.resources.files("moderndid.core.datasets") / "mpdta_long.pkl.gz"
    return pd.read_pickle(path)


@pytest.fixture(scope="module")
def result(mpdta):
    return att_gt(mpdta, **COLUMNS)


def test_every_att_gt_and_se_matches_r_to_4_decimals(result):
    frame = result.to_frame().set_index(["cohort", "time"])
    assert list(frame.index) == list(R_ATT_GT)
    for cell, (att, se) in R_ATT_GT.items():
        assert abs(frame.loc[cell, "estimate"] - att) <= HALF_UNIT_4DP, cell
        assert abs(frame.loc[cell, "std_error"] - se) <= HALF_UNIT_4DP, cell


@pytest.mark.parametrize("kind", list(R_OVERALL))
def test_aggregations_match_r_to_4_decimals(result, kind):
    agg = result.aggregate(kind)
    att, se = R_OVERALL[kind]
    assert abs(agg.overall_att - att) <= HALF_UNIT_4DP
    assert abs(agg.overall_se - se) <= HALF_UNIT_4DP


def test_dynamic_by_event_time_matches_r(result):
    frame = result.aggregate("dynamic").to_frame()
    assert frame["event_time"].tolist() == R_DYNAMIC["event_time"].tolist()
    diff = (frame[["estimate", "std_error"]] - R_DYNAMIC[["estimate", "std_error"]]).abs()
    assert diff.to_numpy().max() <= HALF_UNIT_4DP


def test_pretrend_wald_test_matches_r(result):
    # R's did pre-test is the chi-squared Wald test: method="chi2" reproduces it
    test = pretrend_test(result, method="chi2")
    assert test.df == 5  # the five cells with t < g
    assert abs(test.p_value - R_PRETEST_P) <= 0.5e-5 + 1e-12
    assert "does not reject" in test.statement()
    assert test.reference() == "chi2(5)"
    # the small-sample default: 500 counties, the smallest cohort 20 of them; the F
    # reference has fewer degrees of freedom than the 495 of Hotelling's T2 with 500
    # clusters, and its p-value stays close to R's
    small = pretrend_test(result)
    assert small.method == "f" and small.reliable and 100 < small.df_denom < 495
    assert abs(small.p_value - R_PRETEST_P) < 0.03


def test_tidy_frames_have_the_documented_index_columns(result):
    assert list(result.to_frame().columns) == [
        "cohort",
        "time",
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
    ]
    index_of = {"dynamic": "event_time", "group": "cohort", "calendar": "time"}
    for kind, name in index_of.items():
        assert result.aggregate(kind).to_frame().columns[0] == name
    text = str(result.summary())
    assert "simple aggregation): -0.03995" in text
    assert "<table>" in result.summary()._repr_html_()
    assert result.info["cohort_sizes"] == {2004: 20, 2006: 40, 2007: 131, "never": 309}
    assert result.info["n_clusters"] == 500


def _moderndid(data, **kwargs):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = moderndid.att_gt(
            data,
            yname="lemp",
            tname="year",
            idname="countyreal",
            gname="first.treat",
            boot=False,
            **kwargs,
        )
        aggs = {k: moderndid.aggte(res, type=k, boot=False) for k in R_OVERALL}
    return res, aggs


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
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
    ids=["notyet", "universal", "universal-notyet", "doubly-robust", "doubly-robust-notyet"],
)
def test_variants_match_moderndid(mpdta, ours, theirs):
    res = att_gt(mpdta, **COLUMNS, **ours)
    ref, aggs = _moderndid(mpdta, **theirs)
    np.testing.assert_allclose(res.params.to_numpy(), np.asarray(ref.att_gt), atol=1e-10)
    np.testing.assert_allclose(
        res.std_errors.fillna(0).to_numpy(), np.nan_to_num(np.asarray(ref.se_gt)), atol=1e-10
    )
    for kind, agg_ref in aggs.items():
        agg = res.aggregate(kind)
        assert agg.overall_att == pytest.approx(agg_ref.overall_att, abs=1e-10)
        assert agg.overall_se == pytest.approx(agg_ref.overall_se, abs=1e-10)


def test_doubly_robust_differs_from_unconditional(mpdta, result):
    # guards against covariates being silently ignored
    dr = att_gt(mpdta, **COLUMNS, covariates=["lpop"])
    assert abs(dr.params.iloc[0] - result.params.iloc[0]) > 1e-3
    assert dr.info["estimator"].startswith("doubly robust")


def test_event_study_cs_universal_base_has_zero_reference(mpdta):
    es = event_study(mpdta, **COLUMNS, method="cs", reference=-1)
    frame = es.to_frame().set_index("event_time")
    assert frame.loc[-1, "estimate"] == 0.0 and np.isnan(frame.loc[-1, "std_error"])
    # post-treatment event times do not depend on the base-period choice (base is g-1)
    dyn = att_gt(mpdta, **COLUMNS).aggregate("dynamic").to_frame().set_index("event_time")
    np.testing.assert_allclose(frame.loc[0:, "estimate"], dyn.loc[0:, "estimate"], atol=1e-12)
    assert -1 not in es.vcov.index
    test = pretrend_test(es)
    assert test.df == 3 and test.tested == (-4, -3, -2)


def test_event_study_cs_window_trims(mpdta):
    es = event_study(mpdta, **COLUMNS, method="cs", reference=None, window=(-2, 2))
    assert es.params.index.tolist() == [-2, -1, 0, 1, 2]
    # overall = mean over event times 0..2, as R's aggte(type="dynamic", min_e=-2, max_e=2)
    assert es.overall_att == pytest.approx(np.mean([-0.019919, -0.050957, -0.137259]), abs=1e-5)
