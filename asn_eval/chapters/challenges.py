"""Chapter 4, Tantangan / Challenges: resistance to change, resources, and the data's limits."""

from __future__ import annotations

import warnings
from functools import cached_property

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from asn_eval import context, narrative
from asn_eval import formatting as fmt
from asn_eval.chapters.base import Chapter
from asn_eval.figures import PALETTE, ZERO_LINE_COLOUR
from asn_eval.panels import employee_year_panel, training_capacity
from asn_eval.regulations import JP_MINIMUM_PER_YEAR
from asn_eval.results_store import ResultRecord, save_results

# The policy whose uptake depends on each employee (the article's example of resistance).
RESISTANCE_POLICY = "digitalisation"
HETEROGENEITY_OUTCOME = "skp_good"
# Subgroups fixed per employee: age band at the start of the window, education, position.
HETEROGENEITY_BY: tuple[str, ...] = ("age_band_start", "education_group", "position_type")
# Education levels grouped so that each group holds enough employees per agency.
EDUCATION_GROUPS: dict[str, str] = {
    "SD": "SMA-",
    "SMP": "SMA-",
    "SMA": "SMA-",
    "D1": "D1-D3",
    "D2": "D1-D3",
    "D3": "D1-D3",
    "D4": "D4/S1",
    "S1": "D4/S1",
    "S2": "S2/S3",
    "S3": "S2/S3",
}
EDUCATION_ORDER: tuple[str, ...] = ("SMA-", "D1-D3", "D4/S1", "S2/S3")


def heterogeneity_panel(dataset, *, years: list[int], policy: str) -> pd.DataFrame:
    """Employee-year panel with subgroups fixed per employee and one cohort per employee.

    An employee keeps the adoption year of the agency where he or she was first observed
    (transfers do not move an employee between cohorts); age band is taken on 1 January of
    the first year; education is grouped as :data:`EDUCATION_GROUPS`.
    """
    from asn_eval.estimators.adoption import age_band

    person = employee_year_panel(dataset, years=years)
    first = person.sort_values("year").groupby("employee_id")[f"cohort_{policy}"].first()
    person["cohort"] = person["employee_id"].map(first).astype(int)
    born = dataset.tables["employees"].set_index("employee_id")["birth_date"]
    starts = age_band(born, at=pd.Timestamp(year=years[0], month=1, day=1))
    person["age_band_start"] = person["employee_id"].map(starts)
    person["age_band_start"] = pd.Categorical(
        person["age_band_start"], categories=starts.cat.categories, ordered=True
    )
    education = person["education"].astype(str).map(EDUCATION_GROUPS)
    person["education_group"] = pd.Categorical(
        education, categories=list(EDUCATION_ORDER), ordered=True
    )
    person["position_type"] = person["position_type"].astype(str)
    return person.dropna(subset=[HETEROGENEITY_OUTCOME])


class Challenges(Chapter):
    number = 4
    key = "challenges"
    sections = ("resistance", "heterogeneity", "resources", "limits")

    def policy_name(self, policy: str) -> str:
        return context.policy(policy, self.lang)["name"]

    # 4.1 ------------------------------------------------------------------------------
    def section_resistance(self) -> None:
        from asn_eval.estimators.adoption import adoption_curves

        tables = self.dataset.tables
        meta = getattr(self.dataset, "metadata", {}) or {}
        as_of = meta.get("data_date") or pd.Timestamp(year=self.year, month=12, day=31)
        as_of = min(pd.Timestamp(as_of), pd.Timestamp(year=self.year, month=12, day=31))
        self.paragraph(self.t("sections.resistance.lead"))
        curves = adoption_curves(
            tables["digital_adoption"],
            tables["employees"],
            by="age_band",
            as_of=as_of,
            policies=tables["policies"],
        )
        labels = self.t("sections.resistance.panels")
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
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
                alpha=0.15,
            )
        ax.set(xlabel=labels["months"], ylabel=labels["share"], ylim=(0, 1))
        ax.legend(title=labels["age_band"])
        fig.tight_layout()
        self.figure(fig, "digital_adoption_km", self.t("sections.resistance.fig"))

        med = curves.medians.reset_index()
        med.columns = ["group", *med.columns[1:]]
        med = self.suppress(
            med, count="employees", columns=["adopted", "median_months", "ci_low", "ci_high"]
        )
        cols = self.t("sections.resistance.columns")
        med["interval"] = [
            fmt.fmt_interval(lo, hi, self.lang)
            if not isinstance(lo, str) and np.isfinite(lo) and np.isfinite(hi)
            else ("*" if isinstance(lo, str) else fmt.MISSING)
            for lo, hi in zip(med["ci_low"], med["ci_high"], strict=True)
        ]
        med["median_months"] = [
            v if isinstance(v, str) or np.isfinite(v) else self.t("sections.resistance.not_reached")
            for v in med["median_months"]
        ]
        table = med[["group", "employees", "adopted", "median_months", "interval"]]
        self.table(
            table.rename(columns=cols),
            "digital_adoption_medians",
            self.t("sections.resistance.caption"),
            note=self.suppression_note(),
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
    @cached_property
    def heterogeneity(self) -> dict[str, object]:
        from asn_eval.estimators.dose import heterogeneity

        panel = heterogeneity_panel(self.dataset, years=self.years, policy=RESISTANCE_POLICY)
        out = {}
        for by in HETEROGENEITY_BY:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    out[by] = heterogeneity(
                        panel,
                        outcome=HETEROGENEITY_OUTCOME,
                        unit="employee_id",
                        time="year",
                        cohort="cohort",
                        by=by,
                        cluster="agency_code",
                    )
                except ValueError as error:
                    out[by] = str(error)
        return out

    def section_heterogeneity(self) -> None:
        policy = self.policy_name(RESISTANCE_POLICY)
        self.paragraph(self.t("sections.heterogeneity.lead", policy=policy))
        results = {by: r for by, r in self.heterogeneity.items() if not isinstance(r, str)}
        names = self.t("sections.heterogeneity.by")
        if results:
            fig, axes = plt.subplots(
                1, len(results), figsize=(3.4 * len(results), 3.4), squeeze=False
            )
            for ax, (by, res) in zip(axes[0], results.items(), strict=True):
                frame = res.to_frame()
                y = np.arange(len(frame))[::-1]
                est = frame["estimate"].to_numpy() * 100
                lo = frame["ci_low"].to_numpy() * 100
                hi = frame["ci_high"].to_numpy() * 100
                ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", color=PALETTE[0], capsize=3)
                ax.axvline(0, color=ZERO_LINE_COLOUR, linewidth=0.8)
                ax.set_yticks(y, frame.iloc[:, 0].astype(str), fontsize=8)
                ax.set_title(names[by], fontsize=9)
                ax.set_xlabel(self.t("sections.heterogeneity.axis"), fontsize=8)
                ax.tick_params(labelsize=7)
            fig.tight_layout()
            self.figure(fig, "heterogeneity", self.t("sections.heterogeneity.fig", policy=policy))
            cols = self.t("sections.heterogeneity.columns")
            rows = []
            for by, res in results.items():
                frame = res.to_frame()
                for _, row in frame.iterrows():
                    verdict = narrative.verdict(row["estimate"], row["ci_low"], row["ci_high"])
                    rows.append(
                        {
                            cols["by"]: names[by],
                            cols["group"]: str(row.iloc[0]),
                            cols["estimate"]: row["estimate"] * 100,
                            cols["interval"]: fmt.fmt_interval(
                                row["ci_low"] * 100, row["ci_high"] * 100, self.lang, 2
                            ),
                            cols["verdict"]: narrative.text(f"verdict.{verdict}", self.lang),
                        }
                    )
            self.table(
                pd.DataFrame(rows),
                "heterogeneity",
                self.t("sections.heterogeneity.caption", policy=policy),
                digits=2,
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
        failed = [by for by, r in self.heterogeneity.items() if isinstance(r, str)]
        if failed:
            self.bullets([self.t("sections.heterogeneity.failed", by=names[by]) for by in failed])
        self.paragraph(self.t("sections.heterogeneity.caveat"))
        self._save()

    def _save(self) -> None:
        records = []
        for by, res in self.heterogeneity.items():
            if isinstance(res, str):
                continue
            for group in res.params.index:
                records.append(
                    ResultRecord.from_estimate_table(
                        res,
                        policy=RESISTANCE_POLICY,
                        row=group,
                        outcome=f"{HETEROGENEITY_OUTCOME}|{by}={group}",
                        better="higher",
                        unit="share",
                    )
                )
        save_results(self.output_dir, records, chapter=self.number)

    # 4.3 ------------------------------------------------------------------------------
    def section_resources(self) -> None:
        cap = training_capacity(self.dataset, year=self.year)
        if cap.empty:
            self.paragraph(self.t("sections.resources.none"))
            return
        short = cap[cap["shortfall"] > 0]
        self.paragraph(
            self.t(
                "sections.resources.lead",
                year=self.year,
                minimum=JP_MINIMUM_PER_YEAR,
                jp_per_course=self.num(cap["jp_per_course"].iloc[0], 1),
                short=self.num(len(short), 0),
                agencies=self.num(len(cap), 0),
                shortfall=self.num(cap["shortfall"].sum(), 0),
                needed=self.num(cap["places_needed"].sum(), 0),
            )
        )
        labels = self.t("sections.resources.panels")
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        shown = cap[cap["n_employees"] >= self.min_cell_size]
        per_head = shown["training_places"] / shown["headcount"]
        ax.scatter(per_head, shown["jp_minimum_share"], color=PALETTE[0], s=20)
        need = JP_MINIMUM_PER_YEAR / cap["jp_per_course"].iloc[0]
        ax.axvline(need, color=PALETTE[3], linestyle="--", label=labels["needed"])
        ax.set(xlabel=labels["places"], ylabel=labels["share"], ylim=(0, 1))
        ax.legend()
        fig.tight_layout()
        self.figure(fig, "places_vs_jp_minimum", self.t("sections.resources.fig", year=self.year))
        cols = self.t("sections.resources.columns")
        table = self.suppress(short, count="n_employees", columns=["jp_minimum_share"])
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
                table.rename(columns=cols),
                "training_shortfall",
                self.t("sections.resources.caption", year=self.year, minimum=JP_MINIMUM_PER_YEAR),
                digits=0,
                percent=[cols["jp_minimum_share"]],
                note=self.suppression_note(),
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
