"""Chapter 3's analysis: what each policy changed, estimated with its uncertainty.

Pure computation: :func:`impact` takes the loaded dataset and an
:class:`~asn_eval.analysis.spec.AnalysisSpec` and returns :class:`ImpactResults`, result
objects only (no figure, table file or sentence; :mod:`asn_eval.report.chapters.impact` renders
them). The unit of the difference-in-differences analyses is the agency and year, the level
at which policies are adopted: Callaway and Sant'Anna (2021) group-time effects aggregated
to event-study curves and one overall effect, the pre-trend test, few-cluster inference
(wild cluster bootstrap and randomization inference, because a city has only some tens of
agencies), two-way fixed effects beside it with its Goodman-Bacon decomposition;
interrupted time series for Dukcapil's monthly services and, when the dataset holds the
province's other Dukcapil offices (``comparison_services``), a synthetic
difference-in-differences against them; and the dose-response of training hours on the
employee-year panel.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from asn_eval.analysis.attempt import Attempt
from asn_eval.analysis.panels import (
    DUKCAPIL_SERVICES,
    POLICIES,
    agency_year_panel,
    dose_moments,
    employee_count,
    known_adoption,
    monthly_service_series,
)
from asn_eval.analysis.spec import AnalysisSpec, bootstrap_weights
from asn_eval.analysis.survey import (
    SURVEY_POLICY,
    SurveyEstimate,
    estimate_survey_outcome,
    respondent_frame,
)
from asn_eval.common.memory import release_memory
from asn_eval.data.contract import COMPARISON_TABLE
from asn_eval.domain.decision import ALPHA, FEW_CLUSTERS, MDE_POWER
from asn_eval.domain.outcomes import OUTCOMES as REGISTERED
from asn_eval.domain.outcomes import Outcome, kind
from asn_eval.estimators.bacon import bacon_decomposition
from asn_eval.estimators.did import METHOD_NAME as DID_METHOD_NAME
from asn_eval.estimators.did import att_gt, event_study, pretrend_test
from asn_eval.estimators.imputation import did_imputation
from asn_eval.estimators.its import METHOD_NAME as ITS_METHOD_NAME
from asn_eval.estimators.multiple import holm
from asn_eval.estimators.synthetic import METHOD_NAMES as SYNTHETIC_METHOD_NAMES
from asn_eval.estimators.twfe import twfe
from asn_eval.results.store import ResultRecord

if TYPE_CHECKING:
    from asn_eval.estimators.bacon import BaconResult
    from asn_eval.estimators.did.results import AggregateResult, EventStudyResult, PretrendTest
    from asn_eval.estimators.dose import DoseResponseResult
    from asn_eval.estimators.honest import HonestResult
    from asn_eval.estimators.imputation import ImputationResult
    from asn_eval.estimators.its import InterruptedTimeSeriesResult
    from asn_eval.estimators.power import MDEResult
    from asn_eval.estimators.synthetic import SyntheticResult
    from asn_eval.estimators.twfe import TwfeResult

UNIT = "agency_code"
TIME = "year"
CS_METHOD = DID_METHOD_NAME
IMPUTATION_METHOD = "Borusyak-Jaravel-Spiess"
# Names of the comparison groups in a robustness record's estimator name.
OTHER_CONTROL_NAMES = {"notyet": "not yet treated", "never": "never treated"}
TWFE_METHOD = "TWFE"
ITS_METHOD = ITS_METHOD_NAME
SDID_METHOD = SYNTHETIC_METHOD_NAMES["sdid"]
# Placebo replications of the synthetic DiD's standard error (synthdid's default).
SDID_REPLICATIONS = 200
# Estimators of the headline family (Holm): the comparison designs, never a single office
# against its own past.
FAMILY_METHODS: tuple[str, ...] = (DID_METHOD_NAME, SDID_METHOD)
# Months of a monthly series needed on each side of an intervention for a segmented
# regression with month-of-year dummies.
ITS_MIN_MONTHS = 12


# The agency-year outcomes of the difference-in-differences analyses.
OUTCOMES: dict[str, Outcome] = {
    key: REGISTERED[key]
    for key in (
        "skp_good_share",
        "absence_mean",
        "sanction_share",
        "jp_mean",
        "health_minutes",
        "ikm",
    )
}
# Policy -> outcomes it is expected to move (the article's claims), main outcome first.
POLICY_OUTCOMES: dict[str, tuple[str, ...]] = {
    "training_programme": ("skp_good_share", "jp_mean"),
    "performance_appraisal": ("skp_good_share", "absence_mean", "health_minutes"),
    "reward_punishment": ("absence_mean", "sanction_share", "skp_good_share"),
    "digitalisation": ("skp_good_share", "ikm"),
}
# Dukcapil's monthly processing days answer to these policies (the article's example).
DUKCAPIL_POLICIES: tuple[str, ...] = ("training_programme", "digitalisation")
# Cells behind each agency-year outcome (the weights of its variance for the power
# calculation): employees appraised, employees, survey respondents; none for health minutes.
OUTCOME_WEIGHTS: dict[str, str | None] = {
    "skp_good_share": "n_skp",
    "absence_mean": "n_employees",
    "sanction_share": "n_employees",
    "jp_mean": "n_employees",
    "ikm": "ikm_respondents",
    "health_minutes": None,
}
# Dukcapil's monthly outcomes.
ITS_OUTCOMES: dict[str, Outcome] = {
    key: REGISTERED[key] for key in ("dukcapil_days", "share_within_standard")
}


@dataclass(frozen=True)
class PolicyOutcome:
    """Everything estimated for one policy and one agency-year outcome (immutable: made once
    by :func:`estimate_policy_outcome`). An estimate an estimator refused is None, and
    ``problems`` says why."""

    policy: str
    outcome: Outcome
    n_agencies: int = 0
    n_treated: int = 0
    n_employees: int | None = None
    event: EventStudyResult | None = None
    overall: AggregateResult | None = None
    pretrend: PretrendTest | None = None
    twfe: TwfeResult | None = None
    bacon: BaconResult | None = None
    p_bootstrap: float | None = None  # wild cluster bootstrap, TWFE coefficient
    p_permutation: float | None = None  # randomization inference, CS overall ATT
    problems: tuple[str, ...] = ()
    spec: AnalysisSpec | None = None
    power: MDEResult | None = None  # MDE of the overall effect with next year's data
    imputation: ImputationResult | None = None  # Borusyak-Jaravel-Spiess, beside CS
    # CS with the other comparison group (not-yet-treated when the headline uses never-treated):
    # with few never-adopting agencies the two can differ, and the reader sees both.
    other_control: AggregateResult | None = None

    @property
    def ok(self) -> bool:
        return self.overall is not None

    def record(self) -> ResultRecord:
        lo, hi = self.overall.overall_interval()
        status = self.pretrend_status
        se = float(self.overall.overall_se)
        est = float(self.overall.overall_att)
        return ResultRecord(
            policy=self.policy,
            outcome=self.outcome.key,
            estimator=CS_METHOD,
            estimate=est,
            std_error=se,
            ci_low=float(lo),
            ci_high=float(hi),
            p_value=float(2 * stats.norm.sf(abs(est / se))) if se > 0 else None,
            p_value_few_cluster=self.p_permutation,
            # an uncalibrated (too few agencies) or untestable pre-trend test is not evidence
            pretrend_p=float(self.pretrend.p_value) if status != "untestable" else None,
            pretrend_status=status,
            mde_next_year=None if self.power is None else float(self.power.mde),
            n_agencies=self.n_agencies,
            n_employees=self.n_employees,
            better=self.outcome.better,
            level=float(self.overall.level),
            unit=self.outcome.unit,
            **self.event_time_sides(),
        )

    def event_time_sides(self) -> dict[str, tuple[int, ...]]:
        """Event times from adoption on whose simultaneous band (the event-study figure's)
        lies wholly below or wholly above zero: what the overall number may hide."""
        sides: dict[str, tuple[int, ...]] = {"event_times_below": (), "event_times_above": ()}
        if self.event is None:
            return sides
        band = self.event.conf_int()
        post = band[(band.index >= 0) & self.event.std_errors.reindex(band.index).notna()]
        sides["event_times_below"] = tuple(int(e) for e in post.index[post["ci_high"] < 0])
        sides["event_times_above"] = tuple(int(e) for e in post.index[post["ci_low"] > 0])
        return sides

    @property
    def pretrend_status(self) -> str:
        """``passed``, ``failed`` or ``untestable`` (no test, no pre-adoption years, or too
        few agencies for a calibrated test): untestable is never read as a pass."""
        test = self.pretrend
        if test is None or not np.isfinite(test.p_value) or not test.reliable:
            return "untestable"
        return "failed" if test.p_value < ALPHA else "passed"

    def other_control_record(self) -> ResultRecord | None:
        """The CS overall effect with the other comparison group, beside the headline one."""
        if self.other_control is None or self.spec is None:
            return None
        other = "notyet" if self.spec.control_group == "never" else "never"
        return self._beside(self.other_control, f"{CS_METHOD} ({OTHER_CONTROL_NAMES[other]})")

    def imputation_record(self) -> ResultRecord | None:
        """The Borusyak-Jaravel-Spiess estimate beside CS: a robustness check, no finding."""
        if self.imputation is None:
            return None
        return self._beside(self.imputation, IMPUTATION_METHOD)

    def _beside(self, res: Any, estimator: str) -> ResultRecord:
        """A record of an overall effect shown beside the headline estimate."""
        lo, hi = res.overall_interval()
        return ResultRecord(
            policy=self.policy,
            outcome=self.outcome.key,
            estimator=estimator,
            estimate=float(res.overall_att),
            std_error=float(res.overall_se),
            ci_low=float(lo),
            ci_high=float(hi),
            n_agencies=self.n_agencies,
            n_employees=self.n_employees,
            pretrend_status=self.pretrend_status,
            p_value_few_cluster=self.p_permutation,
            better=self.outcome.better,
            level=float(res.level),
            unit=self.outcome.unit,
        )

    def twfe_record(self) -> ResultRecord | None:
        if self.twfe is None:
            return None
        return ResultRecord.from_estimate_table(
            self.twfe,
            policy=self.policy,
            outcome=self.outcome.key,
            better=self.outcome.better,
            n_agencies=self.n_agencies,
            n_employees=self.n_employees,
            p_value_few_cluster=self.p_bootstrap,
            # TWFE rests on the same parallel trends as the event study
            pretrend_status=self.pretrend_status,
            unit=self.outcome.unit,
        )


def trusted_p(record: ResultRecord) -> float | None:
    """The p-value the report trusts for a record: randomization inference with fewer than
    :data:`~asn_eval.domain.decision.FEW_CLUSTERS` agencies, the conventional one otherwise."""
    few = record.n_agencies is not None and record.n_agencies < FEW_CLUSTERS
    return record.p_value_few_cluster if few else record.p_value


def adjust_family(records: list[ResultRecord]) -> list[ResultRecord]:
    """Holm-adjusted p-values across the chapter's headline family.

    The family is every estimate of performance or services by a comparison design
    (:data:`FAMILY_METHODS`: Callaway-Sant'Anna, and the synthetic DiD of Dukcapil against
    the province's other offices; uptake is not a finding); each enters with the p-value the
    report trusts (:func:`trusted_p`). Holm
    controls the family-wise error rate under any dependence between the tests, which
    randomization-inference p-values of one panel have. A record whose adjusted p-value is
    not below 5% is tentative (:mod:`asn_eval.domain.decision`, reason ``multiple_testing``).
    """
    family = [
        i
        for i, r in enumerate(records)
        if r.estimator in FAMILY_METHODS
        and kind(r.outcome) != "uptake"
        and trusted_p(r) is not None
    ]
    if not family:
        return records
    adjusted = holm([trusted_p(records[i]) for i in family])
    out = list(records)
    for i, p in zip(family, adjusted, strict=True):
        out[i] = replace(out[i], p_value_adjusted=float(p), verdict=None, standing=None, reasons=())
    return out


def few_cluster_p(
    data: pd.DataFrame, policy: str, outcome: str, *, spec: AnalysisSpec
) -> tuple[float | None, float | None, list[str]]:
    """Few-cluster p-values for one policy and outcome, computed only with few clusters.

    The wild cluster bootstrap (Rademacher weights, ``spec.n_boot`` draws, clustered by
    agency) of the TWFE coefficient, and randomization inference of the Callaway-Sant'Anna
    overall ATT (adoption years permuted across agencies, ``spec.n_perm`` permutations).
    Problems (e.g. too few distinct assignments) come back as readable strings.

    The inference is chosen by the number of agencies: below
    :data:`asn_eval.domain.decision.FEW_CLUSTERS` the cluster-robust standard errors over-reject and
    these p-values are what the report reads; from that number on the analytic standard
    errors are reliable, the report does not read a few-cluster p-value
    (:func:`asn_eval.domain.decision.decide`), and none is computed: ``(None, None, [])``. Only the
    bootstrap's p-value is used, so its interval is not inverted (``interval=False``).
    """
    from asn_eval.estimators.inference import randomization_inference, wild_cluster_bootstrap

    problems = []
    p_boot = p_perm = None
    if int(data[UNIT].nunique()) >= FEW_CLUSTERS:
        return p_boot, p_perm, problems
    cohort, treated = f"cohort_{policy}", f"treated_{policy}"
    try:
        boot = wild_cluster_bootstrap(
            data,
            outcome=outcome,
            treatment=treated,
            unit=UNIT,
            time=TIME,
            cluster=UNIT,
            n_boot=spec.n_boot,
            seed=spec.seed,
            weights=bootstrap_weights(int(data[UNIT].nunique())),
            interval=False,
        )
        p_boot = float(boot.p_value)
    except ValueError as error:
        problems.append(f"wild bootstrap: {error}")

    def overall_att(frame: pd.DataFrame) -> float:
        gt = att_gt(
            frame,
            outcome=outcome,
            unit=UNIT,
            time=TIME,
            cohort=cohort,
            control_group=spec.control_group,
            anticipation=spec.anticipation,
        )
        return float(gt.aggregate("simple").overall_att)

    try:
        perm = randomization_inference(
            data,
            estimator=overall_att,
            unit=UNIT,
            cohort=cohort,
            n_perm=spec.n_perm,
            seed=spec.seed,
            outcome=outcome,
        )
        p_perm = float(perm.p_value)
    except ValueError as error:
        problems.append(f"randomization inference: {error}")
    return p_boot, p_perm, problems


def next_year_power(
    panel: pd.DataFrame, data: pd.DataFrame, policy: str, outcome: Outcome, *, spec: AnalysisSpec
):
    """The minimum detectable effect of the overall ATT with one more year of data (80%
    power, 5% two-sided), from the variance components of this panel
    (:func:`asn_eval.estimators.estimate_design`, :func:`asn_eval.estimators.mde`); None when
    the design cannot be estimated."""
    from asn_eval.estimators import estimate_design, mde

    rows = panel.loc[data.index]
    weights = OUTCOME_WEIGHTS.get(outcome.key)
    try:
        design = estimate_design(
            rows,
            outcome=outcome.key,
            unit=UNIT,
            time=TIME,
            cohort=f"cohort_{policy}",
            weights=weights if weights in rows else None,
        )
        return mde(
            design, power=MDE_POWER, alpha=ALPHA, next_year=True, control_group=spec.control_group
        )
    except (ValueError, np.linalg.LinAlgError):
        return None


def policy_outcome_data(panel: pd.DataFrame, policy: str, outcome: str) -> pd.DataFrame:
    """The agency-year rows for one policy and outcome: agencies observed in every year.

    The estimators need a balanced panel; an agency missing the outcome in any year is left
    out. Agencies whose adoption year is unknown (their policy row was rejected) are left
    out too, rather than counted as never adopting.
    """
    cohort, treated = f"cohort_{policy}", f"treated_{policy}"
    known = known_adoption(panel, policy)
    complete = known.groupby(UNIT)[outcome].transform(lambda s: s.notna().all())
    return known.loc[complete, [UNIT, TIME, outcome, cohort, treated]].copy()


def _attempt(problems: list[str], label: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, or None with ``"label: reason"`` added to ``problems`` when an
    estimator refuses the data (``ValueError``)."""
    try:
        return compute()
    except ValueError as error:
        problems.append(f"{label}: {error}")
        return None


def estimate_policy_outcome(
    panel: pd.DataFrame,
    policy: str,
    outcome: Outcome,
    *,
    spec: AnalysisSpec,
    few_cluster: bool = True,
    employees: int | None = None,
) -> PolicyOutcome:
    """Event study, overall ATT, pre-trend test, few-cluster p, TWFE and Bacon for one pair.

    Every call uses the options in ``spec``; the notebook 03_impact shows the same calls
    for one pair with their options written out.
    """
    found: dict[str, Any] = {}
    problems: list[str] = []

    def made() -> PolicyOutcome:
        return PolicyOutcome(
            policy=policy,
            outcome=outcome,
            n_employees=employees,
            spec=spec,
            problems=tuple(problems),
            **found,
        )

    column, cohort, treated = outcome.key, f"cohort_{policy}", f"treated_{policy}"
    if column not in panel:
        problems.append(f"no column {column}")
        return made()
    data = policy_outcome_data(panel, policy, column)
    found["n_agencies"] = int(data[UNIT].nunique())
    first = data[TIME].min()
    adopters = data.loc[data[cohort] > first, UNIT].unique()
    found["n_treated"] = int(len(adopters))
    if found["n_treated"] == 0 or (data[cohort] == 0).sum() == 0:
        problems.append("needs adopting and never-adopting agencies")
        return made()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # Uniform (sup-t) bands from the multiplier bootstrap: they cover the whole
            # event-time path at the chosen level, so a reader may judge the curve.
            found["event"] = event_study(
                data,
                outcome=column,
                unit=UNIT,
                time=TIME,
                cohort=cohort,
                control_group=spec.control_group,
                reference=spec.event_reference,
                n_boot=spec.n_boot,
                boot_weights=bootstrap_weights(found["n_agencies"]),
                seed=spec.seed,
                level=spec.level,
                anticipation=spec.anticipation,
            )
            found["pretrend"] = pretrend_test(found["event"])
        except ValueError as error:
            problems.append(f"event study: {error}")

        def overall(control_group: str):
            """The CS overall ATT (simple aggregation) with one comparison group."""
            return att_gt(
                data,
                outcome=column,
                unit=UNIT,
                time=TIME,
                cohort=cohort,
                control_group=control_group,
                level=spec.level,
                anticipation=spec.anticipation,
            ).aggregate("simple")

        found["overall"] = _attempt(problems, "overall effect", lambda: overall(spec.control_group))
        other = "notyet" if spec.control_group == "never" else "never"
        found["other_control"] = _attempt(
            problems, f"overall effect, {other} comparison", lambda: overall(other)
        )
        found["twfe"] = _attempt(
            problems,
            "TWFE",
            lambda: twfe(
                data,
                outcome=column,
                treatment=treated,
                unit=UNIT,
                time=TIME,
                cluster=UNIT,
                level=spec.level,
            ),
        )
        # Leave-out variance: BJS's recommendation, and what covers at the nominal rate with
        # a few dozen agencies (tests/test_imputation.py).
        found["imputation"] = _attempt(
            problems,
            "imputation estimator",
            lambda: did_imputation(
                data,
                outcome=column,
                unit=UNIT,
                time=TIME,
                cohort=cohort,
                cluster=UNIT,
                leaveout=True,
                level=spec.level,
            ),
        )
        found["bacon"] = _attempt(
            problems,
            "Bacon decomposition",
            lambda: bacon_decomposition(
                data, outcome=column, treatment=treated, unit=UNIT, time=TIME
            ),
        )
    if found["overall"] is not None:
        found["power"] = next_year_power(panel, data, policy, outcome, spec=spec)
        if few_cluster:
            found["p_bootstrap"], found["p_permutation"], more = few_cluster_p(
                data, policy, column, spec=spec
            )
            problems += more
    return made()


def forbidden_weight(bacon: Any) -> float | None:
    """Weight of comparisons that use already-treated agencies as controls."""
    if bacon is None:
        return None
    from asn_eval.estimators.bacon import FORBIDDEN_TYPES

    types = bacon.by_type()
    return float(types.loc[types.index.isin(FORBIDDEN_TYPES), "weight"].sum())


def dukcapil_series(dataset: Any, *, years: list[int] | None = None) -> pd.DataFrame:
    """Dukcapil's monthly median processing days and share completed within the service
    standard, averaged over the documents weighted by requests."""
    series = monthly_service_series(dataset)
    series = series[series["service"].isin(DUKCAPIL_SERVICES)]
    if years is not None:
        series = series[series["month"].dt.year.isin(years)]
    if series.empty:
        return series
    series = series.assign(
        weighted=series["median_time"] * series["requests"],
        weighted_share=series["share_within_standard"] * series["requests"],
    )
    keys = ["agency_code", "month"]
    sums = ["weighted", "weighted_share", "requests"]
    monthly = series.groupby(keys, as_index=False)[sums].sum()
    monthly["dukcapil_days"] = monthly["weighted"] / monthly["requests"]
    monthly["share_within_standard"] = monthly["weighted_share"] / monthly["requests"]
    starts = series.groupby("agency_code")[[f"adopted_{p}" for p in POLICIES]].first()
    return monthly.merge(starts.reset_index(), on="agency_code", how="left")


@dataclass(frozen=True)
class ServiceSeries:
    """The interrupted time series of one policy and one Dukcapil outcome: the ``result``
    (None when it cannot be estimated, ``reason`` says why: a key of the chapter's
    ``services.reasons`` texts), and how many Dukcapil offices the series pools
    (``offices``) and leaves out (``offices_left_out``, other start months)."""

    result: InterruptedTimeSeriesResult | None
    reason: str = ""
    offices: int = 1
    offices_left_out: int = 0

    @property
    def ok(self) -> bool:
        return self.result is not None


def dukcapil_its(
    dataset: Any, *, years: list[int] | None = None, level: float = 0.95
) -> dict[tuple[str, str], ServiceSeries]:
    """Interrupted time series of Dukcapil's services, per policy and outcome.

    Keys are ``(policy, outcome)`` with outcomes in :data:`ITS_OUTCOMES`; values are
    :class:`ServiceSeries`: the ``result`` (None when not estimable), the ``reason``,
    ``offices`` (the Dukcapil offices pooled into the series) and ``offices_left_out``
    (offices whose policies started in other months). Each policy's series is cut at the
    other policy's start, so that one segmented regression sees one intervention: months
    after the other policy started are left out when it came later, months before it when
    it came earlier.

    With several Dukcapil offices (a province: one per city or regency) the series is their
    request-weighted average per month (:func:`pooled_dukcapil_series`), so every office
    counts, not only the first. One segmented regression needs one intervention month, so
    the pooled offices are those that started both policies in the same months (the largest
    such group); the others are counted in ``offices_left_out``.
    """
    from asn_eval.estimators.its import interrupted_time_series

    monthly = dukcapil_series(dataset, years=years)
    if monthly.empty:
        return {}
    monthly, offices, left_out = pooled_dukcapil_series(monthly)
    out: dict[tuple[str, str], ServiceSeries] = {}
    counts = {"offices": offices, "offices_left_out": left_out}
    for policy in DUKCAPIL_POLICIES:
        data, reason = _its_window(monthly, policy)
        start = monthly[f"adopted_{policy}"].iloc[0]
        for outcome in ITS_OUTCOMES:
            if reason:
                out[(policy, outcome)] = ServiceSeries(None, reason, **counts)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = interrupted_time_series(
                    data, outcome=outcome, time="month", intervention=start, level=level
                )
            out[(policy, outcome)] = ServiceSeries(res, "", **counts)
    return out


def pooled_dukcapil_series(monthly: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """One monthly series from the Dukcapil offices of :func:`dukcapil_series`.

    The offices pooled are those whose Dukcapil policies (:data:`DUKCAPIL_POLICIES`) started
    in the same months, the largest such group (ties: the earliest starts); their processing
    days and share within the standard are averaged per month weighted by requests, as the
    documents are within an office. With one office the series is that office's.

    Returns
    -------
    (series, offices, offices_left_out)
        The pooled series (``month``, the outcomes, ``requests`` and the ``adopted_<policy>``
        columns), sorted by month; the number of offices pooled and left out.
    """
    columns = [f"adopted_{p}" for p in POLICIES]
    starts = monthly.groupby("agency_code")[columns].first()
    key = starts[[f"adopted_{p}" for p in DUKCAPIL_POLICIES]].astype(str).agg("|".join, axis=1)
    sizes = key.value_counts()
    largest = sorted(sizes.index, key=lambda k: (-sizes[k], k))[0]
    chosen = key.index[key == largest]
    rows = monthly[monthly["agency_code"].isin(chosen)]
    pooled = rows.groupby("month", as_index=False)[["weighted", "weighted_share", "requests"]].sum()
    pooled["dukcapil_days"] = pooled["weighted"] / pooled["requests"]
    pooled["share_within_standard"] = pooled["weighted_share"] / pooled["requests"]
    for column in columns:
        pooled[column] = starts.loc[chosen, column].iloc[0]
    return pooled.sort_values("month").reset_index(drop=True), len(chosen), len(key) - len(chosen)


def _its_window(monthly: pd.DataFrame, policy: str) -> tuple[pd.DataFrame, str]:
    """The months that show one intervention, or the reason there are none."""
    start = monthly[f"adopted_{policy}"].iloc[0]
    if pd.isna(start):
        return monthly, "never"
    data = monthly
    for other in DUKCAPIL_POLICIES:
        other_start = monthly[f"adopted_{other}"].iloc[0]
        if other == policy or pd.isna(other_start):
            continue
        if other_start == start:
            return monthly, "same_time"
        if other_start > start:
            data = data[data["month"] < other_start]
        else:
            data = data[data["month"] >= other_start]
    pre = int((data["month"] < start).sum())
    post = int((data["month"] >= start).sum())
    if pre < ITS_MIN_MONTHS or post < ITS_MIN_MONTHS:
        return monthly, "short"
    return data, ""


def its_record(policy: str, outcome: str, result: Any) -> ResultRecord:
    """The level change of a Dukcapil segmented regression as a result record."""
    better, unit = ITS_OUTCOMES[outcome].better, ITS_OUTCOMES[outcome].unit
    return ResultRecord.from_estimate_table(
        result,
        policy=policy,
        row="level_change",
        outcome=outcome,
        better=better,
        n_agencies=1,
        unit=unit,
    )


@dataclass(frozen=True)
class ServiceComparison:
    """The synthetic difference-in-differences of one policy and one Dukcapil outcome: Kota
    Kupang's pooled series (the treated unit) against a weighted mix of the province's other
    Dukcapil offices (the donors, ``comparison_services``).

    ``result`` is None when it cannot be estimated; ``reason`` says why (a key of the
    chapter's ``services.reasons`` texts: ``other_policy_running`` when the other Dukcapil
    policy started earlier and ran through this one's pre-period, so the donors, which
    adopted neither, cannot show this policy's counterfactual). ``donors`` counts the offices
    used, ``donors_left_out`` those without a complete series; ``names`` maps donor codes to
    names; ``starts`` gives each Dukcapil policy's first month in Kupang's series (NaT:
    never).
    """

    result: SyntheticResult | None
    reason: str = ""
    donors: int = 0
    donors_left_out: int = 0
    names: dict[str, str] = field(default_factory=dict)
    starts: dict[str, pd.Timestamp] = field(default_factory=dict)

    def earlier_policy(self, policy: str) -> str | None:
        """The Dukcapil policy that started before ``policy`` (the one running through its
        pre-period), or None."""
        start = self.starts.get(policy)
        earlier = [
            (when, other)
            for other, when in self.starts.items()
            if other != policy and pd.notna(when) and pd.notna(start) and when < start
        ]
        return min(earlier)[1] if earlier else None

    @property
    def ok(self) -> bool:
        return self.result is not None

    def __repr__(self) -> str:
        if self.result is None:
            return f"ServiceComparison(not estimated: {self.reason})"
        return f"ServiceComparison({self.donors} donors)\n{self.result.summary()}"

    def _repr_html_(self) -> str:
        if self.result is None:
            return f"<p>{repr(self)}</p>"
        return self.result._repr_html_()

    @property
    def placebo_p(self) -> float | None:
        """The p-value of the placebo standard error (Arkhangelsky et al. 2021, Algorithm 4:
        the spread of the estimate when each donor in turn plays Kota Kupang), the inference
        the interval rests on, so that the p-value and the interval agree. A rank among the
        placebo estimates instead could never fall below 1 / (replications + 1), too coarse
        for a family of a dozen tests."""
        if self.result is None or not np.isfinite(self.result.std_error):
            return None
        return float(self.result.pvalues.iloc[0])

    def weights(self, top: int | None = None) -> pd.Series:
        """The donors' weights (omega) by office name, largest first, only those above zero;
        ``top``: the first ``top`` of them."""
        if self.result is None:
            return pd.Series(dtype=float, name="omega")
        omega = self.result.unit_weights
        omega = omega[omega > 0].sort_values(ascending=False, kind="stable")
        omega.index = [self.names.get(code, code) for code in omega.index]
        return omega if top is None else omega.iloc[:top]

    def record(self, policy: str, outcome: str) -> ResultRecord:
        """The estimate as a result record: a comparison design of 1 + donors offices, its
        few-unit p-value the placebo one (:attr:`placebo_p`); no pre-trend test of its own
        (the weights are fitted to the pre-period)."""
        better, unit = ITS_OUTCOMES[outcome].better, ITS_OUTCOMES[outcome].unit
        return ResultRecord.from_estimate_table(
            self.result,
            policy=policy,
            row="ATT",
            outcome=outcome,
            better=better,
            n_agencies=1 + self.donors,
            p_value_few_cluster=self.placebo_p,
            unit=unit,
        )


def comparison_series(dataset: Any, *, years: list[int] | None = None) -> pd.DataFrame:
    """The province's other Dukcapil offices per month (``comparison_services``), pooled over
    the documents as :func:`dukcapil_series` pools Kota Kupang's: ``office_code``,
    ``office_name``, ``month``, ``dukcapil_days``, ``share_within_standard``, ``requests``
    and ``documents`` (how many documents the month pools). Empty when the dataset has no
    comparison table."""
    table = dataset.tables.get(COMPARISON_TABLE)
    if table is None or len(table) == 0:
        return pd.DataFrame()
    rows = table[table["service"].isin(DUKCAPIL_SERVICES)].copy()
    rows["month"] = pd.to_datetime(rows["month"]).dt.to_period("M").dt.to_timestamp()
    if years is not None:
        rows = rows[rows["month"].dt.year.isin(years)]
    rows = rows.assign(
        weighted=rows["median_time"] * rows["requests"],
        weighted_share=rows["share_within_standard"] * rows["requests"],
    )
    keys = ["office_code", "office_name", "month"]
    grouped = rows.groupby(keys)
    out = grouped[["weighted", "weighted_share", "requests"]].sum()
    out["documents"] = grouped["service"].nunique()
    out = out.reset_index()
    out["dukcapil_days"] = out["weighted"] / out["requests"]
    out["share_within_standard"] = out["weighted_share"] / out["requests"]
    return out.drop(columns=["weighted", "weighted_share"])


def dukcapil_sdid(
    dataset: Any,
    *,
    years: list[int] | None = None,
    level: float = 0.95,
    replications: int = SDID_REPLICATIONS,
    seed: int = 0,
) -> dict[tuple[str, str], ServiceComparison]:
    """Synthetic difference-in-differences of Dukcapil's services, per policy and outcome.

    Kota Kupang's pooled monthly series (:func:`pooled_dukcapil_series`) is the treated unit
    and the province's other Dukcapil offices (:func:`comparison_series`), which adopted
    neither policy, the donors: unit weights make the weighted donors move in parallel with
    Kupang before the policy, time weights pick the pre-policy months that resemble the
    months after it (Arkhangelsky et al. 2021, :func:`~asn_eval.estimators.synthetic_did`),
    with the placebo standard error (``replications``, ``seed``: the same numbers each run).
    Each policy sees the months the interrupted time series sees, cut at the other policy's
    start; a policy that started while the other was already running has no clean
    pre-period against donors that adopted neither (reason ``other_policy_running``).

    Keys are ``(policy, outcome)`` as in :func:`dukcapil_its`; empty when the dataset has no
    ``comparison_services`` table or no Dukcapil series.
    """
    from asn_eval.estimators.synthetic import synthetic_did

    monthly = dukcapil_series(dataset, years=years)
    donors = comparison_series(dataset, years=years)
    if monthly.empty or donors.empty:
        return {}
    pooled, _, _ = pooled_dukcapil_series(monthly)
    # A month missing one of its documents (a rejected row) would mix the documents'
    # different processing days differently from the other months: it is left out, for
    # Kupang and the donors alike, and a donor missing a document in a kept month is left out.
    pooled = pooled[pooled["month"].isin(_complete_months(dataset, years))]
    donors = donors[donors["documents"] == donors["documents"].max()]
    names = dict(zip(donors["office_code"], donors["office_name"], strict=False))
    starts = {p: pooled[f"adopted_{p}"].iloc[0] for p in DUKCAPIL_POLICIES}
    out: dict[tuple[str, str], ServiceComparison] = {}
    for policy in DUKCAPIL_POLICIES:
        data, reason = _its_window(pooled, policy)
        start = pooled[f"adopted_{policy}"].iloc[0]
        if not reason and _other_policy_running(pooled, policy):
            reason = "other_policy_running"
        months = pd.Index(sorted(data["month"]))
        window = donors[donors["month"].isin(months)]
        complete = window.groupby("office_code")["month"].nunique() == len(months)
        used = sorted(complete.index[complete])
        counts = {
            "donors": len(used),
            "donors_left_out": len(names) - len(used),
            "names": names,
            "starts": starts,
        }
        if not reason and len(used) < 2:
            reason = "no_donors"
        for outcome in ITS_OUTCOMES:
            if reason:
                out[(policy, outcome)] = ServiceComparison(None, reason, **counts)
                continue
            treated = data[["month", outcome]].assign(office_code=TREATED_OFFICE)
            panel = pd.concat(
                [window[window["office_code"].isin(used)][["office_code", "month", outcome]],
                 treated],
                ignore_index=True,
            )  # fmt: skip
            panel["treated"] = (
                (panel["office_code"] == TREATED_OFFICE) & (panel["month"] >= start)
            ).astype(int)
            panel["month"] = panel["month"].dt.to_period("M")  # periods read as 2021-02
            res = synthetic_did(
                panel,
                outcome=outcome,
                unit="office_code",
                time="month",
                treated="treated",
                se_method="placebo",
                replications=replications,
                seed=seed,
                level=level,
            )
            out[(policy, outcome)] = ServiceComparison(res, "", **counts)
    return out


# The treated unit's label in the synthetic DiD's panel (Kota Kupang's pooled Dukcapil).
TREATED_OFFICE = "Kota Kupang"


def _complete_months(dataset: Any, years: list[int] | None) -> set[pd.Timestamp]:
    """The months in which every Dukcapil office and document has its row."""
    series = monthly_service_series(dataset)
    series = series[series["service"].isin(DUKCAPIL_SERVICES)]
    if years is not None:
        series = series[series["month"].dt.year.isin(years)]
    rows = series.groupby("month").size()
    return set(rows.index[rows == rows.max()])


def _other_policy_running(pooled: pd.DataFrame, policy: str) -> bool:
    """Whether another Dukcapil policy started before ``policy`` (and so runs through the
    months before it)."""
    start = pooled[f"adopted_{policy}"].iloc[0]
    for other in DUKCAPIL_POLICIES:
        other_start = pooled[f"adopted_{other}"].iloc[0]
        if other != policy and pd.notna(other_start) and other_start < start:
            return True
    return False


@dataclass(frozen=True)
class ImpactResults:
    """Everything chapter 3 estimates, as result objects.

    Attributes
    ----------
    spec
        The options every estimate used.
    agency_panel
        The agency-year panel the estimators read.
    estimates
        ``(policy, outcome) -> PolicyOutcome`` for every pair in :data:`POLICY_OUTCOMES`.
    its
        ``(policy, outcome) -> ServiceSeries`` (the ITS result or why not) for Dukcapil.
    sdid
        ``(policy, outcome) -> ServiceComparison`` (the synthetic DiD against the province's
        other Dukcapil offices, or why not); empty without ``comparison_services``. Where it
        was estimated it leads: its record is the finding and enters the headline family,
        and the ITS of that pair is shown beside it with no verdict (no record).
    sensitivity
        ``(policy, main outcome) -> HonestDiD result``: how large a violation of parallel
        trends the effect at adoption survives (:func:`parallel_trends_sensitivity`).
    dose
        The dose-response of training hours, or why it could not be estimated
        (:class:`~asn_eval.analysis.attempt.Attempt`).
    survey
        Digitalisation -> IKM from the respondent-level survey as repeated cross-sections
        (:mod:`asn_eval.analysis.survey`), or why not: shown beside the agency-year
        estimate, which the decision rules read.
    """

    spec: AnalysisSpec
    agency_panel: pd.DataFrame
    estimates: dict[tuple[str, str], PolicyOutcome]
    its: dict[tuple[str, str], ServiceSeries]
    dose: Attempt[DoseResponseResult] = field(default_factory=lambda: Attempt(problem="not run"))
    sensitivity: dict[tuple[str, str], HonestResult] = field(default_factory=dict)
    survey: Attempt[SurveyEstimate] = field(default_factory=lambda: Attempt(problem="not run"))
    sdid: dict[tuple[str, str], ServiceComparison] = field(default_factory=dict)

    def comparison_leads(self, policy: str, outcome: str) -> bool:
        """Whether Dukcapil's ``(policy, outcome)`` has a synthetic DiD, the finding the ITS
        of that pair stands beside."""
        found = self.sdid.get((policy, outcome))
        return found is not None and found.ok

    def example_pair(self) -> tuple[str, str]:
        """The first policy and outcome (in :data:`POLICY_OUTCOMES` order) that could be
        estimated: the pair the notebook walks through step by step."""
        for pair, res in self.estimates.items():
            if res.ok and res.event is not None:
                return pair
        raise ValueError(
            "No policy and outcome could be estimated: each needs adopting and never-adopting "
            "agencies observed in every year."
        )

    def sensitivity_frame(self) -> pd.DataFrame:
        """One row per headline effect: its estimate in the year of adoption, the interval
        under exact parallel trends and the breakdown value of relative magnitudes."""
        rows = [
            {
                "policy": policy,
                "outcome": outcome,
                "estimate": honest.estimate,
                "ci_low": honest.original[0],
                "ci_high": honest.original[1],
                "breakdown_mbar": honest.breakdown,
            }
            for (policy, outcome), honest in self.sensitivity.items()
        ]
        return pd.DataFrame(rows)

    def records(self) -> list[ResultRecord]:
        """Every estimate the chapter states, for ``results.json``; the headline family
        carries its Holm-adjusted p-values (:func:`adjust_family`)."""
        family = [r.record() for r in self.estimates.values() if r.ok]
        family += [c.record(p, o) for (p, o), c in self.sdid.items() if c.ok]
        records = adjust_family(family)
        records += [r.imputation_record() for r in self.estimates.values() if r.imputation]
        records += [r.other_control_record() for r in self.estimates.values() if r.other_control]
        records += [r.twfe_record() for r in self.estimates.values() if r.twfe is not None]
        for (policy, outcome), its in self.its.items():
            if its.ok and not self.comparison_leads(policy, outcome):
                records.append(its_record(policy, outcome, its.result))
        if self.survey.ok:
            records.append(self.survey.result.record())
        return records

    def to_frame(self) -> pd.DataFrame:
        """One row per estimate with the options behind it (estimator, control group,
        base period, clustering, draws), so a reader can name what produced each number."""
        spec = self.spec
        rows = []
        records = self.records()
        adjusted = {(r.policy, r.outcome): r for r in records if r.estimator == CS_METHOD}
        for (policy, key), res in self.estimates.items():
            if not res.ok:
                continue
            few = res.n_agencies < FEW_CLUSTERS
            analytic = f"analytic ({res.n_agencies} agencies, at least {FEW_CLUSTERS})"
            for rec, inference in (
                (
                    adjusted[(policy, key)],
                    f"randomization inference, {spec.n_perm} permutations" if few else analytic,
                ),
                (
                    res.twfe_record(),
                    f"wild cluster bootstrap, {spec.n_boot} draws" if few else analytic,
                ),
            ):
                if rec is None:
                    continue
                rows.append(
                    {
                        "policy": policy,
                        "outcome": key,
                        "estimator": rec.estimator,
                        "control_group": spec.control_group
                        if rec.estimator == CS_METHOD
                        else "all other agency-years",
                        "base_period": spec.base_period if rec.estimator == CS_METHOD else "",
                        "cluster": UNIT,
                        "estimate": rec.estimate,
                        "std_error": rec.std_error,
                        "ci_low": rec.ci_low,
                        "ci_high": rec.ci_high,
                        "p_value": rec.p_value,
                        "p_value_few_cluster": rec.p_value_few_cluster,
                        "few_cluster_method": inference,
                        "p_value_holm": rec.p_value_adjusted,
                        "pretrend_p": rec.pretrend_p,
                        "agencies": res.n_agencies,
                        "adopting": res.n_treated,
                    }
                )
        for (policy, outcome), its in self.its.items():
            if not its.ok:
                continue
            rec = its_record(policy, outcome, its.result)
            rows.append(
                {
                    "policy": policy,
                    "outcome": outcome,
                    "estimator": ITS_METHOD,
                    "control_group": "the office's own trend before the policy",
                    "base_period": "",
                    "cluster": "HAC (Newey-West)",
                    "estimate": rec.estimate,
                    "std_error": rec.std_error,
                    "ci_low": rec.ci_low,
                    "ci_high": rec.ci_high,
                    "p_value": rec.p_value,
                    "p_value_few_cluster": None,
                    "few_cluster_method": "",
                    "p_value_holm": None,
                    "pretrend_p": None,
                    "agencies": 1,
                    "adopting": 1,
                }
            )
        led = {(r.policy, r.outcome): r for r in records if r.estimator == SDID_METHOD}
        for (policy, outcome), comparison in self.sdid.items():
            if not comparison.ok:
                continue
            rec = led[(policy, outcome)]
            rows.append(
                {
                    "policy": policy,
                    "outcome": outcome,
                    "estimator": SDID_METHOD,
                    "control_group": f"weighted mix of {comparison.donors} other Dukcapil "
                    "offices of the province",
                    "base_period": "",
                    "cluster": "",
                    "estimate": rec.estimate,
                    "std_error": rec.std_error,
                    "ci_low": rec.ci_low,
                    "ci_high": rec.ci_high,
                    "p_value": rec.p_value,
                    "p_value_few_cluster": rec.p_value_few_cluster,
                    "few_cluster_method": "placebo (Algorithm 4), "
                    f"{comparison.result.replications} replications, seed "
                    f"{comparison.result.seed}",
                    "p_value_holm": rec.p_value_adjusted,
                    "pretrend_p": None,
                    "agencies": rec.n_agencies,
                    "adopting": 1,
                }
            )
        if self.survey.ok:
            rows.append(self.survey.result.option_row())
        return pd.DataFrame(rows)


def impact(dataset: Any, spec: AnalysisSpec) -> ImpactResults:
    """Run every estimate of chapter 3 with the options in ``spec``.

    For each policy and each outcome it is expected to move (:data:`POLICY_OUTCOMES`), the
    calls of :func:`estimate_policy_outcome`; for Dukcapil, :func:`dukcapil_its` and, with
    the province's other offices, :func:`dukcapil_sdid`; for training hours,
    :func:`training_dose_response` in its grouped form
    (:func:`training_dose_response_from_engine`, the same estimates without building the
    employee-year panel).
    """
    years = spec.years(dataset)
    agency_panel = agency_year_panel(dataset, years=years)
    employees = employee_count(dataset, years=years)
    estimates = {}
    for policy in POLICIES:
        for key in POLICY_OUTCOMES[policy]:
            per_employee = employees if key in ("skp_good_share", "absence_mean") else None
            estimates[(policy, key)] = estimate_policy_outcome(
                agency_panel, policy, OUTCOMES[key], spec=spec, employees=per_employee
            )
    dose = training_dose_response_from_engine(dataset, years=years, spec=spec)
    sensitivity = {
        (policy, POLICY_OUTCOMES[policy][0]): honest
        for policy in POLICIES
        if (honest := parallel_trends_sensitivity(estimates[(policy, POLICY_OUTCOMES[policy][0])]))
        is not None
    }
    release_memory()  # the estimates' transient frames, before the chapter draws
    return ImpactResults(
        spec=spec,
        agency_panel=agency_panel,
        estimates=estimates,
        its=dukcapil_its(dataset, years=years, level=spec.level),
        dose=dose,
        sensitivity=sensitivity,
        survey=estimate_survey_outcome(
            respondent_frame(dataset, years=years), SURVEY_POLICY, spec=spec
        ),
        sdid=dukcapil_sdid(dataset, years=years, level=spec.level, seed=spec.seed),
    )


def parallel_trends_sensitivity(result: PolicyOutcome, *, level: float | None = None):
    """Rambachan and Roth (2023) sensitivity of the effect at adoption (event time 0).

    Relative magnitudes (HonestDiD's default): the robust interval when post-adoption
    violations of parallel trends may be up to Mbar times the largest pre-adoption one; the
    breakdown value is the largest Mbar at which the effect is still distinguishable from
    zero. None when the event study is missing, has no pre-adoption years, or uses the
    varying base period (the method needs the universal one).
    """
    from asn_eval.estimators.honest import honest_did

    if result.event is None or result.event.reference != -1:
        return None
    try:
        return honest_did(
            result.event,
            method="relative_magnitude",
            e=0,
            level=level if level is not None else float(result.event.level),
        )
    except ValueError:
        return None


def training_dose_response(
    person_panel: pd.DataFrame, *, spec: AnalysisSpec
) -> Attempt[DoseResponseResult]:
    """Dose-response of a good SKP on training hours (JP), clustered by agency.

    Returns an :class:`~asn_eval.analysis.attempt.Attempt`: the result, or why the estimator
    refused the data.
    """
    from asn_eval.estimators.dose import dose_response

    # Only the columns the estimator reads (the whole panel would be copied otherwise).
    columns = ["skp_good", "jp", "employee_id", TIME, UNIT]
    person = person_panel[columns].dropna(subset=["skp_good"])
    return Attempt.of(
        lambda: dose_response(
            person,
            outcome="skp_good",
            hours="jp",
            unit="employee_id",
            time=TIME,
            cluster=UNIT,
            level=spec.level,
        )
    )


def training_dose_response_from_engine(
    dataset: Any, *, years: Sequence[int], spec: AnalysisSpec
) -> Attempt[DoseResponseResult]:
    """:func:`training_dose_response` from the engine's per-agency moments.

    The same estimates, standard errors and messages as :func:`training_dose_response` on
    :func:`~asn_eval.analysis.panels.employee_year_panel` (the grouped form is exact:
    :func:`~asn_eval.estimators.dose.dose_response_from_moments`), without the employee-year
    panel in pandas: DuckDB (or Spark) reads the performance and training tables.
    """
    from asn_eval.estimators.dose import dose_response_from_moments

    return Attempt.of(
        lambda: dose_response_from_moments(
            dose_moments(dataset, years=years, outcome="skp_good"),
            outcome="skp_good",
            unit="employee_id",
            time=TIME,
            cluster=UNIT,
            level=spec.level,
        )
    )
