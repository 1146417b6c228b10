"""Which chapters run when: side by side where the machine and the data allow, in order.

Chapters 1-4 do not read each other's results, so they may run two at a time
(:func:`chapter_jobs` decides how many); the conclusion reads all of them and runs last
(:func:`run_chapters`). Progress lines name the chapters as the report does and end in
report order.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from asn_eval.config import CHAPTERS
from asn_eval.report import kernels
from asn_eval.report.kernels import ReportParams
from asn_eval.report.progress import Progress, cell_hooks

# Chapters 1-4 do not read each other's results, so they may run side by side; the
# conclusion reads all of them and runs last. Each running chapter holds the panels it
# builds in its own kernel, so above this many employee-years (performance rows) they run
# one at a time: memory, not cores, is then the limit.
PARALLEL_MAX_EMPLOYEE_YEARS = 2_000_000


# The order in which chapters are started when they run side by side: the longest first,
# so that the short ones fill the other core, and those in report order, so that their end
# lines, printed in report order, come out as they finish rather than all at the end.
_START_ORDER = ("impact", "introduction", "policies", "challenges")


def chapter_jobs(dataset: Any, requested: int | None = None) -> int:
    """How many chapters run at once: ``requested`` when given (at least 1), else two when
    the machine has two cores or more and the data hold at most
    :data:`PARALLEL_MAX_EMPLOYEE_YEARS` performance rows, else one."""
    if requested is not None:
        return max(1, int(requested))
    rows = 0
    quality = getattr(dataset, "quality", None)
    if quality is not None and len(quality):
        accepted = quality.set_index("table")["accepted"]
        rows = int(accepted.get("performance", 0))
    cores = os.cpu_count() or 1
    if os.name != "posix":  # results.json is locked with flock while chapters share it
        return 1
    return 2 if cores >= 2 and rows <= PARALLEL_MAX_EMPLOYEE_YEARS else 1


def run_chapters(
    sources: list[Path],
    *,
    build_dir: Path,
    params: ReportParams,
    kernel_name: str,
    report: Progress,
    jobs: int = 1,
) -> None:
    """Execute the chapter notebooks into ``build_dir/notebooks``.

    With ``jobs`` above one, chapters 1-4 run in that many kernels at once (threads, each
    driving its own kernel process) and the conclusion after them; the progress then shows
    one line naming them and, without the per-cell bar, one end line per chapter in report
    order (a chapter that ends early waits for those before it). Chapters are named as the
    report names them (``3. Dampak``), in the report's language. The first failure is
    raised once the chapters already running have stopped; chapters not started are not.
    """
    from asn_eval.report.narrative import text

    total = len(CHAPTERS)
    runs = [
        (number, key, source)
        for number, ((_stem, key), source) in enumerate(zip(CHAPTERS, sources, strict=True), 1)
    ]
    titles = {number: text(f"chapters.{key}.title", params.lang) for number, key, _ in runs}

    def run(number: int, key: str, source: Path, *, alone: bool) -> float:
        target = build_dir / "notebooks" / source.name
        if alone:
            report.chapter(number, total, chapter=titles[number], notebook=source.name)
        tic = time.monotonic()
        try:
            kernels.execute_notebook(
                source,
                target,
                parameters=kernels.declared_parameters(source, params.as_notebook_parameters()),
                kernel_name=kernel_name,
                chapter_label=f"{number} ({key}, {source.name})",
                hooks=cell_hooks(report) if alone else None,
            )
        finally:
            if alone:
                report.close_bar()
        kernels.clean_notebook_metadata(target)
        seconds = time.monotonic() - tic
        if alone:
            report.chapter_done(seconds)
        return seconds

    *first, last = runs
    if jobs <= 1:
        for number, key, source in runs:
            run(number, key, source, alone=True)
        return
    import threading
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    report.chapters_together(
        [(number, titles[number]) for number, _, _ in first], total=total, jobs=jobs
    )
    ended: dict[int, float] = {}
    pending = [number for number, _, _ in first]
    lock = threading.Lock()

    def run_beside(number: int, key: str, source: Path) -> None:
        seconds = run(number, key, source, alone=False)
        with lock:
            ended[number] = seconds
            while pending and pending[0] in ended:
                shown = pending.pop(0)
                report.chapter_done(ended[shown], number=shown, chapter=titles[shown])

    order = sorted(
        first, key=lambda r: _START_ORDER.index(r[1]) if r[1] in _START_ORDER else len(runs)
    )
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="asn-eval-chapter")
    try:
        futures = [pool.submit(run_beside, n, k, s) for n, k, s in order]
        done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f.done() and f.exception() is not None]
        if failed:
            for future in futures:
                future.cancel()
            wait(futures)
            raise failed[0].exception()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    run(*last, alone=True)
