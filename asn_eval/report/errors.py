"""The errors of a report run, each carrying the key of its words in the templates.

:class:`ReportError` (exit status 1) is asn-eval failing, e.g. a chapter notebook raising;
:class:`ReportInputError` (exit status 2) is the user's input or arguments being wrong. Each
carries ``key`` and ``values`` naming its message in the templates (``cli.errors.<key>``),
set where it is raised, so a command prints it in the user's language; ``str()`` stays
English. :func:`output_refusal` turns an output-folder refusal
(:class:`asn_eval.report.output_folder.OutputFolderError`, which carries its own key) into one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


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


def output_refusal(error: Exception, out: Path, *, option: str = "--out") -> ReportInputError:
    """An output-folder refusal as a :class:`ReportInputError` that any command can print in
    the user's language (:meth:`ReportError.localized`)."""
    return ReportInputError(
        str(error),
        key=getattr(error, "key", "output_refused"),
        values={"option": option, "out": out, "detail": str(error)},
    )
