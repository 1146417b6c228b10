"""Synthetic DID, synthetic control and block DID: Prop 99 references, identities, messages.

The reference numbers are in ``references/synthetic/references.json``, written by
``references/synthetic/make_references.py`` (published figures typed in with their sources;
diff-diff 3.13.0 run on the same data in a separate environment). Each is compared at the
precision it was printed or produced with.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from asn_eval.estimators import block_did, synthetic_control, synthetic_did

REFERENCES = Path(__file__).parent / "references" / "synthetic"
REF = json.loads((REFERENCES / "references.json").read_text())
PUBLISHED = REF["published"]
DIFF_DIFF = REF["peers"]["diff_diff"]
PLACEBO = REF["placebo"]
COLUMNS = {"outcome": "PacksPerCapita", "unit": "State", "time": "Year", "treated": "treated"}
ESTIMATORS = {"sdid": synthetic_did, "sc": synthetic_control, "did": block_did}
# diff-diff solves the same Frank-Wolfe problems in another order of floating-point
# operations; its estimate and weights agree with ours to 1e-13 (measured 3e-14).
PEER_TOL = 1e-10


def half_unit(digits: int) -> float:
    """Largest difference that still rounds to the printed value."""
    return 0.5 * 10.0**-digits


@pytest.fixture(scope="module")
def prop99() -> pd.DataFrame:
    return pd.read_csv(REFERENCES / REF["data"], sep=";")


@pytest.fixture(scope="module")
def fits(prop99) -> dict:
    """Each estimator on Prop 99 with the placebo SE of the references (200 draws, seed 0)."""
    return {
        kind: fit(prop99, **COLUMNS, replications=PLACEBO["replications"], seed=PLACEBO["seed"])
        for kind, fit in ESTIMATORS.items()
    }


# --------------------------------------------------------------------------------------
# Published numbers
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sdid", "sc", "did"])
def test_estimates_equal_arkhangelsky_2021_table1(fits, kind):
    table = PUBLISHED["arkhangelsky_2021_table1"]
    assert abs(fits[kind].estimate - table["estimate"][kind]) <= half_unit(table["digits"])


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sdid", "sc", "did"])
def test_published_placebo_se_is_within_its_monte_carlo_error(prop99, kind):
    # Table 1's SEs are the sd of 200 placebo draws made with R's random numbers
    # (set.seed(12345)), which numpy cannot reproduce. They are one draw of that statistic:
    # its distribution is that of the sd of 200 draws from the placebo distribution, which
    # 4,000 of our draws approximate. The published value must fall within the central
    # 99% of it (widened by the half unit of its printed digit).
    table = PUBLISHED["arkhangelsky_2021_table1"]
    res = ESTIMATORS[kind](prop99, **COLUMNS, replications=4000, seed=12345)
    rng = np.random.default_rng(0)
    draws = rng.choice(res.placebo_estimates, size=(4000, PLACEBO["replications"]))
    low, high = np.percentile(np.std(draws, axis=1), [0.5, 99.5])
    tol = half_unit(table["digits"])
    assert low - tol <= table["std_error"][kind] <= high + tol


@pytest.mark.parametrize("kind", ["sdid", "sc", "did"])
def test_estimates_equal_stata_sdid_to_five_decimals(fits, kind):
    printed = PUBLISHED["stata_sdid_and_ports"]
    assert abs(fits[kind].estimate - printed["estimate"][kind]) <= half_unit(printed["digits"])


def test_sdid_estimate_and_weights_equal_the_synthdid_vignette(fits):
    vignette = PUBLISHED["synthdid_vignette"]
    res = fits["sdid"]
    tol = half_unit(vignette["estimate_sdid_digits"])
    assert abs(res.estimate - vignette["estimate_sdid"]) <= tol
    w_tol = half_unit(vignette["weights_digits"])
    omega = res.unit_weights
    for state, weight in vignette["omega_top"].items():
        assert abs(omega[state] - weight) <= w_tol, state
    # the vignette lists the largest weights: every unlisted state weighs less than the last
    assert omega.drop(list(vignette["omega_top"])).max() <= min(vignette["omega_top"].values())
    lam = res.time_weights
    for year, weight in vignette["lambda_top"].items():
        assert abs(lam[int(year)] - weight) <= w_tol, year
    assert lam.drop([int(y) for y in vignette["lambda_top"]]).abs().max() == 0.0
    e_tol = half_unit(vignette["effective_digits"])
    assert abs(1 / np.sum(omega**2) - vignette["n0_effective"]) <= e_tol
    assert abs(1 / np.sum(lam**2) - vignette["t0_effective"]) <= e_tol


# --------------------------------------------------------------------------------------
# diff-diff 3.13.0 on the same data
# --------------------------------------------------------------------------------------
def test_sdid_estimate_noise_level_and_penalties_equal_diff_diff(fits):
    res = fits["sdid"]
    assert abs(res.estimate - DIFF_DIFF["estimate_sdid"]) <= PEER_TOL
    assert res.noise_level == pytest.approx(DIFF_DIFF["noise_level"], rel=PEER_TOL)
    assert res.zeta_omega == pytest.approx(DIFF_DIFF["zeta_omega"], rel=PEER_TOL)
    assert res.zeta_lambda == pytest.approx(DIFF_DIFF["zeta_lambda"], rel=PEER_TOL)


def test_sdid_unit_and_time_weights_equal_diff_diff(fits):
    res = fits["sdid"]
    omega = pd.Series(DIFF_DIFF["omega"])
    lam = pd.Series(DIFF_DIFF["lambda"])
    lam.index = lam.index.astype(int)
    assert sorted(res.unit_weights.index) == sorted(omega.index)
    assert sorted(res.time_weights.index) == sorted(lam.index)
    assert (res.unit_weights - omega).abs().max() <= PEER_TOL
    assert (res.time_weights - lam).abs().max() <= PEER_TOL


def test_sdid_placebo_se_equals_diff_diff_with_the_same_draws(fits):
    # both draw the permutations from numpy's default_rng(seed).permutation, in order
    assert fits["sdid"].replications == PLACEBO["replications"]
    assert abs(fits["sdid"].std_error - DIFF_DIFF["se_placebo_sdid"]) <= PEER_TOL


# --------------------------------------------------------------------------------------
# Identities
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sdid", "sc", "did"])
def test_weights_are_on_the_simplex(fits, kind):
    res = fits[kind]
    assert (res.unit_weights >= 0).all()
    assert res.unit_weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert (res.time_weights >= 0).all()
    if kind == "sc":
        assert (res.time_weights == 0).all()
    else:
        assert res.time_weights.sum() == pytest.approx(1.0, abs=1e-12)
    if kind == "did":
        n0, t0 = len(res.unit_weights), len(res.time_weights)
        assert np.allclose(res.unit_weights, 1 / n0) and np.allclose(res.time_weights, 1 / t0)


def test_block_did_is_the_two_by_two_difference_of_means(prop99, fits):
    ever = prop99.groupby("State")["treated"].transform("max") == 1
    post = prop99["Year"] >= prop99.loc[prop99["treated"] == 1, "Year"].min()
    means = prop99.groupby([ever, post])["PacksPerCapita"].mean()
    expected = (means[True, True] - means[True, False]) - (means[False, True] - means[False, False])
    assert fits["did"].estimate == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("kind", ["sdid", "sc", "did"])
def test_estimate_is_the_weighted_contrast_and_the_mean_effect(fits, kind):
    res = fits[kind]
    y = res.outcomes.to_numpy()
    n0, t0 = len(res.unit_weights), len(res.time_weights)
    omega, lam = res.unit_weights.to_numpy(), res.time_weights.to_numpy()
    treated = y[n0:].mean(axis=0)
    synthetic = omega @ y[:n0]
    tau = (treated[t0:].mean() - treated[:t0] @ lam) - (
        synthetic[t0:].mean() - synthetic[:t0] @ lam
    )
    assert res.estimate == pytest.approx(tau, abs=1e-10)
    assert res.effect_curve.mean() == pytest.approx(res.estimate, abs=1e-10)
    assert list(res.treated_units) == ["California"] and res.onset == 1989


@pytest.mark.parametrize("kind", ["sdid", "sc", "did"])
def test_table_interval_and_se_agree_with_the_placebo_draws(fits, kind):
    res = fits[kind]
    draws = res.placebo_estimates
    assert len(draws) == PLACEBO["replications"]
    # synthdid: sqrt((R - 1) / R) * sd(draws), the population standard deviation
    assert res.std_error == pytest.approx(np.std(draws, ddof=0), rel=1e-12)
    row = res.to_frame().iloc[0]
    assert row["estimand"] == "ATT"
    assert row["estimate"] == res.estimate and row["std_error"] == res.std_error
    z = stats.norm.ppf(0.975)
    assert row["ci_low"] == pytest.approx(res.estimate - z * res.std_error, rel=1e-12)
    assert row["ci_high"] == pytest.approx(res.estimate + z * res.std_error, rel=1e-12)


def test_placebo_is_deterministic_under_a_seed(prop99, fits):
    again = synthetic_did(prop99, **COLUMNS, replications=PLACEBO["replications"], seed=0)
    np.testing.assert_array_equal(again.placebo_estimates, fits["sdid"].placebo_estimates)
    other = synthetic_did(prop99, **COLUMNS, replications=PLACEBO["replications"], seed=1)
    assert other.estimate == fits["sdid"].estimate
    assert other.std_error != fits["sdid"].std_error


def _jackknife_panel(seed=3):
    rng = np.random.default_rng(seed)
    units, years = [f"u{i:02d}" for i in range(12)], range(2000, 2010)
    df = pd.DataFrame([(u, t) for u in units for t in years], columns=["unit", "year"])
    treated_units = {"u09", "u10", "u11"}
    df["treated"] = (df["unit"].isin(treated_units) & (df["year"] >= 2006)).astype(int)
    df["y"] = rng.normal(size=len(df)) + 0.3 * (df["year"] - 2000) - 2.0 * df["treated"]
    return df


def test_did_jackknife_is_leave_one_unit_out():
    # With uniform weights the fixed-weight jackknife (Algorithm 3) is the textbook
    # leave-one-unit-out jackknife of the DID estimate.
    df = _jackknife_panel()
    kw = {"outcome": "y", "unit": "unit", "time": "year", "treated": "treated"}
    res = block_did(df, **kw, se_method="jackknife")
    loo = np.array(
        [
            block_did(df[df["unit"] != u], **kw, se_method="none").estimate
            for u in df["unit"].unique()
        ]
    )
    n = len(loo)
    assert res.std_error == pytest.approx(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))


# --------------------------------------------------------------------------------------
# Messages a user sees
# --------------------------------------------------------------------------------------
def _small_panel():
    df = _jackknife_panel()
    return df, {"outcome": "y", "unit": "unit", "time": "year", "treated": "treated"}


def test_missing_column_is_named():
    df, kw = _small_panel()
    with pytest.raises(KeyError) as err:
        synthetic_did(df.drop(columns="y"), **kw)
    assert err.value.args[0] == (
        "synthetic_did: column(s) ['y'] not in the data; available: ['unit', 'year', 'treated']."
    )


def test_non_numeric_outcome_names_the_column():
    df, kw = _small_panel()
    df = df.assign(y=df["y"].map("{:.2f}".format))
    with pytest.raises(TypeError) as err:
        synthetic_control(df, **kw)
    assert str(err.value) == (
        f"synthetic_control: the outcome column 'y' must be numeric; it has dtype object "
        f"(first value {df['y'].iloc[0]!r}). Convert it, e.g. with pd.to_numeric."
    )


def test_missing_value_names_column_unit_and_period():
    df, kw = _small_panel()
    df.loc[(df["unit"] == "u03") & (df["year"] == 2004), "y"] = np.nan
    with pytest.raises(ValueError) as err:
        synthetic_did(df, **kw)
    assert str(err.value) == (
        "synthetic_did: 1 row(s) have a missing value (in y; the first is unit 'u03', period "
        "2004); the estimator needs a complete balanced panel, so drop or fill them first."
    )


def test_treatment_that_is_not_zero_or_one():
    df, kw = _small_panel()
    df.loc[0, "treated"] = 2
    with pytest.raises(ValueError) as err:
        block_did(df, **kw)
    assert str(err.value) == (
        "block_did: 'treated' must be 0 or 1 (1 when the unit is under the policy in that "
        "period); found 2 (the first in unit 'u00', period 2000)."
    )


def test_unbalanced_panel_names_a_unit():
    df, kw = _small_panel()
    df = df[~((df["unit"] == "u05") & (df["year"] == 2001))]
    with pytest.raises(ValueError) as err:
        synthetic_did(df, **kw)
    assert str(err.value) == (
        "synthetic_did needs a balanced panel, one row per unit and period: 1 of 12 units do "
        "not have exactly one row in each of the 10 periods (the first is 'u05')."
    )


def test_staggered_adoption_names_the_unit_that_breaks_the_block():
    df, kw = _small_panel()
    df.loc[(df["unit"] == "u10") & (df["year"] == 2006), "treated"] = 0
    with pytest.raises(ValueError) as err:
        synthetic_did(df, **kw)
    assert str(err.value) == (
        "synthetic_did needs simultaneous adoption: every treated unit treated from 2006 to "
        "the last period and never before, but 'u10' is treated from 2007; use att_gt for "
        "staggered adoption."
    )
    df, kw = _small_panel()
    df.loc[(df["unit"] == "u11") & (df["year"] == 2008), "treated"] = 0
    with pytest.raises(ValueError) as err:
        synthetic_did(df, **kw)
    assert "but 'u11' is treated in 2006 but not in 2008;" in str(err.value)


def test_no_treated_unit_and_no_control_unit():
    df, kw = _small_panel()
    with pytest.raises(ValueError) as err:
        synthetic_did(df.assign(treated=0), **kw)
    assert str(err.value) == (
        "synthetic_did: no unit is ever treated ('treated' is 0 in every row); the estimator "
        "needs at least one treated unit."
    )
    with pytest.raises(ValueError) as err:
        synthetic_did(df.assign(treated=(df["year"] >= 2006).astype(int)), **kw)
    assert str(err.value) == (
        "synthetic_did: every unit is treated at some point; the estimator needs control "
        "units that are never treated."
    )


def test_too_few_pre_periods():
    df, kw = _small_panel()
    with pytest.raises(ValueError) as err:
        synthetic_did(df.assign(treated=df["unit"].isin(["u11"]).astype(int)), **kw)
    assert str(err.value) == (
        "synthetic_did: the treated units are treated from the first period (2000), so there "
        "is no period before treatment to fit the weights on."
    )
    late = df["unit"].isin(["u11"]) & (df["year"] >= 2001)
    with pytest.raises(ValueError) as err:
        synthetic_did(df.assign(treated=late.astype(int)), **kw)
    assert str(err.value) == (
        "synthetic_did: there is only one period before treatment (2000); the estimator "
        "needs at least two to measure the noise level."
    )


def test_too_few_control_units_for_the_placebo():
    df, kw = _small_panel()
    many = df["unit"].isin([f"u{i:02d}" for i in range(6, 12)]) & (df["year"] >= 2006)
    with pytest.raises(ValueError) as err:
        synthetic_did(df.assign(treated=many.astype(int)), **kw)
    assert str(err.value) == (
        "synthetic_did: the placebo standard error needs more control units than treated "
        "units; there are 6 control(s) and 6 treated."
    )
    # without a standard error the estimate is still defined
    res = synthetic_did(df.assign(treated=many.astype(int)), **kw, se_method="none")
    assert np.isnan(res.std_error) and np.isfinite(res.estimate)


def test_jackknife_with_one_treated_unit_and_unknown_se_method():
    df, kw = _small_panel()
    one = (df["unit"] == "u11") & (df["year"] >= 2006)
    with pytest.raises(ValueError) as err:
        synthetic_did(df.assign(treated=one.astype(int)), **kw, se_method="jackknife")
    assert str(err.value) == (
        "synthetic_did: the jackknife standard error is not defined with one treated unit; "
        'use se_method="placebo".'
    )
    with pytest.raises(ValueError) as err:
        synthetic_did(df, **kw, se_method="bootstrap")
    assert str(err.value) == (
        "synthetic_did: se_method must be one of ('placebo', 'jackknife', 'none'); got 'bootstrap'."
    )


# --------------------------------------------------------------------------------------
# Known truth
# --------------------------------------------------------------------------------------
def factor_panel(
    rng,
    *,
    n0=40,
    n1=4,
    t0=20,
    t1=6,
    effect=-2.0,
    sd=0.3,
    shift=1.5,
    factor_sd=0.0,
    time_sd=0.1,
    exchangeable=False,
):
    """Interactive fixed effects ``a_i + b_t + l_i f_t + e``, treated units loading more.

    The treated units' loadings are shifted by ``shift``, so their untreated outcomes do not
    move in parallel with the controls' average (plain DID is biased by about ``shift``
    times the change of the factor, a trend from 0 to 3), but they lie inside the controls'
    range, so a weighted average of controls can follow them (``exchangeable``: all units
    drawn alike). The time effects ``b_t`` and
    the factor's own noise are small, so the noise level that scales synthdid's ridge
    penalty is that of the outcome noise ``e`` and the regularisation bias stays below it.
    """
    n, t = n0 + n1, t0 + t1
    load = rng.uniform(0.0, 3.0, n)
    if not exchangeable:
        load[n0:] = rng.uniform(1.0 + shift / 2, 2.0 + shift / 2, n1)
    factor = np.linspace(0.0, 3.0, t) + rng.normal(0, factor_sd, t)
    y = rng.normal(0, 1, n)[:, None] + rng.normal(0, time_sd, t)[None, :] + load[:, None] * factor
    y += rng.normal(0, sd, (n, t))
    treated = np.zeros((n, t), dtype=int)
    treated[n0:, t0:] = 1
    y += effect * treated
    units = [f"office{i:02d}" for i in range(n)]
    return pd.DataFrame(
        {
            "unit": np.repeat(units, t),
            "month": np.tile(np.arange(t), n),
            "y": y.ravel(),
            "treated": treated.ravel(),
        }
    )


def test_sdid_recovers_a_known_effect_where_did_does_not():
    effect = -2.0
    df = factor_panel(np.random.default_rng(11), effect=effect)
    kw = {"outcome": "y", "unit": "unit", "time": "month", "treated": "treated"}
    sdid = synthetic_did(df, **kw, replications=100, seed=1)
    did = block_did(df, **kw, se_method="none")
    # Noise sd 0.3 over 4 x 6 treated cells and the weighted controls: the estimator's own
    # error is about 0.15 in this design (measured over ten panels, beside a regularisation
    # bias under 0.1). The placebo SE measures it on the data; a 4-SE band is missed by
    # chance with probability 6e-5 when the SE is right.
    assert sdid.std_error < 0.3
    assert abs(sdid.estimate - effect) < 4 * sdid.std_error
    # the design bites: DID, biased by the factor, is outside that band
    assert abs(did.estimate - effect) > 4 * sdid.std_error


@pytest.mark.slow
def test_placebo_interval_covers_the_truth_at_its_nominal_rate():
    # One treated unit drawn like the controls (exchangeable units: the placebo SE's
    # assumption, Arkhangelsky et al. 2021, section 5). 200 panels: the coverage of a 95%
    # interval has binomial sd 1.5%, so [0.89, 0.99] is a 4-sd band.
    rng = np.random.default_rng(2024)
    kw = {"outcome": "y", "unit": "unit", "time": "month", "treated": "treated"}
    covered = []
    for _ in range(200):
        df = factor_panel(rng, n0=30, n1=1, t0=15, t1=5, sd=1.0, exchangeable=True)
        res = synthetic_did(df, **kw, replications=100, seed=int(rng.integers(1 << 31)))
        ci = res.conf_int().iloc[0]
        covered.append(ci["ci_low"] <= -2.0 <= ci["ci_high"])
    assert 0.89 <= np.mean(covered) <= 0.99


def test_batched_frank_wolfe_equals_problems_solved_one_by_one():
    # The placebo solves its replications together (module docstring): each must end with
    # the weights and the number of steps it gets alone, whether it stops early or at the cap.
    from asn_eval.estimators.synthetic import _frank_wolfe

    rng = np.random.default_rng(5)
    y = rng.normal(size=(6, 12, 9)).cumsum(axis=1)
    x0 = rng.dirichlet(np.ones(8), size=6)
    for min_decrease, max_iter in ((1e-3, 10_000), (1e-12, 50)):
        opts = {"zeta": 0.5, "intercept": True, "min_decrease": min_decrease}
        together, steps = _frank_wolfe(y, x0, **opts, max_iter=max_iter)
        for r in range(len(y)):
            alone, alone_steps = _frank_wolfe(
                y[r : r + 1], x0[r : r + 1], **opts, max_iter=max_iter
            )
            np.testing.assert_allclose(together[r], alone[0], rtol=0, atol=1e-15)
            assert steps[r] == alone_steps[0]
        if max_iter == 50:
            assert (steps == max_iter).all()
        else:  # each stops on its own rule, at its own step
            assert (steps < max_iter).all() and len(set(steps)) == len(steps)
