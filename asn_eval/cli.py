"""Command line: ``asn-eval report | validate | synth | notebooks`` (also ``python -m asn_eval``).

Errors a user can fix (a bad data file, a failing chapter) are printed as one paragraph
on stderr with a non-zero exit status, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asn_eval import __version__

EXIT_REPORT_FAILED = 1


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    from asn_eval.pipeline import DEFAULT_DATA_DIR, DEFAULT_LANG, DEFAULT_SEED, LANGUAGES

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
        choices=LANGUAGES,
        default=DEFAULT_LANG,
        help="report language: id = Bahasa Indonesia (default), en = English",
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


def _run_report(args: argparse.Namespace) -> int:
    from asn_eval.pipeline import NOTEBOOKS_DIR, ReportError, build_report

    try:
        build_report(
            data_dir=args.data,
            year=args.year,
            lang=args.lang,
            seed=args.seed,
            out_dir=args.out,
            notebooks_dir=args.notebooks or NOTEBOOKS_DIR,
            progress=lambda line: print(line, flush=True),
        )
    except ReportError as error:
        print(f"asn-eval report: {error}", file=sys.stderr)
        return EXIT_REPORT_FAILED
    return 0


def _run_notebooks(args: argparse.Namespace) -> int:
    from asn_eval.pipeline import NOTEBOOKS_DIR, ReportError, refresh_committed_notebooks

    try:
        refresh_committed_notebooks(args.notebooks or NOTEBOOKS_DIR)
    except ReportError as error:
        message = str(error).replace("{partial}/notebooks/", "")
        print(f"asn-eval notebooks: {message}", file=sys.stderr)
        return EXIT_REPORT_FAILED
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asn-eval",
        description=(
            "Evaluate the effect of personnel policy on ASN performance and build the annual "
            "report (Indonesian by default, English with --lang en)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"asn-eval {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    report = commands.add_parser(
        "report",
        help="build the annual report (HTML, PDF, figures, tables) from a data folder",
        description="Run the five chapter notebooks on a data folder and write the report.",
    )
    _add_report_arguments(report)
    report.set_defaults(run=_run_report)

    validate = commands.add_parser(
        "validate",
        help="check a data folder against the data contract and list rejected rows",
        description="Check a data folder against the data contract (see data/README.md).",
    )
    synth = commands.add_parser(
        "synth",
        help="generate a synthetic Kupang-like dataset with known true effects",
        description="Generate a synthetic dataset with known true effects.",
    )
    from asn_eval import data as data_layer

    data_layer.add_validate_arguments(validate)
    validate.set_defaults(run=data_layer.run_validate)
    data_layer.add_synth_arguments(synth)
    synth.set_defaults(run=data_layer.run_synth)

    notebooks = commands.add_parser(
        "notebooks",
        help="re-execute the committed notebooks in place on the default data",
        description="Re-execute notebooks/ in place with their default parameters.",
    )
    notebooks.add_argument("--notebooks", type=Path, default=None, metavar="DIR")
    notebooks.set_defaults(run=_run_notebooks)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
