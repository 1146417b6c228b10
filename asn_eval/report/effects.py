"""One estimate as the report shows it: the cells of its table row and its sentence.

Chapter 3 states each headline effect (table 3.3 and its bullets) and chapter 5 repeats it
(table 5.1, and the synthetic data's truth table). Both read an :class:`EffectSummary` of the
same :class:`~asn_eval.results.store.ResultRecord`, so the policy and outcome are named, the
estimate scaled (shares in percentage points), the verdict worded and the sentence written in
one place, the way CausalPy's ``effect_summary`` carries a table and its prose together.

Examples
--------
>>> from asn_eval.results.store import ResultRecord
>>> record = ResultRecord(policy="training_programme", outcome="skp_good_share",
...     estimator="Callaway-Sant'Anna", estimate=0.25, ci_low=0.125, ci_high=0.375, unit="share")
>>> EffectSummary(record, "en").row("estimate", "ci_high", "estimate_unit")
{'estimate': 25.0, 'ci_high': 37.5, 'estimate_unit': 'pp'}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn_eval.common import formatting as fmt
from asn_eval.domain import setting as context
from asn_eval.report import narrative

__all__ = ["EffectSummary", "outcome_name"]

# Units whose estimates the report shows in percentage points.
SHARE_UNIT = "share"
POINTS = "pp"


def outcome_name(key: str, lang: str = fmt.DEFAULT_LANGUAGE) -> str:
    """The outcome as chapter 3's tables name it, else the registry's words (chapter 4's
    employee-level ``skp_good``): never the key."""
    named = narrative.text_group("chapters.impact.outcomes", lang)
    return named[key] if key in named else narrative.label("outcome", key, lang)


@dataclass(frozen=True)
class EffectSummary:
    """One result in the report's words and units.

    Parameters
    ----------
    record
        A :class:`~asn_eval.results.store.ResultRecord`, or any row with its fields
        (``policy``, ``outcome``, ``estimator``, ``estimate``, ``ci_low``, ``ci_high``,
        ``unit`` and, for the verdict, the decision fields).
    lang
        ``"id"`` or ``"en"``.
    """

    record: Any
    lang: str = fmt.DEFAULT_LANGUAGE

    @property
    def scale(self) -> float:
        """100 for shares (shown in percentage points), else 1."""
        return 100.0 if self.record.unit == SHARE_UNIT else 1.0

    @property
    def unit(self) -> str:
        """The unit as the tables write it: ``"pp"`` for shares, else the record's unit."""
        return POINTS if self.record.unit == SHARE_UNIT else str(self.record.unit or "")

    @property
    def verdict(self) -> str:
        """The verdict with its standing (:func:`~asn_eval.report.narrative.verdict_label`)."""
        return narrative.verdict_label(self.record, self.lang)

    @property
    def sentence(self) -> str:
        """The effect in prose (:func:`~asn_eval.report.narrative.effect_sentence`)."""
        return narrative.effect_sentence(self.record, self.lang)

    def row(self, *columns: str) -> dict[str, object]:
        """The table cells of this result named by ``columns`` (the tables' data columns), in
        that order: ``policy``, ``outcome``, ``estimator`` (in words), ``estimate``,
        ``ci_low``, ``ci_high`` (scaled), ``estimate_unit``, ``verdict``."""
        r = self.record
        cells = {
            "policy": lambda: context.policy(r.policy, self.lang)["name"],
            "outcome": lambda: outcome_name(r.outcome, self.lang),
            "estimator": lambda: narrative.estimator_label(r.estimator, self.lang, title=True),
            "estimate": lambda: r.estimate * self.scale,
            "ci_low": lambda: r.ci_low * self.scale,
            "ci_high": lambda: r.ci_high * self.scale,
            "estimate_unit": lambda: self.unit,
            "verdict": lambda: self.verdict,
        }
        unknown = [c for c in columns if c not in cells]
        if unknown:
            raise KeyError(f"EffectSummary has no cell {unknown[0]!r}; it has {', '.join(cells)}")
        return {column: cells[column]() for column in columns}
