"""``results.json``: every estimate the report states, with the verdict its prose used.

Each chapter saves its results with :func:`save_results`; the conclusion reads them all with
:func:`load_results` and builds its findings table from them, so no number is copied by hand.
The file is deterministic: records sorted by chapter, policy, outcome and estimator, keys
sorted, floats rounded to :data:`SIGNIFICANT_DIGITS` significant digits, NaN written as
``null``. Saving a chapter replaces that chapter's records and keeps the others.

Examples
--------
>>> rec = ResultRecord(policy="training_programme", outcome="skp_good_share",
...                    estimator="Callaway-Sant'Anna", estimate=0.06, std_error=0.02,
...                    ci_low=0.02, ci_high=0.10, p_value=0.003, n_agencies=40,
...                    better="higher")
>>> rec.verdict
'improved'
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd

from asn_eval.domain.decision import decide

RESULTS_FILE = "results.json"
RESULTS_CSV = "results.csv"
FORMAT = "asn-eval results 1"
SIGNIFICANT_DIGITS = 6


@dataclass(frozen=True)
class ResultRecord:
    """One estimate for one policy and outcome, as the report states it.

    Parameters
    ----------
    policy
        Policy key (``training_programme``, ``performance_appraisal``, ``reward_punishment``,
        ``digitalisation``).
    outcome
        Outcome key, e.g. ``skp_good_share``.
    estimator
        Name of the estimator, e.g. ``"Callaway-Sant'Anna"``, ``"TWFE"``,
        ``"Interrupted time series"``.
    estimate, std_error, ci_low, ci_high
        Effect, standard error and confidence interval (at ``level``).
    p_value
        Conventional p-value.
    p_value_few_cluster
        Wild cluster bootstrap or randomization-inference p-value (trusted below 50 agencies).
    pretrend_p
        p-value of the joint pre-trend test (None when the design has none).
    n_agencies, n_employees
        Agencies (clusters) and employees behind the estimate (None when not employee-level).
    better
        ``"higher"`` or ``"lower"``: which direction of the outcome is an improvement.
    verdict, standing, reasons
        The one decision of :func:`asn_eval.domain.decision.decide`: direction (``improved``,
        ``worsened``, ``no_detectable_effect``), standing (``confirmed`` or ``tentative``,
        None for no detectable effect) and the reasons for a tentative standing. Computed
        from the other fields; a carried value that disagrees is an error.
    level
        Confidence level of the interval.
    unit
        ``"share"`` (shown in percentage points), ``"days"``, ``"minutes"``, ``"points"``,
        ``"jp"`` or ``""``.
    chapter
        Chapter that saved the record (set by :func:`save_results`).
    pretrend_status
        ``passed``, ``failed``, ``untestable`` (a difference-in-differences estimate whose
        test could not be run or is not calibrated), or empty when the design has no such
        test (interrupted time series).
    p_value_adjusted
        p-value adjusted for the family of estimates tested together (None if not computed).
    mde_next_year
        Smallest effect (in the estimate's units) that next year's data could detect with 80%
        power in a two-sided 5% test (None if not computed).
    subgroup_variable, subgroup_value
        For an estimate within one subgroup (chapter 4's heterogeneity): the variable and its
        value, e.g. ``age_band_start`` and ``30-39``; empty otherwise. An outcome given in
        the packed form ``"skp_good|age_band_start=30-39"`` is split into these fields.
    event_times_below, event_times_above
        Event times from adoption on (0 = the adoption year) whose simultaneous confidence
        band in the event study lies wholly below or wholly above zero: dynamic effects the
        overall number may hide. Empty when the design has no event study.
    """

    policy: str
    outcome: str
    estimator: str
    estimate: float
    std_error: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_value_few_cluster: float | None = None
    pretrend_p: float | None = None
    n_agencies: int | None = None
    n_employees: int | None = None
    better: str = "higher"
    verdict: str | None = None
    level: float = 0.95
    unit: str = ""
    chapter: str = ""
    pretrend_status: str = ""
    p_value_adjusted: float | None = None
    mde_next_year: float | None = None
    standing: str | None = None
    reasons: tuple[str, ...] = ()
    subgroup_variable: str = ""
    subgroup_value: str = ""
    event_times_below: tuple[int, ...] = ()
    event_times_above: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if "|" in self.outcome:
            outcome, _, subgroup = self.outcome.partition("|")
            variable, _, value = subgroup.partition("=")
            object.__setattr__(self, "outcome", outcome)
            object.__setattr__(self, "subgroup_variable", variable)
            object.__setattr__(self, "subgroup_value", value)
        decision = decide(self)
        for name in ("verdict", "standing"):
            carried = getattr(self, name)
            if carried not in (None, "", getattr(decision, name)):
                raise ValueError(
                    f"Result for {self.policy} on {self.outcome} carries the {name} "
                    f"{carried!r}, but its numbers say {getattr(decision, name)!r}."
                )
        object.__setattr__(self, "verdict", decision.verdict)
        object.__setattr__(self, "standing", decision.standing)
        object.__setattr__(self, "reasons", decision.reasons)
        for name in ("n_agencies", "n_employees"):
            value = getattr(self, name)
            if value is not None and not _is_nan(value):
                object.__setattr__(self, name, int(value))

    @classmethod
    def from_estimate_table(
        cls,
        result: Any,
        *,
        policy: str,
        row: int | str = 0,
        outcome: str | None = None,
        better: str = "higher",
        n_agencies: int | None = None,
        n_employees: int | None = None,
        p_value_few_cluster: float | None = None,
        pretrend_p: float | None = None,
        pretrend_status: str = "",
        unit: str = "",
    ) -> ResultRecord:
        """Record one row of an :class:`asn_eval.estimators.results.EstimateTable`.

        ``row`` is a position or an index label of ``result.params``.
        """
        label = result.params.index[row] if isinstance(row, int) else row
        ci = result.conf_int()
        return cls(
            policy=policy,
            outcome=outcome or result.outcome,
            estimator=result.method,
            estimate=float(result.params[label]),
            std_error=float(result.std_errors[label]),
            ci_low=float(ci.loc[label, "ci_low"]),
            ci_high=float(ci.loc[label, "ci_high"]),
            p_value=float(result.pvalues[label]),
            p_value_few_cluster=p_value_few_cluster,
            pretrend_p=pretrend_p,
            pretrend_status=pretrend_status,
            n_agencies=n_agencies,
            n_employees=n_employees,
            better=better,
            level=result.level,
            unit=unit,
        )

    @property
    def key(self) -> tuple[str, ...]:
        return (
            self.chapter,
            self.policy,
            self.outcome,
            self.estimator,
            self.subgroup_variable,
            self.subgroup_value,
        )


def _is_nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _round(x: Any) -> Any:
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, float):
        if not math.isfinite(x):
            return None  # JSON has no NaN or infinity
        return float(f"{x:.{SIGNIFICANT_DIGITS}g}")
    return x


def _to_json(record: ResultRecord) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else _round(v) for k, v in asdict(record).items()}


def _from_json(entry: dict[str, Any]) -> ResultRecord:
    known = {f.name for f in fields(ResultRecord)}
    values = {k: v for k, v in entry.items() if k in known}
    for name in ("reasons", "event_times_below", "event_times_above"):
        values[name] = tuple(values.get(name) or ())
    return ResultRecord(**values)


def as_stored(record: ResultRecord) -> ResultRecord:
    """``record`` as ``results.json`` holds it: floats at :data:`SIGNIFICANT_DIGITS`
    significant digits, NaN as None. A chapter that shows a record it has just saved reads it
    this way, so that it shows what later chapters load."""
    return _from_json(_to_json(record))


def load_results(output_dir: str | Path) -> list[ResultRecord]:
    """All records in ``output_dir/results.json`` (empty list if there is no file yet)."""
    data = _read_results(output_dir)
    return [] if data is None else [_from_json(entry) for entry in data["records"]]


def _read_results(output_dir: str | Path) -> dict | None:
    """The checked content of ``output_dir/results.json``, or None when there is none."""
    path = Path(output_dir) / RESULTS_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path} is not valid JSON ({err.msg} at line {err.lineno}); delete it and run "
            "the chapters again to rebuild it."
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(
            f"{path} is not an asn-eval results file (expected format {FORMAT!r}); delete it "
            "and run the chapters again to rebuild it."
        )
    return data


def _write_results(folder: Path, records: list[ResultRecord], decisions: list[dict]) -> None:
    """Write results.json (under the caller's folder lock) through a temporary file and a
    rename, so a reader never sees half a file."""
    content: dict[str, Any] = {"format": FORMAT, "records": [_to_json(r) for r in records]}
    if decisions:
        content["policy_decisions"] = decisions
    text = json.dumps(content, sort_keys=True, indent=2, ensure_ascii=False)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".results-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    os.replace(tmp, folder / RESULTS_FILE)


def save_results(
    output_dir: str | Path, records: Iterable[ResultRecord], chapter: int | str
) -> Path:
    """Write ``records`` as chapter ``chapter``'s results, keeping other chapters' records.

    Returns the path of ``results.json``. Two records of one chapter may not share policy,
    outcome and estimator: the findings table would not know which to show.
    """
    chapter = str(chapter)
    new = [replace(r, chapter=chapter) for r in records]
    seen: set[tuple[str, ...]] = set()
    for record in new:
        if record.key in seen:
            raise ValueError(
                f"Chapter {chapter} saves two results for policy {record.policy!r}, outcome "
                f"{record.outcome!r} and estimator {record.estimator!r}"
                + (
                    f" in subgroup {record.subgroup_variable}={record.subgroup_value}"
                    if record.subgroup_variable
                    else ""
                )
                + "; give them distinct outcome or estimator names."
            )
        seen.add(record.key)
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESULTS_FILE
    # Chapters that run side by side save into the same file: the read, merge and write
    # happen under an exclusive lock on the folder, so no chapter's records are lost.
    with _folder_lock(folder):
        kept = [r for r in load_results(output_dir) if r.chapter != chapter]
        merged = sorted(kept + new, key=lambda r: r.key)
        # Without policy_decisions: they follow from the records, and chapter 5 decides
        # them again from these (save_policy_decisions).
        _write_results(folder, merged, [])
        write_results_csv(folder, merged)
    return path


def load_policy_decisions(output_dir: str | Path) -> list[dict]:
    """The ``policy_decisions`` of ``output_dir/results.json`` (empty when none yet): one
    entry per policy (:meth:`asn_eval.domain.policy_decision.PolicyDecision.as_dict`)."""
    data = _read_results(output_dir)
    return [] if data is None else list(data.get("policy_decisions", []))


def save_policy_decisions(output_dir: str | Path, decisions: Iterable[Mapping]) -> Path:
    """Write the one decision per policy into ``results.json`` beside the records."""
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with _folder_lock(folder):
        _write_results(folder, load_results(folder), [dict(d) for d in decisions])
    return folder / RESULTS_FILE


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``folder`` itself (no lock file is left behind)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: chapters run one at a time there
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_results_csv(output_dir: str | Path, records: Iterable[ResultRecord]) -> Path:
    """Write ``results.csv``: the records of ``results.json`` as a flat table, one column per
    field (``reasons`` joined with ``;``), UTF-8, decimal point, same rounding."""
    from asn_eval.common.csv_safety import write_csv_safely

    frame = results_frame(records)
    for col in ("reasons", "event_times_below", "event_times_above"):
        frame[col] = [";".join(str(v) for v in values) for values in frame[col]]
    for col in frame.columns:
        frame[col] = [_round(v) if isinstance(v, float) else v for v in frame[col]]
    for col in ("n_agencies", "n_employees"):  # counts stay integers beside empty cells
        frame[col] = pd.array(frame[col].tolist(), dtype="Int64")
    path = Path(output_dir) / RESULTS_CSV
    handle, tmp = tempfile.mkstemp(dir=Path(output_dir), prefix=".results-", suffix=".csv")
    os.close(handle)
    write_csv_safely(frame, tmp, lineterminator="\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def results_schema() -> dict[str, Any]:
    """The JSON Schema of ``results.json`` (``asn_eval/results/schemas/results.schema.json``)."""
    from importlib.resources import files

    text = files("asn_eval.results").joinpath("schemas", "results.schema.json").read_text("utf-8")
    return json.loads(text)


def results_frame(records: Iterable[ResultRecord]) -> pd.DataFrame:
    """The records as a tidy DataFrame, one row per record, columns in field order."""
    columns = [f.name for f in fields(ResultRecord)]
    return pd.DataFrame([asdict(r) for r in records], columns=columns)
