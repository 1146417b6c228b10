"""SKP predicates: the PermenPANRB 6/2022 matrix, the PP 46/2011 bands, and "Baik or better".

:func:`skp_good` is the one definition of the outcome the report analyses as
``skp_good``: the predicate is Sangat Baik or Baik (:data:`asn_eval.domain.regulations.
SKP_GOOD_PREDICATES`); for pre-2022 appraisals without a predicate, the PP 46/2011 band of the
final score is Sangat Baik or Baik (a score of 76 or more).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.domain import regulations as reg
from asn_eval.indices._common import _as_series, _fmt, _numeric, _row

# Categories run worst to best so that ``<``, ``max()`` and sorting mean "better".
SKP_PREDICATE_DTYPE = pd.CategoricalDtype(list(reversed(reg.SKP_PREDICATES)), ordered=True)
PP46_PREDICATE_DTYPE = pd.CategoricalDtype(
    [label for _, label in reversed(reg.PP46_BANDS)], ordered=True
)


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
    The matrix is :data:`asn_eval.domain.regulations.SKP_MATRIX`: work results dominate, poor
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

    Bands from :data:`asn_eval.domain.regulations.PP46_BANDS`: 91-100 Sangat Baik, 76-90 Baik,
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


def skp_good(predicate: Any, score: Any = None) -> pd.Series:
    """Whether each appraisal is "Baik or better" (1.0), not (0.0) or unknown (NaN).

    The predicate decides when present: Sangat Baik or Baik
    (:data:`asn_eval.domain.regulations.SKP_GOOD_PREDICATES`, PermenPANRB 6/2022). Pre-2022
    appraisals without a predicate fall back on the PP 46/2011 band of the final score
    (:func:`skp_band`): the same two predicates, i.e. a score of 76 or more. Missing both
    gives NaN.

    Parameters
    ----------
    predicate
        SKP predicates (strings, any of :data:`asn_eval.domain.regulations.SKP_PREDICATES`, or
        missing); an array-like.
    score
        Optional PP 46/2011 final scores (0-100), same length.

    Returns
    -------
    Series
        Floats 1.0 / 0.0 / NaN on the predicate's index, named ``skp_good``.

    Examples
    --------
    >>> skp_good(["Baik", "Butuh Perbaikan", None, None], [None, None, 80.0, None]).tolist()
    [1.0, 0.0, 1.0, nan]
    """
    pred, _ = _as_series(predicate, "skp_predicate")
    pred = pred.astype(object)
    good = pd.Series(
        np.where(pred.isna(), np.nan, pred.isin(reg.SKP_GOOD_PREDICATES).astype(float)),
        index=pred.index,
        name="skp_good",
    )
    if score is None:
        return good
    scores, _ = _as_series(score, "score")
    if len(scores) != len(pred):
        raise ValueError(
            f"skp_predicate has {len(pred)} values but score has {len(scores)}; give one "
            "score per appraisal (NaN where there is none)"
        )
    band = skp_band(pd.Series(scores.to_numpy(), index=pred.index))
    from_score = pd.Series(
        np.where(band.isna(), np.nan, band.isin(reg.SKP_GOOD_PREDICATES).astype(float)),
        index=pred.index,
    )
    return good.fillna(from_score).rename("skp_good")
