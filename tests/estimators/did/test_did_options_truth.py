"""Known truth: att_gt's panel=False, allow_unbalanced and weights recover a known ATT.

The data are the project's simulated panel (``simulate_panel``: agencies adopt in 2021-2024
or never, effects grow with exposure and are larger for early cohorts) turned into the
designs researchers bring, by the samplers of :mod:`asn_eval.data.simulate`:
``cross_sections`` (each employee answers in one random year), ``with_attrition`` (30% of the
employee-years lost at random) and ``stratified_sample`` (a fifth of the employees have three
times the effect and are all sampled, the others one in four). In every cell the true
ATT(g, t) is the mean of the generator's ``true_effect`` over the cell's rows (of the
population, for the stratified sample). Standard errors are clustered by agency, the level
at which treatment is assigned.

The fast tests check one dataset per design, against the cells' truth and the simple
aggregation's truth for the cohort shares drawn; the slow study checks that the intervals
of the simple aggregation cover the population target at their nominal rate.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from asn_eval.config import NEVER_TREATED
from asn_eval.data.simulate import (
    PANEL_EFFECTS,
    cohort_effect,
    cross_sections,
    panel_cohorts,
    simulate_panel,
    stratified_sample,
    true_att,
    with_attrition,
)
from asn_eval.estimators.did import att_gt

COLUMNS = dict(outcome="y", unit="employee_id", time="year", cohort="cohort", cluster="agency")
N_AGENCIES = 40
YEARS = range(2019, 2026)
# largest |estimate - truth| / SE allowed over a result's 24 cells: under correct standard
# errors each exceeds 4.5 with probability below 1e-4
MAX_Z = 4.5


def _designs(seed: int, n_employees: int) -> dict[str, tuple]:
    """(data, options, population behind the data) of each design, from one seed."""
    panel = simulate_panel(n_employees=n_employees, n_agencies=N_AGENCIES, seed=seed)
    population, sample = stratified_sample(panel, seed=seed)
    return {
        # a survey of n_employees respondents in all: ~1/7 of them per year
        "cross_sections": (cross_sections(panel, seed=seed), dict(panel=False), panel),
        "attrition": (
            with_attrition(panel, rate=0.3, seed=seed),
            dict(allow_unbalanced=True),
            panel,
        ),  # fmt: skip
        "weights": (sample, dict(weights="weight"), population),
    }


def _fit(data, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return att_gt(data, **(COLUMNS | options))


def _cell_truth(res, population: pd.DataFrame) -> np.ndarray:
    truth = true_att(population, by=["cohort", "year"])
    return truth.reindex(res.params.index).fillna(0.0).to_numpy()  # pre cells: no effect


def _simple_truth(data: pd.DataFrame, population: pd.DataFrame, options: dict) -> float:
    """The simple aggregation's estimand: true post cells weighted by the cohort shares of
    the data (rows for cross-sections, units otherwise, weighted by the sampling weights)."""
    treated = data[data["cohort"] != NEVER_TREATED]
    if options.get("panel", True):
        treated = treated.drop_duplicates("employee_id")
    weights = options.get("weights")
    w = treated[weights] if weights else pd.Series(1.0, treated.index)
    shares = w.groupby(treated["cohort"]).sum()
    cells = true_att(population, by=["cohort", "year"]).reset_index()
    cells = cells[cells["year"] >= cells["cohort"]]
    pg = shares.reindex(cells["cohort"]).to_numpy()
    return float((pg * cells["true_effect"].to_numpy()).sum() / pg.sum())


@pytest.fixture(scope="module")
def designs():
    return _designs(seed=1, n_employees=6000)


@pytest.mark.parametrize("design", ["cross_sections", "attrition", "weights"])
def test_every_cell_recovers_its_true_att(designs, design):
    data, options, population = designs[design]
    res = _fit(data, **options)
    z = (res.params.to_numpy() - _cell_truth(res, population)) / res.std_errors.to_numpy()
    assert res.params.size == 24  # 4 cohorts x 6 periods after the first
    assert np.abs(z).max() <= MAX_Z


@pytest.mark.parametrize("design", ["cross_sections", "attrition", "weights"])
def test_the_simple_aggregation_recovers_its_truth(designs, design):
    data, options, population = designs[design]
    res = _fit(data, **options)
    agg = res.aggregate("simple")
    truth = _simple_truth(data, population, options)
    assert abs(agg.overall_att - truth) <= 3.5 * agg.overall_se


def test_unweighted_estimates_of_a_stratified_sample_are_biased(designs):
    # the sample over-represents the stratum with three times the effect: without weights
    # the cells estimate the sample's ATT, not the population's, and miss it by many SEs
    data, _, population = designs["weights"]
    res = _fit(data)
    post = res.cells["post"].to_numpy()
    z_pop = (res.params.to_numpy() - _cell_truth(res, population)) / res.std_errors.to_numpy()
    assert np.median(z_pop[post]) > 5
    z_sample = (res.params.to_numpy() - _cell_truth(res, data)) / res.std_errors.to_numpy()
    assert np.abs(z_sample).max() <= MAX_Z


def _population_simple_target(gain: float = 1.0) -> float:
    """The population simple ATT: cohorts equally likely per agency, so every post cell
    (g, t) counts the same; ``gain`` the effect's mean multiplier across strata."""
    cohorts = panel_cohorts(YEARS)
    g, t = np.meshgrid(cohorts, list(YEARS))
    post = t >= g
    tau = cohort_effect(g[post], t[post] - g[post], cohorts=cohorts, effects=PANEL_EFFECTS)
    return float(gain * tau.mean())


@pytest.mark.slow
def test_intervals_cover_the_population_att_at_the_nominal_rate():
    # 300 datasets of 2,000 employees per design; the number of 95% intervals covering the
    # target must lie in the central 99% of its binomial distribution
    n_reps = 300
    targets = {
        "cross_sections": _population_simple_target(),
        "attrition": _population_simple_target(),
        # a fifth of the employees with three times the effect: 1 + 0.2 * 2
        "weights": _population_simple_target(1.4),
    }
    covered = {k: 0 for k in targets}
    for seed in range(n_reps):
        for design, (data, options, _) in _designs(seed, 2000).items():
            lo, hi = _fit(data, **options).aggregate("simple").overall_interval()
            covered[design] += lo <= targets[design] <= hi
    band = stats.binom.interval(0.99, n_reps, 0.95)
    for design, hits in covered.items():
        assert band[0] <= hits <= band[1], (design, hits / n_reps)


# --- the multiplier bootstrap with the new options -----------------------------------------
N_BOOT = 2000
# the IQR-based bootstrap SE of a normal statistic has a relative Monte-Carlo error of about
# 1.17 / sqrt(N_BOOT) (2.6%); 12% is over 4 of them, for the largest of 24 cells
BOOT_TOLERANCE = 0.12


@pytest.mark.parametrize("design", ["cross_sections", "attrition", "weights"])
def test_bootstrap_standard_errors_agree_with_the_analytic_ones(designs, design):
    # by unit, not agency: bootstrap and analytic agree when the influence function's sum is
    # close to normal, i.e. over many clusters none of which dominates (40 agencies of unequal
    # size and effect are not that: there the two differ by design, not by Monte-Carlo error)
    data, options, _ = designs[design]
    options = options | dict(cluster=None)
    analytic = _fit(data, **options)
    boot = _fit(data, **options, n_boot=N_BOOT, seed=3)
    pd.testing.assert_series_equal(boot.params, analytic.params)
    ratio = boot.std_errors / analytic.std_errors
    assert np.abs(ratio - 1).max() <= BOOT_TOLERANCE
    # sup-t band over 24 cells: wider than pointwise, narrower than Bonferroni
    assert stats.norm.ppf(0.975) < boot.critical_value < stats.norm.ppf(1 - 0.025 / 24)
    for kind in ("simple", "dynamic"):
        a, b = analytic.aggregate(kind), boot.aggregate(kind)
        assert abs(b.overall_se / a.overall_se - 1) <= BOOT_TOLERANCE
