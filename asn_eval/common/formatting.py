"""Numbers, percentages, intervals, dates and money written the way each language writes them.

The report is bilingual: Indonesian (``"id"``, the default) writes ``1.234,5`` and
``31 Desember 2024``; English (``"en"``) writes ``1,234.5`` and ``31 December 2024``. All
locale rules come from Babel (CLDR data), so nothing here hand-codes a separator.

Rounding is half-up on the decimal value (``0,25`` -> ``0,3``), as readers of printed reports
expect, rather than Python's and Babel's default half-even; a value that rounds to zero is
written without a minus sign. Missing values (None, NaN) are written as :data:`MISSING`.

Examples
--------
>>> fmt_number(1234.5, "id")
'1.234,5'
>>> fmt_number(1234.5, "en")
'1,234.5'
>>> fmt_percent(0.1234, "id")
'12,3%'
>>> fmt_interval(-0.123, 0.456, "id", digits=2)
'[-0,12; 0,46]'
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from numbers import Real

import pandas as pd
from babel.dates import format_date as _babel_date
from babel.numbers import format_compact_decimal, format_decimal

from asn_eval.config import DEFAULT_LANGUAGE, LANGUAGES

# An en dash: what Indonesian and English statistical tables print for "not available".
MISSING = "\u2013"
# Inside an interval the two bounds need a separator that cannot be read as a decimal mark:
# Indonesian uses the comma as decimal mark, so its list separator is the semicolon.
_INTERVAL_SEPARATOR = {"id": "; ", "en": ", "}
_DATE_PATTERN = "d MMMM y"  # "31 Desember 2024" / "31 December 2024" in both languages
_RUPIAH_SYMBOL = "Rp"  # the report's currency is always the rupiah, in both languages


def check_language(lang: str) -> str:
    """Return ``lang`` if the report speaks it, else raise a readable ``ValueError``."""
    if lang not in LANGUAGES:
        raise ValueError(
            f"Unknown report language {lang!r}: choose one of {', '.join(LANGUAGES)} "
            f"(Indonesian 'id' is the default)."
        )
    return lang


def is_missing(x: object) -> bool:
    """True for None, NaN, NaT and pandas NA."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _rounded(x: Real, digits: int) -> decimal.Decimal:
    value = decimal.Decimal(repr(float(x)))
    with decimal.localcontext() as ctx:
        ctx.rounding = decimal.ROUND_HALF_UP
        value = value.quantize(decimal.Decimal(1).scaleb(-digits))
    if value == 0:
        value = abs(value)  # no "-0,0"
    return value


def _pattern(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits > 0 else "")


def fmt_number(x: Real | None, lang: str = DEFAULT_LANGUAGE, digits: int = 1) -> str:
    """Write a number with the language's decimal mark and digit grouping.

    Parameters
    ----------
    x
        The number; None or NaN gives :data:`MISSING`.
    lang
        ``"id"`` or ``"en"``.
    digits
        Digits after the decimal mark (rounded half-up).

    Examples
    --------
    >>> fmt_number(-1234.56, "id", digits=2)
    '-1.234,56'
    >>> fmt_number(2500000, "en", digits=0)
    '2,500,000'
    """
    check_language(lang)
    if is_missing(x):
        return MISSING
    if math.isinf(float(x)):
        return "\u221e" if x > 0 else "-\u221e"
    with decimal.localcontext() as ctx:
        ctx.rounding = decimal.ROUND_HALF_UP
        return format_decimal(_rounded(x, digits), format=_pattern(digits), locale=lang)


def fmt_percent(x: Real | None, lang: str = DEFAULT_LANGUAGE, digits: int = 1) -> str:
    """Write a share (0-1) as a percentage: ``0.1234`` -> ``"12,3%"`` (id), ``"12.3%"`` (en)."""
    check_language(lang)
    if is_missing(x):
        return MISSING
    return fmt_number(float(x) * 100, lang, digits) + "%"


def fmt_interval(
    lo: Real | None, hi: Real | None, lang: str = DEFAULT_LANGUAGE, digits: int = 1
) -> str:
    """Write a confidence interval: ``"[-0,1; 0,5]"`` (id) or ``"[-0.1, 0.5]"`` (en)."""
    check_language(lang)
    sep = _INTERVAL_SEPARATOR[lang]
    return f"[{fmt_number(lo, lang, digits)}{sep}{fmt_number(hi, lang, digits)}]"


def fmt_pvalue(p: Real | None, lang: str = DEFAULT_LANGUAGE, digits: int = 3) -> str:
    """Write a p-value; values that round to zero are written ``"< 0,001"``."""
    check_language(lang)
    if is_missing(p):
        return MISSING
    floor = 10.0**-digits
    if float(p) < floor:
        return "< " + fmt_number(floor, lang, digits)
    return fmt_number(p, lang, digits)


def fmt_date(
    d: _dt.date | _dt.datetime | pd.Timestamp | str | None, lang: str = DEFAULT_LANGUAGE
) -> str:
    """Write a date with month names: ``"31 Desember 2024"`` (id), ``"31 December 2024"`` (en)."""
    check_language(lang)
    if is_missing(d):
        return MISSING
    if isinstance(d, str):
        d = pd.Timestamp(d)
    if isinstance(d, pd.Timestamp):
        d = d.date()
    elif isinstance(d, _dt.datetime):
        d = d.date()
    return _babel_date(d, _DATE_PATTERN, locale=lang)


def fmt_rupiah(
    x: Real | None, lang: str = DEFAULT_LANGUAGE, *, compact: bool = False, digits: int = 1
) -> str:
    """Write an amount of rupiah.

    ``fmt_rupiah(1234567, "id")`` gives ``"Rp1.234.567"``; with ``compact=True``, large amounts
    use words: ``"Rp1,2 miliar"`` (id) or ``"Rp1.2 billion"`` (en), with ``digits`` decimals.
    """
    check_language(lang)
    if is_missing(x):
        return MISSING
    if compact and abs(float(x)) >= 1_000_000:
        with decimal.localcontext() as ctx:
            ctx.rounding = decimal.ROUND_HALF_UP
            words = format_compact_decimal(
                float(x), format_type="long", locale=lang, fraction_digits=digits
            )
    else:
        words = fmt_number(x, lang, digits=0)
    if words.startswith("-"):
        return "-" + _RUPIAH_SYMBOL + words[1:]
    return _RUPIAH_SYMBOL + words
