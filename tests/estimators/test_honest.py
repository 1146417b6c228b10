"""Rambachan-Roth sensitivity analysis (asn_eval.estimators.honest).

References:
- HonestDiD's README (github.com/asheshrambachan/HonestDiD, README.md as of 2024-05, commit
  0bbadb9): Medicaid expansion and insurance coverage, states first treated in 2014 against
  never-treated states, 2008-2015, TWFE event study ``dins ~ i(year, D, ref = 2013) | stfips +
  year`` clustered by state; intervals for the 2014 effect.
- moderndid 0.2 (``moderndid.didhonest``), a Python port of HonestDiD, on the same inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from asn_eval.estimators import honest as hd
from asn_eval.estimators.did import att_gt, event_study
from asn_eval.estimators.honest import honest_did, honest_did_from_estimates

# HonestDiD README, createSensitivityResults (FLCI, Delta^SD(M)), M = 0, 0.01, ..., 0.05.
README_SD = [
    (0.00, 0.0259, 0.0607),
    (0.01, 0.0132, 0.0787),
    (0.02, 0.00286, 0.0907),
    (0.03, -0.00714, 0.101),
    (0.04, -0.0171, 0.111),
    (0.05, -0.0271, 0.121),
]
# HonestDiD README, createSensitivityResults_relativeMagnitudes (C-LF, Delta^RM(Mbar)).
README_RM = [
    (0.5, 0.0241, 0.0673),
    (1.0, 0.0171, 0.0720),
    (1.5, 0.00859, 0.0796),
    (2.0, -0.00107, 0.0883),
]
# The same table as the README printed it in 2023 (commit 9f8379b), before HonestDiD
# changed how it seeds the least-favourable simulation: the spread between the two is the
# Monte Carlo error of R's own answer.
README_RM_2023 = [
    (0.5, 0.0240, 0.0672),
    (1.0, 0.0170, 0.0720),
    (1.5, 0.00824, 0.0797),
    (2.0, -0.000916, 0.0881),
]


def _half_last_digit(printed: np.ndarray, digits: int = 3) -> np.ndarray:
    """Half a unit in the last place of numbers printed to ``digits`` significant digits."""
    return 0.5 * 10.0 ** (np.floor(np.log10(np.abs(printed))) - (digits - 1))


@pytest.fixture(scope="module")
def ehec_event_study():
    """The README's event study, re-estimated with our TWFE (which matches fixest)."""
    moderndid = pytest.importorskip("moderndid")
    df = moderndid.load_ehec().to_pandas()
    df = df[(df["year"] < 2016) & ~(df["yexp2"] == 2015)].copy()
    df["cohort"] = np.where(df["yexp2"] == 2014, 2014, 0)
    # cluster on a copy of the unit column (issue 13: clustering on the unit column itself
    # is being fixed separately)
    df["state"] = df["stfips"].astype(int)
    return event_study(
        df,
        outcome="dins",
        unit="stfips",
        time="year",
        cohort="cohort",
        method="twfe",
        cluster="state",
    )


@pytest.fixture(scope="module")
def ehec_inputs(ehec_event_study):
    beta, sigma, num_pre, num_post, _ = hd._event_inputs(ehec_event_study)
    return beta, sigma, num_pre, num_post


def test_inputs_follow_honestdid_layout(ehec_inputs):
    beta, sigma, num_pre, num_post = ehec_inputs
    # 2008-2012 before, 2014-2015 after; 2013 (event time -1) is the reference, left out
    assert (num_pre, num_post) == (5, 2)
    assert beta.shape == (7,) and sigma.shape == (7, 7)


def test_smoothness_matches_honestdid_readme(ehec_event_study):
    res = honest_did(ehec_event_study, method="smoothness", m=[m for m, _, _ in README_SD])
    frame = res.to_frame().query("interval == 'robust'")
    ours = frame[["ci_low", "ci_high"]].to_numpy()
    readme = np.array([[lo, hi] for _, lo, hi in README_SD])
    # printed to 3 significant digits (half a unit of the last digit), and R simulates the
    # folded-normal quantile with 10^6 draws, which moves its ends by a few 1e-5
    tolerance = _half_last_digit(readme) + 5e-5
    assert np.all(np.abs(ours - readme) <= tolerance)
    # README: "the breakdown value for a significant effect is M ~ 0.03" (between the
    # printed 0.02, which excludes zero, and 0.03, which covers it)
    assert 0.02 < res.breakdown < 0.03


def test_relative_magnitudes_match_honestdid_readme(ehec_event_study):
    res = honest_did(ehec_event_study, method="relative_magnitude", m=[m for m, _, _ in README_RM])
    frame = res.to_frame().query("interval == 'robust'")
    ours = frame[["ci_low", "ci_high"]].to_numpy()
    readme = np.array([[lo, hi] for _, lo, hi in README_RM])
    readme_2023 = np.array([[lo, hi] for _, lo, hi in README_RM_2023])
    # R's interval is a grid answer (step 40 SE / 999 = 3.7e-4 here) whose least-favourable
    # critical value is simulated with 1000 draws: its two published versions differ by up
    # to 3.5e-4. Ours (exact ends, numpy draws) lies within 5e-4 of both.
    assert np.abs(readme - readme_2023).max() > 3e-4
    np.testing.assert_allclose(ours, readme, atol=5e-4)
    np.testing.assert_allclose(ours, readme_2023, atol=5e-4)
    # README: "the breakdown value for a significant effect is Mbar = 2"
    assert 1.5 < res.breakdown < 2.05
    assert frame["ci_low"].iloc[-1] < 0 < frame["ci_low"].iloc[-2]


def test_original_interval_is_the_normal_interval(ehec_event_study):
    res = honest_did(ehec_event_study, method="smoothness", m=[0.0], breakdown=False)
    est = ehec_event_study.params.loc[0]
    se = ehec_event_study.std_errors.loc[0]
    z = stats.norm.ppf(0.975)
    assert res.original == pytest.approx((est - z * se, est + z * se), rel=1e-12)
    assert res.estimate == pytest.approx(est, rel=1e-12)


def test_flci_at_zero_is_the_minimum_variance_unbiased_interval(ehec_inputs):
    # Delta^SD(0) allows only linear trends: the FLCI is the minimum-variance estimator among
    # those unbiased for every linear trend, in closed form by a Lagrangian
    beta, sigma, num_pre, num_post = ehec_inputs
    for l_vec in (np.array([1.0, 0.0]), np.array([0.5, 0.5])):
        t_pre = np.arange(-num_pre, 0.0)
        t_post = np.arange(1.0, num_post + 1)
        kkt = np.block([[sigma[:num_pre, :num_pre], t_pre[:, None]], [t_pre[None, :], 0.0]])
        rhs = np.r_[-sigma[:num_pre, num_pre:] @ l_vec, -(t_post @ l_vec)]
        v = np.r_[np.linalg.solve(kkt, rhs)[:num_pre], l_vec]
        half = stats.norm.ppf(0.975) * np.sqrt(v @ sigma @ v)
        res = honest_did_from_estimates(
            beta,
            sigma,
            num_pre=num_pre,
            num_post=num_post,
            method="smoothness",
            m=[0.0],
            l_vec=l_vec,
            breakdown=False,
        )
        row = res.intervals.iloc[0]
        np.testing.assert_allclose(
            [row["ci_low"], row["ci_high"]], [v @ beta - half, v @ beta + half], atol=1e-9
        )


def test_flci_one_pre_period_is_linear_extrapolation():
    # one pre-period (event time -2), one post-period (0): the only estimator unbiased for
    # every linear trend is beta_0 + beta_{-2}, whose bias under Delta^SD(M) is at most M
    # (it is one second difference of delta)
    sigma = np.array([[0.04, 0.01], [0.01, 0.09]])
    beta = np.array([0.1, 0.5])
    m = 0.2
    res = honest_did_from_estimates(
        beta, sigma, num_pre=1, num_post=1, method="smoothness", m=[m], breakdown=False
    )
    sd = np.sqrt(np.ones(2) @ sigma @ np.ones(2))
    half = sd * stats.foldnorm.ppf(0.95, m / sd)
    row = res.intervals.iloc[0]
    np.testing.assert_allclose([row["ci_low"], row["ci_high"]], [0.6 - half, 0.6 + half])


@pytest.mark.parametrize("method", ["relative_magnitude", "smoothness"])
def test_breakdown_is_where_the_interval_first_covers_zero(ehec_inputs, method):
    beta, sigma, num_pre, num_post = ehec_inputs
    res = honest_did_from_estimates(
        beta, sigma, num_pre=num_pre, num_post=num_post, method=method, m=None
    )
    top = float(res.info["breakdown searched up to"])
    eps = 2 * hd.BREAKDOWN_TOLERANCE * top
    around = honest_did_from_estimates(
        beta,
        sigma,
        num_pre=num_pre,
        num_post=num_post,
        method=method,
        m=[res.breakdown, res.breakdown + eps],
        breakdown=False,
    ).intervals
    below, above = around.iloc[0], around.iloc[1]
    assert below["ci_low"] > 0  # still excludes zero at the breakdown value
    assert above["ci_low"] <= 0 <= above["ci_high"]  # covers zero just beyond it


def test_breakdown_missing_when_the_original_interval_covers_zero():
    beta = np.array([0.01, 0.0, 0.02])
    res = honest_did_from_estimates(beta, np.eye(3) * 0.01, num_pre=2, num_post=1, m=[1.0])
    assert np.isnan(res.breakdown)
    assert "already covers zero" in res.statement()


def test_relative_magnitude_interval_grows_with_mbar(ehec_inputs):
    beta, sigma, num_pre, num_post = ehec_inputs
    res = honest_did_from_estimates(
        beta,
        sigma,
        num_pre=num_pre,
        num_post=num_post,
        m=[0.0, 0.5, 1.0, 2.0, 4.0],
        breakdown=False,
    )
    width = (res.intervals["ci_high"] - res.intervals["ci_low"]).to_numpy()
    assert np.all(np.diff(width) > 0)


def test_grid_mode_reports_grid_points_and_refined_ends_lie_within_a_step(ehec_inputs):
    beta, sigma, num_pre, num_post = ehec_inputs
    kwargs = dict(num_pre=num_pre, num_post=num_post, m=[1.0], breakdown=False)
    grid = honest_did_from_estimates(beta, sigma, refine=False, **kwargs).intervals.iloc[0]
    exact = honest_did_from_estimates(beta, sigma, **kwargs).intervals.iloc[0]
    sd = np.sqrt(sigma[num_pre, num_pre])
    points = np.linspace(-20 * sd, 20 * sd, 1000)
    assert np.min(np.abs(points - grid["ci_low"])) < 1e-15
    step = points[1] - points[0]
    # the exact ends lie outside the outermost accepted grid points, by less than a step
    assert 0 <= grid["ci_low"] - exact["ci_low"] < step
    assert 0 <= exact["ci_high"] - grid["ci_high"] < step


def test_truncated_normal_quantile_matches_scipy():
    lo = np.array([-np.inf, -3.0, 0.5, 6.0, 30.0, -40.0, -2.0])
    up = np.array([1.0, 8.0, np.inf, 9.0, 31.0, -39.0, 2.0])
    np.testing.assert_allclose(
        hd._truncnorm_quantile(0.955, lo, up), stats.truncnorm.ppf(0.955, lo, up), rtol=1e-9
    )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_lf_components_equal_moderndid_on_the_same_grid(ehec_inputs):
    """Each polyhedron's C-LF acceptance region equals moderndid's, point by point (slow:
    moderndid solves a linear programme per least-favourable draw, ~15 s a polyhedron).

    moderndid indexes the pre-period difference one place later than HonestDiD and omits
    the earliest one (HonestDiD's s = -(T-1)); the others are compared, with moderndid's
    ``s = j - T``. Both seed numpy's generator with 0 for the least-favourable draws.
    """
    pytest.importorskip("cvxpy")  # moderndid.didhonest refuses to import without it
    from moderndid.didhonest.delta.rm import rm as mdrm

    beta, sigma, num_pre, num_post = ehec_inputs
    l_vec = np.array([1.0, 0.0])
    sd = np.sqrt(sigma[num_pre, num_pre])
    grid = np.linspace(-20 * sd, 20 * sd, 1000)
    for mbar, j, sign in ((0.5, 4, 1.0), (2.0, 1, -1.0)):
        theirs = mdrm._compute_conditional_cs_rm_fixed_s(
            s=j - num_pre,
            max_positive=sign > 0,
            m_bar=mbar,
            betahat=beta,
            sigma=sigma,
            num_pre_periods=num_pre,
            num_post_periods=num_post,
            l_vec=l_vec.reshape(-1, 1),
            alpha=0.05,
            hybrid_flag="LF",
            hybrid_kappa=0.005,
            post_period_moments_only=True,
            grid_points=grid.size,
            grid_lb=grid[0],
            grid_ub=grid[-1],
            seed=0,
        )["accept"].astype(bool)
        ours = hd._lf_component(
            beta, sigma, num_pre, num_post, l_vec, mbar, j, sign, 0.05, 0.005, 1000, 0
        ).accept(grid)
        assert theirs.any()
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("l_vec", [(1.0, 0.0), (0.5, 0.5)])
def test_flci_equals_moderndid(ehec_inputs, l_vec):
    """moderndid minimises over h by golden section (tolerance 1e-6 of h); for M > 0 the
    optimum is flat in h and the intervals agree to 1e-6. At M = 0 moderndid stops short of
    the minimum-variance weights by about 4e-6 (see the closed-form test above)."""
    pytest.importorskip("cvxpy")
    from moderndid.didhonest import fixed_length_ci

    beta, sigma, num_pre, num_post = ehec_inputs
    l_vec = np.array(l_vec)
    ours = honest_did_from_estimates(
        beta,
        sigma,
        num_pre=num_pre,
        num_post=num_post,
        method="smoothness",
        m=[0.005, 0.03],
        l_vec=l_vec,
        breakdown=False,
    ).intervals
    for row in ours.itertuples():
        theirs = fixed_length_ci.compute_flci(
            beta_hat=beta,
            sigma=sigma,
            smoothness_bound=row.m,
            n_pre_periods=num_pre,
            n_post_periods=num_post,
            post_period_weights=l_vec,
            alpha=0.05,
        ).flci
        np.testing.assert_allclose([row.ci_low, row.ci_high], theirs, atol=1e-6)


# --- our own estimators ---------------------------------------------------------------
@pytest.fixture(scope="module")
def staggered_panel():
    rng = np.random.default_rng(7)
    units, years = 60, np.arange(2015, 2023)
    cohort = rng.choice([0, 2018, 2019, 2020], size=units)
    rows = []
    for i in range(units):
        a = rng.normal()
        for t in years:
            effect = 1.0 + 0.2 * (t - cohort[i]) if cohort[i] and t >= cohort[i] else 0.0
            rows.append((i, t, cohort[i], a + 0.1 * (t - 2015) + effect + rng.normal(0, 0.5)))
    return pd.DataFrame(rows, columns=["id", "year", "cohort", "y"])


def test_runs_on_cs_event_study_att_gt_and_twfe(staggered_panel):
    kw = dict(outcome="y", unit="id", time="year", cohort="cohort")
    es = event_study(staggered_panel, reference=-1, **kw)
    gt = att_gt(staggered_panel, base_period="universal", **kw)
    from_es = honest_did(es, m=[0.5, 1.0], breakdown=False)
    from_gt = honest_did(gt, m=[0.5, 1.0], breakdown=False)
    from_agg = honest_did(gt.aggregate("dynamic"), m=[0.5, 1.0], breakdown=False)
    pd.testing.assert_frame_equal(from_es.to_frame(), from_gt.to_frame())
    pd.testing.assert_frame_equal(from_es.to_frame(), from_agg.to_frame())
    assert from_es.estimate == pytest.approx(es.params.loc[0])
    twfe = event_study(staggered_panel, method="twfe", reference=-1, **kw)
    res = honest_did(twfe, method="smoothness", m=[0.0, 0.1], e=1)
    assert res.estimate == pytest.approx(twfe.params.loc[1])
    assert list(res.to_frame().columns) == ["m", "ci_low", "ci_high", "interval"]
    assert list(res.to_frame()["interval"]) == ["original", "robust", "robust"]


def test_presentation(staggered_panel):
    import matplotlib

    matplotlib.use("Agg")
    es = event_study(staggered_panel, outcome="y", unit="id", time="year", cohort="cohort")
    res = honest_did(es, m=[0.5, 1.0, 2.0])
    text = str(res.summary())
    assert "Breakdown Mbar" in text and "C-LF" in text
    assert "<table>" in res._repr_html_()
    assert res.statement().startswith("The effect at event time 0 on y is ")
    assert f"Mbar = {res.breakdown:.3g}" in res.statement()
    ax = res.plot()
    assert ax.get_xlabel() == "Mbar"
    assert len(ax.collections) >= 2


def test_rejects_bad_inputs(staggered_panel):
    kw = dict(outcome="y", unit="id", time="year", cohort="cohort")
    varying = event_study(staggered_panel, reference=None, **kw)
    with pytest.raises(ValueError, match="reference=-1"):
        honest_did(varying)
    gt = att_gt(staggered_panel, **kw)  # varying base period by default
    with pytest.raises(ValueError, match="varying base period"):
        honest_did(gt)
    with pytest.raises(ValueError, match="needs an event study"):
        honest_did(att_gt(staggered_panel, base_period="universal", **kw).aggregate("group"))
    es = event_study(staggered_panel, **kw)
    with pytest.raises(ValueError, match="method must be 'relative_magnitude' or 'smoothness'"):
        honest_did(es, method="sd")
    with pytest.raises(ValueError, match=r"e=9 is not a post-treatment period \(0\.\.4\)"):
        honest_did(es, e=9)
    with pytest.raises(ValueError, match="bound must be non-negative"):
        honest_did(es, m=[-1.0])
    with pytest.raises(TypeError, match="expects an event study"):
        honest_did(staggered_panel)


# --- Monte Carlo ----------------------------------------------------------------------
def _ar_sigma(n: int, sd: float = 0.1, rho: float = 0.5) -> np.ndarray:
    idx = np.arange(n)
    return sd**2 * rho ** np.abs(idx[:, None] - idx[None, :])


@pytest.mark.slow
def test_flci_covers_under_a_violation_inside_delta_sd():
    """A pre-trend that bends by exactly M per period (the worst case of Delta^SD(M)):
    the FLCI covers the true effect at least at its nominal rate."""
    rng = np.random.default_rng(2023)
    num_pre, num_post, m = 4, 3, 0.05
    sigma = _ar_sigma(num_pre + num_post)
    t = np.r_[np.arange(-num_pre, 0), np.arange(1, num_post + 1)].astype(float)
    delta = 0.03 * t + 0.5 * m * t**2  # second difference exactly m everywhere
    tau = np.r_[np.zeros(num_pre), 0.2, 0.3, 0.4]
    reps, covered = 1000, 0
    draws = rng.multivariate_normal(tau + delta, sigma, size=reps)
    for beta in draws:
        res = honest_did_from_estimates(
            beta,
            sigma,
            num_pre=num_pre,
            num_post=num_post,
            method="smoothness",
            m=[m],
            breakdown=False,
        )
        lo, hi = res.intervals.iloc[0][["ci_low", "ci_high"]]
        covered += lo <= 0.2 <= hi
    # 95% nominal; Monte Carlo SE of a coverage near 0.95 is 0.007 with 1000 draws
    assert covered / reps >= 0.95 - 3 * 0.007


@pytest.mark.slow
def test_relative_magnitude_covers_under_a_violation_inside_delta_rm():
    """Post-treatment trend changes as large as Mbar times the largest pre-treatment one:
    the C-LF interval covers the true effect at least at its nominal rate."""
    rng = np.random.default_rng(11)
    num_pre, num_post, mbar = 3, 2, 1.0
    sigma = _ar_sigma(num_pre + num_post, sd=0.05)
    # pre-period deltas at -4, -3, -2 with the reference -1 at zero: largest change 0.04
    delta_pre = np.array([-0.06, -0.04, -0.02])
    delta_post = np.array([0.04, 0.08])  # changes 0.04 and 0.04 = Mbar * 0.04
    tau = np.r_[np.zeros(num_pre), 0.1, 0.1]
    beta_true = tau + np.r_[delta_pre, delta_post]
    reps, covered = 400, 0
    for beta in rng.multivariate_normal(beta_true, sigma, size=reps):
        res = honest_did_from_estimates(
            beta,
            sigma,
            num_pre=num_pre,
            num_post=num_post,
            m=[mbar],
            breakdown=False,
            grid_points=200,
        )
        lo, hi = res.intervals.iloc[0][["ci_low", "ci_high"]]
        covered += lo <= 0.1 <= hi
    # Monte Carlo SE near 0.95 with 400 draws: 0.011
    assert covered / reps >= 0.95 - 3 * 0.011


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_lf_component_equals_moderndid_on_more_polyhedra(ehec_inputs):
    pytest.importorskip("cvxpy")
    from moderndid.didhonest.delta.rm import rm as mdrm

    beta, sigma, num_pre, num_post = ehec_inputs
    l_vec = np.array([0.5, 0.5])
    sd = np.sqrt(l_vec @ sigma[num_pre:, num_pre:] @ l_vec)
    grid = np.linspace(-20 * sd, 20 * sd, 1000)
    for mbar in (0.0, 1.0, 3.0):
        for j in range(1, num_pre):
            for sign in (1.0, -1.0):
                theirs = mdrm._compute_conditional_cs_rm_fixed_s(
                    s=j - num_pre,
                    max_positive=sign > 0,
                    m_bar=mbar,
                    betahat=beta,
                    sigma=sigma,
                    num_pre_periods=num_pre,
                    num_post_periods=num_post,
                    l_vec=l_vec.reshape(-1, 1),
                    alpha=0.05,
                    hybrid_flag="LF",
                    hybrid_kappa=0.005,
                    post_period_moments_only=True,
                    grid_points=grid.size,
                    grid_lb=grid[0],
                    grid_ub=grid[-1],
                    seed=0,
                )["accept"].astype(bool)
                ours = hd._lf_component(
                    beta, sigma, num_pre, num_post, l_vec, mbar, j, sign, 0.05, 0.005, 1000, 0
                ).accept(grid)
                np.testing.assert_array_equal(ours, theirs)
