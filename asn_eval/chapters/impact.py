"""Chapter 3, Dampak / Impact: what each policy changed, estimated with its uncertainty.

The unit of the difference-in-differences analyses is the agency and year (the level at
which policies are adopted): Callaway and Sant'Anna (2021) group-time effects with
never-adopting agencies as the comparison, aggregated to event-study curves and one overall
effect; the pre-trend test; few-cluster inference (wild cluster bootstrap and randomization
inference) because a city has only some tens of agencies; two-way fixed effects beside it
with its Goodman-Bacon decomposition, so a reader sees why the modern estimator is used;
interrupted time series for Dukcapil's monthly processing days; and the dose-response of
training hours on the employee-year panel.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from asn_eval import context, narrative
from asn_eval.chapters.base import Chapter
from asn_eval.estimators.did import att_gt, event_study, pretrend_test
from asn_eval.estimators.twfe import twfe
from asn_eval.figures import PALETTE, ZERO_LINE_COLOUR
from asn_eval.panels import (
    DUKCAPIL_SERVICES,
    POLICIES,
    agency_year_panel,
    employee_year_panel,
    monthly_service_series,
)
from asn_eval.results_store import ResultRecord, save_results

UNIT = "agency_code"
TIME = "year"
CS_METHOD = "Callaway-Sant'Anna"
TWFE_METHOD = "TWFE"
ITS_METHOD = "ITS"
# Draws for few-cluster inference: enough for a p-value to two decimals, quick on 2 cores.
N_BOOTSTRAP = 999
N_PERMUTATIONS = 199
# Months of a monthly series needed on each side of an intervention for a segmented
# regression with month-of-year dummies.
ITS_MIN_MONTHS = 12


@dataclass(frozen=True)
class Outcome:
    """An agency-year outcome: its column, which direction is better and its unit."""

    key: str
    better: str
    unit: str


OUTCOMES: dict[str, Outcome] = {
    "skp_good_share": Outcome("skp_good_share", "higher", "share"),
    "absence_mean": Outcome("absence_mean", "lower", "days"),
    "sanction_share": Outcome("sanction_share", "lower", "share"),
    "jp_mean": Outcome("jp_mean", "higher", "jp"),
    "health_minutes": Outcome("health_minutes", "lower", "minutes"),
    "ikm": Outcome("ikm", "higher", "points"),
}
# Policy -> outcomes it is expected to move (the article's claims), main outcome first.
POLICY_OUTCOMES: dict[str, tuple[str, ...]] = {
    "training_programme": ("skp_good_share", "jp_mean"),
    "performance_appraisal": ("skp_good_share", "absence_mean", "health_minutes"),
    "reward_punishment": ("absence_mean", "sanction_share", "skp_good_share"),
    "digitalisation": ("skp_good_share", "ikm"),
}
# Goodman-Bacon comparison types -> their label keys (chapters.impact.sections.twfe_bacon.types).
BACON_TYPE_KEYS: dict[str, str] = {
    "treated vs never treated": "treated_vs_never",
    "earlier vs later treated": "earlier_vs_later",
    "later vs earlier treated": "later_vs_earlier",
    "later vs always treated": "later_vs_always",
}
# Dukcapil's monthly processing days answer to these policies (the article's example).
DUKCAPIL_POLICIES: tuple[str, ...] = ("training_programme", "digitalisation")
# Dukcapil monthly outcomes: (better direction, unit).
ITS_OUTCOMES: dict[str, tuple[str, str]] = {
    "dukcapil_days": ("lower", "days"),
    "share_within_standard": ("higher", "share"),
}


@dataclass
class PolicyOutcome:
    """Everything estimated for one policy and one agency-year outcome."""

    policy: str
    outcome: Outcome
    n_agencies: int = 0
    n_treated: int = 0
    n_employees: int | None = None
    event: Any = None
    overall: Any = None
    pretrend: Any = None
    twfe: Any = None
    bacon: Any = None
    p_bootstrap: float | None = None  # wild cluster bootstrap, TWFE coefficient
    p_permutation: float | None = None  # randomization inference, CS overall ATT
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.overall is not None

    def record(self) -> ResultRecord:
        lo, hi = self.overall.overall_interval()
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
            pretrend_p=float(self.pretrend.p_value)
            if self.pretrend is not None and self.pretrend.reliable
            else None,
            n_agencies=self.n_agencies,
            n_employees=self.n_employees,
            better=self.outcome.better,
            level=float(self.overall.level),
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
            unit=self.outcome.unit,
        )


def _few_cluster_p(
    data: pd.DataFrame,
    policy: str,
    outcome: str,
    *,
    seed: int,
    n_bootstrap: int = N_BOOTSTRAP,
    n_permutations: int = N_PERMUTATIONS,
) -> tuple[float | None, float | None, list[str]]:
    """Few-cluster p-values: wild cluster bootstrap of the TWFE coefficient and
    randomization inference (adoption years permuted across agencies) of the CS overall ATT.
    """
    from asn_eval.estimators.inference import randomization_inference, wild_cluster_bootstrap

    problems = []
    p_boot = p_perm = None
    cohort, treated = f"cohort_{policy}", f"treated_{policy}"
    try:
        boot = wild_cluster_bootstrap(
            data,
            outcome=outcome,
            treatment=treated,
            unit=UNIT,
            time=TIME,
            cluster=UNIT,
            n_boot=n_bootstrap,
            seed=seed,
        )
        p_boot = float(boot.p_value)
    except ValueError as error:
        problems.append(f"wild bootstrap: {error}")

    def overall_att(frame: pd.DataFrame) -> float:
        gt = att_gt(frame, outcome=outcome, unit=UNIT, time=TIME, cohort=cohort)
        return float(gt.aggregate("simple").overall_att)

    try:
        perm = randomization_inference(
            data,
            estimator=overall_att,
            unit=UNIT,
            cohort=cohort,
            n_perm=n_permutations,
            seed=seed,
            outcome=outcome,
        )
        p_perm = float(perm.p_value)
    except ValueError as error:
        problems.append(f"randomization inference: {error}")
    return p_boot, p_perm, problems


def estimate_policy_outcome(
    panel: pd.DataFrame,
    policy: str,
    outcome: Outcome,
    *,
    seed: int,
    few_cluster: bool = True,
    employees: int | None = None,
    n_bootstrap: int = N_BOOTSTRAP,
    n_permutations: int = N_PERMUTATIONS,
) -> PolicyOutcome:
    """Event study, overall ATT, pre-trend test, few-cluster p, TWFE and Bacon for one pair.

    ``panel`` is the agency-year panel; agencies missing the outcome in any year are left
    out (the estimators need a balanced panel).
    """
    result = PolicyOutcome(policy=policy, outcome=outcome, n_employees=employees)
    column, cohort, treated = outcome.key, f"cohort_{policy}", f"treated_{policy}"
    if column not in panel:
        result.problems.append(f"no column {column}")
        return result
    complete = panel.groupby(UNIT)[column].transform(lambda s: s.notna().all())
    data = panel.loc[complete, [UNIT, TIME, column, cohort, treated]].copy()
    result.n_agencies = int(data[UNIT].nunique())
    first = data[TIME].min()
    adopters = data.loc[data[cohort] > first, UNIT].unique()
    result.n_treated = int(len(adopters))
    if result.n_treated == 0 or (data[cohort] == 0).sum() == 0:
        result.problems.append("needs adopting and never-adopting agencies")
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # Uniform (sup-t) bands from the multiplier bootstrap: they cover the whole
            # event-time path at 95%, so a reader may judge the curve, not single points.
            result.event = event_study(
                data,
                outcome=column,
                unit=UNIT,
                time=TIME,
                cohort=cohort,
                reference=-1,
                n_boot=n_bootstrap,
                seed=seed,
            )
            result.pretrend = pretrend_test(result.event)
        except ValueError as error:
            result.problems.append(f"event study: {error}")
        try:
            gt = att_gt(data, outcome=column, unit=UNIT, time=TIME, cohort=cohort)
            result.overall = gt.aggregate("simple")
        except ValueError as error:
            result.problems.append(f"overall effect: {error}")
        try:
            result.twfe = twfe(
                data, outcome=column, treatment=treated, unit=UNIT, time=TIME, cluster=UNIT
            )
        except ValueError as error:
            result.problems.append(f"TWFE: {error}")
        try:
            from asn_eval.estimators.bacon import bacon_decomposition

            result.bacon = bacon_decomposition(
                data, outcome=column, treatment=treated, unit=UNIT, time=TIME
            )
        except (ImportError, ValueError) as error:
            result.problems.append(f"Bacon decomposition: {error}")
    if few_cluster and result.ok:
        result.p_bootstrap, result.p_permutation, problems = _few_cluster_p(
            data,
            policy,
            column,
            seed=seed,
            n_bootstrap=n_bootstrap,
            n_permutations=n_permutations,
        )
        result.problems += problems
    return result


class Impact(Chapter):
    number = 3
    key = "impact"
    sections = ("design", "event_study", "overall", "twfe_bacon", "services", "dose_response")

    def __init__(
        self,
        dataset: Any,
        *,
        n_bootstrap: int = N_BOOTSTRAP,
        n_permutations: int = N_PERMUTATIONS,
        **kwargs: Any,
    ) -> None:
        super().__init__(dataset, **kwargs)
        self.n_bootstrap = int(n_bootstrap)
        self.n_permutations = int(n_permutations)

    # --- computations (once per chapter) ---------------------------------------------
    @cached_property
    def agency_panel(self) -> pd.DataFrame:
        return agency_year_panel(self.dataset, years=self.years)

    @cached_property
    def person_panel(self) -> pd.DataFrame:
        return employee_year_panel(self.dataset, years=self.years)

    @cached_property
    def estimates(self) -> dict[tuple[str, str], PolicyOutcome]:
        out = {}
        employees = int(self.person_panel["employee_id"].nunique())
        for policy in POLICIES:
            for key in POLICY_OUTCOMES[policy]:
                per_employee = employees if key in ("skp_good_share", "absence_mean") else None
                out[(policy, key)] = estimate_policy_outcome(
                    self.agency_panel,
                    policy,
                    OUTCOMES[key],
                    seed=self.seed,
                    employees=per_employee,
                    n_bootstrap=self.n_bootstrap,
                    n_permutations=self.n_permutations,
                )
        return out

    @cached_property
    def its_results(self) -> dict[tuple, Any]:
        return dukcapil_its(self.dataset, years=self.years)

    def _save(self) -> None:
        records = [r.record() for r in self.estimates.values() if r.ok]
        records += [r.twfe_record() for r in self.estimates.values() if r.twfe is not None]
        for (policy, outcome), its in self.its_results.items():
            if its.get("result") is not None:
                records.append(its_record(policy, outcome, its["result"]))
        save_results(self.output_dir, records, chapter=self.number)

    def after_heading(self) -> None:
        self._save()

    # --- labels -------------------------------------------------------------------------
    def policy_name(self, policy: str) -> str:
        return context.policy(policy, self.lang)["name"]

    def outcome_name(self, key: str) -> str:
        return self.t(f"outcomes.{key}")

    def _scale(self, outcome: Outcome) -> float:
        # Shares are shown in percentage points.
        return 100.0 if outcome.unit == "share" else 1.0

    # 3.1 --------------------------------------------------------------------------------
    def section_design(self) -> None:
        panel = self.agency_panel
        self.paragraph(
            self.t(
                "sections.design.lead",
                agencies=self.num(panel[UNIT].nunique(), 0),
                first=self.years[0],
                last=self.years[-1],
            )
        )
        self.paragraph(self.t("sections.design.inference", threshold=narrative.FEW_CLUSTERS))
        self.paragraph(self.t("sections.design.words"))

    # 3.2 --------------------------------------------------------------------------------
    def section_event_study(self) -> None:
        self.paragraph(self.t("sections.event_study.lead"))
        for policy in POLICIES:
            keys = [k for k in POLICY_OUTCOMES[policy] if self.estimates[(policy, k)].event]
            if not keys:
                continue
            fig, axes = plt.subplots(
                1, len(keys), figsize=(3.6 * len(keys) + 0.6, 3.6), squeeze=False
            )
            for ax, key in zip(axes[0], keys, strict=True):
                self._event_axes(ax, self.estimates[(policy, key)])
            fig.tight_layout()
            self.figure(
                fig,
                f"event_study_{policy}",
                self.t("sections.event_study.fig", policy=self.policy_name(policy)),
            )
            bullets = []
            for key in keys:
                res = self.estimates[(policy, key)]
                if res.pretrend is not None:
                    bullets.append(self._pretrend_bullet(res.pretrend, key))
            if bullets:
                self.bullets(bullets)

    def _pretrend_bullet(self, test: Any, key: str) -> str:
        """One sentence on the pre-trend test, saying so when agencies are too few for it."""
        outcome = self.outcome_name(key)
        if not np.isfinite(test.p_value):
            return self.t("sections.event_study.pretrend_untestable", outcome=outcome, df=test.df)
        p = self.p_eq(test.p_value)
        if not test.reliable:
            return self.t(
                "sections.event_study.pretrend_few", outcome=outcome, p=p, n=test.n_clusters
            )
        if test.p_value < narrative.ALPHA:
            return self.t("sections.event_study.pretrend_fail", outcome=outcome, p=p)
        df2 = "∞" if test.df_denom is None else self.num(test.df_denom)
        return self.t("sections.event_study.pretrend_ok", outcome=outcome, p=p, df=test.df, df2=df2)

    def _event_axes(self, ax: plt.Axes, res: PolicyOutcome) -> None:
        frame = res.event.to_frame()
        scale = self._scale(res.outcome)
        x = frame["event_time"].to_numpy(dtype=float)
        est = frame["estimate"].to_numpy(dtype=float) * scale
        lo = frame["ci_low"].to_numpy(dtype=float) * scale
        hi = frame["ci_high"].to_numpy(dtype=float) * scale
        pre = x < 0
        ax.axhline(0, color=ZERO_LINE_COLOUR, linewidth=0.8)
        ax.axvline(-0.5, color=ZERO_LINE_COLOUR, linewidth=0.8, linestyle=":")
        for mask, colour in ((pre, PALETTE[1]), (~pre, PALETTE[0])):
            ok = mask & np.isfinite(lo)
            ax.fill_between(x[mask], lo[mask], hi[mask], color=colour, alpha=0.0)
            ax.errorbar(
                x[ok],
                est[ok],
                yerr=[est[ok] - lo[ok], hi[ok] - est[ok]],
                fmt="o",
                color=colour,
                capsize=3,
                markersize=4,
            )
            ref = mask & ~np.isfinite(lo)
            ax.plot(x[ref], est[ref], "o", mfc="white", color=colour, markersize=4)
        ax.set_title(self.outcome_name(res.outcome.key), fontsize=9)
        ax.set_xlabel(narrative.text("axis.event_time", self.lang), fontsize=8)
        ax.set_ylabel(self.t(f"units.{res.outcome.unit}"), fontsize=8)
        ax.set_xticks(x.astype(int))
        ax.tick_params(labelsize=7)

    def pvalue(self, p: float | None) -> str:
        from asn_eval.formatting import fmt_pvalue

        return fmt_pvalue(p, self.lang)

    # 3.3 --------------------------------------------------------------------------------
    def section_overall(self) -> None:
        self.paragraph(self.t("sections.overall.lead"))
        rows, problems = [], []
        sentences: dict[str, list[str]] = {}
        cols = self.t("sections.overall.columns")
        for (policy, key), res in self.estimates.items():
            if not res.ok:
                problems.append(
                    self.t(
                        "sections.overall.not_estimable",
                        policy=self.policy_name(policy),
                        outcome=self.outcome_name(key),
                    )
                )
                continue
            rec = res.record()
            scale = self._scale(res.outcome)
            rows.append(
                {
                    cols["policy"]: self.policy_name(policy),
                    cols["outcome"]: self.outcome_name(key),
                    cols["estimate"]: rec.estimate * scale,
                    cols["interval"]: self.interval(rec.ci_low * scale, rec.ci_high * scale),
                    cols["p_value"]: self.pvalue(rec.p_value),
                    cols["p_few"]: self.pvalue(rec.p_value_few_cluster),
                    cols["pretrend_p"]: self.pvalue(rec.pretrend_p),
                    cols["agencies"]: f"{res.n_treated}/{res.n_agencies}",
                    cols["verdict"]: narrative.text(f"verdict.{rec.verdict}", self.lang),
                }
            )
            sentences.setdefault(policy, []).append(narrative.effect_sentence(rec, self.lang))
        if rows:
            self.table(
                pd.DataFrame(rows),
                "overall_effects",
                self.t("sections.overall.caption"),
                digits=2,
                note=self.t("sections.overall.note", n_perm=self.n_permutations),
            )
        for policy, said in sentences.items():
            self.subheading(self.policy_name(policy))
            self.bullets(said)
        if problems:
            self.bullets(problems)

    def interval(self, lo: float, hi: float) -> str:
        from asn_eval.formatting import fmt_interval

        return fmt_interval(lo, hi, self.lang, digits=2)

    # 3.4 --------------------------------------------------------------------------------
    def section_twfe_bacon(self) -> None:
        self.paragraph(self.t("sections.twfe_bacon.lead"))
        cols = self.t("sections.twfe_bacon.columns")
        rows = []
        for (policy, key), res in self.estimates.items():
            if not res.ok or res.twfe is None:
                continue
            scale = self._scale(res.outcome)
            tw = res.twfe_record()
            forbidden = _forbidden_weight(res.bacon)
            rows.append(
                {
                    cols["policy"]: self.policy_name(policy),
                    cols["outcome"]: self.outcome_name(key),
                    cols["cs"]: res.overall.overall_att * scale,
                    cols["twfe"]: tw.estimate * scale,
                    cols["twfe_interval"]: self.interval(tw.ci_low * scale, tw.ci_high * scale),
                    cols["p_wild"]: self.pvalue(tw.p_value_few_cluster),
                    cols["forbidden"]: forbidden,
                }
            )
        if rows:
            self.table(
                pd.DataFrame(rows),
                "twfe_vs_cs",
                self.t("sections.twfe_bacon.caption"),
                digits={**{c: 2 for c in rows[0]}, cols["forbidden"]: 0},
                percent=[cols["forbidden"]],
            )
        main = [
            self.estimates[(p, POLICY_OUTCOMES[p][0])]
            for p in POLICIES
            if self.estimates[(p, POLICY_OUTCOMES[p][0])].bacon is not None
        ]
        if not main:
            return
        fig, axes = plt.subplots(1, len(main), figsize=(3.4 * len(main), 3.6), squeeze=False)
        kinds = sorted({t for r in main for t in r.bacon.to_frame()["type"]})
        colours = {kind: PALETTE[i % len(PALETTE)] for i, kind in enumerate(kinds)}
        for ax, res in zip(axes[0], main, strict=True):
            frame = res.bacon.to_frame()
            scale = self._scale(res.outcome)
            for kind in kinds:
                part = frame[frame["type"] == kind]
                if len(part):
                    ax.scatter(
                        part["weight"],
                        part["estimate"] * scale,
                        label=self.t(f"sections.twfe_bacon.types.{BACON_TYPE_KEYS[kind]}"),
                        color=colours[kind],
                        s=18,
                    )
            ax.axhline(res.bacon.twfe_estimate * scale, color=ZERO_LINE_COLOUR, linestyle="--")
            ax.axhline(0, color=ZERO_LINE_COLOUR, linewidth=0.6)
            ax.set_title(self.policy_name(res.policy), fontsize=9)
            ax.set_xlabel(narrative.text("axis.weight", self.lang), fontsize=8)
            ax.set_ylabel(narrative.text("axis.estimate_2x2", self.lang), fontsize=8)
            ax.tick_params(labelsize=7)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7)
        fig.tight_layout(rect=(0, 0.14, 1, 1))
        self.figure(fig, "bacon_decomposition", self.t("sections.twfe_bacon.fig"))

    # 3.5 --------------------------------------------------------------------------------
    def section_services(self) -> None:
        its = self.its_results
        if not its:
            self.paragraph(self.t("sections.services.none"))
        else:
            self.paragraph(self.t("sections.services.lead"))
            results = {k: v["result"] for k, v in its.items() if v.get("result") is not None}
            if results:
                self.figure(
                    self._its_figure(results), "dukcapil_its", self.t("sections.services.fig")
                )
                self.bullets([self._its_sentence(p, o, r) for (p, o), r in results.items()])
            skipped = sorted(
                {
                    self.t(
                        "sections.services.skipped",
                        policy=self.policy_name(p),
                        reason=self.t(f"sections.services.reasons.{v['reason']}"),
                    )
                    for (p, _), v in its.items()
                    if v.get("result") is None
                }
            )
            if skipped:
                self.bullets(skipped)
        res = self.estimates.get(("performance_appraisal", "health_minutes"))
        if res is not None and res.ok:
            self.paragraph(self.t("sections.services.health"))
            self.bullets([narrative.effect_sentence(res.record(), self.lang)])

    def _its_figure(self, results: dict[tuple, Any]) -> plt.Figure:
        policies = list(dict.fromkeys(p for p, _ in results))
        outcomes = list(dict.fromkeys(o for _, o in results))
        fig, axes = plt.subplots(
            len(outcomes),
            len(policies),
            figsize=(5 * len(policies), 3.2 * len(outcomes)),
            squeeze=False,
            sharex="col",
        )
        for (policy, outcome), res in results.items():
            ax = axes[outcomes.index(outcome), policies.index(policy)]
            scale = 100.0 if ITS_OUTCOMES[outcome][1] == "share" else 1.0
            ax.plot(res.observed.index, res.observed * scale, ".", color=PALETTE[7], ms=3)
            ax.plot(res.fitted.index, res.fitted * scale, color=PALETTE[0])
            post = res.counterfactual.index >= res.intervention
            ax.plot(
                res.counterfactual.index[post],
                res.counterfactual[post] * scale,
                color=PALETTE[1],
                linestyle="--",
            )
            ax.axvline(res.intervention, color=ZERO_LINE_COLOUR, linestyle=":")
            ax.set_title(self.policy_name(policy), fontsize=9)
            ax.set_ylabel(self.t(f"sections.services.axis.{outcome}"), fontsize=8)
            ax.tick_params(labelsize=7)
        fig.autofmt_xdate()
        fig.tight_layout()
        return fig

    def _its_sentence(self, policy: str, outcome: str, result: Any) -> str:
        rec = its_record(policy, outcome, result)
        scale = 100.0 if rec.unit == "share" else 1.0
        digits = 3 if rec.unit == "share" else 2
        return self.t(
            f"sections.services.sentence.{outcome}",
            policy=self.policy_name(policy),
            month=self.month(result.intervention),
            level=self.num(rec.estimate * scale, 2),
            interval=self.interval(rec.ci_low * scale, rec.ci_high * scale),
            slope=self.num(float(result.params["slope_change"]) * scale, digits),
            verdict=narrative.text(f"verdict.{rec.verdict}", self.lang),
        )

    def month(self, when: Any) -> str:
        from babel.dates import format_date

        return format_date(pd.Timestamp(when).date(), "MMMM y", locale=self.lang)

    # 3.6 --------------------------------------------------------------------------------
    def section_dose_response(self) -> None:
        from asn_eval.estimators.dose import dose_response

        person = self.person_panel.dropna(subset=["skp_good"])
        self.paragraph(self.t("sections.dose_response.lead"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = dose_response(
                    person,
                    outcome="skp_good",
                    hours="jp",
                    unit="employee_id",
                    time=TIME,
                    cluster=UNIT,
                )
            except ValueError as error:
                self.paragraph(self.t("sections.dose_response.failed", error=str(error)))
                return
        frame = res.to_frame()
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        x = np.arange(len(frame) + 1)
        est = np.r_[0.0, frame["estimate"].to_numpy() * 100]
        lo = np.r_[0.0, frame["ci_low"].to_numpy() * 100]
        hi = np.r_[0.0, frame["ci_high"].to_numpy() * 100]
        ax.errorbar(x, est, yerr=[est - lo, hi - est], fmt="o-", color=PALETTE[0], capsize=3)
        ax.axhline(0, color=ZERO_LINE_COLOUR, linewidth=0.8)
        ax.set_xticks(x, ["0 JP", *frame["hours_bin"].astype(str)], fontsize=8)
        ax.set_xlabel(narrative.text("axis.jp", self.lang))
        ax.set_ylabel(self.t("units.share"))
        fig.tight_layout()
        self.figure(fig, "dose_response", self.t("sections.dose_response.fig"))
        crit = stats.t.ppf(0.5 + res.level / 2, res.spline_fit.df)
        lo_j, hi_j = res.jump - crit * res.jump_se, res.jump + crit * res.jump_se
        self.paragraph(
            self.t(
                "sections.dose_response.jump",
                threshold=self.num(res.threshold, 0),
                jump=self.num(res.jump * 100, 2),
                interval=self.interval(lo_j * 100, hi_j * 100),
                p=self.p_eq(res.jump_pvalue),
            )
        )
        self.paragraph(self.t("sections.dose_response.caveat"))


def _forbidden_weight(bacon: Any) -> float | None:
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


def dukcapil_its(dataset: Any, *, years: list[int] | None = None) -> dict[tuple, dict]:
    """Interrupted time series of Dukcapil's services, per policy and outcome.

    Keys are ``(policy, outcome)`` with outcomes in :data:`ITS_OUTCOMES`; values hold the
    ``result`` (None when not estimable) and the ``reason``. Each policy's series is cut at
    the other policy's start, so that one segmented regression sees one intervention:
    months after the other policy started are left out when it came later, months before it
    when it came earlier.
    """
    from asn_eval.estimators.its import interrupted_time_series

    monthly = dukcapil_series(dataset, years=years)
    if monthly.empty:
        return {}
    agency = sorted(monthly["agency_code"].unique())[0]
    monthly = monthly[monthly["agency_code"] == agency].sort_values("month")
    out: dict[tuple, dict] = {}
    for policy in DUKCAPIL_POLICIES:
        data, reason = _its_window(monthly, policy)
        start = monthly[f"adopted_{policy}"].iloc[0]
        for outcome in ITS_OUTCOMES:
            if reason:
                out[(policy, outcome)] = {"result": None, "reason": reason}
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = interrupted_time_series(
                    data, outcome=outcome, time="month", intervention=start
                )
            out[(policy, outcome)] = {"result": res, "reason": ""}
    return out


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
    better, unit = ITS_OUTCOMES[outcome]
    return ResultRecord.from_estimate_table(
        result,
        policy=policy,
        row="level_change",
        outcome=outcome,
        better=better,
        n_agencies=1,
        unit=unit,
    )
