"""Chapter 4's analysis: who is slow to take up a policy, for whom it works, and what it costs.

Pure computation: :func:`challenges` takes the loaded dataset and an
:class:`~asn_eval.analysis.spec.AnalysisSpec` and returns :class:`ChallengesResults`, result
objects only (no figure, table file or sentence; :mod:`asn_eval.report.chapters.challenges` renders
them). Three questions from the source article's challenges:

* resistance to change: Kaplan-Meier curves of the months from an agency's digitalisation
  start to each employee's first use of the digital system, by age band, with the log-rank
  test that the bands share one curve;
* uneven effects: the Callaway-Sant'Anna overall effect of digitalisation on the chance of a
  good SKP predicate (Baik or Sangat Baik, PermenPANRB 6/2022), estimated separately by age
  band, education and position type on the employee-year panel, clustered by agency;
* limited training capacity: each agency's training places in the report year against the
  places its headcount needs to give every employee the 20 JP minimum (PP 11/2017 art. 203
  as amended by PP 17/2020).

The module is named for the chapter's subject (barriers to the policies) so that it does not
shadow the function :func:`challenges` exported from :mod:`asn_eval.analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.analysis.attempt import Attempt
from asn_eval.analysis.panels import (
    UNKNOWN_COHORT,
    adoption_counts,
    employee_year_panel,
    subgroup_cells,
    training_capacity,
)
from asn_eval.analysis.spec import AnalysisSpec
from asn_eval.common.memory import release_memory
from asn_eval.domain.regulations import JP_MINIMUM_PER_YEAR
from asn_eval.domain.subgroups import (
    EDUCATION_GROUPS,
    EDUCATION_ORDER,
    HETEROGENEITY_OUTCOME,
    RESISTANCE_POLICY,
)
from asn_eval.domain.subgroups import age_band_at as age_band
from asn_eval.estimators.adoption import AdoptionCurves, adoption_curves_from_counts
from asn_eval.estimators.dose import (
    HeterogeneityResult,
    heterogeneity,
    heterogeneity_from_cells,
)
from asn_eval.estimators.multiple import holm
from asn_eval.results.store import ResultRecord

UNIT = "employee_id"
TIME = "year"
CLUSTER = "agency_code"
# Subgroups fixed per employee: age band at the start of the window, education, position.
HETEROGENEITY_BY: tuple[str, ...] = ("age_band_start", "education_group", "position_type")
# Each subgroup's column in the engine's cells (panels.subgroup_cells) and its order there.
CELL_COLUMNS: dict[str, str] = {
    "age_band_start": "age_band",
    "education_group": "education_group",
    "position_type": "position_type",
}
CELL_ORDER: dict[str, tuple[str, ...] | None] = {
    "age_band_start": None,  # the age bands' own order
    "education_group": EDUCATION_ORDER,
    "position_type": None,  # sorted, as heterogeneity orders a text column
}


def heterogeneity_panel(dataset: Any, *, years: list[int], policy: str) -> pd.DataFrame:
    """Employee-year panel with subgroups fixed per employee and one cohort per employee.

    An employee keeps the adoption year of the agency where he or she was first observed
    (transfers do not move an employee between cohorts); age band is taken on 1 January of
    the first year; education is grouped as :data:`EDUCATION_GROUPS`. Rows without an SKP
    outcome are left out. One row per employee and year: for estimation, never for display.
    """
    person = employee_year_panel(dataset, years=years)
    first = person.sort_values(TIME).groupby(UNIT)[f"cohort_{policy}"].first()
    person["cohort"] = person[UNIT].map(first).astype(int)
    # Employees of an agency whose adoption date is unknown are not never-adopters.
    person = person[person["cohort"] != UNKNOWN_COHORT].copy()
    born = dataset.tables["employees"].set_index(UNIT)["birth_date"]
    starts = age_band(born, at=pd.Timestamp(year=years[0], month=1, day=1))
    person["age_band_start"] = person[UNIT].map(starts)
    person["age_band_start"] = pd.Categorical(
        person["age_band_start"], categories=starts.cat.categories, ordered=True
    )
    education = person["education"].astype(str).map(EDUCATION_GROUPS)
    person["education_group"] = pd.Categorical(
        education, categories=list(EDUCATION_ORDER), ordered=True
    )
    # a position set aside by the data check stays missing: no subgroup of its own
    person["position_type"] = person["position_type"].astype(object).where(
        person["position_type"].notna()
    )
    return person.dropna(subset=[HETEROGENEITY_OUTCOME])


def follow_up_end(dataset: Any, *, year: int) -> pd.Timestamp:
    """End of follow-up of the adoption curves: the data date, at most 31 December of ``year``."""
    end_of_year = pd.Timestamp(year=int(year), month=12, day=31)
    meta = getattr(dataset, "metadata", {}) or {}
    data_date = meta.get("data_date")
    return min(pd.Timestamp(data_date), end_of_year) if data_date else end_of_year


def subgroup_effects(
    panel: pd.DataFrame, *, spec: AnalysisSpec
) -> dict[str, Attempt[HeterogeneityResult]]:
    """The effect of :data:`RESISTANCE_POLICY` by each subgroup of :data:`HETEROGENEITY_BY`.

    Returns one :class:`~asn_eval.analysis.attempt.Attempt` per subgroup column, in the order
    of :data:`HETEROGENEITY_BY`: the estimate, or for a column that could not be estimated
    (e.g. fewer than two groups with adopting and never-adopting staff) the estimator's
    message as its ``problem``.
    """
    attempts: dict[str, Attempt[HeterogeneityResult]] = {}
    for by in HETEROGENEITY_BY:
        attempts[by] = Attempt.of(
            lambda by=by: heterogeneity(
                panel,
                outcome=HETEROGENEITY_OUTCOME,
                unit=UNIT,
                time=TIME,
                cohort="cohort",
                by=by,
                cluster=CLUSTER,
                level=spec.level,
            )
        )
    return attempts


def subgroup_effects_from_cells(
    cells: pd.DataFrame, *, spec: AnalysisSpec
) -> dict[str, Attempt[HeterogeneityResult]]:
    """:func:`subgroup_effects` from the engine's cells (:func:`~asn_eval.analysis.panels.
    subgroup_cells`): the same estimates, standard errors and messages, through
    :func:`~asn_eval.estimators.dose.heterogeneity_from_cells`, exact for this
    Callaway-Sant'Anna estimate (no covariates, balanced panel, clustered by agency)."""
    attempts: dict[str, Attempt[HeterogeneityResult]] = {}
    for by in HETEROGENEITY_BY:
        attempts[by] = Attempt.of(
            lambda by=by: heterogeneity_from_cells(
                cells,
                by=CELL_COLUMNS[by],
                outcome=HETEROGENEITY_OUTCOME,
                time=TIME,
                cluster=CLUSTER,
                categories=CELL_ORDER[by],
                label=by,
                level=spec.level,
            )
        )
    return attempts


@dataclass(frozen=True)
class ChallengesResults:
    """Everything chapter 4 computes, as result objects.

    Attributes
    ----------
    spec
        The options every number used (``level``, ``min_cell_size``).
    as_of
        End of follow-up of the adoption curves.
    adoption
        Kaplan-Meier curves of months to first use of the digital system by age band.
    subgroup_attempts
        Subgroup column -> :class:`~asn_eval.analysis.attempt.Attempt` of a
        :class:`~asn_eval.estimators.dose.HeterogeneityResult` (the estimate, or why it could
        not be made); :attr:`subgroups` and :attr:`subgroup_problems` read it.
    capacity
        :func:`asn_eval.analysis.panels.training_capacity` in the report year, plus
        ``places_per_employee`` (training places / headcount).
    n_employees
        Employees in the heterogeneity panel.
    n_agencies
        Agencies in the heterogeneity panel (the clusters).
    """

    spec: AnalysisSpec
    as_of: pd.Timestamp
    adoption: AdoptionCurves
    subgroup_attempts: dict[str, Attempt[HeterogeneityResult]]
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_employees: int = 0
    n_agencies: int = 0
    policy: str = RESISTANCE_POLICY
    outcome: str = HETEROGENEITY_OUTCOME

    @property
    def subgroups(self) -> dict[str, HeterogeneityResult]:
        """Subgroup column -> its estimate, for the columns that could be estimated."""
        return {by: a.result for by, a in self.subgroup_attempts.items() if a.result is not None}

    @property
    def subgroup_problems(self) -> dict[str, str]:
        """Subgroup column -> why it could not be estimated."""
        return {by: a.problem for by, a in self.subgroup_attempts.items() if not a.ok}

    # --- training capacity -------------------------------------------------------------
    @property
    def jp_per_course(self) -> float:
        """Mean JP of one course in the report year."""
        return float(self.capacity["jp_per_course"].iloc[0]) if len(self.capacity) else np.nan

    @property
    def places_per_employee_needed(self) -> float:
        """Places per employee that give everyone the 20 JP minimum at :attr:`jp_per_course`."""
        return JP_MINIMUM_PER_YEAR / self.jp_per_course if len(self.capacity) else np.nan

    def shortfall(self) -> pd.DataFrame:
        """Agencies with fewer places than the minimum needs, largest shortfall first."""
        if self.capacity.empty:
            return self.capacity
        return self.capacity[self.capacity["shortfall"] > 0]

    def capacity_summary(self) -> pd.Series:
        """Agencies, how many fall short, total shortfall and places needed, JP per course."""
        cap = self.capacity
        return pd.Series(
            {
                "year": int(self.spec.year),
                "agencies": len(cap),
                "agencies_short": len(self.shortfall()),
                "places": float(cap["training_places"].sum()) if len(cap) else np.nan,
                "places_needed": float(cap["places_needed"].sum()) if len(cap) else np.nan,
                "shortfall": float(cap["shortfall"].sum()) if len(cap) else np.nan,
                "jp_per_course": self.jp_per_course,
                "places_per_employee_needed": self.places_per_employee_needed,
            },
            name="training capacity",
            dtype=object,
        )

    # --- subgroup effects -------------------------------------------------------------
    def records(self) -> list[ResultRecord]:
        """One record per subgroup estimate, for ``results.json``, with its standing.

        Subgroup estimates are read like any other finding (:mod:`asn_eval.domain.decision`):
        no pre-trend test is run per subgroup (untestable, never a pass), no few-cluster
        p-value is computed for them, and their p-values are Holm-adjusted across all the
        subgroup estimates of the chapter, so an interval away from zero is at most
        tentative here.
        """
        records = []
        for by, res in self.subgroups.items():
            for group in res.params.index:
                records.append(
                    ResultRecord.from_estimate_table(
                        res,
                        policy=self.policy,
                        row=group,
                        outcome=f"{self.outcome}|{by}={group}",
                        better="higher",
                        unit="share",
                        n_agencies=self.n_agencies or None,
                        pretrend_status="untestable",
                    )
                )
        if not records:
            return records
        adjusted = holm([r.p_value for r in records])
        return [
            replace(r, p_value_adjusted=float(p), verdict=None, standing=None, reasons=())
            for r, p in zip(records, adjusted, strict=True)
        ]

    def to_frame(self) -> pd.DataFrame:
        """One row per subgroup estimate with the options behind it (estimator, comparison,
        clustering, level) and the p-value of the test that the subgroups' effects are equal."""
        rows = []
        for by, res in self.subgroups.items():
            ci = res.conf_int()
            for group in res.params.index:
                rows.append(
                    {
                        "policy": self.policy,
                        "outcome": self.outcome,
                        "by": by,
                        "group": str(group),
                        "estimator": res.method,
                        "control_group": "never",
                        "cluster": CLUSTER,
                        "level": res.level,
                        "estimate": float(res.params[group]),
                        "std_error": float(res.std_errors[group]),
                        "ci_low": float(ci.loc[group, "ci_low"]),
                        "ci_high": float(ci.loc[group, "ci_high"]),
                        "equality_p": float(res.equality_pvalue),
                    }
                )
        return pd.DataFrame(rows)


def challenges(dataset: Any, spec: AnalysisSpec) -> ChallengesResults:
    """Compute every number of chapter 4 with the options in ``spec``.

    The calls, with their options, are those the notebook 04_challenges shows:
    :func:`~asn_eval.estimators.adoption.adoption_curves` by age band up to
    :func:`follow_up_end` (here in its grouped form,
    :func:`~asn_eval.estimators.adoption.adoption_curves_from_counts` on the engine's
    :func:`~asn_eval.analysis.panels.adoption_counts`, which gives the same curves),
    :func:`subgroup_effects` on :func:`heterogeneity_panel` (grouped too:
    :func:`subgroup_effects_from_cells` on :func:`~asn_eval.analysis.panels.subgroup_cells`), and
    :func:`~asn_eval.analysis.panels.training_capacity` in ``spec.year``.
    """
    as_of = follow_up_end(dataset, year=spec.year)
    # The grouped form of adoption_curves (the same curves, medians and log-rank test): the
    # engine counts the employees per age band, duration and status.
    curves = adoption_curves_from_counts(
        adoption_counts(dataset, as_of=as_of, by="age_band"),
        by="age_band",
        as_of=as_of,
        level=spec.level,
    )
    # The grouped form of subgroup_effects on heterogeneity_panel (the same estimates): the
    # engine sums the outcome per subgroup, agency, cohort and year.
    cells = subgroup_cells(dataset, policy=RESISTANCE_POLICY, years=spec.years(dataset))
    subgroups = subgroup_effects_from_cells(cells, spec=spec)
    capacity = training_capacity(dataset, year=spec.year)
    if len(capacity):
        capacity = capacity.assign(
            places_per_employee=capacity["training_places"] / capacity["headcount"]
        )
    release_memory()  # the employee-level frames, before the chapter draws
    return ChallengesResults(
        spec=spec,
        as_of=as_of,
        adoption=curves,
        subgroup_attempts=subgroups,
        capacity=capacity,
        n_employees=int(cells["n_employees"].iloc[0]) if len(cells) else 0,
        n_agencies=int(cells["n_agencies"].iloc[0]) if len(cells) else 0,
    )
