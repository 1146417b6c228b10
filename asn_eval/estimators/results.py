"""Shared result objects for every estimator.

One frozen object per estimate, in the manner of linearmodels and pyfixest: labelled
pandas objects, a tidy ``to_frame()``, a ``summary()`` that renders as text and as HTML
in a notebook, and a one-sentence statement of the main effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from asn_eval import config
from asn_eval.domain.decision import interval_sign

TIDY_COLUMNS = ("estimate", "std_error", "ci_low", "ci_high")


def normal_interval(
    estimate: pd.Series | np.ndarray | float,
    std_error: pd.Series | np.ndarray | float,
    level: float = 0.95,
    *,
    critical_value: float | None = None,
):
    """Symmetric interval ``estimate +/- z * std_error`` (or a given critical value)."""
    z = stats.norm.ppf(0.5 + level / 2) if critical_value is None else critical_value
    return estimate - z * std_error, estimate + z * std_error


def plotting_backend() -> ModuleType:
    """The module that draws result objects (:data:`asn_eval.config.PLOT_BACKEND`).

    Imported by name when a result's ``plot()`` is first called, so that estimation never
    imports the report's drawing code (layers point down) while ``result.plot()`` still works
    in a notebook that imported only :mod:`asn_eval.estimators`.
    """
    return import_module(config.PLOT_BACKEND)


EFFECT_WORDS = {1: "a positive effect", -1: "a negative effect", 0: "no detectable effect"}


def plain_statement(
    method: str, outcome: str, label: str, estimate: float, lo: float, hi: float, level: float
) -> str:
    """``"<method> finds <verdict> of <label> on <outcome>: <estimate> (95% CI lo to hi)."``"""
    verdict = EFFECT_WORDS[interval_sign(lo, hi)]
    return (
        f"{method} finds {verdict} of {label} on {outcome}: "
        f"{estimate:.4g} ({round(level * 100)}% CI {lo:.4g} to {hi:.4g})."
    )


@dataclass(frozen=True)
class EstimateTable:
    """Estimates indexed by a label (regressor, event time, cohort, ...).

    Parameters
    ----------
    params, std_errors
        Series sharing one index (its name becomes the index column of ``to_frame``).
    method
        Short name of the estimator, e.g. ``"TWFE"`` or ``"Callaway-Sant'Anna"``.
    outcome
        Name of the outcome variable.
    level
        Confidence level of ``ci_low``/``ci_high``.
    critical_value
        Used instead of the pointwise quantile, e.g. for uniform (sup-t) bands.
    info
        Extra facts shown in the summary (observations, clusters, SE convention, ...).
    df
        Degrees of freedom: intervals and p-values from t(df) when set (fixest's G - 1 for
        clustered errors, N - K otherwise), from the normal when None.
    """

    params: pd.Series
    std_errors: pd.Series
    method: str
    outcome: str
    level: float = 0.95
    critical_value: float | None = None
    info: dict[str, Any] = field(default_factory=dict)
    df: float | None = None

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.std_errors

    def pointwise_critical(self, level: float | None = None) -> float:
        """Two-sided quantile of t(df) when ``df`` is set (small samples, clusters), else normal."""
        level = self.level if level is None else level
        if self.df is None:
            return float(stats.norm.ppf(0.5 + level / 2))
        return float(stats.t.ppf(0.5 + level / 2, self.df))

    def critical(self, level: float | None = None) -> float:
        """Critical value of ``conf_int``: ``critical_value`` (e.g. a sup-t band) at the
        result's own level, the pointwise quantile otherwise."""
        if self.critical_value is not None and (level is None or level == self.level):
            return self.critical_value
        return self.pointwise_critical(level)

    @property
    def pvalues(self) -> pd.Series:
        t = np.abs(self.tvalues.to_numpy(dtype=float))
        p = 2 * (stats.norm.sf(t) if self.df is None else stats.t.sf(t, self.df))
        return pd.Series(p, index=self.params.index)

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        low, high = normal_interval(
            self.params, self.std_errors, critical_value=self.critical(level)
        )
        return pd.DataFrame({"ci_low": low, "ci_high": high}, index=self.params.index)

    def to_frame(self) -> pd.DataFrame:
        ci = self.conf_int()
        frame = pd.DataFrame(
            {
                "estimate": self.params,
                "std_error": self.std_errors,
                "ci_low": ci["ci_low"],
                "ci_high": ci["ci_high"],
            },
            index=self.params.index,
        )
        return frame.reset_index()

    def statement(self) -> str:
        """One sentence on the first (main) estimate, in plain English."""
        frame = self.to_frame()
        row = frame.iloc[0]
        return plain_statement(
            self.method,
            self.outcome,
            row.iloc[0],
            row["estimate"],
            row["ci_low"],
            row["ci_high"],
            self.level,
        )

    def summary(self) -> Summary:
        return Summary(self)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __str__(self) -> str:
        return str(self.summary())


@dataclass(frozen=True)
class Summary:
    """Text and HTML rendering of an :class:`EstimateTable`."""

    result: EstimateTable
    # Width of the label column in text; how a missing cell reads in HTML.
    label_width: ClassVar[int] = 24
    na_rep: ClassVar[str] = "NaN"

    def _header(self) -> list[tuple[str, str]]:
        rows = [("Method", self.result.method), ("Outcome", self.result.outcome)]
        rows += [(str(k), str(v)) for k, v in self.result.info.items()]
        return rows

    def __str__(self) -> str:
        head = "\n".join(f"{k:<{self.label_width}}{v}" for k, v in self._header())
        table = self.result.to_frame().to_string(index=False, float_format=lambda x: f"{x:.4f}")
        return f"{head}\n\n{table}\n\n{self.result.statement()}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in self._header())
        table = self.result.to_frame().to_html(
            index=False, float_format=lambda x: f"{x:.4f}", border=0, na_rep=self.na_rep
        )
        return f"<table>{head}</table>{table}<p>{self.result.statement()}</p>"
