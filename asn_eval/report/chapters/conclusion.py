"""Chapter 5, Kesimpulan / Conclusion: findings from results.json, recommendations by rule.

Nothing here re-estimates an effect or copies a number: the findings table and the
recommendations are built from the records the impact chapter saved in ``results.json``
(:mod:`asn_eval.results.store`): one decision per policy by the rules of
:mod:`asn_eval.domain.policy_decision`, and the training-capacity action from the year's
training gap (:func:`asn_eval.analysis.panels.training_gap`). Given an earlier report's folder
(``previous_dir``), section 5.2 and one line of the executive summary set each headline
estimate beside last year's (:mod:`asn_eval.results.comparison`).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from asn_eval.analysis.impact import CS_METHOD, ITS_METHOD, SDID_METHOD
from asn_eval.analysis.panels import (
    POLICIES,
    adoption_cohorts,
    training_gap,
)
from asn_eval.common import formatting as fmt
from asn_eval.domain import setting as context
from asn_eval.domain.decision import ALPHA, MDE_POWER
from asn_eval.domain.outcomes import kind
from asn_eval.domain.policy_decision import decide_policies
from asn_eval.report import narrative
from asn_eval.report.chapters import base
from asn_eval.report.chapters.base import Chapter
from asn_eval.report.effects import EffectSummary, outcome_name
from asn_eval.results import comparison as compare_reports
from asn_eval.results import truth
from asn_eval.results.store import load_results, save_policy_decisions

# Records shown as findings: the impact chapter's headline estimators (TWFE is shown there
# only to explain why it is not used; subgroup estimates stay in chapter 4). Dukcapil's
# finding is its synthetic DiD where the comparison offices allow one, else its ITS (the
# chapter stores no ITS record for a pair its synthetic DiD leads).
FINDINGS_CHAPTER = "3"
FINDINGS_ESTIMATORS: tuple[str, ...] = (CS_METHOD, SDID_METHOD, ITS_METHOD)
# Chapter 4's subgroup estimates set beside their truth ("Callaway-Sant'Anna (simple ATT) by
# <variable>"); its TWFE comparison, if saved, has no truth of its own.
SUBGROUP_ESTIMATOR = CS_METHOD


def findings(records: list) -> list:
    """The records that enter the findings table, in policy then outcome order."""
    chosen = [
        r for r in records if r.chapter == FINDINGS_CHAPTER and r.estimator in FINDINGS_ESTIMATORS
    ]
    order = {p: i for i, p in enumerate(POLICIES)}
    return sorted(chosen, key=lambda r: (order.get(r.policy, len(order)), r.outcome, r.estimator))


def finding_counts(records: list, n_tests: int | None = None) -> dict[str, int]:
    """Counts of the findings by verdict and standing, from the one decision per record.

    Programme uptake is counted apart: it is not performance. ``n_tests`` (default: the
    records) is how many effects the report tests; ``expected_false`` is 5% of it, the
    number that would look like effects by chance if no policy had any.
    """
    counted = [r for r in records if kind(r.outcome) != "uptake"]
    n_tests = len(records) if n_tests is None else int(n_tests)

    def count(verdict: str, standing: str | None) -> int:
        return sum(r.verdict == verdict and r.standing == standing for r in counted)

    return {
        "n": len(counted),
        "improved": count("improved", "confirmed"),
        "improved_tentative": count("improved", "tentative"),
        "worsened": count("worsened", "confirmed"),
        "worsened_tentative": count("worsened", "tentative"),
        "no_effect": count("no_detectable_effect", None),
        "not_identified": count("not_identified", None),
        "uptake": len(records) - len(counted),
        "n_tests": n_tests,
        "expected_false": round(narrative.ALPHA * n_tests),
    }


_TAG = re.compile(r"<[^>]+>")
# The executive summary's anchor, for the report's contents.
SUMMARY_ANCHOR = "executive-summary"


def summary_phrase(record, lang: str) -> str:
    """One finding in a few words: "waktu layanan turun 8,28 menit (belum pasti: satu
    kantor)" -- its outcome, direction, size and standing, from the record's decision, and
    the event times whose band says otherwise
    (:func:`~asn_eval.report.narrative.hidden_dynamics`)."""
    phrase = _summary_phrase(record, lang)
    hidden = narrative.dynamics_phrase(record, lang)
    if hidden is None:
        return phrase
    return narrative.text("summary_phrase.hidden", lang, phrase=phrase, hidden=hidden)


def _summary_phrase(record, lang: str) -> str:
    outcome = narrative.label("outcome", record.outcome, lang)
    est, _, _, unit = narrative.scaled(record)
    if record.verdict == "no_detectable_effect":
        return narrative.text("summary_phrase.none", lang, outcome=outcome)
    if record.verdict == "not_identified":
        return narrative.text("summary_phrase.not_identified", lang, outcome=outcome)
    unit_words = narrative.label("unit", unit, lang) if unit else ""
    amount = fmt.fmt_number(abs(est), lang, 1) + (f" {unit_words}" if unit_words else "")
    moved = narrative.text("change.up" if est > 0 else "change.down", lang)
    standing = (
        narrative.text(
            "summary_phrase.tentative",
            lang,
            reasons=", ".join(narrative.reason_words(record, lang, short=True)),
        )
        if record.standing == "tentative"
        else narrative.text("summary_phrase.confirmed", lang)
    )
    return narrative.text(
        "summary_phrase.change",
        lang,
        outcome=outcome,
        moved=moved,
        amount=amount,
        meaning=narrative.meaning(record.outcome, record.verdict, lang),
        standing=standing,
    )


class Conclusion(Chapter):
    number = 5
    key = "conclusion"
    sections = ("findings", "comparison", "recommendations", "next_year", "limitations")

    def __init__(self, dataset: Any, *, previous_dir: str | Path | None = None, **options: Any):
        """``previous_dir``: an earlier report's folder to compare with ("" or None: none)."""
        super().__init__(dataset, **options)
        self.previous_dir = Path(previous_dir) if previous_dir else None

    def after_heading(self) -> None:
        self.synthetic_notice()

    @property
    def records(self) -> list:
        return findings(load_results(self.output_dir))

    @property
    def all_tests(self) -> int:
        """Effects the report tests: every stored estimate except the comparisons shown
        beside the headline estimator (TWFE, the imputation estimator, CS with the other
        comparison group, the IKM estimate from the respondents); chapter 4's subgroup
        estimates count."""
        from asn_eval.analysis.impact import (
            IMPUTATION_METHOD,
            OTHER_CONTROL_NAMES,
        )
        from asn_eval.analysis.survey import RCS_METHOD

        beside = {"TWFE", IMPUTATION_METHOD, RCS_METHOD}
        beside |= {f"{CS_METHOD} ({name})" for name in OTHER_CONTROL_NAMES.values()}
        return sum(r.estimator not in beside for r in load_results(self.output_dir))

    def outcome_name(self, key: str) -> str:
        return outcome_name(key, self.lang)

    # 5.1 ------------------------------------------------------------------------------
    def section_findings(self) -> None:
        records = self.records
        if not records:
            self.paragraph(self.t("sections.findings.missing"))
            return
        self.paragraph(self.t("sections.findings.lead", **finding_counts(records, self.all_tests)))
        head = {k: narrative.text(f"findings.{k}", self.lang) for k in _FINDINGS_KEYS}
        level = narrative.level_percent(records[0].level, self.lang)  # one level for all
        head["interval"] = narrative.text("findings.interval", self.lang, level=level)
        # Headline records carry the randomization-inference p (the TWFE wild bootstrap p
        # stays in chapter 3), so the column is named for what it holds.
        head["p_value_few_cluster"] = self.t("sections.findings.p_few")
        rows = []
        for r in records:
            effect = EffectSummary(r, self.lang)
            rows.append(
                {
                    **effect.row(*_EFFECT_CELLS),
                    "p_value_few_cluster": r.p_value_few_cluster,
                    "pretrend_p": r.pretrend_p,
                    # Holm, across the headline family: the multiple-testing step of the
                    # standing rule, shown where it decides.
                    "p_value_adjusted": r.p_value_adjusted,
                    "n_agencies": r.n_agencies,
                    "verdict": effect.verdict,
                }
            )
        self.table(
            pd.DataFrame(rows),
            "findings",
            narrative.text("caption.findings", self.lang),
            labels=head,
            digits=2,
            intervals={"interval": ("ci_low", "ci_high")},
            pvalues=["p_value_few_cluster", "pretrend_p", "p_value_adjusted"],
            hidden=["estimate_unit"],
            note=self.t("sections.findings.note"),
        )

    # 5.2 ------------------------------------------------------------------------------
    @property
    def previous(self) -> compare_reports.PreviousReport | None:
        """The earlier report named by ``previous_dir`` (None when there is none)."""
        if self.previous_dir is None:
            return None
        return compare_reports.read_previous(self.previous_dir)

    @property
    def previous_year(self) -> int:
        previous = self.previous
        return previous.year if previous is not None and previous.year else self.year - 1

    def current_manifest(self) -> dict:
        """This run's manifest.json (the report run writes it before the chapters), or {}."""
        path = self.output_dir / compare_reports.MANIFEST_FILE
        if not path.is_file():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))

    def comparison(self) -> compare_reports.Comparison | None:
        """This report's headline estimates beside the previous report's, or None."""
        previous = self.previous
        if previous is None:
            return None
        return compare_reports.compare(
            findings(list(previous.records)),
            self.records,
            previous_manifest=previous.manifest,
            current_manifest=self.current_manifest(),
        )

    def section_comparison(self) -> None:
        compared = self.comparison()
        if compared is None:
            self.paragraph(self.t("comparison.none", year=self.year))
            return
        years = dict(previous_year=self.previous_year, year=self.year)
        self.paragraph(
            self.t(
                "comparison.lead",
                n_changed=compared.n_changed,
                n_paired=compared.n_paired,
                **years,
            )
        )
        head = {k: self.t(f"comparison.columns.{k}", **years) for k in _COMPARISON_KEYS}
        head["estimate_previous"] = head.pop("previous")
        head["estimate_current"] = head.pop("current")
        rows = []
        order = {p: i for i, p in enumerate(POLICIES)}
        for r in sorted(compared.rows, key=lambda r: order.get(r.policy, len(order))):
            scale = 100.0 if r.unit == "share" else 1.0
            rows.append(
                {
                    "policy": context.policy(r.policy, self.lang)["name"],
                    "outcome": self.outcome_name(r.outcome),
                    "estimator": narrative.estimator_label(r.estimator, self.lang, title=True),
                    "estimate_previous": _scaled(r.previous, scale),
                    "estimate_current": _scaled(r.current, scale),
                    "change": None if r.change is None else r.change * scale,
                    "estimate_unit": "pp" if r.unit == "share" else str(r.unit or ""),
                    "verdict_previous": self._verdict_cell(r.previous),
                    "verdict_current": self._verdict_cell(r.current),
                    "changed": self.t(f"comparison.changed.{_changed_key(r)}"),
                }
            )
        self.table(
            pd.DataFrame(rows),
            "comparison",
            self.t("comparison.caption", **years),
            labels=head,
            digits=2,
            missing_text={k: "–" for k in ("estimate_previous", "estimate_current", "change")},
            hidden=["estimate_unit"],
            note=self.t("comparison.note"),
        )
        if compared.differences:
            self.paragraph(self.t("comparison.differences_lead"))
            self.bullets([self._difference_words(d) for d in compared.differences])
        else:
            self.paragraph(self.t("comparison.same"))

    def _verdict_cell(self, record) -> str:
        return "–" if record is None else narrative.verdict_label(record, self.lang)

    def _difference_words(self, difference: str) -> str:
        """One difference between the two runs
        (:func:`~asn_eval.results.comparison.method_differences`) in words, with its values then
        and now."""
        manifests = (self.previous.manifest, self.current_manifest())
        if difference == "version":
            then, now = (m.get("packages", {}).get(compare_reports.PACKAGE) for m in manifests)
            return self.t("comparison.difference.version", previous=then, current=now)
        if difference.startswith("parameter:"):
            name = difference.split(":", 1)[1]
            then, now = (m.get("parameters", {}).get(name, "–") for m in manifests)
            return self.t("comparison.difference.parameter", name=name, previous=then, current=now)
        return self.t(f"comparison.difference.{difference}")

    # 5.3 ------------------------------------------------------------------------------
    def section_recommendations(self) -> None:
        """One decision per policy (the rules printed below it are the ones applied), then
        the training capacity the data call for; the decisions go to ``results.json``."""
        decisions = self.policy_decisions()
        save_policy_decisions(self.output_dir, [d.as_dict() for d in decisions])
        self.paragraph(self.t("sections.recommendations.lead"))
        lines = [narrative.policy_decision_text(d, self.lang) for d in decisions]
        lines += self._capacity()
        self.bullets(lines)
        lead, rules, standing = narrative.policy_decision_rules(self.lang)
        self.paragraph(lead)
        self.bullets(rules)
        self.paragraph(standing)

    def policy_decisions(self) -> list:
        """The one decision of each policy that has findings, in report order."""
        records = self.records
        present = [p for p in POLICIES if any(r.policy == p for r in records)]
        return decide_policies(records, present, year=self.year)

    def _capacity(self, *, short: bool = False) -> list[str]:
        """The training-capacity action, when the data call for one (at most one line)."""
        said = narrative.training_capacity_text(
            training_gap(self.dataset, year=self.year), self.lang, short=short
        )
        return [] if said is None else [said]

    # Executive summary ------------------------------------------------------------------
    def executive_summary(self) -> None:
        """The report's first page (placed after the cover by the report document): per
        policy one line with each finding's direction, size and standing; what the data
        cannot tell; the three recommendations that come first by the rules."""
        records = self.records
        parts = [f"<h1>{html.escape(self.t('summary.title'))}</h1>"]
        if not records:
            parts.append(f"<p>{html.escape(self.t('sections.findings.missing'))}</p>")
            self._summary_block(parts)
            return
        counts = finding_counts(records, self.all_tests)
        parts.append(f"<p>{html.escape(self.t('summary.lead', **counts))}</p>")
        lines = []
        for policy in POLICIES:
            mine = [r for r in records if r.policy == policy]
            if not mine:
                continue
            said = "; ".join(summary_phrase(r, self.lang) for r in mine)
            name = context.policy(policy, self.lang)["name"]
            lines.append(f"<li><strong>{html.escape(name)}</strong>: {html.escape(said)}.</li>")
        parts.append(f"<ul>{''.join(lines)}</ul>")
        compared = self.comparison()
        if compared is not None:
            line = self.t(
                "comparison.summary",
                previous_year=self.previous_year,
                n_changed=compared.n_changed,
                n_paired=compared.n_paired,
                differences=bool(compared.differences),
                section=self.section_number("comparison"),
            )
            parts.append(f"<p>{html.escape(line)}</p>")
        confirmed = counts["improved"] + counts["worsened"]
        cannot = [self.t("summary.cannot.causal")]
        if counts["improved_tentative"] + counts["worsened_tentative"]:
            cannot.append(self.t("summary.cannot.tentative"))
        cannot.append(self.t("summary.cannot.chance", **counts))
        parts.append(f"<h2>{html.escape(self.t('summary.cannot_title'))}</h2>")
        parts.append("<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in cannot) + "</ul>")
        parts.append(f"<h2>{html.escape(self.t('summary.recommendations_title'))}</h2>")
        if confirmed == 0:
            parts.append(f"<p>{html.escape(self.t('summary.no_change'))}</p>")
        # Every policy's one decision, worded as in chapter 5, then the training capacity.
        # (the office by its short name: the summary must fit its page)
        said = [
            narrative.policy_decision_text(d, self.lang, owner_code=True)
            for d in self.policy_decisions()
        ]
        said += self._capacity(short=True)
        parts.append("<ol>" + "".join(f"<li>{html.escape(t)}</li>" for t in said) + "</ol>")
        self._summary_block(parts)

    def _summary_block(self, parts: list[str]) -> None:
        body = "".join(parts)
        self.emitted.append(("summary", html.unescape(_TAG.sub(" ", body))))
        # Its title and anchor travel on the label, so the contents list it with its page.
        base._display(
            f'<section class="executive-summary" id="{SUMMARY_ANCHOR}">{body}</section>',
            "summary",
            title=self.t("summary.title"),
            anchor=SUMMARY_ANCHOR,
        )

    # 5.4 ------------------------------------------------------------------------------
    def section_next_year(self) -> None:
        """What effect next year's evaluation could detect, per headline outcome."""
        items = []
        for r in self.records:
            if r.mde_next_year is None or kind(r.outcome) == "uptake":
                continue
            scale = 100.0 if r.unit == "share" else 1.0
            unit = narrative.label("unit", r.unit, self.lang) if r.unit else ""
            items.append(
                self.t(
                    "sections.next_year.item",
                    policy=context.policy(r.policy, self.lang)["name"],
                    outcome=self.outcome_name(r.outcome),
                    mde=f"{fmt.fmt_number(r.mde_next_year * scale, self.lang, 2)} {unit}".strip(),
                    n_agencies=fmt.fmt_number(r.n_agencies, self.lang, 0),
                )
            )
        if not items:
            self.paragraph(self.t("sections.next_year.none"))
            return
        self.paragraph(
            self.t(
                "sections.next_year.lead",
                power=fmt.fmt_percent(MDE_POWER, self.lang, 0),
                alpha=fmt.fmt_percent(ALPHA, self.lang, 0),
            )
        )
        self.bullets(items)

    # 5.5 ------------------------------------------------------------------------------
    def section_limitations(self) -> None:
        self.paragraph(self.t("sections.limitations.lead"))
        self.bullets(list(self.t("sections.limitations.items").values()))
        self.synthetic_notice()
        self.paragraph(self.t("sections.limitations.closing"))

    # 5.6, synthetic data only ---------------------------------------------------------
    def show(self, section: str) -> None:
        """Show one section. ``"truth"`` follows the template sections and appears only
        for a synthetic dataset with a truth.json (words: ``chapters.conclusion.truth``)."""
        if section != "truth":
            super().show(section)
            return
        frame = self.truth_frame()
        if frame is None or frame.empty:
            return
        title = f"{self.number}.{len(self.sections) + 1} {self.t('truth.title')}"
        self.show_heading(2, title)
        self.section_truth()

    def truth_frame(self) -> pd.DataFrame | None:
        """True effect beside each finding and each of chapter 4's subgroup estimates
        (:func:`asn_eval.results.truth.truth_table`; subgroup rows last, with ``subgroup_variable``
        set), or None."""
        if not bool(getattr(self.dataset, "synthetic", False)):
            return None
        cohorts = adoption_cohorts(self.dataset, years=self.years)
        source = getattr(self.dataset, "source", None)
        subgroups = [
            r
            for r in load_results(self.output_dir)
            if r.subgroup_variable and r.estimator.startswith(SUBGROUP_ESTIMATOR)
        ]
        return truth.truth_table(source, [*self.records, *subgroups], cohorts=cohorts)

    def section_truth(self) -> None:
        frame = self.truth_frame()
        if frame is None or frame.empty:
            return
        by_group = frame["subgroup_variable"].astype(bool)
        if not by_group.all():
            self._truth_findings(frame[~by_group])
        if by_group.any():
            self._truth_subgroups(frame[by_group])

    def _truth_findings(self, frame: pd.DataFrame) -> None:
        cols = self.t("truth.columns")
        rows, misses = [], []
        for r in frame.itertuples(index=False):
            scale = 100.0 if r.unit == "share" else 1.0
            cells = EffectSummary(r, self.lang).row(*_EFFECT_CELLS)
            known = not pd.isna(r.true_effect)
            covered = {None: "truth.unknown", True: "truth.yes", False: "truth.no"}[r.covered]
            rows.append(
                {
                    **{k: cells[k] for k in ("policy", "outcome", "estimator")},
                    "true_effect": r.true_effect * scale if known else None,
                    **{k: cells[k] for k in ("estimate", "ci_low", "ci_high", "estimate_unit")},
                    "covered": self.t(covered),
                }
            )
            if r.covered is False:
                misses.append(self._miss_sentence(r))
        self.paragraph(self.t("truth.lead"))
        self.table(
            pd.DataFrame(rows),
            "truth",
            self.t("truth.caption"),
            labels=cols,
            digits=2,
            intervals={"interval": ("ci_low", "ci_high")},
            hidden=["estimate_unit"],
            note=self.t("truth.note"),
        )
        if misses:
            self.paragraph(self.t("truth.misses_lead", n=len(misses), total=len(rows)))
            self.bullets(misses)

    def _truth_subgroups(self, frame: pd.DataFrame) -> None:
        """Chapter 4's subgroup estimates beside their truths (shares in percentage points)."""
        words = "truth.subgroups"
        names = narrative.text_group("chapters.challenges.sections.heterogeneity.by", self.lang)
        rows = []
        for r in frame.iloc[_subgroup_order(frame)].itertuples(index=False):
            scale = 100.0 if r.unit == "share" else 1.0
            known = not pd.isna(r.true_effect)
            covered = {None: "truth.unknown", True: "truth.yes", False: "truth.no"}[r.covered]
            rows.append(
                {
                    "policy": context.policy(r.policy, self.lang)["name"],
                    "by": names.get(r.subgroup_variable, r.subgroup_variable),
                    "group": narrative.group_label(r.subgroup_value, self.lang),
                    "true_effect": r.true_effect * scale if known else None,
                    "estimate": r.estimate * scale,
                    "ci_low": r.ci_low * scale,
                    "ci_high": r.ci_high * scale,
                    "estimate_unit": "pp" if r.unit == "share" else str(r.unit or ""),
                    "covered": self.t(covered),
                }
            )
        self.paragraph(self.t(f"{words}.lead"))
        self.table(
            pd.DataFrame(rows),
            "truth_subgroups",
            self.t(f"{words}.caption"),
            labels=self.t(f"{words}.columns"),
            digits=2,
            intervals={"interval": ("ci_low", "ci_high")},
            hidden=["estimate_unit"],
            note=self.t(f"{words}.note"),
        )
        missed = int(frame["covered"].eq(False).sum())
        known = int(frame["covered"].notna().sum())
        self.paragraph(self.t(f"{words}.misses", n=missed, total=known))
        # One sentence per miss, as for the findings: why this interval missed its truth.
        self.bullets(
            [
                self._miss_sentence(
                    r,
                    group=f"{names.get(r.subgroup_variable, '')} "
                    f"{narrative.group_label(r.subgroup_value, self.lang)}",
                )
                for r in frame.iloc[_subgroup_order(frame)].itertuples(index=False)
                if r.covered is False
            ]
        )

    def _miss_sentence(self, r, *, group: str = "") -> str:
        """Why an interval missed its truth, in one sentence: one office, few never-adopting
        agencies, a failed pre-trend test, or chance (one in twenty 95% intervals).
        ``group`` names the subgroup of a chapter 4 estimate."""
        outcome = self.outcome_name(r.outcome)
        values = dict(
            policy=context.policy(r.policy, self.lang)["name"],
            outcome=f"{outcome} ({group.strip()})" if group.strip() else outcome,
        )
        if not pd.isna(r.n_agencies) and int(r.n_agencies) <= 1:
            return self.t("truth.miss.single_unit", **values)
        cohorts = adoption_cohorts(self.dataset, years=self.years)
        never = int((cohorts[r.policy] == 0).sum()) if r.policy in cohorts else None
        if never is not None and never < FEW_NEVER:
            return self.t("truth.miss.few_never", n=never, **values)
        return self.t("truth.miss.chance", **values)


def _subgroup_order(frame: pd.DataFrame) -> list[int]:
    """Positions of ``frame``'s rows in chapter 4's order: subgroup variables as the chapter
    estimates them, age bands youngest first, education lowest first, other values sorted."""
    from asn_eval.analysis.challenges import HETEROGENEITY_BY
    from asn_eval.domain.subgroups import AGE_BAND_LABELS, EDUCATION_ORDER

    within = {"age_band_start": AGE_BAND_LABELS, "education_group": EDUCATION_ORDER}

    def key(i: int) -> tuple:
        variable, value = frame["subgroup_variable"].iloc[i], frame["subgroup_value"].iloc[i]
        known = within.get(variable, ())
        rank = known.index(value) if value in known else len(known)
        order = list(HETEROGENEITY_BY)
        by = order.index(variable) if variable in order else len(order)
        return (frame["policy"].iloc[i], by, variable, rank, value)

    return sorted(range(len(frame)), key=key)


# Fewer never-adopting agencies than this make the comparison group thin: a miss is then
# said to come from the comparison group rather than chance.
FEW_NEVER = 5


# The cells of an effect (asn_eval.report.effects) that tables 5.1 and the truth table show.
_EFFECT_CELLS = ("policy", "outcome", "estimator", "estimate", "ci_low", "ci_high", "estimate_unit")

_FINDINGS_KEYS = (
    "policy",
    "outcome",
    "estimator",
    "estimate",
    "p_value_few_cluster",
    "pretrend_p",
    "p_value_adjusted",
    "n_agencies",
    "verdict",
)


_COMPARISON_KEYS = (
    "policy",
    "outcome",
    "estimator",
    "previous",
    "current",
    "change",
    "verdict_previous",
    "verdict_current",
    "changed",
)


def _scaled(record, scale: float) -> float | None:
    return None if record is None or record.estimate is None else record.estimate * scale


def _changed_key(row) -> str:
    """``verdict``, ``standing``, ``no`` or ``missing``: what changed for one estimate."""
    if row.verdict_changed is None:
        return "missing"
    if row.verdict_changed:
        return "verdict"
    return "standing" if row.standing_changed else "no"
