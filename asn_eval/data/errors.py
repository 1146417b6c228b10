"""The one exception users see from data loading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .messages import Message

if TYPE_CHECKING:
    import pandas as pd


class DataError(Exception):
    """A problem that makes the data unusable.

    ``str(error)`` is one readable paragraph in English: which file, which column, what was
    expected and what to do; :meth:`text` gives the same paragraph in either language. The
    command line prints it, in the command's language, without a traceback.

    Parameters
    ----------
    message
        A :class:`~asn_eval.data.messages.Message` of the data-layer catalog (so that the
        error can be written in both languages), or an English sentence.

    Attributes
    ----------
    message
        The :class:`~asn_eval.data.messages.Message`, or ``None`` for an English sentence.
    rejects
        The rows rejected before the data were found unusable (the columns of
        :attr:`Dataset.rejects <asn_eval.data.validate.Dataset.rejects>`), or ``None`` when
        the problem was found before any table was read. ``asn-eval validate`` writes them
        to ``rejects.csv`` even when it stops, so that the user can see what went wrong.
    """

    def __init__(self, message: str | Message, *, rejects: pd.DataFrame | None = None):
        self.message = message if isinstance(message, Message) else None
        super().__init__(" ".join(str(message).split()))
        self.rejects = rejects

    def text(self, lang: str) -> str:
        """The paragraph in ``lang`` (``"id"`` or ``"en"``); an English sentence stays one."""
        return str(self) if self.message is None else self.message.text(lang)
