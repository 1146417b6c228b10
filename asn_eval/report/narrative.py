"""The report's words: static text, effect sentences and recommendations, in id and en.

Every sentence of the report comes from one template set per language
(``asn_eval/report/templates/id.yaml``, the default, and ``en.yaml``; same keys, same placeholders),
filled with computed results by :func:`text` and formatted for the language by
:mod:`asn_eval.common.formatting`. The chapters' prose lives there too, under ``chapters.<chapter>``
(read by :meth:`asn_eval.report.chapters.base.Chapter.t`). The words follow the evidence:

* Every verdict and standing comes from :func:`asn_eval.domain.decision.decide`, once per estimate,
  and is read from the record wherever the report shows it (:func:`verdict_label`).
* :func:`effect_sentence` says which way the outcome moved in its own words ("turun 8,28
  menit, lebih cepat"), the interval, the sample and, for a tentative finding, why.
* :func:`policy_decision_text` words each policy's one decision
  (:mod:`asn_eval.domain.policy_decision`), with the office that acts on it and the year it is
  checked again; :func:`training_capacity_text` the training-capacity action, when more than
  :data:`JP_SHORTFALL_TOLERANCE` of employees are below the 20 JP minimum or places fall short
  of what the minimum needs, with its cost where the budget table holds it.

Examples
--------
>>> verdict(0.05, 0.01, 0.09)
'improved'
>>> verdict(-2.0, -3.5, -0.5, better="lower")
'improved'
>>> text("chapters.impact.title", "id")
'Dampak'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import yaml
from babel.lists import format_list

from asn_eval.common import formatting as fmt
from asn_eval.data.contract import POLICIES
from asn_eval.data.messages import rule_label
from asn_eval.domain import setting as context

# ALPHA, BETTER, VERDICTS and verdict are re-exported: the report's words and its decisions
# share them.
from asn_eval.domain.decision import (  # noqa: F401
    ALPHA,
    BETTER,
    FEW_CLUSTERS,
    MDE_POWER,
    VERDICTS,
    Decision,
    decide,
    interval_sign,
    verdict,
)
from asn_eval.domain.decision import hidden_dynamics as _hidden_dynamics
from asn_eval.domain.outcomes import kind
from asn_eval.domain.outcomes import outcome as outcome_spec
from asn_eval.domain.policy_decision import DESIGN_REASONS, MAIN_OUTCOMES
from asn_eval.domain.policy_decision import RULES as POLICY_RULES
from asn_eval.domain.privacy import SUPPRESSED_MARK
from asn_eval.domain.regulations import JP_MINIMUM_PER_YEAR, MIN_CELL_SIZE
from asn_eval.estimators.synthetic import METHOD_NAMES as _SYNTHETIC_METHOD_NAMES

TEMPLATE_DIR = Path(__file__).with_name("templates")
# Share of employees below the JP minimum that the report tolerates before recommending more
# training capacity: a project choice, not a regulation (the regulation asks for everyone).
JP_SHORTFALL_TOLERANCE = 0.10
GLOSSARY_TERMS: tuple[str, ...] = ("ASN", "PNS", "PPPK", "NIP", "OPD", "SKP", "JP", "TPP", "IKM")
# Method terms: their name differs by language (``glossary_term.<key>``); the Indonesian
# definition gives the English term once, so a reader can look it up.
GLOSSARY_METHOD_TERMS: tuple[str, ...] = (
    "adoption", "parallel_trends", "event_study", "p_value", "confidence_interval",
)  # fmt: skip
# Report order of the policies (the data contract's order); others follow alphabetically.
POLICY_ORDER: tuple[str, ...] = POLICIES
# Names Jinja parses as literals: a placeholder with one of them is never filled.
_JINJA_CONSTANTS = frozenset({"none", "None", "true", "True", "false", "False"})
# Units whose estimates are shares (0-1) shown as percentage points.
_SHARE_UNITS = frozenset({"share"})
# The synthetic DiD of Dukcapil compares offices, not the city's agencies.
SDID_ESTIMATOR = _SYNTHETIC_METHOD_NAMES["sdid"]


# --- templates -------------------------------------------------------------------------


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = "" if value is None else str(value)
    return flat


@cache
def templates(lang: str) -> dict[str, str]:
    """All templates of one language, as a flat mapping ``"section.key" -> template text``."""
    fmt.check_language(lang)
    with open(TEMPLATE_DIR / f"{lang}.yaml", encoding="utf-8") as handle:
        return _flatten(yaml.safe_load(handle))


def p_relation(p: Any, lang: str = fmt.DEFAULT_LANGUAGE, digits: int = 3) -> str:
    """A p-value as it reads after the letter p: ``"= 0,061"``, or ``"< 0,001"`` when it is tiny.

    Templates write ``p {{ p }}`` and receive this, so that a tiny p-value never reads
    "p = < 0,001".

    Examples
    --------
    >>> p_relation(0.0613, "id"), p_relation(1e-6, "en")
    ('= 0,061', '< 0.001')
    """
    value = fmt.fmt_pvalue(p, lang, digits)
    return value if value.startswith("<") else f"= {value}"


@cache
def _environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update(
        num=lambda x, digits=1: fmt.fmt_number(x, lang, digits),
        pct=lambda x, digits=1: fmt.fmt_percent(x, lang, digits),
        pvalue=lambda x, digits=3: fmt.fmt_pvalue(x, lang, digits),
        p_relation=lambda x, digits=3: p_relation(x, lang, digits),
        date=lambda x: fmt.fmt_date(x, lang),
        rupiah=lambda x, compact=False: fmt.fmt_rupiah(x, lang, compact=compact),
    )
    return env


@cache
def _compiled(lang: str, key: str) -> jinja2.Template:
    return _environment(lang).from_string(templates(lang)[key])


def text(key: str, lang: str = fmt.DEFAULT_LANGUAGE, **values: Any) -> str:
    """The text ``key`` in ``lang``, filled with ``values``.

    Parameters
    ----------
    key
        Dotted key, e.g. ``"caption.event_study"``, ``"axis.year"``,
        ``"chapters.impact.sections.overall.lead"``.
    lang
        ``"id"`` (default) or ``"en"``.
    **values
        Values for the template's placeholders; numbers can be formatted inside the template
        with the filters ``num``, ``pct``, ``pvalue``, ``p_relation``, ``date`` and
        ``rupiah``.

    Examples
    --------
    >>> text("caption.workforce_by_agency", "en", year=2024)
    'Employees by agency, 2024'
    """
    table = templates(lang)
    if key not in table:
        raise KeyError(f"No report text {key!r} in the {lang!r} templates.{_hint(key, table)}")
    reserved = sorted(_JINJA_CONSTANTS.intersection(values))
    if reserved:
        # Jinja reads {{ none }} as the constant None, so such a value would never be shown.
        raise ValueError(
            f"Report text {key!r} is given a value named {reserved[0]!r}, which the templates "
            "read as a constant; give it another name."
        )
    try:
        return _compiled(lang, key).render(**values).strip()
    except jinja2.UndefinedError as err:
        raise KeyError(f"Report text {key!r} needs a value: {err.message}.") from None


def text_group(key: str, lang: str = fmt.DEFAULT_LANGUAGE, **values: Any) -> dict[str, Any]:
    """All texts under the group ``key`` (e.g. a table's column labels), in template order.

    Nested groups come back as nested dictionaries; every text is rendered with ``values``
    (e.g. the confidence ``level`` a column label names).

    Examples
    --------
    >>> text_group("chapters.introduction.sections.setting.glossary_columns", "en")
    {'term': 'Term', 'definition': 'Meaning'}
    """
    prefix = f"{key}."
    names = [name for name in templates(lang) if name.startswith(prefix)]
    if not names:
        hint = _hint(key, _groups(lang))
        raise KeyError(f"No group of report texts {key!r} in the {lang!r} templates.{hint}")
    group: dict[str, Any] = {}
    for name in names:
        *parents, leaf = name[len(prefix) :].split(".")
        node = group
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = text(name, lang, **values)
    return group


def level_percent(level: float, lang: str = fmt.DEFAULT_LANGUAGE) -> str:
    """A confidence level as the templates write it before their ``%``: ``"95"``, ``"97,5"``.

    Every "95%" a reader sees is this, from the analysis's own level, so that a report made
    with ``level=0.9`` says 90% wherever its intervals are 90% intervals.

    Examples
    --------
    >>> level_percent(0.95, "id"), level_percent(0.975, "id"), level_percent(0.975, "en")
    ('95', '97,5', '97.5')
    """
    percent = 100 * float(level)
    return fmt.fmt_number(percent, lang, 0 if abs(percent - round(percent)) < 1e-9 else 1)


def misses_one_in(level: float) -> int:
    """How many intervals at ``level`` it takes, on average, for one to miss: 20 at 95%."""
    return round(1 / (1 - float(level)))


def _hint(key: str, candidates: Iterable[str]) -> str:
    """'Did you mean ...?' for a mistyped key: its siblings first, since keys share long stems."""
    parent, _, leaf = key.rpartition(".")
    candidates = list(candidates)
    siblings = {c.rpartition(".")[2]: c for c in candidates if c.rpartition(".")[0] == parent}
    close = [siblings[s] for s in difflib.get_close_matches(leaf, siblings, n=3, cutoff=0.6)]
    if not close:  # a mistyped group: the same leaf under a similar group
        cousins = {c.rpartition(".")[0]: c for c in candidates if c.rpartition(".")[2] == leaf}
        close = [cousins[c] for c in difflib.get_close_matches(parent, cousins, n=3, cutoff=0.8)]
    close = close or difflib.get_close_matches(key, candidates, n=3, cutoff=0.8)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


@cache
def _groups(lang: str) -> tuple[str, ...]:
    names = templates(lang)
    found = {name.rsplit(".", i)[0] for name in names for i in range(1, name.count(".") + 1)}
    return tuple(sorted(found))


def label(kind: str, key: str, lang: str = fmt.DEFAULT_LANGUAGE, *, title: bool = False) -> str:
    """Readable name of a policy, outcome or unit (``kind``), falling back to ``key`` itself.

    Labels read inside a sentence ("the training programme"); ``title=True`` gives the form
    for a table cell or heading ("Training programme").
    """
    name = f"{kind}.{key}"
    if kind == "rule":  # the data layer names its validation rules (rejects.csv uses them too)
        words = rule_label(key, lang)
    elif name in templates(lang):
        words = text(name, lang)
    else:
        words = str(key).replace("_", " ")
    if title:
        if lang == "en" and words.lower().startswith("the "):
            words = words[4:]
        words = _capfirst(words)
    return words


def group_label(value: Any, lang: str = fmt.DEFAULT_LANGUAGE) -> str:
    """A subgroup's name as the report prints it: the codes of
    :mod:`asn_eval.domain.subgroups` ("SMA-") in words where they need them
    (``subgroup_group`` templates), other groups ("30-39", "D4/S1") as they are."""
    key = f"subgroup_group.{value}"
    return text(key, lang) if key in templates(lang) else str(value)


def estimator_label(name: str, lang: str = fmt.DEFAULT_LANGUAGE, *, title: bool = False) -> str:
    """An estimator's name in ``lang``; proper names (Callaway-Sant'Anna, TWFE) stay as they are.

    Names read inside a sentence; ``title=True`` gives the form for a table cell.

    Examples
    --------
    >>> estimator_label("Interrupted time series", "id"), estimator_label("TWFE", "id")
    ('deret waktu terputus', 'TWFE')
    >>> estimator_label("Interrupted time series", "en", title=True)
    'Interrupted time series'
    """
    if fmt.is_missing(name):
        return ""
    key = "estimator." + re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    words = text(key, lang) if key in templates(lang) else str(name)
    return _capfirst(words) if title else words


def glossary(lang: str = fmt.DEFAULT_LANGUAGE, *, level: float = 0.95) -> pd.DataFrame:
    """The glossary as a two-column table: the personnel terms (ASN, PNS, PPPK, NIP, OPD,
    SKP, JP, TPP, IKM), then the method terms in the report's language; the confidence
    interval is defined at the report's ``level``."""
    methods = [text(f"glossary_term.{t}", lang) for t in GLOSSARY_METHOD_TERMS]
    percent = level_percent(level, lang)
    return pd.DataFrame(
        {
            "term": [*GLOSSARY_TERMS, *methods],
            "definition": [text(f"glossary.{t}", lang) for t in GLOSSARY_TERMS]
            + [text(f"glossary.{t}", lang, level=percent) for t in GLOSSARY_METHOD_TERMS],
        }
    )


def _capfirst(s: str) -> str:
    return s[:1].upper() + s[1:]


# --- verdicts and effect sentences -----------------------------------------------------


def _get(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def record_decision(record: Any) -> Decision:
    """The decision of a record: the one it carries (a ResultRecord) or :func:`decide`'s."""
    if isinstance(record, Mapping) or _get(record, "reasons") is None:
        return decide(record)
    return Decision(_get(record, "verdict"), _get(record, "standing"), tuple(record.reasons))


def few_clusters(record: Any) -> bool:
    """True when fewer than :data:`FEW_CLUSTERS` agencies inform the estimate."""
    n = _get(record, "n_agencies")
    return not fmt.is_missing(n) and int(n) < FEW_CLUSTERS


def scaled(record: Any) -> tuple[float, float, float, str]:
    unit = _get(record, "unit", "") or ""
    scale = 100.0 if unit in _SHARE_UNITS else 1.0
    values = [_get(record, k) for k in ("estimate", "ci_low", "ci_high")]
    est, lo, hi = (None if fmt.is_missing(v) else float(v) * scale for v in values)
    return est, lo, hi, unit


def meaning(outcome: str, verdict_key: str, lang: str) -> str:
    """What a change means for this outcome: "lebih cepat", "serapan program", ..."""
    if kind(outcome) == "uptake":
        return text("meaning.uptake", lang)
    specific = f"outcome_meaning.{outcome}.{verdict_key}"
    if specific in templates(lang):
        return text(specific, lang)
    return text(f"meaning.{verdict_key}", lang)


def reason_words(
    record: Any, lang: str = fmt.DEFAULT_LANGUAGE, *, short: bool = False
) -> list[str]:
    """The reasons for a tentative standing, in words (``short`` for a table cell)."""
    values = {
        "p": p_relation(_get(record, "pretrend_p"), lang),
        "p_few": fmt.fmt_pvalue(_get(record, "p_value_few_cluster"), lang),
        "p_adjusted": fmt.fmt_pvalue(_get(record, "p_value_adjusted"), lang),
        "n_agencies": fmt.fmt_number(_get(record, "n_agencies"), lang, 0),
        "few_p_missing": fmt.is_missing(_get(record, "p_value_few_cluster")),
    }
    group = "reason_short" if short else "reason"
    return [text(f"{group}.{r}", lang, **values) for r in record_decision(record).reasons]


def hidden_dynamics(record: Any) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """:func:`asn_eval.domain.decision.hidden_dynamics`, none for programme uptake."""
    if kind(_get(record, "outcome")) == "uptake":
        return ()
    return _hidden_dynamics(record)


def _dynamics_sides(record: Any, lang: str, key: str, hidden: Iterable) -> list[str]:
    """Each hidden side in words of the template ``key`` (``dynamics.below``/``above`` in a
    sentence, ``dynamics.short`` in a phrase): its event times and what that side means."""
    outcome_key = _get(record, "outcome")
    better = _get(record, "better", "higher") or "higher"
    said = []
    for side, times in hidden:
        good = (side == "above") == (better == "higher")
        years = [
            text("dynamics.adoption_year", lang) if e == 0 else text("dynamics.year", lang, e=e)
            for e in times
        ]
        said.append(
            text(
                key.format(side=side),
                lang,
                years=format_list(years, locale=lang),
                meaning=meaning(outcome_key, "improved" if good else "worsened", lang),
            )
        )
    return said


def dynamics_sentence(record: Any, lang: str = fmt.DEFAULT_LANGUAGE) -> str | None:
    """One sentence on the dynamic effects the overall number hides (see
    :func:`hidden_dynamics`), or None: "Menurut tahun sejak penerapan, pita kepercayaan
    simultan pada tahun ke-4 seluruhnya di bawah nol (lebih buruk), walaupun ..."."""
    hidden = hidden_dynamics(record)
    if not hidden:
        return None
    sides = _dynamics_sides(record, lang, "dynamics.{side}", hidden)
    return text(
        "dynamics.sentence",
        lang,
        sides=format_list(sides, locale=lang),
        overall=text(f"dynamics.overall.{record_decision(record).verdict}", lang),
    )


def dynamics_phrase(
    record: Any, lang: str = fmt.DEFAULT_LANGUAGE, *, hidden: Iterable | None = None
) -> str | None:
    """:func:`dynamics_sentence` in a few words, for the executive summary: "pada tahun ke-4
    sesudah penerapan lebih buruk"; None when the overall number hides nothing. ``hidden``
    replaces :func:`hidden_dynamics` (a policy decision carries its main outcome's)."""
    hidden = hidden_dynamics(record) if hidden is None else hidden
    said = _dynamics_sides(record, lang, "dynamics.short", hidden)
    return format_list(said, locale=lang) if said else None


def verdict_label(record: Any, lang: str = fmt.DEFAULT_LANGUAGE) -> str:
    """The verdict in words with its standing, as every table shows it:
    "Membaik", "Membaik, belum pasti (uji tren awal gagal)", "Tidak terdeteksi efek";
    programme uptake reads "Serapan naik" / "Serapan turun"."""
    decision = record_decision(record)
    group = "verdict_uptake" if kind(_get(record, "outcome")) == "uptake" else "verdict"
    words = text(f"{group}.{decision.verdict}", lang)
    if decision.standing == "tentative":
        reasons = format_list(reason_words(record, lang, short=True), locale=lang)
        return text("verdict_tentative", lang, verdict=words, reasons=reasons)
    return words


def effect_sentence(record: Any, lang: str = fmt.DEFAULT_LANGUAGE, *, digits: int = 2) -> str:
    """Prose for one result: which way the outcome moved, by how much, and how sure it is.

    The sentence names the outcome's own direction ("waktu layanan turun 8,28 menit, lebih
    cepat"), the interval, the sample, and, for a tentative finding, why it is tentative.
    Caveats that hold for a whole design (few agencies, what a pre-trend test can show) are
    said once where the chapter describes its design, not in every sentence.

    Parameters
    ----------
    record
        A :class:`asn_eval.results.store.ResultRecord` (or a mapping with its fields).
    lang
        ``"id"`` or ``"en"``.
    digits
        Decimals of the estimate and interval.

    Examples
    --------
    >>> rec = dict(policy="performance_appraisal", outcome="health_minutes",
    ...            estimator="Callaway-Sant'Anna", estimate=-8.28, ci_low=-12.1, ci_high=-4.4,
    ...            better="lower", unit="minutes", n_agencies=60, pretrend_status="passed")
    >>> effect_sentence(rec, "id").split(";")[0]
    'Waktu layanan rawat jalan di puskesmas turun 8,28 menit setelah penilaian kinerja diterapkan (lebih cepat)'
    """  # noqa: E501
    fmt.check_language(lang)
    decision = record_decision(record)
    est, lo, hi, unit = scaled(record)
    key = _get(record, "outcome")
    outcome = label("outcome", key, lang)
    policy = label("policy", _get(record, "policy"), lang)
    unit_words = label("unit", unit, lang) if unit else ""
    level = round(100 * float(_get(record, "level", 0.95) or 0.95))
    common = dict(
        outcome=outcome,
        Outcome=_capfirst(outcome),
        policy=policy,
        level=level,
        interval=fmt.fmt_interval(lo, hi, lang, digits),
    )
    if decision.verdict == "not_identified":
        estimate = fmt.fmt_number(est, lang, digits) + (f" {unit_words}" if unit_words else "")
        first = text("effect.not_identified", lang, estimate=estimate, **common)
    elif decision.is_effect:
        amount = fmt.fmt_number(abs(est), lang, digits) + (f" {unit_words}" if unit_words else "")
        moved = text("change.up" if est > 0 else "change.down", lang)
        first = text(
            "effect.change",
            lang,
            moved=moved,
            amount=amount,
            meaning=meaning(key, decision.verdict, lang),
            **common,
        )
    else:
        estimate = fmt.fmt_number(est, lang, digits) + (f" {unit_words}" if unit_words else "")
        first = text("effect.none", lang, estimate=estimate, **common)
    parts = [first]
    n_agencies = _get(record, "n_agencies")
    n_employees = _get(record, "n_employees")
    p_few = _get(record, "p_value_few_cluster")
    parts.append(
        text(
            "effect.sample",
            lang,
            estimator=estimator_label(_get(record, "estimator"), lang),
            n_agencies=fmt.fmt_number(n_agencies, lang, 0),
            # a comparison of offices of several governments, not of the city's agencies
            offices=_get(record, "estimator") == SDID_ESTIMATOR,
            n_employees=None
            if fmt.is_missing(n_employees)
            else fmt.fmt_number(n_employees, lang, 0),
            p_few=None
            if fmt.is_missing(p_few) or not few_clusters(record)
            else fmt.fmt_pvalue(p_few, lang),
        )
    )
    if decision.reasons:
        key = {"tentative": "effect.tentative", None: "effect.none_caveat"}[decision.standing]
        if decision.verdict == "not_identified":
            key = "effect.why_not_identified"
        parts.append(text(key, lang, reasons="; ".join(reason_words(record, lang))))
    dynamics = dynamics_sentence(record, lang)
    if dynamics:
        parts.append(dynamics)
    return " ".join(parts)


# --- recommendations -------------------------------------------------------------------


def training_capacity_text(
    gap: Any, lang: str = fmt.DEFAULT_LANGUAGE, *, short: bool = False
) -> str | None:
    """The training-capacity action in words, or None when the data call for none.

    ``gap`` is a :class:`~asn_eval.analysis.panels.TrainingGap` (share of employees below
    the 20 JP minimum, places short, budget per place and their cost). An action is called
    for when more than :data:`JP_SHORTFALL_TOLERANCE` of employees are below the minimum or
    places fall short; it names the training policy's office and the year it is checked
    again (the next report). ``short``: one line, the office by its short name, for the
    executive summary.
    """
    fmt.check_language(lang)
    share, places = _get(gap, "share_below"), _get(gap, "places_short")
    below = not fmt.is_missing(share) and share > JP_SHORTFALL_TOLERANCE
    short_places = not fmt.is_missing(places) and places > 0
    if not (below or short_places):
        return None
    cost = _get(gap, "cost")
    priced = short_places and not fmt.is_missing(cost)
    return text(
        "training_capacity.short" if short else "training_capacity.full",
        lang,
        share=fmt.fmt_percent(share, lang, 0) if below else None,
        jp_min=JP_MINIMUM_PER_YEAR,
        shortfall=fmt.fmt_number(places, lang, 0) if short_places else None,
        cost=fmt.fmt_rupiah(cost, lang, compact=True) if priced else None,
        per_place=(
            fmt.fmt_rupiah(_get(gap, "budget_per_place"), lang, compact=True, digits=2)
            if priced
            else None
        ),
        year=_get(gap, "year"),
        owner=context.owner("training_programme", lang)["code" if short else "name"],
        check_year=int(_get(gap, "year")) + 1,
    )


# --- findings table --------------------------------------------------------------------


def suppression_note(lang: str = fmt.DEFAULT_LANGUAGE, min_size: int = MIN_CELL_SIZE) -> str:
    """The footnote explaining :data:`~asn_eval.domain.privacy.SUPPRESSED_MARK` in ``lang``."""
    return text("privacy.suppressed_note", lang, mark=SUPPRESSED_MARK, n=min_size)


# --- one decision per policy ---------------------------------------------------------------


def policy_decision_text(
    decision: Any,
    lang: str = fmt.DEFAULT_LANGUAGE,
    *,
    short: bool = False,
    owner_code: bool = False,
) -> str:
    """A policy's one decision in words: "Penghargaan dan sanksi: Lanjutkan dan perluas.
    Hari tidak hadir ..., ukuran utamanya, membaik dan temuannya kuat." (``short``: the
    name and the decision only, for the executive summary).

    ``decision`` is a :class:`~asn_eval.domain.policy_decision.PolicyDecision` or its
    ``results.json`` entry. ``owner_code``: the office by its short name (the owners
    table's ``code``), for the executive summary.
    """
    fmt.check_language(lang)
    policy = _capfirst(label("policy", _get(decision, "policy"), lang))
    name = text(f"policy_decision.label.{_get(decision, 'decision')}", lang)
    if short:
        return text("policy_decision.short", lang, policy=policy, label=name)
    main = label("outcome", _get(decision, "main_outcome"), lang)
    unit = _get(decision, "unit", "") or ""

    def amount(value: Any) -> str | None:
        if fmt.is_missing(value):
            return None
        scale = 100.0 if unit in _SHARE_UNITS else 1.0
        words = label("unit", unit, lang) if unit else ""
        return f"{fmt.fmt_number(abs(float(value)) * scale, lang, 2)} {words}".strip()

    outcomes = [label("outcome", o, lang) for o in _get(decision, "supporting", ()) or ()]
    rule = _get(decision, "rule")
    parts = [
        text(
            f"policy_decision.because.{rule}",
            lang,
            main=main,
            Main=_capfirst(main),
            supporting=format_list(outcomes, locale=lang) if outcomes else "",
        )
    ]
    settle = _get(decision, "settle")
    if settle:
        design = [r for r in _get(decision, "main_reasons", ()) or () if r in DESIGN_REASONS]
        parts.append(
            text(
                f"policy_decision.settle.{settle}",
                lang,
                mde=amount(_get(decision, "mde_next_year")) or "–",
                power=fmt.fmt_percent(MDE_POWER, lang, 0),
                estimate=amount(_get(decision, "main_estimate")) or "–",
                reasons=format_list([text(f"reason.{r}", lang) for r in design], locale=lang),
            )
        )
    hidden = _get(decision, "main_hidden", ()) or ()
    if hidden:
        said = dynamics_phrase(
            {
                "outcome": _get(decision, "main_outcome"),
                "better": outcome_spec(_get(decision, "main_outcome")).better,
            },
            lang,
            hidden=[(side, tuple(times)) for side, times in hidden],
        )
        parts.append(text("policy_decision.hidden", lang, main=main, hidden=said))
    if outcomes and rule != "other_confirmed_improved":
        parts.append(
            text("policy_decision.supporting", lang, supporting=format_list(outcomes, locale=lang))
        )
    produced = [label("outcome", o, lang) for o in _get(decision, "produced_improved", ()) or ()]
    if produced:
        parts.append(
            text("policy_decision.produced", lang, produced=format_list(produced, locale=lang))
        )
    if _get(decision, "owner") and _get(decision, "check_year") is not None:
        parts.append(
            text(
                "policy_decision.owner",
                lang,
                owner=context.owner(_get(decision, "policy"), lang)[
                    "code" if owner_code else "name"
                ],
                year=_get(decision, "check_year"),
            )
        )
    return text("policy_decision.line", lang, policy=policy, label=name, because=" ".join(parts))


def policy_decision_rules(lang: str = fmt.DEFAULT_LANGUAGE) -> tuple[str, list[str], str]:
    """The decision rules as the report prints them, from the rules the code applies: the
    lead naming each policy's main outcome, one line per rule in the order they are tried,
    and the rule for a confirmed finding."""
    mains = [
        f"{label('policy', policy, lang)}: {label('outcome', plan.main_outcome, lang)}"
        for policy, plan in MAIN_OUTCOMES.items()
    ]
    lead = text("policy_decision.rules_lead", lang, mains="; ".join(mains))
    rules = [text(f"policy_decision.rule.{rule}", lang) for rule in POLICY_RULES]
    return lead, rules, text("policy_decision.standing_rule", lang)
