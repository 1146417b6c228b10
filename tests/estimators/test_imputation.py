"""The imputation estimator (Borusyak, Jaravel and Spiess 2024) against its references.

* Published reference numbers: the panel of diff-diff's didimputation parity benchmark
  (``benchmarks/R/generate_didimputation_golden.R`` in github.com/igerber/diff-diff: 180 units,
  cohorts 3 and 5 and never treated, 8 periods, R's ``set.seed(2024)``) is regenerated here
  with R's random number generator (Mersenne-Twister seeded as R's ``set.seed``, normals by
  inversion), and the estimates are compared with the values Stata's ``did_imputation``
  (version of 22 Nov 2023, ``benchmarks/data/didimputation_loo_stata_golden.json``, the
  non-leave-out ``se_nonloo``) and R's ``didimputation`` 0.5.0
  (``benchmarks/data/didimputation_golden.json``) printed on it. Stata's and R's first
  stages stop at a convergence tolerance (reghdfe 1e-8, fixest 1e-6), so the comparison is to
  1e-7 against Stata; R's point estimates are off by about 1e-7 and are not used.
* Identities: point estimates equal pyfixest's Gardner two-stage ``did2s`` (same first stage)
  to 1e-10; without noise every observation's effect is recovered exactly.
* Known truth: intervals cover the sample ATT at the nominal rate (slow Monte Carlo).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

from asn_eval.data.synth import simulate_panel, true_att
from asn_eval.estimators.imputation import ImputationResult, did_imputation


# --------------------------------------------------------------------------------------
# R's random numbers, to regenerate a panel made by a published R script
# --------------------------------------------------------------------------------------
def r_rnorm(seed: int, n: int) -> np.ndarray:
    """``set.seed(seed); rnorm(n)`` of R >= 3.6 (Mersenne-Twister, inversion).

    R scrambles the seed with the LCG ``s = 69069 s + 1`` (50 times, then once per word of
    the 625-word state whose first word is the position), and a normal takes two uniforms,
    ``u = (floor(2^27 U1) + U2) / 2^27``, through the normal quantile function.
    """
    s = seed & 0xFFFFFFFF
    for _ in range(50):
        s = (69069 * s + 1) & 0xFFFFFFFF
    words = np.empty(625, dtype=np.uint64)
    for j in range(625):
        s = (69069 * s + 1) & 0xFFFFFFFF
        words[j] = s
    generator = np.random.MT19937()
    generator.state = {
        "bit_generator": "MT19937",
        "state": {"key": words[1:].astype(np.uint32), "pos": 624},
    }
    uniform = generator.random_raw(2 * n).astype(float) * 2.3283064365386963e-10
    big = 134217728.0
    return ndtri((np.floor(big * uniform[0::2]) + uniform[1::2]) / big)


def test_r_rnorm_reproduces_r():
    # R 4.x: set.seed(42); rnorm(5) and set.seed(1); rnorm(3), as R prints them
    np.testing.assert_allclose(
        r_rnorm(42, 5), [1.37095845, -0.56469817, 0.36312841, 0.63286260, 0.40426832], atol=1e-8
    )
    np.testing.assert_allclose(r_rnorm(1, 3), [-0.6264538, 0.1836433, -0.8356286], atol=1e-7)


def bjs_parity_panel() -> pd.DataFrame:
    """diff-diff's didimputation benchmark panel, drawn exactly as its R script draws it."""
    draws = iter(r_rnorm(2024, 180 * 9))
    rows, uid = [], 0
    for g in (0, 3, 5):
        for _ in range(60):
            c_i = next(draws)
            for t in range(1, 9):
                u = 0.2 * next(draws)
                effect = 1.0 + 0.5 * (t - g) if g > 0 and t >= g else 0.0
                rows.append((uid, t, g, c_i + 0.5 * t + effect + u))
            uid += 1
    return pd.DataFrame(rows, columns=["unit", "time", "first_treat", "y"])


# Stata did_imputation (Nov 2023), cluster(unit), avgeffectsby(Ei t), without leaveout
STATA_OVERALL = (2.0456678967434003, 0.020879383566722923)
STATA_EVENT_ATT = [
    0.99293658500530635, 1.5129648623314707, 2.006499293218484,
    2.4998545630646829, 2.9648169454740363, 3.4673514576204787,
]  # fmt: skip
STATA_EVENT_SE = [
    0.028791608348336495, 0.025253856015380709, 0.030155388323006894,
    0.029048460851672311, 0.043064691747540094, 0.043073537575459654,
]  # fmt: skip
# R didimputation 0.5.0, cluster_var = "unit"
R_OVERALL_SE = 0.02087938445379
R_EVENT_SE = [
    0.02879160889215, 0.02525385632215, 0.03015538910066,
    0.02904846159207, 0.04306469246781, 0.04307353806204,
]  # fmt: skip
# Stata, the same panel without units divisible by 4 in periods 6-8 (unbalanced)
STATA_UNBALANCED = (1.9647746285960803, 0.022875332984551428)
# Stata with the leaveout option (BJS appendix A.9)
STATA_LEAVEOUT_SE = 0.021041161682015575
STATA_LEAVEOUT_EVENT_SE = [
    0.029085929067998187, 0.02548745171356798, 0.030371068022456742,
    0.029299586939814812, 0.043460391002896281, 0.043504637171120686,
]  # fmt: skip
STATA_LEAVEOUT_UNBALANCED_SE = 0.023082924221374316


def test_matches_stata_and_r_on_published_panel():
    panel = bjs_parity_panel()
    res = did_imputation(panel, outcome="y", unit="unit", time="time", cohort="first_treat")
    assert res.overall_att == pytest.approx(STATA_OVERALL[0], abs=1e-7)
    assert res.overall_se == pytest.approx(STATA_OVERALL[1], rel=1e-7)
    assert res.overall_se == pytest.approx(R_OVERALL_SE, rel=1e-7)
    assert list(res.params.index) == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(res.params.to_numpy(), STATA_EVENT_ATT, atol=1e-7)
    np.testing.assert_allclose(res.std_errors.to_numpy(), STATA_EVENT_SE, rtol=1e-7)
    np.testing.assert_allclose(res.std_errors.to_numpy(), R_EVENT_SE, rtol=1e-7)
    # clustering on the unit: normal intervals, as R's and Stata's
    assert res.df is None
    lo, hi = res.overall_interval()
    assert (hi - lo) / 2 == pytest.approx(1.959964 * res.overall_se, rel=1e-6)


def test_matches_stata_on_unbalanced_panel():
    panel = bjs_parity_panel()
    panel = panel.loc[~((panel["unit"] % 4 == 0) & (panel["time"] >= 6))]
    assert len(panel) == 1305  # the benchmark's row count
    args = dict(outcome="y", unit="unit", time="time", cohort="first_treat")
    res = did_imputation(panel, **args)
    assert res.overall_att == pytest.approx(STATA_UNBALANCED[0], abs=1e-7)
    assert res.overall_se == pytest.approx(STATA_UNBALANCED[1], rel=1e-7)
    loo = did_imputation(panel, **args, leaveout=True)
    assert loo.overall_se == pytest.approx(STATA_LEAVEOUT_UNBALANCED_SE, rel=1e-7)


def test_leaveout_matches_stata():
    panel = bjs_parity_panel()
    res = did_imputation(
        panel, outcome="y", unit="unit", time="time", cohort="first_treat", leaveout=True
    )
    assert res.overall_att == pytest.approx(STATA_OVERALL[0], abs=1e-7)
    assert res.overall_se == pytest.approx(STATA_LEAVEOUT_SE, rel=1e-7)
    np.testing.assert_allclose(res.std_errors.to_numpy(), STATA_LEAVEOUT_EVENT_SE, rtol=1e-7)


# --------------------------------------------------------------------------------------
# Identities
# --------------------------------------------------------------------------------------
@pytest.fixture
def exact_did2s(monkeypatch):
    """pyfixest's did2s with its fixed effects recovered to machine precision.

    did2s reads the first-stage fixed effects with ``Feols.fixef``, whose lsqr stops at 1e-6;
    tightening it makes the comparison one of methods, not of convergence tolerances.
    """
    pf = pytest.importorskip("pyfixest")
    from pyfixest.estimation.models.feols_ import Feols

    original = Feols.fixef
    monkeypatch.setattr(
        Feols, "fixef", lambda self, atol=1e-14, btol=1e-14: original(self, atol=atol, btol=btol)
    )
    return pf.did2s


def _did2s_inputs(panel: pd.DataFrame) -> pd.DataFrame:
    never = panel["cohort"] == 0
    return panel.assign(
        rel=np.where(never, -1000, panel["year"] - panel["cohort"]),
        treat=(~never & (panel["year"] >= panel["cohort"])),
    )


@pytest.mark.parametrize("drop_share", [0.0, 0.1])
def test_point_estimates_equal_did2s(exact_did2s, drop_share):
    panel = simulate_panel(n_employees=1500, n_agencies=30, seed=7)
    if drop_share:
        # unbalanced, but every unit keeps its first two (untreated) years: pyfixest drops
        # units with a single untreated row, whose fixed effect BJS still fits exactly
        rng = np.random.default_rng(1)
        keep = (rng.random(len(panel)) > drop_share) | (panel["year"] <= 2020)
        panel = panel.loc[keep]
    res = did_imputation(
        panel, outcome="y", unit="employee_id", time="year", cohort="cohort", cluster="agency"
    )
    data = _did2s_inputs(panel)
    static = exact_did2s(
        data, yname="y", first_stage="~0|employee_id+year", second_stage="~treat",
        treatment="treat", cluster="agency",
    )  # fmt: skip
    assert float(static.coef().iloc[0]) == pytest.approx(res.overall_att, abs=1e-10)
    dynamic = exact_did2s(
        data, yname="y", first_stage="~0|employee_id+year",
        second_stage="~i(rel, ref=-1000)", treatment="treat", cluster="agency",
    )  # fmt: skip
    coef = dynamic.coef()
    coef.index = [int(name.split("::")[1]) for name in coef.index]
    np.testing.assert_allclose(coef.loc[res.params.index], res.params.to_numpy(), atol=1e-10)


def test_recovers_every_effect_without_noise():
    # parallel trends hold exactly and there is no noise: each imputed Y(0) is exact
    panel = simulate_panel(n_employees=400, n_agencies=20, noise_sd=0.0, seed=3)
    res = did_imputation(
        panel, outcome="y", unit="employee_id", time="year", cohort="cohort", cluster="agency"
    )
    assert res.overall_att == pytest.approx(true_att(panel), abs=1e-10)
    truth = true_att(panel, by="exposure")
    np.testing.assert_allclose(res.params.to_numpy(), truth.loc[res.params.index], atol=1e-10)


def test_recovers_known_effect_with_noise():
    panel = simulate_panel(n_employees=3000, n_agencies=40, seed=11)
    res = did_imputation(
        panel, outcome="y", unit="employee_id", time="year", cohort="cohort", cluster="agency"
    )
    lo, hi = res.overall_interval()
    assert lo <= true_att(panel) <= hi
    assert abs(res.overall_att - true_att(panel)) < 0.1


def test_unit_clustering_is_the_default():
    panel = simulate_panel(n_employees=500, n_agencies=20, seed=2)
    args = dict(outcome="y", unit="employee_id", time="year", cohort="cohort")
    default = did_imputation(panel, **args)
    explicit = did_imputation(panel, **args, cluster="employee_id")
    np.testing.assert_allclose(default.std_errors, explicit.std_errors, rtol=1e-12)
    by_agency = did_imputation(panel, **args, cluster="agency")
    assert by_agency.df == 19  # t(G-1) intervals with an explicit cluster, as att_gt
    assert by_agency.scores.shape == (len(by_agency.params) + 1, 20)


def test_scores_reproduce_the_standard_errors_and_vcov():
    panel = simulate_panel(n_employees=500, n_agencies=20, seed=2)
    res = did_imputation(
        panel, outcome="y", unit="employee_id", time="year", cohort="cohort", cluster="agency"
    )
    np.testing.assert_allclose(np.sqrt((res.scores[:-1] ** 2).sum(axis=1)), res.std_errors)
    assert np.sqrt((res.scores[-1] ** 2).sum()) == pytest.approx(res.overall_se)
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov)), res.std_errors)


def test_pretrend_leads_equal_fixest_regression_on_untreated_rows():
    pf = pytest.importorskip("pyfixest")
    panel = simulate_panel(n_employees=800, n_agencies=30, seed=5)
    res = did_imputation(
        panel, outcome="y", unit="employee_id", time="year", cohort="cohort",
        cluster="agency", pretrends=3,
    )  # fmt: skip
    untreated = panel.loc[panel["treated"] == 0].copy()
    lead = untreated["year"] - untreated["cohort"]
    for k in (1, 2, 3):
        untreated[f"lead{k}"] = ((untreated["cohort"] > 0) & (lead == -k)).astype(float)
    fit = pf.feols(
        "y ~ lead1 + lead2 + lead3 | employee_id + year", data=untreated,
        vcov={"CRV1": "agency"}, fixef_rm="none",
    )  # fmt: skip
    np.testing.assert_allclose(
        res.params.loc[[-1, -2, -3]], fit.coef()[["lead1", "lead2", "lead3"]], atol=1e-8
    )
    np.testing.assert_allclose(
        res.std_errors.loc[[-1, -2, -3]], fit.se()[["lead1", "lead2", "lead3"]], rtol=1e-6
    )
    assert res.pretrend.df == 3
    assert res.pretrend.reference() == "F(3, 29)"
    # the effects themselves do not change
    plain = did_imputation(
        panel, outcome="y", unit="employee_id", time="year", cohort="cohort", cluster="agency"
    )
    np.testing.assert_allclose(res.params.loc[plain.params.index], plain.params, rtol=1e-12)


def test_horizons_select_rows_but_not_the_overall_att():
    panel = simulate_panel(n_employees=500, n_agencies=20, seed=2)
    args = dict(outcome="y", unit="employee_id", time="year", cohort="cohort", cluster="agency")
    full = did_imputation(panel, **args)
    some = did_imputation(panel, **args, horizons=[0, 2])
    assert list(some.params.index) == [0, 2]
    np.testing.assert_allclose(some.params, full.params.loc[[0, 2]], rtol=1e-12)
    assert some.overall_att == pytest.approx(full.overall_att, rel=1e-12)
    with pytest.raises(ValueError, match="horizons 9 not in the data"):
        did_imputation(panel, **args, horizons=[9])


def test_units_treated_when_first_seen_are_left_out_with_a_warning():
    panel = simulate_panel(n_employees=300, n_agencies=15, seed=4)
    early = panel["employee_id"] < 5
    panel.loc[early, "cohort"] = 2019  # treated in the first year: no untreated period
    with pytest.warns(UserWarning, match="cannot be imputed"):
        res = did_imputation(panel, outcome="y", unit="employee_id", time="year", cohort="cohort")
    assert "Treated rows not imputable" in " ".join(res.info)
    kept = panel.loc[~early]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = did_imputation(kept, outcome="y", unit="employee_id", time="year", cohort="cohort")
    assert res.overall_att == pytest.approx(ref.overall_att, rel=1e-10)


def test_result_renders():
    panel = simulate_panel(n_employees=300, n_agencies=15, seed=4)
    res = did_imputation(
        panel, outcome="y", unit="employee_id", time="year", cohort="cohort",
        cluster="agency", pretrends=True,
    )  # fmt: skip
    assert isinstance(res, ImputationResult)
    frame = res.to_frame()
    assert list(frame.columns) == ["event_time", "estimate", "std_error", "ci_low", "ci_high"]
    assert (frame["event_time"] < 0).any()
    assert "Borusyak" in res._repr_html_()
    assert res.statement().startswith("Imputation (Borusyak-Jaravel-Spiess) finds")
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot()
    assert ax.get_xlabel() == "Periods since adoption"


# --------------------------------------------------------------------------------------
# Messages a user sees
# --------------------------------------------------------------------------------------
def test_bad_inputs_say_what_is_wrong():
    panel = simulate_panel(n_employees=100, n_agencies=10, seed=1)
    args = dict(outcome="y", unit="employee_id", time="year", cohort="cohort")
    with pytest.raises(KeyError, match="no column for cluster 'opd'"):
        did_imputation(panel, **args, cluster="opd")
    varying = panel.copy()
    varying.loc[varying.index[0], "cohort"] = 2022 if varying["cohort"].iat[0] != 2022 else 2023
    with pytest.raises(ValueError, match="must be constant within each employee_id"):
        did_imputation(varying, **args)
    with pytest.raises(ValueError, match="each \\(employee_id, year\\) pair must appear once"):
        did_imputation(pd.concat([panel, panel.iloc[:1]]), **args)
    with pytest.raises(ValueError, match="no observation is ever treated"):
        did_imputation(panel.assign(cohort=0), **args)


# --------------------------------------------------------------------------------------
# Monte Carlo coverage
# --------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("n_agencies", [40, 20])
@pytest.mark.filterwarnings("ignore:did_imputation.*cannot be imputed")
def test_coverage_of_the_overall_att(n_agencies):
    """95% leave-out intervals (agency-clustered, t(G-1)) cover the sample ATT.

    The target is the average true effect over the panel's treated observations, the
    estimand BJS's variance refers to (effects fixed, errors random). The variance is
    conservative when effects vary within a cohort-period cell; here they do not, so
    coverage should be close to nominal: within 3 Monte Carlo standard errors of 95%.
    Measured over 1,000 panels of 40 agencies (600 of 20): leave-out 95.3% (95.0%);
    without leave-out 93.3% (90.3%), its residuals shrunk by cohorts of 4-10 agencies.
    """
    n_sim = 400
    covered, errors = [], []
    for seed in range(n_sim):
        panel = simulate_panel(n_employees=1000, n_agencies=n_agencies, seed=10_000 + seed)
        res = did_imputation(
            panel, outcome="y", unit="employee_id", time="year", cohort="cohort",
            cluster="agency", leaveout=True,
        )  # fmt: skip
        lo, hi = res.overall_interval()
        truth = true_att(panel)
        covered.append(lo <= truth <= hi)
        errors.append(res.overall_att - truth)
    coverage = float(np.mean(covered))
    mc_se = np.sqrt(0.95 * 0.05 / n_sim)
    assert abs(coverage - 0.95) < 3 * mc_se, coverage
    assert abs(np.mean(errors)) < 3 * np.std(errors) / np.sqrt(n_sim)  # unbiased
