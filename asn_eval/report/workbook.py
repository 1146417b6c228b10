"""``tables.xlsx`` (``tabel.xlsx`` in Indonesian): every table of the report in one workbook.

The workbook is built from what the chapters saved, so it holds the same numbers as the CSVs:
each ``tables/<stem>.csv`` with its description ``tables/<stem>.json`` (written by
:func:`asn_eval.report.tables.save_table`) becomes one sheet, after a contents sheet. A sheet has
the caption in its first row, the column headings of the report in the header row (frozen), the
numbers as numbers with Excel number formats (``'#,##0.00'``, ``'0.0%'``: Excel shows them
with the separators of the user's own locale, so 1.234,5 in an Indonesian Excel), cells
withheld for privacy marked ``*`` in place of an empty cell, the note under the table, and
column widths set. Text that a spreadsheet would run as a formula is quoted
(:func:`asn_eval.common.csv_safety.safe_cells`).

A sheet that is not a numbered table (an annex) is added with :func:`add_sheet`, which writes
the same pair of files under ``tables/sheets/`` (so ``tables/*.csv`` stay the numbered
tables); numbered tables come first in the workbook, in chapter order, then the others by
name.

Examples
--------
>>> from pathlib import Path
>>> workbook_name("id"), workbook_name("en")
('tabel.xlsx', 'tables.xlsx')
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path

import pandas as pd

from asn_eval.common.csv_safety import safe_cells
from asn_eval.common.formatting import DEFAULT_LANGUAGE, check_language
from asn_eval.domain.privacy import SUPPRESSED_MARK
from asn_eval.report.tables import (
    SUPPRESSED_SUFFIX,
    TableSpec,
    read_table_csv,
    tidy_frame,
    units_line,
)

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


def number_format(column: Mapping) -> str:
    """Excel number format of a described column (see :func:`asn_eval.report.tables.tidy_frame`)."""
    kind, digits = column.get("kind"), column.get("digits")
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

    Writes ``tables/sheets/<key>.csv`` and ``.json`` in the format of the numbered
    tables; :func:`write_workbook` turns them into a sheet named ``key`` at the end of the run.
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
    with open(csv_path, "w", encoding="utf-8", newline="") as handle:
        handle.write(units_line(columns) + "\n")
        safe_cells(data).to_csv(handle, index=False, lineterminator="\n")
    description = {
        "stem": key, "chapter": "", "number": None, "slug": key, "lang": lang,
        "caption": title, "numbered_caption": title, "note": note or "", "columns": columns,
    }  # fmt: skip
    (folder / f"{key}.json").write_text(
        json.dumps(description, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return csv_path


def _order(stem: str) -> tuple:
    match = _NUMBERED.match(stem)
    if match:
        return (0, int(match.group(1)), int(match.group(2)), stem)
    return (1, 0, 0, stem)


def table_sources(output_dir: str | Path) -> list[tuple[Path, dict]]:
    """``(csv path, description)`` of every saved table, in workbook order."""
    folder = Path(output_dir) / "tables"
    found = []
    for described in sorted([*folder.glob("*.json"), *folder.glob("sheets/*.json")]):
        csv_path = described.with_suffix(".csv")
        if csv_path.exists():
            found.append((csv_path, json.loads(described.read_text(encoding="utf-8"))))
    return sorted(found, key=lambda pair: _order(pair[1]["stem"]))


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
    """Write ``tabel.xlsx``/``tables.xlsx`` into ``output_dir`` from its saved tables.

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
    for csv_path, meta in sources:
        data = safe_cells(read_table_csv(csv_path))
        name = _sheet_name(meta["stem"])
        sheet = book.create_sheet(name)
        sheet.append([meta["numbered_caption"]])
        sheet["A1"].font = bold
        columns = meta["columns"]
        flags = {c["name"] for c in columns if c["name"].endswith(SUPPRESSED_SUFFIX)}
        shown = [c for c in columns if c["name"] not in flags]
        sheet.append([c["label"] for c in shown])
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
        if meta.get("note"):
            sheet.append([])
            sheet.append([meta["note"]])
        sheet.freeze_panes = "A3"
        for j, column in enumerate(shown, start=1):
            longest = max(
                [len(str(column["label"])), *(len(str(v)) for v in data.get(column["name"], []))]
            )
            sheet.column_dimensions[get_column_letter(j)].width = min(_MAX_WIDTH, longest + 2)
        contents.append([name, meta["stem"], meta["caption"], meta.get("note", "")])
        contents.cell(row=contents.max_row, column=1).hyperlink = f"#'{name}'!A1"
    for j, width in enumerate((10, 34, 70, 50), start=1):
        contents.column_dimensions[get_column_letter(j)].width = width
    path = Path(output_dir) / workbook_name(lang)
    book.save(path)
    return path
