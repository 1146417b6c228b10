"""Progress of a report run and the command's messages, in the user's language.

The parent process (``asn-eval report``) shows one line per chapter, and while a chapter runs
a bar with the chapter, the cell it is in, the draws of a long step and the elapsed time
(tqdm, on stderr, only when stderr is a terminal; with ``--verbose`` the same steps as plain
lines). ``--quiet`` prints nothing on success; ``--log-file`` receives every line with its
time, whatever is printed.

The long steps of chapter 3 (bootstrap and permutation draws) run inside the notebook's
kernel, another process. They report through a file: the run names a JSON-lines file in the
environment variable :data:`PROGRESS_ENV`, which the kernel inherits;
:func:`report_draws` (or :func:`track` around a loop) appends ``{"step", "done", "total"}``
lines to it, and the parent tails the file (:class:`ProgressFile`). Nothing goes to the
notebook's output, so executed notebooks stay deterministic; without the variable (a notebook
run by hand, a test) the calls do nothing.

Messages come from the ``cli`` group of the templates (:mod:`asn_eval.report.narrative`):
Indonesian or English by :func:`message_language`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from asn_eval.common.draws import PROGRESS_ENV, report_draws, track  # noqa: F401  (the kernel side)

# How often the parent reads the progress file, in seconds.
POLL_SECONDS = 0.25


def locale_language(environ: Mapping[str, str] | None = None) -> str | None:
    """``"id"`` when the locale is Indonesian (LC_ALL, LC_MESSAGES or LANG, the first one
    set, starts with ``id``), ``"en"`` when it is set to something else, None when unset.

    Examples
    --------
    >>> locale_language({"LANG": "id_ID.UTF-8"}), locale_language({"LC_ALL": "C.UTF-8"})
    ('id', 'en')
    """
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "id" if value.lower().startswith("id") else "en"
    return None


def message_language(lang: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language of the command's messages: ``lang`` when the user chose one with
    ``--lang``, else Indonesian when the locale is Indonesian, else English.

    Examples
    --------
    >>> message_language("id", {}), message_language(None, {"LANG": "id_ID.UTF-8"})
    ('id', 'id')
    >>> message_language(None, {"LANG": "en_US.UTF-8"})
    'en'
    """
    if lang:
        return lang
    return "id" if locale_language(environ) == "id" else "en"


def message(key: str, lang: str, **values: Any) -> str:
    """The command's message ``cli.<key>`` in ``lang``, filled in."""
    from asn_eval.report import narrative

    return narrative.text(f"cli.{key}", lang, **values)


class Progress:
    """Where a run's messages and progress go.

    Parameters
    ----------
    lang
        Language of the messages (``"id"`` or ``"en"``).
    quiet
        Print nothing (the log file still receives every line).
    verbose
        Also print each cell and each tenth of a long step's draws as plain lines.
    log_file
        A file that receives every line with its time (appended to).
    out, err
        Streams for the lines (default stdout) and the bar (default stderr).
    bar
        Show a tqdm bar on ``err``; default: when ``err`` is a terminal and not ``quiet``.
    line
        Instead of printing, hand each line to this function (the library's old
        ``progress=`` callable).
    """

    def __init__(
        self,
        *,
        lang: str = "en",
        quiet: bool = False,
        verbose: bool = False,
        log_file: str | Path | None = None,
        out: IO[str] | None = None,
        err: IO[str] | None = None,
        bar: bool | None = None,
        line: Callable[[str], None] | None = None,
    ) -> None:
        self.lang = lang
        self.quiet = bool(quiet)
        self.verbose = bool(verbose) and not self.quiet
        self._out = out
        self._err = err
        self._line = line
        self._log = open(log_file, "a", encoding="utf-8") if log_file else None  # noqa: SIM115
        if bar is None:
            stream = self.err
            bar = not self.quiet and line is None and hasattr(stream, "isatty") and stream.isatty()
        self.use_bar = bool(bar)
        self._bar = None
        self._chapter = ""
        self._cell = ""
        self._lock = threading.Lock()

    @property
    def out(self) -> IO[str]:
        return self._out or sys.stdout

    @property
    def err(self) -> IO[str]:
        return self._err or sys.stderr

    # --- lines ----------------------------------------------------------------------
    def log(self, text: str) -> None:
        """One line to the log file only (e.g. the error the command prints on stderr)."""
        if self._log is not None:
            stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            self._log.write(f"{stamp} {text}\n")
            self._log.flush()

    def emit(self, text: str, *, detail: bool = False) -> None:
        """One line: printed unless quiet (``detail`` lines only when verbose), always logged."""
        with self._lock:
            self.log(text)
            if self.quiet or (detail and not self.verbose):
                return
            if self._line is not None:
                self._line(text)
            elif self._bar is not None:
                from tqdm import tqdm

                tqdm.write(text, file=self.out)
            else:
                print(text, file=self.out, flush=True)

    def say(self, key: str, **values: Any) -> None:
        """The message ``cli.<key>`` as one line."""
        self.emit(message(key, self.lang, **values))

    # --- a chapter --------------------------------------------------------------------
    def chapter(
        self, number: int, total: int, *, chapter: str, notebook: str, bar: bool = True
    ) -> None:
        """A chapter starts: its line, and a bar over its cells (not with ``bar=False``, for
        chapters that run side by side)."""
        self.say("chapter", number=number, total=total, chapter=chapter, notebook=notebook)
        if not bar:
            return
        self._chapter = message("bar", self.lang, number=number, total=total)
        if self.use_bar:
            from tqdm import tqdm

            self._bar = tqdm(
                total=None,
                desc=self._chapter,
                file=self.err,
                leave=False,
                bar_format="{desc}{postfix} [{elapsed}]",
            )

    def cell(self, number: int, count: int) -> None:
        """The chapter's code cell ``number`` of ``count`` starts."""
        self._cell = message("cell", self.lang, cell=number, cells=count)
        self.emit(f"      {self._cell}", detail=True)
        self._update(self._cell)

    def draws(self, step: str, done: int, total: int) -> None:
        """A long step inside the kernel reached ``done`` of ``total`` draws."""
        words = message(f"steps.{step}" if step in _STEPS else "steps.draws", self.lang)
        text = message("draws", self.lang, step=words, done=done, total=total)
        self.emit(f"      {self._cell}: {text}" if self._cell else f"      {text}", detail=True)
        self._update(f"{self._cell}, {text}" if self._cell else text)

    def chapters_together(self, chapters: list[tuple[int, str]], *, total: int, jobs: int) -> None:
        """Chapters ``(number, title)`` start side by side, ``jobs`` at a time: one line
        naming them all, in report order."""
        self.say(
            "chapters_together",
            first=chapters[0][0],
            last=chapters[-1][0],
            total=total,
            chapters=", ".join(f"{number}. {title}" for number, title in chapters),
            jobs=jobs,
        )

    def chapter_done(
        self, seconds: float, *, number: int | None = None, chapter: str | None = None
    ) -> None:
        """A chapter ended; with ``number`` (chapters running side by side) the line names
        it by its number and title, as the report does."""
        if number is not None:
            text = message(
                "chapter_done_named",
                self.lang,
                number=number,
                chapter=chapter,
                seconds=f"{seconds:.0f}",
            )
            self.emit("      " + text)
            return
        self.close_bar()
        self._cell = ""
        self.emit("      " + message("chapter_done", self.lang, seconds=f"{seconds:.0f}"))

    def _update(self, postfix: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(postfix, refresh=True)

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        self.close_bar()
        if self._log is not None:
            self._log.close()
            self._log = None


_STEPS = ("bootstrap", "permutation")


def as_progress(progress: Progress | Callable[[str], None] | None, lang: str) -> Progress:
    """A :class:`Progress` for ``build_report``'s ``progress=``: itself, or one that hands
    each line to a callable (None: print)."""
    if isinstance(progress, Progress):
        return progress
    return Progress(lang=lang, line=progress, bar=False)


# --- in the parent ----------------------------------------------------------------------
class ProgressFile:
    """Tail the kernel's progress file in a thread and hand each entry to ``progress``."""

    def __init__(self, path: Path, progress: Progress) -> None:
        self.path = Path(path)
        self.progress = progress
        self._offset = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def read(self) -> None:
        """Hand over every complete line written since the last read."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return
        end = chunk.rfind("\n")
        if end < 0:
            return
        self._offset += len(chunk[: end + 1].encode("utf-8"))
        for text in chunk[: end + 1].splitlines():
            try:
                entry = json.loads(text)
                self.progress.draws(entry["step"], int(entry["done"]), int(entry["total"]))
            except (ValueError, KeyError, TypeError):
                continue

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.read()

    def __enter__(self) -> ProgressFile:
        self._thread = threading.Thread(target=self._run, name="asn-eval-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.read()


@contextmanager
def kernel_progress(folder: Path, progress: Progress) -> Iterator[Path]:
    """Name a progress file in ``folder`` for the kernels started inside the block.

    Sets :data:`PROGRESS_ENV` (kernels inherit the environment) and tails the file; the
    variable is restored afterwards. ``folder`` should be a private temporary folder, not
    the report folder, so that the file never travels with a report.
    """
    path = Path(folder) / "progress.jsonl"
    path.touch()
    previous = os.environ.get(PROGRESS_ENV)
    os.environ[PROGRESS_ENV] = str(path)
    try:
        with ProgressFile(path, progress):
            yield path
    finally:
        if previous is None:
            os.environ.pop(PROGRESS_ENV, None)
        else:
            os.environ[PROGRESS_ENV] = previous


def cell_hooks(progress: Progress) -> dict[str, Callable[..., None]]:
    """nbclient hooks (passed through papermill) that report each code cell as it starts."""
    state = {"count": 0, "number": 0}

    def on_notebook_start(notebook: Any = None, **_: Any) -> None:
        cells = getattr(notebook, "cells", [])
        state["count"] = sum(1 for c in cells if c.get("cell_type") == "code")
        state["number"] = 0

    def on_cell_start(cell: Any = None, **_: Any) -> None:
        if cell is None or cell.get("cell_type") != "code":
            return
        state["number"] += 1
        progress.cell(state["number"], state["count"])

    return {"on_notebook_start": on_notebook_start, "on_cell_start": on_cell_start}


def elapsed(started: float) -> str:
    """Whole seconds since ``started`` (a :func:`time.monotonic` value)."""
    return f"{time.monotonic() - started:.0f}"
