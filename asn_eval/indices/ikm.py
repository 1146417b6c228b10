"""Indeks Kepuasan Masyarakat (PermenPANRB 14/2017): IKM, grade and Krejcie-Morgan sample."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.domain import regulations as reg
from asn_eval.indices._common import (
    _as_series,
    _fmt,
    _half_up,
    _html_table,
    _numeric,
    _row,
    _text_table,
)

IKM_GRADE_DTYPE = pd.CategoricalDtype([g for _, g, _ in reversed(reg.IKM_BANDS)], ordered=True)
IKM_GRADE_LABELS: Mapping[str, str] = {g: label for _, g, label in reg.IKM_BANDS}
IKM_ITEMS: tuple[str, ...] = tuple(f"u{i}" for i in range(1, len(reg.IKM_ELEMENTS) + 1))


class SmallSampleWarning(UserWarning):
    """An IKM group has fewer respondents than the Krejcie-Morgan size for its population."""


def krejcie_morgan(population: int) -> int:
    """Minimum sample for a population, from the Krejcie-Morgan (1970) table.

    A population between two rows of the table takes the sample of the next larger row
    (the conservative choice); populations below the first row need everyone; above the
    last row, the table's 384. That PermenPANRB 14/2017 prescribes this table is
    UNCONFIRMED (see :data:`asn_eval.domain.regulations.KREJCIE_MORGAN`).

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
    if groups and not n_boot and population is None:
        # Nothing per group but means: one grouped pass (a province has thousands of
        # agency-periods, where a loop over groups took most of a minute).
        return _ikm_grouped(scores, responses, groups, w, weights=weights, level=level, seed=seed)
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
            label=IKM_GRADE_LABELS.get(grade, float("nan")) if isinstance(grade, str) else grade,
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


def _ikm_grouped(
    scores: pd.DataFrame,
    responses: pd.DataFrame,
    groups: tuple[str, ...],
    w: np.ndarray,
    *,
    weights: str,
    level: float,
    seed: int | None,
) -> IkmResult:
    """:func:`ikm` without bootstrap or population, for many groups at once: the same
    arithmetic per group on numpy blocks, without a pandas lookup per group."""
    keys = [responses[c] for c in groups]
    positions = scores.groupby(keys, sort=True, observed=True).indices
    block_all = scores[list(IKM_ITEMS)].to_numpy(dtype=float)
    rows = []
    for key in sorted(positions):
        key_tuple = key if isinstance(key, tuple) else (key,)
        block = block_all[positions[key]]
        nrr = np.nanmean(block, axis=0) if block.size else np.full(len(IKM_ITEMS), np.nan)
        value = float((nrr * w).sum() * reg.IKM_SCALE)
        row = dict(zip(groups, key_tuple, strict=True))
        row.update(
            ikm=value,
            respondents=len(block),
            ci_low=float("nan"),
            ci_high=float("nan"),
            population=float("nan"),
            required_sample=float("nan"),
        )
        row.update({f"nrr_{c}": float(v) for c, v in zip(IKM_ITEMS, nrr, strict=True)})
        rows.append(row)
    table = pd.DataFrame(rows)
    # One grading of all groups' values (the same rule as per value, without a Series each).
    grade = ikm_grade(table["ikm"]) if len(table) else pd.Series([], dtype=IKM_GRADE_DTYPE)
    label = grade.astype(object).map(IKM_GRADE_LABELS)
    table.insert(table.columns.get_loc("ikm") + 1, "grade", grade.to_numpy())
    table.insert(table.columns.get_loc("grade") + 1, "label", label.to_numpy())
    table["grade"] = table["grade"].astype(IKM_GRADE_DTYPE)
    return IkmResult(
        table=table,
        group_by=groups,
        weights=weights,
        level=level,
        n_boot=0,
        seed=seed,
        warnings=(),
    )
