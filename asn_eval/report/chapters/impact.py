"""Chapter 3, Dampak / Impact: renders :class:`~asn_eval.analysis.impact.ImpactResults`.

The estimates come from :func:`asn_eval.analysis.impact` (pure computation, options in one
:class:`~asn_eval.analysis.AnalysisSpec`); this module turns them into the chapter's
figures, tables and prose and saves its records to ``results.json``.
"""

from __future__ import annotations

import textwrap
from functools import cached_property
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from babel.lists import format_list
from scipy import stats

from asn_eval.analysis.impact import (
    CS_METHOD,
    ITS_OUTCOMES,
    POLICY_OUTCOMES,
    SDID_METHOD,
    TREATED_OFFICE,
    UNIT,
    ImpactResults,
    Outcome,
    PolicyOutcome,
    forbidden_weight,
    impact,
    its_record,
)
from asn_eval.analysis.panels import POLICIES
from asn_eval.domain import setting as context
from asn_eval.report import narrative, plots
from asn_eval.report.chapters.base import Chapter
from asn_eval.report.effects import EffectSummary
from asn_eval.report.figures import figure_size, wrap_label
from asn_eval.results.store import as_stored, save_results

# Goodman-Bacon comparison types -> their label keys (chapters.impact.sections.twfe_bacon.types).
BACON_TYPE_KEYS: dict[str, str] = {
    "treated vs never treated": "treated_vs_never",
    "earlier vs later treated": "earlier_vs_later",
    "later vs earlier treated": "later_vs_earlier",
    "later vs always treated": "later_vs_always",
}


def _panel_title(text: str) -> str:
    """A panel title wrapped to the width of a half-page panel (two panels a row)."""
    return textwrap.fill(text, width=34)


def _panels(n: int) -> tuple[plt.Figure, list[plt.Axes]]:
    """A full-width figure of ``n`` panels, two per row, drawn at its printed size."""
    cols = min(n, 2)
    rows = -(-n // cols)
    width = figure_size("full")[0]
    fig, grid = plt.subplots(
        rows, cols, figsize=(width, 2.5 * rows + 0.7), squeeze=False, layout="constrained"
    )
    axes = list(grid.ravel())
    for extra in axes[n:]:
        extra.remove()
    return fig, axes[:n]


class Impact(Chapter):
    number = 3
    key = "impact"
    sections = (
        "design",
        "event_study",
        "overall",
        "survey",
        "sensitivity",
        "twfe_bacon",
        "services",
        "dose_response",
    )

    def __init__(self, dataset: Any, *, results: ImpactResults | None = None, **kwargs: Any):
        super().__init__(dataset, **kwargs)
        self._results = results

    @property
    def results(self) -> ImpactResults:
        """The chapter's estimates: given by the notebook, or computed once here."""
        if self._results is None:
            self._results = impact(self.dataset, self.spec)
        return self._results

    @property
    def estimates(self) -> dict[tuple[str, str], PolicyOutcome]:
        return self.results.estimates

    @property
    def agency_panel(self) -> pd.DataFrame:
        return self.results.agency_panel

    @property
    def _other_control(self) -> str:
        return "notyet" if self.spec.control_group == "never" else "never"

    @cached_property
    def headline(self) -> dict[tuple[str, str], Any]:
        """The Callaway-Sant'Anna records as results.json stores them (with the family's
        adjusted p-values), so every table and sentence reads the same decision."""
        return {
            (r.policy, r.outcome): as_stored(r)
            for r in self.results.records()
            if r.estimator == CS_METHOD
        }

    @cached_property
    def service_records(self) -> dict[tuple[str, str], Any]:
        """The synthetic DiD records of Dukcapil as results.json stores them (with the
        family's adjusted p-values): the findings the ITS stands beside."""
        return {
            (r.policy, r.outcome): r
            for r in self.results.records()
            if r.estimator == SDID_METHOD
        }

    def after_heading(self) -> None:
        save_results(self.output_dir, self.results.records(), chapter=self.number)

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
        gaps = getattr(self.dataset, "policy_gaps", None)
        if gaps is not None and len(gaps):
            names = self.dataset.tables["agencies"].set_index("agency_code")["agency_name"]
            left = [str(names.get(code, code)) for code in gaps["agency_code"]]
            self.paragraph(
                self.t(
                    "sections.design.left_out",
                    n=self.num(len(left), 0),
                    agencies=format_list(left, locale=self.lang),
                )
            )
        self.paragraph(self.t("sections.design.inference", threshold=narrative.FEW_CLUSTERS))
        self.paragraph(self.t("sections.design.words", threshold=narrative.FEW_CLUSTERS))

    # 3.2 --------------------------------------------------------------------------------
    def section_event_study(self) -> None:
        self.paragraph(self.t("sections.event_study.lead"))
        for policy in POLICIES:
            keys = [k for k in POLICY_OUTCOMES[policy] if self.estimates[(policy, k)].event]
            if not keys:
                continue
            fig, axes = _panels(len(keys))
            for ax, key in zip(axes, keys, strict=True):
                res = self.estimates[(policy, key)]
                plots.event_study(
                    res.event,
                    ax=ax,
                    lang=self.lang,
                    percent=res.outcome.unit == "share",
                    title=_panel_title(self.outcome_name(key)),
                    ylabel=self.t(f"units.{res.outcome.unit}"),
                    labels={"event_time": narrative.text("axis.event_time", self.lang)},
                )
            plots.shared_legend(fig, source=axes[0])
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
            rec = self.headline[(policy, key)]
            effect = EffectSummary(rec, self.lang)
            rows.append(
                {
                    **effect.row(
                        "policy", "outcome", "estimate", "ci_low", "ci_high", "estimate_unit"
                    ),
                    "p_value": rec.p_value,
                    "p_value_few_cluster": rec.p_value_few_cluster,
                    "p_value_adjusted": rec.p_value_adjusted,
                    "pretrend_p": rec.pretrend_p,
                    "n_treated": res.n_treated,
                    "n_agencies": res.n_agencies,
                    "verdict": effect.verdict,
                }
            )
            sentences.setdefault(policy, []).append(effect.sentence)
        if rows:
            self.table(
                pd.DataFrame(rows),
                "overall_effects",
                self.t("sections.overall.caption"),
                labels={
                    **cols,
                    "p_value_few_cluster": cols["p_few"],
                    "p_value_adjusted": cols["p_holm"],
                },
                digits=2,
                intervals={"interval": ("ci_low", "ci_high")},
                pvalues=["p_value", "p_value_few_cluster", "p_value_adjusted", "pretrend_p"],
                ratios={"agencies": ("n_treated", "n_agencies")},
                hidden=["estimate_unit"],
                note=self.t("sections.overall.note", n_perm=self.spec.n_perm),
            )
        for policy, said in sentences.items():
            self.subheading(self.policy_name(policy))
            self.bullets(said)
        if problems:
            self.bullets(problems)

    # IKM from the respondents -------------------------------------------------------------
    def section_survey(self) -> None:
        """Digitalisation -> IKM from the respondents (repeated cross-sections) beside the
        agency-year estimate of 3.3, which the verdict reads."""
        from asn_eval.analysis.survey import SURVEY_OUTCOME, SURVEY_POLICY

        survey = self.results.survey
        pair = (SURVEY_POLICY, SURVEY_OUTCOME)
        if not survey.ok:
            self.paragraph(self.t("sections.survey.failed", error=survey.problem))
            return
        res = survey.result
        rcs = res.record()
        self.paragraph(
            self.t(
                "sections.survey.lead",
                respondents=self.num(res.n_respondents, 0),
                agencies=self.num(res.n_agencies, 0),
                first=self.years[0],
                last=self.years[-1],
            )
        )
        cols = self.t("sections.survey.columns")
        rows = []
        means = self.headline.get(pair)
        if means is not None:
            rows.append(
                {
                    "data": cols["means"],
                    "estimate": means.estimate,
                    "ci_low": means.ci_low,
                    "ci_high": means.ci_high,
                    "p_value": means.p_value,
                    "p_value_few_cluster": means.p_value_few_cluster,
                    "observations": int(self.estimates[pair].n_agencies * len(self.years)),
                    "n_agencies": self.estimates[pair].n_agencies,
                }
            )
        rows.append(
            {
                "data": cols["respondents"],
                "estimate": rcs.estimate,
                "ci_low": rcs.ci_low,
                "ci_high": rcs.ci_high,
                "p_value": rcs.p_value,
                "p_value_few_cluster": None,
                "observations": res.n_respondents,
                "n_agencies": res.n_agencies,
            }
        )
        self.table(
            pd.DataFrame(rows),
            "ikm_respondents",
            self.t("sections.survey.caption", policy=self.policy_name(SURVEY_POLICY)),
            labels=cols,
            digits=2,
            intervals={"interval": ("ci_low", "ci_high")},
            pvalues=["p_value", "p_value_few_cluster"],
            missing_text={"p_value_few_cluster": "–"},
            note=self.t("sections.survey.note"),
        )
        values = dict(
            policy=self.policy_name(SURVEY_POLICY),
            rcs=self.num(rcs.estimate, 2),
            rcs_interval=self.interval(rcs.ci_low, rcs.ci_high),
            agencies=self.num(res.n_agencies, 0),
            df=self.num(res.n_agencies - 1, 0),
            level=narrative.level_percent(self.spec.level, self.lang),
        )
        said = [self.t("sections.survey.respondents", **values)]
        if means is not None:
            said.append(
                self.t(
                    "sections.survey.means",
                    means=self.num(means.estimate, 2),
                    means_interval=self.interval(means.ci_low, means.ci_high),
                    difference=self.num(rcs.estimate - means.estimate, 2),
                    level=narrative.level_percent(self.spec.level, self.lang),
                )
            )
            said.append(
                self.t(
                    "sections.survey.verdict",
                    verdict=EffectSummary(means, self.lang).verdict,
                    **values,
                )
            )
        self.bullets(said)

    def interval(self, lo: float, hi: float) -> str:
        from asn_eval.common.formatting import fmt_interval

        return fmt_interval(lo, hi, self.lang, digits=2)

    # 3.4 --------------------------------------------------------------------------------
    def section_sensitivity(self) -> None:
        """How large a violation of parallel trends each headline effect survives."""
        found = self.results.sensitivity
        if not found:
            self.paragraph(self.t("sections.sensitivity.none"))
            return
        self.paragraph(self.t("sections.sensitivity.lead"))
        items = []
        for (policy, key), honest in found.items():
            scale = self._scale(self.estimates[(policy, key)].outcome)
            lo, hi = honest.original
            values = dict(
                policy=self.policy_name(policy),
                outcome=self.outcome_name(key),
                estimate=self.num(honest.estimate * scale, 2),
                interval=self.interval(lo * scale, hi * scale),
                breakdown=self.num(honest.breakdown, 2),
            )
            if lo <= 0 <= hi:
                case = "covers_zero"
            elif np.isnan(honest.breakdown):
                case = "not_robust"
            elif np.isinf(honest.breakdown):
                case = "robust"
            else:
                case = "breakdown"
            items.append(self.t(f"sections.sensitivity.{case}", **values))
        self.bullets(items)

    # 3.5 --------------------------------------------------------------------------------
    def section_twfe_bacon(self) -> None:
        self.paragraph(self.t("sections.twfe_bacon.lead"))
        cols = self.t("sections.twfe_bacon.columns")
        rows = []
        for (policy, key), res in self.estimates.items():
            if not res.ok or res.twfe is None:
                continue
            scale = self._scale(res.outcome)
            tw = res.twfe_record()
            bjs = res.imputation_record()
            forbidden = forbidden_weight(res.bacon)
            rows.append(
                {
                    "policy": self.policy_name(policy),
                    "outcome": self.outcome_name(key),
                    "cs": res.overall.overall_att * scale,
                    "cs_other": None
                    if res.other_control is None
                    else res.other_control.overall_att * scale,
                    "bjs": None if bjs is None else bjs.estimate * scale,
                    "twfe": tw.estimate * scale,
                    "twfe_ci_low": tw.ci_low * scale,
                    "twfe_ci_high": tw.ci_high * scale,
                    "estimate_unit": _table_unit(res.outcome),
                    "p_wild": tw.p_value_few_cluster,
                    "forbidden": forbidden,
                }
            )
        if rows:
            self.table(
                pd.DataFrame(rows),
                "twfe_vs_cs",
                self.t("sections.twfe_bacon.caption"),
                labels={**cols, "cs_other": cols[f"cs_{self._other_control}"]},
                digits={
                    "cs": 2,
                    "cs_other": 2,
                    "bjs": 2,
                    "twfe": 2,
                    "twfe_interval": 2,
                    "forbidden": 0,
                },
                percent=["forbidden"],
                intervals={"twfe_interval": ("twfe_ci_low", "twfe_ci_high")},
                pvalues=["p_wild"],
                hidden=["estimate_unit"],
            )
        main = {
            (p, POLICY_OUTCOMES[p][0]): self.estimates[(p, POLICY_OUTCOMES[p][0])]
            for p in POLICIES
            if self.estimates[(p, POLICY_OUTCOMES[p][0])].bacon is not None
        }
        if not main:
            return
        fig, axes = _panels(len(main))
        types = "sections.twfe_bacon.types"
        words = {kind: self.t(f"{types}.{key}") for kind, key in BACON_TYPE_KEYS.items()}
        # One legend serves every panel, so the TWFE line is named without one panel's value.
        words["twfe"] = self.t(f"{types}.twfe_line")
        for ax, ((policy, key), res) in zip(axes, main.items(), strict=True):
            # Panels differ in outcome and unit (percentage points, days): each says which,
            # the unit's words kept on one line (no-break spaces).
            unit = narrative.label("unit", res.outcome.unit, self.lang)
            outcome = narrative.text(
                "axis.outcome_unit",
                self.lang,
                outcome=self.outcome_name(key),
                unit=unit.replace(" ", "\u00a0"),
            )
            plots.bacon(
                res.bacon,
                ax=ax,
                lang=self.lang,
                percent=res.outcome.unit == "share",
                ylabel=narrative.text("axis.estimate_2x2_unit", self.lang, unit=unit),
                labels=words,
            )
            plots.panel_title(ax, _panel_title(self.policy_name(policy)), wrap_label(outcome, 40))
        plots.shared_legend(fig, source=axes[0], ncol=2)
        self.figure(fig, "bacon_decomposition", self.t("sections.twfe_bacon.fig"))

    # 3.6 --------------------------------------------------------------------------------
    def section_services(self) -> None:
        its = self.results.its
        if not its:
            self.paragraph(self.t("sections.services.none"))
        else:
            if self.results.sdid:
                self._comparison_paragraphs()
            else:
                self.paragraph(self.t("sections.services.lead"))
            first = next(iter(its.values()))
            offices, left_out = first.offices, first.offices_left_out
            if offices > 1 or left_out:
                self.paragraph(
                    self.t("sections.services.offices", offices=offices, left_out=left_out)
                )
            results = {k: v.result for k, v in its.items() if v.ok}
            if results:
                self.figure(
                    self._its_figure(results), "dukcapil_its", self.t("sections.services.fig")
                )
                self.bullets([self._its_sentence(p, o, r) for (p, o), r in results.items()])
                if any(self.results.comparison_leads(p, o) for p, o in results):
                    self.paragraph(self.t("sections.services.beside_note"))
            skipped = sorted(
                {
                    self.t(
                        "sections.services.skipped",
                        policy=self.policy_name(p),
                        reason=self.t(f"sections.services.reasons.{v.reason}"),
                    )
                    for (p, _), v in its.items()
                    if not v.ok
                }
            )
            if skipped:
                self.bullets(skipped)
        res = self.estimates.get(("performance_appraisal", "health_minutes"))
        if res is not None and res.ok:
            self.paragraph(self.t("sections.services.health"))
            self.bullets(
                [
                    narrative.effect_sentence(
                        self.headline[("performance_appraisal", "health_minutes")], self.lang
                    )
                ]
            )

    def _its_figure(self, results: dict[tuple, Any]) -> plt.Figure:
        fig, axes = _panels(len(results))
        for ax, ((policy, outcome), res) in zip(axes, results.items(), strict=True):
            plots.its(
                res,
                ax=ax,
                lang=self.lang,
                percent=ITS_OUTCOMES[outcome].unit == "share",
                title=_panel_title(self.policy_name(policy)),
                ylabel=self.t(f"sections.services.axis.{outcome}"),
            )
        plots.shared_legend(fig, source=axes[0], ncol=2)
        return fig

    def _its_sentence(self, policy: str, outcome: str, result: Any) -> str:
        """One ITS in words: with its verdict when it is the finding, without one when a
        synthetic DiD of the same pair leads (the ITS is then shown beside it)."""
        rec = its_record(policy, outcome, result)
        scale = 100.0 if rec.unit == "share" else 1.0
        digits = 3 if rec.unit == "share" else 2
        beside = self.results.comparison_leads(policy, outcome)
        return self.t(
            f"sections.services.{'beside' if beside else 'sentence'}.{outcome}",
            policy=self.policy_name(policy),
            month=self.month(result.intervention),
            jump=self.num(rec.estimate * scale, 2),
            interval=self.interval(rec.ci_low * scale, rec.ci_high * scale),
            slope=self.num(float(result.params["slope_change"]) * scale, digits),
            level=narrative.level_percent(rec.level, self.lang),
            verdict=None if beside else EffectSummary(rec, self.lang).verdict,
        )

    def _comparison_paragraphs(self) -> None:
        """The synthetic DiD of Dukcapil: the design, Kupang against its synthetic Kupang, each
        estimate with its verdict (read as tables 3.1 and 5.1 read it) and the donors that
        make the synthetic Kupang; and why a policy has none."""
        sdid = self.results.sdid
        first = next(iter(sdid.values()))
        self.paragraph(
            self.t(
                "sections.services.lead_comparison",
                donors=first.donors + first.donors_left_out,
                replications=next((c.result.replications for c in sdid.values() if c.ok), 0),
            )
        )
        if first.donors_left_out:
            self.paragraph(
                self.t("sections.services.donors_left_out", left_out=first.donors_left_out)
            )
        led = {k: c for k, c in sdid.items() if c.ok}
        if led:
            self.figure(
                self._sdid_figure(led), "dukcapil_sdid", self.t("sections.services.fig_sdid")
            )
            bullets = []
            for (policy, outcome), comparison in led.items():
                effect = EffectSummary(self.service_records[(policy, outcome)], self.lang)
                weights = comparison.weights(top=3)
                weights.index = _short_names(list(weights.index), comparison.names.values())
                bullets.append(
                    self.t(
                        "sections.services.sdid_sentence",
                        sentence=effect.sentence,
                        verdict=effect.verdict,
                        used=int((comparison.result.unit_weights > 0).sum()),
                        donors=comparison.donors,
                        top=format_list(
                            [
                                f"{name} ({self.num(100 * w, 1)}%)"
                                for name, w in weights.items()
                            ],
                            locale=self.lang,
                        ),
                    )
                )
            self.bullets(bullets)
        skipped = []
        for (policy, outcome), comparison in sdid.items():
            if comparison.ok or outcome != next(iter(ITS_OUTCOMES)):
                continue  # one line per policy
            earlier = comparison.earlier_policy(policy)
            start = comparison.starts.get(policy)
            skipped.append(
                self.t(
                    f"sections.services.sdid_skipped.{comparison.reason}",
                    policy=self.policy_name(policy),
                    month=self.month(start) if pd.notna(start) else "",
                    other=self.policy_name(earlier) if earlier else "",
                    other_month=self.month(comparison.starts[earlier]) if earlier else "",
                )
            )
        if skipped:
            self.bullets(skipped)

    def _sdid_figure(self, led: dict[tuple, Any]) -> plt.Figure:
        fig, axes = _panels(len(led))
        words = {
            "treated": TREATED_OFFICE,
            "synthetic": self.t("sections.services.synthetic_kupang"),
        }
        for ax, ((policy, outcome), comparison) in zip(axes, led.items(), strict=True):
            comparison.result.plot(
                ax=ax,
                lang=self.lang,
                percent=ITS_OUTCOMES[outcome].unit == "share",
                xlabel=self.t("sections.services.axis_month"),
                ylabel=self.t(f"sections.services.axis.{outcome}"),
                labels=words,
            )
            plots.panel_title(
                ax,
                _panel_title(self.policy_name(policy)),
                wrap_label(self.outcome_name(outcome), 40),
            )
        plots.shared_legend(fig, source=axes[0], ncol=2)
        return fig

    def month(self, when: Any) -> str:
        from babel.dates import format_date

        return format_date(pd.Timestamp(when).date(), "MMMM y", locale=self.lang)

    # 3.7 --------------------------------------------------------------------------------
    def section_dose_response(self) -> None:
        self.paragraph(self.t("sections.dose_response.lead"))
        dose = self.results.dose
        if not dose.ok:
            self.paragraph(self.t("sections.dose_response.failed", error=dose.problem))
            return
        res = dose.result
        ax = plots.dose_response(
            res,
            lang=self.lang,
            percent=True,
            labels={"hours": narrative.text("axis.jp", self.lang)},
            ylabel=self.t("units.share"),
        )
        fig = ax.figure
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


def _short_names(names: list[str], every: Any) -> list[str]:
    """Office names without the words all of them start with ("Dinas Kependudukan dan
    Pencatatan Sipil"), so that a list names the regencies."""
    words = [str(n).split() for n in every]
    common = 0
    while words and all(len(w) > common + 1 and w[common] == words[0][common] for w in words):
        common += 1
    return [" ".join(str(n).split()[common:]) for n in names]


def _table_unit(outcome: Any) -> str:
    """Unit of an estimate as the tables write it: shares in percentage points."""
    return "pp" if outcome.unit == "share" else str(outcome.unit or "")
