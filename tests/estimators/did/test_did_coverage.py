"""Known truth: att_gt recovers the true effect and its intervals cover it at the nominal rate.

Data come from the project's generator ``simulate_panel``: 40 agencies adopt in a random
cohort year (2021-2024, equally likely) or never (25%), every employee of an agency is
treated from its adoption year, and effects grow with exposure and are larger for early
cohorts, which is what makes static two-way fixed effects misleading.

Target of the overall ATT (simple aggregation): cohorts are drawn at random per agency with
equal probabilities, so the population estimand weights every post-treatment cell (g, t)
equally; it is computed from the generator's own ``true_effect``. The analytic standard error
accounts for the random cohort shares (R's did "wif" term), clustered by agency.
"""

from __future__ import annotations

import numpy as np
import pytest

from asn_eval.data.synth import simulate_panel, true_att
from asn_eval.estimators.did import att_gt

N_AGENCIES = 40
N_EMPLOYEES = 1000


def _population_targets() -> dict[str, float]:
    # every cohort present, so each cell's true ATT(g, t) is known; cells are equally likely
    panel = simulate_panel(n_employees=2000, n_agencies=200, seed=12345)
    cells = true_att(panel, by=["cohort", "year"]).reset_index()
    cells["event_time"] = cells["year"] - cells["cohort"]
    return {
        "simple": float(cells["true_effect"].mean()),
        "dynamic": float(cells.groupby("event_time")["true_effect"].mean().mean()),
        "group": float(cells.groupby("cohort")["true_effect"].mean().mean()),
    }


def _study(seeds: range, *, n_employees: int = N_EMPLOYEES) -> dict[str, np.ndarray]:
    from asn_eval.estimators.twfe import twfe

    targets = _population_targets()
    out: dict[str, list] = {f"cover_{k}": [] for k in targets} | {
        "cs": [],
        "twfe": [],
        "sample_att": [],
    }
    for seed in seeds:
        panel = simulate_panel(n_employees=n_employees, n_agencies=N_AGENCIES, seed=seed)
        res = att_gt(
            panel, outcome="y", unit="employee_id", time="year", cohort="cohort", cluster="agency"
        )
        for kind, target in targets.items():
            lo, hi = res.aggregate(kind).overall_interval()
            out[f"cover_{kind}"].append(lo <= target <= hi)
        out["cs"].append(res.aggregate("simple").overall_att)
        fit = twfe(
            panel,
            outcome="y",
            treatment="treated",
            unit="employee_id",
            time="year",
            cluster="agency",
        )
        out["twfe"].append(float(fit.params["treated"]))
        out["sample_att"].append(true_att(panel))
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def _check(study: dict[str, np.ndarray]) -> None:
    coverage = study["cover_simple"].mean()
    assert 0.93 <= coverage <= 0.97, coverage
    # the dynamic and group summaries are calibrated too (looser: same draws, no tuning)
    assert 0.91 <= study["cover_dynamic"].mean() <= 0.98
    assert 0.91 <= study["cover_group"].mean() <= 0.98
    reps = study["cs"].size
    cs_bias = study["cs"] - study["sample_att"]
    twfe_bias = study["twfe"] - study["sample_att"]
    # Callaway-Sant'Anna is unbiased within Monte Carlo error ...
    assert abs(cs_bias.mean()) < 3 * cs_bias.std() / np.sqrt(reps)
    # ... while static TWFE understates the growing effect by about a third
    assert twfe_bias.mean() < -0.5
    assert abs(twfe_bias.mean()) > 20 * twfe_bias.std() / np.sqrt(reps)


def test_coverage_and_twfe_bias_200_datasets():
    _check(_study(range(200)))


@pytest.mark.slow
def test_coverage_and_twfe_bias_2000_datasets():
    study = _study(range(1000, 3000))
    _check(study)
    # with 2000 datasets the Monte Carlo error of the coverage is 0.5 points
    assert 0.935 <= study["cover_simple"].mean() <= 0.965
