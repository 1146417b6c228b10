"""Numbered tables: CSV for reuse, LaTeX (booktabs) for print, HTML for the notebooks.

:func:`save_table` writes ``tables/<chapter>-<number>_<slug>.csv`` (the values themselves,
machine-readable, decimal point) and ``.tex`` (numbers written for the report's language,
booktabs rules); :func:`display_table` gives the same table as notebook HTML, captioned
"Tabel 2.1. ..." or "Table 2.1. ...". The HTML uses a fixed Styler uuid derived from the table
number, so the notebook output is identical on every run (CI compares it).

Cells that :func:`asn_eval.privacy.suppress_small_cells` replaced by a mark (a string) are
passed through unchanged; every other number is written with :mod:`asn_eval.formatting`.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"agency": ["Dinas A"], "jp": [1234.5]})
>>> format_frame(frame, "id").iloc[0, 1]
'1.234,5'
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from html import escape
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from asn_eval.formatting import (
    DEFAULT_LANGUAGE,
    MISSING,
    check_language,
    fmt_date,
    fmt_number,
    fmt_percent,
    is_missing,
)
from asn_eval.safe_output import write_csv_safely

_CAPTION_WORD = {"id": "Tabel", "en": "Table"}
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
# CSV keeps values, not display strings; rounding to 6 decimals removes floating-point noise
# (0.30000000000000004) that would otherwise make files differ across platforms.
CSV_DECIMALS = 6
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


def table_caption(chapter: int | str, number: int, text: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """Numbered caption: ``"Tabel 2.1. text"`` (id) or ``"Table 2.1. text"`` (en)."""
    check_language(lang)
    return f"{_CAPTION_WORD[lang]} {chapter}.{number}. {text}"


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
        col_digits = digits.get(col, 1) if isinstance(digits, Mapping) else digits
        out[col] = [_cell(v, lang, col_digits, col in percent) for v in df[col].tolist()]
    return pd.DataFrame(out, columns=df.columns, index=df.index)


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


def _html(
    df: pd.DataFrame,
    caption: str,
    lang: str,
    stem: str,
    digits: int | Mapping[str, int],
    percent: Collection[str],
    note: str | None,
) -> str:
    text = format_frame(df, lang, digits=digits, percent=percent).reset_index(drop=True)
    numeric = _numeric_columns(df)
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
    styler = styler.set_table_styles({c: right if c in numeric else left for c in df.columns})
    html = styler.to_html()
    if note:
        html += f'<p class="table-note"><small>{escape(note)}</small></p>'
    return html


def _latex(
    df: pd.DataFrame,
    caption: str,
    lang: str,
    stem: str,
    digits: int | Mapping[str, int],
    percent: Collection[str],
    note: str | None,
) -> str:
    text = format_frame(df, lang, digits=digits, percent=percent).reset_index(drop=True)
    numeric = set(_numeric_columns(df))
    column_format = "".join("r" if c in numeric else "l" for c in df.columns)
    styler = (
        text.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    )
    latex = styler.to_latex(
        hrules=True,
        caption=latex_escape(caption),
        label=f"tab:{stem}",
        column_format=column_format,
        position_float="centering",
    )
    if note:
        latex = latex.replace(
            "\\end{table}", f"\\par\\footnotesize {latex_escape(note)}\n\\end{{table}}"
        )
    return latex


@dataclass(frozen=True)
class SavedTable:
    """A table written to disk; displays as its captioned HTML in a notebook."""

    paths: dict[str, Path]
    chapter: str
    number: int
    caption: str
    html: str
    relative_csv: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"{self.caption} ({self.relative_csv})"


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
):
    """The table as notebook HTML with a numbered caption and a fixed Styler uuid.

    Returns an ``IPython.display.HTML`` object (plain ``str`` HTML is in ``.data``).
    """
    from IPython.display import HTML

    check_language(lang)
    stem = table_stem(chapter, number, slug)
    full_caption = table_caption(chapter, number, caption, lang)
    return HTML(_html(df, full_caption, lang, stem, digits, percent, note))


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
) -> SavedTable:
    """Write ``tables/<chapter>-<number>_<slug>.csv`` and ``.tex``; return a displayable record.

    Parameters
    ----------
    df
        The table; one row per agency, year or group, never per person (see
        :mod:`asn_eval.privacy`). Its index is dropped: reset it first to keep it.
    output_dir
        The report's output folder; files go to its ``tables/`` subfolder.
    chapter, number, slug
        Chapter, table number within the chapter (from 1), and file-name label.
    caption
        Caption text without the number.
    lang
        ``"id"`` or ``"en"``: language of the LaTeX and HTML display (the CSV holds values).
    digits, percent
        Display format, as in :func:`format_frame`.
    note
        Footnote under the table (e.g. the small-cell suppression note).
    """
    check_language(lang)
    stem = table_stem(chapter, number, slug)
    full_caption = table_caption(chapter, number, caption, lang)
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, tex_path = folder / f"{stem}.csv", folder / f"{stem}.tex"
    # Text cells such as an agency name starting with "=" are written so that a spreadsheet
    # shows them as text instead of running them (OWASP CSV injection).
    write_csv_safely(
        df.reset_index(drop=True).round(CSV_DECIMALS),
        csv_path,
        lineterminator="\n",
        encoding="utf-8",
    )
    tex_path.write_text(
        _latex(df, full_caption, lang, stem, digits, percent, note), encoding="utf-8"
    )
    return SavedTable(
        paths={"csv": csv_path, "tex": tex_path},
        chapter=str(chapter),
        number=int(number),
        caption=full_caption,
        html=_html(df, full_caption, lang, stem, digits, percent, note),
        relative_csv=f"tables/{stem}.csv",
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
