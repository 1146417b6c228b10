"""Chapter 2, Kebijakan / Policies: who adopted what when, and how much training there was."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from asn_eval import context
from asn_eval.chapters.base import Chapter
from asn_eval.figures import PALETTE
from asn_eval.panels import (
    POLICIES,
    adoption_cohorts,
    agency_year_panel,
    employee_year_panel,
    treatment_map,
)
from asn_eval.regulations import JP_MINIMUM_PER_YEAR


class Policies(Chapter):
    number = 2
    key = "policies"
    sections = ("adoption", "training", "resources")

    # 2.1 ------------------------------------------------------------------------------
    def section_adoption(self) -> None:
        cohorts = adoption_cohorts(self.dataset, years=self.years)
        n = len(cohorts)
        counts = {p: int((cohorts[p] > 0).sum()) for p in POLICIES}
        names = {p: context.policy(p, self.lang)["name"] for p in POLICIES}
        self.paragraph(
            self.t(
                "sections.adoption.lead",
                agencies=self.num(n, 0),
                first=self.years[0],
                last=self.years[-1],
            )
        )
        self.bullets(
            [
                self.t(
                    "sections.adoption.item",
                    policy=names[p],
                    adopted=self.num(counts[p], 0),
                    agencies=self.num(n, 0),
                    never=self.num(n - counts[p], 0),
                )
                for p in POLICIES
            ]
        )
        fig, axes = plt.subplots(2, 2, figsize=(10, max(6.0, 0.12 * n * 2 + 2)), sharex=True)
        cmap = sns.color_palette([PALETTE[5] + "40", PALETTE[0]], as_cmap=True)
        for ax, policy in zip(axes.ravel(), POLICIES, strict=True):
            grid = treatment_map(self.dataset, policy, years=self.years)
            sns.heatmap(
                grid,
                cmap=cmap,
                cbar=False,
                linewidths=0.3,
                linecolor="white",
                yticklabels=True,
                ax=ax,
            )
            ax.grid(False)
            ax.set(title=names[policy], xlabel="", ylabel="")
            ax.tick_params(axis="y", labelsize=6)
        fig.tight_layout()
        self.figure(fig, "treatment_maps", self.t("sections.adoption.fig"))

        never = self.t("sections.adoption.never")
        table = (
            cohorts.melt(id_vars="agency_code", var_name="policy", value_name="cohort")
            .groupby(["cohort", "policy"])
            .size()
            .unstack("policy", fill_value=0)
            .reindex(columns=list(POLICIES), fill_value=0)
        )
        table = table.loc[sorted(table.index, key=lambda c: (c == 0, c))]
        table.index = [never if c == 0 else str(c) for c in table.index]
        table.index.name = self.t("sections.adoption.cohort")
        table = table.rename(columns=names).reset_index()
        self.table(
            table,
            "adoption_cohorts",
            self.t("sections.adoption.caption"),
        )

    # 2.2 ------------------------------------------------------------------------------
    def section_training(self) -> None:
        person = employee_year_panel(self.dataset, years=self.years)
        yearly = person.groupby("year").agg(
            jp_mean=("jp", "mean"), share=("meets_jp_minimum", "mean"), n=("jp", "size")
        )
        last = yearly.iloc[-1]
        self.paragraph(
            self.t(
                "sections.training.lead",
                minimum=JP_MINIMUM_PER_YEAR,
                year=int(yearly.index[-1]),
                jp=self.num(last["jp_mean"]),
                share=self.pct(last["share"]),
                first_year=int(yearly.index[0]),
                first_share=self.pct(yearly["share"].iloc[0]),
            )
        )
        labels = self.t("sections.training.panels")
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        axes[0].plot(yearly.index, yearly["jp_mean"], marker="o", color=PALETTE[0])
        axes[0].axhline(JP_MINIMUM_PER_YEAR, color=PALETTE[3], linestyle="--")
        axes[0].set(title=labels["jp"], xlabel="", ylabel="JP", ylim=(0, None))
        by_type = person.groupby(["year", "agency_type"], observed=True)["meets_jp_minimum"].mean()
        sns.lineplot(
            data=by_type.rename("share").reset_index().astype({"agency_type": str}),
            x="year",
            y="share",
            hue="agency_type",
            marker="o",
            ax=axes[1],
        )
        axes[1].set(title=labels["share"], xlabel="", ylabel="", ylim=(0, 1))
        axes[1].legend(title="", fontsize=7)
        for ax in axes:
            ax.set_xticks(list(yearly.index))
        fig.tight_layout()
        self.figure(
            fig, "training_jp", self.t("sections.training.fig", minimum=JP_MINIMUM_PER_YEAR)
        )

        # Share meeting the minimum by agency and year (suppressed below the minimum cell).
        agency = agency_year_panel(self.dataset, years=self.years)
        agency = self.suppress(agency, count="n_employees", columns=["jp_minimum_share"])
        names = self.dataset.tables["agencies"].set_index("agency_code")["agency_name"]
        wide = agency.pivot(index="agency_code", columns="year", values="jp_minimum_share")
        wide.columns = [str(c) for c in wide.columns]
        wide.insert(0, self.t("sections.training.agency"), wide.index.map(names))
        wide = wide.reset_index(drop=True)
        self.table(
            wide,
            "jp_minimum_by_agency",
            self.t("sections.training.caption", minimum=JP_MINIMUM_PER_YEAR),
            digits=0,
            percent=[str(y) for y in self.years],
            note=self.suppression_note(),
        )

        training = self.dataset.tables.get("training")
        if training is None or training.empty:
            return
        frame = training.assign(year=pd.to_datetime(training["date"]).dt.year)
        frame = frame[frame["year"].isin(self.years)]
        fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
        for ax, column, title in (
            (axes[0], "route", labels["route"]),
            (axes[1], "type", labels["type"]),
        ):
            shares = frame.pivot_table(
                index="year", columns=column, values="jp", aggfunc="sum", observed=True
            ).fillna(0)
            shares = shares.div(shares.sum(axis=1), axis=0)
            shares = shares[sorted(shares.columns, key=str)]
            bottom = np.zeros(len(shares))
            for i, col in enumerate(shares.columns):
                ax.bar(shares.index, shares[col], bottom=bottom, label=str(col), color=PALETTE[i])
                bottom += shares[col].to_numpy()
            ax.set(title=title, xlabel="", ylim=(0, 1))
            ax.set_xticks(list(shares.index))
            ax.legend(fontsize=7, loc="lower left")
        axes[0].set_ylabel(labels["jp_share"])
        fig.tight_layout()
        self.figure(fig, "training_route_type", self.t("sections.training.fig_route"))

    # 2.3 ------------------------------------------------------------------------------
    def section_resources(self) -> None:
        agency = agency_year_panel(self.dataset, years=self.years)
        if "training_budget" not in agency:
            self.paragraph(self.t("sections.resources.none"))
            return
        yearly = agency.groupby("year").agg(
            budget=("training_budget", "sum"),
            places=("training_places", "sum"),
            headcount=("headcount", "sum"),
        )
        yearly["budget_per_employee"] = yearly["budget"] / yearly["headcount"]
        yearly["places_per_employee"] = yearly["places"] / yearly["headcount"]
        last = yearly.iloc[-1]
        self.paragraph(
            self.t(
                "sections.resources.lead",
                year=int(yearly.index[-1]),
                budget=self.fmt_rupiah(last["budget"]),
                per_employee=self.fmt_rupiah(last["budget_per_employee"]),
                places=self.num(last["places_per_employee"], 2),
            )
        )
        cols = self.t("sections.resources.columns")
        table = yearly.reset_index().rename(columns=cols)
        table[cols["year"]] = table[cols["year"]].astype(str)
        table[[cols["places"], cols["headcount"]]] = table[
            [cols["places"], cols["headcount"]]
        ].astype(int)
        table[cols["places_per_employee"]] = table[cols["places_per_employee"]].round(2)
        self.table(
            table,
            "training_resources",
            self.t("sections.resources.caption"),
            digits={cols["budget"]: 0, cols["budget_per_employee"]: 0},
        )

    def fmt_rupiah(self, value) -> str:
        from asn_eval.formatting import fmt_rupiah

        return fmt_rupiah(value, self.lang, compact=True)
