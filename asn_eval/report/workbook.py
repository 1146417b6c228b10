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
from asn_eval.report.datapackage import (
    MISSING_VALUES,
    SUPPRESSED_SUFFIX,
    read_data_package,
    stage_resource,
    table_resource,
)
from asn_eval.report.tables import TableSpec, tidy_frame

WORKBOOK_NAME = {"id": "tabel.xlsx", "en": "tables.xlsx"}
_CONTENTS = {
    "id": ("Daftar isi", "Lembar", "Tabel", "Judul", "Catatan"),
    "en": ("Contents", "Sheet", "Table", "Caption", "Note"),
}
_NUMBERED = re.compile(r"^(\d+)-(\d+)_")
_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")
# Excel limits a sheet name to 31 characters.
_SHEET_NAME_MAX = 31
_MAX_WIDTH = 60


def workbook_name(lang: str = DEFAULT_LANGUAGE) -> str:
    """File name of the workbook in ``lang``: ``tabel.xlsx`` or ``tables.xlsx``."""
    return WORKBOOK_NAME[check_language(lang)]


def number_format(field: Mapping) -> str:
    """Excel number format of a field of ``datapackage.json`` (its ``kind`` and ``decimals``)."""
    kind, digits = field.get("kind"), field.get("decimals")
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
    ``datapackage.json`` resource; :func:`write_workbook` turns it into a sheet named ``key``
    at the end of the run.
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
    """``(csv path, resource)`` of every saved table, in workbook order, from the folder's
    ``datapackage.json`` (empty when it has none)."""
    package = read_data_package(output_dir)
    if package is None:
        return []
    return [(Path(output_dir) / r["path"], r) for r in package["resources"]]


def _sheet_name(stem: str) -> str:
    match = _NUMBERED.match(stem)
    name = f"{match.group(1)}.{match.group(2)}" if match else stem
    return name[:_SHEET_NAME_MAX]


def _value(value: object) -> object:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def write_workbook(output_dir: str | Path, *, lang: str = DEFAULT_LANGUAGE) -> Path | None:
    """Write ``tabel.xlsx``/``tables.xlsx`` into ``output_dir`` from the tables its
    ``datapackage.json`` describes (:func:`asn_eval.report.datapackage.write_data_package`).

    Returns the path, or None when the report saved no table.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    check_language(lang)
    sources = table_sources(output_dir)
    if not sources:
        return None
    book = Workbook()
    contents = book.active
    title, sheet_word, table_word, caption_word, note_word = _CONTENTS[lang]
    contents.title = title
    contents.append([sheet_word, table_word, caption_word, note_word])
    for cell in contents[1]:
        cell.font = Font(bold=True)
    contents.freeze_panes = "A2"
    bold = Font(bold=True)
    for csv_path, resource in sources:
        # the package's missing values only: a text cell "NA" stays text
        read = pd.read_csv(csv_path, keep_default_na=False, na_values=MISSING_VALUES)
        data = safe_cells(read)
        name = _sheet_name(resource["name"])
        sheet = book.create_sheet(name)
        sheet.append([resource["title"]])
        sheet["A1"].font = bold
        columns = resource["schema"]["fields"]
        flags = {c["name"] for c in columns if c["name"].endswith(SUPPRESSED_SUFFIX)}
        shown = [c for c in columns if c["name"] not in flags]
        sheet.append([c["title"] for c in shown])
        for cell in sheet[2]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for i, row in enumerate(data.itertuples(index=False)):
            values = dict(zip(data.columns, row, strict=True))
            cells = []
            for column in shown:
                flag = f"{column['name']}{SUPPRESSED_SUFFIX}"
                withheld = flag in values and bool(values[flag])
                cells.append(SUPPRESSED_MARK if withheld else _value(values.get(column["name"])))
            sheet.append(cells)
            for j, column in enumerate(shown, start=1):
                sheet.cell(row=i + 3, column=j).number_format = number_format(column)
        if resource.get("description"):
            sheet.append([])
            sheet.append([resource["description"]])
        sheet.freeze_panes = "A3"
        for j, column in enumerate(shown, start=1):
            longest = max(
                [len(str(column["title"])), *(len(str(v)) for v in data.get(column["name"], []))]
            )
            sheet.column_dimensions[get_column_letter(j)].width = min(_MAX_WIDTH, longest + 2)
        contents.append(
            [name, resource["name"], resource["caption"], resource.get("description", "")]
        )
        contents.cell(row=contents.max_row, column=1).hyperlink = f"#'{name}'!A1"
    for j, width in enumerate((10, 34, 70, 50), start=1):
        contents.column_dimensions[get_column_letter(j)].width = width
    path = Path(output_dir) / workbook_name(lang)
    book.save(path)
    return path
