"""One decision per policy, from that policy's findings, by rules the report prints.

Every estimate has its own decision (:mod:`asn_eval.domain.decision`: direction, standing,
reasons). An office acts on policies, not estimates, so each policy gets exactly one of
:data:`DECISIONS`, decided here once and read by the executive summary, chapter 5 and
``results.json`` (``policy_decisions``), so that no page recommends two actions for one
policy.

The main outcome of each policy is named before the data are seen (:data:`MAIN_OUTCOMES`,
from the question the source article asks of each policy). An outcome that the policy
itself produces (the SKP rating under performance appraisal: the appraisal is what assigns
the rating) may not alone carry ``extend``.

Rules (:data:`RULES`, in the order they are tried; the first that holds decides)
    ``main_missing``
        No estimate of the main outcome: ``no_evidence_yet``.
    ``main_not_identified``
        The main outcome's estimate cannot be read as an effect (a failed pre-trend test):
        ``no_evidence_yet``.
    ``main_confirmed_improved``
        The main outcome improved and the finding is confirmed: ``extend``; ``keep`` when
        the main outcome is one the policy produces.
    ``main_tentative_improved``
        The main outcome improved but the finding is tentative: ``confirm_next_year``,
        with what would settle it (``settle``, see :data:`SETTLE`).
    ``main_confirmed_worsened``
        The main outcome worsened, confirmed: ``stop`` unless another outcome the policy
        does not produce improved (confirmed), then ``review``.
    ``main_tentative_worsened``
        The main outcome worsened, tentative: ``review``.
    ``other_confirmed_improved``
        No detectable effect on the main outcome, but another outcome the policy does not
        produce improved (confirmed): ``keep``.
    ``main_no_effect``
        Otherwise: ``no_evidence_yet``.

What would settle a tentative main finding (:data:`SETTLE`)
    ``another_comparison``
        Its reasons include an untestable pre-trend or a single office: another year of the
        same data adds no pre-adoption years and no comparison group, so only another
        comparison (offices elsewhere, a later-adopting group) can confirm it.
    ``one_more_year``
        Otherwise, when next year's minimum detectable effect (``mde_next_year``) is no larger
        than the estimate: one more year of data can confirm an effect of this size.
    ``more_than_one_year``
        Otherwise: the estimate is smaller than what one more year could detect, so one year
        may not settle it.

Every decision names the office that acts on it (``owner``, the ``owners`` table of
:mod:`asn_eval.domain.setting`) and the report year in which it is checked again
(``check_year``: the next annual report).

Examples
--------
>>> main = dict(policy="reward_punishment", outcome="absence_mean", estimator="CS",
...             estimate=-0.4, ci_low=-0.5, ci_high=-0.3, better="lower", n_agencies=43,
...             p_value_few_cluster=0.005, pretrend_status="passed", p_value_adjusted=0.04)
>>> decide_policy("reward_punishment", [main]).decision
'extend'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from asn_eval.domain.decision import Decision, decide, hidden_dynamics
from asn_eval.domain.outcomes import kind
from asn_eval.domain.setting import owner

DECISIONS: tuple[str, ...] = (
    "extend",  # lanjutkan dan perluas
    "keep",  # lanjutkan
    "confirm_next_year",  # konfirmasi tahun depan
    "review",  # tinjau pelaksanaan
    "stop",  # hentikan
    "no_evidence_yet",  # belum ada bukti
)
SETTLE: tuple[str, ...] = ("another_comparison", "one_more_year", "more_than_one_year")
# Reasons that another year of the same data cannot remove (asn_eval.domain.decision.REASONS).
DESIGN_REASONS = frozenset({"pretrend_untestable", "single_unit"})
RULES: tuple[str, ...] = (
    "main_missing",
    "main_not_identified",
    "main_confirmed_improved",
    "main_tentative_improved",
    "main_confirmed_worsened",
    "main_tentative_worsened",
    "other_confirmed_improved",
    "main_no_effect",
)


@dataclass(frozen=True)
class PolicyPlan:
    """What a policy is judged on, fixed before the data are seen.

    ``main_outcome`` answers the question asked of the policy; ``produced`` lists outcomes
    the policy itself produces, which cannot alone show that it works.
    """

    main_outcome: str
    produced: tuple[str, ...] = ()


# The source article's question for each policy (chapter 1 asks them in the same words):
# does training make services faster and staff more productive, does appraisal bring
# discipline and faster health services, does reward and punishment lower absence and
# breaches of discipline, does digitalisation speed services and raise public satisfaction.
MAIN_OUTCOMES: dict[str, PolicyPlan] = {
    "training_programme": PolicyPlan("skp_good_share"),
    # The SKP predicate is assigned by the appraisal itself: it may move because the
    # appraisal is now done, not because staff perform better.
    "performance_appraisal": PolicyPlan("health_minutes", produced=("skp_good_share", "skp_good")),
    "reward_punishment": PolicyPlan("absence_mean"),
    "digitalisation": PolicyPlan("ikm"),
}


@dataclass(frozen=True)
class PolicyDecision:
    """The one decision for a policy, the records it rests on and the rule that made it."""

    policy: str
    decision: str
    main_outcome: str
    rule: str
    records: tuple[tuple[str, str], ...]  # (outcome, estimator) of each record read
    supporting: tuple[str, ...] = ()  # other outcomes that improved (confirmed)
    produced_by_policy: bool = False  # the main outcome is one the policy produces
    # Outcomes the policy produces that improved (confirmed): said, never counted.
    produced_improved: tuple[str, ...] = ()
    mde_next_year: float | None = None
    unit: str = ""
    main_estimate: float | None = None
    settle: str | None = None  # confirm_next_year only: one of SETTLE
    main_reasons: tuple[str, ...] = ()  # why the main finding is tentative, if it is
    # Event times whose band the main outcome's overall number hides (decision.hidden_dynamics)
    main_hidden: tuple[tuple[str, tuple[int, ...]], ...] = ()
    owner: str = ""  # the office that acts on it (code of the owners table)
    check_year: int | None = None  # the report year it is checked again

    def as_dict(self) -> dict[str, Any]:
        """The entry of ``results.json``'s ``policy_decisions``."""
        return {
            "policy": self.policy,
            "decision": self.decision,
            "main_outcome": self.main_outcome,
            "rule": self.rule,
            "records": [list(r) for r in self.records],
            "supporting": list(self.supporting),
            "produced_by_policy": self.produced_by_policy,
            "produced_improved": list(self.produced_improved),
            "mde_next_year": self.mde_next_year,
            "unit": self.unit,
            "main_estimate": self.main_estimate,
            "settle": self.settle,
            "main_reasons": list(self.main_reasons),
            "main_hidden": [[side, list(times)] for side, times in self.main_hidden],
            "owner": self.owner,
            "check_year": self.check_year,
        }


def _get(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def _decision(record: Any) -> Decision:
    verdict, standing, reasons = (_get(record, k) for k in ("verdict", "standing", "reasons"))
    if verdict and reasons is not None:
        return Decision(verdict, standing, tuple(reasons))
    return decide(record)


def _settle(main: Any, reasons: tuple[str, ...]) -> str:
    """What would settle ``main``'s tentative finding (one of :data:`SETTLE`)."""
    if DESIGN_REASONS & set(reasons):
        return "another_comparison"
    mde, estimate = _get(main, "mde_next_year"), _get(main, "estimate")
    if mde is not None and estimate is not None and float(mde) <= abs(float(estimate)):
        return "one_more_year"
    return "more_than_one_year"


def decide_policy(
    policy: str, records: Iterable[Any], *, year: int | None = None
) -> PolicyDecision:
    """The decision for ``policy`` from its headline records (one per outcome), to be
    checked again in the report after ``year``.

    ``records`` may hold other policies' records: only ``policy``'s are read. Programme
    uptake (training hours) is never evidence that a policy works.
    """
    plan = MAIN_OUTCOMES.get(policy)
    if plan is None:
        raise KeyError(
            f"No main outcome is registered for policy {policy!r}; add it to "
            "asn_eval.domain.policy_decision.MAIN_OUTCOMES before reading its results."
        )
    mine = [
        r for r in records if _get(r, "policy") == policy and kind(_get(r, "outcome")) != "uptake"
    ]
    read = tuple((str(_get(r, "outcome")), str(_get(r, "estimator"))) for r in mine)
    main = next((r for r in mine if _get(r, "outcome") == plan.main_outcome), None)
    others = [r for r in mine if r is not main and _get(r, "outcome") not in plan.produced]

    def improved(candidates: list) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(
                str(_get(r, "outcome"))
                for r in candidates
                if _decision(r).verdict == "improved" and _decision(r).confirmed
            )
        )

    supporting = improved(others)
    produced_improved = improved(
        [r for r in mine if r is not main and _get(r, "outcome") in plan.produced]
    )
    produced = plan.main_outcome in plan.produced

    def made(decision: str, rule: str, settle: str | None = None) -> PolicyDecision:
        mde = None if main is None else _get(main, "mde_next_year")
        estimate = None if main is None else _get(main, "estimate")
        return PolicyDecision(
            policy,
            decision,
            plan.main_outcome,
            rule,
            read,
            supporting,
            produced,
            produced_improved,
            None if mde is None else float(mde),
            "" if main is None else str(_get(main, "unit", "") or ""),
            None if estimate is None else float(estimate),
            settle,
            () if main is None else tuple(_decision(main).reasons),
            () if main is None else hidden_dynamics(main),
            owner(policy, "id")["code"],
            None if year is None else int(year) + 1,
        )

    if main is None:
        return made("no_evidence_yet", "main_missing")
    d = _decision(main)
    if d.verdict == "not_identified":
        return made("no_evidence_yet", "main_not_identified")
    if d.verdict == "improved":
        if d.confirmed:
            return made("keep" if produced else "extend", "main_confirmed_improved")
        return made("confirm_next_year", "main_tentative_improved", _settle(main, d.reasons))
    if d.verdict == "worsened":
        if d.confirmed:
            return made("review" if supporting else "stop", "main_confirmed_worsened")
        return made("review", "main_tentative_worsened")
    if supporting:
        return made("keep", "other_confirmed_improved")
    return made("no_evidence_yet", "main_no_effect")


def decide_policies(
    records: Iterable[Any], policies: Iterable[str], *, year: int | None = None
) -> list[PolicyDecision]:
    """One :class:`PolicyDecision` per policy in ``policies`` (in that order)."""
    records = list(records)
    return [decide_policy(policy, records, year=year) for policy in policies]
