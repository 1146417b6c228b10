"""Power and minimum detectable effects for a staggered roll-out (asn_eval.estimators.power).

What is proved here:
- references: in a 2-group, 2-period design with i.i.d. errors the analytic MDE is Bloom's
  (1995) formula for a two-group comparison of the change in the outcome, the cluster-design
  formula of Duflo, Glennerster and Kremer (2007, section 4.2) when the outcome is an agency
  mean of employees, and statsmodels' ``TTestIndPower`` (noncentral t) to solver precision;
- identities: the linear form reproduces att_gt's overall ATT (and the TWFE coefficient) to
  machine precision, and shifting the effect shifts att_gt's estimate and not its SE;
- known truth: att_gt's test achieves the nominal power at the analytic MDE in panels
  simulated from a Kupang-like design, and estimate_design recovers known components.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower

from asn_eval.estimators import att_gt
from asn_eval.estimators.power import (
    Design,
    estimate_design,
    estimator_variance,
    linear_weights,
    mde,
    mde_by_simulation,
    simulated_power,
)

# Adoption cohorts of two of the Kupang policies in the committed synthetic data (43
# agencies, 2019-2025): training has 4 never-adopting agencies, reward and punishment 10.
TRAINING_COHORTS = {0: 4, 2020: 12, 2021: 7, 2022: 12, 2023: 5, 2024: 3}
REWARD_COHORTS = {0: 10, 2020: 6, 2021: 7, 2022: 10, 2023: 6, 2024: 4}
YEARS = range(2019, 2026)
# Components of the order estimated for the SKP good share (a share of employees).
COMPONENTS = {"between_var": 0.02, "shock_var": 0.004, "rho": 0.4, "employee_var": 0.2}
EMPLOYEES = np.linspace(30, 290, 43)


def _kupang(cohorts: dict[int, int]) -> Design:
    return Design.from_counts(cohorts, years=YEARS, employees=EMPLOYEES, **COMPONENTS)


# --------------------------------------------------------------------------------------
# (a) references for the simplest design
# --------------------------------------------------------------------------------------
N_TREATED, N_CONTROL, SIGMA2 = 15, 25, 2.5


def _two_by_two(**kwargs) -> Design:
    # between_var is deliberately large: the agency level cancels in the DiD
    params = {"between_var": 7.0, "shock_var": SIGMA2} | kwargs
    return Design.from_counts({2: N_TREATED, 0: N_CONTROL}, years=(1, 2), **params)


def test_two_by_two_iid_mde_is_bloom_formula():
    # Bloom (1995, eq. 1 and table 1): MDE = M * sigma * sqrt(1 / (P (1 - P) N)) with
    # M = t_{1-alpha/2} + t_{1-beta} for a two-group comparison; here the compared variable
    # is the change of the outcome over the two periods, of variance 2 sigma^2.
    n = N_TREATED + N_CONTROL
    p = N_TREATED / n
    sigma_change = np.sqrt(2 * SIGMA2)
    for df in (n - 2, n - 1):
        m = stats.t.ppf(0.975, df) + stats.t.ppf(0.80, df)
        expected = m * sigma_change * np.sqrt(1 / (p * (1 - p) * n))
        res = mde(_two_by_two(), next_year=False, df=df)
        assert res.mde == pytest.approx(expected, rel=1e-12)
    # by default df = G - 1 with G the agencies (clusters)
    assert mde(_two_by_two(), next_year=False).df == n - 1


def test_agency_mean_of_employees_is_duflo_glennerster_kremer_formula():
    # Duflo, Glennerster and Kremer (2007, section 4.2): with J clusters of n individuals, a
    # share P treated and intra-cluster correlation rho, MDE = M * sqrt(1 / (P (1 - P) J)) *
    # sqrt(rho + (1 - rho) / n) * sigma. An agency-year mean of n employees has variance
    # sigma^2 (rho + (1 - rho) / n) with rho the agency-year share of the variance; over two
    # periods with independent shocks the change has twice that variance (the agency level
    # cancels), so the DiD MDE is sqrt(2) times theirs.
    icc, sigma2, staff = 0.08, 3.0, 40
    design = _two_by_two(
        between_var=0.0,
        shock_var=icc * sigma2,
        employee_var=(1 - icc) * sigma2,
        employees=staff,
    )
    assert design.icc == pytest.approx(icc)
    j = N_TREATED + N_CONTROL
    p = N_TREATED / j
    df = j - 2
    m = stats.t.ppf(0.975, df) + stats.t.ppf(0.80, df)
    dgk = m * np.sqrt(1 / (p * (1 - p) * j)) * np.sqrt(icc + (1 - icc) / staff) * np.sqrt(sigma2)
    assert mde(design, next_year=False, df=df).mde == pytest.approx(np.sqrt(2) * dgk, rel=1e-12)


def test_two_by_two_matches_statsmodels_ttestindpower():
    n = N_TREATED + N_CONTROL
    sigma_change = np.sqrt(2 * SIGMA2)
    res = mde(_two_by_two(), next_year=False, df=n - 2)
    d = TTestIndPower().solve_power(
        effect_size=None, nobs1=N_TREATED, alpha=0.05, power=0.80, ratio=N_CONTROL / N_TREATED
    )
    # exact (noncentral t) MDE: the same equation, solved by both to solver precision
    assert res.mde_exact == pytest.approx(d * sigma_change, rel=1e-6)
    # the power curve is statsmodels' power function
    effects = np.array([0.5, 1.0, 2.0])
    expected = TTestIndPower().power(
        effect_size=effects / sigma_change,
        nobs1=N_TREATED,
        alpha=0.05,
        ratio=N_CONTROL / N_TREATED,
    )
    np.testing.assert_allclose(res.power_at(effects), expected, rtol=1e-10)
    # Bloom's sum of quantiles approximates the noncentral t closely at this df
    assert res.mde == pytest.approx(d * sigma_change, rel=2e-3)


# --------------------------------------------------------------------------------------
# identities with the estimators
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("control_group", ["never", "notyet"])
def test_linear_form_reproduces_att_gt_overall_att(control_group):
    design = _kupang(TRAINING_COHORTS).extend(1, planned={"agency 1": 2026})
    panel = design.simulate(effect=0.3, seed=4)
    weights = linear_weights(design, control_group=control_group)
    y = panel["y"].to_numpy().reshape(design.n_units, design.n_years)
    res = att_gt(
        panel,
        outcome="y",
        unit="unit",
        time="year",
        cohort="cohort",
        control_group=control_group,
        cluster="unit",
    ).aggregate("simple")
    assert float((weights * y).sum()) == pytest.approx(res.overall_att, abs=1e-12)
    assert res.df == design.n_clusters - 1


def test_linear_form_reproduces_twfe_coefficient():
    from asn_eval.estimators import twfe

    design = _kupang(REWARD_COHORTS)
    panel = design.simulate(effect=0.2, seed=5)
    weights = linear_weights(design, estimator="twfe")
    y = panel["y"].to_numpy().reshape(design.n_units, design.n_years)
    res = twfe(panel, outcome="y", treatment="treated", unit="unit", time="year")
    assert float((weights * y).sum()) == pytest.approx(float(res.params.iloc[0]), abs=1e-10)


def test_shifting_the_effect_shifts_the_estimate_and_keeps_the_standard_error():
    design = _kupang(TRAINING_COHORTS)
    panel = design.simulate(effect=0.0, seed=6)
    shifted = panel.assign(y=panel["y"] + 0.37 * panel["treated"])
    fits = [
        att_gt(f, outcome="y", unit="unit", time="year", cohort="cohort", cluster="unit").aggregate(
            "simple"
        )
        for f in (panel, shifted)
    ]
    assert fits[1].overall_att - fits[0].overall_att == pytest.approx(0.37, abs=1e-12)
    assert fits[1].overall_se == pytest.approx(fits[0].overall_se, abs=1e-14)


def test_next_year_adds_a_year_and_lowers_the_mde():
    design = _kupang(TRAINING_COHORTS)
    now, later = mde(design, next_year=False), mde(design)
    assert later.design.years == (*design.years, 2026)
    assert later.mde < now.mde
    # a planned adoption of a never-adopting agency adds a cohort of one
    planned = mde(design, planned={"agency 1": 2026})
    assert planned.design.cohort_sizes[2026] == 1
    assert planned.design.n_never == design.n_never - 1


# --------------------------------------------------------------------------------------
# (b) Monte Carlo: achieved power at the analytic MDE
# --------------------------------------------------------------------------------------
def test_simulated_power_at_the_analytic_mde_fast():
    # 150 panels: Monte Carlo SE of a power near 0.8 is sqrt(0.8 * 0.2 / 150) = 3.3 points;
    # 12 points leave 3.6 SE, so the test fails only when power is really off (a wrong
    # variance formula by 30% moves power by more than 15 points).
    sim = mde_by_simulation(_kupang(REWARD_COHORTS), n_sim=150, seed=11)
    assert sim.n_sim == 150
    assert sim.power == pytest.approx(0.80, abs=0.12)
    # the design's standard error is the spread of att_gt's estimates (F bounds at 99.9%)
    ratio = np.var(sim.estimates, ddof=1) / sim.analytic.std_error**2
    assert stats.chi2.ppf(0.0005, 149) / 149 < ratio < stats.chi2.ppf(0.9995, 149) / 149


@pytest.mark.slow
@pytest.mark.parametrize("cohorts", [REWARD_COHORTS, TRAINING_COHORTS], ids=["10never", "4never"])
def test_simulated_power_at_the_analytic_mde(cohorts):
    # 2000 panels: Monte Carlo SE about 0.9 points. With 4 never-adopting agencies att_gt's
    # analytic SE is too small (size about 10%), which lifts power by a few points; the
    # statement of SimulatedPower says so.
    sim = mde_by_simulation(_kupang(cohorts), n_sim=2000, seed=20261)
    assert sim.power == pytest.approx(0.80, abs=0.05)
    assert sim.mde == pytest.approx(sim.analytic.mde, rel=0.10)


# --------------------------------------------------------------------------------------
# (c) estimate_design recovers known components
# --------------------------------------------------------------------------------------
def _employee_panel(seed: int, *, n_agencies: int = 300) -> pd.DataFrame:
    """Agency-year means of individual employees: agency level, AR(1) agency shocks, and
    effects that grow with exposure and differ by cohort (absorbed by the fit)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2019, 2026)
    cohort = rng.choice([0, 2021, 2022, 2024], n_agencies)
    staff = rng.integers(10, 200, n_agencies)
    level = rng.normal(0.0, np.sqrt(0.5), n_agencies)
    shock = np.empty((n_agencies, years.size))
    shock[:, 0] = rng.normal(0.0, np.sqrt(0.3), n_agencies)
    for t in range(1, years.size):
        innovation = rng.normal(0.0, np.sqrt(0.3 * (1 - 0.5**2)), n_agencies)
        shock[:, t] = 0.5 * shock[:, t - 1] + innovation
    exposure = years[None, :] - cohort[:, None]
    effect = np.where((cohort[:, None] > 0) & (exposure >= 0), 1 + 0.5 * exposure, 0.0)
    means = np.empty((n_agencies, years.size))
    for i in range(n_agencies):
        employees = rng.normal(0.0, np.sqrt(4.0), (staff[i], years.size))
        means[i] = level[i] + 0.2 * (years - 2019) + shock[i] + employees.mean(axis=0)
    return pd.DataFrame(
        {
            "agency": np.repeat(np.arange(n_agencies), years.size),
            "year": np.tile(years, n_agencies),
            "cohort": np.repeat(cohort, years.size),
            "staff": np.repeat(staff, years.size),
            "y": (means + effect).ravel(),
        }
    )


def test_estimate_design_recovers_components_of_employee_means():
    # truth: between 0.5, shock 0.3, rho 0.5, employee 4.0, icc 0.8 / 4.8 = 0.167. Tolerances
    # are 3.5 times the spread of the estimates over 10 seeds (0.052, 0.027, 0.049, 0.55,
    # 0.021).
    panel = _employee_panel(3)
    design = estimate_design(
        panel,
        outcome="y",
        unit="agency",
        time="year",
        cohort="cohort",
        weights="staff",
        fit="cohort_year",
    )
    assert design.between_var == pytest.approx(0.5, abs=0.18)
    assert design.shock_var == pytest.approx(0.3, abs=0.09)
    assert design.rho == pytest.approx(0.5, abs=0.17)
    assert design.employee_var == pytest.approx(4.0, abs=1.9)
    assert design.icc == pytest.approx(0.8 / 4.8, abs=0.075)
    assert design.n_units == 300
    assert design.employees[0] == panel.loc[panel["agency"] == 0, "staff"].iloc[0]


def test_estimate_design_recovers_agency_level_ar1_and_its_mde():
    truth = Design.from_counts(
        {0: 60, 2021: 50, 2022: 50, 2024: 40}, years=YEARS, between_var=1.0, shock_var=0.5, rho=0.6
    )
    panel = truth.simulate(effect=2.0, seed=8)
    # default: agency-years not yet treated, agency and year effects
    design = estimate_design(panel, outcome="y", unit="unit", time="year", cohort="cohort")
    assert design.shock_var == pytest.approx(0.5, rel=0.2)
    assert design.rho == pytest.approx(0.6, abs=0.12)
    assert design.between_var == pytest.approx(1.0, rel=0.35)
    # the MDE it implies is the true design's MDE, within the components' error
    assert mde(design).mde == pytest.approx(mde(truth).mde, rel=0.15)
    # every agency-year, with cohort-by-year effects absorbing the (constant) effect
    every = estimate_design(
        panel, outcome="y", unit="unit", time="year", cohort="cohort", fit="cohort_year"
    )
    assert every.shock_var == pytest.approx(0.5, rel=0.2)
    assert every.rho == pytest.approx(0.6, abs=0.12)
    exchangeable = estimate_design(
        panel, outcome="y", unit="unit", time="year", cohort="cohort", serial="exchangeable"
    )
    assert exchangeable.rho == 0.0


# --------------------------------------------------------------------------------------
# result objects and messages
# --------------------------------------------------------------------------------------
def test_result_objects_render_and_plot():
    import matplotlib.pyplot as plt

    res = mde(_kupang(TRAINING_COHORTS))
    frame = res.to_frame()
    assert frame.loc[0, "mde"] == res.mde and frame.loc[0, "n_never"] == 4
    assert res.statement().startswith(
        "With 43 agencies (39 adopting in 5 cohorts, 4 never adopting) observed over "
        "2019-2026, next year's data could detect an effect on outcome of "
        f"{res.mde:.3g} or larger"
    )
    assert res.statement() in res._repr_html_()
    assert "between_var" in _kupang(TRAINING_COHORTS)._repr_html_()
    ax = res.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    (curve,) = [line for line in ax.get_lines() if line.get_gid() == "analytic"]
    assert curve.get_label() == "Analytic" and ax.get_ylabel() == "Power"
    assert curve.get_ydata()[0] == pytest.approx(0.05)
    plt.close(ax.figure)
    sim = simulated_power(_kupang(REWARD_COHORTS), effect=res.mde, n_sim=5, seed=1)
    assert set(sim.to_frame().columns) >= {"power", "mc_error", "size", "mde_simulated"}
    ax = sim.plot(lang="id")
    assert ax.get_ylabel() == "Kuasa uji"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Analitik", "Simulasi"]
    plt.close(ax.figure)


def test_messages():
    design = _kupang(TRAINING_COHORTS)
    with pytest.raises(ValueError, match="agency 'agency 43' already adopted in 2024"):
        design.extend(1, planned={"agency 43": 2026})
    with pytest.raises(ValueError, match="employee_var > 0 needs employees per agency"):
        Design.from_counts({2021: 3, 0: 3}, years=YEARS, between_var=1, shock_var=1, employee_var=1)
    no_never = Design.from_counts({2021: 3, 2023: 3}, years=YEARS, between_var=1, shock_var=1)
    with pytest.raises(ValueError, match="no never-treated agencies.*control_group='notyet'"):
        mde(no_never)
    assert mde(no_never, control_group="notyet").mde > 0
    panel = design.simulate(seed=1)
    with pytest.raises(ValueError, match=r"column 'staff' \(weights\) is not in the data"):
        estimate_design(
            panel, outcome="y", unit="unit", time="year", cohort="cohort", weights="staff"
        )
    assert estimator_variance(design) > 0
