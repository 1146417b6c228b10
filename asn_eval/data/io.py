"""Reading office exports and Indonesian number/date formats, both ways.

Parsers are vectorised and never raise on a bad cell: they return the parsed values and a
boolean mask of cells that could not be parsed, so that validation can write each bad
cell to the rejects file instead of losing the row silently.
"""

from __future__ import annotations

import csv
import io
import numbers
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# Re-exported: the data layer writes rejects.csv and quality.csv with these.
from asn_eval.common.csv_safety import safe_cells as safe_cells
from asn_eval.common.csv_safety import write_csv_safely as write_csv_safely

from .contract import NULL_SPELLINGS
from .errors import DataError
from .messages import Message

READ_EXTENSIONS: tuple[str, ...] = (".csv", ".xlsx", ".parquet")
FIRST_DATA_LINE = 2  # line 1 of a CSV/Excel sheet is the header

MONTHS_ID: tuple[str, ...] = (
    "januari", "februari", "maret", "april", "mei", "juni",
    "juli", "agustus", "september", "oktober", "november", "desember",
)  # fmt: skip
_MONTH_LOOKUP = {name: i + 1 for i, name in enumerate(MONTHS_ID)}
_MONTH_LOOKUP.update({name[:3]: i + 1 for i, name in enumerate(MONTHS_ID)})
_MONTH_LOOKUP.update({"agu": 8, "agt": 8, "ags": 8, "okt": 10, "des": 12, "nop": 11, "peb": 2})
_MONTH_LOOKUP.update(
    {"january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7, "august": 8,
     "october": 10, "december": 12}
)  # fmt: skip


# --- reading -----------------------------------------------------------------------
def find_table_file(data_dir: Path, table: str, file_name: str | None = None) -> Path | None:
    """The file holding ``table`` in ``data_dir`` (``<table>.csv|.xlsx|.parquet``).

    The name is matched ignoring case (``Employees.XLSX``). Two files for one table
    (``employees.csv`` and ``employees.xlsx``) raise :class:`DataError` naming both: which
    one is the current export is the user's decision, not the loader's.
    """
    if file_name:
        path = data_dir / file_name
        return path if path.exists() else None
    wanted = {f"{table}{ext}" for ext in READ_EXTENSIONS}
    found = sorted(p for p in data_dir.iterdir() if p.name.lower() in wanted and p.is_file())
    if len(found) > 1:
        names = [p.name for p in found]
        raise DataError(
            Message("io.two_files", table=table, count=len(found), folder=data_dir, names=names)
        )
    return found[0] if found else None


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _decode(path: Path, raw: bytes) -> str:
    """Text of a CSV file: UTF-8 (with or without BOM), else Windows-1252.

    A file that is UTF-8 (it has a BOM or correctly encoded accented letters) but holds a
    byte that is not UTF-8 is refused with the line of that byte: read as Windows-1252 it
    would garble every other accented letter, read as UTF-8 it would lose one.
    """
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        if (
            bom
            or _UTF8_SEQUENCE.search(body[: error.start])
            or _UTF8_SEQUENCE.search(body[error.end :])
        ):
            byte = body[error.start]
            line = body[: error.start].count(b"\n") + 1
            char = bytes([byte]).decode("cp1252", errors="replace")
            raise DataError(
                Message("io.not_utf8", file=path.name, line=line, byte=byte, char=char)
            ) from None
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise DataError(Message("io.not_text", file=path.name)) from None


def _looks_like_text(head: bytes) -> bool:
    return bool(head) and b"\x00" not in head and all(b >= 9 for b in head[:512])


def _check_signature(path: Path, suffix: str) -> None:
    """Refuse a file whose bytes are not of its type (a CSV renamed .parquet, a cut copy)."""
    with path.open("rb") as handle:
        head = handle.read(512)
        handle.seek(max(path.stat().st_size - 4, 0))
        tail = handle.read(4)
    kind = Message({".parquet": "io.kind_parquet", ".xlsx": "io.kind_xlsx"}[suffix])
    signature = b"PAR1" if suffix == ".parquet" else b"PK\x03\x04"
    if not head.startswith(signature):
        if _looks_like_text(head):
            what = Message("io.holds_text")
        elif suffix == ".xlsx" and head.startswith(b"\xd0\xcf\x11\xe0"):
            what = Message("io.old_xls")
        else:
            what = Message("io.bad_start", kind=kind)
        raise DataError(
            Message("io.not_its_type", file=path.name, kind=kind, what=what, suffix=suffix)
        )
    if suffix == ".parquet" and tail != b"PAR1":
        raise DataError(Message("io.parquet_incomplete", file=path.name))


def _read_parquet(path: Path, *, categories: bool = False) -> pd.DataFrame:
    """A Parquet file as pandas reads it; with ``categories``, text columns as categoricals.

    A national table of 47 million rows holds each text cell as a Python object (8 bytes a
    cell, and an object per value that pyarrow does not share); read as categoricals, each
    distinct value is one object and each cell a small code, the same cells in a fraction of
    the memory. Arrow's memory pool keeps the file's decoded pages after the conversion; it
    is asked to return them.
    """
    _check_signature(path, ".parquet")
    try:
        options = {}
        if categories:
            schema = pq.read_schema(path)
            text = [
                name for name, kind in zip(schema.names, schema.types, strict=True)
                if pa.types.is_string(kind) or pa.types.is_large_string(kind)
            ]  # fmt: skip
            options["read_dictionary"] = text
        return pd.read_parquet(path, **options)
    except Exception as error:  # pyarrow raises many types for a damaged file
        raise DataError(Message("io.parquet_unreadable", file=path.name, detail=error)) from None
    finally:
        pa.default_memory_pool().release_unused()


def _open_workbook(path: Path) -> pd.ExcelFile:
    try:
        return pd.ExcelFile(path, engine="openpyxl")
    except Exception as error:  # openpyxl raises many types for a broken workbook
        raise DataError(Message("io.workbook_unreadable", file=path.name, detail=error)) from None


def _parse_sheet(
    book: pd.ExcelFile, name: str, path: Path, *, dtype: type = str, **kw
) -> pd.DataFrame:
    try:
        return book.parse(name, header=None, dtype=dtype, **kw).dropna(how="all", axis=1)
    except Exception as error:  # openpyxl raises many types for a broken sheet
        raise DataError(
            Message("io.sheet_unreadable", file=path.name, sheet=name, detail=error)
        ) from None


def excel_headers(path: Path) -> dict[str, list[str]]:
    """First-row cells of every sheet of a workbook (to find which sheet holds a table)."""
    book = _open_workbook(path)
    headers = {}
    for name in book.sheet_names:
        first = _parse_sheet(book, name, path, nrows=1)
        headers[str(name)] = [] if first.empty else _strip_header(first.iloc[0].dropna())
    return headers


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    _check_signature(path, ".xlsx")
    book = _open_workbook(path)
    names = [str(n) for n in book.sheet_names]
    if sheet is None:
        chosen = names[0]
    elif isinstance(sheet, int) and not isinstance(sheet, bool) and 0 <= sheet < len(names):
        chosen = names[sheet]
    elif str(sheet) in names:
        chosen = str(sheet)
    else:
        raise DataError(
            Message("io.no_sheet", file=path.name, sheet=sheet, sheets=", ".join(names))
        )
    cells, long_numbers = _text_cells(_parse_sheet(book, chosen, path, dtype=object))
    filled = cells.dropna(how="all")
    # A first sheet with no data rows (empty, or one note such as "Keterangan" in a single
    # cell; a row of several cells is a header) in front of a sheet with a header and data:
    # name that sheet rather than say "empty".
    note_only = len(filled) == 1 and filled.iloc[0].notna().sum() == 1
    if sheet is None and (filled.empty or note_only):
        for name in names[1:]:
            if len(_parse_sheet(book, name, path, nrows=2).dropna(how="all")) < 2:
                continue
            if filled.empty:
                what = Message("io.sheet_is_empty")
            else:
                note = " ".join(str(v) for v in filled.iloc[0].dropna())
                note = note if len(note) <= 40 else note[:37] + "..."
                what = Message("io.sheet_holds_note", note=note)
            raise DataError(
                Message("io.first_sheet_empty", file=path.name, first=chosen, what=what, sheet=name)
            )
    if cells.empty:
        return pd.DataFrame()
    frame = cells.iloc[1:].copy()
    frame.columns = ["" if pd.isna(c) else str(c) for c in cells.iloc[0]]
    frame.attrs["sheet"] = chosen
    frame.attrs["number_cells"] = long_numbers
    return frame


# Excel keeps 15 significant digits of a number; a number cell with more digits lost some.
EXACT_DIGITS = 15


def _text_cells(cells: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, list[int]]]:
    """Sheet cells as text (as ``dtype=str`` reads them) and where a text column holds numbers.

    Returns the cells and ``{column position: [file lines]}`` of the number cells with more
    than 15 digits in columns that also hold text: one NIP that a clerk typed or pasted as
    a number into a column of text NIPs (Excel keeps 15 of its 18 digits, so it reads back
    as another, often existing, NIP). Columns of numbers only are left to the checks of
    the values themselves.
    """
    long_numbers = {}
    for position in range(cells.shape[1]):
        values = cells.iloc[:, position].to_numpy(dtype=object)
        is_text = np.fromiter((isinstance(v, str) for v in values), bool, len(values))
        if not is_text[1:].any():
            continue
        big = np.fromiter(
            (
                isinstance(v, numbers.Real)
                and not isinstance(v, bool)
                and abs(v) >= 10**EXACT_DIGITS
                for v in values
            ),
            bool,
            len(values),
        )
        big[0] = False  # the header
        if big.any():
            long_numbers[position] = [int(row) + 1 for row in np.flatnonzero(big)]
    text = cells.astype(str).where(cells.notna()) if len(cells) else cells
    return text, long_numbers


def _strip_header(header: pd.Index | list) -> list[str]:
    return [str(c).strip().lstrip("\ufeff") for c in header]


def read_raw(
    path: Path, *, sheet: str | int | None = None, categories: bool = False
) -> pd.DataFrame:
    """Read one export into a frame of text cells (CSV, Excel) or native values (Parquet).

    The index holds the file line number of each row (header = line 1). Empty cells are
    ``NA``. ``sheet`` picks an Excel sheet (default: the first; an empty first sheet with
    data on a later one is a :class:`DataError` naming that sheet). ``categories`` reads a
    Parquet file's text columns as categoricals (same values, less memory). Raises
    :class:`DataError` for an unreadable, empty or damaged file, and for a CSV whose
    quotes or separators make its rows unreliable.
    """
    suffix = path.suffix.lower()
    if suffix not in READ_EXTENSIONS:
        raise DataError(Message("io.unsupported_type", file=path.name))
    if path.stat().st_size == 0:
        raise DataError(Message("io.zero_bytes", file=path.name))
    if suffix == ".parquet":
        frame = _read_parquet(path, categories=categories)
    elif suffix == ".xlsx":
        frame = _read_excel(path, sheet)
    else:
        text = _decode(path, path.read_bytes())
        head = text[:4096]
        # UTF-16 text has a NUL beside almost every letter; a few NULs are damaged cells.
        if head.count("\x00") * 4 >= len(head):
            raise DataError(Message("io.utf16", file=path.name))
        first = text.split("\n", 1)[0]
        sep = ";" if first.count(";") > first.count(",") else ","
        frame = _read_csv_text(text, sep, name=path.name)
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(Message("io.no_rows", file=path.name))
    frame.columns = _strip_header(frame.columns)
    if suffix != ".csv":  # CSV rows already carry the line they start on
        frame.index = pd.RangeIndex(FIRST_DATA_LINE, FIRST_DATA_LINE + len(frame), name="line")
    if suffix != ".csv" or "\x00" in text:
        _check_nul(frame, path.name)
    return frame


# Excel writes a NUL inside a cell as the escape _x0000_, which openpyxl leaves as text.
_NUL_SPELLINGS = ("\x00", "_x0000_")


def _check_nul(frame: pd.DataFrame, name: str) -> None:
    """Refuse a cell holding a NUL byte, naming its line (the physical one) and column.

    A NUL is invisible in a spreadsheet and would travel inside the value (a name or an
    agency name that no longer matches itself); it marks a damaged file or text pasted
    from another program, so the user must see where it is.
    """
    for column in frame.columns:
        values = frame[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        codes, text = _distinct_text(values)  # each distinct cell once
        text = pd.Series(text, dtype="string")
        hit = np.zeros(len(text) + 1, dtype=bool)  # the last one: code -1, an empty cell
        for spelling in _NUL_SPELLINGS:
            found = text.str.contains(spelling, regex=False)
            hit[:-1] |= found.to_numpy(dtype=bool, na_value=False)
        hit = hit[codes]
        if not hit.any():
            continue
        row = int(np.flatnonzero(hit)[0])
        start, cell = int(frame.index[row]), str(text.iloc[codes[row]])
        # A quoted cell may hold line breaks: name the line the NUL itself is on.
        before = "".join(
            str(v) for v in frame.iloc[row, : frame.columns.get_loc(column)] if isinstance(v, str)
        )
        nul = min(i for i in (cell.find(s) for s in _NUL_SPELLINGS) if i >= 0)
        line = start + len(_LINE_BREAK.findall(before + cell[:nul]))
        raise DataError(Message("io.nul_cell", file=name, line=line, column=column))


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DECIMAL_COMMA = re.compile(r"\d,\d")
# Project choice: when this share of a comma CSV's lines has too many cells and holds a
# digit-comma-digit, the file writes decimal commas without quotes, not a few stray commas.
DECIMAL_COMMA_SHARE = 0.05


def _physical_lines(text: str) -> int:
    """Lines in ``text`` counted from its line breaks alone (independently of the CSV parser)."""
    if not text:
        return 0
    breaks = len(_LINE_BREAK.findall(text))
    return breaks + (0 if text.endswith(("\n", "\r")) else 1)


def _read_csv_text(text: str, sep: str, *, name: str = "the CSV file") -> pd.DataFrame:
    """Parse CSV text into text cells indexed by the file line each record starts on.

    A record with more or fewer cells than the header cannot be placed in columns; it is
    kept out of the frame and listed in ``frame.attrs["malformed"]`` ({line: cells}) so
    that validation rejects it by line instead of losing it or refusing the whole file.
    Empty cells after the last column are dropped only when (nearly) every line has them,
    as spreadsheets write them; one line with an extra empty cell had a stray separator
    that shifted its cells. Blank lines are skipped without shifting the line numbers of
    later records.

    A quoted cell may hold line breaks (an address typed with Alt+Enter); each record keeps
    the physical line it starts on, so later line numbers stay those of the file. The
    physical lines of the text are counted apart from the parser; a record that spans
    several lines but is not a well-formed one (see :func:`_well_formed_break`) comes from
    a stray quote that made the parser join lines, and a :class:`DataError` names the line
    of the quote.
    """
    reader = csv.reader(io.StringIO(text), delimiter=sep, quoting=csv.QUOTE_MINIMAL)
    records, lines = [], []
    seen = 0  # records the parser returned, blank ones included
    start = 1
    spans: list[tuple[int, int, list[str]]] = []  # records that span several lines
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            seen += 1
            if reader.line_num > line:
                spans.append((line, reader.line_num, record))
            if not record or all(not cell.strip() for cell in record):
                continue
            records.append(record)
            lines.append(line)
    except csv.Error as error:
        raise DataError(Message("io.unclosed_quote", file=name, line=start, detail=error)) from None
    physical = _physical_lines(text)
    width = len(records[0]) if records else 0
    joined = next(
        ((first, last) for first, last, record in spans
         if not _well_formed_break(record, width if first > 1 else len(record), sep)),
        None,
    )  # fmt: skip
    if joined is not None:
        first, last = joined
        closed = Message(
            "io.closed_never" if last >= physical else "io.closed_later", first=first, last=last
        )
        raise DataError(
            Message(
                "io.joined_lines",
                file=name,
                first=first,
                closed=closed,
                physical=physical,
                seen=seen,
            )
        )
    if not records:
        return pd.DataFrame()
    header, body, body_lines = records[0], records[1:], lines[1:]
    lengths = np.fromiter((len(r) for r in body), dtype=np.int64, count=len(body))
    typical = int(np.bincount(lengths).argmax()) if len(body) else width
    rows, row_lines, malformed, too_long, records_of = [], [], {}, [], {}
    for record, line, length in zip(body, body_lines, lengths, strict=True):
        if length > width and length == typical and not any(c.strip() for c in record[width:]):
            record = record[:width]  # every line ends with empty cells, as spreadsheets write
        elif length != width:
            malformed[line] = int(length)
            records_of[line] = record
            if length > width:
                too_long.append((line, record))
            continue
        rows.append(record)
        row_lines.append(line)
    _check_separator(name, sep, width, len(body), malformed, too_long)
    frame = pd.DataFrame(rows, columns=header, index=pd.Index(row_lines, name="line"), dtype=object)
    frame = frame.replace("", pd.NA) if len(frame) else frame
    frame.attrs["malformed"] = malformed
    frame.attrs["malformed_records"] = records_of
    frame.attrs["header_cells"] = width
    return frame


def _well_formed_break(record: list[str], width: int, sep: str) -> bool:
    """Whether a record spanning several lines holds line breaks inside its cells on purpose.

    A stray quote joins whole lines into one cell: the record then has fewer cells than
    the header, or a line inside a cell holds a full row's separators. A cell typed with
    Alt+Enter (``"Jl. A\nNo. 3"``) has neither.
    """
    if len(record) != width:
        return False
    row_separators = max(width - 1, 1)
    return all(
        piece.count(sep) < row_separators
        for cell in record
        for piece in _LINE_BREAK.split(cell)[1:]
    )


def _cells(n: int) -> Message:
    return Message("io.one_cell" if n == 1 else "io.cells", count=n)


def _check_separator(
    name: str, sep: str, width: int, n_rows: int, malformed: dict, too_long: list
) -> None:
    """Refuse a CSV whose separator cannot be trusted (decimal commas, another separator)."""
    if not malformed:
        return
    first_line = min(malformed)
    decimal = [line for line, record in too_long if _DECIMAL_COMMA.search(",".join(record))]
    if (
        sep == ","
        and len(decimal) > max(DECIMAL_COMMA_SHARE * n_rows, 1)
        and (len(decimal) * 2 >= len(malformed))
    ):
        line = decimal[0]
        raise DataError(
            Message(
                "io.decimal_commas",
                file=name,
                count=len(decimal),
                rows=n_rows,
                line=line,
                cells=malformed[line],
                width=width,
            )
        )
    if len(malformed) * 2 > n_rows:
        shown = "';'" if sep == ";" else "','"
        raise DataError(
            Message(
                "io.wrong_separator",
                file=name,
                count=len(malformed),
                rows=n_rows,
                width=width,
                line=first_line,
                cells=_cells(malformed[first_line]),
                separator=shown,
            )
        )


def _distinct_text(values: pd.Series) -> tuple[np.ndarray, Any]:
    """``(codes, distinct values as text)`` of a column of text; code -1 for an empty cell.

    A categorical column (a Parquet file's text) already has them: its codes and categories.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), values.cat.categories.astype("string")
    return pd.factorize(values.astype("string"), use_na_sentinel=True)


def null_spelling(values: pd.Series) -> pd.Series:
    """Cells that spell an empty value (``NULL``, ``-``, ``n/a``, ``NA``, ``#N/A``).

    Compared trimmed and ignoring case; see :data:`~asn_eval.data.contract.NULL_SPELLINGS`.
    """
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return pd.Series(False, index=values.index)
    # Each distinct spelling once: exports repeat a handful of labels and dates many times.
    codes, uniques = _distinct_text(values)
    hit = pd.Series(uniques, dtype="string").str.strip().str.lower().isin(NULL_SPELLINGS)
    hit = np.append(hit.fillna(False).to_numpy(dtype=bool), False)  # code -1: empty cell
    return pd.Series(hit[codes], index=values.index)


# --- parsing -----------------------------------------------------------------------
def _as_text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def parse_number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse numbers written the Indonesian way (and plain ones).

    ``3,5`` -> 3.5; ``1.234.567`` -> 1234567; ``1.234,5`` -> 1234.5; ``Rp 12.500.000`` ->
    12500000; ``3.5`` (a lone dot not followed by exactly three digits) -> 3.5.
    Returns ``(floats, bad)`` where ``bad`` marks non-empty cells that are not numbers.
    """
    if pd.api.types.is_numeric_dtype(values):
        floats = values.astype(float)
        return floats, pd.Series(False, index=values.index)
    text = _as_text(values)
    empty = text.isna() | (text == "")
    # Plain numbers parse directly; only the rest go through the Indonesian rules.
    plain = text.str.fullmatch(r"-?\d+").fillna(False).astype(bool)
    floats = pd.to_numeric(text.where(plain), errors="coerce").astype(float)
    rest = ~plain & ~empty
    if rest.any():
        sub = text[rest]
        sub = sub.str.replace(r"(?i)^rp\.?\s*", "", regex=True)
        sub = sub.str.replace(" ", "", regex=False).str.replace("\u00a0", "", regex=False)
        has_comma = sub.str.contains(",", regex=False).fillna(False).astype(bool)
        thousands_dot = sub.str.fullmatch(r"-?\d{1,3}(\.\d{3})+").fillna(False).astype(bool)
        # "1.234,5" and "3,5": dots are thousands, the comma is the decimal mark.
        sub = sub.where(~has_comma, sub.str.replace(".", "", regex=False).str.replace(",", "."))
        sub = sub.where(~thousands_dot, sub.str.replace(".", "", regex=False))
        floats[rest] = pd.to_numeric(sub, errors="coerce").astype(float)
    bad = floats.isna() & ~empty
    return floats, bad


def parse_int(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse whole numbers (Indonesian thousands dots allowed); ``3,5`` is bad."""
    floats, bad = parse_number(values)
    fractional = floats.notna() & (floats != np.floor(floats))
    return floats.where(~fractional).astype("Int64"), bad | fractional


_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00:00)?$")
_LONG = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})$")
# The order of day and month in numeric dates such as 7/8/2021: day first (Indonesian and
# most locales) or month first (a US-locale Excel). ISO and month-name dates have no order.
DATE_ORDERS: tuple[str, ...] = ("dmy", "mdy")
LAST_MONTH = 12


def date_order_evidence(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Cells whose numbers fix the order of day and month: ``(day_first, month_first)``.

    ``31/12/2024`` can only be day first (its first number is above 12), ``12/31/2024``
    only month first; ``7/8/2021`` could be either and counts for neither, as do ISO dates,
    month names and cells that are not dates.
    """
    none = pd.Series(False, index=values.index)
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return none, none.copy()
    # Each distinct cell once: a date column repeats its dates many times.
    codes, uniques = _distinct_text(values)
    parts = pd.Series(uniques, dtype="string").str.strip().str.extract(_DMY)
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[1], errors="coerce")
    proofs = []
    for day, month in ((first, second), (second, first)):
        proof = ((day > LAST_MONTH) & (month <= LAST_MONTH)).to_numpy(dtype=bool, na_value=False)
        proof = np.append(proof, False)  # code -1: empty cell
        proofs.append(pd.Series(proof[codes], index=values.index))
    return proofs[0], proofs[1]


def parse_date(values: pd.Series, *, order: str = "dmy") -> tuple[pd.Series, pd.Series]:
    """Parse ``31/12/2024``, ``31-12-2024``, ``2024-12-31`` and ``31 Desember 2024``.

    ``order="mdy"`` reads the numeric forms month first (``12/31/2024``), as a US-locale
    Excel writes them; ISO dates and month names read the same either way. Impossible
    dates (``31/02/2023``) are bad, not shifted. Returns ``(datetimes, bad)``.
    """
    if order not in DATE_ORDERS:
        raise ValueError(f"unknown date order {order!r}")
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]"), pd.Series(False, index=values.index)
    text = _as_text(values)
    empty = text.isna() | (text == "")
    dates = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    todo = ~empty
    day_month = "%d{0}%m" if order == "dmy" else "%m{0}%d"
    formats = (
        day_month.format("/") + "/%Y", "%Y-%m-%d", day_month.format("-") + "-%Y",
        "%Y-%m-%d %H:%M:%S", day_month.format(".") + ".%Y",
    )  # fmt: skip
    for fmt in formats:
        if not todo.any():
            break
        hit = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        dates[todo] = hit
        todo = todo & dates.isna()
    if todo.any():
        # Single-digit days/months and month names: one regex pass over the rest.
        sub = text[todo]
        day = pd.Series(np.nan, index=sub.index)
        month = day.copy()
        year = day.copy()
        for pattern, parts_order in ((_DMY, order), (_YMD, "ymd")):
            parts = sub.str.extract(pattern)
            hit = parts[0].notna()
            d, m, y = (parts[parts_order.index(k)] for k in "dmy")
            day = day.where(~hit, pd.to_numeric(d, errors="coerce"))
            month = month.where(~hit, pd.to_numeric(m, errors="coerce"))
            year = year.where(~hit, pd.to_numeric(y, errors="coerce"))
        parts = sub.str.extract(_LONG)
        hit = parts[0].notna()
        if hit.any():
            named = parts[1].str.lower().map(_MONTH_LOOKUP)
            day = day.where(~hit, pd.to_numeric(parts[0], errors="coerce"))
            month = month.where(~hit, named)
            year = year.where(~hit, pd.to_numeric(parts[2], errors="coerce"))
        frame = pd.DataFrame({"year": year, "month": month, "day": day})
        dates[todo] = pd.to_datetime(frame.where(frame.notna().all(axis=1)), errors="coerce")
    bad = dates.isna() & ~empty
    return dates, bad


def parse_month(values: pd.Series, *, order: str = "dmy") -> tuple[pd.Series, pd.Series]:
    """Parse a month: any date form above, or ``2024-03`` / ``03/2024``; first of month."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.to_period("M").dt.to_timestamp(), pd.Series(False, index=values.index)
    text = _as_text(values)
    text = text.str.replace(r"^(\d{4})-(\d{1,2})$", r"\1-\2-01", regex=True)
    first_of = r"01/\1/\2" if order == "dmy" else r"\1/01/\2"
    text = text.str.replace(r"^(\d{1,2})/(\d{4})$", first_of, regex=True)
    dates, bad = parse_date(text, order=order)
    return dates.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]"), bad


def normalise_label(values: pd.Series) -> pd.Series:
    """Lower case, single spaces, no spaces around '/', for matching category labels."""
    text = _as_text(values).str.lower().str.replace(r"\s+", " ", regex=True)
    return text.str.replace(r"\s*/\s*", "/", regex=True).str.replace(r"\s*-\s*", "-", regex=True)


def parse_category(
    values: pd.Series, allowed: tuple[str, ...], *, aliases: dict[str, str] | None = None
) -> tuple[pd.Series, pd.Series]:
    """Match labels to ``allowed`` ignoring case and spacing (``"SANGAT  BAIK"``).

    ``aliases`` maps further spellings (e.g. ``"laki-laki": "L"``) to allowed values.
    Returns ``(labels, bad)`` with the canonical spelling of each label.
    """
    lookup = {}
    for value in allowed:
        for spelling in (value, value.replace("_", " "), value.replace(" ", "_")):
            lookup[normalise_label(pd.Series([spelling])).iloc[0]] = value
    for alias, target in (aliases or {}).items():
        lookup[normalise_label(pd.Series([str(alias)])).iloc[0]] = target
    # Normalise each distinct label once: exports repeat a handful of labels many times.
    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    keys = normalise_label(pd.Series(uniques, dtype="string"))
    mapped = keys.map(lookup).to_numpy(dtype=object)
    empty_u = (keys.isna() | (keys == "")).to_numpy()
    labels = pd.Series(
        np.where(codes >= 0, mapped[np.maximum(codes, 0)] if len(mapped) else None, None),
        index=values.index,
        dtype=object,
    )
    empty = pd.Series(
        np.where(codes >= 0, empty_u[np.maximum(codes, 0)] if len(empty_u) else True, True),
        index=values.index,
    )
    labels = labels.where(labels.notna(), None)
    bad = labels.isna() & ~empty
    return labels, bad


# --- writing the Indonesian way -------------------------------------------------------
def format_decimal_id(values: np.ndarray | pd.Series, decimals: int) -> pd.Series:
    """``3.25`` -> ``"3,25"`` (decimal comma), empty for NaN; no thousands separator."""
    series = pd.Series(values, dtype=float)
    text = series.round(decimals).map(lambda v: f"{v:.{decimals}f}".replace(".", ","))
    return text.where(series.notna(), "")


def format_thousands_id(values: np.ndarray | pd.Series, *, prefix: str = "") -> pd.Series:
    """``12500000`` -> ``"Rp 12.500.000"`` with ``prefix="Rp "`` (thousands dots)."""
    series = pd.Series(values, dtype="Int64")
    text = series.map(lambda v: prefix + f"{v:,}".replace(",", "."), na_action="ignore")
    return text.fillna("")


def format_date_id(values: pd.Series, *, style: str = "dmy") -> pd.Series:
    """Dates as ``31/12/2024`` (``dmy``), ``2024-12-31`` (``iso``) or ``31 Desember 2024``."""
    values = pd.Series(values)
    if style == "iso":
        text = values.dt.strftime("%Y-%m-%d")
    elif style == "dmy":
        text = values.dt.strftime("%d/%m/%Y")
    elif style == "long":
        names = pd.Series([m.capitalize() for m in MONTHS_ID], index=range(1, 13))
        text = (
            values.dt.day.astype("Int64").astype("string")
            + " "
            + values.dt.month.map(names).astype("string")
            + " "
            + values.dt.year.astype("Int64").astype("string")
        )
    else:
        raise ValueError(f"unknown date style {style!r}")
    return text.astype(object).where(values.notna(), "")
