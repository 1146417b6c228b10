"""The one exception users see from data loading."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class DataError(Exception):
    """A problem that makes the data unusable.

    ``str(error)`` is one readable paragraph: which file, which column, what was expected
    and what to do. The command line prints it without a traceback.

    Attributes
    ----------
    rejects
        The rows rejected before the data were found unusable (the columns of
        :attr:`Dataset.rejects <asn_eval.data.validate.Dataset.rejects>`), or ``None`` when
        the problem was found before any table was read. ``asn-eval validate`` writes them
        to ``rejects.csv`` even when it stops, so that the user can see what went wrong.
    """

    def __init__(self, message: str, *, rejects: pd.DataFrame | None = None):
        super().__init__(" ".join(message.split()))
        self.rejects = rejects
