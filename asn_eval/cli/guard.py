"""The exit statuses every command shares, and the guard that keeps tracebacks from users.

Every command follows one convention for its exit status (:data:`EXIT_STATUS`): 0 success,
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
from datetime import datetime
from pathlib import Path

from asn_eval import __version__

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_INTERRUPTED = 130

EXIT_STATUS = """\
exit status:
  0    success
  2    the input or the arguments are wrong: the message says what and how to fix
       it, and nothing was changed
  1    an internal error (a chapter that fails, a bug in asn-eval): the message
       names the file with the details
  130  interrupted (Ctrl-C)"""


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, keeping the exit-status table as it is laid out."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text == EXIT_STATUS:
            return text
        return super()._fill_text(text, width, indent)


def language(text: str) -> str:
    """The ``--lang`` value as the templates name it: ``ID`` and ``Id`` are ``id``.

    argparse checks the result against the command's choices, so an unknown language is
    still refused with the choices listed.
    """
    return text.strip().lower()


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
    except (DataError, OutputFolderError) as error:
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
