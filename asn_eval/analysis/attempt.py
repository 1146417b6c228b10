"""An estimate, or the reason it could not be made.

The chapters pass results that an estimator may refuse for the data at hand (too few
agencies, no months on one side of an intervention). Instead of a value beside a separate
``problem`` string, or a dict with ``"result"`` and ``"reason"`` keys, each such result is one
frozen :class:`Attempt`: its ``result`` (None when refused) and the ``problem`` that says why.

Examples
--------
>>> Attempt(3.0).ok, Attempt(problem="needs adopting agencies").ok
(True, False)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """``result``, or None and the ``problem`` (in words) that kept it from being made."""

    result: T | None = None
    problem: str = ""

    def __post_init__(self) -> None:
        if (self.result is None) == (not self.problem):
            raise ValueError("An Attempt holds either a result or the problem that kept it.")

    @property
    def ok(self) -> bool:
        return self.result is not None

    @classmethod
    def of(cls, compute: Callable[[], T]) -> Attempt[T]:
        """``compute()``'s result, or its ``ValueError`` message as the problem (the way the
        estimators refuse data they cannot use); the estimators' warnings are silenced, the
        chapters state what matters from the result itself.

        >>> Attempt.of(lambda: int("x")).problem
        "invalid literal for int() with base 10: 'x'"
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return cls(compute())
            except ValueError as error:
                return cls(problem=str(error))
