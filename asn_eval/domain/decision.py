"""One decision per estimate: its direction and how firmly the data support it.

Every table, bullet, count, sentence and recommendation of the report reads the decision
made here, once, for each result record, so that an estimate shows the same verdict and
standing wherever it appears (and in ``results.json``).

Direction (``verdict``)
    ``improved`` when the whole confidence interval lies on the outcome's good side of zero,
    ``worsened`` when it lies wholly on the bad side, ``no_detectable_effect`` otherwise.
    ``not_identified`` ("cannot be read as an effect") whatever the interval, when the
    estimate's own identification failed: its pre-trend test rejected parallel trends, so
    the difference it measures may be a trend that was there before the policy, and it is
    read neither as an effect nor as the absence of one.
Standing (effects only; ``None`` for no detectable effect and for not identified)
    ``confirmed`` when none of the reasons below applies, else ``tentative``. The rules are
    the same for "improved" and "worsened".
Reasons (:data:`REASONS`)
    ``pretrend_failed``
        The pre-trend test rejected parallel trends (p < :data:`ALPHA`).
    ``pretrend_untestable``
        A difference-in-differences estimate whose pre-trend test could not be run or is not
        calibrated (too few agencies or no pre-adoption years). Untestable is never a pass.
    ``single_unit``
        One office compared with its own past (interrupted time series): no comparison
        group, so a change in trend at the same time cannot be ruled out.
    ``few_clusters_unconfirmed``
        Fewer than :data:`FEW_CLUSTERS` agencies and the few-cluster p-value (randomization
        inference or wild cluster bootstrap) is missing or not below :data:`ALPHA`.
    ``multiple_testing``
        The p-value adjusted for the family of estimates the report tests (Romano-Wolf or
        Holm) is not below :data:`ALPHA`.

Examples
--------
>>> decide(dict(estimate=0.06, ci_low=0.02, ci_high=0.10, better="higher", n_agencies=43,
...             p_value_few_cluster=0.01, pretrend_status="passed"))
Decision(verdict='improved', standing='confirmed', reasons=())
>>> decide(dict(estimate=-0.5, ci_low=-0.6, ci_high=-0.4, better="lower", n_agencies=1))
Decision(verdict='improved', standing='tentative', reasons=('single_unit',))
>>> decide(dict(estimate=-0.08, ci_low=-0.1, ci_high=-0.05, better="lower", n_agencies=43,
...             p_value_few_cluster=0.01, pretrend_status="failed"))
Decision(verdict='not_identified', standing=None, reasons=('pretrend_failed',))
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VERDICTS: tuple[str, ...] = ("improved", "worsened", "no_detectable_effect", "not_identified")
EFFECTS: tuple[str, ...] = ("improved", "worsened")
STANDINGS: tuple[str, ...] = ("confirmed", "tentative")
BETTER: tuple[str, ...] = ("higher", "lower")
REASONS: tuple[str, ...] = (
    "pretrend_failed",
    "pretrend_untestable",
    "single_unit",
    "few_clusters_unconfirmed",
    "multiple_testing",
)
# Outcome of the pre-trend test, as a result record carries it ("" = the design has none).
PRETREND_STATUSES: tuple[str, ...] = ("passed", "failed", "untestable", "")
# Significance level for the pre-trend test and the few-cluster p-value.
ALPHA = 0.05
# Power at which next year's minimum detectable effect is computed and reported (the usual
# 80% of Cohen 1988; Duflo, Glennerster and Kremer 2007), in a two-sided test at ALPHA.
MDE_POWER = 0.80
# Below about 50 clusters, cluster-robust standard errors over-reject (Cameron, Gelbach and
# Miller 2008, Rev. Econ. Stat. 90(3); MacKinnon and Webb 2017, J. Appl. Econometrics 32(2)),
# so the wild cluster bootstrap or randomization inference p-value is the one to trust.
FEW_CLUSTERS = 50


@dataclass(frozen=True)
class Decision:
    """The verdict, standing and reasons of one estimate."""

    verdict: str
    standing: str | None
    reasons: tuple[str, ...]

    @property
    def is_effect(self) -> bool:
        """Whether the estimate is read as an effect (improved or worsened)."""
        return self.verdict in EFFECTS

    @property
    def confirmed(self) -> bool:
        return self.standing == "confirmed"


def interval_sign(ci_low: float, ci_high: float) -> int:
    """+1 when the interval lies wholly above zero, -1 wholly below, 0 when it covers zero.

    The one rule every verdict in the project follows, in prose and in statements: an
    effect is named only when its interval excludes zero.
    """
    if ci_low > 0:
        return 1
    if ci_high < 0:
        return -1
    return 0


def _get(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def verdict(estimate: float, ci_low: float, ci_high: float, *, better: str = "higher") -> str:
    """Direction of an effect from where its confidence interval lies.

    Returns ``"improved"`` if the interval excludes zero on the good side, ``"worsened"``
    if on the bad side, else ``"no_detectable_effect"`` (also for a missing interval).

    Examples
    --------
    >>> verdict(0.05, 0.01, 0.09), verdict(-2.0, -3.5, -0.5, better="lower")
    ('improved', 'improved')
    """
    if better not in BETTER:
        raise ValueError(f"better must be 'higher' or 'lower', not {better!r}.")
    if _missing(ci_low) or _missing(ci_high):
        return "no_detectable_effect"
    if ci_low > ci_high:
        raise ValueError(f"Confidence interval is reversed: low {ci_low} > high {ci_high}.")
    if not _missing(estimate) and not ci_low <= estimate <= ci_high:
        raise ValueError(
            f"Estimate {estimate} lies outside its confidence interval [{ci_low}, {ci_high}]."
        )
    sign = interval_sign(ci_low, ci_high) * (1 if better == "higher" else -1)
    return {1: "improved", -1: "worsened", 0: "no_detectable_effect"}[sign]


def pretrend_status(record: Any) -> str:
    """The record's pre-trend status; older records carry only ``pretrend_p``."""
    status = _get(record, "pretrend_status")
    if status:
        if status not in PRETREND_STATUSES:
            raise ValueError(
                f"pretrend_status must be one of {', '.join(s for s in PRETREND_STATUSES if s)} "
                f"or empty, not {status!r}."
            )
        return status
    p = _get(record, "pretrend_p")
    if _missing(p):
        return ""
    return "failed" if float(p) < ALPHA else "passed"


def reasons(record: Any) -> tuple[str, ...]:
    """Every reason (in :data:`REASONS` order) that makes an effect of ``record`` tentative."""
    found = []
    status = pretrend_status(record)
    if status == "failed":
        found.append("pretrend_failed")
    elif status == "untestable":
        found.append("pretrend_untestable")
    n = _get(record, "n_agencies")
    if not _missing(n) and int(n) <= 1:
        found.append("single_unit")
    elif not _missing(n) and int(n) < FEW_CLUSTERS:
        p = _get(record, "p_value_few_cluster")
        if _missing(p) or float(p) >= ALPHA:
            found.append("few_clusters_unconfirmed")
    adjusted = _get(record, "p_value_adjusted")
    if not _missing(adjusted) and float(adjusted) >= ALPHA:
        found.append("multiple_testing")
    return tuple(found)


def decide(record: Any) -> Decision:
    """The one decision for a result record (or a mapping with its fields).

    Reads ``estimate``, ``ci_low``, ``ci_high``, ``better``, ``n_agencies``,
    ``p_value_few_cluster``, ``pretrend_status`` (or ``pretrend_p``) and
    ``p_value_adjusted``.
    """
    direction = verdict(
        _get(record, "estimate"),
        _get(record, "ci_low"),
        _get(record, "ci_high"),
        better=_get(record, "better", "higher") or "higher",
    )
    why = reasons(record)
    if "pretrend_failed" in why:
        return Decision("not_identified", None, why)
    if direction == "no_detectable_effect":
        return Decision(direction, None, why)
    return Decision(direction, "tentative" if why else "confirmed", why)


def hidden_dynamics(record: Any) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Event-time bands the overall number hides: ``(("below", (4,)),)`` when the
    simultaneous band of those event times (``event_times_below``) lies wholly below zero
    while the overall interval does not, and likewise ``"above"``. Empty for an estimate
    that is not read as an effect (a failed pre-trend test). Said beside the verdict; it
    does not change it (one or two event times of a few agencies are not an effect)."""
    if decide(record).verdict == "not_identified":
        return ()
    sign = interval_sign(_get(record, "ci_low"), _get(record, "ci_high"))
    hidden = []
    for side, overall in (("below", -1), ("above", 1)):
        times = tuple(int(e) for e in (_get(record, f"event_times_{side}", ()) or ()))
        if times and sign != overall:
            hidden.append((side, times))
    return tuple(hidden)
