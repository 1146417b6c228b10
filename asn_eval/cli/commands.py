"""The ``asn-eval`` parser and the ``report`` and ``notebooks`` commands.

``validate`` and ``synth`` are in :mod:`asn_eval.cli.data`; every command runs inside
:func:`asn_eval.cli.guard.run_guarded`, which gives the exit statuses of
:data:`~asn_eval.cli.guard.EXIT_STATUS`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asn_eval import __version__
from asn_eval.cli.guard import (
    EXIT_OK,
    EXIT_STATUS,
    EXIT_USER,
    HelpFormatter,
    language,
    run_guarded,
)


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    from asn_eval.report.build import DEFAULT_DATA_DIR, DEFAULT_LANGUAGE, DEFAULT_SEED, LANGUAGES

    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help="folder with the data tables (default: the committed synthetic dataset)",
    )
    parser.add_argument(
        "--year",
        type=int,
        default=None,
        metavar="YYYY",
        help="report year (default: the latest year in the data)",
    )
    parser.add_argument(
        "--lang",
        type=language,
        choices=LANGUAGES,
        default=DEFAULT_LANGUAGE,
        help=(
            "report language: id = Bahasa Indonesia (default), en = English, in any case "
            "(ID, En); the command's messages follow it"
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default: reports/<year>-<lang>/)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed for bootstrap and permutation draws (default: {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder with the five chapter notebooks (default: the project's notebooks/)",
    )
    parser.add_argument(
        "--max-reject-share",
        type=_share,
        default=0.10,
        metavar="SHARE",
        help="stop when more than this share of a table's rows is rejected (default: 0.10)",
    )
    parser.add_argument(
        "--allow-rejects",
        action="store_true",
        help="build the report even when more rows are rejected than --max-reject-share",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        default=None,
        metavar="DIR",
        help=(
            "an earlier report to compare with in the conclusion (default: the report for "
            "the year before beside the output folder, e.g. reports/2024-id for "
            "reports/2025-id, when it exists)"
        ),
    )
    parser.add_argument(
        "--no-previous",
        action="store_true",
        help="compare with no earlier report",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing but errors",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print each cell of a chapter and the progress of long steps",
    )
    parser.add_argument(
        "--log-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="append every progress line, with its time, to FILE",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help=(
            "run N of chapters 1-4 at once (default: 2 on a machine with two or more cores "
            "when the data are small enough to hold twice in memory, else 1; with --verbose "
            "1, so that each cell's line belongs to one chapter)"
        ),
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=(
            "set an analysis option for the whole run, e.g. --param control_group=notyet "
            "(repeatable; the options and their defaults are in the parameters cell of "
            "notebooks/03_impact.ipynb)"
        ),
    )


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1, got {text!r}")
    return value


def _run_report(args: argparse.Namespace) -> int:
    from asn_eval.analysis import parse_params
    from asn_eval.report.build import NOTEBOOKS_DIR, ReportError, build_report
    from asn_eval.report.progress import Progress

    # The report has a language (Indonesian unless --lang says otherwise): its messages
    # follow it, whatever the locale, so that an Indonesian report never narrates in English.
    messages = args.lang
    try:
        options = parse_params(args.param)
    except ValueError as error:
        print(f"asn-eval report: {error}", file=sys.stderr)
        return EXIT_USER
    try:
        progress = Progress(
            lang=messages, quiet=args.quiet, verbose=args.verbose, log_file=args.log_file
        )
    except OSError as error:
        print(
            f"asn-eval report: --log-file {args.log_file} cannot be written: "
            f"{error.strerror or error}.",
            file=sys.stderr,
        )
        return EXIT_USER
    try:
        build_report(
            analysis=options,
            data_dir=args.data,
            year=args.year,
            lang=args.lang,
            seed=args.seed,
            out_dir=args.out,
            notebooks_dir=args.notebooks or NOTEBOOKS_DIR,
            max_reject_share=args.max_reject_share,
            allow_rejects=args.allow_rejects,
            previous_dir=args.previous,
            compare_previous=not args.no_previous,
            progress=progress,
            messages=messages,
            jobs=args.jobs,
        )
    except ReportError as error:
        text = f"asn-eval report: {error.localized(messages)}"
        progress.log(text)
        print(text, file=sys.stderr)
        return error.exit_code
    finally:
        progress.close()
    return EXIT_OK


def _run_notebooks(args: argparse.Namespace) -> int:
    from asn_eval.report.build import NOTEBOOKS_DIR, ReportError, refresh_committed_notebooks

    try:
        refresh_committed_notebooks(args.notebooks or NOTEBOOKS_DIR)
    except ReportError as error:
        message = str(error).replace("{partial}/notebooks/", "")
        print(f"asn-eval notebooks: {message}", file=sys.stderr)
        return error.exit_code
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asn-eval",
        description=(
            "Evaluate the effect of personnel policy on ASN performance and build the annual "
            "report (Indonesian by default, English with --lang en)."
        ),
        epilog=EXIT_STATUS,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"asn-eval {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    report = commands.add_parser(
        "report",
        help="build the annual report (HTML, PDF, figures, tables) from a data folder",
        description=(
            "Run the five chapter notebooks on a data folder and write the report. The output "
            "folder must be new, empty, or an earlier asn-eval report: a report replaces its "
            "whole folder, so a folder with other files is refused and left untouched."
        ),
        epilog=EXIT_STATUS,
        formatter_class=HelpFormatter,
    )
    _add_report_arguments(report)
    report.set_defaults(run=_run_report)

    validate = commands.add_parser(
        "validate",
        help="check a data folder against the data contract and list rejected rows",
        description="Check a data folder against the data contract (see data/README.md).",
        epilog=EXIT_STATUS,
        formatter_class=HelpFormatter,
    )
    synth = commands.add_parser(
        "synth",
        help="generate a synthetic Kupang-like dataset with known true effects",
        description=(
            "Generate a synthetic dataset with known true effects. An existing dataset is "
            "replaced only with --force."
        ),
        epilog=EXIT_STATUS,
        formatter_class=HelpFormatter,
    )
    from asn_eval.cli import data as data_layer

    data_layer.add_validate_arguments(validate)
    validate.set_defaults(run=data_layer.run_validate)
    data_layer.add_synth_arguments(synth)
    synth.set_defaults(run=data_layer.run_synth)

    notebooks = commands.add_parser(
        "notebooks",
        help="re-execute the committed notebooks in place on the default data",
        description="Re-execute notebooks/ in place with their default parameters.",
        epilog=EXIT_STATUS,
        formatter_class=HelpFormatter,
    )
    notebooks.add_argument("--notebooks", type=Path, default=None, metavar="DIR")
    notebooks.set_defaults(run=_run_notebooks)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_guarded(args.run, args, command=f"asn-eval {args.command}")


if __name__ == "__main__":
    sys.exit(main())
