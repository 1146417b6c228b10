"""The one exception users see from data loading."""

from __future__ import annotations


class DataError(Exception):
    """A problem that makes the data unusable.

    ``str(error)`` is one readable paragraph: which file, which column, what was expected
    and what to do. The command line prints it without a traceback.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))
