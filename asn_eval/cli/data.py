"""Command-line hooks for ``asn-eval validate`` and ``asn-eval synth`` (argparse).

The main command line (``asn_eval.cli.commands``) adds these to its sub-parsers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from asn_eval.cli.guard import help_words, language, option_groups, share
from asn_eval.config import LANGUAGES, MAX_REJECT_SHARE
from asn_eval.data.errors import DataError

DEFAULT_VALIDATION_OUT = Path("reports") / "validation"
DEFAULT_SYNTH_OUT = Path("data") / "kupang-synthetic"


def add_validate_arguments(
    parser: argparse.ArgumentParser, lang: str = "en"
) -> argparse.ArgumentParser:
    """Arguments of ``asn-eval validate DIR``, their help in ``lang``."""
    words = help_words(lang, "validate")
    parser.add_argument("data_dir", type=Path, metavar="DIR", help=words("data_dir"))
    office, researcher = option_groups(parser, lang)
    office.add_argument("--out", type=Path, default=DEFAULT_VALIDATION_OUT, metavar="DIR",
                        help=words("out", default=DEFAULT_VALIDATION_OUT))  # fmt: skip
    office.add_argument("--lang", type=language, choices=LANGUAGES, default=None,
                        help=words("lang"))  # fmt: skip
    researcher.add_argument("--mapping", type=Path, default=None, metavar="YAML",
                            help=words("mapping"))  # fmt: skip
    # The rule asn-eval report applies before any analysis, with the same options.
    limit = words("max_reject_share", default=f"{MAX_REJECT_SHARE:.2f}")
    researcher.add_argument("--max-reject-share", type=share, default=MAX_REJECT_SHARE,
                            metavar="SHARE", help=limit)  # fmt: skip
    researcher.add_argument("--allow-rejects", action="store_true", help=words("allow_rejects"))
    return parser


def run_validate(args: argparse.Namespace) -> int:
    """Validate a dataset folder; print the per-table summary; write the rejects.

    Returns 0 on success and 2 (message on stderr, no traceback) on a :class:`DataError`,
    an output folder that cannot be written (checked before the data are read), or data
    on which ``asn-eval report`` would stop (:meth:`Dataset.check_reject_share` with
    ``--max-reject-share``, after the summary and the rejects are written; not with
    ``--allow-rejects``). Messages, the summary, ``rejects.csv`` and ``quality.csv`` are in
    the language of ``--lang``.
    """
    from asn_eval.common.formatting import fmt_number
    from asn_eval.data.io import write_csv_safely
    from asn_eval.data.validate import load_dataset, quality_table, rejects_table
    from asn_eval.report.errors import output_refusal
    from asn_eval.report.output_folder import OutputFolderError, check_writable_target
    from asn_eval.report.progress import message, message_language

    lang = message_language(getattr(args, "lang", None))
    out = Path(args.out)

    def refused(error: OutputFolderError) -> int:
        print(f"asn-eval validate: {output_refusal(error, out).localized(lang)}", file=sys.stderr)
        return 2

    try:
        check_writable_target(out)
    except OutputFolderError as error:
        return refused(error)
    try:
        dataset = load_dataset(args.data_dir, mapping=args.mapping)
    except DataError as error:
        print(f"asn-eval validate: {error.text(lang)}", file=sys.stderr)
        # The rows rejected before the stop still tell the user what to fix.
        if getattr(error, "rejects", None) is not None and len(error.rejects):
            try:
                _make_folder(out)
                rejects = rejects_table(error.rejects, lang)
                write_csv_safely(rejects, out / "rejects.csv", index=False)
                written = message("validate.written_so_far", lang, path=out / "rejects.csv")
                print(written, file=sys.stderr)
            except OutputFolderError:
                pass
        return 2
    try:
        _make_folder(out)
    except OutputFolderError as error:
        return refused(error)
    write_csv_safely(rejects_table(dataset.rejects, lang), out / "rejects.csv", index=False)
    write_csv_safely(quality_table(dataset.quality, lang), out / "quality.csv", index=False)
    print(dataset.summary(lang))
    flagged = int((dataset.tables["employees"]["nip_flag"] != "").sum())
    rows, cells = dataset.set_aside_counts()
    print(message("validate.summary", lang, **{
        name: fmt_number(count, lang, 0)
        for name, count in (("rows", rows), ("cells", cells), ("flagged", flagged))
    }))  # fmt: skip
    print(message("validate.written", lang, path=out / "rejects.csv"))
    if getattr(args, "allow_rejects", False):
        return 0
    try:
        # The rule asn-eval report applies before any analysis: validate stops where it does,
        # with the same words.
        dataset.check_reject_share(getattr(args, "max_reject_share", MAX_REJECT_SHARE))
    except DataError as error:
        print(f"asn-eval validate: {error.text(lang)}", file=sys.stderr)
        return 2
    return 0


def _make_folder(out: Path) -> None:
    """Create ``out`` and missing parents; a failure is an OutputFolderError (exit 2)."""
    from asn_eval.report.output_folder import OutputFolderError

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputFolderError(
            f"--out {out} cannot be created: {error.strerror or error}. Nothing was changed. "
            "Name a folder you can write to with --out."
        ) from None


def add_synth_arguments(
    parser: argparse.ArgumentParser, lang: str = "en"
) -> argparse.ArgumentParser:
    """Arguments of ``asn-eval synth``, their help in ``lang`` (all for researchers)."""
    from asn_eval.data.synth import DEFAULT_EMPLOYEES, DEFAULT_SEED, DEFAULT_YEARS

    words = help_words(lang, "synth")
    _, researcher = option_groups(parser, lang)
    researcher.add_argument("--out", type=Path, default=DEFAULT_SYNTH_OUT, metavar="DIR",
                            help=words("out", default=DEFAULT_SYNTH_OUT))  # fmt: skip
    researcher.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help=words("seed", default=DEFAULT_SEED))  # fmt: skip
    researcher.add_argument("--employees", type=int, default=DEFAULT_EMPLOYEES,
                            help=words("employees", default=DEFAULT_EMPLOYEES))  # fmt: skip
    researcher.add_argument("--years", default=f"{DEFAULT_YEARS[0]}-{DEFAULT_YEARS[1]}",
                            help=words("years"))  # fmt: skip
    researcher.add_argument("--effects", type=Path, default=None, help=words("effects"))
    researcher.add_argument("--effect", action="append", default=[], metavar="NAME=VALUE",
                            help=words("effect"))  # fmt: skip
    researcher.add_argument("--no-effects", action="store_true", help=words("no_effects"))
    researcher.add_argument("--format", choices=["csv", "parquet"], default=None,
                            help=words("format"))  # fmt: skip
    researcher.add_argument("--no-dirty", action="store_true", help=words("no_dirty"))
    researcher.add_argument("--force", action="store_true", help=words("force"))
    return parser


def run_synth(args: argparse.Namespace) -> int:
    """Generate and write a synthetic dataset; return 0, or 2 on bad arguments.

    A folder that already holds files is refused unless ``--force`` is given; even then
    only the files synth writes are replaced.
    """
    from asn_eval.data.export import parse_years, write_dataset
    from asn_eval.data.synth import resolve_effects
    from asn_eval.report.output_folder import (
        OutputFolderError,
        check_writable_target,
        existing_files,
    )

    out = Path(args.out)
    try:
        check_writable_target(out)
        present = existing_files(out)
        if present and not getattr(args, "force", False):
            raise OutputFolderError(
                f"--out {out} already holds {len(present):,} "
                f"{'file' if len(present) == 1 else 'files'}, e.g. "
                f"{', '.join(present[:3])}; asn-eval synth does not overwrite a dataset unless "
                "told to. Nothing was changed. Choose a new folder with --out, or add --force "
                "to replace the files synth writes (the nine tables, metadata.yaml, truth.json "
                "and README.md; other files are left alone)." + _committed_hint(out)
            )
        years = parse_years(args.years)
        effects = resolve_effects(0 if args.no_effects else args.effects)
        for item in args.effect:
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"--effect expects NAME=VALUE, got {item!r}.")
            effects = resolve_effects({**effects, name.strip(): float(value)})
        _make_folder(out)
    except (ValueError, OSError, OutputFolderError) as error:
        print(f"asn-eval synth: {error}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    out = write_dataset(
        out, n_employees=args.employees, years=years, effects=effects, seed=args.seed,
        fmt=args.format, dirty=False if args.no_dirty else None, overwrite=True,
    )  # fmt: skip
    print(f"synthetic dataset written to {out} in {time.perf_counter() - start:.1f} s")
    return 0


def _committed_hint(out: Path) -> str:
    from asn_eval.config import DEFAULT_DATA_DIR

    if out.resolve() == DEFAULT_DATA_DIR.resolve():
        return " The committed dataset is regenerated with 'make data'."
    return ""


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m asn_eval.cli.data validate|synth ...``)."""
    from asn_eval.cli.guard import HelpFormatter, exit_status, run_guarded

    parser = argparse.ArgumentParser(
        prog="asn-eval-data", epilog=exit_status(), formatter_class=HelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    # option_groups adds each command's -h/--help to its office options.
    add_validate_arguments(sub.add_parser("validate", help="validate a dataset folder",
                                          add_help=False))  # fmt: skip
    add_synth_arguments(sub.add_parser("synth", help="write a synthetic dataset", add_help=False))
    args = parser.parse_args(argv)
    run = run_validate if args.command == "validate" else run_synth
    return run_guarded(run, args, command=f"asn-eval {args.command}")


if __name__ == "__main__":
    raise SystemExit(main())
