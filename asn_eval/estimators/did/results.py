"""Result objects of the Callaway-Sant'Anna estimators (R's ``MP`` and ``AGGTEobj``).

:class:`GroupTimeResult` (ATT(g, t)), :class:`AggregateResult` (its aggregations),
:class:`EventStudyResult` (effects by event time, also of the TWFE event study) and
:class:`PretrendTest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.estimators.did.aggregate import AGGREGATIONS, _aggregate
from asn_eval.estimators.did.bootstrap import _Inference
from asn_eval.estimators.results import (
    EFFECT_WORDS,
    EstimateTable,
    interval_sign,
    plotting_backend,
)

METHOD_NAME = "Callaway-Sant'Anna"


@dataclass(frozen=True, eq=False)
class _DidTable(EstimateTable):
    """Intervals and p-values from t(df) when ``df`` is set (clustered), normal otherwise."""

    def _overall_interval(self, estimate: float, se: float) -> tuple[float, float]:
        # pointwise interval: the sup-t value belongs to the band over the rows
        z = self.pointwise_critical()
        return estimate - z * se, estimate + z * se


@dataclass(frozen=True, eq=False)
class _InfluenceTable(_DidTable):
    """Rows with their influence functions: the analytic covariance comes from them."""

    influence: np.ndarray | None = field(default=None, repr=False)
    inference: _Inference | None = field(default=None, repr=False)
    # leverage-corrected influence functions (CR2), for the small-sample pre-trend test
    influence_adj: np.ndarray | None = field(default=None, repr=False)

    @property
    def vcov(self) -> pd.DataFrame:
        """Analytic covariance of the rows (from the influence function)."""
        v = self.inference.vcov(self.influence)
        return pd.DataFrame(v, index=self.params.index, columns=self.params.index)


@dataclass(frozen=True, eq=False)
class AggregateResult(_InfluenceTable):
    """An aggregation of group-time ATTs (R's ``aggte``).

    ``params``/``std_errors`` are indexed by ``event_time`` (dynamic), ``cohort`` (group),
    ``time`` (calendar) or a single ``aggregation`` row (simple). ``overall_att`` and
    ``overall_se`` are the single summary of the aggregation, as R's ``aggte`` reports it.
    With the multiplier bootstrap the rows of dynamic, group and calendar aggregations have
    uniform (sup-t) bands; the single simple row, like every ``overall_interval``, has the
    pointwise interval (R's ``aggte`` and moderndid: ``qnorm(1 - alpha/2)`` times the SE).
    """

    kind: str = "simple"
    overall_att: float = np.nan
    overall_se: float = np.nan

    def overall_interval(self) -> tuple[float, float]:
        """Confidence interval of ``overall_att``."""
        return self._overall_interval(self.overall_att, self.overall_se)

    def statement(self) -> str:
        lo, hi = self.overall_interval()
        label = {
            "simple": "the average effect over all treated cohorts and periods",
            "dynamic": "the average effect over event times 0 and later",
            "group": "the average effect across adoption cohorts",
            "calendar": "the average effect across calendar periods",
        }[self.kind]
        return _verdict(self.method, self.outcome, label, self.overall_att, lo, hi, self.level)


@dataclass(frozen=True, eq=False)
class GroupTimeResult(_InfluenceTable):
    """Group-time average treatment effects ATT(g, t) of Callaway and Sant'Anna (2021).

    ``params``/``std_errors`` have a (``cohort``, ``time``) index; ``cells`` lists each
    comparison with its base period and the number of treated and comparison units;
    ``info`` holds ``n_units``, ``n_clusters``, ``cohort_sizes`` and what was dropped.
    """

    cells: pd.DataFrame | None = field(default=None, repr=False)
    dropped: dict[str, int] = field(default_factory=dict)

    def aggregate(
        self, kind: str = "simple", *, min_e: float | None = None, max_e: float | None = None
    ) -> AggregateResult:
        """Average the ATT(g, t) as R's ``aggte`` does.

        Parameters
        ----------
        kind
            ``"simple"`` (post-treatment cells weighted by cohort size), ``"dynamic"`` (by
            event time ``t - g``; overall = mean over event times >= 0), ``"group"`` (by
            cohort; overall = cohort-size weighted mean) or ``"calendar"`` (by period; overall
            = mean over periods).
        min_e, max_e
            Keep only cells with event time in ``[min_e, max_e]`` (dynamic: the rows shown;
            other kinds: the post-treatment cells used, as ``aggte(max_e=)``).

        Returns
        -------
        AggregateResult
        """
        if kind not in AGGREGATIONS:
            raise ValueError(f"kind must be one of {', '.join(AGGREGATIONS)}; got {kind!r}.")
        fields = _aggregate(self, kind, min_e=min_e, max_e=max_e)
        return AggregateResult(method=f"{METHOD_NAME} ({kind} aggregation)", **fields)

    def statement(self) -> str:
        simple = self.aggregate("simple")
        lo, hi = simple.overall_interval()
        label = "the average effect over all treated cohorts and periods (simple aggregation)"
        return _verdict(self.method, self.outcome, label, simple.overall_att, lo, hi, self.level)


@dataclass(frozen=True, eq=False)
class EventStudyResult(_DidTable):
    """Effects by ``event_time`` (periods since adoption), with their covariance.

    The reference event time is a row with estimate 0 and a missing standard error.
    ``overall_att``/``overall_se`` average the event times >= 0 in the window.
    """

    reference: int | None = None
    vcov: pd.DataFrame | None = field(default=None, repr=False)
    overall_att: float = np.nan
    overall_se: float = np.nan
    source: Any = field(default=None, repr=False)

    def plot(self, ax=None, **kwargs):
        """Draw the event study (see :func:`asn_eval.report.plots.event_study`); returns the
        Axes."""
        return plotting_backend().event_study(self, ax=ax, **kwargs)

    def statement(self) -> str:
        lo, hi = self._overall_interval(self.overall_att, self.overall_se)
        label = "the average effect over event times 0 and later"
        return _verdict(self.method, self.outcome, label, self.overall_att, lo, hi, self.level)


def _verdict(method, outcome, label, estimate, lo, hi, level) -> str:
    verdict = EFFECT_WORDS[interval_sign(lo, hi)]
    pct = round(level * 100)
    return (
        f"{method} finds {verdict} on {outcome} for {label}: {estimate:.4g} "
        f"({pct}% CI {lo:.4g} to {hi:.4g})."
    )


@dataclass(frozen=True)
class PretrendTest:
    """Joint test that all pre-treatment effects are zero.

    ``statistic`` is the Wald statistic (``method="chi2"``) or the Hotelling-scaled F
    statistic (``method="f"``); ``df`` is the number of effects tested and ``df_denom`` the
    denominator degrees of freedom of the F reference (``None`` for chi-squared).
    ``reliable`` is False, and ``note`` says why, when there are too few clusters for any
    calibration of the test; the p-value is then only indicative (or missing).
    """

    statistic: float
    df: int
    p_value: float
    tested: tuple
    method: str = "chi2"
    df_denom: float | None = None
    n_clusters: int | None = None
    reliable: bool = True
    note: str = ""

    def reference(self) -> str:
        """The reference distribution, e.g. ``chi2(4)`` or ``F(4, 39)``."""
        if self.df_denom is None:
            return f"chi2({self.df})"
        return f"F({self.df}, {self.df_denom:g})"

    def statement(self) -> str:
        if not np.isfinite(self.p_value):
            return (
                f"The pre-trend test of {self.df} pre-treatment effects is not computed: "
                f"{self.note}"
            )
        verdict = (
            "rejects parallel pre-trends at the 5% level"
            if self.p_value < 0.05
            else "does not reject parallel pre-trends at the 5% level (a pass is not proof "
            "of parallel trends: pre-tests have limited power)"
        )
        name = "Wald" if self.method == "chi2" else "small-sample F"
        text = (
            f"Joint {name} test of {self.df} pre-treatment effects: {self.reference()} = "
            f"{self.statistic:.3f}, p = {self.p_value:.4f}; the test {verdict}."
        )
        return f"{text} {self.note}" if self.note else text

    def __str__(self) -> str:
        return self.statement()
