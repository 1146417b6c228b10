"""No output shows an individual: small-cell suppression and a scan of outputs for identifiers.

:func:`suppress_small_cells` is the report's one small-cell rule (every chapter's
``Chapter.suppress`` calls it); :func:`suppress_with_complements` adds complementary
suppression for tables whose totals are published, so that a withheld cell cannot be worked
back from them. It withholds every statistic computed from fewer than
:data:`MIN_CELL_SIZE` employees (from :mod:`asn_eval.domain.regulations`; UU 27/2022 asks that no
person be identifiable, the threshold is the project's choice) and marks it (the report adds the
footnote). :func:`check_no_identifiers` reads every file under a folder (text, HTML, JSON, CSV,
notebooks, SVG, PDF text, zip-based office files, and the raw bytes of anything else) and reports
each NIP or name from the input data that it finds.

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"agency": ["A", "B"], "n": [40, 3], "share_good": [0.8, 1.0]})
>>> suppress_small_cells(table, "n", ["share_good"])["share_good"].tolist()
[0.8, '*']
"""

from __future__ import annotations

import html
import json
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from asn_eval.common.formatting import is_missing
from asn_eval.domain.regulations import MIN_CELL_SIZE

# The mark of a withheld statistic, explained in the table's footnote.
SUPPRESSED_MARK = "*"
_TEXT_SUFFIXES = frozenset(
    {
        ".txt",
        ".md",
        ".html",
        ".htm",
        ".csv",
        ".tsv",
        ".tex",
        ".svg",
        ".xml",
        ".yaml",
        ".yml",
        ".css",
        ".js",
        ".log",
        ".py",
    }
)
_JSON_SUFFIXES = frozenset({".json", ".ipynb"})
_ZIP_SUFFIXES = frozenset({".zip", ".xlsx", ".docx", ".pptx", ".odt", ".ods"})
# Embedded images are base64: they cannot hold readable identifiers and would only slow the
# search, so they are removed before scanning text.
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s\\n]+")
_FLATE_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
# Separators people put inside a NIP ("19850312 201001 1 002").
_NIP_SEPARATORS = re.compile(r"[\s.\-]")
_MIN_NAME_LENGTH = 3
_WORD = re.compile(r"\w+")


def suppress_small_cells(
    table: pd.DataFrame,
    count_col: str,
    value_cols: Sequence[str],
    *,
    min_size: int = MIN_CELL_SIZE,
    mark_count: bool = True,
) -> pd.DataFrame:
    """Withhold statistics from fewer than ``min_size`` employees.

    Parameters
    ----------
    table
        One row per group (agency, year, age band, ...), never per person.
    count_col
        Column with the number of employees behind each row's statistics.
    value_cols
        Columns computed from those employees; withheld where ``0 < count < min_size``.
        A count of zero leaves nothing to disclose (its statistics are missing anyway).
    min_size
        Smallest group whose statistics are shown (default :data:`MIN_CELL_SIZE`).
    mark_count
        Also replace the count itself by ``"<5"``, so that counts of a sensitive event
        (sanctions, for instance) are not shown either.

    Returns
    -------
    pandas.DataFrame
        A copy; withheld cells hold :data:`SUPPRESSED_MARK`. ``attrs["n_suppressed_rows"]``
        holds the number of rows touched (the report words the footnote:
        :func:`asn_eval.report.narrative.suppression_note`).
    """
    missing = [c for c in [count_col, *value_cols] if c not in table.columns]
    if missing:
        raise KeyError(
            f"Cannot suppress small cells: the table has no column(s) {missing}; "
            f"its columns are {list(table.columns)}."
        )
    counts = pd.to_numeric(table[count_col], errors="coerce")
    small = (counts > 0) & (counts < min_size)
    out = table.copy()
    for column in value_cols:
        values = out[column]
        if pd.api.types.is_float_dtype(values):
            # Rounded as asn_eval.report.tables writes numbers: it cannot round a column that
            # holds marks, so binary noise (0.30000000000000004) would reach the CSV.
            values = values.round(6)
        out[column] = values.astype(object).where(~small, SUPPRESSED_MARK)
    if mark_count:
        out[count_col] = out[count_col].astype(object).where(~small, f"<{min_size}")
    n = int(small.sum())
    out.attrs["n_suppressed_rows"] = n
    return out


def suppress_with_complements(
    table: pd.DataFrame,
    count_col: str,
    value_cols: Sequence[str],
    *,
    totals_by: Sequence[str] = (),
    value_range: tuple[float, float] | None = (0.0, 1.0),
    min_size: int = MIN_CELL_SIZE,
    mark_count: bool = False,
) -> pd.DataFrame:
    """Primary and complementary suppression: no withheld cell can be worked back from totals.

    Primary suppression is :func:`suppress_small_cells`. A published total (the whole table's,
    e.g. a city-wide share, or one per group of ``totals_by``, e.g. per agency type) with its
    rows' counts gives ``sum(count * value)`` of the group; if only one cell of the group is
    withheld, that sum minus the shown cells is the withheld cell. Complementary suppression
    withholds a second cell in every such group.

    The rule, per value column, repeated until nothing changes: in every group of each
    ``totals_by`` column and then in the whole table, if exactly one cell with a positive
    count is withheld, withhold one more: the shown cell of the group with the smallest count whose
    value is not at either end of ``value_range`` (two cells at the same end, 0 and 0 or 1
    and 1, would be given away by their sum); ties keep the table's row order. Cells at an
    end are taken only when no other is left. A group whose only cell with a positive count
    is withheld has no second cell: its total alone shows the cell, so it is listed in
    ``attrs["exposed_groups"]`` and the caller must not publish that group's total.

    Parameters
    ----------
    table
        One row per group (agency), never per person.
    count_col
        Employees behind each row's values (assumed known to a reader: other tables show
        counts, so protection must not rely on hiding them).
    value_cols
        Columns computed from those employees.
    totals_by
        Columns whose groups have a published total (the whole-table total is always assumed
        published).
    value_range
        Smallest and largest value a cell can take (shares: 0 and 1); ``None`` when unbounded.
    min_size, mark_count
        As in :func:`suppress_small_cells` (counts are shown unless ``mark_count``).

    Returns
    -------
    pandas.DataFrame
        A copy with withheld cells marked :data:`SUPPRESSED_MARK` (the same mark for primary
        and complementary cells, so the mark does not tell which cell is small).
        ``attrs``: ``n_suppressed_rows`` (rows with any withheld cell),
        ``n_primary`` and ``n_complementary`` (cells), ``exposed_groups``
        (``(column, group, value column)`` triples, see above).

    Examples
    --------
    Dinas A's share (3 employees) is withheld; with the city total published it would be
    ``(0.8 * 53 - 0.75 * 40 - 0.9 * 10) / 3``, so the smallest other agency is withheld too:

    >>> t = pd.DataFrame({"agency": ["A", "B", "C"], "n": [3, 40, 10],
    ...                   "share": [1.0, 0.75, 0.9]})
    >>> suppress_with_complements(t, "n", ["share"])["share"].tolist()
    ['*', 0.75, '*']
    """
    missing = [c for c in totals_by if c not in table.columns]
    if missing:
        raise KeyError(
            f"Cannot protect totals by {missing}: the table has no such column(s); "
            f"its columns are {list(table.columns)}."
        )
    out = suppress_small_cells(
        table, count_col, value_cols, min_size=min_size, mark_count=mark_count
    )
    counts = pd.to_numeric(table[count_col], errors="coerce").fillna(0).to_numpy()
    positions = pd.RangeIndex(len(table))
    # Groups before the whole table, so that a group's complement is found inside the group.
    partitions = [pd.Series(table[c].astype(str).to_numpy(), index=positions) for c in totals_by]
    partitions += [pd.Series(0, index=positions)]
    names = [*totals_by, ""]
    n_primary = n_complementary = 0
    exposed: list[tuple[str, str, str]] = []
    for column in value_cols:
        withheld = (out[column].astype(object) == SUPPRESSED_MARK).to_numpy()
        n_primary += int(withheld.sum())
        values = pd.to_numeric(table[column], errors="coerce").to_numpy()
        at_end = np.zeros(len(table), dtype=bool)
        if value_range is not None:
            at_end = np.isclose(values, value_range[0]) | np.isclose(values, value_range[1])
        changed = True
        while changed:
            changed = False
            for name, groups in zip(names, partitions, strict=True):
                for group, members in groups.groupby(groups, sort=True):
                    rows = members.index.to_numpy()
                    rows = rows[counts[rows] > 0]
                    if withheld[rows].sum() != 1:
                        continue
                    shown = rows[~withheld[rows]]
                    if len(shown) == 0:
                        where = (name or "total", str(group) if name else "", column)
                        if where not in exposed:
                            exposed.append(where)
                        continue
                    order = np.lexsort((shown, counts[shown], at_end[shown]))
                    withheld[shown[order[0]]] = True
                    n_complementary += 1
                    changed = True
        out[column] = out[column].astype(object).where(~withheld, SUPPRESSED_MARK)
    rows_touched = int((out[list(value_cols)].astype(object) == SUPPRESSED_MARK).any(axis=1).sum())
    out.attrs["n_suppressed_rows"] = rows_touched
    out.attrs["n_primary"] = n_primary
    out.attrs["n_complementary"] = n_complementary
    out.attrs["exposed_groups"] = exposed
    return out


# --- scanning outputs ------------------------------------------------------------------


@dataclass(frozen=True)
class IdentifierHit:
    """An identifier found in an output file. ``shown`` masks it, so a log does not leak it."""

    file: str
    kind: str
    shown: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind} {self.shown}"


def _mask(identifier: str) -> str:
    return identifier[:3] + "\u2026" if len(identifier) > 3 else "\u2026"


def _pdf_text(path: Path) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is in the test extra
        return _pdf_streams(path.read_bytes())
    reader = PdfReader(str(path))
    pages = "\n".join(page.extract_text() or "" for page in reader.pages)
    # Document metadata (title, author) is text too.
    meta = " ".join(str(v) for v in (reader.metadata or {}).values())
    return pages + "\n" + meta + "\n" + _pdf_streams(path.read_bytes())


def _pdf_streams(data: bytes) -> str:
    """Raw bytes plus every stream that inflates; catches text in uncompressed encodings."""
    parts = [data.decode("latin-1")]
    for match in _FLATE_STREAM.finditer(data):
        try:
            parts.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(parts)


def _json_text(raw: str) -> str:
    # json.dumps(ensure_ascii=False) turns "\u00e9" escapes back into the letters they are.
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False)
    except json.JSONDecodeError:
        return raw


def read_text(path: str | Path) -> str:
    """All readable text of one output file, whatever its type."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_text(path)
    if suffix in _ZIP_SUFFIXES and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", errors="ignore") for name in archive.namelist()
            )
    raw = path.read_bytes().decode("utf-8", errors="ignore")
    if suffix in _JSON_SUFFIXES:
        raw = _json_text(raw)
    if suffix in {".html", ".htm", ".svg", ".xml", ".ipynb"}:
        raw = html.unescape(raw)
    return _DATA_URI.sub(" ", raw)


def _words(s: str) -> list[str]:
    return _WORD.findall(s.casefold())


def _found_names(content: str, names: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Names (word tuples) occurring as consecutive whole words, in one pass per name length."""
    words = _words(content)
    found = set()
    for length in {len(n) for n in names}:
        for i in range(len(words) - length + 1):
            window = tuple(words[i : i + length])
            if window in names:
                found.add(window)
    return found


def _found_numbers(content: str, numbers: set[str]) -> set[str]:
    """Numbers occurring in the text once separators inside numbers are removed."""
    compact = _NIP_SEPARATORS.sub("", content)
    found = set()
    for length in {len(n) for n in numbers}:
        for run in re.findall(rf"\d{{{length},}}", compact):
            for i in range(len(run) - length + 1):
                if run[i : i + length] in numbers:
                    found.add(run[i : i + length])
    return found


def check_no_identifiers(path: str | Path, identifiers: Iterable[str]) -> list[IdentifierHit]:
    """Every NIP or name from ``identifiers`` found in any file under ``path``.

    Parameters
    ----------
    path
        A built report folder (or one file).
    identifiers
        NIPs (digit strings; found even when written with spaces, dots or dashes) and full
        names (found case-insensitively as consecutive whole words, whatever the spacing or
        punctuation between them). Names shorter than three characters are skipped: they
        would match ordinary words.

    Returns
    -------
    list of IdentifierHit
        Empty when the outputs are clean. Each hit names the file relative to ``path`` and a
        masked identifier (first three characters), so the result can be printed safely.

    Notes
    -----
    Each file is read once and scanned in one pass, so thousands of names cost little more
    than one. PDF text needs ``pypdf`` (the fonts of a generated PDF are subset and encoded,
    so raw bytes rarely show text); without it the scan reads raw and inflated streams only.
    """
    root = Path(path)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    numbers: set[str] = set()
    names: set[tuple[str, ...]] = set()
    for ident in identifiers:
        if is_missing(ident):
            continue
        ident = str(ident).strip()
        digits = _NIP_SEPARATORS.sub("", ident)
        if digits.isdigit():
            numbers.add(digits)
        elif len(ident) >= _MIN_NAME_LENGTH and _words(ident):
            names.add(tuple(_words(ident)))
    hits: list[IdentifierHit] = []
    for file in files:
        content = read_text(file)
        where = file.name if file == root else file.relative_to(root).as_posix()
        for number in sorted(_found_numbers(content, numbers)):
            hits.append(IdentifierHit(where, "NIP", _mask(number)))
        for name in sorted(_found_names(content, names)):
            hits.append(IdentifierHit(where, "name", _mask(" ".join(name))))
    return hits


def assert_no_identifiers(path: str | Path, identifiers: Iterable[str]) -> None:
    """Raise ``AssertionError`` listing the files that show an identifier (masked)."""
    hits = check_no_identifiers(path, identifiers)
    if hits:
        listed = "; ".join(str(h) for h in hits[:20])
        more = f" and {len(hits) - 20} more" if len(hits) > 20 else ""
        raise AssertionError(
            f"{len(hits)} identifier(s) from the input data appear in the outputs under "
            f"{path}: {listed}{more}. Reports must never show a NIP or a name."
        )
