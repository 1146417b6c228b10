"""att_gt on awkward inputs: unbalanced panels, clusters, bootstrap, messages users see."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from asn_eval.data.synth import simulate_panel
from asn_eval.estimators.did import att_gt, pretrend_test

COLUMNS = dict(outcome="y", unit="employee_id", time="year", cohort="cohort")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate_panel(n_employees=600, n_agencies=30, seed=7)


# --- unbalanced panels ------------------------------------------------------------------
def test_unbalanced_units_are_dropped_with_an_account(panel):
    gone = panel.sample(frac=0.05, random_state=1).index
    holey = panel.drop(index=gone)
    n_incomplete = holey.groupby("employee_id").size().lt(7).sum()
    with pytest.warns(UserWarning, match=rf"dropped {n_incomplete} of 600 units not observed"):
        res = att_gt(holey, **COLUMNS)
    complete = holey.groupby("employee_id").filter(lambda d: len(d) == 7)
    ref = att_gt(complete, **COLUMNS)
    pd.testing.assert_series_equal(res.params, ref.params)
    assert res.dropped["dropped_unbalanced"] == n_incomplete
    assert res.info["dropped"] == (
        f"{n_incomplete} units not observed with complete data in every period"
    )
    assert res.info["n_units"] == 600 - n_incomplete


def test_missing_outcomes_count_as_unobserved(panel):
    holey = panel.copy()
    holey.loc[holey.index[:3], "y"] = np.nan  # three rows of employee 0
    with pytest.warns(UserWarning, match="dropped 1 of 600 units"):
        res = att_gt(holey, **COLUMNS)
    assert res.dropped["dropped_rows_missing"] == 3


def test_pairwise_cells_use_units_seen_in_both_periods(panel):
    gone = panel.sample(frac=0.1, random_state=2).index
    holey = panel.drop(index=gone)
    res = att_gt(holey, **COLUMNS, unbalanced="pairwise")
    assert res.dropped["kept_unbalanced"] > 0
    # one post cell by hand: cohort g against never treated, base g-1
    g = int(res.cells.loc[res.cells["post"], "cohort"].iloc[0])
    t = g + 1
    wide = holey.pivot(index="employee_id", columns="year", values="y")
    cohort = holey.groupby("employee_id")["cohort"].first()
    dy = (wide[t] - wide[g - 1]).dropna()
    c = cohort.loc[dy.index]
    expected = dy[c == g].mean() - dy[c == 0].mean()
    assert res.params.loc[(g, t)] == pytest.approx(expected, abs=1e-12)
    row = res.cells.set_index(["cohort", "time"]).loc[(g, t)]
    assert row["n_treated"] == (c == g).sum() and row["n_control"] == (c == 0).sum()


def test_pairwise_equals_drop_on_a_balanced_panel(panel):
    a = att_gt(panel, **COLUMNS)
    b = att_gt(panel, **COLUMNS, unbalanced="pairwise")
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


# --- cohort coding ------------------------------------------------------------------------
def test_missing_cohort_means_never_treated_and_late_cohorts_too(panel):
    ref = att_gt(panel, **COLUMNS)
    coded = panel.assign(cohort=panel["cohort"].replace(0, np.nan))
    pd.testing.assert_series_equal(att_gt(coded, **COLUMNS).params, ref.params)
    late = panel.assign(cohort=panel["cohort"].replace(0, 2030))
    res = att_gt(late, **COLUMNS)
    pd.testing.assert_series_equal(res.params, ref.params)
    assert (
        res.dropped["recoded_never"] == (panel.groupby("employee_id")["cohort"].first() == 0).sum()
    )


def test_units_treated_in_the_first_period_are_dropped(panel):
    early = panel.assign(cohort=np.where(panel["employee_id"] < 5, 2019, panel["cohort"]))
    with pytest.warns(UserWarning, match="dropped 5 units already treated in the first period"):
        res = att_gt(early, **COLUMNS)
    assert res.info["n_units"] == 595


# --- clustering -----------------------------------------------------------------------
def test_clustered_se_of_a_cell_is_the_cluster_robust_2x2_regression_se(panel):
    res = att_gt(panel, **COLUMNS, cluster="agency")
    g = int(res.cells["cohort"].iloc[0])
    t, b = g, g - 1
    wide = panel.pivot(index="employee_id", columns="year", values="y")
    unit = panel.groupby("employee_id")[["cohort", "agency"]].first()
    keep = unit["cohort"].isin([0, g])
    dy = (wide[t] - wide[b])[keep]
    x = sm.add_constant((unit.loc[keep, "cohort"] == g).astype(float))
    ols = sm.OLS(dy, x).fit(cov_type="cluster", cov_kwds={"groups": unit.loc[keep, "agency"]})
    n = keep.sum()
    g_cell = unit.loc[keep, "agency"].nunique()
    g_all = unit["agency"].nunique()
    # statsmodels applies G/(G-1) x (N-1)/(N-K) with the G of this 2x2 sample; att_gt has no
    # (N-1)/(N-K) and uses the G of the whole panel (all cells share one set of clusters)
    factor = (n - 2) / (n - 1) * (g_all / (g_all - 1)) / (g_cell / (g_cell - 1))
    expected_se = ols.bse["cohort"] * np.sqrt(factor)
    assert res.params.loc[(g, t)] == pytest.approx(ols.params["cohort"], abs=1e-12)
    assert res.std_errors.loc[(g, t)] == pytest.approx(expected_se, rel=1e-10)
    assert res.df == res.info["n_clusters"] - 1 == 29  # t(G-1) intervals


def test_unit_as_cluster_only_adds_the_small_sample_factor(panel):
    plain = att_gt(panel, **COLUMNS)
    by_unit = att_gt(panel, **COLUMNS, cluster="employee_id")
    np.testing.assert_allclose(by_unit.std_errors, plain.std_errors * np.sqrt(600 / 599))
    agg_plain, agg_unit = plain.aggregate("dynamic"), by_unit.aggregate("dynamic")
    assert agg_unit.overall_se == pytest.approx(agg_plain.overall_se * np.sqrt(600 / 599))


def test_units_moving_between_clusters_are_counted_and_warned(panel):
    moved = panel.copy()
    moved.loc[(moved["employee_id"] < 3) & (moved["year"] == 2025), "agency"] = 99
    with pytest.warns(UserWarning, match="3 units change 'agency' over time"):
        res = att_gt(moved, **COLUMNS, cluster="agency")
    assert res.dropped["cluster_movers"] == 3
    assert res.info["n_clusters"] == 30  # first-period clusters only


# --- bootstrap ------------------------------------------------------------------------
def test_bootstrap_is_reproducible_and_close_to_analytic(mpdta):
    cols = dict(outcome="lemp", unit="countyreal", time="year", cohort="first.treat")
    analytic = att_gt(mpdta, **cols)
    a = att_gt(mpdta, **cols, n_boot=2000, seed=3)
    b = att_gt(mpdta, **cols, n_boot=2000, seed=3)
    c = att_gt(mpdta, **cols, n_boot=2000, seed=4, boot_weights="mammen")
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    assert not np.allclose(a.std_errors, c.std_errors)
    for boot, tolerance in ((a, 0.15), (c, 0.1)):
        # IQR-based bootstrap SEs (as R's did); with two-point Rademacher weights (the
        # default, as R's did) and small cohorts the IQR runs a few percent above the analytic SE
        ratio = boot.std_errors / analytic.std_errors
        assert ratio.between(1 - tolerance, 1 + tolerance).all(), ratio
        # a uniform band over 12 cells is wider than pointwise, narrower than Bonferroni
        assert 1.96 < boot.critical_value < 3.04
        ci = boot.to_frame()
        np.testing.assert_allclose(
            ci["ci_high"] - ci["estimate"], boot.critical_value * ci["std_error"]
        )
    agg = a.aggregate("dynamic")
    assert agg.critical_value > 1.96
    assert agg.overall_se == pytest.approx(analytic.aggregate("dynamic").overall_se, rel=0.1)
    assert "multiplier bootstrap (2000 draws, Rademacher weights, seed 3)" in str(a.summary())
    assert "multiplier bootstrap (2000 draws, Mammen weights, seed 4)" in str(c.summary())


# --- pre-trend test -----------------------------------------------------------------------
def test_pretrend_test_rejects_a_built_in_pre_trend(panel):
    # cohort 2024 drifts upward by 0.5 a year before adoption: parallel trends fail
    drift = np.where(panel["cohort"] == 2024, 0.5 * (panel["year"] - 2019), 0.0)
    bad = panel.assign(y=panel["y"] + drift)
    test = pretrend_test(att_gt(bad, **COLUMNS))
    assert test.p_value < 1e-6
    assert "rejects parallel pre-trends at the 5% level" in test.statement()
    good = pretrend_test(att_gt(panel, **COLUMNS))
    assert good.df == test.df == 10  # cohorts 2021..2024 have 1..4 pre cells


# --- messages ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(outcome="score"), KeyError, "att_gt: the data have no column for outcome 'score'"),
        (
            dict(control_group="nevertreated"),
            ValueError,
            "control_group must be 'never' or 'notyet'; got 'nevertreated'.",
        ),
        (
            dict(base_period="fixed"),
            ValueError,
            "base_period must be 'varying' or 'universal'; got 'fixed'.",
        ),
        (
            dict(unbalanced="keep"),
            ValueError,
            "unbalanced must be 'drop' or 'pairwise'; got 'keep'.",
        ),
    ],
)
def test_bad_arguments_say_what_is_wrong(panel, kwargs, error, message):
    with pytest.raises(error, match=__import__("re").escape(message)):
        att_gt(panel, **(COLUMNS | kwargs))


def test_cohort_must_be_constant_within_unit(panel):
    bad = panel.assign(cohort=np.where(panel["year"] == 2025, 2022, panel["cohort"]))
    with pytest.raises(
        ValueError,
        match="cohort 'cohort' must be constant within each employee_id, but it varies for",
    ):
        att_gt(bad, **COLUMNS)


def test_duplicate_rows_are_refused(panel):
    with pytest.raises(ValueError, match=r"each \(employee_id, year\) pair must appear once"):
        att_gt(pd.concat([panel, panel.head(1)]), **COLUMNS)


def test_never_controls_needed_unless_not_yet(panel):
    treated_only = panel[panel["cohort"] != 0]
    with pytest.raises(
        ValueError, match="no never-treated units to compare with; use control_group='notyet'"
    ):
        att_gt(treated_only, **COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = att_gt(treated_only, **COLUMNS, control_group="notyet")
    # the last cohort has no not-yet-treated comparison once it is treated
    assert (res.cells["cohort"] == 2024).sum() < 6
    assert "cells without treated or comparison units left out" in res.info["dropped"]
