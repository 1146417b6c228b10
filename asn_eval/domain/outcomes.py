"""Every outcome the report states an effect on: its unit, its good direction and its kind.

One registry, read by the analysis (which direction is better), the decision on each
estimate and the words (:mod:`asn_eval.report.narrative` says "turun 8,3 menit, lebih cepat" for a
service time and never calls training uptake "performance"). The words for each outcome live
in the templates (``outcome.<key>`` and ``outcome_meaning.<key>``).

Kinds
-----
``performance``
    Staff performance or discipline (SKP predicates, absence, sanctions).
``service``
    What the public receives (processing and waiting times, IKM).
``uptake``
    A programme's own delivery (training hours): evidence that a policy reached staff, not
    that it changed performance; it enters no recommendation.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS: tuple[str, ...] = ("performance", "service", "uptake")


@dataclass(frozen=True)
class Outcome:
    """An outcome: its column, which direction is better, its unit and its kind."""

    key: str
    better: str
    unit: str
    kind: str = "performance"


OUTCOMES: dict[str, Outcome] = {
    o.key: o
    for o in (
        Outcome("skp_good_share", "higher", "share"),
        Outcome("skp_good", "higher", "share"),
        Outcome("absence_mean", "lower", "days"),
        Outcome("sanction_share", "lower", "share"),
        Outcome("jp_mean", "higher", "jp", kind="uptake"),
        Outcome("health_minutes", "lower", "minutes", kind="service"),
        Outcome("ikm", "higher", "points", kind="service"),
        Outcome("dukcapil_days", "lower", "days", kind="service"),
        Outcome("share_within_standard", "higher", "share", kind="service"),
    )
}


def outcome(key: str) -> Outcome:
    """The registered outcome ``key`` (a readable error names the known ones)."""
    try:
        return OUTCOMES[key]
    except KeyError:
        raise KeyError(
            f"Unknown outcome {key!r}; the registered outcomes are {', '.join(OUTCOMES)}."
        ) from None


def kind(key: str) -> str:
    """The outcome's kind; an unregistered outcome counts as performance."""
    return OUTCOMES[key].kind if key in OUTCOMES else "performance"
