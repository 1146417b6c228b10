"""Few-cluster inference: the fast wild bootstrap equals a brute-force loop; RI is exact."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from asn_eval.estimators.inference import (
    WEBB_POINTS,
    randomization_inference,
    wild_cluster_bootstrap,
)
from asn_eval.estimators.twfe import twfe


def agency_panel(*, n_agencies=12, per_agency=6, n_years=6, effect=0.0, seed=0, drop=0.0):
    """Employees nested in agencies; agencies adopt in different years (0 = never)."""
    rng = np.random.default_rng(seed)
    cohorts = np.resize([0, 2021, 2022, 2023], n_agencies)
    rng.shuffle(cohorts)
    agency = np.repeat(np.arange(n_agencies), per_agency)
    n = agency.size
    employee = np.repeat(np.arange(n), n_years)
    year = np.tile(np.arange(2019, 2019 + n_years), n)
    cohort = cohorts[agency][employee]
    treated = ((cohort > 0) & (year >= cohort)).astype(float)
    shock = rng.normal(size=(n_agencies, n_years))  # agency-year shocks: why we cluster
    x = rng.normal(size=employee.size)
    y = (
        rng.normal(size=n)[employee]
        + 0.1 * (year - 2019)
        + effect * treated
        + 0.5 * x
        + shock[agency[employee], year - 2019]
        + rng.normal(size=employee.size)
    )
    frame = pd.DataFrame(
        {
            "employee": employee,
            "year": year,
            "agency": agency[employee],
            "cohort": cohort,
            "treated": treated,
            "x": x,
            "y": y,
        }
    )
    if drop:
        frame = frame.sample(frac=1 - drop, random_state=seed).sort_index()
    return frame


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
def test_fast_bootstrap_equals_brute_force_loop(weights):
    """Every bootstrap t equals re-estimating TWFE on a rebuilt outcome, draw by draw."""
    data = agency_panel(seed=1, drop=0.1, effect=0.3)
    res = wild_cluster_bootstrap(
        data, outcome="y", treatment="treated", covariates=["x"], unit="employee", time="year",
        cluster="agency", weights=weights, n_boot=99, seed=7,
    )  # fmt: skip
    # Restricted model (null: no treatment effect) fitted with explicit dummies.
    restricted = smf.ols("y ~ x + C(employee) + C(year)", data=data).fit()
    u = restricted.resid.to_numpy()
    fitted = data["y"].to_numpy() - u
    agency_codes = pd.factorize(data["agency"])[0]
    loop_t = []
    for v in res.draws:
        star = data.assign(y=fitted + u * v[agency_codes])
        fit = twfe(star, outcome="y", treatment="treated", covariates=["x"], unit="employee",
                   time="year", cluster="agency")  # fmt: skip
        loop_t.append(fit.params["treated"] / fit.std_errors["treated"])
    np.testing.assert_allclose(res.t_boot, np.array(loop_t), rtol=1e-8, atol=1e-10)
    original = twfe(data, outcome="y", treatment="treated", covariates=["x"], unit="employee",
                    time="year", cluster="agency")  # fmt: skip
    assert res.params["treated"] == pytest.approx(original.params["treated"], abs=1e-10)
    assert res.std_errors["treated"] == pytest.approx(original.std_errors["treated"], abs=1e-10)
    assert res.t_stat == pytest.approx(original.tvalues["treated"], abs=1e-8)
    assert res.p_value == np.mean(np.abs(loop_t) >= abs(res.t_stat))
    if weights == "webb":
        assert set(np.round(np.unique(res.draws), 12)) == set(np.round(WEBB_POINTS, 12))


def test_same_draws_give_the_p_value_of_the_wildboottest_package():
    """wildboottest (Fischer and Roodman), FE as dummies, fed our Webb draws.

    Its small-sample factor counts the employee dummies in K, ours (fixest) does not; the
    factor scales t and every bootstrap t alike, so the p-values are identical and the
    t-statistics differ by the constant sqrt((N - K_ours) / (N - K_dummies)).
    """
    from wildboottest import wildboottest as wbt
    data = agency_panel(seed=1, drop=0.1, effect=0.3)
    res = wild_cluster_bootstrap(
        data, outcome="y", treatment="treated", covariates=["x"], unit="employee", time="year",
        cluster="agency", weights="webb", n_boot=999, seed=7,
    )  # fmt: skip
    dummies = pd.get_dummies(
        data[["employee", "year"]].astype(str), drop_first=False, dtype=float
    ).drop(columns="year_2019")
    x = pd.concat([data[["treated", "x"]], dummies], axis=1).to_numpy()
    restriction = np.zeros(x.shape[1])
    restriction[0] = 1.0
    boot = wbt.WildboottestCL(
        X=x, Y=data["y"].to_numpy(), cluster=data["agency"].to_numpy(), R=restriction, B=999,
        seed=1,
    )  # fmt: skip
    boot.get_scores(bootstrap_type="11", impose_null=True, adj=True, cluster_adj=True)
    boot.get_weights(weights_type="webb")
    boot.v = res.draws.T  # same draws: agencies appear in sorted order, as wildboottest sorts
    for step in (boot.get_numer, boot.get_denom, boot.get_tboot, boot.get_vcov, boot.get_tstat):
        step()
    boot.get_pvalue(pval_type="two-tailed")
    assert res.p_value == pytest.approx(float(boot.pvalue), abs=1e-12)
    n, n_years = len(data), data["year"].nunique()
    ratio = np.sqrt((n - x.shape[1]) / (n - (2 + n_years)))
    np.testing.assert_allclose(np.asarray(boot.t_boot).ravel() / ratio, res.t_boot, rtol=1e-8)
    assert float(np.ravel(boot.t_stat)[0]) / ratio == pytest.approx(res.t_stat, rel=1e-8)


def test_interval_is_the_set_of_nulls_not_rejected():
    data = agency_panel(seed=2, effect=0.5)
    kwargs = dict(
        outcome="y", treatment="treated", unit="employee", time="year", cluster="agency",
        n_boot=999, seed=3,
    )  # fmt: skip
    res = wild_cluster_bootstrap(data, **kwargs)
    # With 999 draws the p-value is a step function that single draws can push back over
    # 0.05 near the bound, so probe 0.05 standard errors either side.
    margin = 0.05 * res.std_errors.iloc[0]
    for bound, outward in ((res.ci_low, -margin), (res.ci_high, margin)):
        assert wild_cluster_bootstrap(data, null=bound - outward, **kwargs).p_value >= 0.05
        for distance in (1, 2, 5, 10, 20):  # and nothing is accepted further out
            outside = bound + distance * outward
            assert wild_cluster_bootstrap(data, null=outside, **kwargs).p_value < 0.05
    assert res.ci_low < res.params.iloc[0] < res.ci_high
    frame = res.to_frame()
    assert list(frame.columns) == [
        "term", "estimate", "std_error", "ci_low", "ci_high", "p_value",
    ]  # fmt: skip
    assert res.statement().startswith("Wild cluster bootstrap (Rademacher weights, 999 draws, ")


def test_p_value_only_gives_the_same_p_and_t_draws_without_an_interval():
    """interval=False skips the test inversion: same p-value and draws, NaN bounds, said."""
    data = agency_panel(seed=2, effect=0.5)
    kwargs = dict(
        outcome="y", treatment="treated", unit="employee", time="year", cluster="agency",
        n_boot=999, seed=3,
    )  # fmt: skip
    full = wild_cluster_bootstrap(data, **kwargs)
    only_p = wild_cluster_bootstrap(data, interval=False, **kwargs)
    assert only_p.p_value == full.p_value
    np.testing.assert_array_equal(only_p.t_boot, full.t_boot)
    assert np.isnan(only_p.ci_low) and np.isnan(only_p.ci_high)
    assert only_p.conf_int().isna().all().all()
    assert "(no interval computed)" in only_p.statement()
    assert "no interval computed" in only_p.info["Standard error"]


def test_bootstrap_is_reproducible_and_rejects_a_real_effect():
    data = agency_panel(seed=4, effect=1.5, n_agencies=16)
    kwargs = dict(
        outcome="y", treatment="treated", unit="employee", time="year", cluster="agency",
        n_boot=499, seed=11,
    )  # fmt: skip
    first, second = wild_cluster_bootstrap(data, **kwargs), wild_cluster_bootstrap(data, **kwargs)
    np.testing.assert_array_equal(first.t_boot, second.t_boot)
    assert first.p_value < 0.01


def test_unknown_weights_message():
    data = agency_panel(seed=0)
    with pytest.raises(ValueError) as err:
        wild_cluster_bootstrap(data, outcome="y", treatment="treated", unit="employee",
                               time="year", cluster="agency", weights="mammen")  # fmt: skip
    assert str(err.value) == 'weights must be "rademacher" or "webb", not \'mammen\'.'


def test_wild_bootstrap_size_with_twelve_clusters():
    """Under no effect, the 5% test rejects about 5% of the time (400 data sets, ~6 s).

    Measured: 5.0% (CRV1 with t(11) on the same data sets: 6.0%).
    """
    rejections = [
        wild_cluster_bootstrap(
            agency_panel(seed=100 + s, effect=0.0), outcome="y", treatment="treated",
            unit="employee", time="year", cluster="agency", n_boot=399, seed=s,
        ).p_value < 0.05
        for s in range(400)
    ]  # fmt: skip
    # Binomial(400, 0.05): 2.5 standard deviations is about +-2.8 percentage points.
    assert 0.022 <= np.mean(rejections) <= 0.078


def twfe_coefficient(frame: pd.DataFrame) -> float:
    treated = (frame["cohort"] > 0) & (frame["year"] >= frame["cohort"])
    return twfe(
        frame.assign(treated=treated.astype(float)), outcome="y", treatment="treated",
        unit="employee", time="year",
    ).params["treated"]  # fmt: skip


def test_randomization_p_value_matches_full_enumeration():
    """With 4 agencies all 24 assignments can be enumerated: the exact p-value is known."""
    data = agency_panel(n_agencies=4, per_agency=5, seed=5, effect=2.0)
    observed = twfe_coefficient(data)
    agencies = np.sort(data["agency"].unique())
    dates = data.groupby("agency")["cohort"].first().loc[agencies].to_numpy()
    exact = []
    for order in itertools.permutations(range(4)):
        mapping = dict(zip(agencies, dates[list(order)], strict=True))
        exact.append(twfe_coefficient(data.assign(cohort=data["agency"].map(mapping))))
    exact_p = np.mean(np.abs(exact) >= abs(observed) - 1e-12)
    res = randomization_inference(
        data, estimator=twfe_coefficient, unit="agency", cohort="cohort", n_perm=1000, seed=1
    )
    assert res.params.iloc[0] == pytest.approx(observed, abs=1e-12)
    # Exact p is 3/24 = 0.125 here; a 1000-draw estimate of it has Monte Carlo sd 0.010.
    assert exact_p == pytest.approx(3 / 24)
    assert res.p_value == pytest.approx(exact_p, abs=0.035)
    assert set(np.round(res.distribution, 10)) <= set(np.round(exact, 10))


def test_randomization_preserves_dates_and_counts_the_observed_assignment():
    data = agency_panel(n_agencies=10, per_agency=3, seed=6, effect=3.0)
    seen = []

    def statistic(frame):
        dates = frame.groupby("agency")["cohort"].agg(["first", "nunique"])
        assert (dates["nunique"] == 1).all()  # one date per agency after permuting
        seen.append(np.sort(dates["first"].to_numpy()))
        return twfe_coefficient(frame)

    res = randomization_inference(
        data, estimator=statistic, unit="agency", cohort="cohort", n_perm=99, seed=2
    )
    for dates in seen:
        np.testing.assert_array_equal(dates, seen[0])  # same multiset of adoption dates
    extreme = int(np.sum(np.abs(res.distribution) >= abs(res.params.iloc[0])))
    assert res.p_value == (1 + extreme) / 100
    assert res.p_value == 0.01  # a large effect: no permutation is as extreme
    again = randomization_inference(
        data, estimator=twfe_coefficient, unit="agency", cohort="cohort", n_perm=99, seed=2
    )
    np.testing.assert_array_equal(res.distribution, again.distribution)


def test_randomization_refuses_dates_varying_within_a_unit():
    data = agency_panel(n_agencies=4, per_agency=2, seed=0)
    data.loc[data.index[0], "cohort"] = 2030
    with pytest.raises(ValueError) as err:
        randomization_inference(
            data, estimator=twfe_coefficient, unit="agency", cohort="cohort", n_perm=9
        )
    assert str(err.value).startswith(
        "randomization_inference: cohort must be constant within each agency, but it varies "
        "in 1 of them"
    )


def test_randomization_inference_on_the_overall_att_of_att_gt():
    """The statistic can be any callable: here the simple aggregate of att_gt."""
    from asn_eval.estimators import did
    data = agency_panel(n_agencies=12, per_agency=4, seed=8, effect=3.0)

    def overall_att(frame):
        result = did.att_gt(frame, outcome="y", unit="employee", time="year", cohort="cohort")
        return result.aggregate("simple").overall_att

    res = randomization_inference(
        data, estimator=overall_att, unit="agency", cohort="cohort", n_perm=49, seed=4
    )
    assert res.params.iloc[0] == pytest.approx(overall_att(data), abs=1e-12)
    # A true effect of 3 against agency-year shocks of sd 1: no permutation comes close.
    assert res.p_value == 1 / 50
    assert np.abs(res.distribution).max() < res.params.iloc[0]
