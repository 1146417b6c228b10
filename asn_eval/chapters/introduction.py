"""Chapter 1, Pendahuluan / Introduction: the setting, the data and its quality."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from asn_eval import context, narrative
from asn_eval.chapters.base import Chapter
from asn_eval.data.contract import TABLES
from asn_eval.panels import AGE_BAND_LABELS, POLICIES, workforce_snapshot

# Education levels counted as a degree (D-IV and above).
DEGREE_LEVELS: tuple[str, ...] = ("D4", "S1", "S2", "S3")


def rank_group(rank: pd.Series, employment_type: pd.Series) -> pd.Series:
    """PNS golongan (I-IV, the part of the rank before the slash) or "PPPK"."""
    golongan = rank.astype(str).str.split("/").str[0]
    return golongan.where(employment_type.astype(str) != "PPPK", "PPPK")


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
        glossary = narrative.glossary(self.lang)
        self.table(
            glossary.rename(columns=self.t("sections.setting.glossary_columns")),
            "glossary",
            narrative.text("report.glossary", self.lang),
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
        if meta.get("description"):
            self.paragraph(str(meta["description"]).strip())
        names = self.t("sections.data.tables")
        rows = []
        for table in TABLES:
            frame = self.dataset.tables.get(table)
            if frame is None:
                continue
            rows.append({"table": table, "content": names.get(table, ""), "rows": len(frame)})
        header = self.t("sections.data.columns")
        frame = pd.DataFrame(rows)
        shown = frame.rename(columns=header)
        self.table(
            shown,
            "data_sources",
            self.t("sections.data.caption"),
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
                female=self.pct((snap["sex"] == "P").mean()),
                pppk=self.pct((snap["employment_type"] == "PPPK").mean()),
                age=self.num(snap["age"].median(), 0),
            )
        )
        self.figure(self._workforce_figure(snap), "workforce", self.t("sections.workforce.fig"))

        cols = self.t("sections.workforce.columns")
        shares = [cols["female"], cols["pppk"], cols["degree"]]
        by_type = self._profile(snap, "agency_type")
        self.table(
            by_type.rename(columns=cols),
            "workforce_by_agency_type",
            self.t("sections.workforce.caption"),
            digits={cols["age"]: 0},
            percent=shares,
            note=self.suppression_note(),
        )
        by_agency = self._profile(snap, "agency_name").drop(columns="agencies")
        self.table(
            by_agency.rename(columns={**cols, "agency_name": cols["agency_name"]}),
            "workforce_by_agency",
            self.t("sections.workforce.caption_agency"),
            digits={cols["age"]: 0},
            percent=shares,
            note=self.suppression_note(),
        )

    def _profile(self, snap: pd.DataFrame, by: str) -> pd.DataFrame:
        """Headcount and composition per group, shares suppressed for small groups."""
        grouped = snap.groupby(by, observed=True)
        frame = pd.DataFrame(
            {
                "n": grouped.size(),
                "agencies": grouped["agency_code"].nunique(),
                "female": grouped["sex"].apply(lambda s: (s == "P").mean()),
                "pppk": grouped["employment_type"].apply(lambda s: (s == "PPPK").mean()),
                "age": grouped["age"].median(),
                "degree": grouped["education"].apply(
                    lambda s: s.astype(str).isin(DEGREE_LEVELS).mean()
                ),
            }
        ).reset_index()
        frame = frame[frame["n"] > 0]
        frame = self.suppress(frame, count="n", columns=["female", "pppk", "age", "degree"])
        frame[by] = frame[by].astype(str)
        return frame.reset_index(drop=True)

    def _workforce_figure(self, snap: pd.DataFrame) -> plt.Figure:
        labels = self.t("sections.workforce.panels")
        fig, axes = plt.subplots(2, 2, figsize=(9, 6.5))
        sns.countplot(
            data=snap, x="age_band", hue="sex", order=list(AGE_BAND_LABELS), ax=axes[0, 0]
        )
        axes[0, 0].set(title=labels["age"], xlabel="", ylabel=labels["count"])
        # Room above the bars so the legend never covers them.
        axes[0, 0].set_ylim(0, axes[0, 0].get_ylim()[1] * 1.3)
        axes[0, 0].legend(title=labels["sex"], loc="upper left", ncol=2, fontsize=8)
        education = [c for c in snap["education"].cat.categories if (snap["education"] == c).any()]
        sns.countplot(data=snap, x="education", order=education, ax=axes[0, 1], color="#0072B2")
        axes[0, 1].set(title=labels["education"], xlabel="", ylabel=labels["count"])
        roman = ("I", "II", "III", "IV")
        present = set(snap["rank_group"])
        groups = [g for g in roman if g in present]
        groups += sorted(present - set(roman) - {"PPPK"}) + (["PPPK"] if "PPPK" in present else [])
        sns.countplot(data=snap, x="rank_group", order=groups, ax=axes[1, 0], color="#009E73")
        axes[1, 0].set(title=labels["rank"], xlabel="", ylabel=labels["count"])
        positions = sorted(snap["position_type"].astype(str).unique())
        sns.countplot(
            data=snap.astype({"position_type": str}),
            x="position_type",
            hue="employment_type",
            order=positions,
            ax=axes[1, 1],
        )
        axes[1, 1].set(title=labels["position"], xlabel="", ylabel=labels["count"])
        axes[1, 1].set_ylim(0, axes[1, 1].get_ylim()[1] * 1.2)
        axes[1, 1].legend(title="", loc="upper right", ncol=2, fontsize=8)
        fig.tight_layout()
        return fig

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
        self.paragraph(
            self.t(
                "sections.quality.lead",
                read=self.num(totals["read"], 0),
                accepted=self.num(totals["accepted"], 0),
                rejected=self.num(totals["rejected"], 0),
            )
        )
        self.table(
            q.rename(columns=cols),
            "data_quality",
            self.t("sections.quality.caption"),
            digits=2,
            percent=[cols["share"]],
        )
        rejects = getattr(self.dataset, "rejects", None)
        if rejects is not None and len(rejects):
            # Counts by file and rule only: a rejected value may itself be personal data.
            counts = (
                rejects.groupby(["file", "rule"], observed=True)
                .size()
                .rename("n")
                .reset_index()
                .sort_values(["file", "n", "rule"], ascending=[True, False, True])
            )
            rcols = self.t("sections.quality.reject_columns")
            self.table(
                counts.rename(columns=rcols),
                "rejected_rows_by_rule",
                self.t("sections.quality.reject_caption"),
            )
