"""Chapter 4, Tantangan / Challenges: renders the results of :mod:`asn_eval.analysis.challenges`.

The numbers come from :func:`asn_eval.analysis.challenges` (pure computation, options in one
:class:`~asn_eval.analysis.AnalysisSpec`): adoption curves of the digital system by age band,
the effect of digitalisation by subgroup, and training places against the 20 JP minimum. This
module turns them into the chapter's figures, tables and prose, and saves the subgroup
estimates to ``results.json``.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from asn_eval.analysis.challenges import ChallengesResults, challenges
from asn_eval.domain import setting as context
from asn_eval.domain.regulations import JP_MINIMUM_PER_YEAR
from asn_eval.domain.subgroups import RESISTANCE_POLICY
from asn_eval.report import narrative, plots
from asn_eval.report.chapters.base import Chapter
from asn_eval.report.figures import BAND_ALPHA, PALETTE, ZERO_LINE_COLOUR, figure_size
from asn_eval.results.store import save_results


class Challenges(Chapter):
    number = 4
    key = "challenges"
    sections = ("resistance", "heterogeneity", "resources", "limits")

    def __init__(self, dataset: Any, *, results: ChallengesResults | None = None, **kwargs: Any):
        super().__init__(dataset, **kwargs)
        self._results = results

    @property
    def results(self) -> ChallengesResults:
        """The chapter's numbers: given by the notebook, or computed once here."""
        if self._results is None:
            self._results = challenges(self.dataset, self.spec)
        return self._results

    def after_heading(self) -> None:
        save_results(self.output_dir, self.results.records(), chapter=self.number)

    def policy_name(self, policy: str) -> str:
        return context.policy(policy, self.lang)["name"]

    # 4.1 ------------------------------------------------------------------------------
    def section_resistance(self) -> None:
        curves = self.results.adoption
        self.paragraph(self.t("sections.resistance.lead"))
        labels = self.t("sections.resistance.panels")
        fig, ax = plt.subplots(figsize=figure_size("full", aspect=0.55), layout="constrained")
        for i, (group, part) in enumerate(curves.curves.groupby("group", sort=False)):
            n = int(curves.medians.loc[group, "employees"]) if group in curves.medians.index else 0
            if n < self.min_cell_size:
                continue
            ax.step(
                part["months"], part["share_using"], where="post", color=PALETTE[i], label=group
            )
            ax.fill_between(
                part["months"],
                part["ci_low"],
                part["ci_high"],
                step="post",
                color=PALETTE[i],
                alpha=BAND_ALPHA,
            )
        ax.set(xlabel=labels["months"], ylabel=labels["share"], ylim=(0, 1))
        plots.percent_axis(ax, self.lang)
        plots.format_axis_numbers(ax, self.lang, axis="x")
        ax.legend(title=labels["age_band"], loc="upper left", bbox_to_anchor=(1.01, 1.0))
        self.figure(fig, "digital_adoption_km", self.t("sections.resistance.fig"))

        med = curves.medians.reset_index()
        med.columns = ["group", *med.columns[1:]]
        med = self.suppress(
            med, count="employees", columns=["adopted", "median_months", "ci_low", "ci_high"]
        )
        cols = self.t("sections.resistance.columns")
        table = med[["group", "employees", "adopted", "median_months", "ci_low", "ci_high"]]
        self.table(
            table,
            "digital_adoption_medians",
            self.t("sections.resistance.caption"),
            labels=cols,
            intervals={"interval": ("ci_low", "ci_high")},
            units={"interval": "months"},
            missing_text={"median_months": self.t("sections.resistance.not_reached")},
            note=self.suppression_note(med),
        )
        if np.isfinite(curves.logrank_pvalue):
            self.paragraph(
                self.t(
                    "sections.resistance.logrank",
                    df=curves.logrank_df,
                    stat=self.num(curves.logrank_stat, 1),
                    p=self.p_eq(curves.logrank_pvalue),
                )
            )

    # 4.2 ------------------------------------------------------------------------------
    def section_heterogeneity(self) -> None:
        policy = self.policy_name(RESISTANCE_POLICY)
        self.paragraph(self.t("sections.heterogeneity.lead", policy=policy))
        results = self.results.subgroups
        names = self.t("sections.heterogeneity.by")
        if results:
            rows_needed = -(-len(results) // 2)
            fig, axes = plt.subplots(
                rows_needed,
                min(2, len(results)),
                figsize=(figure_size("full")[0], 2.4 * rows_needed),
                squeeze=False,
                layout="constrained",
            )
            panels = list(axes.ravel())
            for extra in panels[len(results) :]:
                extra.remove()
            for ax, (by, res) in zip(panels[: len(results)], results.items(), strict=True):
                frame = res.to_frame()
                y = np.arange(len(frame))[::-1]
                est = frame["estimate"].to_numpy() * 100
                lo = frame["ci_low"].to_numpy() * 100
                hi = frame["ci_high"].to_numpy() * 100
                ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", color=PALETTE[0], capsize=3)
                ax.axvline(0, color=ZERO_LINE_COLOUR, linewidth=0.8)
                ax.set_yticks(y, [narrative.group_label(g, self.lang) for g in frame.iloc[:, 0]])
                ax.set_title(names[by])
                ax.set_xlabel(self.t("sections.heterogeneity.axis"))
                plots.format_axis_numbers(ax, self.lang, axis="x")
            self.figure(fig, "heterogeneity", self.t("sections.heterogeneity.fig", policy=policy))
            cols = self.t("sections.heterogeneity.columns")
            rows = []
            standing = {(r.subgroup_variable, r.subgroup_value): r for r in self.results.records()}
            for by, res in results.items():
                frame = res.to_frame()
                for _, row in frame.iterrows():
                    record = standing[(by, str(row.iloc[0]))]
                    rows.append(
                        {
                            "by": names[by],
                            "group": narrative.group_label(row.iloc[0], self.lang),
                            "estimate": row["estimate"] * 100,
                            "ci_low": row["ci_low"] * 100,
                            "ci_high": row["ci_high"] * 100,
                            "verdict": narrative.verdict_label(record, self.lang),
                        }
                    )
            self.table(
                pd.DataFrame(rows),
                "heterogeneity",
                self.t("sections.heterogeneity.caption", policy=policy),
                labels=cols,
                digits=2,
                units={"estimate": "pp", "interval": "pp"},
                intervals={"interval": ("ci_low", "ci_high")},
            )
            self.bullets(
                [
                    self.t(
                        "sections.heterogeneity.equality",
                        by=names[by],
                        df=res.equality_df,
                        p=self.p_eq(res.equality_pvalue),
                    )
                    for by, res in results.items()
                ]
            )
        failed = list(self.results.subgroup_problems)
        if failed:
            self.bullets([self.t("sections.heterogeneity.failed", by=names[by]) for by in failed])
        self.paragraph(self.t("sections.heterogeneity.caveat"))

    # 4.3 ------------------------------------------------------------------------------
    def section_resources(self) -> None:
        res = self.results
        cap = res.capacity
        if cap.empty:
            self.paragraph(self.t("sections.resources.none"))
            return
        summary = res.capacity_summary()
        self.paragraph(
            self.t(
                "sections.resources.lead",
                year=self.year,
                minimum=JP_MINIMUM_PER_YEAR,
                jp_per_course=self.num(res.jp_per_course, 1),
                short=self.num(summary["agencies_short"], 0),
                agencies=self.num(summary["agencies"], 0),
                shortfall=self.num(summary["shortfall"], 0),
                needed=self.num(summary["places_needed"], 0),
            )
        )
        labels = self.t("sections.resources.panels")
        fig, ax = plt.subplots(figsize=figure_size("full", aspect=0.55), layout="constrained")
        shown = cap[cap["n_employees"] >= self.min_cell_size]
        ax.scatter(shown["places_per_employee"], shown["jp_minimum_share"], color=PALETTE[0], s=20)
        ax.axvline(
            res.places_per_employee_needed, color=PALETTE[3], linestyle="--", label=labels["needed"]
        )
        ax.set(xlabel=labels["places"], ylabel=labels["share"], ylim=(0, 1))
        plots.percent_axis(ax, self.lang)
        plots.format_axis_numbers(ax, self.lang, axis="x")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        self.figure(fig, "places_vs_jp_minimum", self.t("sections.resources.fig", year=self.year))
        cols = self.t("sections.resources.columns")
        table = self.suppress(res.shortfall(), count="n_employees", columns=["jp_minimum_share"])
        table = table[
            [
                "agency_name",
                "headcount",
                "training_places",
                "places_needed",
                "shortfall",
                "jp_minimum_share",
            ]
        ]
        if len(table):
            self.table(
                table,
                "training_shortfall",
                self.t("sections.resources.caption", year=self.year, minimum=JP_MINIMUM_PER_YEAR),
                labels=cols,
                digits=0,
                percent=["jp_minimum_share"],
                names=["agency_name"],
                note=" ".join(
                    filter(None, [self.t("sections.resources.note"), self.suppression_note(table)])
                ),
            )

    # 4.4 ------------------------------------------------------------------------------
    def section_limits(self) -> None:
        source = self.common("source")
        self.paragraph(self.t("sections.limits.article"))
        self.bullets(
            [f"{s} ({source}: {src})" for s, src in context.statements("challenges", self.lang)]
        )
        self.paragraph(self.t("sections.limits.lead"))
        self.bullets(list(self.t("sections.limits.items").values()))
