"""Long loops announce their progress to whoever listens: the draws protocol.

A bootstrap or a permutation test inside a chapter kernel can take minutes. The estimators
report how far they are with :func:`report_draws` / :func:`track`, which append one JSON line
to the file named by the environment variable :data:`PROGRESS_ENV` and do nothing when it is
unset; the report run (:mod:`asn_eval.report.progress`) sets the variable and reads the file.
So estimation knows only this protocol, never the report's progress display.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

PROGRESS_ENV = "ASN_EVAL_PROGRESS_FILE"
# The kernel writes a line when a step passes each tenth of its draws (and at its end).
DRAW_STEPS = 10

T = TypeVar("T")


def report_draws(step: str, done: int, total: int) -> None:
    """Tell the report run that a long step reached ``done`` of ``total`` draws.

    Appends one JSON line to the file named by :data:`PROGRESS_ENV`; does nothing when the
    variable is unset, and never fails the analysis (a progress file that cannot be written
    is ignored). ``step`` is ``"bootstrap"`` or ``"permutation"``.
    """
    path = os.environ.get(PROGRESS_ENV)
    if not path:
        return
    entry = {"step": str(step), "done": int(done), "total": int(total)}
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
    except OSError:
        pass


def track(iterable: Iterable[T], *, step: str, total: int) -> Iterator[T]:
    """Yield from ``iterable``, reporting each tenth of ``total`` draws (:func:`report_draws`).

    For the loops of long steps, e.g. ``for b in track(range(n_perm), step="permutation",
    total=n_perm)``. Without :data:`PROGRESS_ENV` it only yields.
    """
    if not os.environ.get(PROGRESS_ENV) or total <= 0:
        yield from iterable
        return
    marks = {max(1, round(total * k / DRAW_STEPS)) for k in range(1, DRAW_STEPS + 1)}
    report_draws(step, 0, total)
    for done, item in enumerate(iterable, start=1):
        yield item
        if done in marks:
            report_draws(step, done, total)
