"""Time the estimator calls inside a chapter kernel (loaded by ``report_scale.py``).

``report_scale.py`` points ``IPYTHONDIR`` at a temporary folder whose startup script runs
this file in every kernel it starts. The public estimators of :mod:`asn_eval.estimators` are
replaced, in every module that holds them, by a wrapper that appends one JSON line per
outermost call (name, wall-clock start and end, process id) to the file named by
``ASN_EVAL_BENCH_LOG``. Nested estimator calls (``event_study`` calling ``att_gt``) are
counted once, in the outermost call. The overhead is two clock reads and one small write per
call, so the timings of the chapters are not distorted the way a profiler would distort them.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time

CHAPTER_MARK = "__chapter__"


def _install(log_path: str) -> None:
    import asn_eval.estimators as estimators

    names = [
        name
        for name in estimators.__all__
        if callable(getattr(estimators, name)) and not isinstance(getattr(estimators, name), type)
    ]
    depth = [0]
    pid = os.getpid()

    def wrap(name, func):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            if depth[0]:
                return func(*args, **kwargs)
            depth[0] += 1
            start = time.time()
            try:
                return func(*args, **kwargs)
            finally:
                end = time.time()
                depth[0] -= 1
                with open(log_path, "a", encoding="utf-8") as handle:
                    handle.write(
                        json.dumps({"fn": name, "t0": start, "t1": end, "pid": pid}) + "\n"
                    )

        timed.__asn_eval_bench_original__ = func
        return timed

    # Which chapter this kernel runs (chapters may run side by side): every notebook opens
    # its chapter once, so the first open_chapter names the kernel's process.
    import asn_eval.report.chapters as chapters

    open_chapter = chapters.open_chapter

    @functools.wraps(open_chapter)
    def named_open_chapter(name, *args, **kwargs):
        now = time.time()
        with open(log_path, "a", encoding="utf-8") as handle:
            line = {"fn": CHAPTER_MARK, "chapter": name, "t0": now, "t1": now, "pid": pid}
            handle.write(json.dumps(line) + "\n")
        return open_chapter(name, *args, **kwargs)

    chapters.open_chapter = named_open_chapter

    originals = {name: getattr(estimators, name) for name in names}
    wrappers = {id(func): wrap(name, func) for name, func in originals.items()}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("asn_eval") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if id(value) in wrappers and callable(value):
                setattr(module, attr, wrappers[id(value)])


_LOG = os.environ.get("ASN_EVAL_BENCH_LOG")
if _LOG:
    _install(_LOG)
