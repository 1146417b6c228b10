"""The ``asn-eval`` parser and the ``report`` and ``notebooks`` commands.

``validate`` and ``synth`` are in :mod:`asn_eval.cli.data`; every command runs inside
:func:`asn_eval.cli.guard.run_guarded`, which gives the exit statuses of
:func:`~asn_eval.cli.guard.exit_status`. Help texts are in the ``cli.help`` templates, in
the language of ``--lang`` or else the locale (:func:`asn_eval.cli.guard.requested_language`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asn_eval import __version__
from asn_eval.cli.guard import (
    EXIT_OK,
    EXIT_USER,
    argparse_language,
    command_parser,
    help_words,
    language,
    option_groups,
    requested_language,
    run_guarded,
    share,
)


def _add_report_arguments(parser: argparse.ArgumentParser, lang: str) -> None:
    from asn_eval.config import DEFAULT_DATA_DIR, DEFAULT_SEED, LANGUAGES, MAX_REJECT_SHARE

    words = help_words(lang, "report")
    office, researcher = option_groups(parser, lang)
    office.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, metavar="DIR",
                        help=words("data"))  # fmt: skip
    office.add_argument("--year", type=int, default=None, metavar="YYYY", help=words("year"))
    office.add_argument("--out", type=Path, default=None, metavar="DIR", help=words("out"))
    # No default here: a --lang before the command counts too, and without either main
    # takes the report's default language (the sub-command's default_lang).
    office.add_argument("--lang", type=language, choices=LANGUAGES, default=None,
                        help=words("lang"))  # fmt: skip
    researcher.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help=words("seed", seed=DEFAULT_SEED))  # fmt: skip
    researcher.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                            help=words("notebooks"))  # fmt: skip
    limit = words("max_reject_share", default=f"{MAX_REJECT_SHARE:.2f}")
    researcher.add_argument("--max-reject-share", type=share, default=MAX_REJECT_SHARE,
                            metavar="SHARE", help=limit)  # fmt: skip
    researcher.add_argument("--allow-rejects", action="store_true", help=words("allow_rejects"))
    researcher.add_argument("--previous", type=Path, default=None, metavar="DIR",
                            help=words("previous"))  # fmt: skip
    researcher.add_argument("--no-previous", action="store_true", help=words("no_previous"))
    researcher.add_argument("-q", "--quiet", action="store_true", help=words("quiet"))
    researcher.add_argument("-v", "--verbose", action="store_true", help=words("verbose"))
    researcher.add_argument("--log-file", type=Path, default=None, metavar="FILE",
                            help=words("log_file"))  # fmt: skip
    researcher.add_argument("--jobs", type=int, default=None, metavar="N", help=words("jobs"))
    researcher.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                            help=words("param"))  # fmt: skip


def _run_report(args: argparse.Namespace) -> int:
    from asn_eval.analysis import parse_params
    from asn_eval.config import DEFAULT_LANGUAGE, NOTEBOOKS_DIR
    from asn_eval.report.build import build_report
    from asn_eval.report.errors import ReportError
    from asn_eval.report.progress import Progress

    # The report has a language (Indonesian unless --lang says otherwise): its messages
    # follow it, whatever the locale, so that an Indonesian report never narrates in English.
    messages = args.lang = args.lang or DEFAULT_LANGUAGE
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
    from asn_eval.config import NOTEBOOKS_DIR
    from asn_eval.report.errors import ReportError
    from asn_eval.report.kernels import refresh_committed_notebooks

    try:
        refresh_committed_notebooks(args.notebooks or NOTEBOOKS_DIR)
    except ReportError as error:
        message = str(error).replace("{partial}/notebooks/", "")
        print(f"asn-eval notebooks: {message}", file=sys.stderr)
        return error.exit_code
    return EXIT_OK


def build_parser(lang: str | None = None) -> argparse.ArgumentParser:
    """The ``asn-eval`` parser, its help in ``lang`` (default: the locale's language)."""
    from asn_eval.cli import data as data_layer
    from asn_eval.config import DEFAULT_LANGUAGE, LANGUAGES
    from asn_eval.report.progress import message_language

    lang = message_language(lang)
    words = help_words(lang, "main")
    parser = command_parser(argparse.ArgumentParser, lang, "main", prog="asn-eval")
    parser.add_argument("--lang", dest="top_lang", type=language, choices=LANGUAGES,
                        default=None, help=help_words(lang)("lang_top"))  # fmt: skip
    parser.add_argument("--version", action="version", version=f"asn-eval {__version__}",
                        help=help_words(lang)("version"))  # fmt: skip
    commands = parser.add_subparsers(
        title=words("commands"), dest="command", metavar="COMMAND", required=True
    )

    def add(name: str, run) -> argparse.ArgumentParser:
        sub = command_parser(commands.add_parser, lang, name, name=name,
                             help=help_words(lang, name)("summary"))  # fmt: skip
        sub.set_defaults(run=run)
        return sub

    report = add("report", _run_report)
    _add_report_arguments(report, lang)
    report.set_defaults(default_lang=DEFAULT_LANGUAGE)
    validate = add("validate", data_layer.run_validate)
    data_layer.add_validate_arguments(validate, lang)
    validate.set_defaults(default_lang=None)
    data_layer.add_synth_arguments(add("synth", data_layer.run_synth), lang)
    notebooks = add("notebooks", _run_notebooks)
    _, researcher = option_groups(notebooks, lang)
    researcher.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                            help=help_words(lang, "notebooks")("notebooks"))  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from asn_eval.report.progress import message_language

    lang = message_language(requested_language(argv))
    parser = build_parser(lang)
    with argparse_language(lang):  # its errors in the language of the help
        args = parser.parse_args(argv)
    if hasattr(args, "lang"):
        # --lang after the command wins; one before it counts for the command too; without
        # either, report speaks its report's language and validate the locale's.
        args.lang = args.lang or args.top_lang or args.default_lang
    return run_guarded(args.run, args, command=f"asn-eval {args.command}")


if __name__ == "__main__":
    sys.exit(main())
