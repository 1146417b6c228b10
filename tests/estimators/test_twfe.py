"""TWFE: published numbers (Wooldridge), reference implementations (pyfixest, linearmodels)."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from asn_eval.estimators.twfe import twfe

# The package exports the function under the module's name; tests patch the module itself.
twfe_module = importlib.import_module("asn_eval.estimators.twfe")


def staggered_panel(
    *, n_units=2_000, n_periods=7, n_agencies=40, seed=0, drop_share=0.0, effect=0.5
) -> pd.DataFrame:
    """Employees nested in agencies; agencies adopt at different times; effects grow."""
    rng = np.random.default_rng(seed)
    agency = rng.integers(0, n_agencies, n_units)
    agency_cohort = rng.choice([0, 3, 4, 5, 6], n_agencies)
    unit = np.repeat(np.arange(n_units), n_periods)
    period = np.tile(np.arange(n_periods), n_units)
    cohort = agency_cohort[agency][unit]
    treated = ((cohort > 0) & (period >= cohort)).astype(float)
    x = rng.normal(size=unit.size)
    y = (
        rng.normal(size=n_units)[unit]
        + 0.1 * period
        + treated * effect
        + 0.3 * x
        + rng.normal(size=n_units * 0 + unit.size)
    )
    frame = pd.DataFrame(
        {
            "employee": unit,
            "year": period + 2019,
            "agency": agency[unit],
            "y": y,
            "treated": treated,
            "x": x,
        }
    )
    if drop_share:
        frame = frame.sample(frac=1 - drop_share, random_state=seed).sort_index()
    return frame


def test_wooldridge_example_14_1():
    """Wooldridge, Introductory Econometrics, Example 14.1 (jtrain): FE with year effects.

    Published: grant -0.2523 (0.1506), grant_1 -0.4216 (0.2102); 162 observations of 54 firms.
    """
    from linearmodels.datasets import jobtraining

    with pytest.warns(UserWarning) as record:
        res = twfe(
            jobtraining.load(),
            outcome="lscrap",
            treatment=["grant", "grant_1"],
            unit="fcode",
            time="year",
        )
    assert str(record[0].message) == (
        "twfe: dropped 309 of 471 rows with missing values (in lscrap)."
    )
    assert res.params["grant"] == pytest.approx(-0.2523, abs=5e-5)
    assert res.std_errors["grant"] == pytest.approx(0.1506, abs=5e-5)
    assert res.params["grant_1"] == pytest.approx(-0.4216, abs=5e-5)
    assert res.std_errors["grant_1"] == pytest.approx(0.2102, abs=5e-5)
    assert res.nobs == 162
    assert res.df == 162 - 2 - (54 + 3 - 1)
    # Intervals use t(104), the textbook's degrees of freedom.
    crit = stats.t.ppf(0.975, 104)
    frame = res.to_frame()
    assert list(frame.columns) == ["term", "estimate", "std_error", "ci_low", "ci_high"]
    assert frame.loc[0, "ci_low"] == pytest.approx(res.params["grant"] - crit * 0.150629, abs=1e-5)


@pytest.mark.parametrize("drop_share", [0.0, 0.1], ids=["balanced", "unbalanced"])
def test_matches_pyfixest_crv1_and_iid(drop_share):
    """fixest/pyfixest CRV1 (FE nested in clusters not counted) and iid SEs, to 1e-6."""
    import pyfixest as pf  # a test dependency: the reference for the CRV1 convention
    data = staggered_panel(drop_share=drop_share, seed=3)
    for vcov, cluster in (({"CRV1": "agency"}, "agency"), ("iid", None)):
        ours = twfe(
            data,
            outcome="y",
            treatment="treated",
            covariates=["x"],
            unit="employee",
            time="year",
            cluster=cluster,
        )
        ref = pf.feols(
            "y ~ treated + x | employee + year",
            data=data,
            vcov=vcov,
            fixef_rm="none",
            demeaner=pf.MapDemeaner(fixef_tol=1e-14),
        )
        np.testing.assert_allclose(ours.params.to_numpy(), ref.coef().to_numpy(), atol=1e-6)
        np.testing.assert_allclose(ours.std_errors.to_numpy(), ref.se().to_numpy(), atol=1e-6)
        np.testing.assert_allclose(ours.pvalues.to_numpy(), ref.pvalue().to_numpy(), atol=1e-6)
    assert ours.n_clusters is None


def test_matches_linearmodels_point_estimates_and_explains_se_gap():
    """PanelOLS gives the same coefficients; its clustered SEs differ only by its K."""
    from linearmodels import PanelOLS

    data = staggered_panel(drop_share=0.1, seed=5)
    ours = twfe(
        data,
        outcome="y",
        treatment="treated",
        covariates=["x"],
        unit="employee",
        time="year",
        cluster="agency",
    )
    indexed = data.set_index(["employee", "year"])
    ref = PanelOLS(
        indexed["y"], indexed[["treated", "x"]], entity_effects=True, time_effects=True
    ).fit(cov_type="clustered", clusters=indexed["agency"])
    np.testing.assert_allclose(ours.params.to_numpy(), ref.params.to_numpy(), atol=1e-8)
    # linearmodels' default clustered scale is N / (N - K - fixed effects), counting the employee
    # effects nested in agencies; fixest uses G/(G-1) * (N-1)/(N-K) with K = regressors + periods.
    n, k, g = ours.nobs, 2, ours.n_clusters
    n_units, n_periods = data["employee"].nunique(), data["year"].nunique()
    linearmodels_scale = n / (n - k - (n_units + n_periods - 1))
    fixest_scale = g / (g - 1) * (n - 1) / (n - k - n_periods)
    ratio = np.sqrt(linearmodels_scale / fixest_scale)
    se_ratio = ref.std_errors.to_numpy() / ours.std_errors.to_numpy()
    np.testing.assert_allclose(se_ratio, ratio, rtol=1e-8)
    assert ratio > 1.07


def test_recovers_known_homogeneous_effect():
    data = staggered_panel(n_units=4_000, seed=11, effect=0.5)
    res = twfe(
        data, outcome="y", treatment="treated", unit="employee", time="year", cluster="agency"
    )
    assert abs(res.params["treated"] - 0.5) < 3 * res.std_errors["treated"]
    assert res.std_errors["treated"] < 0.05


def test_alternating_projections_agree_with_exact_solution(monkeypatch):
    data = staggered_panel(n_units=500, drop_share=0.15, seed=2)
    kwargs = dict(outcome="y", treatment=["treated", "x"], unit="employee", time="year")
    exact = twfe(data, **kwargs)
    monkeypatch.setattr(twfe_module, "MAX_DIRECT_LEVELS", 1)
    iterated = twfe(data, **kwargs)
    np.testing.assert_allclose(exact.params.to_numpy(), iterated.params.to_numpy(), atol=1e-9)


def test_summary_states_the_se_convention():
    data = staggered_panel(n_units=300, seed=1)
    res = twfe(
        data, outcome="y", treatment="treated", unit="employee", time="year", cluster="agency"
    )
    text = str(res.summary())
    assert "CRV1, fixest/pyfixest convention" in text
    assert "fixed effects nested in clusters not counted" in text
    assert "<table>" in res._repr_html_()
    assert res.statement().startswith("TWFE finds a positive effect of treated on y: ")
    # t(G-1) critical value for clustered intervals.
    crit = stats.t.ppf(0.975, res.n_clusters - 1)
    ci = res.conf_int()
    assert ci.loc["treated", "ci_high"] == pytest.approx(
        res.params["treated"] + crit * res.std_errors["treated"]
    )


def test_time_invariant_covariate_is_reported():
    data = staggered_panel(n_units=200, seed=4)
    data["female"] = (data["employee"] % 2).astype(float)
    with pytest.raises(ValueError) as err:
        twfe(
            data,
            outcome="y",
            treatment="treated",
            covariates=["female"],
            unit="employee",
            time="year",
        )
    assert str(err.value) == (
        "twfe: female do(es) not vary within units and periods once the employee and year "
        "fixed effects are removed, so no effect can be estimated; drop it or use a variable "
        "that changes over time within units."
    )


def test_missing_column_message():
    data = staggered_panel(n_units=50, seed=4)
    with pytest.raises(KeyError, match="column\\(s\\) skp not found in the data"):
        twfe(data, outcome="skp", treatment="treated", unit="employee", time="year")


def test_missing_values_in_nullable_columns_are_dropped_with_a_count():
    data = staggered_panel(n_units=100, seed=6)
    data["employee"] = data["employee"].astype("Int64")
    data.loc[[0, 5], "employee"] = pd.NA
    data.loc[[7], "y"] = np.nan
    with pytest.warns(UserWarning) as record:
        res = twfe(data, outcome="y", treatment="treated", unit="employee", time="year")
    assert str(record[0].message) == (
        "twfe: dropped 3 of 700 rows with missing values (in y, employee)."
    )
    assert res.nobs == 697
