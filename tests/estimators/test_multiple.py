"""Multiple-testing control: Holm and Romano-Wolf against references, identities and truth.

* Holm: the definition worked by hand, and statsmodels' ``multipletests(method="holm")``.
* Romano-Wolf step-down: the same algorithm as pyfixest's (identical adjusted p-values from
  the same bootstrap t-statistics); a family of TWFE regressions against pyfixest's ``rwolf``
  (wild cluster bootstrap, its own draws) within Monte Carlo error.
* Shared draws: a family of one estimate twice is not penalised (perfect dependence).
* Known truth (slow): under the global null the family-wise error rate is at most 5%.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from asn_eval.data.synth import simulate_panel
from asn_eval.estimators.did import att_gt
from asn_eval.estimators.imputation import did_imputation
from asn_eval.estimators.multiple import (
    MultipleTestingResult,
    _stepdown,
    holm,
    romano_wolf,
    romano_wolf_results,
    romano_wolf_twfe,
)


# --------------------------------------------------------------------------------------
# Holm
# --------------------------------------------------------------------------------------
def test_holm_by_hand():
    # sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 -> max(0.06, 0.04)
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    # capped at 1, and a Series keeps its index
    out = holm(pd.Series([0.4, 0.5], index=["skp", "ikm"]))
    assert list(out.index) == ["skp", "ikm"]
    np.testing.assert_allclose(out, [0.8, 0.8])


def test_holm_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(0)
    for m in (1, 2, 5, 12, 30):  # statsmodels takes ~0.2 s a call here: few families
        p = rng.random(m) ** 3
        p[rng.random(m) < 0.2] = p[0]  # ties
        expected = multitest.multipletests(p, method="holm")[1]
        np.testing.assert_allclose(holm(p), expected, rtol=1e-12)


def test_holm_rejects_bad_pvalues():
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\] and not be missing"):
        holm([0.1, np.nan])


# --------------------------------------------------------------------------------------
# Romano-Wolf step-down
# --------------------------------------------------------------------------------------
def test_stepdown_equals_pyfixest_algorithm():
    pytest.importorskip("pyfixest")
    from pyfixest.estimation.post_estimation.multcomp import _get_rwolf_pval

    rng = np.random.default_rng(1)
    for k in (1, 3, 6):
        cov = np.full((k, k), 0.6) + 0.4 * np.eye(k)
        t_boot = rng.multivariate_normal(np.zeros(k), cov, size=2000)
        t_stat = rng.normal(size=k) * 2.5
        np.testing.assert_allclose(_stepdown(t_stat, t_boot), _get_rwolf_pval(t_stat, t_boot))


def agency_panel(seed: int = 0, effects=(0.5, 0.25, 0.1, 0.0)) -> pd.DataFrame:
    """40 agencies x 7 years x 3 rows, staggered adoption, outcomes sharing agency-year shocks."""
    rng = np.random.default_rng(seed)
    g_count, years, per = 40, np.arange(2019, 2026), 3
    agency = np.repeat(np.arange(g_count), years.size * per)
    year = np.tile(np.repeat(years, per), g_count)
    cohort = rng.choice([0, 2021, 2022, 2023, 2024], g_count)[agency]
    treated = ((cohort > 0) & (year >= cohort)).astype(float)
    shock = rng.normal(size=(g_count, years.size))[agency, year - years[0]]
    frame = pd.DataFrame({"agency": agency, "year": year, "cohort": cohort, "treated": treated})
    for k, effect in enumerate(effects):
        frame[f"y{k}"] = (
            rng.normal(size=agency.size)
            + 0.7 * shock
            + effect * treated
            + rng.normal(size=g_count)[agency]
        )
    return frame


def test_twfe_family_matches_pyfixest_rwolf():
    pf = pytest.importorskip("pyfixest")
    data = agency_panel(seed=0)
    outcomes = ["y0", "y1", "y2", "y3"]
    n_boot = 4999
    ours = romano_wolf_twfe(
        data, outcomes=outcomes, treatment="treated", unit="agency", time="year",
        cluster="agency", n_boot=n_boot, seed=3,
    )  # fmt: skip
    fits = [
        pf.feols(f"{o} ~ treated | agency + year", data=data, vcov={"CRV1": "agency"})
        for o in outcomes
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pf.rwolf(fits, "treated", reps=n_boot, seed=3)
    np.testing.assert_allclose(ours.params, theirs.loc["Estimate"], rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors, theirs.loc["Std. Error"], rtol=1e-8)
    # independent draws on each side: the difference of two p-values has sd
    # sqrt(2 p (1 - p) / B); allow four of them
    p_ref = theirs.loc["RW Pr(>|t|)"].to_numpy(dtype=float)
    tolerance = 4 * np.sqrt(2 * p_ref * (1 - p_ref) / n_boot) + 2 / n_boot
    assert np.all(np.abs(ours.p_romano_wolf.to_numpy() - p_ref) <= tolerance)
    assert list(ours.to_frame().columns) == [
        "hypothesis", "estimate", "std_error", "ci_low", "ci_high",
        "p_value", "p_holm", "p_romano_wolf",
    ]  # fmt: skip


def test_a_duplicated_member_is_not_penalised():
    # the same estimate twice: perfectly dependent, so Romano-Wolf leaves its p-value alone
    # (shared draws), while Holm doubles it
    rng = np.random.default_rng(4)
    psi = rng.normal(size=40) / 40
    res = romano_wolf([0.03, 0.03], np.vstack([psi, psi]), n_boot=4999, seed=2)
    assert res.p_romano_wolf.iloc[0] == pytest.approx(res.p_value.iloc[0])
    assert res.p_holm.iloc[0] == pytest.approx(min(1.0, 2 * res.p_value.iloc[0]))
    single = romano_wolf([0.03], psi[None, :], n_boot=4999, seed=2)
    assert single.p_romano_wolf.iloc[0] == pytest.approx(res.p_value.iloc[0])


def test_observation_level_influence_is_summed_within_clusters():
    rng = np.random.default_rng(5)
    clusters = rng.integers(0, 30, 600)
    infl = rng.normal(size=(2, 600)) / 600
    by_rows = romano_wolf([0.01, 0.0], infl, clusters=clusters, n_boot=999, seed=1)
    summed = np.vstack([np.bincount(clusters, weights=row, minlength=30) for row in infl])
    by_clusters = romano_wolf([0.01, 0.0], summed, n_boot=999, seed=1)
    np.testing.assert_allclose(by_rows.p_romano_wolf, by_clusters.p_romano_wolf)
    np.testing.assert_allclose(by_rows.std_errors, np.sqrt((summed**2).sum(axis=1)))


def test_results_family_from_imputation_and_att_gt():
    panel = simulate_panel(n_employees=600, n_agencies=24, seed=8)
    rng = np.random.default_rng(8)
    panel["y_null"] = panel["y"] - panel["true_effect"] + rng.normal(size=len(panel))
    args = dict(unit="employee_id", time="year", cohort="cohort", cluster="agency")
    imp = [did_imputation(panel, outcome=o, **args) for o in ("y", "y_null")]
    fam = romano_wolf_results(imp, n_boot=1999, seed=1)
    assert isinstance(fam, MultipleTestingResult)
    assert list(fam.params.index) == ["y", "y_null"]
    np.testing.assert_allclose(fam.std_errors, [r.overall_se for r in imp])
    assert fam.p_romano_wolf["y"] < 0.01
    assert fam.rejected(0.05)["y"]
    # every att_gt summary rebuilds its own standard error from the stored influence
    cs = att_gt(panel, outcome="y", **args)
    members = [cs, cs.aggregate("dynamic"), cs.aggregate("group"), cs.aggregate("calendar")]
    out = romano_wolf_results(members, labels=["simple", "dynamic", "group", "calendar"],
                              n_boot=999, seed=1)  # fmt: skip
    expected = [cs.aggregate(k).overall_se for k in ("simple", "dynamic", "group", "calendar")]
    np.testing.assert_allclose(out.std_errors, expected, rtol=1e-8)
    assert "Romano-Wolf" in out.statement()


def test_results_family_rejects_what_it_cannot_bootstrap():
    from asn_eval.estimators.twfe import twfe

    panel = simulate_panel(n_employees=200, n_agencies=12, seed=1)
    fit = twfe(panel, outcome="y", treatment="treated", unit="employee_id", time="year")
    with pytest.raises(TypeError, match="for regressions use romano_wolf_twfe"):
        romano_wolf_results([fit])
    with pytest.raises(ValueError, match="influence has 1 rows for 2 estimates"):
        romano_wolf([0.1, 0.2], np.ones((1, 10)))


# --------------------------------------------------------------------------------------
# Known truth: family-wise error rate under the global null
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_family_wise_error_rate_under_the_global_null():
    """Four correlated outcomes, no effect on any: the chance of rejecting at least one.

    Imputation estimates of 80-agency panels (leave-out variance), Romano-Wolf over the
    family with 999 shared draws: the family-wise error rate should be at most 5% (within
    Monte Carlo error), while testing one by one rejects some member far more often.
    Measured: Romano-Wolf 3.3%, Holm 3.0%, one by one 16.7%. With 30 agencies (cohorts of about
    5) the members' own t(29) tests reject 6.7% each and the family-wise rate is 9.3%: the
    correction inherits the size of the tests it combines.
    """
    n_sim = 300
    any_rw, any_holm, any_raw = [], [], []
    for seed in range(n_sim):
        panel = simulate_panel(n_employees=1200, n_agencies=80, effects=0, seed=20_000 + seed)
        rng = np.random.default_rng(seed)
        agency_shock = rng.normal(size=80)[panel["agency"]]
        for k in range(4):
            panel[f"y{k}"] = panel["y"] + 0.5 * agency_shock * k + rng.normal(size=len(panel))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = [
                did_imputation(
                    panel,
                    outcome=f"y{k}",
                    unit="employee_id",
                    time="year",
                    cohort="cohort",
                    cluster="agency",
                    leaveout=True,
                )  # fmt: skip
                for k in range(4)
            ]
        fam = romano_wolf_results(results, n_boot=999, seed=seed)
        any_rw.append(bool(fam.rejected(0.05).any()))
        any_holm.append(bool(fam.rejected(0.05, method="holm").any()))
        any_raw.append(bool((fam.p_value <= 0.05).any()))
    mc = 3 * np.sqrt(0.05 * 0.95 / n_sim)
    assert np.mean(any_rw) <= 0.05 + mc, np.mean(any_rw)
    assert np.mean(any_holm) <= np.mean(any_rw) + 1e-12  # Holm is the more conservative
    assert np.mean(any_raw) > 0.05 + mc
