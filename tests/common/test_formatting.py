"""Locale formatting: the separators, month names and rounding readers of each language expect."""

import datetime as dt
import math

import pandas as pd
import pytest

from asn_eval.common.formatting import (
    MISSING,
    fmt_date,
    fmt_interval,
    fmt_number,
    fmt_percent,
    fmt_pvalue,
    fmt_rupiah,
)


@pytest.mark.parametrize(
    ("x", "lang", "digits", "expected"),
    [
        (1234.5, "id", 1, "1.234,5"),
        (1234.5, "en", 1, "1,234.5"),
        (-1234.56, "id", 2, "-1.234,56"),
        (2_500_000, "en", 0, "2,500,000"),
        (2_500_000, "id", 0, "2.500.000"),
        # half-up on the decimal value, not half-even: 0.25 -> 0.3, 2.675 -> 2.68
        (0.25, "id", 1, "0,3"),
        (2.675, "en", 2, "2.68"),
        # a value that rounds to zero carries no minus sign
        (-0.01, "en", 1, "0.0"),
    ],
)
def test_fmt_number_uses_locale_separators(x, lang, digits, expected):
    assert fmt_number(x, lang, digits) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, pd.NaT])
def test_missing_values_print_as_dash(missing):
    assert fmt_number(missing, "id") == MISSING
    assert fmt_percent(missing, "en") == MISSING
    assert fmt_date(missing, "id") == MISSING


def test_percent_interval_and_pvalue():
    assert fmt_percent(0.1234, "id") == "12,3%"
    assert fmt_percent(0.1234, "en") == "12.3%"
    # Indonesian needs a semicolon between the bounds because the comma is its decimal mark.
    assert fmt_interval(-0.123, 0.456, "id", digits=2) == "[-0,12; 0,46]"
    assert fmt_interval(-0.123, 0.456, "en", digits=2) == "[-0.12, 0.46]"
    assert fmt_pvalue(0.0004, "id") == "< 0,001"
    assert fmt_pvalue(0.0312, "en") == "0.031"


@pytest.mark.parametrize(
    ("d", "lang", "expected"),
    [
        (dt.date(2024, 12, 31), "id", "31 Desember 2024"),
        (dt.date(2024, 12, 31), "en", "31 December 2024"),
        (pd.Timestamp("2023-08-17 10:00"), "id", "17 Agustus 2023"),
        ("2025-02-01", "en", "1 February 2025"),
    ],
)
def test_fmt_date_month_names(d, lang, expected):
    assert fmt_date(d, lang) == expected


def test_fmt_rupiah():
    assert fmt_rupiah(1_234_567, "id") == "Rp1.234.567"
    assert fmt_rupiah(1_234_567, "en") == "Rp1,234,567"
    assert fmt_rupiah(-1500, "id") == "-Rp1.500"
    assert fmt_rupiah(1_234_567_890, "id", compact=True) == "Rp1,2 miliar"
    assert fmt_rupiah(1_234_567_890, "en", compact=True) == "Rp1.2 billion"
    assert fmt_rupiah(12_345_678, "id", compact=True) == "Rp12,3 juta"


def test_infinite_values_are_written_as_symbols():
    assert fmt_number(math.inf, "en") == "\u221e"


def test_unknown_language_message():
    with pytest.raises(ValueError) as err:
        fmt_number(1.0, "fr")
    assert str(err.value) == (
        "Unknown report language 'fr': choose one of id, en (Indonesian 'id' is the default)."
    )
