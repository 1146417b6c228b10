"""Chapter 1, Pendahuluan / Introduction: the setting, the data and its quality."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from babel.lists import format_list

from asn_eval import indices
from asn_eval.analysis.panels import POLICIES, workforce_snapshot
from asn_eval.data.contract import PPPK_GRADES, TABLES
from asn_eval.domain import setting as context
from asn_eval.domain.regulations import IKM_ELEMENTS, IKM_REPORT_WEIGHTS
from asn_eval.domain.subgroups import AGE_BAND_LABELS
from asn_eval.indices import survey
from asn_eval.report import narrative
from asn_eval.report.agency_tables import MANY_AGENCIES, agency_distribution, sort_naturally
from asn_eval.report.chapters.base import Chapter
from asn_eval.report.figures import PALETTE, figure_size
from asn_eval.report.plots import format_axis_numbers

# Education levels counted as a degree (D-IV and above).
DEGREE_LEVELS: tuple[str, ...] = ("D4", "S1", "S2", "S3")
# Descriptive columns whose values the data check may set aside: chapter 1 says how many are
# unknown, and its shares are of the known ones.
UNKNOWN_READ: tuple[str, ...] = ("sex", "employment_type", "education", "rank", "position_type")


def _set_aside_cells(rejects: pd.DataFrame | None, tables: pd.Series) -> pd.Series:
    """Per table, the values set aside without their rows (``set_aside == "field"``)."""
    if rejects is None or "set_aside" not in rejects:
        return pd.Series(0, index=tables.index)
    counts = rejects.loc[rejects["set_aside"] == "field", "table"].value_counts()
    return tables.map(counts).fillna(0).astype(int)


def rank_group(rank: pd.Series, employment_type: pd.Series) -> pd.Series:
    """PNS golongan (I-IV, the part of the rank before the slash) or "PPPK"; missing when the
    rank is missing (a value set aside by the data check).

    An employee whose employment type is missing is placed by the rank itself: a PPPK grade
    (``V``-``XVII``, no slash) is PPPK, a PNS rank (``III/a``) its golongan.
    """
    text = rank.astype(object).where(rank.notna())
    golongan = text.str.split("/").str[0]
    known = employment_type.notna()
    pppk = (known & (employment_type.astype(str) == "PPPK")) | (
        ~known & text.isin(PPPK_GRADES)
    )
    return golongan.where(~pppk, "PPPK").where(text.notna())


def share_of(values: pd.Series, value: str) -> float:
    """Share of the employees whose ``values`` is ``value``, among those whose value is known
    (a value set aside by the data check is unknown, not "not ``value``")."""
    known = values.dropna()
    return float((known.astype(str) == value).mean()) if len(known) else float("nan")


class Introduction(Chapter):
    number = 1
    key = "introduction"
    sections = ("setting", "data", "workforce", "quality")

    def after_heading(self) -> None:
        self.synthetic_notice()

    # 1.1 ------------------------------------------------------------------------------
    def section_setting(self) -> None:
        source = self.common("source")
        self.paragraph(self.t("sections.setting.lead"))
        self.bullets(
            [f"{s} ({source}: {src})" for s, src in context.statements("setting", self.lang)]
        )
        self.paragraph(self.t("sections.setting.policies"))
        items = []
        for key in POLICIES:
            pol = context.policy(key, self.lang)
            items.append(f"{pol['name']}: {pol['statement']} ({source}: {pol['source']})")
        self.bullets(items)
        self.paragraph(self.t("sections.setting.questions"))
        self.bullets([s for s, _ in context.statements("questions", self.lang)])
        glossary = narrative.glossary(self.lang, level=self.spec.level)
        self.table(
            glossary,
            "glossary",
            narrative.text("report.glossary", self.lang),
            labels=self.t("sections.setting.glossary_columns"),
        )

    # 1.2 ------------------------------------------------------------------------------
    def section_data(self) -> None:
        meta = getattr(self.dataset, "metadata", {}) or {}
        years = self.years
        self.paragraph(
            self.t(
                "sections.data.lead",
                first=years[0],
                last=years[-1],
                region=meta.get("region", ""),
                data_date=self.date(meta.get("data_date")),
            )
        )
        # The synthetic dataset's own description is English; the report says it in its
        # language. Real data keep the office's own words.
        if bool(getattr(self.dataset, "synthetic", False)):
            self.paragraph(self.common("synthetic_description"))
        elif meta.get("description"):
            self.paragraph(str(meta["description"]).strip())
        names = self.t("sections.data.tables")
        rows = []
        # Rows accepted per table, from the loading account (len() of each table without
        # reading the tables a chapter does not otherwise need).
        quality = getattr(self.dataset, "quality", None)
        accepted = quality.set_index("table")["accepted"] if quality is not None else pd.Series()
        for table in TABLES:
            if table not in self.dataset.tables:
                continue
            count = accepted.get(table)
            if count is None:
                frame = self.dataset.tables[table]
                if frame is None:
                    continue
                count = len(frame)
            rows.append(
                {
                    "table": narrative.label("table", table, self.lang),
                    "content": names.get(table, ""),
                    "rows": int(count),
                }
            )
        header = self.t("sections.data.columns")
        self.table(
            pd.DataFrame(rows),
            "data_sources",
            self.t("sections.data.caption"),
            labels=header,
        )

    # 1.3 ------------------------------------------------------------------------------
    def section_workforce(self) -> None:
        snap = workforce_snapshot(self.dataset, year=self.year)
        snap["rank_group"] = rank_group(snap["rank"], snap["employment_type"])
        self.paragraph(
            self.t(
                "sections.workforce.lead",
                n=self.num(len(snap), 0),
                agencies=self.num(snap["agency_code"].nunique(), 0),
                date=self.date(pd.Timestamp(year=self.year, month=12, day=31)),
                female=self.pct(share_of(snap["sex"], "P")),
                pppk=self.pct(share_of(snap["employment_type"], "PPPK")),
                age=self.num(snap["age"].median(), 0),
            )
        )
        names = self.t("sections.workforce.unknown_columns")
        unknown = [
            self.t(
                "sections.workforce.unknown_count",
                column=names[column],
                n=self.num(int(snap[column].isna().sum()), 0),
            )
            for column in UNKNOWN_READ
            if snap[column].isna().any()
        ]
        if unknown:
            self.paragraph(
                self.t("sections.workforce.unknown", counts=format_list(unknown, locale=self.lang))
            )
        self.figure(self._workforce_figure(snap), "workforce", self.t("sections.workforce.fig"))

        cols = self.t("sections.workforce.columns")
        shares = ["female", "pppk", "degree"]
        by_type = self._profile(snap, "agency_type")
        self.table(
            by_type,
            "workforce_by_agency_type",
            self.t("sections.workforce.caption"),
            labels=cols,
            digits={"age": 0},
            percent=shares,
            units={"age": "years"},
            note=self.suppression_note(by_type),
        )
        if snap["agency_code"].nunique() > MANY_AGENCIES:
            self._workforce_by_agency_at_scale(snap)
        else:
            by_agency = self._profile(snap, "agency_name").drop(columns="agencies")
            by_agency = sort_naturally(by_agency, "agency_name")
            self.table(
                by_agency,
                "workforce_by_agency",
                self.t("sections.workforce.caption_agency"),
                labels=cols,
                digits={"age": 0},
                percent=shares,
                units={"age": "years"},
                names=["agency_name"],
                note=self.suppression_note(by_agency),
            )
        self._professionalism(snap)

    def _workforce_by_agency_at_scale(self, snap: pd.DataFrame) -> None:
        """Above MANY_AGENCIES agencies: how agencies of each type differ (spread across
        agencies), not one row per agency."""
        per_agency = self._profile(snap, "agency_code")
        kinds = snap.groupby("agency_code", observed=True)["agency_type"].first()
        per_agency["agency_type"] = [
            narrative.label("agency_type", kinds[code], self.lang, title=True)
            for code in per_agency["agency_code"]
        ]
        table = agency_distribution(
            per_agency,
            group="agency_type",
            spread=["n", "female"],
            medians=["pppk", "degree", "age"],
            total="n",
        )
        cols = self.t("sections.workforce.columns_at_scale")
        self.table(
            table,
            "workforce_by_agency",
            self.t("sections.workforce.caption_agency_at_scale", agencies=len(per_agency)),
            labels=cols,
            digits={"age": 0, "n_p10": 0, "n_median": 0, "n_p90": 0},
            percent=["female_p10", "female_median", "female_p90", "pppk", "degree"],
            units={"age": "years"},
            note=self.t("sections.workforce.note_at_scale"),
        )

    def _professionalism(self, snap: pd.DataFrame) -> None:
        """IP ASN (Peraturan BKN 8/2019) of the staff serving on 31 December, by agency type.

        The same employees as the workforce tables above (those serving on 31 December), so
        the counts agree; the index needs education, training, the SKP predicate and the
        sanction level of the report year.
        """
        tables = self.dataset.tables
        if tables.get("training") is None or tables.get("performance") is None:
            return
        employees = tables["employees"]
        staff = employees[employees["employee_id"].isin(snap["employee_id"])]
        inputs = indices.ip_asn_inputs(
            staff, tables["performance"], tables["training"], year=self.year
        )
        # Agency types keep their categorical order, the order of the workforce tables.
        types = tables["agencies"].set_index("agency_code")["agency_type"]
        inputs["agency_type"] = inputs["agency_code"].map(types).astype(types.dtype)
        result = indices.ip_asn(inputs, keep=["agency_type"])
        overall = result.means()
        if not overall["employees"].iloc[0]:
            return
        words = self.t("sections.workforce.ip_asn.columns")
        by_type = result.means(by="agency_type")
        by_type["agency_type"] = [
            narrative.label("agency_type", t, self.lang, title=True) for t in by_type["agency_type"]
        ]
        overall.insert(0, "agency_type", self.t("sections.workforce.ip_asn.all"))
        frame = pd.concat([by_type, overall], ignore_index=True)
        frame["level"] = frame["level"].astype(str)
        frame = self.suppress(
            frame,
            count="employees",
            columns=["kualifikasi", "kompetensi", "kinerja", "disiplin", "ip_asn", "level"],
        )
        mean = float(overall["ip_asn"].iloc[0])
        self.paragraph(
            self.t(
                "sections.workforce.ip_asn.lead",
                date=self.date(pd.Timestamp(year=self.year, month=12, day=31)),
                mean=self.num(mean),
                level=str(overall["level"].iloc[0]),
                n=self.num(int(overall["employees"].iloc[0]), 0),
            )
        )
        note = self.t("sections.workforce.ip_asn.caution")
        suppressed = self.suppression_note(frame)
        self.table(
            frame,
            "ip_asn_by_agency_type",
            self.t("sections.workforce.ip_asn.caption", year=self.year),
            labels=words,
            digits=1,
            units={c: "points" for c in ("kualifikasi", "kompetensi", "kinerja", "disiplin")}
            | {"ip_asn": "points"},
            note=f"{note} {suppressed}".strip() if result.unconfirmed_points else suppressed,
        )

    def _profile(self, snap: pd.DataFrame, by: str) -> pd.DataFrame:
        """Headcount and composition per group, shares suppressed for small groups."""
        grouped = snap.groupby(by, observed=True)
        frame = pd.DataFrame(
            {
                "n": grouped.size(),
                "agencies": grouped["agency_code"].nunique(),
                "female": grouped["sex"].apply(lambda s: share_of(s, "P")),
                "pppk": grouped["employment_type"].apply(lambda s: share_of(s, "PPPK")),
                "age": grouped["age"].median(),
                "degree": grouped["education"].apply(
                    lambda s: s.dropna().astype(str).isin(DEGREE_LEVELS).mean()
                ),
            }
        ).reset_index()
        frame = frame[frame["n"] > 0]
        frame = self.suppress(frame, count="n", columns=["female", "pppk", "age", "degree"])
        if by == "agency_type":
            frame[by] = [narrative.label(by, t, self.lang, title=True) for t in frame[by]]
        frame[by] = frame[by].astype(str)
        return frame.reset_index(drop=True)

    def _workforce_figure(self, snap: pd.DataFrame) -> plt.Figure:
        labels = self.t("sections.workforce.panels")
        fig, axes = plt.subplots(
            2, 2, figsize=figure_size("full", aspect=0.78), layout="constrained"
        )
        ages = list(AGE_BAND_LABELS)
        self._grouped_bars(
            axes[0, 0],
            pd.crosstab(snap["age_band"], snap["sex"]).reindex(ages, fill_value=0),
            names=labels["sexes"],
        )
        education = [c for c in snap["education"].cat.categories if (snap["education"] == c).any()]
        # Ten levels side by side would crowd their labels: bars run across, lowest level on top.
        counts = snap["education"].value_counts().reindex(education)
        axes[0, 1].barh(range(len(counts)), counts.to_numpy(), color=PALETTE[0])
        axes[0, 1].set_yticks(range(len(counts)), [str(c) for c in counts.index])
        axes[0, 1].invert_yaxis()
        roman = ("I", "II", "III", "IV")
        present = set(snap["rank_group"].dropna())
        groups = [g for g in roman if g in present]
        groups += sorted(present - set(roman) - {"PPPK"}) + (["PPPK"] if "PPPK" in present else [])
        counts = snap["rank_group"].value_counts().reindex(groups)
        axes[1, 0].bar(range(len(counts)), counts.to_numpy(), color=PALETTE[2])
        axes[1, 0].set_xticks(range(len(counts)), groups)
        positions = pd.crosstab(snap["position_type"].astype(object), snap["employment_type"])
        self._grouped_bars(axes[1, 1], positions.sort_index(), names={})
        titles = (labels["age"], labels["education"], labels["rank"], labels["position"])
        for ax, title in zip(axes.ravel(), titles, strict=True):
            # Left-aligned titles raised over the legends, which sit above the bars.
            ax.set_title(title, loc="left", pad=14)
            counts_on = "x" if ax is axes[0, 1] else "y"
            ax.set(xlabel="", ylabel="")
            ax.set_xlabel(labels["count"]) if counts_on == "x" else ax.set_ylabel(labels["count"])
            ax.grid(axis="y" if counts_on == "x" else "x", visible=False)
            format_axis_numbers(ax, self.lang, axis=counts_on)
        return fig

    @staticmethod
    def _grouped_bars(ax: plt.Axes, counts: pd.DataFrame, *, names: dict) -> None:
        """Side-by-side bars of ``counts`` (rows on the x axis, one bar per column); legend
        above the bars, under the panel title, outside the data."""
        width = 0.8 / max(1, counts.shape[1])
        for i, column in enumerate(counts.columns):
            offset = (i - (counts.shape[1] - 1) / 2) * width
            ax.bar(
                [x + offset for x in range(len(counts))],
                counts[column].to_numpy(),
                width=width,
                color=PALETTE[i],
                label=names.get(str(column), str(column)),
            )
        ax.set_xticks(range(len(counts)), [str(c) for c in counts.index])
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=counts.shape[1],
            frameon=False,
            borderaxespad=0.2,
            handlelength=1.0,
            columnspacing=0.8,
        )

    # 1.4 ------------------------------------------------------------------------------
    def section_quality(self) -> None:
        quality = getattr(self.dataset, "quality", None)
        cols = self.t("sections.quality.columns")
        if quality is None or len(quality) == 0:
            self.paragraph(self.t("sections.quality.none"))
            return
        q = quality[["table", "read", "accepted", "rejected"]].copy()
        totals = q[["read", "accepted", "rejected"]].sum()
        q["share"] = q["rejected"] / q["read"].where(q["read"] > 0)
        rejects = getattr(self.dataset, "rejects", None)
        # Values set aside without their rows (field-level columns); shown only when there
        # are some, so that a report on data without them reads as before.
        cells = _set_aside_cells(rejects, q["table"])
        lead = self.t(
            "sections.quality.lead",
            read=self.num(totals["read"], 0),
            accepted=self.num(totals["accepted"], 0),
            rejected=self.num(totals["rejected"], 0),
        )
        if cells.sum():
            q["set_aside"] = cells.to_numpy()
            lead += " " + self.t("sections.quality.set_aside", cells=self.num(cells.sum(), 0))
        q["table"] = [narrative.label("table", t, self.lang) for t in q["table"]]
        self.paragraph(lead)
        self.table(
            q,
            "data_quality",
            self.t("sections.quality.caption"),
            labels=cols,
            digits=2,
            percent=["share"],
        )
        if rejects is not None and "set_aside" in rejects:
            rejects = rejects[rejects["set_aside"] == "row"]
        if rejects is not None and len(rejects):
            # Counts by file and rule only: a rejected value may itself be personal data.
            counts = (
                rejects.assign(
                    file=[narrative.label("table", t, self.lang) for t in rejects["table"]],
                    rule=[narrative.label("rule", r, self.lang) for r in rejects["rule"]],
                )
                .groupby(["file", "rule"], observed=True)
                .size()
                .rename("n")
                .reset_index()
                .sort_values(["file", "n", "rule"], ascending=[True, False, True])
            )
            rcols = self.t("sections.quality.reject_columns")
            self.table(
                counts,
                "rejected_rows_by_rule",
                self.t("sections.quality.reject_caption"),
                labels=rcols,
            )
        self._survey_quality()

    def _survey_quality(self) -> None:
        """IKM per year (indices.ikm) and the reliability of its nine elements (survey).

        Cronbach's alpha over every respondent of the years analysed says whether the nine
        elements measure one thing, which the IKM, their weighted mean, takes for granted.
        """
        sat = self.dataset.tables.get("satisfaction")
        if sat is None or len(sat) < 2:
            return
        frame = sat.assign(year=sat["period"].astype(str).str[:4].astype(int))
        frame = frame[frame["year"].isin(self.years)]
        if len(frame) < 2:
            return
        items = list(indices.IKM_ITEMS)
        per_year = indices.ikm(frame, group_by="year", weights=IKM_REPORT_WEIGHTS, n_boot=0)
        table = per_year.table[["year", "respondents", "ikm", "grade", "label"]].copy()
        table["agencies"] = table["year"].map(frame.groupby("year")["agency_code"].nunique())
        table["alpha"] = [
            survey.cronbach_alpha(frame.loc[frame["year"] == y, items]).alpha for y in table["year"]
        ]
        pooled = survey.cronbach_alpha(frame[items])
        elements = dict(zip(items, IKM_ELEMENTS, strict=True))
        weakest = pooled.items.sort_values("item_rest_r").iloc[0]["item"]
        columns = self.t("sections.quality.ikm.columns")
        self.subheading(self.t("sections.quality.ikm.title"))
        self.paragraph(
            self.t(
                "sections.quality.ikm.lead",
                respondents=self.num(len(frame), 0),
                agencies=self.num(frame["agency_code"].nunique(), 0),
                first=int(frame["year"].min()),
                last=int(frame["year"].max()),
                reliability=self.t(f"sections.quality.ikm.reliability.{pooled.interpretation}"),
                alpha=self.num(pooled.alpha, 2),
                level=narrative.level_percent(pooled.level, self.lang),
                low=self.num(pooled.ci_low, 2),
                high=self.num(pooled.ci_high, 2),
                weakest=elements[weakest],
            )
        )
        table["grade"] = table["grade"].astype(str) + " (" + table["label"] + ")"
        table["year"] = table["year"].astype(str)
        shown = ["year", "respondents", "agencies", "ikm", "grade", "alpha"]
        self.table(
            table[shown],
            "ikm_reliability",
            self.t("sections.quality.ikm.caption"),
            labels=columns,
            digits={"ikm": 2, "alpha": 2},
            units={"ikm": "points"},
        )
