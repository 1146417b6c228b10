"""Last year beside this year: the headline estimates of an earlier report and of this one.

Pure functions on what two report folders hold: :func:`read_previous` reads an earlier
report's ``results.json`` and ``manifest.json``; :func:`compare` pairs the headline records
of both by policy, outcome and estimator and computes each change and whether the verdict or
its standing changed; :func:`method_differences` lists what differs between the two runs
(input files, the asn-eval version, analysis parameters), because a change in an estimate
can then come from the data or the method rather than from the policy.

Nothing here re-estimates anything or writes a file; the conclusion chapter renders the
result (:meth:`asn_eval.report.chapters.conclusion.Conclusion.section_comparison`).

Examples
--------
>>> from asn_eval.results.store import ResultRecord
>>> then = ResultRecord(policy="training_programme", outcome="skp_good_share",
...                     estimator="Callaway-Sant'Anna", estimate=0.02, ci_low=-0.01,
...                     ci_high=0.05, n_agencies=40, p_value_few_cluster=0.2)
>>> now = ResultRecord(policy="training_programme", outcome="skp_good_share",
...                    estimator="Callaway-Sant'Anna", estimate=0.06, ci_low=0.02,
...                    ci_high=0.10, n_agencies=43, p_value_few_cluster=0.01,
...                    pretrend_status="passed")
>>> row = compare([then], [now]).rows[0]
>>> round(row.change, 2), row.verdict_changed
(0.04, True)
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from asn_eval.results.store import RESULTS_FILE, load_results

MANIFEST_FILE = "manifest.json"
# Manifest parameters that name the run rather than its method: a different year, language
# or folder is expected between two annual reports and is no difference in method.
RUN_PARAMETERS: frozenset[str] = frozenset(
    {"data_dir", "year", "lang", "output_dir", "previous_dir"}
)
# Package whose version is compared: the code that decides the numbers.
PACKAGE = "asn-eval"


class PreviousReportError(ValueError):
    """A folder given as the previous report cannot be read as one."""


@dataclass(frozen=True)
class PreviousReport:
    """What an earlier report folder holds for a comparison.

    Attributes
    ----------
    folder
        The report folder.
    records
        Every record of its ``results.json``.
    manifest
        Its ``manifest.json`` (empty when the folder has none).
    year
        Its report year, from the manifest's parameters (None when unknown).
    """

    folder: Path
    records: tuple = ()
    manifest: Mapping[str, Any] = field(default_factory=dict)
    year: int | None = None


def read_previous(folder: str | Path) -> PreviousReport:
    """Read an earlier report's ``results.json`` and ``manifest.json``.

    Raises
    ------
    PreviousReportError
        When the folder does not exist, holds no ``results.json``, or a file is unreadable.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PreviousReportError(f"The previous report folder {folder} does not exist.")
    if not (folder / RESULTS_FILE).is_file():
        raise PreviousReportError(f"The folder {folder} holds no {RESULTS_FILE}.")
    try:
        records = tuple(load_results(folder))
    except ValueError as error:
        raise PreviousReportError(str(error)) from None
    manifest: dict[str, Any] = {}
    path = folder / MANIFEST_FILE
    if path.is_file():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise PreviousReportError(f"{path} is not valid JSON ({error}).") from None
        if not isinstance(manifest, dict):
            raise PreviousReportError(f"{path} is not an asn-eval manifest.")
    year = manifest.get("parameters", {}).get("year")
    return PreviousReport(
        folder=folder,
        records=records,
        manifest=manifest,
        year=int(year) if isinstance(year, int | float) else None,
    )


@dataclass(frozen=True)
class ComparedEstimate:
    """One headline estimate then and now (either side None when only one report has it)."""

    policy: str
    outcome: str
    estimator: str
    previous: Any = None
    current: Any = None

    @property
    def change(self) -> float | None:
        """Current minus previous estimate (in the record's unit), or None."""
        if self.previous is None or self.current is None:
            return None
        a, b = self.previous.estimate, self.current.estimate
        if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
            return None
        return float(b) - float(a)

    @property
    def verdict_changed(self) -> bool | None:
        """Whether the direction changed (None when one side is missing)."""
        if self.previous is None or self.current is None:
            return None
        return self.previous.verdict != self.current.verdict

    @property
    def standing_changed(self) -> bool | None:
        """Whether the verdict or its standing (confirmed, tentative) changed."""
        if self.previous is None or self.current is None:
            return None
        before = (self.previous.verdict, self.previous.standing)
        return before != (self.current.verdict, self.current.standing)

    @property
    def unit(self) -> str:
        return (self.current or self.previous).unit


@dataclass(frozen=True)
class Comparison:
    """The headline estimates of two reports, paired.

    Attributes
    ----------
    rows
        One :class:`ComparedEstimate` per policy, outcome and estimator of either report, in
        the current report's order, then those only the previous report has.
    differences
        Keys of what differs between the two runs (:func:`method_differences`).
    """

    rows: tuple[ComparedEstimate, ...]
    differences: tuple[str, ...] = ()

    @property
    def n_changed(self) -> int:
        """Estimates present in both whose verdict or standing changed."""
        return sum(bool(r.standing_changed) for r in self.rows)

    @property
    def n_paired(self) -> int:
        return sum(r.previous is not None and r.current is not None for r in self.rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per estimate: estimates, change, verdicts and standings, then and now."""
        out = []
        for r in self.rows:
            p, c = r.previous, r.current
            out.append(
                {
                    "policy": r.policy,
                    "outcome": r.outcome,
                    "estimator": r.estimator,
                    "unit": r.unit,
                    "estimate_previous": None if p is None else p.estimate,
                    "estimate_current": None if c is None else c.estimate,
                    "change": r.change,
                    "verdict_previous": None if p is None else p.verdict,
                    "standing_previous": None if p is None else p.standing,
                    "verdict_current": None if c is None else c.verdict,
                    "standing_current": None if c is None else c.standing,
                    "verdict_changed": r.verdict_changed,
                    "standing_changed": r.standing_changed,
                }
            )
        return pd.DataFrame(out)

    def summary(self) -> str:
        text = self.to_frame().to_string(index=False)
        diffs = ", ".join(self.differences) or "none"
        return f"{text}\n{self.n_changed} of {self.n_paired} changed; differences: {diffs}"

    def _repr_html_(self) -> str:
        return self.to_frame()._repr_html_()


def _key(record: Any) -> tuple[str, str, str]:
    return (record.policy, record.outcome, record.estimator)


def compare(
    previous: Iterable[Any],
    current: Iterable[Any],
    *,
    previous_manifest: Mapping[str, Any] | None = None,
    current_manifest: Mapping[str, Any] | None = None,
) -> Comparison:
    """Pair two sets of headline records by policy, outcome and estimator.

    Both are the records each report's findings table shows (the caller selects them, e.g.
    with :func:`asn_eval.report.chapters.conclusion.findings`). ``previous_manifest`` and
    ``current_manifest`` are the two runs' manifests; given both, the comparison lists what
    differs (:func:`method_differences`).
    """
    before = {_key(r): r for r in previous}
    rows = []
    seen = set()
    for record in current:
        key = _key(record)
        seen.add(key)
        rows.append(ComparedEstimate(*key, previous=before.get(key), current=record))
    rows += [ComparedEstimate(*k, previous=r) for k, r in before.items() if k not in seen]
    differences: tuple[str, ...] = ()
    if previous_manifest is not None or current_manifest is not None:
        differences = method_differences(previous_manifest or {}, current_manifest or {})
    levels = {r.level for r in list(before.values()) + [r.current for r in rows if r.current]}
    if len(levels) > 1 and "level" not in differences:
        differences += ("level",)
    return Comparison(rows=tuple(rows), differences=differences)


def method_differences(previous: Mapping[str, Any], current: Mapping[str, Any]) -> tuple[str, ...]:
    """What differs between two runs, from their manifests.

    Returns keys, in this order: ``"manifest"`` (a manifest is missing, so nothing can be
    compared), ``"inputs"`` (the input files' sha256 differ: new or corrected data),
    ``"version"`` (the asn-eval version), then one ``"parameter:<name>"`` per analysis
    parameter set differently (the run's year, language and folders do not count). A
    parameter one run set and the other left at its default counts as different.
    """
    if not previous or not current:
        return ("manifest",)
    found = []
    if previous.get("inputs") != current.get("inputs"):
        found.append("inputs")
    version = [m.get("packages", {}).get(PACKAGE) for m in (previous, current)]
    if version[0] != version[1]:
        found.append("version")
    params = [
        {k: v for k, v in m.get("parameters", {}).items() if k not in RUN_PARAMETERS}
        for m in (previous, current)
    ]
    for name in sorted(set(params[0]) | set(params[1])):
        if params[0].get(name) != params[1].get(name):
            found.append(f"parameter:{name}")
    return tuple(found)


def previous_year_folder(out_dir: str | Path, year: int) -> Path | None:
    """The default previous report: ``<year-1>-<suffix>`` beside ``<year>-<suffix>``.

    ``reports/2025-id`` looks for ``reports/2024-id``; returns it when it holds a
    ``results.json``, else None (also for an output folder not named ``<year>-...``).
    """
    out_dir = Path(out_dir)
    prefix = f"{int(year)}"
    if not out_dir.name.startswith(prefix):
        return None
    candidate = out_dir.parent / f"{int(year) - 1}{out_dir.name[len(prefix) :]}"
    return candidate if (candidate / RESULTS_FILE).is_file() else None
