"""Likert instruments as local ASN studies use them: the reliability of a scale.

Studies of ASN in Kupang and elsewhere in NTT (e.g. change readiness, for the challenges
chapter) report Cronbach's alpha and item-total correlations. These functions give the same
numbers from a tidy table of answers (one row per respondent, one column per item), with the
interval that such studies usually omit.

Public API
----------
- :func:`cronbach_alpha` -> :class:`Reliability`: alpha with Feldt's interval,
  standardised alpha, item-total and item-rest correlations, alpha if item deleted.
- :func:`reverse_code`: reverse negatively worded items.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "ALPHA_RULES",
    "LIKERT_LABELS_5",
    "Reliability",
    "cronbach_alpha",
    "reverse_code",
]

# Five-level labels used for "very low" to "very high" in Indonesian survey reports.
LIKERT_LABELS_5: tuple[str, ...] = ("sangat rendah", "rendah", "sedang", "tinggi", "sangat tinggi")
# George & Mallery (2003) rule of thumb, (lowest alpha, word), best first.
ALPHA_RULES: tuple[tuple[float, str], ...] = (
    (0.9, "excellent"),
    (0.8, "good"),
    (0.7, "acceptable"),
    (0.6, "questionable"),
    (0.5, "poor"),
    (-math.inf, "unacceptable"),
)


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_scale(scale: tuple[float, float]) -> tuple[float, float]:
    try:
        low, high = scale
    except (TypeError, ValueError):
        raise ValueError(
            f"scale has {scale!r}; give (lowest, highest) answer, e.g. (1, 5)"
        ) from None
    if not low < high:
        raise ValueError(f"scale has {scale!r}; the lowest answer must be below the highest")
    return float(low), float(high)


def _numeric_items(
    items: pd.DataFrame, scale: tuple[float, float] | None, *, min_items: int = 1
) -> pd.DataFrame:
    """Items as floats; text, or answers outside the scale, raise naming value and row."""
    if not isinstance(items, pd.DataFrame):
        raise ValueError(
            "items must be a DataFrame with one row per respondent, one column per item"
        )
    if items.shape[1] < min_items:
        raise ValueError(
            f"items has {items.shape[1]} column(s); this needs at least {min_items} items"
        )
    out = pd.DataFrame(index=items.index)
    bounds = _check_scale(scale) if scale is not None else None
    for col in items.columns:
        raw = items[col]
        values = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = values.isna() & raw.notna()
        if bounds is not None:
            low, high = bounds
            what = f"answers must be whole numbers {_fmt(low)}-{_fmt(high)}"
            bad |= values.notna() & ((values < low) | (values > high) | (values % 1 != 0))
        else:
            what = "answers must be numbers"
        if bad.any():
            label = bad.idxmax()
            raise ValueError(f"{col} has {_fmt(raw[label])} in row {label}; {what}")
        out[col] = values
    return out


def reverse_code(
    items: pd.DataFrame, columns: Sequence[str], *, scale: tuple[float, float] = (1, 5)
) -> pd.DataFrame:
    """Reverse negatively worded items: ``low + high - answer``.

    Parameters
    ----------
    items
        One row per respondent, one column per item.
    columns
        Items to reverse.
    scale
        Lowest and highest possible answer, e.g. ``(1, 5)``.

    Returns
    -------
    DataFrame
        A copy with ``columns`` reversed (other columns untouched).

    Examples
    --------
    >>> reverse_code(pd.DataFrame({"q1": [1, 4], "q2": [2, 5]}), ["q2"])["q2"].tolist()
    [4.0, 1.0]
    """
    low, high = _check_scale(scale)
    unknown = [c for c in columns if c not in items.columns]
    if unknown:
        raise ValueError(f"reverse names {', '.join(map(repr, unknown))}, not a column of items")
    out = items.copy()
    checked = _numeric_items(items[list(columns)], (low, high))
    for col in columns:
        out[col] = low + high - checked[col]
    return out


def _alpha(cov: np.ndarray) -> float:
    k = cov.shape[0]
    total = cov.sum()
    if k < 2 or total <= 0:
        return float("nan")
    return k / (k - 1) * (1 - np.trace(cov) / total)


def _interpret(alpha: float) -> str:
    for lowest, word in ALPHA_RULES:
        if alpha >= lowest:
            return word
    return ALPHA_RULES[-1][1]


@dataclass(frozen=True, eq=False)
class Reliability:
    """Cronbach's alpha of a scale with its interval and item statistics.

    Attributes
    ----------
    alpha, ci_low, ci_high, level
        Alpha and its Feldt interval at ``level``.
    alpha_standardized
        Alpha of the standardised items, ``k r / (1 + (k - 1) r)`` with ``r`` the mean
        inter-item correlation.
    respondents, k, dropped
        Complete respondents used, number of items, respondents dropped for a missing
        answer (listwise deletion).
    items
        One row per item: ``item``, ``mean``, ``sd``, ``item_total_r`` (with the total),
        ``item_rest_r`` (with the total of the other items, the "corrected" one),
        ``alpha_if_deleted`` and ``reversed``.
    """

    alpha: float
    ci_low: float
    ci_high: float
    level: float
    alpha_standardized: float
    respondents: int
    k: int
    dropped: int
    items: pd.DataFrame
    reversed_items: tuple[str, ...] = field(default_factory=tuple)

    @property
    def interpretation(self) -> str:
        """George & Mallery (2003) word for alpha: excellent, good, acceptable, ..."""
        return _interpret(self.alpha)

    def conf_int(self) -> tuple[float, float]:
        return self.ci_low, self.ci_high

    def to_frame(self) -> pd.DataFrame:
        """Item statistics, one row per item."""
        return self.items.copy()

    def statement(self) -> str:
        pct = round(self.level * 100)
        weakest = self.items.sort_values("item_rest_r").iloc[0]
        text = (
            f"Cronbach's alpha is {self.alpha:.3f} ({pct}% CI {self.ci_low:.3f} to "
            f"{self.ci_high:.3f}), {self.interpretation}, for {self.k} items and "
            f"{self.respondents} respondents"
        )
        if self.dropped:
            text += f" ({self.dropped} with missing answers left out)"
        text += (
            f"; the item that fits least is {weakest['item']} (r = {weakest['item_rest_r']:.2f})."
        )
        return text

    def _header(self) -> list[tuple[str, str]]:
        return [
            ("Measure", "Cronbach's alpha (Feldt interval)"),
            ("Alpha", f"{self.alpha:.3f}"),
            ("Standardised alpha", f"{self.alpha_standardized:.3f}"),
            ("Respondents", str(self.respondents)),
            ("Items", str(self.k)),
        ]

    def __str__(self) -> str:
        head = "\n".join(f"{k:<24}{v}" for k, v in self._header())
        table = self.items.to_string(index=False, float_format=lambda x: f"{x:.3f}")
        return f"{head}\n\n{table}\n\n{self.statement()}"

    def _repr_html_(self) -> str:
        head = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._header()
        )
        table = self.items.to_html(index=False, float_format=lambda x: f"{x:.3f}", border=0)
        return f"<table>{head}</table>{table}<p>{html.escape(self.statement())}</p>"


def cronbach_alpha(
    items: pd.DataFrame,
    *,
    reverse: Sequence[str] = (),
    scale: tuple[float, float] | None = None,
    level: float = 0.95,
) -> Reliability:
    """Cronbach's alpha with Feldt's confidence interval and item statistics.

    ``alpha = k / (k - 1) * (1 - sum of item variances / variance of the total)``. The
    interval is Feldt's: ``1 - (1 - alpha) F`` with F quantiles on ``n - 1`` and
    ``(n - 1)(k - 1)`` degrees of freedom (Feldt, Woodruff & Salih 1987), as in R's psych
    and pingouin. Respondents with a missing answer are left out (listwise).

    Parameters
    ----------
    items
        One row per respondent, one column per item (at least two).
    reverse
        Negatively worded items to reverse before computing (needs ``scale``).
    scale
        Lowest and highest possible answer, e.g. ``(1, 5)``; when given, answers outside
        it are an error.
    level
        Confidence level of the interval.

    Returns
    -------
    Reliability

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16, 297-334. Feldt, L. S., Woodruff, D. J. & Salih, F. A. (1987).
    Statistical inference for coefficient alpha. Applied Psychological Measurement, 11,
    93-103.

    Examples
    --------
    >>> answers = pd.DataFrame({"q1": [1, 2, 3, 4], "q2": [2, 2, 3, 5], "q3": [1, 3, 3, 4]})
    >>> round(cronbach_alpha(answers).alpha, 3)
    0.947
    """
    if not 0 < level < 1:
        raise ValueError(f"level has {level!r}; the confidence level must be between 0 and 1")
    if reverse and scale is None:
        raise ValueError("reverse needs scale=(lowest, highest) to know what to reverse against")
    data = _numeric_items(items, scale, min_items=2)
    if reverse:
        data = reverse_code(data, reverse, scale=scale)
    complete = data.dropna()
    n, k = complete.shape
    if n < 2:
        raise ValueError(
            f"items has {n} respondent(s) with every item answered; alpha needs at least 2"
        )
    values = complete.to_numpy()
    cov = np.cov(values, rowvar=False, ddof=1)
    if cov.sum() <= 0:
        raise ValueError("every respondent has the same total score; alpha is undefined")
    alpha = _alpha(cov)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - level) / 2
    ci_low = 1 - (1 - alpha) * stats.f.isf(tail, df1, df2)
    ci_high = 1 - (1 - alpha) * stats.f.isf(1 - tail, df1, df2)
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    mean_r = corr[~np.eye(k, dtype=bool)].mean()
    alpha_std = k * mean_r / (1 + (k - 1) * mean_r)
    total = values.sum(axis=1)
    rows = []
    for j, name in enumerate(complete.columns):
        rest = total - values[:, j]
        keep = [i for i in range(k) if i != j]
        rows.append(
            {
                "item": name,
                "mean": values[:, j].mean(),
                "sd": sd[j],
                "item_total_r": _corr(values[:, j], total),
                "item_rest_r": _corr(values[:, j], rest),
                "alpha_if_deleted": _alpha(cov[np.ix_(keep, keep)]),
                "reversed": name in set(reverse),
            }
        )
    return Reliability(
        alpha=float(alpha),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        level=level,
        alpha_standardized=float(alpha_std),
        respondents=int(n),
        k=int(k),
        dropped=int(len(data) - n),
        items=pd.DataFrame(rows),
        reversed_items=tuple(reverse),
    )


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])
