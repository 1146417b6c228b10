"""Time the whole report at a given number of employees: per chapter, per section, estimators.

```
python benchmarks/report_scale.py --employees 3000
python benchmarks/report_scale.py --employees 120000
python benchmarks/report_scale.py --employees 1000000 --timeout 2400
```

The synthetic dataset (``asn_eval.data.write_dataset``) is written once per number of
employees and seed under ``--cache`` (default ``~/.cache/asn-eval-bench``, outside the
repository) and reused afterwards. The report is built with
:func:`asn_eval.report.build.build_report` into a temporary folder, which is removed.

What is measured, written to ``benchmarks/results/report-<N>.json``:

- wall time of the data check in the parent, of every chapter and of the document assembly
  (from the pipeline's progress messages, time-stamped here);
- wall time of every code cell of every chapter (papermill's cell timings, read before the
  pipeline strips them), labelled by the section it shows or the heading above it;
- peak memory: the resident set size of this process and every descendant (the chapter
  kernels), summed, sampled every 0.2 s in a thread; reported per phase, per cell and over
  the run. RSS counts shared pages once per process, so the sum is an upper bound;
- the estimators' share: every outermost call of a public :mod:`asn_eval.estimators`
  function inside the kernels is timed by a wrapper installed at kernel start
  (``_kernel_timer.py``), and its wall time is summed per cell, chapter and run. The
  pipeline's time outside the estimators is the rest.

With ``--timeout`` the run is stopped after that many seconds; the JSON then records the
chapter and the cell that were running and the time and memory reached.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

DEFAULT_CACHE = Path.home() / ".cache" / "asn-eval-bench"
SAMPLE_SECONDS = 0.2
GB = 1024**3


class MemorySampler(threading.Thread):
    """Sum of RSS over this process and its descendants, every ``interval`` seconds."""

    def __init__(self, interval: float = SAMPLE_SECONDS, *, limit_gb=None, on_limit=None):
        super().__init__(daemon=True)
        self.interval = interval
        self.limit = limit_gb * GB if limit_gb else None
        self.on_limit = on_limit
        self.samples: list[tuple[float, int, int]] = []  # (time, tree rss, parent rss)
        self._halt = threading.Event()
        self._me = psutil.Process(os.getpid())

    def run(self) -> None:
        while not self._halt.is_set():
            total = 0
            parent = 0
            try:
                parent = self._me.memory_info().rss
                total = parent
                for child in self._me.children(recursive=True):
                    try:
                        total += child.memory_info().rss
                    except (psutil.NoSuchProcess, psutil.AccessDenied):
                        pass
            except psutil.NoSuchProcess:
                pass
            self.samples.append((time.time(), total, parent))
            if self.limit is not None and total > self.limit and self.on_limit is not None:
                self.on_limit()
                return
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        if threading.current_thread() is not self:
            self.join()

    def peak(self, start: float = 0.0, end: float = float("inf")) -> float | None:
        """Peak tree RSS (GB) between two wall-clock times; None without a sample there."""
        values = [total for t, total, _ in self.samples if start <= t <= end]
        if not values:
            # A phase shorter than the interval: the nearest sample before it.
            before = [total for t, total, _ in self.samples if t <= end]
            values = before[-1:]
        return round(max(values) / GB, 3) if values else None

    def parent_peak(self) -> float | None:
        values = [parent for _, _, parent in self.samples]
        return round(max(values) / GB, 3) if values else None


def dataset_folder(n_employees: int, seed: int, cache: Path) -> tuple[Path, float | None]:
    """The cached synthetic dataset for (n, seed), written first if missing; (folder, seconds)."""
    from asn_eval.data import write_dataset

    folder = cache / f"employees-{n_employees}-seed-{seed}"
    done = folder / ".complete"
    if done.exists():
        return folder, None
    tic = time.monotonic()
    write_dataset(folder, n_employees=n_employees, seed=seed, overwrite=True)
    done.write_text(datetime.now().isoformat() + "\n", encoding="utf-8")
    return folder, round(time.monotonic() - tic, 1)


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _cell_label(source: str, heading: str) -> str:
    shown = re.search(r"ch\.show\(\s*[\"'](\w+)[\"']", source)
    if shown:
        return f"show:{shown.group(1)}"
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return f"{heading} | {first[:60]}"


def notebook_cells(path: Path) -> list[dict]:
    """Code cells of an executed notebook with papermill's start and end times."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    heading = "(top)"
    cells = []
    code_number = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            line = next((x for x in cell.source.splitlines() if x.startswith("#")), None)
            if line:
                heading = line.lstrip("#").strip()[:60]
            continue
        if cell.cell_type != "code":
            continue
        code_number += 1
        meta = cell.metadata.get("papermill", {})
        cells.append(
            {
                "cell": code_number,
                "label": _cell_label(cell.source, heading),
                "start": _epoch(meta.get("start_time")),
                "end": _epoch(meta.get("end_time")),
                "status": meta.get("status"),
            }
        )
    return cells


def read_estimator_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    calls = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            calls.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by a stopped run
            pass
    return calls


CHAPTER_MARK = "__chapter__"  # _kernel_timer.py's line naming a kernel's chapter


def _split_log(lines: list[dict]) -> tuple[list[dict], dict[int, str]]:
    """Estimator calls, and the chapter each kernel process ran (pid -> chapter key)."""
    chapter_of = {line["pid"]: line["chapter"] for line in lines if line["fn"] == CHAPTER_MARK}
    return [line for line in lines if line["fn"] != CHAPTER_MARK], chapter_of


def _estimator_seconds(calls: list[dict], start: float, end: float) -> float:
    """Estimator time inside [start, end] (calls clipped to the window)."""
    total = 0.0
    for call in calls:
        total += max(0.0, min(call["t1"], end) - max(call["t0"], start))
    return total


def _by_function(calls: list[dict], start: float, end: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for call in calls:
        seconds = max(0.0, min(call["t1"], end) - max(call["t0"], start))
        if seconds > 0:
            out[call["fn"]] = out.get(call["fn"], 0.0) + seconds
    return {name: round(value, 2) for name, value in sorted(out.items(), key=lambda kv: -kv[1])}


class Recorder:
    """Collects progress messages, executed-notebook cell timings and the phase boundaries."""

    def __init__(self):
        self.events: list[tuple[float, str]] = []
        self.notebooks: dict[str, list[dict]] = {}
        self.build_dirs: set[Path] = set()

    def progress(self, message: str) -> None:
        self.events.append((time.time(), message))
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    def phases(self, finished: float) -> list[dict]:
        """(name, start, end) of the data check, each chapter and the assembly.

        A chapter ends at its own "chapter N (key) done in" line when chapters run side by
        side, else at the "done in" line that follows its start line.
        """
        phases = []
        named_ends = {}
        for stamp, message in self.events:
            done = re.match(r"\s*chapter (\d) \((\w+)\) done in", message)
            if done:
                named_ends[done.group(1)] = stamp
        for index, (stamp, message) in enumerate(self.events):
            end = self.events[index + 1][0] if index + 1 < len(self.events) else finished
            chapter = re.match(r"\[(\d)/\d\] chapter \d \((\w+)\)", message)
            if message.startswith("Checking the data"):
                name = "check inputs (parent)"
            elif chapter:
                name = f"chapter {chapter.group(1)} ({chapter.group(2)})"
                end = named_ends.get(chapter.group(1), end)
            elif message.startswith("Assembling"):
                name = "assemble report.html and report.pdf (parent)"
            else:
                continue
            phases.append({"phase": name, "start": stamp, "end": end})
        return phases


def install_hooks(recorder: Recorder) -> None:
    """Keep papermill's cell timings: the pipeline strips them from the executed notebooks."""
    from asn_eval.report import kernels

    original = kernels.clean_notebook_metadata

    def keep_then_clean(path):
        path = Path(path)
        recorder.notebooks[path.stem] = notebook_cells(path)
        recorder.build_dirs.add(path.parent.parent)
        original(path)

    kernels.clean_notebook_metadata = keep_then_clean


def kernel_startup_dir(tmp: Path) -> Path:
    """An IPYTHONDIR whose startup script loads the estimator timer in every kernel."""
    ipython_dir = tmp / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    timer = HERE / "_kernel_timer.py"
    (startup / "00-asn-eval-bench.py").write_text(
        f"exec(compile(open({str(timer)!r}).read(), {str(timer)!r}, 'exec'))\n", encoding="utf-8"
    )
    return ipython_dir


def running_cell(tmp: Path) -> dict | None:
    """The chapter and cell being executed at a stop (papermill saves after every cell)."""
    candidates = sorted(tmp.rglob("notebooks/*.ipynb"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        return None
    cells = notebook_cells(candidates[-1])
    running = next((c for c in cells if c["status"] == "running"), None)
    done = [c for c in cells if c["status"] == "completed"]
    return {
        "notebook": candidates[-1].name,
        "running_cell": running,
        "cells_completed": len(done),
        "cells_total": len(cells),
    }


def summarise(
    recorder: Recorder,
    sampler: MemorySampler,
    calls: list[dict],
    *,
    started: float,
    finished: float,
) -> dict:
    calls, chapter_of = _split_log(calls)
    phases = []
    for phase in recorder.phases(finished):
        start, end = phase["start"], phase["end"]
        chapter = re.match(r"chapter \d \((\w+)\)", phase["phase"])
        # A chapter's estimator time is that of its own kernel's calls (chapters may run
        # side by side, so a time window would count the other kernel's calls too).
        own = [c for c in calls if chapter_of.get(c["pid"]) == chapter.group(1)] if chapter else []
        entry = {
            "phase": phase["phase"],
            "seconds": round(end - start, 1),
            "peak_gb": sampler.peak(start, end),
            "estimator_seconds": round(_estimator_seconds(own, start, end), 1),
        }
        if chapter:
            stem = next(
                (s for s in recorder.notebooks if s.split("_", 1)[-1] in phase["phase"]), None
            )
            cells = []
            for cell in recorder.notebooks.get(stem, []):
                if cell["start"] is None or cell["end"] is None:
                    continue
                cells.append(
                    {
                        "cell": cell["cell"],
                        "section": cell["label"],
                        "seconds": round(cell["end"] - cell["start"], 2),
                        "peak_gb": sampler.peak(cell["start"], cell["end"]),
                        "estimator_seconds": round(
                            _estimator_seconds(own, cell["start"], cell["end"]), 2
                        ),
                    }
                )
            entry["cells"] = cells
            entry["estimators"] = _by_function(own, start, end)
        phases.append(entry)
    wall = finished - started
    estimator = _estimator_seconds(calls, started, finished)
    busy = sum(phase["seconds"] for phase in phases)
    return {
        "wall_seconds": round(wall, 1),
        "peak_gb": sampler.peak(started, finished),
        "parent_peak_gb": sampler.parent_peak(),
        "estimator_seconds": round(estimator, 1),
        "estimator_share": round(estimator / wall, 3) if wall else None,
        "outside_estimators_seconds": round(wall - estimator, 1),
        # Chapters may run side by side: the phases' own durations, summed, are the time the
        # run's processes were busy; the estimators' share of that is the fairer ratio.
        "busy_seconds": round(busy, 1),
        "outside_estimators_busy_seconds": round(busy - estimator, 1),
        "estimators": _by_function(calls, started, finished),
        "phases": phases,
    }


def machine_state() -> dict:
    load1, load5, load15 = os.getloadavg()
    others = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "name", "cmdline", "cpu_percent"]):
        try:
            if proc.pid == me or "python" not in (proc.info["name"] or ""):
                continue
            cmd = " ".join(proc.info["cmdline"] or [])[:120]
            others.append(cmd)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return {
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(load1, 2), round(load5, 2), round(load15, 2)],
        "memory_total_gb": round(psutil.virtual_memory().total / GB, 1),
        "memory_available_gb": round(psutil.virtual_memory().available / GB, 1),
        "other_python_processes": len(others),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--lang", default="id")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--out", type=Path, default=None, help="JSON to write")
    parser.add_argument("--timeout", type=float, default=None, help="stop after this many s")
    parser.add_argument("--note", default="", help="free text stored in the JSON (machine load)")
    parser.add_argument(
        "--max-gb",
        type=float,
        default=None,
        help=(
            "stop the run when the build's processes together hold more than this (GB); "
            "each process's address space is also capped at it, so that an allocation too "
            "large for the machine fails with MemoryError instead of waking the OOM killer"
        ),
    )
    parser.add_argument("--jobs", type=int, default=None, help="chapters run at once")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="remove this dataset's validated columnar cache first, so the run parses and "
        "validates the raw files (an office's first run on new data)",
    )
    args = parser.parse_args(argv)

    from asn_eval.report import build as pipeline
    from asn_eval.report.manifest import git_commit

    out = args.out or HERE / "results" / f"report-{args.employees}.json"
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"Dataset for {args.employees:,} employees (seed {args.seed}) under {args.cache} ...")
    data_dir, synth_seconds = dataset_folder(args.employees, args.seed, args.cache)

    cache_state = "warm"
    from asn_eval.data.cache import PREFIX, dataset_key
    from asn_eval.report.chapters.base import CACHE_DIR

    cached = CACHE_DIR / f"{PREFIX}{dataset_key(data_dir)}"
    if args.cold or not cached.exists():
        shutil.rmtree(cached, ignore_errors=True)
        cache_state = "cold"

    tmp = Path(tempfile.mkdtemp(prefix="asn-eval-bench-"))
    log = tmp / "estimators.jsonl"
    os.environ["IPYTHONDIR"] = str(kernel_startup_dir(tmp))
    os.environ["ASN_EVAL_BENCH_LOG"] = str(log)
    recorder = Recorder()
    install_hooks(recorder)
    sampler = MemorySampler()
    before = machine_state()
    record: dict = {
        "employees": args.employees,
        "jobs": args.jobs,
        "validated_data_cache": cache_state,
        "seed": args.seed,
        "lang": args.lang,
        "dataset": str(data_dir),
        "synth_seconds": synth_seconds,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "machine_before": before,
        "note": args.note,
        "memory_method": "sum of RSS of this process and all descendants, every 0.2 s",
        "estimator_method": "wall time of outermost public asn_eval.estimators calls in kernels",
    }

    stop = threading.Event()
    halted = threading.Lock()

    def halt(reason: str, **details) -> None:
        """Stop the build, record what had been measured and where it was, and exit."""
        if not halted.acquire(blocking=False):
            return
        finished = time.time()
        sampler.stop()
        record.update(
            status=reason,
            stopped_at=running_cell(tmp),
            last_progress_line=recorder.events[-1][1] if recorder.events else None,
            **details,
            **summarise(
                recorder, sampler, read_estimator_log(log), started=started, finished=finished
            ),
        )
        record["machine_after"] = machine_state()
        _write(out, record)
        for child in psutil.Process(os.getpid()).children(recursive=True):
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"{reason}; written to {out}", flush=True)
        os._exit(3)

    def watchdog():
        if args.timeout is None or stop.wait(args.timeout):
            return
        halt("stopped by --timeout", timeout_seconds=args.timeout)

    sampler.limit = args.max_gb * GB if args.max_gb else None
    if args.max_gb:
        # The sampler thread cannot run while a long pandas call holds the GIL: a cap on the
        # address space (virtual, so above resident memory) makes the allocation fail.
        import resource

        cap = int(args.max_gb * GB)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))  # inherited by the kernels
    sampler.on_limit = lambda: halt(
        f"stopped: the build's processes held more than {args.max_gb} GB (--max-gb)",
        max_gb=args.max_gb,
    )
    started = time.time()
    sampler.start()
    threading.Thread(target=watchdog, daemon=True).start()
    try:
        pipeline.build_report(
            data_dir=data_dir,
            lang=args.lang,
            seed=args.seed,
            out_dir=tmp / "report",
            allow_rejects=True,
            progress=recorder.progress,
            messages="en",  # the phases are found from the English progress lines
            jobs=args.jobs,
        )
        record["status"] = "complete"
        report = tmp / "report"
        record["report_html_mb"] = round((report / "report.html").stat().st_size / 1e6, 1)
        pdf = report / "report.pdf"
        record["report_pdf_mb"] = round(pdf.stat().st_size / 1e6, 1) if pdf.exists() else None
    except Exception as error:  # noqa: BLE001 - a failed build is a result worth recording
        record["status"] = f"failed: {type(error).__name__}: {str(error)[:500]}"
        record["stopped_at"] = running_cell(tmp)
        record["last_progress_line"] = recorder.events[-1][1] if recorder.events else None
        if isinstance(error, MemoryError):
            record["max_gb"] = args.max_gb
        # Where in the project's code it failed (innermost frames first).
        frames = traceback.extract_tb(error.__traceback__)
        record["failed_in"] = [
            f"{Path(f.filename).relative_to(ROOT)}:{f.lineno} {f.name}: {f.line}"
            for f in reversed(frames)
            if Path(f.filename).resolve().is_relative_to(ROOT / "asn_eval")
        ][:4]
    finished = time.time()
    stop.set()
    sampler.stop()
    record.update(
        summarise(recorder, sampler, read_estimator_log(log), started=started, finished=finished)
    )
    record["machine_after"] = machine_state()
    _write(out, record)
    shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"{record['status']}: {record['wall_seconds']} s, peak {record['peak_gb']} GB, "
        f"estimators {record['estimator_seconds']} s ({record['estimator_share']:.0%}); "
        f"written to {out}"
    )
    return 0 if record["status"] == "complete" else 1


def _write(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
