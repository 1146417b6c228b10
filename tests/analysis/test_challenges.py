"""Chapter 4's subgroup effects: each subgroup column is an estimate or the reason it is not."""

from __future__ import annotations

import pandas as pd

from asn_eval.analysis.challenges import (
    HETEROGENEITY_BY,
    ChallengesResults,
    heterogeneity_panel,
    subgroup_effects,
)
from asn_eval.analysis.spec import AnalysisSpec


def test_a_subgroup_that_cannot_be_compared_carries_its_reason_not_an_estimate(kupang_dataset):
    data = kupang_dataset
    panel = heterogeneity_panel(data, years=data.years, policy="digitalisation")
    panel["position_type"] = "struktural"  # one group only: nothing to compare within it
    spec = AnalysisSpec(year=max(data.years))
    attempts = subgroup_effects(panel, spec=spec)
    assert list(attempts) == list(HETEROGENEITY_BY)
    assert attempts["position_type"].problem == (
        "heterogeneity: fewer than two groups of position_type have both treated and "
        "never-treated units; there is nothing to compare."
    )
    results = ChallengesResults(
        spec=spec, as_of=pd.Timestamp("2024-12-31"), adoption=None, subgroup_attempts=attempts
    )
    assert list(results.subgroups) == ["age_band_start", "education_group"]
    assert list(results.subgroup_problems) == ["position_type"]
    # Only estimated subgroups become records, one per group, Holm-adjusted among themselves.
    groups = sum(len(res.params) for res in results.subgroups.values())
    records = results.records()
    assert len(records) == groups
    assert {r.subgroup_variable for r in records} == {"age_band_start", "education_group"}
