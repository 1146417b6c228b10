"""Indonesian civil-service measures: SKP predicates, IKM, IP ASN, the 20 JP minimum, discipline.

Officers compute these by hand every year and get band edges and weights wrong; here each
rule is one vectorised function whose figures come from :mod:`asn_eval.regulations` (with
the regulation named there), so a correction made there reaches every table and report.

Public API
----------
- :func:`skp_predicate` and :func:`skp_band`: SKP predicate (PermenPANRB 6/2022 matrix) and
  the PP 46/2011 band of a score, as ordered categoricals.
- :func:`ikm` and :func:`ikm_grade`: Indeks Kepuasan Masyarakat (PermenPANRB 14/2017).
- :func:`ip_asn`, :func:`ip_asn_inputs`, :func:`ip_asn_points` and :func:`ip_asn_level`:
  Indeks Profesionalitas ASN (Peraturan BKN 8/2019).
- :func:`training_hours`: JP per employee and year against the 20 JP minimum.
- :func:`discipline_sanction`: PP 94/2021 sanction for unexcused absence days.

Bad input raises :class:`ValueError` naming the column, the value and the row, never a
silent NaN. Missing input (NaN) gives missing output.
"""

from __future__ import annotations

import html
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from asn_eval import regulations as reg

__all__ = [
    "IKM_GRADE_DTYPE",
    "IP_ASN_LEVEL_DTYPE",
    "PP46_PREDICATE_DTYPE",
    "SANCTION_LEVEL_DTYPE",
    "SKP_PREDICATE_DTYPE",
    "IkmResult",
    "IpAsnResult",
    "Sanction",
    "SmallSampleWarning",
    "TrainingHours",
    "discipline_sanction",
    "ikm",
    "ikm_grade",
    "ip_asn",
    "ip_asn_inputs",
    "ip_asn_level",
    "ip_asn_points",
    "krejcie_morgan",
    "skp_band",
    "skp_predicate",
    "training_hours",
]

# Categories run worst to best so that ``<``, ``max()`` and sorting mean "better".
SKP_PREDICATE_DTYPE = pd.CategoricalDtype(list(reversed(reg.SKP_PREDICATES)), ordered=True)
PP46_PREDICATE_DTYPE = pd.CategoricalDtype(
    [label for _, label in reversed(reg.PP46_BANDS)], ordered=True
)
IKM_GRADE_DTYPE = pd.CategoricalDtype([g for _, g, _ in reversed(reg.IKM_BANDS)], ordered=True)
IKM_GRADE_LABELS: Mapping[str, str] = {g: label for _, g, label in reg.IKM_BANDS}
IP_ASN_LEVEL_DTYPE = pd.CategoricalDtype(
    [label for _, label in reversed(reg.IP_ASN_BANDS)], ordered=True
)
# "none" is the data contract's word for "no sanction" (performance.sanction_level).
SANCTION_LEVEL_DTYPE = pd.CategoricalDtype(["none", *reg.DISCIPLINE_LEVELS], ordered=True)

IKM_ITEMS: tuple[str, ...] = tuple(f"u{i}" for i in range(1, len(reg.IKM_ELEMENTS) + 1))
# Training types of the data contract; regulations.TRAINING_TYPES lumps seminar/workshop.
TRAINING_TYPES: tuple[str, ...] = ("kepemimpinan", "fungsional", "teknis", "seminar", "workshop")
_KNOWN_TRAINING_TYPES = frozenset(TRAINING_TYPES) | frozenset(reg.TRAINING_TYPES)
# PP 94/2021: this many consecutive days of unexcused absence also lead to dismissal.
DISMISSAL_CONSECUTIVE_DAYS = 10


# --- shared helpers ----------------------------------------------------------------


def _as_series(values: Any, name: str) -> tuple[pd.Series, bool]:
    """Return ``values`` as a Series and whether the caller passed a scalar."""
    if isinstance(values, pd.Series):
        return values, False
    if np.ndim(values) == 0:
        return pd.Series([values], name=name), True
    return pd.Series(np.asarray(values, dtype=object), name=name), False


def _row(index_label: Any, scalar: bool) -> str:
    return "" if scalar else f" in row {index_label}"


def _fmt(value: Any) -> str:
    """A value as a user typed it: numbers plain, text quoted."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _numeric(series: pd.Series, column: str, scalar: bool, what: str, noun: str = "") -> pd.Series:
    """Convert to float; text that is not a number raises naming value and row."""
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        label = bad.idxmax()
        raise ValueError(f"{column} has {noun}{_fmt(series[label])}{_row(label, scalar)}; {what}")
    return converted.astype(float)


def _half_up(values: np.ndarray | float, decimals: int = 2) -> np.ndarray:
    """Round half away from zero as printed tables do (``round()`` rounds half to even)."""
    scale = 10.0**decimals
    # The inner rounding removes binary noise (76.605 is stored as 76.60499999...).
    return np.floor(np.round(np.asarray(values, dtype=float) * scale, 6) + 0.5) / scale


def _html_table(rows: list[tuple[str, str]], frame: pd.DataFrame, sentence: str) -> str:
    head = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    table = frame.to_html(index=False, float_format=lambda x: f"{x:.2f}", border=0)
    return f"<table>{head}</table>{table}<p>{html.escape(sentence)}</p>"


def _text_table(rows: list[tuple[str, str]], frame: pd.DataFrame, sentence: str) -> str:
    head = "\n".join(f"{k:<24}{v}" for k, v in rows)
    table = frame.to_string(index=False, float_format=lambda x: f"{x:.2f}")
    return f"{head}\n\n{table}\n\n{sentence}"


# --- SKP ---------------------------------------------------------------------------


def _normalise_rating(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    value = re.sub(r"\s+", " ", text.strip().lower())
    value = re.sub(r"\s*ekspektasi$", "", value)
    # Forms often glue the preposition: "diatas", "dibawah".
    return {"diatas": "di atas", "dibawah": "di bawah"}.get(value, value)


def _ratings(values: Any, column: str) -> tuple[pd.Series, bool]:
    series, scalar = _as_series(values, column)
    normalised = series.map(_normalise_rating)
    bad = normalised.notna() & ~normalised.isin(reg.SKP_RATINGS)
    if bad.any():
        label = bad.idxmax()
        allowed = ", ".join(repr(r) for r in reg.SKP_RATINGS)
        raise ValueError(
            f"{column} has unknown rating {_fmt(series[label])}{_row(label, scalar)}; "
            f"expected one of {allowed} (optionally followed by 'ekspektasi', any case)"
        )
    return normalised, scalar


def skp_predicate(hasil_kerja: Any, perilaku: Any) -> str | float | pd.Series:
    """SKP predicate from the ratings of work results and behaviour (PermenPANRB 6/2022).

    Parameters
    ----------
    hasil_kerja, perilaku
        Rating of work results and of work behaviour (BerAKHLAK): ``"di atas"``,
        ``"sesuai"`` or ``"di bawah"`` (ekspektasi), any case, with or without the word
        "ekspektasi". Scalars or array-likes of equal length (a scalar is broadcast).

    Returns
    -------
    str or Series
        A predicate string for two scalars, otherwise a Series with the ordered dtype
        :data:`SKP_PREDICATE_DTYPE` (``Sangat Kurang < ... < Sangat Baik``). Missing
        ratings give a missing predicate.

    Notes
    -----
    The matrix is :data:`asn_eval.regulations.SKP_MATRIX`: work results dominate, poor
    behaviour caps the predicate at Kurang/Misconduct unless results are also below
    expectation (then Sangat Kurang).

    Examples
    --------
    >>> skp_predicate("Di atas ekspektasi", "sesuai")
    'Baik'
    """
    hk, hk_scalar = _ratings(hasil_kerja, "hasil_kerja")
    pr, pr_scalar = _ratings(perilaku, "perilaku")
    if hk_scalar and pr_scalar:
        if pd.isna(hk.iloc[0]) or pd.isna(pr.iloc[0]):
            return float("nan")
        return reg.SKP_MATRIX[(hk.iloc[0], pr.iloc[0])]
    if hk_scalar:
        hk = pd.Series(hk.iloc[0], index=pr.index)
    elif pr_scalar:
        pr = pd.Series(pr.iloc[0], index=hk.index)
    elif len(hk) != len(pr):
        raise ValueError(
            f"hasil_kerja has {len(hk)} ratings but perilaku has {len(pr)}; "
            "give one pair of ratings per employee"
        )
    predicates = [
        reg.SKP_MATRIX[(a, b)] if isinstance(a, str) and isinstance(b, str) else None
        for a, b in zip(hk.to_numpy(), pr.to_numpy(), strict=True)
    ]
    return pd.Series(predicates, index=hk.index, dtype=SKP_PREDICATE_DTYPE, name="skp_predicate")


def skp_band(score: Any) -> str | float | pd.Series:
    """PP 46/2011 predicate of a final SKP score (pre-2022 appraisals).

    Bands from :data:`asn_eval.regulations.PP46_BANDS`: 91-100 Sangat Baik, 76-90 Baik,
    61-75 Cukup, 51-60 Kurang, 50 and below Buruk. A score between two printed bands
    (e.g. 90.5) belongs to the lower band, since each band starts at its printed lower
    edge.

    Parameters
    ----------
    score
        A score 0-100 or an array-like of them; NaN gives a missing predicate.

    Returns
    -------
    str or Series
        A string for a scalar, otherwise a Series with :data:`PP46_PREDICATE_DTYPE`.

    Examples
    --------
    >>> skp_band(90), skp_band(91)
    ('Baik', 'Sangat Baik')
    """
    series, scalar = _as_series(score, "score")
    values = _numeric(series, "score", scalar, "PP 46/2011 scores must be numbers from 0 to 100")
    bad = values.notna() & ((values < 0) | (values > 100))
    if bad.any():
        label = bad.idxmax()
        raise ValueError(
            f"score has {_fmt(series[label])}{_row(label, scalar)}; "
            "PP 46/2011 scores must be numbers from 0 to 100"
        )
    edges = np.array([low for low, _ in reversed(reg.PP46_BANDS)])
    labels = np.array([lab for _, lab in reversed(reg.PP46_BANDS)], dtype=object)
    position = np.searchsorted(edges, values.fillna(0).to_numpy(), side="right") - 1
    out = pd.Series(
        np.where(values.notna(), labels[position], None),
        index=series.index,
        dtype=PP46_PREDICATE_DTYPE,
        name="skp_band",
    )
    if scalar:
        value = out.iloc[0]
        return float("nan") if pd.isna(value) else str(value)
    return out


# --- IKM -----------------------------------------------------------------------------


class SmallSampleWarning(UserWarning):
    """An IKM group has fewer respondents than the Krejcie-Morgan size for its population."""


def krejcie_morgan(population: int) -> int:
    """Minimum sample for a population, from the Krejcie-Morgan (1970) table.

    A population between two rows of the table takes the sample of the next larger row
    (the conservative choice); populations below the first row need everyone; above the
    last row, the table's 384. That PermenPANRB 14/2017 prescribes this table is
    UNCONFIRMED (see :data:`asn_eval.regulations.KREJCIE_MORGAN`).

    Examples
    --------
    >>> krejcie_morgan(300), krejcie_morgan(2000)
    (169, 322)
    """
    if isinstance(population, bool) or not float(population).is_integer() or population < 1:
        raise ValueError(
            f"population has {_fmt(population)}; the population served must be a whole "
            "number of at least 1"
        )
    population = int(population)
    for size, sample in reg.KREJCIE_MORGAN:
        if population <= size:
            return min(sample, population)
    return reg.KREJCIE_MORGAN[-1][1]


def ikm_grade(value: Any) -> str | float | pd.Series:
    """IKM grade (A-D) of a converted IKM value (PermenPANRB 14/2017).

    The value is first rounded half-up to two decimals, as the regulation prints it, so that
    the printed band edges leave no gap: 76.60 is C (Kurang Baik), 76.61 is B (Baik),
    88.30 is B and 88.31 is A. Values below 25 (possible only with the rounded 0.11
    weights, minimum 24.75) are D. Labels: :data:`IKM_GRADE_LABELS`.

    Examples
    --------
    >>> ikm_grade(76.60), ikm_grade(76.61)
    ('C', 'B')
    """
    series, scalar = _as_series(value, "ikm")
    values = _numeric(series, "ikm", scalar, "IKM values must be numbers from 0 to 100")
    bad = values.notna() & ((values < 0) | (values > 100))
    if bad.any():
        label = bad.idxmax()
        raise ValueError(
            f"ikm has {_fmt(series[label])}{_row(label, scalar)}; "
            "IKM values must be numbers from 0 to 100"
        )
    rounded = _half_up(values.fillna(0).to_numpy())
    edges = np.array([low for low, _, _ in reversed(reg.IKM_BANDS)])
    grades = np.array([g for _, g, _ in reversed(reg.IKM_BANDS)], dtype=object)
    position = np.clip(np.searchsorted(edges, rounded, side="right") - 1, 0, None)
    out = pd.Series(
        np.where(values.notna(), grades[position], None),
        index=series.index,
        dtype=IKM_GRADE_DTYPE,
        name="grade",
    )
    if scalar:
        grade = out.iloc[0]
        return float("nan") if pd.isna(grade) else str(grade)
    return out


def _ikm_weights(weights: str) -> np.ndarray:
    k = len(reg.IKM_ELEMENTS)
    if weights == "exact":
        return np.full(k, 1.0 / k)
    if weights == "rounded":
        return np.full(k, reg.IKM_ROUNDED_WEIGHT)
    raise ValueError(
        f"weights has {weights!r}; use 'exact' (1/9 each) or 'rounded' (the regulation's 0.11)"
    )


def _validate_ikm_scores(responses: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in IKM_ITEMS if c not in responses.columns]
    if missing:
        raise ValueError(
            f"responses has no column {', '.join(missing)}; IKM needs one column per element, "
            f"{IKM_ITEMS[0]}..{IKM_ITEMS[-1]} in the order of PermenPANRB 14/2017"
        )
    scores = pd.DataFrame(index=responses.index)
    lo, hi = reg.IKM_SCORE_MIN, reg.IKM_SCORE_MAX
    what = f"IKM scores must be whole numbers {lo}-{hi}"
    for col in IKM_ITEMS:
        raw = responses[col]
        values = _numeric(raw, col, False, what, noun="score ")
        bad = values.notna() & ((values < lo) | (values > hi) | (values % 1 != 0))
        if bad.any():
            label = bad.idxmax()
            raise ValueError(f"{col} has score {_fmt(raw[label])} in row {label}; {what}")
        scores[col] = values
    return scores


def _population_for(population: Any, key: Any, group_by: tuple[str, ...]) -> float:
    if population is None:
        return float("nan")
    if isinstance(population, Mapping | pd.Series):
        if key not in population:
            raise ValueError(
                f"population has no entry for group {key!r} ({', '.join(group_by)}); give the "
                "population served for every group, or one number for all"
            )
        return float(population[key])
    return float(population)


def _bootstrap_ikm(
    scores: np.ndarray, weights: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """IKM of ``n_boot`` resamples of respondents (rows, with replacement)."""
    n = scores.shape[0]
    answered = ~np.isnan(scores)
    filled = np.where(answered, scores, 0.0)
    complete = bool(answered.all())
    # With every element answered, IKM = 25 x mean over respondents of the weighted row
    # sum, so one number per respondent is enough.
    per_respondent = filled @ weights * reg.IKM_SCALE
    # Chunks keep the (draws x respondents) index matrix near 40 MB for large surveys.
    chunk = max(1, min(n_boot, 5_000_000 // max(n, 1)))
    out = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        draw = rng.integers(0, n, size=(size, n))
        if complete:
            out[start : start + size] = per_respondent[draw].mean(axis=1)
            continue
        sums = np.column_stack([filled[draw, j].sum(axis=1) for j in range(scores.shape[1])])
        counts = np.column_stack([answered[draw, j].sum(axis=1) for j in range(scores.shape[1])])
        with np.errstate(invalid="ignore", divide="ignore"):
            nrr = sums / counts
        out[start : start + size] = (nrr * weights).sum(axis=1) * reg.IKM_SCALE
    return out


@dataclass(frozen=True, eq=False)
class IkmResult:
    """IKM per group (agency, period, ...) with its grade, respondents and interval.

    Attributes
    ----------
    table
        One row per group: the group columns, ``ikm``, ``grade``, ``label``,
        ``respondents``, ``ci_low``, ``ci_high``, ``population``, ``required_sample``,
        ``nrr_u1``..``nrr_u9``.
    group_by, weights, level, n_boot, seed
        How it was computed.
    warnings
        Small-sample messages (also issued as :class:`SmallSampleWarning`).
    """

    table: pd.DataFrame
    group_by: tuple[str, ...]
    weights: str
    level: float
    n_boot: int
    seed: int | None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ikm(self) -> pd.Series:
        """IKM per group, indexed by the group columns."""
        if not self.group_by:
            return self.table["ikm"]
        return self.table.set_index(list(self.group_by))["ikm"]

    @property
    def nrr(self) -> pd.DataFrame:
        """NRR (mean score) per element, columns named after the regulation's elements."""
        cols = [f"nrr_{c}" for c in IKM_ITEMS]
        frame = self.table.set_index(list(self.group_by)) if self.group_by else self.table
        frame = frame[cols]
        frame.columns = list(reg.IKM_ELEMENTS)
        return frame

    def to_frame(self) -> pd.DataFrame:
        """One row per group (a copy of :attr:`table`)."""
        return self.table.copy()

    def statement(self) -> str:
        """One sentence on the first group (or the only one)."""
        row = self.table.iloc[0]
        where = ""
        if self.group_by:
            where = " for " + ", ".join(f"{c} {row[c]}" for c in self.group_by)
        interval = ""
        if self.n_boot and not math.isnan(row["ci_low"]):
            interval = (
                f", {round(self.level * 100)}% bootstrap CI {row['ci_low']:.2f} to "
                f"{row['ci_high']:.2f}"
            )
        weakest = self.nrr.iloc[0].sort_values().index[0]
        more = f" ({len(self.table)} groups in all)" if len(self.table) > 1 else ""
        return (
            f"IKM{where} is {row['ikm']:.2f}, grade {row['grade']} ({row['label']}), from "
            f"{int(row['respondents'])} respondents{interval}; weakest element: {weakest}{more}."
        )

    def _header(self) -> list[tuple[str, str]]:
        rows = [
            ("Measure", "IKM (PermenPANRB 14/2017)"),
            ("Weights", "1/9 each" if self.weights == "exact" else "0.11 each (rounded)"),
            ("Groups", str(len(self.table))),
        ]
        if self.n_boot:
            rows.append(("Bootstrap", f"{self.n_boot} draws, seed {self.seed}"))
        return rows

    def _short(self) -> pd.DataFrame:
        cols = [*self.group_by, "ikm", "grade", "label", "respondents", "ci_low", "ci_high"]
        return self.table[cols]

    def __str__(self) -> str:
        return _text_table(self._header(), self._short(), self.statement())

    def _repr_html_(self) -> str:
        return _html_table(self._header(), self._short(), self.statement())


def ikm(
    responses: pd.DataFrame,
    *,
    group_by: str | list[str] | None = None,
    weights: str = "exact",
    population: int | Mapping[Any, int] | pd.Series | None = None,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int | None = None,
) -> IkmResult:
    """Indeks Kepuasan Masyarakat from respondent-level scores (PermenPANRB 14/2017).

    For each element, NRR is the mean score (1-4) of the respondents who answered it; the
    IKM is the weighted sum of the nine NRRs times 25. The grade A-D follows
    :func:`ikm_grade`. The interval is a percentile bootstrap over respondents within each
    group.

    Parameters
    ----------
    responses
        One row per respondent with columns ``u1``..``u9`` (the nine elements in the
        regulation's order: persyaratan, prosedur, waktu, biaya, produk, kompetensi,
        perilaku, sarana, pengaduan), e.g. the canonical ``satisfaction`` table. Scores
        must be whole numbers 1-4; an unanswered element may be NaN.
    group_by
        Column(s) defining groups, e.g. ``["agency_code", "period"]``; None for one group.
    weights
        ``"exact"`` (1/9 each) or ``"rounded"`` (the 0.11 printed in the regulation, which
        makes the index 1% lower: 9 x 0.11 = 0.99).
    population
        Population served (one number, or a mapping/Series keyed by group, a tuple for
        several group columns). A group with fewer respondents than the Krejcie-Morgan size
        (:func:`krejcie_morgan`) raises a :class:`SmallSampleWarning`.
    level
        Confidence level of the bootstrap interval.
    n_boot
        Bootstrap draws; 0 skips the interval.
    seed
        Seed of the bootstrap; groups are processed in sorted order, so a seed fixes every
        interval.

    Returns
    -------
    IkmResult

    References
    ----------
    PermenPANRB No. 14 Tahun 2017 tentang Pedoman Penyusunan Survei Kepuasan Masyarakat.
    Krejcie, R. V. & Morgan, D. W. (1970). Determining sample size for research activities.
    Educational and Psychological Measurement, 30, 607-610.

    Examples
    --------
    >>> data = pd.DataFrame({f"u{i}": [3, 4] for i in range(1, 10)})
    >>> round(float(ikm(data, n_boot=0).ikm.iloc[0]), 2)
    87.5
    """
    if not isinstance(responses, pd.DataFrame):
        raise ValueError("responses must be a DataFrame with one row per respondent")
    if len(responses) == 0:
        raise ValueError("responses has no rows; IKM needs at least one respondent")
    if not 0 < level < 1:
        raise ValueError(f"level has {level!r}; the confidence level must be between 0 and 1")
    if n_boot < 0:
        raise ValueError(f"n_boot has {n_boot!r}; the number of draws cannot be negative")
    w = _ikm_weights(weights)
    scores = _validate_ikm_scores(responses)
    groups: tuple[str, ...] = ()
    if group_by is not None:
        groups = (group_by,) if isinstance(group_by, str) else tuple(group_by)
        for col in groups:
            if col not in responses.columns:
                raise ValueError(f"group_by names {col!r}, which is not a column of responses")
            if responses[col].isna().any():
                label = responses[col].isna().idxmax()
                raise ValueError(f"{col} is missing in row {label}; every respondent needs a group")
    rng = np.random.default_rng(seed)
    if groups:
        keys = responses[list(groups)]
        grouped = sorted(
            scores.groupby([keys[c] for c in groups], sort=True, observed=True).groups.items()
        )
    else:
        grouped = [((), scores.index)]
    rows, notes = [], []
    alpha = 1 - level
    for key, index in grouped:
        key_tuple = key if isinstance(key, tuple) else (key,)
        block = scores.loc[index, list(IKM_ITEMS)].to_numpy(dtype=float)
        nrr = np.nanmean(block, axis=0) if block.size else np.full(len(IKM_ITEMS), np.nan)
        value = float((nrr * w).sum() * reg.IKM_SCALE)
        if n_boot:
            draws = _bootstrap_ikm(block, w, n_boot, rng)
            ci_low, ci_high = np.nanquantile(draws, [alpha / 2, 1 - alpha / 2])
        else:
            ci_low = ci_high = float("nan")
        lookup = key_tuple[0] if len(key_tuple) == 1 else key_tuple
        pop = _population_for(population, lookup, groups)
        required = float("nan") if math.isnan(pop) else float(krejcie_morgan(pop))
        n = len(index)
        if not math.isnan(required) and n < required:
            where = ", ".join(f"{c} {v}" for c, v in zip(groups, key_tuple, strict=True))
            where = f" for {where}" if where else ""
            notes.append(
                f"IKM{where} rests on {n} respondents; the Krejcie-Morgan sample for a "
                f"population of {int(pop)} is {int(required)}"
            )
        grade = ikm_grade(value)
        row = dict(zip(groups, key_tuple, strict=True))
        row.update(
            ikm=value,
            grade=grade,
            label=IKM_GRADE_LABELS[grade],
            respondents=n,
            ci_low=float(ci_low),
            ci_high=float(ci_high),
            population=pop,
            required_sample=required,
        )
        row.update({f"nrr_{c}": float(v) for c, v in zip(IKM_ITEMS, nrr, strict=True)})
        rows.append(row)
    table = pd.DataFrame(rows)
    table["grade"] = table["grade"].astype(IKM_GRADE_DTYPE)
    for note in notes:
        warnings.warn(note, SmallSampleWarning, stacklevel=2)
    return IkmResult(
        table=table,
        group_by=groups,
        weights=weights,
        level=level,
        n_boot=n_boot,
        seed=seed,
        warnings=tuple(notes),
    )


# --- IP ASN --------------------------------------------------------------------------

_IP_ASN_INPUTS: tuple[str, ...] = (
    "education",
    "leadership_training",
    "functional_training",
    "training_jp",
    "seminar",
    "performance",
    "discipline",
)


def ip_asn_points() -> pd.DataFrame:
    """Sub-indicator points of the IP ASN (Peraturan BKN 8/2019) as one editable table.

    Columns ``dimension``, ``indicator``, ``value``, ``points``, ``confirmed``. Rows with
    ``confirmed == False`` come from one secondary source or memory (shared/DOMAIN.md):
    correct them in a copy and pass it as ``ip_asn(..., points=table)``, or once for
    everyone in :data:`asn_eval.regulations.IP_ASN_POINTS`.
    """
    return pd.DataFrame(
        list(reg.IP_ASN_POINTS), columns=["dimension", "indicator", "value", "points", "confirmed"]
    )


def _check_points(points: pd.DataFrame) -> pd.DataFrame:
    needed = {"dimension", "indicator", "value", "points"}
    if not needed <= set(points.columns):
        lacking = ", ".join(sorted(needed - set(points.columns)))
        raise ValueError(f"points has no column {lacking}; start from ip_asn_points()")
    # Kompetensi items add up and are capped; the other dimensions take one row each.
    for dim in ("kualifikasi", "kinerja", "disiplin"):
        weight = reg.IP_ASN_WEIGHTS[dim]
        most = points.loc[points["dimension"] == dim, "points"].max()
        if most > weight:
            raise ValueError(
                f"points gives {_fmt(most)} in dimension {dim}, above its weight {weight} "
                "(Peraturan BKN 8/2019)"
            )
    return points


def _lookup_points(
    values: pd.Series, points: pd.DataFrame, indicator: str, column: str
) -> pd.Series:
    table = points.loc[points["indicator"] == indicator]
    mapping = dict(zip(table["value"].astype(str), table["points"].astype(float), strict=True))
    text = values.astype(object).where(values.notna(), None)
    text = text.map(lambda v: None if v is None else str(v).strip())
    bad = text.notna() & ~text.isin(list(mapping))
    if bad.any():
        label = bad.idxmax()
        allowed = ", ".join(repr(v) for v in mapping)
        raise ValueError(
            f"{column} has unknown value {_fmt(values[label])} in row {label}; "
            f"expected one of {allowed}"
        )
    return text.map(mapping).astype(float)


def _flag(values: pd.Series, column: str) -> pd.Series:
    """True/False (or 1/0) flags; NaN stays missing."""
    ok = values.isna() | values.isin([True, False, 0, 1])
    if not ok.all():
        label = (~ok).idxmax()
        raise ValueError(
            f"{column} has {_fmt(values[label])} in row {label}; expected True or False"
        )
    return values.map(lambda v: np.nan if pd.isna(v) else float(bool(v)))


@dataclass(frozen=True, eq=False)
class IpAsnResult:
    """IP ASN per employee: dimension scores, total and band.

    Attributes
    ----------
    scores
        The input's index with ``kualifikasi``, ``kompetensi``, ``kinerja``, ``disiplin``,
        ``ip_asn`` and ``level`` (ordered :data:`IP_ASN_LEVEL_DTYPE`), plus any passed-
        through identifier columns.
    points
        The points table used.
    """

    scores: pd.DataFrame
    points: pd.DataFrame

    @property
    def unconfirmed_points(self) -> bool:
        """Whether any points used come from an unconfirmed row."""
        if "confirmed" not in self.points.columns:
            return False
        return not bool(self.points["confirmed"].all())

    def to_frame(self) -> pd.DataFrame:
        """Per-employee scores (for aggregation; reports show groups, not individuals)."""
        return self.scores.copy()

    def distribution(self, *, by: str | None = None) -> pd.DataFrame:
        """Employees and shares per band (and mean index), optionally by a column."""
        frame = self.scores.dropna(subset=["ip_asn"])
        keys = [by] if by else []
        counts = (
            frame.groupby([*keys, "level"], observed=False).size().rename("employees").reset_index()
        )
        totals = (
            counts.groupby(keys)["employees"].transform("sum")
            if keys
            else counts["employees"].sum()
        )
        counts["share"] = counts["employees"] / totals
        return counts

    def statement(self) -> str:
        valid = self.scores["ip_asn"].dropna()
        if valid.empty:
            return "No employee has complete IP ASN inputs."
        mean = valid.mean()
        level = ip_asn_level(float(mean))
        caveat = " Some sub-indicator points are unconfirmed." if self.unconfirmed_points else ""
        missing = len(self.scores) - len(valid)
        missing_text = f" ({missing} without complete inputs)" if missing else ""
        return (
            f"Mean IP ASN is {mean:.1f} ({level}) over {len(valid)} employees"
            f"{missing_text}.{caveat}"
        )

    def _header(self) -> list[tuple[str, str]]:
        weights = ", ".join(f"{k} {v}" for k, v in reg.IP_ASN_WEIGHTS.items())
        return [("Measure", "IP ASN (Peraturan BKN 8/2019)"), ("Weights", weights)]

    def __str__(self) -> str:
        return _text_table(self._header(), self.distribution(), self.statement())

    def _repr_html_(self) -> str:
        return _html_table(self._header(), self.distribution(), self.statement())


def ip_asn_level(score: Any) -> str | float | pd.Series:
    """IP ASN band of a total score (Peraturan BKN 8/2019).

    91-100 Sangat Tinggi, 81-90 Tinggi, 71-80 Sedang, 61-70 Rendah, 60 and below Sangat
    Rendah (:data:`asn_eval.regulations.IP_ASN_BANDS`); a total between printed bands
    (e.g. 90.5) belongs to the lower band.

    Examples
    --------
    >>> ip_asn_level(90), ip_asn_level(91)
    ('Tinggi', 'Sangat Tinggi')
    """
    series, scalar = _as_series(score, "ip_asn")
    what = "IP ASN totals must be numbers from 0 to 100"
    values = _numeric(series, "ip_asn", scalar, what)
    bad = values.notna() & ((values < 0) | (values > 100))
    if bad.any():
        label = bad.idxmax()
        raise ValueError(f"ip_asn has {_fmt(series[label])}{_row(label, scalar)}; {what}")
    edges = np.array([low for low, _ in reversed(reg.IP_ASN_BANDS)])
    labels = np.array([lab for _, lab in reversed(reg.IP_ASN_BANDS)], dtype=object)
    position = np.searchsorted(edges, values.fillna(0).to_numpy(), side="right") - 1
    out = pd.Series(
        np.where(values.notna(), labels[np.clip(position, 0, None)], None),
        index=series.index,
        dtype=IP_ASN_LEVEL_DTYPE,
        name="level",
    )
    if scalar:
        level = out.iloc[0]
        return float("nan") if pd.isna(level) else str(level)
    return out


def ip_asn(
    data: pd.DataFrame,
    *,
    points: pd.DataFrame | None = None,
    keep: list[str] | None = None,
) -> IpAsnResult:
    """Indeks Profesionalitas ASN per employee (Peraturan BKN 8/2019).

    IP ASN = kualifikasi (max 25) + kompetensi (max 40) + kinerja (max 30) + disiplin
    (max 5), each from the points table, with the bands of
    :data:`asn_eval.regulations.IP_ASN_BANDS` (91+ Sangat Tinggi, 81-90 Tinggi, 71-80
    Sedang, 61-70 Rendah, 60 and below Sangat Rendah; a total between printed bands
    belongs to the lower one).

    Parameters
    ----------
    data
        One row per employee with columns ``education`` (SD..S3), ``leadership_training``,
        ``functional_training`` (bool: has the training for the position),
        ``training_jp`` (JP in the year; 20 JP or more earns the training_20jp points),
        ``seminar`` (bool: seminar/workshop in the last two years), ``performance`` (a
        PP 46/2011 or PermenPANRB 6/2022 predicate) and ``discipline`` (``"none"``,
        ``"ringan"``, ``"sedang"``, ``"berat"``). :func:`ip_asn_inputs` builds it from the
        canonical tables. A missing input gives a missing index for that employee.
    points
        Points table like :func:`ip_asn_points` (the default); pass a corrected copy to
        replace unconfirmed figures.
    keep
        Columns of ``data`` to carry into the result (e.g. ``["agency_code"]``).

    Returns
    -------
    IpAsnResult

    Examples
    --------
    >>> row = pd.DataFrame({"education": ["S2"], "leadership_training": [True],
    ...     "functional_training": [False], "training_jp": [24.0], "seminar": [True],
    ...     "performance": ["Baik"], "discipline": ["none"]})
    >>> float(ip_asn(row).scores["ip_asn"].iloc[0])
    90.0
    """
    missing = [c for c in _IP_ASN_INPUTS if c not in data.columns]
    if missing:
        raise ValueError(
            f"data has no column {', '.join(missing)}; ip_asn needs {', '.join(_IP_ASN_INPUTS)} "
            "(ip_asn_inputs() builds them from the canonical tables)"
        )
    table = _check_points(ip_asn_points() if points is None else points)
    out = pd.DataFrame(index=data.index)
    for col in keep or []:
        out[col] = data[col]
    out["kualifikasi"] = _lookup_points(data["education"], table, "education", "education")
    jp = _numeric(data["training_jp"], "training_jp", False, "JP must be a number")
    if (jp < 0).any():
        label = (jp < 0).idxmax()
        raise ValueError(
            f"training_jp has {_fmt(data['training_jp'][label])} in row {label}; "
            "JP cannot be negative"
        )
    flags = {
        "leadership_training": _flag(data["leadership_training"], "leadership_training"),
        "functional_training": _flag(data["functional_training"], "functional_training"),
        "training_20jp": (jp >= reg.JP_MINIMUM_PER_YEAR).astype(float).where(jp.notna()),
        "seminar": _flag(data["seminar"], "seminar"),
    }
    kompetensi = pd.Series(0.0, index=data.index)
    for indicator, flag in flags.items():
        award = table.loc[
            (table["indicator"] == indicator) & (table["value"].astype(str) == "yes"), "points"
        ]
        kompetensi = kompetensi + flag * (float(award.iloc[0]) if len(award) else 0.0)
    out["kompetensi"] = kompetensi.clip(upper=reg.IP_ASN_WEIGHTS["kompetensi"])
    out["kinerja"] = _lookup_points(data["performance"], table, "performance", "performance")
    out["disiplin"] = _lookup_points(data["discipline"], table, "discipline", "discipline")
    out["ip_asn"] = out[["kualifikasi", "kompetensi", "kinerja", "disiplin"]].sum(
        axis=1, min_count=4
    )
    out["level"] = ip_asn_level(out["ip_asn"])
    return IpAsnResult(scores=out, points=table)


def ip_asn_inputs(
    employees: pd.DataFrame,
    performance: pd.DataFrame,
    training: pd.DataFrame,
    *,
    year: int,
) -> pd.DataFrame:
    """Build :func:`ip_asn` inputs for one year from the canonical tables.

    Choices (documented because the regulation's form wording is not in the data):
    leadership and functional training count if the employee ever had a course of type
    ``kepemimpinan`` / ``fungsional`` up to the end of ``year``; ``training_jp`` is all JP
    in ``year`` (the 20 JP minimum accumulates across courses); ``seminar`` is any
    seminar or workshop in ``year`` or the year before; ``performance`` is the SKP
    predicate of ``year``, else the PP 46/2011 band of its ``skp_score``; ``discipline``
    is the sanction level of ``year``. Employees serving at some time in ``year`` only.

    Returns
    -------
    DataFrame
        Indexed by ``employee_id`` with ``agency_code`` and the :func:`ip_asn` columns.
    """
    start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    staff = _serving(employees, year)
    ids = staff["employee_id"]
    courses = training.loc[training["employee_id"].isin(ids)]
    upto = courses.loc[courses["date"] <= end]
    ever = upto.groupby("employee_id")["type"].agg(set)
    in_year = courses.loc[courses["date"].between(start, end)]
    recent = courses.loc[courses["date"].between(pd.Timestamp(year - 1, 1, 1), end)]
    seminar_ids = set(recent.loc[recent["type"].isin(["seminar", "workshop"]), "employee_id"])
    perf = performance.loc[performance["year"] == year].drop_duplicates("employee_id")
    perf = perf.set_index("employee_id")
    predicate = perf["skp_predicate"].astype(object) if "skp_predicate" in perf else None
    if "skp_score" in perf:
        fallback = skp_band(perf["skp_score"]).astype(object)
        predicate = fallback if predicate is None else predicate.where(predicate.notna(), fallback)
    frame = pd.DataFrame(index=pd.Index(ids, name="employee_id"))
    frame["agency_code"] = staff.set_index("employee_id")["agency_code"]
    if "agency_code" in perf:
        # The agency of that year (transfers) wins over the current one.
        frame["agency_code"] = perf["agency_code"].reindex(frame.index).fillna(frame["agency_code"])
    frame["education"] = staff.set_index("employee_id")["education"].astype(object)
    types = ever.reindex(frame.index)
    frame["leadership_training"] = types.map(lambda s: isinstance(s, set) and "kepemimpinan" in s)
    frame["functional_training"] = types.map(lambda s: isinstance(s, set) and "fungsional" in s)
    frame["training_jp"] = (
        in_year.groupby("employee_id")["jp"].sum().reindex(frame.index).fillna(0.0)
    )
    frame["seminar"] = frame.index.isin(list(seminar_ids))
    frame["performance"] = (
        predicate.reindex(frame.index) if predicate is not None else pd.Series(np.nan, frame.index)
    )
    frame["discipline"] = perf["sanction_level"].astype(object).reindex(frame.index)
    return frame


# --- Training hours ------------------------------------------------------------------


def _serving(employees: pd.DataFrame, year: int) -> pd.DataFrame:
    """Employees serving at some time in ``year`` (all, if service dates are absent)."""
    keep = pd.Series(True, index=employees.index)
    if "service_start" in employees:
        keep &= ~(employees["service_start"] > pd.Timestamp(year, 12, 31))
    if "service_end" in employees:
        keep &= ~(employees["service_end"] < pd.Timestamp(year, 1, 1))
    return employees.loc[keep]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass(frozen=True, eq=False)
class TrainingHours:
    """JP per employee in one year against the minimum (PP 11/2017 as amended, art. 203).

    Attributes
    ----------
    per_employee
        One row per employee: ``employee_id`` (and ``agency_code`` when known), ``jp``,
        ``courses``, ``meets_minimum``, ``jp_<route>`` and ``jp_<type>`` columns.
    year, minimum
        The year and the JP minimum used.
    population
        ``"employees"`` when untrained staff are counted (as zero), else
        ``"trained only"``.
    unmatched_courses
        Courses in the year of people not in ``employees`` (left out).
    """

    per_employee: pd.DataFrame
    year: int
    minimum: float
    population: str
    unmatched_courses: int = 0

    def to_frame(self) -> pd.DataFrame:
        """Per-employee rows (for aggregation; reports show groups, not individuals)."""
        return self.per_employee.copy()

    @property
    def share_meeting_minimum(self) -> float:
        return float(self.per_employee["meets_minimum"].mean())

    def compliance(self, *, by: str | None = None) -> pd.DataFrame:
        """Employees, number and share meeting the minimum, mean and median JP."""
        frame = self.per_employee
        grouped = frame.groupby(by, observed=True) if by else frame.groupby(lambda _: "all")
        out = grouped.agg(
            employees=("jp", "size"),
            meeting_minimum=("meets_minimum", "sum"),
            mean_jp=("jp", "mean"),
            median_jp=("jp", "median"),
        )
        out["share_meeting_minimum"] = out["meeting_minimum"] / out["employees"]
        out.index.name = by or "group"
        return out.reset_index()

    def statement(self) -> str:
        share = self.share_meeting_minimum
        text = (
            f"In {self.year}, {share:.0%} of {len(self.per_employee)} employees reached the "
            f"minimum of {self.minimum:g} JP (mean {self.per_employee['jp'].mean():.1f} JP)."
        )
        if self.population != "employees":
            text += " Only employees with training are counted, so the share is overstated."
        return text

    def _header(self) -> list[tuple[str, str]]:
        return [
            ("Measure", "JP per employee (PP 17/2020; Peraturan LAN 5/2018)"),
            ("Year", str(self.year)),
            ("Minimum", f"{self.minimum:g} JP"),
            ("Population", self.population),
        ]

    def __str__(self) -> str:
        return _text_table(self._header(), self.compliance(), self.statement())

    def _repr_html_(self) -> str:
        return _html_table(self._header(), self.compliance(), self.statement())


def training_hours(
    training: pd.DataFrame,
    *,
    year: int,
    employees: pd.DataFrame | None = None,
    minimum: float = reg.JP_MINIMUM_PER_YEAR,
) -> TrainingHours:
    """JP per employee in ``year``, by route and type, against the 20 JP minimum.

    Parameters
    ----------
    training
        Canonical ``training`` table: ``employee_id``, ``date``, ``jp``, ``type``,
        ``route``. Courses are assigned to the calendar year of their date.
    year
        Calendar year.
    employees
        Canonical ``employees`` table. When given, every employee serving at some time in
        ``year`` appears, those without training with 0 JP (not missing); otherwise only
        employees with a course in ``year`` appear and compliance is overstated.
    minimum
        JP minimum per year (default :data:`asn_eval.regulations.JP_MINIMUM_PER_YEAR`).

    Returns
    -------
    TrainingHours

    Examples
    --------
    >>> courses = pd.DataFrame({"employee_id": ["a", "a"], "jp": [12.0, 9.0],
    ...     "date": pd.to_datetime(["2024-03-01", "2024-09-01"]),
    ...     "type": ["teknis", "seminar"], "route": ["klasikal", "e-learning"]})
    >>> training_hours(courses, year=2024).share_meeting_minimum
    1.0
    """
    needed = ["employee_id", "date", "jp", "type", "route"]
    lacking = [c for c in needed if c not in training.columns]
    if lacking:
        raise ValueError(
            f"training has no column {', '.join(lacking)}; expected {', '.join(needed)}"
        )
    dates = pd.to_datetime(training["date"])
    courses = training.loc[dates.dt.year == year].copy()
    jp = _numeric(courses["jp"], "jp", False, "JP must be a number")
    bad = jp.isna() | (jp < 0) | ~np.isfinite(jp.fillna(0))
    if bad.any():
        label = bad.idxmax()
        raise ValueError(
            f"jp has {_fmt(courses['jp'][label])} in row {label}; JP must be a non-negative number"
        )
    courses["jp"] = jp
    for col, allowed in (("route", reg.TRAINING_ROUTES), ("type", sorted(_KNOWN_TRAINING_TYPES))):
        unknown = ~courses[col].isin(allowed)
        if unknown.any():
            label = unknown.idxmax()
            raise ValueError(
                f"{col} has unknown value {_fmt(courses[col][label])} in row {label}; "
                f"expected one of {', '.join(repr(a) for a in allowed)}"
            )
    unmatched = 0
    if employees is not None:
        staff = _serving(employees, year)
        ids = pd.Index(staff["employee_id"].drop_duplicates(), name="employee_id")
        known = courses["employee_id"].isin(ids)
        unmatched = int((~known).sum())
        courses = courses.loc[known]
        population = "employees"
    else:
        ids = pd.Index(sorted(courses["employee_id"].unique()), name="employee_id")
        population = "trained only"
    total = courses.groupby("employee_id")["jp"].sum().reindex(ids, fill_value=0.0)
    count = courses.groupby("employee_id").size().reindex(ids, fill_value=0)
    frame = pd.DataFrame({"jp": total.astype(float), "courses": count.astype(int)}, index=ids)
    frame["meets_minimum"] = frame["jp"] >= minimum
    for col, categories in (("route", reg.TRAINING_ROUTES), ("type", TRAINING_TYPES)):
        extra = sorted(set(courses[col]) - set(categories))
        # Plain labels: a categorical column would add every category, used or not.
        plain = courses.assign(**{col: courses[col].astype(str)})
        wide = plain.pivot_table(
            index="employee_id", columns=col, values="jp", aggfunc="sum", fill_value=0.0
        ).reindex(index=ids, columns=[*categories, *extra], fill_value=0.0)
        wide = wide.fillna(0.0)
        wide.columns = [f"jp_{_slug(c)}" for c in wide.columns]
        frame = frame.join(wide)
    frame = frame.reset_index()
    if employees is not None and "agency_code" in employees:
        agency = staff.drop_duplicates("employee_id").set_index("employee_id")["agency_code"]
        frame.insert(1, "agency_code", frame["employee_id"].map(agency))
    return TrainingHours(
        per_employee=frame,
        year=year,
        minimum=float(minimum),
        population=population,
        unmatched_courses=unmatched,
    )


# --- Discipline ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sanction:
    """PP 94/2021 sanction for one count of unexcused absence days."""

    absence_days: int
    sanction: str | None
    level: str


def _sanction_for(days: int, consecutive: int) -> tuple[str | None, str]:
    if consecutive >= DISMISSAL_CONSECUTIVE_DAYS:
        top = reg.DISCIPLINE_LADDER[0]
        return top[1], top[2]
    for lowest, sanction, level in reg.DISCIPLINE_LADDER:
        if days >= lowest:
            return sanction, level
    return None, "none"


def _whole_days(values: Any, column: str) -> tuple[pd.Series, pd.Series, bool]:
    series, scalar = _as_series(values, column)
    what = "days of absence must be whole numbers of at least 0"
    numbers = _numeric(series, column, scalar, what)
    bad = numbers.notna() & ((numbers < 0) | (numbers % 1 != 0))
    if bad.any():
        label = bad.idxmax()
        raise ValueError(f"{column} has {_fmt(series[label])}{_row(label, scalar)}; {what}")
    return series, numbers, scalar


def discipline_sanction(
    absence_days: Any, *, consecutive_days: Any = None
) -> Sanction | pd.DataFrame:
    """Disciplinary sanction for unexcused absence in a year (PP 94/2021).

    3 days teguran lisan, 4-6 teguran tertulis, 7-10 pernyataan tidak puas (ringan);
    11-13 / 14-16 / 17-20 days a 25% cut of tunjangan kinerja for 6 / 9 / 12 months
    (sedang); 21-24 demotion, 25-27 moved to jabatan pelaksana, 28 or more (or 10
    consecutive days) dismissal (berat). Fewer than 3 days: no sanction, level ``"none"``.
    The ladder is :data:`asn_eval.regulations.DISCIPLINE_LADDER`.

    Parameters
    ----------
    absence_days
        Unexcused absence days in the year: a whole number or an array-like of them.
    consecutive_days
        Optional longest run of consecutive absence days (same shape); 10 or more means
        dismissal whatever the total.

    Returns
    -------
    Sanction or DataFrame
        A :class:`Sanction` for a scalar; otherwise a DataFrame on the input's index with
        ``absence_days``, ``sanction`` and ``level`` (ordered :data:`SANCTION_LEVEL_DTYPE`).
        Missing days give a missing sanction and level.

    Examples
    --------
    >>> discipline_sanction(5).level
    'ringan'
    """
    series, days, scalar = _whole_days(absence_days, "absence_days")
    if consecutive_days is None:
        runs = pd.Series(0.0, index=series.index)
    else:
        _, runs, _ = _whole_days(consecutive_days, "consecutive_days")
        if len(runs) != len(days):
            raise ValueError(
                f"consecutive_days has {len(runs)} values but absence_days has {len(days)}"
            )
        runs = pd.Series(runs.to_numpy(), index=series.index).fillna(0.0)
    results = [
        (None, None) if pd.isna(d) else _sanction_for(int(d), int(r))
        for d, r in zip(days.to_numpy(), runs.to_numpy(), strict=True)
    ]
    if scalar:
        sanction, level = results[0]
        if level is None:
            return Sanction(absence_days=days.iloc[0], sanction=None, level=None)
        return Sanction(absence_days=int(days.iloc[0]), sanction=sanction, level=level)
    return pd.DataFrame(
        {
            "absence_days": days.astype("Int64"),
            "sanction": pd.Series([s for s, _ in results], index=series.index, dtype=object),
            "level": pd.Series(
                [lev for _, lev in results], index=series.index, dtype=SANCTION_LEVEL_DTYPE
            ),
        },
        index=series.index,
    )
