"""Build the annual report: the orchestrator of one run, from the data check to the folder.

``build_report`` checks the arguments, the output folder and the data, then runs the
chapters and assembles the documents. Each step has its own module:

- :mod:`asn_eval.report.errors`: the run's errors, each with the key of its words;
- :mod:`asn_eval.report.output_folder`: which folders a report may replace, and the run as a
  transaction (built in a folder beside the output folder and moved into place only when
  every chapter has run and every document is written, so a failed run never damages a
  previous complete report; the partial build is kept in ``<out>.failed/``);
- :mod:`asn_eval.report.manifest`: ``manifest.json``;
- :mod:`asn_eval.report.kernels`: a chapter notebook run in a kernel by papermill;
- :mod:`asn_eval.report.schedule`: which chapters run when;
- :mod:`asn_eval.report.document`: ``report.html`` and ``report.pdf``;
  :mod:`asn_eval.report.word`: ``report.docx``, from the same HTML;
- :mod:`asn_eval.report.datapackage` and :mod:`asn_eval.report.workbook`: ``datapackage.json``
  and the workbook, from the tables the chapters saved.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import datetime
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
    REPORTS_DIR,
)
from asn_eval.report import output_folder
from asn_eval.report.errors import ReportError, ReportInputError, output_refusal
from asn_eval.report.kernels import ReportParams, running_kernel_spec
from asn_eval.report.manifest import write_manifest
from asn_eval.report.progress import Progress, as_progress, elapsed, kernel_progress, message
from asn_eval.report.schedule import chapter_jobs, run_chapters


def default_output_dir(year: int, lang: str) -> Path:
    return REPORTS_DIR / f"{year}-{lang}"


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

    Writes the executed notebooks, ``report.html``, ``report.pdf``, ``report.docx``,
    ``manifest.json``, ``datapackage.json`` and the workbook, the marker
    ``.asn-eval-report`` and whatever the chapters save (figures/, tables/, results.json).

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
        build_dir = output_folder.new_build_folder(out_dir)
    except OSError as error:
        raise ReportInputError(
            f"The output folder {out_dir} cannot be written: {error.strerror or error}. "
            "Nothing was changed. Choose a folder you can write to with --out.",
            key="output_unwritable",
            values={"folder": out_dir, "detail": error.strerror or error},
        ) from None
    run_id = output_folder.start_run(build_dir)
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
        output_folder.finish_run(build_dir, run_id=run_id, status="complete")
        try:  # the folder may have gained someone's files while the chapters ran
            _checked_output(out_dir, data_dir, notebooks_dir)
        except ReportInputError as error:
            raise ReportInputError(
                f"{error} The finished report was kept in {{partial}} instead."
            ) from None
    except ReportError as error:
        failed_dir = output_folder.keep_failed_build(build_dir, out_dir, run_id=run_id)
        message = str(error).replace("{partial}", str(failed_dir))
        previous = (
            f" The previous report in {out_dir} was left untouched." if out_dir.exists() else ""
        )
        raise type(error)(message + previous) from None
    except BaseException:
        output_folder.keep_failed_build(build_dir, out_dir, run_id=run_id)
        raise

    output_folder.move_into_place(build_dir, out_dir)
    output_folder.remove_failed_folders(out_dir)
    rows, cells = (fmt_number(n, report.lang, 0) for n in dataset.set_aside_counts())
    report.say("rejects", rows=rows, cells=cells, path=out_dir / REJECTS_FILE)
    report.say("ready", seconds=elapsed(started), path=out_dir / "report.html")
    return out_dir


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
    out_dir = out_dir.resolve()
    try:
        output_folder.check_report_folder(out_dir, data_dir=data_dir, notebooks_dir=notebooks_dir)
    except output_folder.OutputFolderError as error:
        raise output_refusal(error, out_dir) from None
    return out_dir
