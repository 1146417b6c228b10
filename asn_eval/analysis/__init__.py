"""The analysis behind each chapter: pure functions from the dataset and one
:class:`AnalysisSpec` to result objects (no figures, table files or sentences).

One module per chapter that computes (``impact``, ``challenges``, ``policies``), its
function named as the module (``from asn_eval.analysis.impact import impact``), and
:mod:`~asn_eval.analysis.panels`, the analysis panels they share.
:mod:`asn_eval.report.chapters` renders these results into the report; the notebooks show the
calls with their options in view.
"""

from __future__ import annotations

from asn_eval.analysis.challenges import ChallengesResults
from asn_eval.analysis.impact import ImpactResults
from asn_eval.analysis.spec import TUNABLE, AnalysisSpec, parse_params

__all__ = [
    "TUNABLE",
    "AnalysisSpec",
    "ChallengesResults",
    "ImpactResults",
    "parse_params",
]
