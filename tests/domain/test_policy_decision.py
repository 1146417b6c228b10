"""One decision per policy: each rule of asn_eval.domain.policy_decision, tried on records
built to meet exactly that rule, and the registry fixed before the data are seen."""

from __future__ import annotations

import pytest

from asn_eval.data.contract import POLICIES
from asn_eval.domain.policy_decision import (
    DECISIONS,
    MAIN_OUTCOMES,
    RULES,
    SETTLE,
    decide_policy,
)
from asn_eval.report.narrative import policy_decision_rules, templates


def rec(outcome, *, policy="reward_punishment", estimate=-0.4, low=-0.5, high=-0.3, **kw):
    values = dict(
        policy=policy, outcome=outcome, estimator="Callaway-Sant'Anna", estimate=estimate,
        ci_low=low, ci_high=high, better="lower" if outcome in ("absence_mean",
        "health_minutes", "sanction_share") else "higher", n_agencies=43,
        p_value_few_cluster=0.005, pretrend_status="passed", p_value_adjusted=0.01,
    )  # fmt: skip
    values.update(kw)
    return values


NONE = dict(estimate=0.01, low=-0.1, high=0.1)
GOOD_SKP = dict(estimate=0.08, low=0.03, high=0.13)


@pytest.mark.parametrize(
    ("records", "decision", "rule"),
    [
        ([], "no_evidence_yet", "main_missing"),
        ([rec("absence_mean", pretrend_status="failed")], "no_evidence_yet",
         "main_not_identified"),
        ([rec("absence_mean")], "extend", "main_confirmed_improved"),
        ([rec("absence_mean", p_value_adjusted=0.2, mde_next_year=0.3)], "confirm_next_year",
         "main_tentative_improved"),
        ([rec("absence_mean", estimate=0.4, low=0.3, high=0.5)], "stop",
         "main_confirmed_worsened"),
        ([rec("absence_mean", estimate=0.4, low=0.3, high=0.5),
          rec("skp_good_share", **GOOD_SKP)], "review", "main_confirmed_worsened"),
        ([rec("absence_mean", estimate=0.4, low=0.3, high=0.5, n_agencies=1)], "review",
         "main_tentative_worsened"),
        ([rec("absence_mean", **NONE), rec("skp_good_share", **GOOD_SKP)], "keep",
         "other_confirmed_improved"),
        ([rec("absence_mean", **NONE), rec("skp_good_share", **GOOD_SKP,
          p_value_adjusted=0.3)], "no_evidence_yet", "main_no_effect"),
    ],
)  # fmt: skip
def test_each_rule_gives_its_one_decision(records, decision, rule):
    made = decide_policy("reward_punishment", records)
    assert (made.decision, made.rule) == (decision, rule)
    assert made.decision in DECISIONS and made.rule in RULES


def test_an_outcome_the_policy_produces_never_carries_a_decision():
    """SKP under appraisal: the appraisal assigns the rating, so a confirmed rise in it is
    said but neither extends the policy nor keeps it."""
    policy = "performance_appraisal"
    skp = rec("skp_good_share", policy=policy, **GOOD_SKP)
    alone = decide_policy(policy, [rec("health_minutes", policy=policy, **NONE), skp])
    assert (alone.decision, alone.rule) == ("no_evidence_yet", "main_no_effect")
    assert alone.produced_improved == ("skp_good_share",) and alone.supporting == ()
    # The same rise under training (which does not assign ratings) keeps the policy.
    other = decide_policy(
        "training_programme",
        [rec("skp_good_share", policy="training_programme", **GOOD_SKP)],
    )
    assert other.decision == "extend"


def test_programme_uptake_is_never_evidence():
    hours = rec("jp_mean", policy="training_programme", estimate=23.0, low=18.0, high=29.0,
                better="higher")  # fmt: skip
    made = decide_policy("training_programme", [hours])
    assert (made.decision, made.rule, made.records) == ("no_evidence_yet", "main_missing", ())


def test_every_policy_has_its_main_outcome_and_the_printed_rules_are_the_applied_ones():
    assert set(MAIN_OUTCOMES) == set(POLICIES)
    for lang in ("id", "en"):
        words = templates(lang)
        assert {k.split(".")[-1] for k in words if k.startswith("policy_decision.rule.")} == set(
            RULES
        )
        assert {k.split(".")[-1] for k in words if k.startswith("policy_decision.label.")} == set(
            DECISIONS
        )
        lead, rules, standing = policy_decision_rules(lang)
        assert len(rules) == len(RULES)
        assert "Holm" in standing  # the multiple-testing step is printed, as it is applied
    with pytest.raises(KeyError, match="MAIN_OUTCOMES"):
        decide_policy("a_new_policy", [])


def test_the_results_schema_lists_the_decisions_and_rules_the_code_applies():
    from asn_eval.results.store import results_schema

    entry = results_schema()["$defs"]["policy_decision"]["properties"]
    assert entry["decision"]["enum"] == list(DECISIONS)
    assert entry["rule"]["enum"] == list(RULES)
    assert entry["settle"]["enum"] == [*SETTLE, None]


@pytest.mark.parametrize(
    ("main", "settle"),
    [
        # Holm alone: next year's MDE (0.3) is below the estimate's size (0.4): one year can.
        (dict(p_value_adjusted=0.2, mde_next_year=0.3), "one_more_year"),
        # the estimate (0.4) is smaller than what one more year could detect (0.5)
        (dict(p_value_adjusted=0.2, mde_next_year=0.5), "more_than_one_year"),
        # no MDE at all: nothing says one year is enough
        (dict(p_value_adjusted=0.2), "more_than_one_year"),
        # an untestable pre-trend is not fixed by another year of the same design
        (dict(pretrend_status="untestable", mde_next_year=0.1), "another_comparison"),
        (dict(n_agencies=1, mde_next_year=0.1), "another_comparison"),
    ],
)
def test_confirm_next_year_says_what_would_settle_it(main, settle):
    made = decide_policy("reward_punishment", [rec("absence_mean", **main)], year=2025)
    assert made.decision == "confirm_next_year"
    assert made.settle == settle
    assert made.as_dict()["settle"] == settle


def test_every_decision_names_its_office_and_the_year_it_is_checked_again():
    from asn_eval.domain.setting import load_context

    owners = load_context()["owners"]
    assert set(owners) == set(POLICIES)  # the one editable table covers every policy
    for policy in POLICIES:
        main = MAIN_OUTCOMES[policy].main_outcome
        made = decide_policy(policy, [rec(main, policy=policy)], year=2025)
        assert made.owner == owners[policy]["code"]
        assert made.check_year == 2026
    assert decide_policy("training_programme", []).check_year is None


def test_a_yearly_band_the_main_outcome_hides_travels_with_the_decision():
    """Digitalisation kept on a confirmed SKP gain while IKM's year-4 band is below zero: the
    decision carries it and its words say it (issue 20, item 2)."""
    from asn_eval.report.narrative import policy_decision_text

    records = [
        rec("ikm", policy="digitalisation", estimate=-0.9, low=-1.87, high=0.08,
            event_times_below=(4,)),
        rec("skp_good_share", policy="digitalisation", **GOOD_SKP),
    ]  # fmt: skip
    made = decide_policy("digitalisation", records, year=2025)
    assert (made.decision, made.main_hidden) == ("keep", (("below", (4,)),))
    assert made.as_dict()["main_hidden"] == [["below", [4]]]
    said = policy_decision_text(made.as_dict(), "id")
    assert (
        "Namun indeks kepuasan masyarakat (IKM) pada tahun ke-4 sesudah penerapan lebih buruk "
        "menurut pita tahunan"
    ) in said
    assert said.endswith("diperiksa lagi dalam laporan 2026.")
