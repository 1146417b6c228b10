"""Identities that tie att_gt's panel=False, allow_unbalanced, weights and est_method together.

Each follows from the estimators' definitions (Sant'Anna and Zhao 2020; R did's
``allow_unbalanced_panel``), so it must hold on any data; here on the project's simulated
panel (``simulate_panel``: 600 employees, 30 agencies, 2019-2025) with sampling weights drawn
once per employee. Tolerances are rounding error (1e-12): the identities are exact.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from asn_eval.config import NEVER_TREATED
from asn_eval.data.simulate import simulate_panel
from asn_eval.estimators.did import att_gt

COLUMNS = dict(outcome="y", unit="employee_id", time="year", cohort="cohort")
EXACT = 1e-12
N_EMPLOYEES = 600


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    data = simulate_panel(n_employees=N_EMPLOYEES, n_agencies=30, seed=7)
    rng = np.random.default_rng(22)
    data["w"] = rng.uniform(0.5, 2.0, N_EMPLOYEES)[data["employee_id"]]
    data["x"] = rng.normal(size=len(data))  # a covariate that varies over time
    return data


@pytest.fixture(scope="module")
def holey(panel) -> pd.DataFrame:
    """The panel with 5% of its rows removed at random (attrition unrelated to outcomes)."""
    return panel.drop(index=panel.sample(frac=0.05, random_state=1).index)


def _fit(data, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return att_gt(data, **COLUMNS, **options)


def _same(a, b, tol=EXACT, *, se=True):
    assert list(a.params.index) == list(b.params.index)
    assert np.abs(a.params.to_numpy() - b.params.to_numpy()).max() <= tol
    if se:
        assert np.nanmax(np.abs(a.std_errors.to_numpy() - b.std_errors.to_numpy())) <= tol


# --- est_method without covariates ---------------------------------------------------------
@pytest.mark.parametrize("method", ["ipw", "reg"])
@pytest.mark.parametrize(
    "options",
    [dict(weights="w"), dict(panel=False), dict(panel=False, weights="w")],
    ids=["panel-weighted", "rcs", "rcs-weighted"],
)
def test_without_covariates_every_method_is_the_same_difference_of_means(panel, options, method):
    # an intercept-only propensity score and outcome regression are cohort (-period) means,
    # so DRDID's ipw and reg estimators reduce to the doubly robust one, influence function too
    _same(_fit(panel, **options, est_method=method), _fit(panel, **options))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_cross_section_estimators_without_covariates_are_the_closed_form(method, weighted):
    # att_gt computes cross-section cells without covariates in closed form (four weighted
    # means); DRDID's estimators with an intercept-only design must give the same ATT and
    # influence function
    from asn_eval.estimators.did.compute import _rc_2x2, _rc_means

    rng = np.random.default_rng(5)
    y, post, d = rng.normal(size=400), rng.random(400) < 0.5, rng.random(400) < 0.3
    w = rng.uniform(0.5, 2.0, 400) if weighted else np.ones(400)
    post, d = post.astype(float), d.astype(float)
    att, local = _rc_2x2(y, post, d, np.ones((400, 1)), w, method)
    closed_att, closed_local = _rc_means(y, post, d, w)
    assert abs(att - closed_att) <= EXACT
    assert np.abs(local - closed_local).max() <= EXACT


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_weighted_panel_estimators_without_covariates_are_the_closed_form(method):
    # likewise for weighted panel cells: DRDID's panel estimators with an intercept only are
    # the weighted difference of mean changes that att_gt computes directly
    from asn_eval.estimators.did.compute import _panel_2x2, _panel_means

    rng = np.random.default_rng(6)
    dy, d, w = rng.normal(size=300), (rng.random(300) < 0.3).astype(float), rng.uniform(0.5, 2, 300)
    att, local = _panel_2x2(dy, d, np.ones((300, 1)), w, method)
    closed_att, closed_local = _panel_means(dy, d, w)
    assert abs(att - closed_att) <= EXACT
    assert np.abs(local - closed_local).max() <= EXACT


@pytest.mark.parametrize("method", ["ipw", "reg"])
def test_with_covariates_the_methods_differ(panel, method):
    # the identity above is not a routing accident: with a covariate the estimators part ways
    dr = _fit(panel, covariates=["x"], weights="w")
    other = _fit(panel, covariates=["x"], weights="w", est_method=method)
    assert np.abs(dr.params - other.params).max() > 1e-6


# --- allow_unbalanced ----------------------------------------------------------------------
def test_allow_unbalanced_on_a_balanced_panel_is_the_default(panel):
    # R did: a panel that is balanced after dropping missing rows keeps the panel estimator
    res, ref = _fit(panel, allow_unbalanced=True), _fit(panel)
    pd.testing.assert_series_equal(res.params, ref.params)
    pd.testing.assert_series_equal(res.std_errors, ref.std_errors)
    assert res.info["estimator"] == ref.info["estimator"] == "difference of means"


def test_allow_unbalanced_estimates_are_the_repeated_cross_section_ones(holey):
    # the rows are used as repeated cross-sections; only the influence function is summed
    # within unit, so panel=False clustered by unit has the same variance times G/(G-1)
    unb = _fit(holey, allow_unbalanced=True)
    rcs = _fit(holey, panel=False, cluster="employee_id")
    assert np.abs(unb.params - rcs.params).max() <= EXACT
    g = rcs.info["n_clusters"]
    assert g == holey["employee_id"].nunique() == unb.info["n_units"]
    ratio = (rcs.std_errors / unb.std_errors) ** 2
    assert np.abs(ratio - g / (g - 1)).max() <= EXACT


# --- weights -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [dict(), dict(covariates=["x"]), dict(panel=False), dict(panel=False, covariates=["x"])],
    ids=["panel", "panel-x", "rcs", "rcs-x"],
)
def test_weights_of_one_are_no_weights(panel, options):
    _same(_fit(panel.assign(one=1.0), **options, weights="one"), _fit(panel, **options))


@pytest.mark.parametrize(
    "options",
    [dict(), dict(covariates=["x"]), dict(panel=False, covariates=["x"])],
    ids=["panel", "panel-x", "rcs-x"],
)
def test_weights_scaled_by_a_constant_give_the_same_result(panel, options):
    # weights are divided by their mean (R's did), so only their ratios matter
    a = _fit(panel, **options, weights="w")
    b = _fit(panel.assign(w=panel["w"] * 37.5), **options, weights="w")
    _same(a, b)
    for kind in ("simple", "dynamic"):
        assert abs(a.aggregate(kind).overall_att - b.aggregate(kind).overall_att) <= EXACT
        assert abs(a.aggregate(kind).overall_se - b.aggregate(kind).overall_se) <= EXACT


def test_integer_weights_are_duplicated_rows_in_repeated_cross_sections(panel):
    # a row of weight k counts as k identical respondents in every weighted mean
    sample = panel.iloc[::3]
    k = 1 + sample["employee_id"].to_numpy() % 3
    copies = sample.loc[sample.index.repeat(k)]
    weighted = _fit(sample.assign(k=k.astype(float)), panel=False, weights="k")
    assert np.abs(weighted.params - _fit(copies, panel=False).params).max() <= EXACT


# --- repeated cross-sections on a balanced panel -------------------------------------------
@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("control_group", ["never", "notyet"])
def test_a_balanced_panel_as_cross_sections_gives_the_panel_estimates(
    panel, control_group, weights
):
    # without covariates both are (Y[g,t] - Y[g,b]) - (Y[c,t] - Y[c,b]) over the same units
    # (a mean of differences equals a difference of means when everyone is seen in both
    # periods); the standard errors differ: panel=False ignores the within-unit correlation
    options = dict(control_group=control_group, weights=weights)
    rcs, pan = _fit(panel, panel=False, **options), _fit(panel, **options)
    _same(rcs, pan, se=False)
    # the unit effects (variance 1 here) difference out of the panel cells only
    assert (rcs.std_errors > 1.2 * pan.std_errors).all()


def test_with_covariates_cross_sections_and_panel_differ(panel):
    # panel cells use the base period's covariates, cross-sections each row's own
    rcs = _fit(panel, panel=False, covariates=["x"])
    assert np.abs(rcs.params - _fit(panel, covariates=["x"]).params).max() > 1e-6


def test_cross_sections_do_not_use_the_unit_id(panel):
    sample = panel.sample(frac=0.5, random_state=3)
    shuffled = sample.assign(employee_id=np.random.default_rng(0).permutation(len(sample)) % 50)
    _same(_fit(sample, panel=False), _fit(shuffled, panel=False))


# --- pairwise ------------------------------------------------------------------------------
@pytest.mark.parametrize("control_group", ["never", "notyet"])
def test_pairwise_cells_are_the_two_period_subpanel_estimates(holey, control_group):
    # the docstring's claim: each cell, estimate and standard error, is att_gt on the units
    # of its cohort and comparison group observed in both of its periods
    res = _fit(holey, unbalanced="pairwise", control_group=control_group)
    n_kept = res.info["n_units"]
    cohort = holey.groupby("employee_id")["cohort"].first()
    assert n_kept == cohort.size  # no unit is dropped
    for (g, t), row in zip(res.params.index, res.cells.itertuples(), strict=True):
        b = row.base
        if control_group == "never":
            comparison = cohort.index[cohort == NEVER_TREATED]
        else:
            later = max(t, b)
            comparison = cohort.index[
                (cohort == NEVER_TREATED) | ((cohort > later) & (cohort != g))
            ]
        sub = holey[holey["year"].isin([b, t])]
        sub = sub[sub["employee_id"].isin(cohort.index[cohort == g].union(comparison))]
        # in the two-period panel cohort g is treated in t (b < t: varying base), the rest never
        sub = sub.assign(cohort=np.where(sub["cohort"] == g, t, NEVER_TREATED))
        two = _fit(sub)
        (cell,) = two.params.index
        assert abs(res.params[(g, t)] - two.params[cell]) <= EXACT
        # the same influence function: scaled by n / n_cell and divided by n in both
        assert abs(res.std_errors[(g, t)] - two.std_errors[cell]) <= EXACT


# --- aggregations under the new options ----------------------------------------------------
def _shares(data, options) -> pd.Series:
    """Cohort shares R's did weights by: units (panel, unbalanced) or rows (panel=False),
    weighted by the sampling weights, counting only observations the estimator keeps."""
    data = data[data["cohort"] != NEVER_TREATED]
    weight = data[options["weights"]] if options.get("weights") else pd.Series(1.0, data.index)
    if options.get("panel", True):
        first = ~data["employee_id"].duplicated()
        data, weight = data[first], weight[first]
    return weight.groupby(data["cohort"]).sum()


def _by_hand(res, shares: pd.Series) -> dict[str, float]:
    cells = res.params.reset_index()
    cells["pg"] = shares.reindex(cells["cohort"].astype(float)).to_numpy()
    cells["e"] = cells["time"] - cells["cohort"]
    post = cells[cells["e"] >= 0]

    def wmean(frame):
        return float((frame["estimate"] * frame["pg"]).sum() / frame["pg"].sum())

    group = post.groupby("cohort").agg(estimate=("estimate", "mean"), pg=("pg", "first"))
    return {
        "simple": wmean(post),
        "dynamic": float(np.mean([wmean(f) for _, f in post.groupby("e")])),
        "group": wmean(group),
        "calendar": float(np.mean([wmean(f) for _, f in post.groupby("time")])),
    }


@pytest.mark.parametrize(
    "which, options",
    [
        ("panel", dict(weights="w")),
        ("panel", dict(panel=False)),
        ("panel", dict(panel=False, weights="w", control_group="notyet")),
        ("holey", dict(allow_unbalanced=True)),
        ("holey", dict(allow_unbalanced=True, weights="w")),
        ("holey", dict(unbalanced="pairwise", weights="w")),
    ],
    ids=["panel-w", "rcs", "rcs-w-notyet", "unbalanced", "unbalanced-w", "pairwise-w"],
)
def test_aggregations_are_the_cells_weighted_by_cohort_shares(panel, holey, which, options):
    data = {"panel": panel, "holey": holey}[which]
    res = _fit(data, **options)
    expected = _by_hand(res, _shares(data, options))
    for kind, value in expected.items():
        assert abs(res.aggregate(kind).overall_att - value) <= EXACT, kind
