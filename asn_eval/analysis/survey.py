"""Chapter 3's IKM estimate from the respondent-level survey (repeated cross-sections).

The satisfaction survey (PermenPANRB 14/2017) asks new respondents each semester, so it is a
repeated cross-section, not a panel: nobody is seen twice. The agency-year analysis of
:mod:`asn_eval.analysis.impact` reads it as agency-year IKM means; here every respondent is
one observation of :func:`~asn_eval.estimators.did.att_gt` with ``panel=False`` (Sant'Anna and
Zhao 2020, as R's did ``panel = FALSE``), clustered by agency, the level at which a policy is
adopted.

Scale and estimand. A respondent's score is the IKM of that one respondent: the nine element
scores weighted as the report weights them (:data:`~asn_eval.domain.regulations.IKM_REPORT_WEIGHTS`)
times 25, so the mean of an agency-year's scores is that agency-year's IKM (the agency-year
panel's ``ikm``). The group-time cells pool the respondents of a cohort, and the aggregations
weight cohorts by their respondents: the estimate is the effect on the IKM of the average
respondent served by an adopting agency, where the agency-means estimate is that of the
average adopting agency. Agencies surveyed with more respondents (Dukcapil) weigh more here.

Pure computation: result objects only (the chapter renders them).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from asn_eval.analysis.attempt import Attempt
from asn_eval.analysis.panels import UNKNOWN_COHORT, adoption_cohorts, known_adoption
from asn_eval.analysis.spec import AnalysisSpec, bootstrap_weights
from asn_eval.domain.outcomes import OUTCOMES as REGISTERED
from asn_eval.domain.regulations import IKM_REPORT_WEIGHTS, IKM_SCALE
from asn_eval.estimators.did import METHOD_NAME as DID_METHOD_NAME
from asn_eval.estimators.did import att_gt
from asn_eval.indices.ikm import IKM_ITEMS, _ikm_weights
from asn_eval.results.store import ResultRecord

if TYPE_CHECKING:
    from asn_eval.estimators.did.results import AggregateResult

UNIT = "agency_code"
TIME = "year"
RESPONDENT = "respondent_id"
# The policy and outcome estimated from the survey (the article's digitalisation claim).
SURVEY_POLICY = "digitalisation"
SURVEY_OUTCOME = "ikm"
# The record's estimator name: kept apart from the headline (agency-year) estimator, so
# the decision rules read one record per policy and outcome.
RCS_METHOD = f"{DID_METHOD_NAME} (respondents, repeated cross-sections)"


def respondent_frame(dataset: Any, *, years: list[int] | None = None) -> pd.DataFrame:
    """One row per survey respondent with a complete questionnaire, ready for ``att_gt``.

    Parameters
    ----------
    dataset
        Loaded dataset (``.tables["satisfaction"]``, ``["agencies"]``, ``["policies"]``).
    years
        Calendar years kept; defaults to ``dataset.years``.

    Returns
    -------
    DataFrame
        ``respondent_id, agency_code, period, year, ikm`` and ``cohort_<policy>`` for every
        policy (first year of adoption by the respondent's agency, 0 = never,
        :data:`~asn_eval.analysis.panels.UNKNOWN_COHORT` = dates unknown). ``ikm`` is the
        respondent's own IKM (report weights, times 25): its mean over an agency-year is
        the agency-year IKM of :func:`~asn_eval.analysis.panels.ikm_by_agency_year`.
        Respondents who left an element unanswered have no score on that scale and are left
        out (``attrs["incomplete"]`` counts them), as are rows outside ``years``.
    """
    covered = [int(y) for y in (dataset.years if years is None else years)]
    columns = [RESPONDENT, UNIT, "period", TIME, SURVEY_OUTCOME]
    sat = dataset.tables.get("satisfaction")
    if sat is None or sat.empty:
        empty = pd.DataFrame(columns=columns)
        empty.attrs["incomplete"] = 0
        return empty
    frame = sat.assign(year=sat["period"].astype(str).str[:4].astype(int))
    frame = frame[frame[TIME].isin(covered)]
    scores = frame[list(IKM_ITEMS)].to_numpy(dtype=float)
    complete = ~np.isnan(scores).any(axis=1)
    weights = _ikm_weights(IKM_REPORT_WEIGHTS)
    frame = frame.loc[complete, [RESPONDENT, UNIT, "period", TIME]].assign(
        ikm=scores[complete] @ weights * IKM_SCALE
    )
    cohorts = adoption_cohorts(dataset, years=covered).set_index(UNIT)
    for policy in cohorts.columns:
        frame[f"cohort_{policy}"] = (
            frame[UNIT].map(cohorts[policy]).fillna(UNKNOWN_COHORT).astype(int)
        )
    frame = frame.sort_values([UNIT, TIME, RESPONDENT]).reset_index(drop=True)
    frame.attrs["incomplete"] = int((~complete).sum())
    return frame


@dataclass(frozen=True)
class SurveyEstimate:
    """The respondent-level (repeated cross-section) Callaway-Sant'Anna estimate of one
    policy on IKM: the overall effect (simple aggregation), the event-time effects
    (dynamic aggregation, uniform bands when bootstrapped) and what they rest on."""

    policy: str
    overall: AggregateResult
    dynamic: AggregateResult
    n_respondents: int
    n_agencies: int
    n_treated: int
    spec: AnalysisSpec

    def record(self) -> ResultRecord:
        """The overall effect as a record shown beside the agency-year estimate (never a
        finding of its own: the decision reads the agency-year record)."""
        outcome = REGISTERED[SURVEY_OUTCOME]
        est, se = float(self.overall.overall_att), float(self.overall.overall_se)
        lo, hi = self.overall.overall_interval()
        df = self.n_agencies - 1
        p = float(2 * stats.t.sf(abs(est / se), df)) if se > 0 and df > 0 else None
        return ResultRecord(
            policy=self.policy,
            outcome=SURVEY_OUTCOME,
            estimator=RCS_METHOD,
            estimate=est,
            std_error=se,
            ci_low=float(lo),
            ci_high=float(hi),
            p_value=p,
            n_agencies=self.n_agencies,
            better=outcome.better,
            level=float(self.overall.level),
            unit=outcome.unit,
        )

    def option_row(self) -> dict[str, Any]:
        """The estimate with the options behind it, as a row of ``ImpactResults.to_frame``."""
        rec = self.record()
        return {
            "policy": self.policy,
            "outcome": SURVEY_OUTCOME,
            "estimator": RCS_METHOD,
            "control_group": self.spec.control_group,
            "base_period": self.spec.base_period,
            "cluster": UNIT,
            "estimate": rec.estimate,
            "std_error": rec.std_error,
            "ci_low": rec.ci_low,
            "ci_high": rec.ci_high,
            "p_value": rec.p_value,
            "p_value_few_cluster": None,
            "few_cluster_method": f"t({self.n_agencies - 1}) intervals, clustered by agency",
            "p_value_holm": None,
            "pretrend_p": None,
            "agencies": self.n_agencies,
            "adopting": self.n_treated,
        }


def estimate_survey_outcome(
    frame: pd.DataFrame, policy: str = SURVEY_POLICY, *, spec: AnalysisSpec
) -> Attempt[SurveyEstimate]:
    """``att_gt(panel=False)`` on the respondents of :func:`respondent_frame`.

    The options are those of the agency-year estimates (``spec``: comparison group,
    anticipation, level; base period, bootstrap draws and seed of the event-time curve).
    Standard errors are clustered by agency: the overall effect's are analytic with t(G-1)
    intervals, the event-time curve's come from the multiplier bootstrap with one weight per
    agency (Webb's weights with very few agencies, as chapter 3's event studies) and uniform
    bands. Agencies whose adoption dates are unknown are left out.

    Returns
    -------
    Attempt[SurveyEstimate]
        The estimate, or the estimator's reason for refusing the data.
    """
    cohort = f"cohort_{policy}"
    if frame.empty or cohort not in frame:
        return Attempt(problem="no survey respondents")
    data = known_adoption(frame, policy)
    agencies = data.groupby(UNIT)[cohort].first()
    first = int(data[TIME].min())
    treated = int((agencies > first).sum())
    if treated == 0 or int((agencies == 0).sum()) == 0:
        return Attempt(problem="needs adopting and never-adopting agencies")
    options = dict(
        outcome=SURVEY_OUTCOME,
        unit=RESPONDENT,
        time=TIME,
        cohort=cohort,
        panel=False,
        cluster=UNIT,
        control_group=spec.control_group,
        anticipation=spec.anticipation,
        level=spec.level,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # As the agency-year estimates: the overall effect with analytic clustered
            # standard errors (t(G-1) intervals), the event-time curve with the multiplier
            # bootstrap's uniform bands.
            overall = att_gt(data, **options).aggregate("simple")
            dynamic = att_gt(
                data,
                **options,
                base_period=spec.base_period,
                n_boot=spec.n_boot,
                boot_weights=bootstrap_weights(len(agencies)),
                seed=spec.seed,
            ).aggregate("dynamic")
        except ValueError as error:
            return Attempt(problem=str(error))
    return Attempt(
        SurveyEstimate(
            policy=policy,
            overall=overall,
            dynamic=dynamic,
            n_respondents=len(data),
            n_agencies=len(agencies),
            n_treated=treated,
            spec=spec,
        )
    )
