"""The exit statuses every command shares, and the guard that keeps tracebacks from users.

Every command follows one convention for its exit status (:func:`exit_status`): 0 success,
2 the user's input or arguments are wrong (the message on stderr says what and how to
fix it), 1 an internal error, 130 interrupted. No input a user can make ends in a Python
traceback: an unexpected exception prints one paragraph naming the log file that holds
the full traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from asn_eval import __version__

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_INTERRUPTED = 130


def exit_status(lang: str = "en") -> str:
    """The exit-status table that ends every command's help, in ``lang`` (worded once, in
    the ``cli.help.exit_status`` templates)."""
    from asn_eval.report.progress import message

    return message("help.exit_status", lang)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, keeping laid-out text (the examples, the exit-status table) as
    it is and wording the usage line in the help's language (:attr:`usage_prefix`)."""

    usage_prefix: str | None = None

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return text
        return super()._fill_text(text, width, indent)

    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        # argparse passes prefix "" when it builds a sub-command's name: that stays empty.
        super().add_usage(usage, actions, groups, self.usage_prefix if prefix is None else prefix)


def requested_language(argv: list[str]) -> str | None:
    """The ``--lang`` value anywhere on the command line (the last one), in any case, or None.

    The help is worded before argparse reads the arguments, so ``asn-eval report --lang id
    --help`` and ``asn-eval --help --lang ID`` both ask for Indonesian help.
    """
    from asn_eval.config import LANGUAGES

    found = None
    for index, item in enumerate(argv):
        if item == "--lang" and index + 1 < len(argv):
            found = argv[index + 1]
        elif item.startswith("--lang="):
            found = item.partition("=")[2]
    found = found and language(found)
    return found if found in LANGUAGES else None


def help_words(lang: str, command: str | None = None):
    """A function giving the help text ``cli.help[.<command>].<key>`` in ``lang``."""
    from asn_eval.report.progress import message

    prefix = f"help.{command}." if command else "help."

    def words(key: str, **values) -> str:
        return " ".join(message(prefix + key, lang, **values).split())

    return words


def command_parser(make, lang: str, command: str, **options) -> argparse.ArgumentParser:
    """A parser (``make``: :class:`argparse.ArgumentParser` or a sub-parsers' ``add_parser``)
    whose description, examples, help rule and exit-status table are in ``lang``."""
    from asn_eval.report.progress import message

    words = help_words(lang, command)
    prog = "asn-eval" if command == "main" else f"asn-eval {command}"
    examples = _indented(message(f"help.{command}.examples", lang))
    epilog = "\n\n".join(
        [
            f"{message('help.examples', lang)}\n{examples}",
            _wrapped(message("help.rule", lang, command=prog)),
            exit_status(lang),
        ]
    )
    formatter = type("LocalizedHelpFormatter", (HelpFormatter,),
                     {"usage_prefix": message("help.usage", lang).strip() + " "})  # fmt: skip
    parser = make(description=words("description"), epilog=epilog, formatter_class=formatter,
                  add_help=False, **options)  # fmt: skip
    parser._positionals.title = _heading(lang, "positionals")
    parser._optionals.title = _heading(lang, "options")
    if command == "main":
        parser.add_argument("-h", "--help", action="help", help=_heading(lang, "help"))
    return parser


def option_groups(parser: argparse.ArgumentParser, lang: str):
    """The office options (--help and the few an office needs), then the researcher options,
    each in its own group of the help."""
    office = parser.add_argument_group(_heading(lang, "office"))
    if not parser.add_help:  # a plain ArgumentParser (a library caller's) has its own -h
        office.add_argument("-h", "--help", action="help", help=_heading(lang, "help"))
    return office, parser.add_argument_group(_heading(lang, "researcher"))


def _heading(lang: str, key: str) -> str:
    """A help word shared by every command (a group title, the -h line)."""
    return help_words(lang)(key)


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _wrapped(text: str) -> str:
    import shutil
    import textwrap

    # The width argparse gives its own paragraphs.
    width = max(shutil.get_terminal_size().columns - 2, 40)
    return textwrap.fill(" ".join(text.split()), width=width)


def language(text: str) -> str:
    """The ``--lang`` value as the templates name it: ``ID`` and ``Id`` are ``id``.

    argparse checks the result against the command's choices, so an unknown language is
    still refused with the choices listed.
    """
    return text.strip().lower()


def share(text: str) -> float:
    """A ``--max-reject-share`` value: a share between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        # Through argparse's translation, so that it reads in the command line's language.
        raise argparse.ArgumentTypeError(
            argparse._("expected a share between 0 and 1, got %r") % text
        )
    return value


@contextmanager
def argparse_language(lang: str) -> Iterator[None]:
    """argparse's own messages (``argument --year: invalid int value: 'abc'``) in ``lang``
    while the command line is read.

    argparse words its errors through gettext; its message ids are the English entries of
    the ``cli.argparse`` templates, and the entries of ``lang`` under the same keys replace
    them. A message without an entry stays as argparse words it.
    """
    if lang == "en":
        yield
        return
    from asn_eval.report.narrative import text_group

    english, local = text_group("cli.argparse", "en"), text_group("cli.argparse", lang)
    table = {english[key]: local[key] for key in english}

    def translate(msgid: str) -> str:
        text = msgid.rstrip("\n")
        return table.get(text, text) + msgid[len(text):]

    saved = argparse._
    argparse._ = translate
    try:
        yield
    finally:
        argparse._ = saved


def run_guarded(run, args: argparse.Namespace, *, command: str) -> int:
    """Run one command; turn anything unexpected into one paragraph and an exit status.

    A :class:`~asn_eval.data.DataError` or an output-folder refusal that a command did not
    catch itself is still the user's input (2). Any other exception is a bug: its
    traceback goes to a log file in the temporary folder (:func:`crash_log_folder`) and
    the user reads one paragraph saying where (1). Ctrl-C exits with 130.
    """
    from asn_eval.data.errors import DataError
    from asn_eval.report.output_folder import OutputFolderError
    from asn_eval.report.progress import message, message_language

    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        words = message("errors.interrupted", message_language(getattr(args, "lang", None)))
        print(f"{command}: {words}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DataError as error:
        lang = message_language(getattr(args, "lang", None))
        print(f"{command}: {error.text(lang)}", file=sys.stderr)
        return EXIT_USER
    except OutputFolderError as error:
        print(f"{command}: {error}", file=sys.stderr)
        return EXIT_USER
    except Exception as error:  # the last line of defence: never a traceback
        print(internal_error_message(error, command=command), file=sys.stderr)
        return EXIT_INTERNAL


def crash_log_folder() -> Path:
    """Where a traceback is written: the system's temporary folder (``$TMPDIR``, /tmp).

    Never the output or data folder, which belong to the user's work; the file is created
    with the user's umask like every other output.
    """
    return Path(tempfile.gettempdir())


def internal_error_message(error: BaseException, *, command: str) -> str:
    """One paragraph for an unexpected exception; its traceback is written to a log file."""
    first = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    what = f"{type(error).__name__}: {first}" if first else type(error).__name__
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"asn-eval-crash-{stamp}-{os.getpid()}.log"
    details = "".join(traceback.format_exception(error))
    try:
        path = crash_log_folder() / name
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(f"{command} (asn-eval {__version__}, Python {sys.version.split()[0]})\n")
            handle.write(f"arguments: {sys.argv[1:]}\n\n{details}")
    except OSError as log_error:
        return (
            f"{command}: internal error: {what}. This is a bug in asn-eval, not in your data; "
            f"the traceback could not be saved ({log_error.strerror or log_error}), so it "
            f"follows; please send it with a bug report.\n{details}"
        )
    return (
        f"{command}: internal error: {what}. This is a bug in asn-eval, not in your data; "
        f"the full traceback was written to {path}; please send it with a bug report."
    )
