"""The analysis behind each chapter: pure functions from the dataset and one
:class:`AnalysisSpec` to result objects (no figures, table files or sentences).

:mod:`asn_eval.chapters` renders these results into the report; the notebooks show the
calls with their options in view.
"""

from __future__ import annotations

from asn_eval.analysis import barriers, policy_effects
from asn_eval.analysis.barriers import ChallengesResults, challenges
from asn_eval.analysis.policy_effects import ImpactResults, impact
from asn_eval.analysis.spec import TUNABLE, AnalysisSpec, parse_params

__all__ = [
    "TUNABLE",
    "AnalysisSpec",
    "ChallengesResults",
    "ImpactResults",
    "barriers",
    "challenges",
    "impact",
    "parse_params",
    "policy_effects",
]
