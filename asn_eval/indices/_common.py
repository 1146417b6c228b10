"""Helpers the index modules share: input coercion, messages naming value and row, rounding
as printed tables round, and the text/HTML rendering of result objects."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd


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
