"""Numbered tables: one tidy numeric frame, written as data and shown as views.

Why one module of ~700 lines: the data frame, its CSV, LaTeX, HTML and workbook views
read one :class:`TableSpec`; kept together so a view cannot drift from the data.

A chapter hands :func:`save_table` the table *as data*: numbers as numbers, shares as
proportions (0-1), a confidence interval as two columns, p-values as numbers, and a small
spec of how people should see it (column headings, decimals, which columns are shares,
intervals or p-values). From that one frame come:

- ``tables/<chapter>-<number>_<slug>.csv``: the data as plain CSV, the header on the first
  line, locale-free (decimal point, no thousands separator), UTF-8, column names in
  snake_case with a unit suffix (see :data:`asn_eval.report.datapackage.UNIT_WORDS`:
  ``_share`` is a proportion 0-1, ``_pp`` percentage points, ``_jp``, ``_days``,
  ``_months``, ``_points``, ``_rupiah``), so ``pd.read_csv(path)`` (R: ``read.csv(path)``)
  and Excel open it as it is. A cell withheld for privacy is empty and flagged in the
  boolean column ``<column>_suppressed`` beside it.
- its resource in the report's ``datapackage.json`` (:mod:`asn_eval.report.datapackage`):
  caption, note, and each column's type, heading, unit, kind and decimals, which
  :mod:`asn_eval.report.workbook` reads to build ``tables.xlsx``;
  ``frictionless validate datapackage.json`` checks every CSV against it.
- ``tables/<stem>.tex``: booktabs, siunitx ``S`` columns for numbers, ``tabularx`` ``X``
  columns for long text, the caption without its number (LaTeX numbers it) and
  ``\\label{tab:<slug>}``; needs ``\\usepackage{booktabs,siunitx,tabularx,array}``.
- the notebook/report HTML, formatted in the report's language ("Tabel 2.1. ...", 1.234,5),
  with a fixed Styler uuid so that the output is identical on every run (CI compares it).

Cells that :func:`asn_eval.domain.privacy.suppress_small_cells` replaced by its mark are shown with
the mark and written as empty plus the ``_suppressed`` flag.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"agency": ["Dinas A"], "jp": [1234.5]})
>>> format_frame(frame, "id").iloc[0, 1]
'1.234,5'
>>> column_name("female", "share")
'female_share'
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from html import escape
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from asn_eval.common.csv_safety import safe_cells
from asn_eval.common.formatting import (
    DEFAULT_LANGUAGE,
    MISSING,
    _rounded,
    check_language,
    fmt_date,
    fmt_interval,
    fmt_number,
    fmt_percent,
    fmt_pvalue,
    is_missing,
)
from asn_eval.domain.privacy import SUPPRESSED_MARK
from asn_eval.report.datapackage import SUPPRESSED_SUFFIX, stage_resource, table_resource

_CAPTION_WORD = {"id": "Tabel", "en": "Table"}
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
# CSV keeps values, not display strings; rounding to 6 decimals removes floating-point noise
# (0.30000000000000004) that would otherwise make files differ across platforms.
CSV_DECIMALS = 6
# Class of the HTML cells of name columns (TableSpec.names): report.css wraps them between
# words and never hyphenates them ("Dinas Pemberdaya-an").
NAME_CLASS = "name"
LATEX_PACKAGES = ("booktabs", "siunitx", "tabularx", "array")
# Text columns longer than this (characters, heading or cell) wrap in LaTeX (an X column).
_WRAP_AT = 24
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SIUNITX_LOCALE = {
    "id": r"\sisetup{output-decimal-marker={,}, group-separator={.}, group-minimum-digits=4}",
    "en": r"\sisetup{output-decimal-marker={.}, group-separator={,}, group-minimum-digits=4}",
}


def table_label(chapter: int | str, number: int, lang: str = DEFAULT_LANGUAGE) -> str:
    """A table's name in the text: ``"Tabel 2.1"`` (id) or ``"Table 2.1"`` (en)."""
    check_language(lang)
    return f"{_CAPTION_WORD[lang]} {chapter}.{number}"


def table_caption(chapter: int | str, number: int, text: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Numbered caption: ``"Tabel 2.1. text"`` (id) or ``"Table 2.1. text"`` (en)."""
    return f"{table_label(chapter, number, lang)}. {text}"


def table_stem(chapter: int | str, number: int, slug: str) -> str:
    """File name without extension: ``"2-1_jp_by_agency"``."""
    if not _SLUG.match(slug):
        raise ValueError(
            f"Table slug {slug!r} must be lower-case letters and digits joined by '_' or '-', "
            "e.g. 'jp_by_agency', so that file names are the same on every system."
        )
    if int(number) < 1:
        raise ValueError(f"Table numbers start at 1 within a chapter; got {number!r}.")
    return f"{chapter}-{int(number)}_{slug}"


def column_name(name: str, unit: str | None) -> str:
    """The CSV name of a data column: ``name`` with its unit suffix (``female_share``)."""
    name = str(name)
    if not unit or name.endswith(f"_{unit}") or name == unit:
        return name
    return f"{name}_{unit}"


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters in plain text."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _cell(value: object, lang: str, digits: int, percent: bool) -> str:
    if isinstance(value, str):
        return value
    if is_missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "strftime"):
        return fmt_date(value, lang)
    if percent and isinstance(value, Real):
        return fmt_percent(value, lang, digits)
    if isinstance(value, Integral):
        return fmt_number(value, lang, 0)
    if isinstance(value, Real):
        return fmt_number(value, lang, digits)
    return str(value)


def format_frame(
    df: pd.DataFrame,
    lang: str = DEFAULT_LANGUAGE,
    *,
    digits: int | Mapping[str, int] = 1,
    percent: Collection[str] = (),
) -> pd.DataFrame:
    """Every cell as display text for ``lang``.

    Parameters
    ----------
    df
        The table (its index is not shown; reset it first to keep it).
    lang
        ``"id"`` or ``"en"``.
    digits
        Decimals for floats, one number for all columns or a mapping column -> decimals
        (columns not in the mapping get 1). Integers are written without decimals.
    percent
        Columns holding shares (0-1) written as percentages.
    """
    check_language(lang)
    out = {}
    for col in df.columns:
        col_digits = _digits(digits, col)
        out[col] = [_cell(v, lang, col_digits, col in percent) for v in df[col].tolist()]
    return pd.DataFrame(out, columns=df.columns, index=df.index)


def _digits(digits: int | Mapping[str, int], col: object) -> int:
    return int(digits.get(col, 1)) if isinstance(digits, Mapping) else int(digits)


def _reads_as_number(value: object) -> bool | None:
    """Whether a cell reads as a number: ``True`` for numbers and for numbers already written
    as text ("< 0,001", "[0,02; 0,10]", "7 / 12", "35%", "Rp 1.234"), ``False`` for words,
    ``None`` for a cell that says neither (missing, or a one-character mark such as "*")."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, str):
        words = value.strip().removeprefix("Rp")
        if len(words) <= 1 and not words.isdigit():
            return None
        return not any(ch.isalpha() for ch in words)
    if is_missing(value):
        return None
    return isinstance(value, Real)


def _numeric_columns(df: pd.DataFrame) -> list:
    """Columns that read as numbers, right-aligned in print; the others (words) align left.

    A column is numeric when more of its cells read as numbers than as words, so a column of
    months with one "not reached" stays numeric and a column of names stays text.
    """
    cols = []
    for col in df.columns:
        kinds = [_reads_as_number(v) for v in df[col].tolist()]
        numbers, words = kinds.count(True), kinds.count(False)
        if numbers and numbers > words:
            cols.append(col)
    return cols


# --- the table as data and its spec -------------------------------------------------------
@dataclass(frozen=True)
class TableSpec:
    """How people see a tidy table: headings, decimals and the kind of each shown column.

    Parameters
    ----------
    labels
        Data column (or interval/ratio column) -> heading shown in HTML, PDF, LaTeX and the
        workbook. Columns not named keep their name.
    digits
        Decimals, one number or a mapping column -> decimals (others get 1).
    percent
        Share columns (proportions 0-1), shown as percentages; their CSV name ends ``_share``.
    units
        Column -> unit suffix of its CSV name (a key of
        :data:`asn_eval.report.datapackage.UNIT_WORDS`, e.g. ``"pp"``).
    intervals
        Shown column -> ``(low, high)`` data columns: shown as one ``[low; high]`` column in
        place of ``low``, kept as two columns in the data.
    pvalues
        Columns of p-values, shown ``"< 0,001"`` below 0.001.
    ratios
        Shown column -> ``(part, whole)`` integer columns, shown ``"part/whole"``.
    missing_text
        Column -> words shown where the value is missing or infinite (e.g. "not reached").
    hidden
        Columns kept in the data (CSV, workbook) but not shown, e.g. the unit of each row's
        estimate when a column mixes percentage points and days.
    names
        Columns of names (agencies), shown whole: their HTML cells carry the class
        :data:`NAME_CLASS`, which the stylesheet wraps between words only (no hyphenation).
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    digits: int | Mapping[str, int] = 1
    percent: Collection[str] = ()
    units: Mapping[str, str] = field(default_factory=dict)
    intervals: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    pvalues: Collection[str] = ()
    ratios: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    missing_text: Mapping[str, str] = field(default_factory=dict)
    hidden: Collection[str] = ()
    names: Collection[str] = ()

    def unit(self, col: str) -> str | None:
        if col in self.percent:
            return "share"
        for shown, parts in self.intervals.items():
            if col in parts:
                return (
                    self.units.get(col)
                    or self.units.get(shown)
                    or ("share" if shown in self.percent else None)
                )
        return self.units.get(col)

    def kind(self, col: str, series: pd.Series) -> str:
        if col in self.percent or self.unit(col) == "share":
            return "share"
        if col in self.pvalues:
            return "pvalue"
        if pd.api.types.is_bool_dtype(series):
            return "boolean"
        values = [v for v in series.tolist() if not _is_mark(v) and not is_missing(v)]
        if values and all(isinstance(v, Integral) and not isinstance(v, bool) for v in values):
            return "integer"
        if values and all(isinstance(v, Real) and not isinstance(v, bool) for v in values):
            return "number"
        return "text"

    def col_digits(self, col: str) -> int:
        for shown, parts in {**self.intervals, **self.ratios}.items():
            if col in parts:
                return _digits(self.digits, shown)
        return _digits(self.digits, col)


def _is_mark(value: object) -> bool:
    return isinstance(value, str) and value == SUPPRESSED_MARK


def _numeric_or_none(value: object) -> object:
    if _is_mark(value) or is_missing(value):
        return None
    if isinstance(value, Real) and not isinstance(value, bool) and not math.isfinite(value):
        return None
    return value


_BOUND_WORDS = {"id": ("batas bawah", "batas atas"), "en": ("low", "high")}
# A ratio's two counts apart, when the spec names no heading for them.
_RATIO_WORDS = {"id": ("pembilang", "penyebut"), "en": ("numerator", "denominator")}
_UNIT_WORD = {"id": "Satuan", "en": "Unit"}
# A hidden column named ``<column>_unit`` holds each row's unit (a key of UNIT_WORDS).
UNIT_COLUMN_SUFFIX = "_unit"
# p-values keep significant digits: 1e-10 rounded to 6 decimals would read as 0.
_PVALUE_DIGITS = 6


def _csv_values(data: pd.DataFrame, columns: list[dict]) -> pd.DataFrame:
    """``data`` rounded for the CSV: 6 decimals, p-values 6 significant digits."""
    out = data.round(CSV_DECIMALS)
    for column in columns:
        if column["kind"] == "pvalue":
            out[column["name"]] = [
                float(f"{v:.{_PVALUE_DIGITS}g}") if isinstance(v, float) else v
                for v in data[column["name"]]
            ]
    return out


def tidy_frame(
    df: pd.DataFrame, spec: TableSpec, lang: str = DEFAULT_LANGUAGE
) -> tuple[pd.DataFrame, list[dict]]:
    """The data frame written to CSV and the workbook, and the description of its columns.

    Suppression marks become empty cells with a ``<column>_suppressed`` flag beside the
    column; infinite values (a median "not reached") become empty; column names get their
    unit suffix. Each column's description has its ``name``, heading (``label``), ``kind``
    (text, integer, number, share, pvalue, boolean), ``unit`` and ``digits``.
    """
    out: dict[str, object] = {}
    columns: list[dict] = []
    heading_of = {}
    for shown, parts in spec.intervals.items():
        heading = spec.labels.get(shown, shown)
        for part, word in zip(parts, _BOUND_WORDS[lang], strict=True):
            heading_of[part] = f"{heading} ({word})"
    for shown, parts in spec.ratios.items():
        heading = spec.labels.get(shown, shown)
        for part, word in zip(parts, _RATIO_WORDS[lang], strict=True):
            heading_of[part] = spec.labels.get(part, f"{heading} ({word})")
    for col in df.columns:
        values = df[col].tolist()
        kind = spec.kind(col, df[col])
        unit = spec.unit(col)
        name = column_name(col, unit)
        marked = [_is_mark(v) for v in values]
        if kind != "text":
            values = [_numeric_or_none(v) for v in values]
        else:
            # a withheld cell is empty in the data whatever the column holds; the flag says so
            values = [None if m else v for v, m in zip(values, marked, strict=True)]
        out[name] = pd.array(values, dtype="Int64") if kind == "integer" else values
        label = str(heading_of.get(col, spec.labels.get(col, col)))
        if col in spec.hidden and col not in spec.labels and col.endswith(UNIT_COLUMN_SUFFIX):
            label = _UNIT_WORD[lang]
        digits = spec.col_digits(col) if kind in ("number", "share") else None
        columns.append(
            {"name": name, "label": label, "kind": kind, "unit": unit or "", "digits": digits}
        )
        if any(marked):
            flag = f"{name}{SUPPRESSED_SUFFIX}"
            out[flag] = marked
            columns.append(
                {"name": flag, "label": f"{label} ({SUPPRESSED_MARK})", "kind": "boolean",
                 "unit": "", "digits": None}
            )  # fmt: skip
    return pd.DataFrame(out), columns


def display_frame(df: pd.DataFrame, spec: TableSpec, lang: str) -> pd.DataFrame:
    """The table as people read it: intervals and ratios joined, headings applied, every cell
    text in ``lang``."""
    check_language(lang)
    joined = {parts[0]: shown for shown, parts in {**spec.intervals, **spec.ratios}.items()}
    dropped = {p for parts in {**spec.intervals, **spec.ratios}.values() for p in parts[1:]}
    out: dict[str, list[str]] = {}
    for col in df.columns:
        if col in dropped or col in spec.hidden:
            continue
        if col in joined:
            shown = joined[col]
            low, high = (spec.intervals.get(shown) or spec.ratios[shown])[:2]
            cells = [
                _pair(lo, hi, lang, _digits(spec.digits, shown), shown in spec.ratios)
                for lo, hi in zip(df[low].tolist(), df[high].tolist(), strict=True)
            ]
            out[spec.labels.get(shown, shown)] = cells
            continue
        words = spec.missing_text.get(col)
        cells = []
        for value in df[col].tolist():
            if words is not None and not _is_mark(value) and _numeric_or_none(value) is None:
                cells.append(words)
            elif col in spec.pvalues and not isinstance(value, str):
                cells.append(fmt_pvalue(value, lang))
            else:
                cells.append(_cell(value, lang, _digits(spec.digits, col), col in spec.percent))
        out[spec.labels.get(col, col)] = cells
    return pd.DataFrame(out, index=df.index)


def _pair(lo: object, hi: object, lang: str, digits: int, ratio: bool) -> str:
    if _is_mark(lo) or _is_mark(hi):
        return SUPPRESSED_MARK
    if _numeric_or_none(lo) is None or _numeric_or_none(hi) is None:
        return MISSING
    if ratio:
        return f"{int(lo)}/{int(hi)}"
    return fmt_interval(lo, hi, lang, digits)


# --- views -------------------------------------------------------------------------------
def _html(
    text: pd.DataFrame, caption: str, stem: str, note: str | None, names: Collection = ()
) -> str:
    text = text.reset_index(drop=True)
    numeric = _numeric_columns(text)
    styler = (
        text.style.hide(axis="index")
        .set_uuid(stem.replace("-", "_"))
        .set_caption(escape(caption))
        .set_table_attributes('class="asn-table"')
        .format(escape="html")
        .format_index(escape="html", axis=1)
    )
    # One rule per column (heading and cells), explicit for every column so that no
    # stylesheet's default (Jupyter's, the report's) right-aligns words; a number is never
    # broken across lines ("< 0,001", "[0,02; 0,10]"); words and headings may wrap.
    right = [
        {"selector": "", "props": "text-align: right;"},
        {"selector": "td", "props": "white-space: nowrap;"},
    ]
    left = [{"selector": "", "props": "text-align: left;"}]
    styler = styler.set_table_styles({c: right if c in numeric else left for c in text.columns})
    if names:
        classes = pd.DataFrame("", index=text.index, columns=text.columns)
        classes[[c for c in text.columns if c in names]] = NAME_CLASS
        styler = styler.set_td_classes(classes)
    html = styler.to_html()
    if note:
        html += f'<p class="table-note"><small>{escape(note)}</small></p>'
    return html


def _siunitx_number(value: object, digits: int, percent: bool) -> str | None:
    """A number as siunitx reads it (decimal point, no grouping), or None for text."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        return None
    if not math.isfinite(value):
        return None
    if percent:
        value = 100 * value
    if isinstance(value, Integral):
        return str(int(value))
    # Rounded half-up like the HTML (fmt_number), so 21.25 is 21.3 in both views.
    return f"{_rounded(value, digits):f}"


def _latex(
    df: pd.DataFrame, text: pd.DataFrame, spec: TableSpec, caption: str, slug: str,
    note: str | None, lang: str,
) -> str:  # fmt: skip
    """booktabs + siunitx + tabularx: plain numeric columns become ``S`` columns holding the
    raw number (siunitx writes it for the language); the rest keep the display text."""
    text = text.reset_index(drop=True)
    df = df.reset_index(drop=True)
    shown_of = {spec.labels.get(c, c): c for c in df.columns}
    numeric = set(_numeric_columns(text))
    specs, headings, body_cols = [], [], []
    for label in text.columns:
        source = shown_of.get(label)
        plain = (
            source is not None
            and source not in spec.pvalues
            and label in numeric
            and all(
                _is_mark(v) or _numeric_or_none(v) is None or _siunitx_number(v, 0, False)
                for v in df[source].tolist()
            )
        )
        heading = latex_escape(label)
        if plain:
            percent = source in spec.percent
            digits = _digits(spec.digits, source)
            cells = []
            for value, shown in zip(df[source].tolist(), text[label].tolist(), strict=True):
                number = _siunitx_number(value, digits, percent)
                cells.append(number if number is not None else f"{{{latex_escape(shown)}}}")
            numbers = [c for c in cells if not c.startswith("{")]
            whole = max((len(c.split(".")[0].lstrip("-")) for c in numbers), default=1)
            decimals = max((len(c.split(".")[1]) for c in numbers if "." in c), default=0)
            sign = "-" if any(c.startswith("-") for c in numbers) else ""
            specs.append(f"S[table-format={sign}{whole}.{decimals}]")
            suffix = r" (\%)" if percent else ""
            headings.append(f"{{{heading}{suffix}}}")
            body_cols.append(cells)
        else:
            cells = [latex_escape(v) for v in text[label].tolist()]
            longest = max([len(str(label)), *(len(str(v)) for v in text[label].tolist())])
            if label in numeric:
                specs.append("r")
            elif longest > _WRAP_AT:
                specs.append(r">{\raggedright\arraybackslash}X")
            else:
                specs.append("l")
            headings.append(heading)
            body_cols.append(cells)
    wide = any("X" in s for s in specs)
    begin = (
        rf"\begin{{tabularx}}{{\linewidth}}{{{''.join(specs)}}}"
        if wide
        else rf"\begin{{tabular}}{{{''.join(specs)}}}"
    )
    end = r"\end{tabularx}" if wide else r"\end{tabular}"
    lines = [
        f"% Needs \\usepackage{{{','.join(LATEX_PACKAGES)}}}",
        r"\begin{table}",
        r"\centering",
        _SIUNITX_LOCALE[lang],
        rf"\caption{{{latex_escape(caption)}}}",
        rf"\label{{tab:{slug}}}",
        begin,
        r"\toprule",
        " & ".join(headings) + r" \\",
        r"\midrule",
    ]
    for row in zip(*body_cols, strict=True):
        lines.append(" & ".join(row) + r" \\")
    lines += [r"\bottomrule", end]
    if note:
        lines.append(rf"\par\footnotesize {latex_escape(note)}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SavedTable:
    """A table written to disk; displays as its captioned HTML in a notebook."""

    paths: dict[str, Path]
    chapter: str
    number: int
    caption: str
    html: str
    relative_csv: str
    data: pd.DataFrame | None = None

    @property
    def anchor(self) -> str:
        """The table's anchor in the report (``tab-3-1``), from its registry number."""
        return f"tab-{self.chapter}-{self.number}"

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"{self.caption} ({self.relative_csv})"


def anchor_caption(table_html: str, anchor: str) -> str:
    """The table's HTML (:func:`_html`) with ``anchor`` on its caption, as the report prints it.

    A string replacement, not a parse: pandas' Styler has no way to set the caption's
    attributes, and :func:`_html` writes exactly one bare ``<caption>``, first in the table.
    """
    return table_html.replace("<caption>", f'<caption id="{anchor}">', 1)


def _name_labels(spec: TableSpec) -> list[str]:
    """Headings of the name columns as the display frame has them."""
    return [str(spec.labels.get(c, c)) for c in spec.names]


def _spec(
    spec: TableSpec | None,
    digits: int | Mapping[str, int],
    percent: Collection[str],
) -> TableSpec:
    if spec is not None:
        return spec
    return TableSpec(digits=digits, percent=tuple(percent))


def display_table(
    df: pd.DataFrame,
    chapter: int | str,
    number: int,
    caption: str,
    lang: str = DEFAULT_LANGUAGE,
    *,
    digits: int | Mapping[str, int] = 1,
    percent: Collection[str] = (),
    note: str | None = None,
    slug: str = "table",
    spec: TableSpec | None = None,
):
    """The table as notebook HTML with a numbered caption and a fixed Styler uuid.

    Returns an ``IPython.display.HTML`` object (plain ``str`` HTML is in ``.data``).
    """
    from IPython.display import HTML

    check_language(lang)
    spec = _spec(spec, digits, percent)
    stem = table_stem(chapter, number, slug)
    full_caption = table_caption(chapter, number, caption, lang)
    text = display_frame(df, spec, lang)
    return HTML(_html(text, full_caption, stem, note, _name_labels(spec)))


def save_table(
    df: pd.DataFrame,
    output_dir: str | Path,
    chapter: int | str,
    number: int,
    slug: str,
    caption: str,
    lang: str = DEFAULT_LANGUAGE,
    *,
    digits: int | Mapping[str, int] = 1,
    percent: Collection[str] = (),
    note: str | None = None,
    spec: TableSpec | None = None,
) -> SavedTable:
    """Write ``tables/<chapter>-<number>_<slug>.csv`` and ``.tex``, and stage the table's
    ``datapackage.json`` resource; return a record that displays as the captioned HTML.

    Parameters
    ----------
    df
        The table as data; one row per agency, year or group, never per person (see
        :mod:`asn_eval.domain.privacy`). Its index is dropped: reset it first to keep it.
    output_dir
        The report's output folder; files go to its ``tables/`` subfolder.
    chapter, number, slug
        Chapter, table number within the chapter (from 1), and file-name label.
    caption
        Caption text without the number.
    lang
        ``"id"`` or ``"en"``: language of the LaTeX and HTML display (the CSV holds values).
    digits, percent
        Display format, as in :func:`format_frame` (shortcut for ``spec``).
    note
        Footnote under the table (e.g. the small-cell suppression note).
    spec
        Headings, decimals and column kinds (:class:`TableSpec`); overrides ``digits`` and
        ``percent``.
    """
    check_language(lang)
    spec = _spec(spec, digits, percent)
    df = df.reset_index(drop=True)
    stem = table_stem(chapter, number, slug)
    full_caption = table_caption(chapter, number, caption, lang)
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, tex_path = folder / f"{stem}.csv", folder / f"{stem}.tex"
    data, columns = tidy_frame(df, spec, lang)
    text = display_frame(df, spec, lang)
    # Text cells such as an agency name starting with "=" are written so that a spreadsheet
    # shows them as text instead of running them (OWASP CSV injection).
    written = safe_cells(_csv_values(data, columns))
    written.to_csv(csv_path, index=False, encoding="utf-8", lineterminator="\n")
    tex_path.write_text(_latex(df, text, spec, caption, slug, note, lang), encoding="utf-8")
    relative_csv = f"tables/{stem}.csv"
    resource = table_resource(
        name=stem, path=relative_csv, title=full_caption, caption=caption, note=note,
        columns=columns, data=written, chapter=str(chapter), number=int(number), slug=slug,
    )  # fmt: skip
    stage_resource(output_dir, resource)
    return SavedTable(
        paths={"csv": csv_path, "tex": tex_path},
        chapter=str(chapter),
        number=int(number),
        caption=full_caption,
        html=_html(text, full_caption, stem, note, _name_labels(spec)),
        relative_csv=relative_csv,
        data=data,
    )


class TableRegistry:
    """Numbers one chapter's tables in the order they are saved."""

    def __init__(self, output_dir: str | Path, chapter: int | str, lang: str = DEFAULT_LANGUAGE):
        self.output_dir = Path(output_dir)
        self.chapter = chapter
        self.lang = check_language(lang)
        self.tables: list[SavedTable] = []

    @property
    def next_number(self) -> int:
        return len(self.tables) + 1

    def save(self, df: pd.DataFrame, slug: str, caption: str, **kwargs) -> SavedTable:
        """Save ``df`` as the chapter's next table (keyword arguments go to :func:`save_table`)."""
        saved = save_table(
            df, self.output_dir, self.chapter, self.next_number, slug, caption, self.lang, **kwargs
        )
        self.tables.append(saved)
        return saved
