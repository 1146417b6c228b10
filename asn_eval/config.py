"""The project's settings in one place: paths, languages, the seed and the chapter registry.

Everything else in :mod:`asn_eval` reads these names; nothing here imports the rest of the
package, so any layer may import it.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "kupang-synthetic"
REPORTS_DIR = PROJECT_ROOT / "reports"

# Report languages: Bahasa Indonesia (the default) and English.
LANGUAGES: tuple[str, ...] = ("id", "en")
DEFAULT_LANGUAGE = "id"

# The seed of every random draw (synthetic data, bootstrap, permutations) unless --seed says
# otherwise, so that the same inputs and parameters give the same numbers.
DEFAULT_SEED = 2025

# Project choice: a report built on a table that lost more than this share of its rows to
# validation would describe the export's accidents, not the office. ``asn-eval report`` and
# ``asn-eval validate`` stop above it unless told otherwise (--max-reject-share,
# --allow-rejects); :meth:`asn_eval.data.Dataset.check_reject_share` applies it.
MAX_REJECT_SHARE = 0.10

# The five chapters, in report order: (notebook file stem, chapter key). Chapter ``key`` is
# rendered by class ``key.capitalize()`` of module ``asn_eval.report.chapters.<key>`` and
# computed by ``asn_eval.analysis.<key>`` where it has an analysis of its own.
CHAPTERS: tuple[tuple[str, str], ...] = (
    ("01_introduction", "introduction"),
    ("02_policies", "policies"),
    ("03_impact", "impact"),
    ("04_challenges", "challenges"),
    ("05_conclusion", "conclusion"),
)

# The module that draws estimator results (``result.plot()``), imported by name when a plot
# is first asked for, as pandas finds its plotting backend: estimation never imports drawing
# code, and a researcher may point this at a module of their own with the same functions
# (``event_study``, ``bacon``, ``its``, ``dose_response``).
PLOT_BACKEND = "asn_eval.report.plots"

# How a cohort column codes units never treated in the window (R's did: ``gname`` 0).
NEVER_TREATED = 0
