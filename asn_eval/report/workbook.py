"""``tables.xlsx`` (``tabel.xlsx`` in Indonesian): every table of the report in one workbook.

The workbook is built from what the chapters saved, so it holds the same numbers as the CSVs:
each ``tables/<stem>.csv`` with its resource in ``datapackage.json``
(:mod:`asn_eval.report.datapackage`, from :func:`asn_eval.report.tables.save_table`) becomes one
sheet, after a contents sheet. A sheet has
the caption in its first row, the column headings of the report in the header row (frozen), the
numbers as numbers with Excel number formats (``'#,##0.00'``, ``'0.0%'``: Excel shows them
with the separators of the user's own locale, so 1.234,5 in an Indonesian Excel), cells
withheld for privacy marked ``*`` in place of an empty cell, the note under the table, and
column widths set. Text that a spreadsheet would run as a formula is quoted
(:func:`asn_eval.common.csv_safety.safe_cells`).

A sheet that is not a numbered table (an annex) is added with :func:`add_sheet`, which writes
its CSV under ``tables/sheets/`` (so ``tables/*.csv`` stay the numbered tables) and describes
it in ``datapackage.json`` like a table; numbered tables come first in the workbook, in
chapter order, then the others by name (the package's order).

The workbook is for people, in the report's language; file stems and snake_case names stay
in the CSVs. A numbered table's sheet is named as the report names the table ("Tabel 2.1",
:func:`sheet_name`), an annex's by its title; the contents sheet lists each table's number,
caption and a link to its sheet. Column headings are the report's (:func:`heading`) with the
column's unit in words of the language ("Efek (poin persentase)", "Median usia (tahun)"),
from the templates' ``unit`` texts, which also replace the unit codes of a ``<column>_unit``
column ("pp", "days") in its cells.

Examples
--------
>>> from pathlib import Path
>>> workbook_name("id"), workbook_name("en")
('tabel.xlsx', 'tables.xlsx')
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path

import pandas as pd

from asn_eval.common.csv_safety import safe_cells
from asn_eval.common.formatting import DEFAULT_LANGUAGE, check_language
from asn_eval.domain.privacy import SUPPRESSED_MARK
from asn_eval.report import narrative
from asn_eval.report.datapackage import (
    MISSING_VALUES,
    SUPPRESSED_SUFFIX,
    UNIT_WORDS,
    read_data_package,
    stage_resource,
    table_resource,
)
from asn_eval.report.tables import UNIT_COLUMN_SUFFIX, TableSpec, table_label, tidy_frame

WORKBOOK_NAME = {"id": "tabel.xlsx", "en": "tables.xlsx"}
# The contents sheet: its name and its column headings.
_CONTENTS = {
    "id": ("Daftar isi", "Tabel", "Judul", "Lembar", "Catatan"),
    "en": ("Contents", "Table", "Caption", "Sheet", "Note"),
}
_NUMBERED = re.compile(r"^(\d+)-(\d+)_")
_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")
# Excel limits a sheet name to 31 characters, none of them []:*?/\ , and tells names apart
# without regard to case.
_SHEET_NAME_MAX = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 60
# Units a heading does not repeat: shares are shown as percentages (the cells' format).
_UNSPOKEN_UNITS = frozenset({"", "share"})
# datapackage.json names a field's unit in words ("days"); the workbook speaks its code's.
_UNIT_CODES = {words: code for code, words in UNIT_WORDS.items()}


def workbook_name(lang: str = DEFAULT_LANGUAGE) -> str:
    """File name of the workbook in ``lang``: ``tabel.xlsx`` or ``tables.xlsx``."""
    return WORKBOOK_NAME[check_language(lang)]


def number_format(column: Mapping) -> str:
    """Excel number format of a described column (:func:`asn_eval.report.tables.tidy_frame`'s
    ``digits``, or a ``datapackage.json`` field's ``decimals``)."""
    kind = column.get("kind")
    digits = column.get("digits", column.get("decimals"))
    if kind == "share":
        return "0" + ("." + "0" * int(digits) if digits else "") + "%"
    if kind == "pvalue":
        return "0.000"
    if kind == "integer":
        return "#,##0"
    if kind == "number":
        return "#,##0" + ("." + "0" * int(digits) if digits else "")
    return "General"


def add_sheet(
    frame: pd.DataFrame,
    output_dir: str | Path,
    *,
    key: str,
    title: str,
    lang: str = DEFAULT_LANGUAGE,
    note: str = "",
    labels: Mapping[str, str] | None = None,
    digits: int | Mapping[str, int] = 1,
    percent: Collection[str] = (),
    units: Mapping[str, str] | None = None,
) -> Path:
    """Add a sheet that is not a numbered table (e.g. an annex) to the run's workbook.

    Writes ``tables/sheets/<key>.csv`` in the format of the numbered tables and stages its
    ``datapackage.json`` resource; :func:`write_workbook` turns it into a sheet (named by its
    title) at the end of the run.
    ``frame`` is data, as for :func:`asn_eval.report.tables.save_table`: numbers as numbers, shares
    0-1, cells withheld for privacy holding :data:`asn_eval.domain.privacy.SUPPRESSED_MARK`.
    Returns the CSV's path.
    """
    check_language(lang)
    if not _KEY.match(key) or len(key) > _SHEET_NAME_MAX:
        raise ValueError(
            f"Workbook sheet key {key!r} must start with a lower-case letter, hold only "
            f"letters, digits, '_' or '-', and be at most {_SHEET_NAME_MAX} characters."
        )
    spec = TableSpec(
        labels=dict(labels or {}), digits=digits, percent=tuple(percent), units=dict(units or {})
    )
    data, columns = tidy_frame(frame.reset_index(drop=True), spec, lang)
    folder = Path(output_dir) / "tables" / "sheets"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{key}.csv"
    written = safe_cells(data)
    written.to_csv(csv_path, index=False, encoding="utf-8", lineterminator="\n")
    resource = table_resource(
        name=key, path=f"tables/sheets/{key}.csv", title=title, caption=title, note=note,
        columns=columns, data=written,
    )  # fmt: skip
    stage_resource(output_dir, resource)
    return csv_path


def table_sources(output_dir: str | Path) -> list[tuple[Path, dict]]:
    """``(csv path, description)`` of every saved table, in workbook order, from the folder's
    ``datapackage.json`` (empty when it has none): each resource as :func:`sheet_name` and
    :func:`heading` read it (``stem``, ``chapter``, ``number``, ``caption``,
    ``numbered_caption``, ``note`` and ``columns`` with ``label``, ``unit`` code and ``kind``)."""
    package = read_data_package(output_dir)
    if package is None:
        return []
    return [(Path(output_dir) / r["path"], _description(r)) for r in package["resources"]]


def _description(resource: Mapping) -> dict:
    columns = [
        {
            "name": f["name"],
            "label": f.get("title", f["name"]),
            "unit": _UNIT_CODES.get(f.get("unit") or "", f.get("unit") or ""),
            "kind": f.get("kind", "text"),
            "digits": f.get("decimals"),
        }
        for f in resource["schema"]["fields"]
    ]
    return {
        "stem": resource["name"],
        "chapter": resource.get("chapter", ""),
        "number": resource.get("number"),
        "caption": resource.get("caption", resource["title"]),
        "numbered_caption": resource["title"],
        "note": resource.get("description", ""),
        "columns": columns,
    }


def sheet_name(meta: Mapping, lang: str = DEFAULT_LANGUAGE, taken: Collection[str] = ()) -> str:
    """The sheet name of a saved table: ``"Tabel 2.1"`` (``"Table 2.1"``) for a numbered
    table, an annex's title otherwise; at most 31 characters (a long title is cut after a
    word), without the characters Excel refuses, and unlike every name in ``taken`` (Excel
    ignores case), with `` (2)``, `` (3)``, ... added where needed.

    Examples
    --------
    >>> sheet_name({"stem": "2-1_adoption_cohorts", "chapter": "2", "number": 1}, "id")
    'Tabel 2.1'
    >>> sheet_name({"stem": "annex", "caption": "Rapor: semua perangkat daerah/unit"}, "en")
    'Rapor semua perangkat daerah…'
    """
    match = _NUMBERED.match(str(meta.get("stem", "")))
    if meta.get("number") and match:
        name = table_label(meta.get("chapter") or match.group(1), int(meta["number"]), lang)
    else:
        title = meta.get("caption") or meta.get("stem") or "Sheet"
        name = " ".join(_SHEET_NAME_FORBIDDEN.sub(" ", str(title)).split()).strip("'")
    if len(name) > _SHEET_NAME_MAX:
        cut = name[: _SHEET_NAME_MAX - 1].rsplit(" ", 1)[0] if " " in name else name
        name = cut[: _SHEET_NAME_MAX - 1].rstrip(" ,;.") + "\u2026"
    used = {t.casefold() for t in taken}
    base, n = name, 1
    while name.casefold() in used:
        n += 1
        suffix = f" ({n})"
        name = base[: _SHEET_NAME_MAX - len(suffix)] + suffix
    return name


def unit_words(unit: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A unit code of the tables (:data:`asn_eval.report.tables.UNIT_WORDS`) in words of
    ``lang``, from the templates' ``unit`` texts: ``unit_words("pp", "id")`` is
    ``"poin persentase"``."""
    return narrative.label("unit", unit, lang) if unit else ""


def heading(column: Mapping, lang: str = DEFAULT_LANGUAGE) -> str:
    """A column's heading in the workbook: the report's heading with the column's unit in
    words, unless the heading already says it (``"Anggaran (Rp)"``) or the unit is a share
    (the cells show percentages).

    Examples
    --------
    >>> heading({"label": "Median usia", "unit": "years", "kind": "number"}, "id")
    'Median usia (tahun)'
    >>> heading({"label": "Selang 95% (batas bawah)", "unit": "pp", "kind": "number"}, "en")
    'Selang 95% (batas bawah, percentage points)'
    """
    label, unit = str(column["label"]), column.get("unit") or ""
    if unit in _UNSPOKEN_UNITS or column.get("kind") not in ("integer", "number"):
        return label
    words = unit_words(unit, lang)
    if not words or words.casefold() in label.casefold():
        return label
    if label.endswith(")"):
        return f"{label[:-1]}, {words})"
    return f"{label} ({words})"


def _is_unit_column(column: Mapping) -> bool:
    """Whether a column's cells name the unit of each row (``estimate_unit``: "pp", "days")."""
    return column.get("kind") == "text" and str(column["name"]).endswith(UNIT_COLUMN_SUFFIX)


def _value(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def write_workbook(output_dir: str | Path, *, lang: str = DEFAULT_LANGUAGE) -> Path | None:
    """Write ``tabel.xlsx``/``tables.xlsx`` into ``output_dir`` from its saved tables.

    Returns the path, or None when the report saved no table.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    check_language(lang)
    sources = table_sources(output_dir)
    if not sources:
        return None
    book = Workbook()
    contents = book.active
    title, *words = _CONTENTS[lang]
    contents.title = title
    contents.append(words)
    for cell in contents[1]:
        cell.font = Font(bold=True)
    contents.freeze_panes = "A2"
    bold = Font(bold=True)
    for csv_path, meta in sources:
        # the package's missing values only: a text cell "NA" stays text
        read = pd.read_csv(csv_path, keep_default_na=False, na_values=MISSING_VALUES)
        data = safe_cells(read)
        name = sheet_name(meta, lang, taken=book.sheetnames)
        sheet = book.create_sheet(name)
        sheet.append([meta["numbered_caption"]])
        sheet["A1"].font = bold
        columns = meta["columns"]
        flags = {c["name"] for c in columns if c["name"].endswith(SUPPRESSED_SUFFIX)}
        shown = [c for c in columns if c["name"] not in flags]
        headings = [heading(c, lang) for c in shown]
        sheet.append(headings)
        for cell in sheet[2]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for i, row in enumerate(data.itertuples(index=False)):
            values = dict(zip(data.columns, row, strict=True))
            cells = []
            for column in shown:
                flag = f"{column['name']}{SUPPRESSED_SUFFIX}"
                withheld = flag in values and bool(values[flag])
                value = _value(values.get(column["name"]))
                if _is_unit_column(column) and isinstance(value, str):
                    value = unit_words(value, lang)
                cells.append(SUPPRESSED_MARK if withheld else value)
            sheet.append(cells)
            for j, column in enumerate(shown, start=1):
                sheet.cell(row=i + 3, column=j).number_format = number_format(column)
        if meta.get("note"):
            sheet.append([])
            sheet.append([meta["note"]])
        sheet.freeze_panes = "A3"
        for j, (column, text) in enumerate(zip(shown, headings, strict=True), start=1):
            longest = max([len(text), *(len(str(v)) for v in data.get(column["name"], []))])
            sheet.column_dimensions[get_column_letter(j)].width = min(_MAX_WIDTH, longest + 2)
        number = f"{meta['chapter']}.{meta['number']}" if meta.get("number") else ""
        contents.append([number, meta["caption"], name, meta.get("note", "")])
        link = contents.cell(row=contents.max_row, column=3)
        # a link within the workbook (a location, not an external target)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{name}'!A1")
        link.style = "Hyperlink"
    for j, width in enumerate((8, 70, 24, 50), start=1):
        contents.column_dimensions[get_column_letter(j)].width = width
    path = Path(output_dir) / workbook_name(lang)
    book.save(path)
    return path
