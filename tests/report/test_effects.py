"""EffectSummary: one estimate's table cells in the report's words and units."""

from __future__ import annotations

import pytest

from asn_eval.report.effects import EffectSummary, outcome_name
from asn_eval.results.store import ResultRecord


def _record(**fields) -> ResultRecord:
    base = dict(
        policy="training_programme", outcome="skp_good_share", estimator="Callaway-Sant'Anna",
        estimate=0.25, ci_low=0.125, ci_high=0.375, unit="share",
    )  # fmt: skip
    return ResultRecord(**{**base, **fields})


def test_shares_are_shown_in_points_and_other_units_as_they_are():
    share = EffectSummary(_record(), "id")
    assert share.row("estimate", "ci_low", "ci_high", "estimate_unit") == {
        "estimate": 25.0, "ci_low": 12.5, "ci_high": 37.5, "estimate_unit": "pp",
    }  # fmt: skip
    minutes = EffectSummary(
        _record(outcome="health_minutes", estimate=-8.5, ci_low=-9.0, ci_high=-8.0, unit="min")
    )
    assert minutes.row("estimate", "estimate_unit") == {"estimate": -8.5, "estimate_unit": "min"}


def test_cells_come_in_the_order_asked_and_in_the_language():
    row = EffectSummary(_record(), "en").row("outcome", "policy", "estimator")
    assert list(row) == ["outcome", "policy", "estimator"]
    assert row["outcome"] == outcome_name("skp_good_share", "en") != "skp_good_share"
    assert EffectSummary(_record(), "id").row("outcome")["outcome"] == outcome_name(
        "skp_good_share", "id"
    )
    assert row["outcome"] != outcome_name("skp_good_share", "id")


def test_an_unknown_cell_is_named():
    with pytest.raises(KeyError, match="EffectSummary has no cell 'p_value'; it has policy,"):
        EffectSummary(_record()).row("estimate", "p_value")
