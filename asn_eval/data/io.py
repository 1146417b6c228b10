"""Reading office exports and Indonesian number/date formats, both ways.

Parsers are vectorised and never raise on a bad cell: they return the parsed values and a
boolean mask of cells that could not be parsed, so that validation can write each bad
cell to the rejects file instead of losing the row silently.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError

READ_EXTENSIONS: tuple[str, ...] = (".csv", ".xlsx", ".parquet")
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp1252")
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
    """The file holding ``table`` in ``data_dir`` (``<table>.csv|.xlsx|.parquet``)."""
    if file_name:
        path = data_dir / file_name
        return path if path.exists() else None
    for ext in READ_EXTENSIONS:
        path = data_dir / f"{table}{ext}"
        if path.exists():
            return path
    return None


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError(  # pragma: no cover - cp1252 decodes almost anything
        f"File {path.name} could not be read as UTF-8 or Windows-1252 text. Expected a CSV "
        "file saved as UTF-8 (with or without BOM) or Windows-1252. Open it in a spreadsheet "
        "program and save it again as 'CSV UTF-8'."
    )


def read_raw(path: Path, *, sheet: str | int = 0) -> pd.DataFrame:
    """Read one export into a frame of text cells (CSV, Excel) or native values (Parquet).

    The index holds the file line number of each row (header = line 1). Empty cells are
    ``NA``. Raises :class:`DataError` for an unreadable or empty file.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif suffix == ".xlsx":
        try:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, engine="openpyxl")
        except Exception as error:  # openpyxl raises many types for a broken workbook
            raise DataError(
                f"File {path.name} could not be opened as an Excel workbook ({error}). Expected "
                "an .xlsx file with the header in the first row of the first sheet. Save it "
                "again from Excel as .xlsx, or export it as CSV."
            ) from None
    elif suffix == ".csv":
        text = _decode(path)
        if "\x00" in text[:4096]:
            raise DataError(
                f"File {path.name} has an encoding that could not be read (it contains NUL "
                "bytes, as UTF-16 files do). Expected a CSV file saved as UTF-8 (with or "
                "without BOM) or Windows-1252. Open it in a spreadsheet program and save it "
                "again as 'CSV UTF-8'."
            )
        first = text.split("\n", 1)[0]
        sep = ";" if first.count(";") > first.count(",") else ","
        frame = _read_csv_text(text, sep)
    else:
        raise DataError(
            f"File {path.name} has an unsupported type. Expected .csv, .xlsx or .parquet."
        )
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(
            f"File {path.name} is empty: it has no data rows. Expected a header row and at "
            "least one data row. Export the table again, or remove the file's table from the "
            "mapping if it is not available."
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    if suffix != ".csv":  # CSV rows already carry the line they start on
        frame.index = pd.RangeIndex(FIRST_DATA_LINE, FIRST_DATA_LINE + len(frame), name="line")
    return frame


def _read_csv_text(text: str, sep: str) -> pd.DataFrame:
    """Parse CSV text into text cells indexed by the file line each record starts on.

    A record with more or fewer cells than the header cannot be placed in columns; it is
    kept out of the frame and listed in ``frame.attrs["malformed"]`` ({line: cells}) so
    that validation rejects it by line instead of losing it or refusing the whole file.
    Blank lines are skipped without shifting the line numbers of later records.
    """
    reader = csv.reader(io.StringIO(text), delimiter=sep, quoting=csv.QUOTE_MINIMAL)
    header: list[str] | None = None
    rows, lines, malformed = [], [], {}
    start = 1
    for record in reader:
        line, start = start, reader.line_num + 1
        if not record or all(not cell.strip() for cell in record):
            continue
        if header is None:
            header = record
            continue
        if len(record) > len(header) and not any(c.strip() for c in record[len(header) :]):
            record = record[: len(header)]  # trailing separators, as spreadsheets write them
        if len(record) != len(header):
            malformed[line] = len(record)
            continue
        rows.append(record)
        lines.append(line)
    if header is None:
        return pd.DataFrame()
    frame = pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"), dtype=object)
    frame = frame.replace("", pd.NA) if len(frame) else frame
    frame.attrs["malformed"] = malformed
    frame.attrs["header_cells"] = len(header)
    return frame


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


def parse_date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ``31/12/2024``, ``31-12-2024``, ``2024-12-31`` and ``31 Desember 2024``.

    Impossible dates (``31/02/2023``) are bad, not shifted. Returns ``(datetimes, bad)``.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]"), pd.Series(False, index=values.index)
    text = _as_text(values)
    empty = text.isna() | (text == "")
    dates = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    todo = ~empty
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y"):
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
        for pattern, order in ((_DMY, "dmy"), (_YMD, "ymd")):
            parts = sub.str.extract(pattern)
            hit = parts[0].notna()
            d, m, y = (parts[order.index(k)] for k in "dmy")
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


def parse_month(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a month: any date form above, or ``2024-03`` / ``03/2024``; first of month."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.to_period("M").dt.to_timestamp(), pd.Series(False, index=values.index)
    text = _as_text(values)
    text = text.str.replace(r"^(\d{4})-(\d{1,2})$", r"\1-\2-01", regex=True)
    text = text.str.replace(r"^(\d{1,2})/(\d{4})$", r"01/\1/\2", regex=True)
    dates, bad = parse_date(text)
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
