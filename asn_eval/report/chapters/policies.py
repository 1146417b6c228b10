"""Chapter 2, Kebijakan / Policies: who adopted what when, and how much training there was."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb

from asn_eval.analysis.panels import (
    POLICIES,
    UNKNOWN_COHORT,
    adoption_cohorts,
    agency_year_panel,
    employee_year_panel,
)
from asn_eval.analysis.policies import PRINT_ROW_LIMIT, scorecards
from asn_eval.domain import privacy
from asn_eval.domain import setting as context
from asn_eval.domain.regulations import JP_MINIMUM_PER_YEAR
from asn_eval.report import narrative
from asn_eval.report.agency_tables import MANY_AGENCIES, agency_distribution
from asn_eval.report.chapters.base import SUPPRESSED, Chapter
from asn_eval.report.figures import PALETTE, figure_size, series_style, wrap_label
from asn_eval.report.plots import format_axis_numbers, percent_axis, short_agency_name


class Policies(Chapter):
    number = 2
    key = "policies"
    sections = ("adoption", "training", "resources", "scorecards")

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
        many = len(cohorts) > MANY_AGENCIES
        self.figure(
            self._cohort_figure(cohorts, names),
            "treatment_maps",
            self.t("sections.adoption.fig_share" if many else "sections.adoption.fig_cohort"),
        )

        never = self.t("sections.adoption.never")
        table = (
            cohorts.melt(id_vars="agency_code", var_name="policy", value_name="cohort")
            .groupby(["cohort", "policy"])
            .size()
            .unstack("policy", fill_value=0)
            .reindex(columns=list(POLICIES), fill_value=0)
        )
        table = table.loc[sorted(table.index, key=lambda c: (c == UNKNOWN_COHORT, c == 0, c))]
        unknown = self.t("sections.adoption.unknown")
        labels = {0: never, UNKNOWN_COHORT: unknown}
        table.index = [labels.get(c, str(c)) for c in table.index]
        table.index.name = "cohort"
        self.table(
            table.reset_index(),
            "adoption_cohorts",
            self.t("sections.adoption.caption"),
            labels={"cohort": self.t("sections.adoption.cohort"), **names},
        )

    def _cohort_figure(self, cohorts: pd.DataFrame, names: dict[str, str]) -> plt.Figure:
        """Year each agency adopted each policy: one row per agency (short name), one column
        per policy, darker for later years, empty for never within the years covered. Above
        :data:`MANY_AGENCIES` agencies, the share of agencies that had adopted each policy by
        each year instead (one line per policy)."""
        if len(cohorts) > MANY_AGENCIES:
            return self._adoption_share_figure(cohorts, names)
        agencies = self.dataset.tables["agencies"].set_index("agency_code")["agency_name"]
        grid = cohorts.set_index("agency_code")[list(POLICIES)]
        first = grid.where(grid > 0).min(axis=1).fillna(np.inf)
        order = pd.DataFrame({"first": first, "name": grid.index.map(agencies)}, grid.index)
        grid = grid.loc[order.sort_values(["first", "name"], kind="stable").index]
        years = self.years
        # Names wrap between words onto a second line (never cut); a row is as tall as its
        # name, so one-line rows stay as compact as before.
        names_shown = [wrap_label(short_agency_name(agencies[c])) for c in grid.index]
        row_in = 0.135  # one line of 7.5 pt tick labels plus spacing
        line_in = 0.115  # each further line of the same labels
        heights = np.array([row_in + line_in * n.count("\n") for n in names_shown])
        edges = np.r_[0.0, np.cumsum(heights)]
        centres = (edges[:-1] + edges[1:]) / 2
        width, _ = figure_size("full")
        fig, ax = plt.subplots(figsize=(width, edges[-1] + 0.7), layout="constrained")
        blue = np.array(to_rgb(PALETTE[0]))
        light = np.array([0.93, 0.93, 0.93])
        colours = np.ones((len(grid), len(POLICIES), 3))
        for j, policy in enumerate(POLICIES):
            for i, year in enumerate(grid[policy].to_numpy()):
                if year <= 0:
                    colours[i, j] = light
                    continue
                # Earliest adopters lightest: the share of the covered years still to come.
                depth = 0.35 + 0.65 * (year - years[0]) / max(1, years[-1] - years[0])
                colours[i, j] = 1 - depth * (1 - blue)
                dark = depth > 0.6
                ax.text(
                    j,
                    centres[i],
                    str(int(year)),
                    ha="center",
                    va="center",
                    color="white" if dark else "black",
                )
        # White lines between cells so neighbouring years stay apart.
        ax.pcolormesh(
            np.arange(-0.5, len(POLICIES)), edges, colours, edgecolors="white", linewidth=1.0
        )
        ax.set_xlim(-0.5, len(POLICIES) - 0.5)
        ax.set_ylim(edges[-1], 0)
        ax.set_xticks(range(len(POLICIES)), [wrap_label(names[p], 20) for p in POLICIES])
        ax.xaxis.tick_top()
        ax.set_yticks(centres, names_shown)
        ax.tick_params(length=0)
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        return fig

    def _adoption_share_figure(self, cohorts: pd.DataFrame, names: dict[str, str]) -> plt.Figure:
        """Share of agencies that had adopted each policy by each year (agencies with unknown
        dates left out): readable with thousands of agencies, where a row each is not."""
        fig, ax = plt.subplots(figsize=figure_size("full", aspect=0.5), layout="constrained")
        years = self.years
        for j, policy in enumerate(POLICIES):
            known = cohorts.loc[cohorts[policy] != UNKNOWN_COHORT, policy]
            share = [((known > 0) & (known <= y)).mean() for y in years]
            ax.plot(years, share, **series_style(j), label=names[policy])
        ax.set_xticks(years, [str(y) for y in years])
        ax.set_ylim(0, 1)
        percent_axis(ax, self.lang)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return fig

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
        fig, axes = plt.subplots(
            1, 2, figsize=figure_size("full", aspect=0.5), layout="constrained"
        )
        axes[0].plot(yearly.index, yearly["jp_mean"], marker="o", color=PALETTE[0])
        axes[0].axhline(JP_MINIMUM_PER_YEAR, color=PALETTE[3], linestyle="--")
        axes[0].text(
            yearly.index[-1],
            JP_MINIMUM_PER_YEAR,
            f"{JP_MINIMUM_PER_YEAR} JP",
            ha="right",
            va="bottom",
            color=PALETTE[3],
        )
        axes[0].set(title=labels["jp"], xlabel="", ylabel="JP", ylim=(0, None))
        format_axis_numbers(axes[0], self.lang, axis="y")
        by_type = person.groupby(["year", "agency_type"], observed=True)["meets_jp_minimum"].mean()
        by_type = by_type.unstack("agency_type")
        for i, agency_type in enumerate(by_type.columns):
            # Eight types: each its own colour and marker, so they stay apart in grey print.
            axes[1].plot(
                by_type.index,
                by_type[agency_type],
                markersize=3.5,
                **series_style(i),
                label=narrative.label("agency_type", agency_type, self.lang, title=True),
            )
        axes[1].set(title=labels["share"], xlabel="", ylabel="", ylim=(0, 1))
        percent_axis(axes[1], self.lang)
        for ax in axes:
            ax.set_xticks(list(yearly.index), [str(y) for y in yearly.index])
        fig.legend(loc="outside lower center", ncol=4, frameon=False)
        self.figure(
            fig, "training_jp", self.t("sections.training.fig", minimum=JP_MINIMUM_PER_YEAR)
        )

        # Share meeting the minimum by agency and year (suppressed below the minimum cell).
        # Complementary suppression per year, against the city and agency-type shares that
        # Fig. 2.2 and the annex (2.4) publish, so no withheld cell can be worked back.
        agency = agency_year_panel(self.dataset, years=self.years).sort_values(
            ["year", "agency_code"]
        )
        agency = pd.concat(
            [
                privacy.suppress_with_complements(
                    part,
                    "n_employees",
                    ["jp_minimum_share"],
                    totals_by=["agency_type"],
                    min_size=self.min_cell_size,
                )
                for _, part in agency.groupby("year", sort=True)
            ]
        )
        agency.attrs["n_suppressed_rows"] = int((agency["jp_minimum_share"] == SUPPRESSED).sum())
        note = self.suppression_note(agency)
        agencies = self.dataset.tables["agencies"].set_index("agency_code")
        wide = agency.pivot(index="agency_code", columns="year", values="jp_minimum_share")
        years = {f"jp_minimum_{y}": str(y) for y in wide.columns}
        wide.columns = list(years)
        caption = self.t("sections.training.caption", minimum=JP_MINIMUM_PER_YEAR)
        table_labels = {"agency": self.t("sections.training.agency"), **years}
        if len(wide) > MANY_AGENCIES:
            # One row per agency type: the median agency's share (how many agencies in
            # "agencies"); medians over many agencies need no small-cell suppression.
            raw = agency_year_panel(self.dataset, years=self.years)
            wide = raw.pivot(index="agency_code", columns="year", values="jp_minimum_share")
            wide.columns = list(years)
            wide.insert(0, "agency_type", [
                narrative.label("agency_type", kind, self.lang, title=True)
                for kind in wide.index.map(agencies["agency_type"])
            ])  # fmt: skip
            wide = agency_distribution(wide, group="agency_type", medians=list(years))
            table_labels = {
                "agency_type": self.t("sections.training.agency_type"),
                "agencies": self.t("sections.training.agencies"),
                **years,
            }
            caption = self.t(
                "sections.training.caption_at_scale", minimum=JP_MINIMUM_PER_YEAR,
                agencies=int(agency["agency_code"].nunique()),
            )  # fmt: skip
        else:
            wide.insert(0, "agency", wide.index.map(agencies["agency_name"]))
            wide = wide.reset_index(drop=True)  # in agency-code order, as before
        self.table(
            wide,
            "jp_minimum_by_agency",
            caption,
            labels=table_labels,
            digits=0,
            percent=list(years),
            names=["agency", "agency_type"],
            note=note,
        )

        training = self.dataset.tables.get("training")
        if training is None or training.empty:
            return
        frame = training.assign(year=pd.to_datetime(training["date"]).dt.year)
        frame = frame[frame["year"].isin(self.years)]
        fig, axes = plt.subplots(
            1, 2, figsize=figure_size("full", aspect=0.55), sharey=True, layout="constrained"
        )
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
            ax.set_xticks(list(shares.index), [str(y) for y in shares.index])
            ax.grid(axis="x", visible=False)
            # Each panel has its own categories: a legend under each, outside the bars.
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
        axes[0].set_ylabel(labels["jp_share"])
        percent_axis(axes[0], self.lang)
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
        table = yearly.reset_index()
        table["year"] = table["year"].astype(str)
        table[["places", "headcount"]] = table[["places", "headcount"]].astype(int)
        table["places_per_employee"] = table["places_per_employee"].round(2)
        self.table(
            table,
            "training_resources",
            self.t("sections.resources.caption"),
            labels=cols,
            digits={"budget": 0, "budget_per_employee": 0},
            units={"budget": "rupiah", "budget_per_employee": "rupiah"},
            note=self.t("sections.resources.note"),
        )

    def fmt_rupiah(self, value) -> str:
        from asn_eval.common.formatting import fmt_rupiah

        return fmt_rupiah(value, self.lang, compact=True)

    # 2.4 ------------------------------------------------------------------------------
    def section_scorecards(self) -> None:
        result = scorecards(self.dataset, self.spec)
        self.paragraph(
            self.t(
                "sections.scorecards.lead",
                year=result.year,
                minimum=JP_MINIMUM_PER_YEAR,
                agencies=self.num(result.n_agencies, 0),
                skp=self.pct(result.city["skp_good_share"]),
                jp=self.pct(result.city["jp_minimum_share"]),
            )
        )
        cols = {
            key: self.t(f"sections.scorecards.columns.{key}", minimum=JP_MINIMUM_PER_YEAR)
            for key in ("agency", "band", "skp", "jp", "ikm")
        }
        policies = {p: self.t(f"sections.scorecards.policies.{p}") for p in POLICIES}
        adoption = {0: self.t("sections.scorecards.not_yet")}
        adoption[UNKNOWN_COHORT] = self.t("sections.scorecards.unknown")
        card = result.to_frame()
        short = card["agency_name"].map(short_agency_name)
        # Whole names (abbreviated, never cut), wrapped between words in print; two agencies
        # abbreviated to the same name keep their full names.
        short = short.where(~short.duplicated(keep=False), card["agency_name"])
        # The table as data (English names, shares 0-1); the labels are what readers see.
        frame = pd.DataFrame({"agency": short, "headcount_band": card["headcount_band"]})
        labels = {"agency": cols["agency"], "headcount_band": cols["band"]}
        for policy in POLICIES:
            frame[f"{policy}_year"] = [adoption.get(y, str(y)) for y in card[policy]]
            labels[f"{policy}_year"] = policies[policy]
        frame["skp_good_share"] = card["skp_good_share"]
        frame["jp_minimum_share"] = card["jp_minimum_share"]
        frame["ikm"] = card["ikm"]
        labels.update(skp_good_share=cols["skp"], jp_minimum_share=cols["jp"], ikm=cols["ikm"])
        note = ""
        if result.n_suppressed:
            note = f"{self.suppression_note()} {self.t('sections.scorecards.complementary')}"
        caption = self.t("sections.scorecards.caption", year=result.year)
        options = {
            "labels": labels,
            "digits": {"ikm": 1},
            "percent": ["skp_good_share", "jp_minimum_share"],
            "units": {"ikm": "points"},
            "names": ["agency"],
            "note": note or None,
        }
        if result.fits_in_print:
            self.table(frame, "agency_scorecards", caption, **options)
            return
        # Too long to print: the table files (and the workbook built from them) get the
        # full annex; the report says where it is.
        saved = self.table(frame, "agency_scorecards", caption, display=False, **options)
        self.paragraph(
            self.t(
                "sections.scorecards.too_long",
                agencies=self.num(result.n_agencies, 0),
                limit=PRINT_ROW_LIMIT,
                file=saved.relative_csv,
            )
        )
