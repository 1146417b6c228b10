"""Build the annual report: execute the five chapter notebooks and assemble the documents.

The run is transactional. Everything is built in a temporary folder beside the output
folder and moved into place only when every chapter has run and every document is
written, so a failed run never damages a previous complete report; the partial build is
kept (``<out>.failed/``) for debugging.

The output folder is checked before any work starts (:mod:`asn_eval.report.output_folder`): a report
replaces only a new or empty folder or an earlier asn-eval report, never a folder with a
user's files, the data folder, or the current folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from asn_eval.common.formatting import fmt_number
from asn_eval.common.memory import release_memory
from asn_eval.config import (
    CHAPTERS,
    DEFAULT_DATA_DIR,
    DEFAULT_LANGUAGE,
    DEFAULT_SEED,
    LANGUAGES,
    MAX_REJECT_SHARE,
    NOTEBOOKS_DIR,
    PROJECT_ROOT,
    REPORTS_DIR,
)
from asn_eval.report.progress import (
    Progress,
    as_progress,
    cell_hooks,
    elapsed,
    kernel_progress,
    message,
)

# Packages whose versions go into the manifest: they decide the numbers and the look.
KEY_PACKAGES = (
    "asn-eval",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "matplotlib",
    "seaborn",
    "lifelines",
    "pandera",
    "papermill",
    "nbclient",
    "ipykernel",
    "babel",
    "weasyprint",
)

KERNEL_NAME = "asn-eval-run"


class ReportError(RuntimeError):
    """A report could not be built; ``str()`` is one paragraph meant for the user.

    ``exit_code`` is what the command line returns: 1 here (asn-eval failed, e.g. a chapter
    notebook raised), 2 for :class:`ReportInputError`. ``key`` and ``values`` name the same
    message in the templates (``cli.errors.<key>``), so the command can print it in the
    user's language (:meth:`localized`); ``str()`` stays English. A message of the data layer
    (a :class:`~asn_eval.data.DataError`) comes as ``text``, the function that writes it in a
    language.
    """

    exit_code = 1

    def __init__(
        self,
        message: str = "",
        *,
        key: str | None = None,
        values: dict | None = None,
        text: Callable[[str], str] | None = None,
    ):
        super().__init__(message)
        self.key = key
        self.values = dict(values or {})
        self.text = text

    def localized(self, lang: str) -> str:
        """The message in ``lang``: from the templates when it has a key, else ``str()``."""
        if lang == "en":
            return str(self)
        if self.text is not None:
            return self.text(lang)
        if self.key is None:
            return str(self)
        from asn_eval.report.progress import message

        text = message(f"errors.{self.key}", lang, **self.values)
        return text if "\n" in text else " ".join(text.split())


class ReportInputError(ReportError):
    """The user's input or arguments are wrong (data, year, folders); exit status 2."""

    exit_code = 2


@dataclass(frozen=True)
class ReportParams:
    """Parameters passed to every chapter notebook.

    ``analysis`` holds the analysis options set with ``--param`` (fields of
    :class:`asn_eval.analysis.AnalysisSpec`); a notebook receives those it declares in its
    parameters cell, the others keep the defaults written there.
    """

    data_dir: str
    year: int
    lang: str
    seed: int
    output_dir: str
    analysis: tuple[tuple[str, Any], ...] = ()
    previous_dir: str = ""

    def as_notebook_parameters(self) -> dict:
        values = asdict(self)
        values.pop("analysis")
        if not values["previous_dir"]:  # the notebook's default: no earlier report
            values.pop("previous_dir")
        return {**values, **dict(self.analysis)}


def default_output_dir(year: int, lang: str) -> Path:
    return REPORTS_DIR / f"{year}-{lang}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_hashes(data_dir: Path) -> dict[str, str]:
    """sha256 of every input file in the data folder, by path relative to it (sorted).

    Sub-folders that asn-eval wrote (a report or a build folder, recognised by their
    marker file) are not inputs and are skipped.
    """
    from asn_eval.report.output_folder import prune_marked

    files = []
    for root, dirs, names in os.walk(data_dir):
        prune_marked(dirs, root)
        files.extend(Path(root) / name for name in names if (Path(root) / name).is_file())
    files.sort()
    return {p.relative_to(data_dir).as_posix(): sha256_file(p) for p in files}


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(root: Path = PROJECT_ROOT) -> str | None:
    """The checked-out commit (with ``-dirty`` when the tree has changes), or None."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}-dirty" if dirty else commit


@contextmanager
def running_kernel_spec() -> Iterator[str]:
    """A kernelspec for the running interpreter, visible only to this process.

    Papermill looks kernels up by name; registering one globally would tie the report
    to whatever that name points at on the machine. Instead a private spec naming
    ``sys.executable`` is put first on JUPYTER_PATH for the duration of the run.
    """
    with tempfile.TemporaryDirectory(prefix="asn-eval-kernel-") as tmp:
        spec_dir = Path(tmp) / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [
                sys.executable,
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
                # The kernel only talks to this process on loopback; its transport
                # warning would read as a problem in the report log.
                "--IPKernelApp.log_level=CRITICAL",
            ],
            "display_name": "Python (asn-eval report)",
            "language": "python",
            "env": {"PYTHONHASHSEED": "0"},
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        previous = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [tmp, previous]))
        try:
            yield KERNEL_NAME
        finally:
            if previous is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = previous


def _first_line(text: str, limit: int = 300) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def execute_notebook(
    source: Path,
    target: Path,
    *,
    parameters: dict | None,
    kernel_name: str,
    chapter_label: str,
    hooks: dict[str, Callable[..., None]] | None = None,
) -> None:
    """Run one notebook with papermill; failures become a one-paragraph ReportError.

    ``hooks`` are nbclient's cell and notebook hooks (e.g. ``on_cell_start``), which
    papermill hands to its notebook client: the run's progress uses them.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name=kernel_name,
            language="python",
            cwd=str(source.parent),
            progress_bar=False,
            log_output=False,
            report_mode=False,
            **(hooks or {}),
        )
    except PapermillExecutionError as error:
        code_cell = _code_cell_number(target, error.cell_index)
        raise ReportError(
            f"Chapter {chapter_label} failed in code cell {code_cell} "
            f"(cell {error.cell_index + 1} of {source.name}): {error.ename}: "
            f"{_first_line(error.evalue)}. The partly executed notebook is kept at "
            f"{{partial}}/notebooks/{target.name} for debugging."
        ) from None


def _code_cell_number(notebook_path: Path, cell_index: int) -> int:
    """1-based position of a cell among the code cells, as a reader counts them."""
    import nbformat

    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
    except (OSError, ValueError):
        return cell_index + 1
    return sum(1 for cell in nb.cells[: cell_index + 1] if cell.cell_type == "code")


def clean_notebook_metadata(path: Path) -> None:
    """Drop run times papermill writes, so re-executed notebooks differ only in content."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, str(path))


def declared_parameters(notebook: Path, values: dict) -> dict:
    """The ``values`` that ``notebook`` declares in its parameters cell (papermill would add
    the others as undeclared variables and warn)."""
    import nbformat
    import papermill

    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError, nbformat.ValidationError):  # the run will say what is wrong
        return dict(values)
    if nb.metadata.get("kernelspec", {}).get("name"):
        declared = papermill.inspect_notebook(str(notebook))
    else:  # papermill infers the language from the kernel; the run names its own kernel
        nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "language": "python"}
        with tempfile.TemporaryDirectory(prefix="asn-eval-inspect-") as tmp:
            path = Path(tmp) / notebook.name
            nbformat.write(nb, str(path))
            declared = papermill.inspect_notebook(str(path))
    return {name: value for name, value in values.items() if name in declared}


def check_inputs(
    data_dir: Path,
    *,
    max_reject_share: float = MAX_REJECT_SHARE,
    allow_rejects: bool = False,
    progress: Progress | None = None,
):
    """Load and validate the data before any chapter runs, so a bad file stops the run early.

    Returns the loaded :class:`asn_eval.data.Dataset`, backed by the columnar cache of
    :func:`asn_eval.data.cache.validated_dataset` (its tables are read only when used; its
    years and metadata decide the report year and the cover page). ``max_reject_share`` and
    ``allow_rejects`` are the rejected-rows threshold: the share of a table's rows that may
    be rejected before the run stops, and whether to build anyway. A damaged data cache is
    rebuilt, and ``progress`` says so in one line in its language (default: English on
    stderr).
    """
    from asn_eval.data import DataError
    from asn_eval.data.cache import validated_dataset
    from asn_eval.report.chapters.base import CACHE_DIR

    if not data_dir.is_dir():
        raise ReportInputError(
            f"The data folder {data_dir} does not exist. Point --data at the folder that holds "
            "the exported tables (see data/README.md).",
            key="data_missing",
            values={"folder": data_dir},
        )
    on_damage = None
    if progress is not None:

        def on_damage(damaged) -> None:
            reason = message(f"cache_damage.{damaged.reason}", progress.lang)
            progress.say("cache_damaged", file=damaged.file, reason=reason, folder=data_dir)

    try:
        # Parsed and validated once per data version: the validated, pseudonymised tables go
        # to a private columnar cache (Parquet, keyed by the files' content and the loader's
        # code), which the chapter kernels read; this process keeps only the account.
        dataset = validated_dataset(data_dir, cache_dir=CACHE_DIR, on_damage=on_damage)
    except DataError as error:
        raise ReportInputError(str(error), text=error.text) from None
    release_memory()  # the parsed raw tables: this process keeps only the account
    # The one place where the loaded dataset is judged before any chapter runs: a table with
    # more rejected rows than max_reject_share stops the run, unless allow_rejects.
    if not allow_rejects:
        try:
            dataset.check_reject_share(max_reject_share)
        except DataError as error:

            def said(lang: str, error: DataError = error) -> str:
                return f"{error.text(lang)}\n\n{dataset.summary(lang)}"

            raise ReportInputError(said("en"), text=said) from None
    return dataset


REJECTS_FILE = "rejects.csv"


def _write_rejects(build_dir: Path, dataset, lang: str) -> None:
    """Every rejected row and set-aside value, without the values themselves, in ``lang``.

    A report folder is handed on, and a rejected value may be personal data (a birth date),
    so the report lists file, line, column and rule; ``asn-eval validate`` shows values.
    """
    from asn_eval.data.io import write_csv_safely
    from asn_eval.data.validate import rejects_table

    rejects = dataset.rejects.drop(columns=["value"], errors="ignore")
    write_csv_safely(rejects_table(rejects, lang), build_dir / REJECTS_FILE, index=False)


def resolve_year(dataset, year: int | None) -> int:
    """The requested year, which the data must cover, or the latest year of the dataset."""
    if year is None:
        return int(max(dataset.years))
    if int(year) not in dataset.years:
        raise ReportInputError(
            f"The data cover {min(dataset.years)}-{max(dataset.years)} (metadata.yaml, "
            f"'years'), not {year}. Pass a year inside that range with --year, or extend "
            "'years' in metadata.yaml if the files hold that year.",
            key="year_outside",
            values={"first": min(dataset.years), "last": max(dataset.years), "year": year},
        )
    return int(year)


def build_report(
    *,
    data_dir: Path | str = DEFAULT_DATA_DIR,
    year: int | None = None,
    lang: str = DEFAULT_LANGUAGE,
    seed: int = DEFAULT_SEED,
    out_dir: Path | str | None = None,
    notebooks_dir: Path | str = NOTEBOOKS_DIR,
    max_reject_share: float = MAX_REJECT_SHARE,
    allow_rejects: bool = False,
    analysis: dict[str, Any] | None = None,
    previous_dir: Path | str | None = None,
    compare_previous: bool = True,
    progress: Progress | Callable[[str], None] | None = print,
    messages: str | None = None,
    jobs: int | None = None,
) -> Path:
    """Execute the chapters and write the report folder; returns its path.

    Writes the executed notebooks, ``report.html``, ``report.pdf``, ``manifest.json``,
    the marker ``.asn-eval-report`` and whatever the chapters save (figures/, tables/,
    results.json).

    ``previous_dir`` is an earlier report to compare with (chapter 5, "Compared with last
    year"); by default (None) the report for the year before in the folder beside
    ``out_dir`` (``reports/2024-id`` beside ``reports/2025-id``) when it exists;
    ``compare_previous=False`` compares with none. ``progress`` receives the run's
    messages (a :class:`asn_eval.report.progress.Progress`, or a function given each line) in
    ``messages`` (default: the report's language). ``jobs`` is how many of chapters 1-4
    run at once (:func:`chapter_jobs`; default: two on a machine with two cores or more
    when the data are small enough, else one, and one when the progress is verbose); the
    conclusion always runs last.

    Raises
    ------
    ReportInputError
        Before any work starts, when the arguments, the data or the output folder are
        wrong: ``out_dir`` may be a new folder, an empty one, or an earlier asn-eval
        report, and must lie outside the data folder; an explicit ``previous_dir`` must
        hold an asn-eval report's ``results.json``.
    ReportError
        When a chapter fails; the partial build is kept in ``<out>.failed/``.
    """
    if lang not in LANGUAGES:
        raise ReportInputError(f"Unknown language {lang!r}: use one of {', '.join(LANGUAGES)}.")
    if jobs is not None and int(jobs) < 1:
        raise ReportInputError(f"--jobs must be 1 or more, not {jobs}.")
    from asn_eval.engine import engine_setting

    try:  # the chapter kernels inherit it: a wrong name stops the run before any work
        engine_setting()
    except ValueError as error:
        raise ReportInputError(str(error)) from None
    report = as_progress(progress, messages or lang)
    if jobs is None and report.verbose:
        jobs = 1  # each cell's line then belongs to the one chapter running
    data_dir = Path(data_dir).resolve()
    notebooks_dir = Path(notebooks_dir).resolve()
    started = time.monotonic()
    sources = _chapter_sources(notebooks_dir)
    if out_dir is not None:
        out_dir = _checked_output(Path(out_dir), data_dir, notebooks_dir)
    if previous_dir is not None and compare_previous:
        previous_dir = checked_previous(Path(previous_dir), year=year)
    report.say("checking", folder=data_dir)
    dataset = check_inputs(
        data_dir, max_reject_share=max_reject_share, allow_rejects=allow_rejects, progress=report
    )
    year = resolve_year(dataset, year)
    if out_dir is None:
        out_dir = _checked_output(default_output_dir(year, lang), data_dir, notebooks_dir)
    if previous_dir is None and compare_previous:
        from asn_eval.results.comparison import previous_year_folder

        previous_dir = previous_year_folder(out_dir, year)
        try:  # found, not named: one that cannot be read is left out rather than stop the run
            previous_dir = previous_dir and checked_previous(previous_dir, year=year)
        except ReportInputError:
            previous_dir = None
    if not compare_previous:
        previous_dir = None
    if previous_dir is not None:
        report.say("previous", folder=previous_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        build_dir = _new_build_folder(out_dir)
    except OSError as error:
        raise ReportInputError(
            f"The output folder {out_dir} cannot be written: {error.strerror or error}. "
            "Nothing was changed. Choose a folder you can write to with --out.",
            key="output_unwritable",
            values={"folder": out_dir, "detail": error.strerror or error},
        ) from None
    run_id = _start_run(build_dir)
    _write_rejects(build_dir, dataset, lang)
    params = ReportParams(
        data_dir=str(data_dir),
        year=year,
        lang=lang,
        seed=int(seed),
        output_dir=str(build_dir),
        analysis=tuple(sorted((analysis or {}).items())),
        previous_dir=str(previous_dir or ""),
    )
    try:
        # The manifest does not depend on the chapters: written first, the conclusion reads
        # it to compare this run's data and methods with the previous report's.
        write_manifest(build_dir, params=params, data_dir=data_dir, run_id=run_id)
        with (
            running_kernel_spec() as kernel_name,
            tempfile.TemporaryDirectory(prefix="asn-eval-progress-") as progress_folder,
            kernel_progress(Path(progress_folder), report),
        ):
            run_chapters(
                sources,
                build_dir=build_dir,
                params=params,
                kernel_name=kernel_name,
                report=report,
                jobs=chapter_jobs(dataset, jobs),
            )
        report.say("assembling")
        from asn_eval.report.document import write_documents

        write_documents(build_dir, params=params, metadata=dataset.metadata)
        write_manifest(build_dir, params=params, data_dir=data_dir, run_id=run_id)
        _finish_run(build_dir, run_id=run_id, status="complete")
        try:  # the folder may have gained someone's files while the chapters ran
            _checked_output(out_dir, data_dir, notebooks_dir)
        except ReportInputError as error:
            raise ReportInputError(
                f"{error} The finished report was kept in {{partial}} instead."
            ) from None
    except ReportError as error:
        failed_dir = _keep_failed_build(build_dir, out_dir, run_id=run_id)
        message = str(error).replace("{partial}", str(failed_dir))
        previous = (
            f" The previous report in {out_dir} was left untouched." if out_dir.exists() else ""
        )
        raise type(error)(message + previous) from None
    except BaseException:
        _keep_failed_build(build_dir, out_dir, run_id=run_id)
        raise

    _move_into_place(build_dir, out_dir)
    from asn_eval.report.output_folder import remove_failed_folders

    remove_failed_folders(out_dir)
    rows, cells = (fmt_number(n, report.lang, 0) for n in dataset.set_aside_counts())
    report.say("rejects", rows=rows, cells=cells, path=out_dir / REJECTS_FILE)
    report.say("ready", seconds=elapsed(started), path=out_dir / "report.html")
    return out_dir


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
            execute_notebook(
                source,
                target,
                parameters=declared_parameters(source, params.as_notebook_parameters()),
                kernel_name=kernel_name,
                chapter_label=f"{number} ({key}, {source.name})",
                hooks=cell_hooks(report) if alone else None,
            )
        finally:
            if alone:
                report.close_bar()
        clean_notebook_metadata(target)
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


def checked_previous(folder: Path, *, year: int | None = None) -> Path:
    """The resolved folder of the previous report, or a ReportInputError saying why not."""
    from asn_eval.results.comparison import PreviousReportError, read_previous
    from asn_eval.results.store import RESULTS_FILE

    folder = folder.resolve()
    values = {"folder": folder, "year": year or datetime.now().year}
    if not folder.is_dir():
        raise ReportInputError(
            f"The previous report folder {folder} does not exist. Point --previous at the "
            f"folder of an earlier asn-eval report (e.g. reports/{values['year'] - 1}-id).",
            key="previous_missing",
            values=values,
        )
    if not (folder / RESULTS_FILE).is_file():
        raise ReportInputError(
            f"The folder {folder} holds no results.json, so it is not an asn-eval report to "
            "compare with. Point --previous at the folder of an earlier report.",
            key="previous_no_results",
            values=values,
        )
    try:
        read_previous(folder)
    except PreviousReportError as error:
        raise ReportInputError(
            f"The previous report in {folder} cannot be read: {error}",
            key="previous_invalid",
            values={**values, "detail": error},
        ) from None
    return folder


def _chapter_sources(notebooks_dir: Path) -> list[Path]:
    """The five chapter notebooks, all of which must exist before the run starts."""
    sources = [notebooks_dir / f"{stem}.ipynb" for stem, _ in CHAPTERS]
    missing = [source for source in sources if not source.exists()]
    if missing:
        names = ", ".join(s + ".ipynb" for s, _ in CHAPTERS)
        raise ReportInputError(
            f"The chapter notebook {missing[0]} is missing; the report needs all five "
            f"chapters ({names}). Point --notebooks "
            "at the folder that holds them, or leave it out to use the project's notebooks.",
            key="notebook_missing",
            values={"path": missing[0], "names": names},
        )
    return sources


def _checked_output(out_dir: Path, data_dir: Path, notebooks_dir: Path) -> Path:
    """The resolved output folder, or a ReportInputError when a report there could lose files."""
    from asn_eval.report.output_folder import OutputFolderError, check_report_folder

    out_dir = out_dir.resolve()
    try:
        check_report_folder(out_dir, data_dir=data_dir, notebooks_dir=notebooks_dir)
    except OutputFolderError as error:
        raise output_refusal(error, out_dir) from None
    return out_dir


def output_refusal(error: Exception, out: Path, *, option: str = "--out") -> ReportInputError:
    """An output-folder refusal as a :class:`ReportInputError` that any command can print in
    the user's language (:meth:`ReportError.localized`)."""
    return ReportInputError(
        str(error),
        key=_refusal_key(str(error)),
        values={"option": option, "out": out, "detail": str(error)},
    )


def _refusal_key(text: str) -> str:
    """The template of an output-folder refusal (:mod:`asn_eval.report.output_folder` words it in
    English): a file, a folder with someone's files, the data folder, or any other
    (``output_refused``, which keeps the English detail after a translated lead)."""
    if " is a file, not a folder; " in text:
        return "output_file"
    if "that asn-eval did not write" in text:
        return "output_foreign"
    if "the data folder" in text and (
        "is the data folder" in text
        or "inside the data" in text
        or "contains the data folder" in text
    ):
        return "output_data"
    return "output_refused"


def _new_build_folder(out_dir: Path) -> Path:
    """A fresh build folder beside ``out_dir`` whose mode follows the umask (not mkdtemp's 0700)."""
    from asn_eval.report.output_folder import make_build_folder

    build_dir = make_build_folder(out_dir.parent, out_dir.name, kind="build")
    (build_dir / "notebooks").mkdir()
    return build_dir


def _start_run(build_dir: Path) -> str:
    """Mark the build folder as asn-eval's from the start; returns the run id."""
    from asn_eval.report.output_folder import new_run_id, write_marker

    run_id = new_run_id()
    write_marker(build_dir, run_id=run_id, status="building")
    return run_id


def _finish_run(build_dir: Path, *, run_id: str, status: str) -> None:
    """List every file of the run in its marker and give the tree the umask's modes."""
    from asn_eval.report.output_folder import follow_umask, write_marker

    write_marker(build_dir, run_id=run_id, status=status)
    follow_umask(build_dir)


def _keep_failed_build(build_dir: Path, out_dir: Path, *, run_id: str) -> Path:
    """Move a failed build to ``<out>.failed`` (or the next free name); returns where."""
    from asn_eval.report.output_folder import failed_folder

    failed_dir = failed_folder(out_dir)
    if build_dir.exists():
        _finish_run(build_dir, run_id=run_id, status="failed")
        build_dir.rename(failed_dir)
    return failed_dir


def _move_into_place(build_dir: Path, out_dir: Path) -> None:
    """Swap the finished build in; the old report is removed only after the swap."""
    from asn_eval.report.output_folder import unused_name

    old = None
    if out_dir.exists():
        old = unused_name(out_dir.parent, out_dir.name, kind="old")
        out_dir.rename(old)
    build_dir.rename(out_dir)
    if old is not None:
        shutil.rmtree(old)
    _rewrite_build_paths(out_dir, build_dir)


def _rewrite_build_paths(out_dir: Path, build_dir: Path) -> None:
    """Executed notebooks record the temporary output folder; point them at the final one."""
    for path in (out_dir / "notebooks").glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        if str(build_dir) in text:
            path.write_text(text.replace(str(build_dir), str(out_dir)), encoding="utf-8")
    manifest = out_dir / "manifest.json"
    if manifest.exists():
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text.replace(str(build_dir), str(out_dir)), encoding="utf-8")


def write_manifest(
    build_dir: Path, *, params: ReportParams, data_dir: Path, run_id: str | None = None
) -> Path:
    manifest = {
        "run_id": run_id,
        "parameters": params.as_notebook_parameters(),
        "inputs": input_hashes(data_dir),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "git_commit": git_commit(),
        "chapters": [f"{stem}.ipynb" for stem, _ in CHAPTERS],
    }
    path = build_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def refresh_committed_notebooks(
    notebooks_dir: Path = NOTEBOOKS_DIR, progress: Callable[[str], None] = print
) -> None:
    """Re-execute the committed notebooks in place with their own default parameters."""
    with running_kernel_spec() as kernel_name:
        for number, (stem, key) in enumerate(CHAPTERS, start=1):
            path = notebooks_dir / f"{stem}.ipynb"
            progress(f"[{number}/{len(CHAPTERS)}] re-executing {path.name}")
            execute_notebook(
                path,
                path,
                parameters=None,
                kernel_name=kernel_name,
                chapter_label=f"{number} ({key}, {path.name})",
            )
            _restore_kernelspec(path)
            clean_notebook_metadata(path)


# The kernel `make setup` installs inside .venv (ipykernel install --sys-prefix): JupyterLab
# and VS Code offer it by this name, and committed notebooks ask for it.
PROJECT_KERNEL = {"display_name": "Python (asn-eval)", "language": "python", "name": "asn-eval"}


def _restore_kernelspec(path: Path) -> None:
    """Committed notebooks name the project's kernel, not the private one of the run."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.metadata["kernelspec"] = dict(PROJECT_KERNEL)
    nbformat.write(nb, str(path))
