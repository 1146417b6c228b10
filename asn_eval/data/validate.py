"""Loading and validating a dataset: nothing is lost silently.

Why one module of ~1,000 lines: every check reads the same parsed table and writes the
same rejects; the contract (what) lives in contract.py and reading files (how) in io.py,
so what is left here is the one pass over the rows.

Every input row is either accepted or written to the rejects table with file, line,
column, value and the rule it broke; per table, read = accepted + rejected. A problem that
makes the data unusable raises :class:`~asn_eval.data.errors.DataError` with one readable
paragraph. Right after validation NIPs become keyed pseudonyms and names are dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml

from asn_eval.common.formatting import fmt_number
from asn_eval.common.memory import release_memory
from asn_eval.config import MAX_REJECT_SHARE
from asn_eval.domain.regulations import NIP_LENGTH, NIP_SEX_DIGITS

from .contract import (
    COMPARISON_TABLE,
    CONTRACT,
    IKM_PERIOD_PATTERN,
    OPTIONAL_TABLES,
    SERVICE_UNITS,
    TABLES,
    Table,
)
from .errors import DataError
from .export import SYNTHETIC_NOTICE
from .io import (
    DATE_ORDERS,
    date_order_evidence,
    excel_headers,
    find_table_file,
    null_spelling,
    parse_category,
    parse_date,
    parse_int,
    parse_month,
    parse_number,
    read_raw,
)
from .messages import Message, rule_label, words
from .pseudonymise import get_key, pseudonymise
from .reshape import (
    RULE_KEYS,
    Context,
    apply_rules,
    check_headers,
    check_rules,
    convert_units,
    missing_header,
    norm_header,
    source_headers,
)

# Project choice: more unknown references than this share of a table's rows means the
# tables do not belong together (a wrong export), not a few typos.
MAX_UNKNOWN_SHARE = 0.02
MIN_APPOINTMENT_AGE = 18  # PNS candidates are at least 18 (PP 11/2017 art. 23)
REJECT_COLUMNS = ("table", "file", "line", "column", "value", "rule", "set_aside", "cause")
# What a reject set aside (rejects.csv, column set_aside): the whole row, or only the cell's
# value (a column with ``field_reject`` in the contract).
ROW, FIELD = "row", "field"
QUALITY_COLUMNS = ("table", "read", "accepted", "rejected")
POLICY_GAP_COLUMNS = ("agency_code", "file", "line", "rule", "reason")
HIDDEN = "(hidden)"  # rejects.hidden in the catalog
# A NIP that a spreadsheet stored as a number: scientific notation ("1.97610E+17",
# "1,97610E+17") or a whole number with a decimal part ("197610042004112000.0").
_NIP_AS_NUMBER = r"\d+(?:[.,]\d+)?[eE]\+?\d+|\d{15,18}[.,]0+"
# Excel keeps 15 significant digits of a number: an 18-digit NIP stored as a number becomes
# the floating-point value nearest to it rounded to thousands (1.97511041999041E+17, read
# back as 197511041999040992 or 197610042004112000). A real NIP has that form by chance
# about once in a thousand, so a column where most NIPs have it was stored as numbers.
EXCEL_DIGITS = 15
NIP_SAMPLE = 2000


@dataclass
class Dataset:
    """Validated, pseudonymised tables and the account of what was rejected.

    Attributes
    ----------
    tables
        Contract tables keyed by name; ``employee_id`` instead of NIP, no names. A dataset
        opened from the cache (:mod:`asn_eval.data.cache`) holds a
        :class:`~asn_eval.data.cache.LazyTables`, which reads each table when first used;
        :meth:`table` reads only some columns, :meth:`parquet_path` names the file.
    quality
        One row per table: ``table``, ``read``, ``accepted``, ``rejected``.
    rejects
        One row per broken rule: ``table``, ``file``, ``line``, ``column``, ``value``,
        ``rule`` (NIP and name values are hidden), ``set_aside`` (:data:`ROW` when the row
        was rejected, :data:`FIELD` when only the cell's value was, the row being kept with
        the value missing) and ``cause`` (for a row rejected because the employee or agency
        it refers to was rejected: that row's file, line and rule; empty otherwise).
    metadata
        Content of ``metadata.yaml`` (``synthetic``, ``region``, ``years``, ...).
        ``synthetic`` is always a bool, and ``True`` whenever the folder holds the
        generator's ``truth.json`` (or its metadata name the generator), whatever
        ``metadata.yaml`` says, so that synthetic data never reach a report without
        the notice.
    notes
        Warnings a reader must see with the results, one
        :class:`~asn_eval.data.messages.Message` each (a missing ``metadata.yaml``, a
        synthetic flag overruled, agencies left out of the policy analyses, NIPs stored as
        numbers, an optional column a file lacks), keys ``note.*`` of the catalog:
        ``str(note)`` is the English sentence, ``note.text(lang)`` the sentence in ``lang``;
        :meth:`summary` prints them in its language.
    policy_gaps
        Agencies whose policy adoption dates are unknown, one row each: ``agency_code``,
        ``file``, ``line`` (of its rejected ``policies`` row, 0 when it has none),
        ``rule`` (why that row was rejected) and ``reason`` (a sentence). The panels give
        them :data:`~asn_eval.analysis.panels.UNKNOWN_COHORT`, so that no policy analysis takes
        them for agencies that never adopted.
    """

    tables: dict[str, pd.DataFrame]
    quality: pd.DataFrame
    rejects: pd.DataFrame
    metadata: dict[str, Any]
    source: Path | None = None
    notes: list[Message] = field(default_factory=list)
    policy_gaps: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(POLICY_GAP_COLUMNS))
    )

    @property
    def years(self) -> list[int]:
        first, last = self.metadata["years"]
        return list(range(int(first), int(last) + 1))

    @property
    def synthetic(self) -> bool:
        return bool(self.metadata.get("synthetic", False))

    def table(self, name: str, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Table ``name``, or only its ``columns`` (a new frame).

        A dataset opened from the cache (:func:`asn_eval.data.cache.validated_dataset`)
        reads only those columns from the table's Parquet file when the table is not in
        memory yet, and does not keep them: the way to use part of a large table.
        """
        read = getattr(self.tables, "read", None)
        if read is not None:
            return read(name, columns)
        frame = self.tables[name]
        return frame if columns is None else frame[list(columns)]

    def parquet_path(self, name: str) -> Path | None:
        """The cached Parquet file of table ``name`` (for DuckDB to scan in place).

        None when the dataset was not opened from the cache or the table was replaced.
        """
        path_of = getattr(self.tables, "parquet_path", None)
        return None if path_of is None else path_of(name)

    def summary(self, lang: str = "en") -> str:
        """Plain-text per-table summary (read = accepted + rejected), in ``lang``."""
        said = words(lang, "summary")
        counts = ("read", "accepted", "rejected")
        names = [*self.quality["table"], said["total"], said["table"]]
        width = max(len(t) for t in names)
        lines = [f"{said['table']:<{width}}" + "".join(f"  {said[c]:>9}" for c in counts)]
        total = self.quality[list(counts)].sum()
        rows = [(row["table"], row) for _, row in self.quality.iterrows()]
        for name, row in [*rows, (said["total"], total)]:
            lines.append(
                f"{name:<{width}}" + "".join(f"  {fmt_number(row[c], lang, 0):>9}" for c in counts)
            )
        if self.synthetic:
            notice = self.metadata.get("notice") or SYNTHETIC_NOTICE
            lines.append(said["synthetic_notice"] if notice == SYNTHETIC_NOTICE else notice)
        lines += [Message("summary.note", note=note).text(lang) for note in self.notes]
        return "\n".join(lines)

    def reject_shares(self) -> pd.Series:
        """Share of each table's rows that was rejected, indexed by table."""
        quality = self.quality.set_index("table")
        return quality["rejected"] / quality["read"].clip(lower=1)

    def set_aside_counts(self) -> tuple[int, int]:
        """``(rows, cells)``: rows rejected, and cells whose value alone was set aside."""
        scope = self.rejects.get("set_aside", pd.Series(ROW, index=self.rejects.index))
        return int(self.quality["rejected"].sum()), int((scope == FIELD).sum())

    def check_reject_share(self, max_share: float = MAX_REJECT_SHARE) -> None:
        """Refuse to go on when a table lost more than ``max_share`` of its rows.

        A report built on what is left of a badly broken table would describe the
        export's accidents rather than the office. The same holds for a column that lost
        more than ``max_share`` of its values (a field-level column, whose bad values are
        set aside without their rows): its analyses would rest on the few values left.
        ``asn-eval report`` calls this before any analysis (``--allow-rejects`` skips it),
        and ``asn-eval validate`` calls it too, so that both stop on the same data.

        Raises
        ------
        DataError
            Naming each table (or column) over the limit, its share and its most frequent
            rules; the error carries :attr:`rejects`.
        """
        rejects = self.rejects
        scope = rejects.get("set_aside", pd.Series(ROW, index=rejects.index))
        quality = self.quality.set_index("table")
        read = quality["read"].clip(lower=1)
        shares = self.reject_shares()
        parts = []
        for table, share in shares[shares > max_share].items():
            mine = rejects[(rejects["table"] == table) & (scope == ROW)]
            top = _rule_counts(mine["rule"].value_counts())
            name = mine["file"].iloc[0] if len(mine) else table
            parts.append(
                Message(
                    "table.rows_over",
                    table=table,
                    file=name,
                    share=share,
                    top=top,
                    rejected=int(quality.at[table, "rejected"]),
                    read=int(quality.at[table, "read"]),
                )
            )
        rows_over = len(parts)
        cells = rejects[scope == FIELD]
        for (table, column), group in cells.groupby(["table", "column"], sort=True):
            share = len(group) / read[table]
            if share <= max_share:
                continue
            top = _rule_counts(group["rule"].value_counts())
            parts.append(
                Message(
                    "table.column_over",
                    table=table,
                    file=group["file"].iloc[0],
                    column=column,
                    count=len(group),
                    read=int(quality.at[table, "read"]),
                    share=share,
                    top=top,
                )
            )
        if not parts:
            return
        limit = "table.limit_rows_and_values" if len(parts) > rows_over else "table.limit_rows"
        raise DataError(
            Message("table.too_many_rejects", parts=parts, limit=Message(limit, limit=max_share)),
            rejects=self.rejects,
        )


def rejects_table(rejects: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``rejects`` as ``rejects.csv`` shows them to a reader of ``lang``.

    English keeps the columns as they are (:data:`REJECT_COLUMNS`). Indonesian gives the
    headers in Indonesian, keeps each rule's code in ``kode_aturan`` and adds its name in
    ``aturan``, and writes the words this module put in the cells (what set a row aside, a
    repeated line, a cell count, a cause) in Indonesian; file and column names and the
    values read stay as they are. Works on the report's copy without ``value`` too.
    """
    if lang == "en":
        return rejects
    names = words(lang, "rejects.columns")
    said = words(lang, "rejects")
    out = rejects.copy()
    if "value" in out:
        for rule, pattern, key in (
            ("duplicate_row", _SAME_AS, "rejects.same_as"),
            ("wrong_cell_count", _CELL_COUNT, "rejects.cell_count"),
        ):
            mine = out["rule"] == rule
            out.loc[mine, "value"] = out.loc[mine, "value"].map(
                lambda value, pattern=pattern, key=key: _reworded(value, pattern, key, lang)
            )
        out["value"] = out["value"].replace({HIDDEN: said["hidden"]})
    if "column" in out:
        out["column"] = out["column"].replace({"(row)": said["whole_row"]})
    if "set_aside" in out:
        out["set_aside"] = out["set_aside"].map({ROW: said["row"], FIELD: said["field"]})
    if "cause" in out:
        out["cause"] = out["cause"].fillna("").astype(str).map(lambda c: _cause_text(c, lang))
    position = list(out.columns).index("rule") + 1
    out.insert(position, "rule_name", [rule_label(r, lang) for r in out["rule"]])
    return out.rename(columns=names)


def quality_table(quality: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``quality`` as ``quality.csv`` shows it to a reader of ``lang`` (its headers)."""
    if lang == "en":
        return quality
    return quality.rename(columns=words(lang, "rejects.quality_columns"))


# What _rejects_frame writes in English, read back to be written in another language.
_SAME_AS = r"^same as line (?P<line>\d+)$"
_CELL_COUNT = r"^(?P<cells>\d+) cells, header has (?P<width>\d+)$"
_CAUSE = re.compile(r"^(?P<file>.+) line (?P<line>\d+) \((?P<rules>.*)\)$")
_BECAUSE = ", because of "


def _reworded(value: Any, pattern: str, key: str, lang: str) -> Any:
    found = re.match(pattern, str(value))
    return Message(key, **found.groupdict()).text(lang) if found else value


def _cause_text(cause: str, lang: str) -> str:
    """A cause ("employees.csv line 807 (nip: nip_sex_digit), because of ...") in ``lang``."""
    links = []
    for part in cause.split(_BECAUSE) if cause else []:
        found = _CAUSE.match(part)
        links.append(Message("rejects.cause", **found.groupdict()) if found else part)
    if not links:
        return cause
    text = links[-1]
    for link in reversed(links[:-1]):
        text = Message("rejects.because", cause=link, further=text)
    return str(text) if isinstance(text, str) else text.text(lang)


# --- mapping ------------------------------------------------------------------------
MAPPING_FILE = "mapping.yaml"  # a data folder's own column mapping, read by default
# Columns dropped right after validation (no analysis reads a name), so a file may leave
# them out without a note.
DROPPED_COLUMNS: tuple[str, ...] = ("name",)


MAPPING_KEYS: tuple[str, ...] = (
    "file", "sheet", "columns", "values", "defaults", "date_order", *RULE_KEYS,
)  # fmt: skip


def _kind_of(value: Any) -> Message:
    if isinstance(value, Mapping):
        return Message("kind.entries")
    if isinstance(value, list | tuple):
        shown = repr(list(value))
        return Message("kind.list_shown", shown=shown) if len(shown) <= 40 else Message("kind.list")
    if isinstance(value, str):
        return Message("kind.text", value=value)
    return Message("kind.value", value=value)


def load_mapping(mapping: str | Path | Mapping | None) -> dict:
    """Read a column-mapping YAML (or take a mapping); see ``data/siasn-mapping.yaml``.

    Returns ``{table: {file, sheet, columns, values, defaults}}``. A mapping of the wrong
    shape (a list where entries are expected, an unknown key) is a :class:`DataError`
    naming the place, never a traceback and never silently ignored.
    """
    if mapping is None:
        return {}
    where = Message("mapping.where")
    if isinstance(mapping, str | Path):
        path = Path(mapping)
        where = Message("mapping.where_file", file=path.name)
        if not path.exists():
            raise DataError(Message("mapping.missing", path=path))
        try:
            mapping = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise DataError(Message("mapping.not_yaml", file=path.name, detail=error)) from None
    if not isinstance(mapping, Mapping):
        raise DataError(Message("mapping.not_entries", where=where, kind=_kind_of(mapping)))
    tables = mapping.get("tables", {}) or {}
    if not isinstance(tables, Mapping):
        raise DataError(Message("mapping.tables_not_entries", where=where, kind=_kind_of(tables)))
    unknown = set(tables) - set(TABLES) - set(OPTIONAL_TABLES)
    if unknown:
        raise DataError(
            Message("mapping.unknown_tables", tables=str(sorted(unknown)), known=", ".join(TABLES))
        )
    keys = ", ".join(MAPPING_KEYS)
    out = {}
    for table, spec in tables.items():
        spec = spec or {}
        place = Message("mapping.where_table", where=where, table=table)
        if not isinstance(spec, Mapping):
            raise DataError(
                Message("mapping.table_not_entries", place=place, kind=_kind_of(spec), keys=keys)
            )
        extra = sorted(set(spec) - set(MAPPING_KEYS))
        if extra:
            raise DataError(
                Message("mapping.unknown_entries", place=place, extra=str(extra), keys=keys)
            )
        for key in ("columns", "values", "defaults"):
            if not isinstance(spec.get(key) or {}, Mapping):
                raise DataError(
                    Message(
                        "mapping.names_not_entries", place=place, key=key, kind=_kind_of(spec[key])
                    )
                )
        for column, labels in (spec.get("values") or {}).items():
            if not isinstance(labels or {}, Mapping):
                raise DataError(
                    Message(
                        "mapping.labels_not_entries",
                        place=place,
                        column=column,
                        kind=_kind_of(labels),
                    )
                )
        if "file" in spec and not isinstance(spec["file"], str):
            raise DataError(
                Message("mapping.file_not_name", place=place, kind=_kind_of(spec["file"]))
            )
        sheet = spec.get("sheet")
        if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, str | int)):
            raise DataError(Message("mapping.sheet_not_name", place=place, kind=_kind_of(sheet)))
        _check_date_order_entry(spec.get("date_order"), CONTRACT[table], place)
        check_rules(spec, CONTRACT[table], place, _kind_of)
        out[table] = dict(spec)
    return out


def _check_date_order_entry(entry: Any, spec: Table, place: Message) -> None:
    """A mapping's ``date_order``: ``dmy`` or ``mdy`` for the table, or per date column."""
    if entry is None:
        return
    dates = [c.name for c in spec.columns if c.kind in ("date", "month")]
    expected = Message(
        "mapping.date_order_expected", dates=", ".join(dates), first=dates[0] if dates else "date"
    )
    orders = entry if isinstance(entry, Mapping) else {None: entry}
    for column, order in orders.items():
        if column is not None and column not in dates:
            raise DataError(
                Message(
                    "mapping.date_order_not_date",
                    place=place,
                    column=column,
                    table=spec.name,
                    expected=expected,
                )
            )
        if order not in DATE_ORDERS:
            raise DataError(
                Message(
                    "mapping.date_order_value", place=place, kind=_kind_of(order), expected=expected
                )
            )


def _declared_order(table_map: dict, column: str) -> str | None:
    entry = table_map.get("date_order")
    return entry.get(column) if isinstance(entry, Mapping) else entry


def _examples(values: pd.Series, mask: pd.Series, n: int = 3) -> list[Message]:
    hits = values[mask.to_numpy()].head(n)
    return [Message("dates.example", line=k, value=str(v).strip()) for k, v in hits.items()]


_DATE_FIX = Message("dates.fix")


def _date_order(values: pd.Series, column: str, file: str, table_map: dict) -> str:
    """The order of day and month in one date column, from its unambiguous values.

    A numeric date such as ``7/8/2021`` is 7 August day first and 8 July month first;
    only cells like ``31/12/2024`` (day first) or ``12/31/2024`` (month first) tell. A
    column whose evidence contradicts the declared order (``date_order`` in the mapping,
    default day first), or points both ways, is a :class:`DataError`: reading its
    ambiguous dates either way would swap day and month in some of them, silently.
    """
    declared = _declared_order(table_map, column)
    order = declared or "dmy"
    day_first, month_first = date_order_evidence(values)
    against = month_first if order == "dmy" else day_first
    n_against = int(against.sum())
    if not n_against:
        return order
    support = day_first if order == "dmy" else month_first
    n_support = int(support.sum())
    present = int(values.notna().sum())
    where = Message("dates.where", file=file, column=column)
    examples = _examples(values, against)
    if order == "mdy":
        both: Message | str = ""
        if n_support:
            both = Message(
                "dates.also_month_first", count=n_support, example=_examples(values, support, 1)
            )
        raise DataError(
            Message(
                "dates.declared_mdy",
                where=where,
                against=n_against,
                present=present,
                examples=examples,
                both=both,
            )
        )
    if n_support:
        raise DataError(
            Message(
                "dates.mixed",
                where=where,
                support=n_support,
                against=n_against,
                example=_examples(values, support, 1),
                examples=examples,
                fix=_DATE_FIX,
            )
        )
    raise DataError(
        Message(
            "dates.month_first",
            where=where,
            against=n_against,
            present=present,
            examples=examples,
            fix=_DATE_FIX,
        )
    )


def _targets(headers: list[str], spec: Table, table_map: dict) -> tuple[list, list[bool]]:
    """The contract column each header feeds (None for the others), and whether the
    mapping names it. Headers match ignoring case, spaces, underscores and hyphens."""
    known = {c.name for c in spec.columns}
    renames = {norm_header(k): v for k, v in (table_map.get("columns") or {}).items() if v in known}
    contract = {norm_header(name): name for name in known}
    names = [norm_header(h) for h in headers]
    return [renames.get(n) or contract.get(n) for n in names], [n in renames for n in names]


def _apply_mapping(raw: pd.DataFrame, spec: Table, table_map: dict, file: str) -> pd.DataFrame:
    known = {c.name for c in spec.columns}
    headers = [str(h) for h in raw.columns]
    # Two headers for one contract column are refused below (naming the column); two for
    # a column a mapping rule reads, here.
    check_headers(headers, source_headers(table_map), file)
    targets, explicit = _targets(headers, spec, table_map)
    positions: dict[str, list[int]] = {}
    for i, target in enumerate(targets):
        if target is not None:
            positions.setdefault(target, []).append(i)
    keep = []
    for target, found in positions.items():
        if len(found) > 1 and any(explicit[i] for i in found):
            found = [i for i in found if explicit[i]]  # the mapping names the one to use
        if len(found) > 1:
            shown = [
                Message("mapping.header_position", header=headers[i], position=i + 1) for i in found
            ]
            raise DataError(
                Message(
                    "mapping.duplicate_columns",
                    file=file,
                    count=len(found),
                    target=target,
                    shown=shown,
                )
            )
        keep.append(found[0])
    keep.sort()
    names = [targets[i] for i in keep]
    if keep == list(range(raw.shape[1])):
        # Every column feeds the contract (the usual case): renamed, not copied, so that a
        # table of 47 million rows is not held twice while it is read.
        frame = raw.set_axis(names, axis=1, copy=False)
    else:
        frame = raw.iloc[:, keep].copy()
        frame.columns = names
    numbers = raw.attrs.get("number_cells") or {}
    frame.attrs["number_cells"] = {targets[i]: numbers[i] for i in keep if i in numbers}
    # Columns an export lacks but that are constant for it (e.g. an all-PNS SIASN export).
    for name, value in (table_map.get("defaults") or {}).items():
        if name not in frame.columns and name in known:
            frame[name] = str(value)
    return frame


def _missing_columns(
    mapped: pd.DataFrame, raw: pd.DataFrame, spec: Table, table_map: dict, file: str
) -> None:
    """Refuse a file without a required column, naming the mapped header it lacks and the
    closest one it has (or, when the mapping names none, the contract's columns)."""
    missing = [c for c in spec.required if c not in mapped.columns]
    for column in missing:
        mapped_from = [k for k, v in (table_map.get("columns") or {}).items() if v == column]
        if mapped_from:
            raise missing_header(file, [str(h) for h in raw.columns], mapped_from, column,
                                 spec.name)  # fmt: skip
    if missing:
        raise DataError(
            Message(
                "table.missing_column",
                file=file,
                missing=", ".join(repr(m) for m in missing),
                table=spec.name,
                found=", ".join(map(str, raw.columns)),
                expected=", ".join(spec.required),
            )
        )


# --- column parsing --------------------------------------------------------------------
# Below this many rows a column is parsed directly (finding the distinct values costs more).
_UNIQUE_MIN_ROWS = 5_000


def _on_uniques(values: pd.Series, parse) -> Any:
    """``parse(values)``, computed once per distinct value and spread back to every row.

    Tables with one row per employee and year (or per month) repeat each NIP, date and
    category many times; parsing the distinct values only gives the same result for a
    fraction of the work. ``parse`` takes a Series and returns a Series or a tuple of Series
    aligned with it (other parts of a tuple pass through). Columns of numbers, or with mostly
    distinct values, are parsed directly; categorical columns (a Parquet file's text, see
    :func:`~asn_eval.data.io.read_raw`) always through their categories, as text.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniques = values.cat.categories.to_numpy(dtype=object)
    elif values.dtype != object or len(values) < 2 * _UNIQUE_MIN_ROWS:
        return parse(values)
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if 2 * len(uniques) > len(values):
            return parse(values)
    # The distinct values, then one missing value for the rows that were missing.
    distinct = pd.Series(np.append(np.asarray(uniques, dtype=object), None), dtype=object)
    positions = np.where(codes < 0, len(uniques), codes)

    def spread(parsed: Any) -> Any:
        if not isinstance(parsed, pd.Series):  # e.g. the name of the rule broken
            return parsed
        out = parsed.iloc[positions]
        out.index = values.index
        return out

    parsed = parse(distinct)
    if isinstance(parsed, tuple):
        return tuple(spread(part) for part in parsed)
    return spread(parsed)


def _clean_nip_text(raw: pd.Series) -> pd.Series:
    return raw.astype("string").str.strip().str.lstrip("'").str.replace(" ", "", regex=False)


def _nip_well_formed(text: pd.Series) -> pd.Series:
    text = text.astype("string")
    return text.str.fullmatch(rf"\d{{{NIP_LENGTH}}}").fillna(False).astype(bool)


def _nip_parts(nip: pd.Series) -> dict[str, pd.Series]:
    nip = nip.astype("string")
    birth = pd.to_datetime(nip.str.slice(0, 8), format="%Y%m%d", errors="coerce")
    month = pd.to_numeric(nip.str.slice(12, 14), errors="coerce")
    return {
        "birth": birth,
        "appointed_ok": month.between(1, 12).fillna(False).astype(bool),
        "appointed_year": pd.to_numeric(nip.str.slice(8, 12), errors="coerce"),
        "sex_digit": nip.str.slice(14, 15),
    }


def _parse_nip(raw: pd.Series, *, full: bool) -> tuple[pd.Series, list[tuple]]:
    """Clean NIPs and return ``(nips, [(index, rule)])`` for the broken ones."""
    text = _on_uniques(raw, _clean_nip_text)
    problems: list[tuple] = []
    well_formed = _on_uniques(text.astype(object), _nip_well_formed)
    odd = (~well_formed & text.notna()).to_numpy(dtype=bool)
    hits = np.zeros(len(text), dtype=bool)
    if odd.any():  # only the few cells that are not 18 digits are looked at again
        found = text[odd].str.fullmatch(_NIP_AS_NUMBER).fillna(False)
        hits[odd] = found.to_numpy(dtype=bool)
    as_number = pd.Series(hits, index=text.index)
    problems += [(i, "nip_as_number") for i in text.index[as_number]]
    problems += [(i, "nip_format") for i in text.index[~well_formed & ~as_number & text.notna()]]
    if full:
        parts = _nip_parts(text.where(well_formed, "0" * NIP_LENGTH))
        bad_birth = well_formed & parts["birth"].isna()
        problems += [(i, "nip_birth_date") for i in text.index[bad_birth]]
        birth_year = parts["birth"].dt.year
        bad_app = well_formed & ~bad_birth & (
            ~parts["appointed_ok"]
            | (parts["appointed_year"] < birth_year + MIN_APPOINTMENT_AGE)
        )  # fmt: skip
        problems += [(i, "nip_appointment") for i in text.index[bad_app]]
        bad_sex = well_formed & ~parts["sex_digit"].isin(list(NIP_SEX_DIGITS))
        problems += [(i, "nip_sex_digit") for i in text.index[bad_sex & ~bad_birth & ~bad_app]]
    return text, problems


def _check_nip_storage(
    values: pd.Series,
    text: pd.Series,
    as_number: list[int],
    file: str,
    column: str,
    *,
    cells: set[int] = frozenset(),
) -> None:
    """Refuse a file whose NIP column a spreadsheet stored as numbers.

    Digits lost to a number format cannot be restored, and a truncated NIP may be another
    employee's: the whole file must be exported again, so this names it. ``values`` are the
    cells as read, ``text`` the NIPs as :func:`_parse_nip` cleaned them and ``as_number``
    the lines it found in scientific notation or, in ``cells``, stored as number cells in a
    workbook column of text.
    """
    fix = Message("nip.fix")
    if pd.api.types.is_float_dtype(values):
        raise DataError(Message("nip.floats", file=file, column=column, fix=fix))
    present = int(text.notna().sum())
    many_as_number = len(as_number) > max(MAX_UNKNOWN_SHARE * present, 1)
    # Whether most NIPs were rounded is decided on an evenly spread sample first, so that a
    # large clean table pays for a few thousand values, not for all of them.
    filled = text.dropna()
    sample = filled.iloc[:: max(len(filled) // NIP_SAMPLE, 1)]
    if not many_as_number and _rounded_by_excel(sample).sum() * 2 <= len(sample):
        return
    truncated = _rounded_by_excel(text)
    if many_as_number or truncated.sum() * 2 > present:
        broken = truncated | text.index.isin(as_number)
        line = int(text.index[broken.to_numpy()][0])
        form = Message("nip.form_scientific") if many_as_number else (
            Message("nip.form_rounded", digits=EXCEL_DIGITS)
        )  # fmt: skip
        if many_as_number and len(cells) * 2 > len(as_number):
            form = Message("nip.form_cells")
        raise DataError(
            Message(
                "nip.rounded",
                file=file,
                column=column,
                broken=int(broken.sum()),
                present=present,
                form=form,
                line=line,
                fix=fix,
            )
        )


def _rounded_by_excel(text: pd.Series) -> pd.Series:
    """18-digit NIPs that equal their rounding to 15 significant digits (or its float)."""
    digits = text.where(text.str.fullmatch(rf"\d{{{NIP_LENGTH}}}").fillna(False).astype(bool))
    value = digits.astype("Int64").to_numpy(dtype=np.int64, na_value=0)
    scale = 10 ** (NIP_LENGTH - EXCEL_DIGITS)
    rounded = (value + scale // 2) // scale * scale
    stored = rounded.astype(np.float64).astype(np.int64)
    hit = (value == rounded) | (value == stored)  # written as text ("...000") or as a float
    return pd.Series(hit & digits.notna().to_numpy(), index=text.index)


def _parse_column(
    values: pd.Series, column, table_map: dict, *, date_order: str = "dmy"
) -> tuple[pd.Series, pd.Series, str]:
    """Parse one column by its kind; return ``(parsed, bad_mask, rule)``."""
    parsed, bad, rule = _on_uniques(
        values, lambda v: _parse_values(v, column, table_map, date_order=date_order)
    )
    # The rule is the same for every value: one string, not a column of them.
    return parsed, bad, rule


def _parse_values(
    values: pd.Series, column, table_map: dict, *, date_order: str = "dmy"
) -> tuple[pd.Series, pd.Series, str]:
    kind = column.kind
    if kind in ("float", "money"):
        parsed, bad = parse_number(values)
        return parsed, bad, "invalid_number"
    if kind == "int":
        parsed, bad = parse_int(values)
        return parsed, bad, "invalid_number"
    if kind == "date":
        parsed, bad = parse_date(values, order=date_order)
        return parsed, bad, "invalid_date"
    if kind == "month":
        parsed, bad = parse_month(values, order=date_order)
        return parsed, bad, "invalid_date"
    if kind == "category":
        aliases = (table_map.get("values") or {}).get(column.name) or {}
        parsed, bad = parse_category(values, column.values, aliases=aliases)
        return parsed, bad, "invalid_category"
    text = values.astype("string").str.strip()
    if kind == "period":
        text = text.str.upper()
        bad = ~text.str.fullmatch(IKM_PERIOD_PATTERN).fillna(True).astype(bool) & (text != "")
        return text.where((text != "") & ~bad), bad, "invalid_period"
    return text.where(text != ""), pd.Series(False, index=values.index), ""


def _schema(spec: Table) -> pa.DataFrameSchema:
    """pandera checks for value ranges and cross-column rules of one table."""
    columns = {}
    for column in spec.columns:
        checks = []
        if column.minimum is not None:
            checks.append(pa.Check.ge(column.minimum, error="out_of_range"))
        if column.maximum is not None:
            checks.append(pa.Check.le(column.maximum, error="out_of_range"))
        if checks:
            columns[column.name] = pa.Column(checks=checks, nullable=True, required=False)
    frame_checks = []
    if spec.name in ("services", COMPARISON_TABLE):
        frame_checks.append(
            pa.Check(
                lambda d: ~(d["completed"] > d["requests"]).fillna(False).astype(bool),
                name="completed_exceeds_requests",
            )
        )
    return pa.DataFrameSchema(columns, checks=frame_checks)


def _pandera_rejects(frame: pd.DataFrame, spec: Table) -> list[tuple]:
    try:
        _schema(spec).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.dropna(subset=["index"])
        out = []
        for case in cases.itertuples():
            rule = "out_of_range" if case.check == "out_of_range" else str(case.check)
            column = "completed" if rule == "completed_exceeds_requests" else case.column
            out.append((int(case.index), column, rule))
        return sorted(set(out))
    return []


# --- one table -------------------------------------------------------------------------
@dataclass
class _Parsed:
    frame: pd.DataFrame  # parsed values, index = file line
    file: str
    read: int
    problems: list[tuple] = field(default_factory=list)  # (line, column, rule)
    raw: pd.DataFrame | None = None
    duplicate_of: dict[int, int] = field(default_factory=dict)
    cell_counts: dict[int, int] = field(default_factory=dict)  # lines that did not parse
    malformed: dict[int, list[str]] = field(default_factory=dict)  # their cells
    header_cells: int = 0
    field_columns: frozenset[str] = frozenset()  # the contract's field-level columns
    causes: dict[tuple[int, str], str] = field(default_factory=dict)  # (line, column) -> why
    # Values rejects.csv shows for cells a mapping rule filled ((line, column) -> value), and
    # lines of other files the rules could not add to a row: (file, line, column, value, rule).
    shown: dict[tuple[int, str], str] = field(default_factory=dict)
    side_rejects: list[tuple[str, int, str, str, str]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # optional columns the file lacks

    def reject(self, lines, column: str, rule: str) -> None:
        self.problems += [(int(line), column, rule) for line in lines]

    @property
    def rejected_lines(self) -> set[int]:
        """Lines whose row is rejected: a problem in a column that rejects rows."""
        return {line for line, column, _ in self.problems if column not in self.field_columns}

    def set_aside_cells(self) -> dict[str, list[int]]:
        """Lines of each field-level column whose value alone is set aside (row kept)."""
        rejected = self.rejected_lines
        cells: dict[str, set[int]] = {}
        for line, column, _ in self.problems:
            if column in self.field_columns and line not in rejected:
                cells.setdefault(column, set()).add(line)
        return {column: sorted(lines) for column, lines in cells.items()}

    def accepted(self) -> pd.DataFrame:
        """The accepted rows, with the set-aside values missing."""
        frame = self.frame.drop(index=list(self.rejected_lines), errors="ignore")
        for column, lines in self.set_aside_cells().items():
            frame[column] = frame[column].mask(frame.index.isin(lines))
        return frame


def _read_table(
    data_dir: Path, spec: Table, table_map: dict, context: Context | None = None
) -> _Parsed:
    path = find_table_file(data_dir, spec.name, table_map.get("file"))
    if path is None:
        wanted = table_map.get("file") or Message("table.default_file", table=spec.name)
        raise DataError(
            Message(
                "table.file_missing",
                wanted=wanted,
                table=spec.name,
                folder=data_dir,
                tables=", ".join(TABLES),
            )
        )
    # Text columns of a Parquet file as categoricals, unless mapping rules write into them.
    raw = read_raw(
        path, sheet=table_map.get("sheet"), categories=not any(k in table_map for k in RULE_KEYS)
    )
    mapped = _apply_mapping(raw, spec, table_map, path.name)
    context = context or Context(data_dir)
    if spec.name == "employees":
        context.employees_export, context.employees_file = raw, path.name
    outcome = apply_rules(raw, mapped, table_map, spec, path.name, context)
    missing = [c for c in spec.required if c not in mapped.columns]
    if missing and path.suffix.lower() == ".xlsx" and table_map.get("sheet") is None:
        _check_other_sheets(path, spec, table_map, raw.attrs.get("sheet", ""))
    _missing_columns(mapped, raw, spec, table_map, path.name)
    malformed = raw.attrs.get("malformed", {})
    parsed = _Parsed(
        pd.DataFrame(index=mapped.index),
        path.name,
        len(mapped) + len(malformed),
        raw=mapped,
        field_columns=spec.field_rejects,
    )
    parsed.shown = outcome.shown
    parsed.side_rejects = outcome.side_rejects
    parsed.problems += outcome.problems
    parsed.cell_counts = dict(malformed)
    parsed.malformed = raw.attrs.get("malformed_records", {})
    parsed.header_cells = raw.attrs.get("header_cells", len(raw.columns))
    parsed.reject(malformed, "(row)", "wrong_cell_count")
    # An exact repeat of an earlier line is an export glitch: keep the first.
    codes = _text_codes(mapped)
    dup = codes.duplicated(keep="first")
    if dup.any():
        first_line = codes.reset_index().groupby(list(codes.columns), sort=False)["line"]
        first = first_line.transform("first").to_numpy()
        parsed.duplicate_of = dict(zip(codes.index[dup], first[dup.to_numpy()], strict=True))
        parsed.reject(codes.index[dup], "(row)", "duplicate_row")
    del codes, dup  # a code per cell: as large as the table itself
    for column in spec.columns:
        if column.name not in mapped.columns:
            # An optional column the file lacks reads as one left empty (same type), and
            # the reader is told (load_dataset's notes), in case it came under another name.
            if column.name not in DROPPED_COLUMNS:
                parsed.absent.append(column.name)
            empty = pd.Series(pd.NA, index=mapped.index, dtype=object)
            parsed.frame[column.name] = _parse_column(empty, column, table_map)[0]
            continue
        values = mapped[column.name]
        if column.nullable:
            values = values.mask(null_spelling(values))
        if column.kind == "nip":
            nips, problems = _parse_nip(values, full=spec.name == "employees")
            # Number cells in a column of text NIPs (Excel): digits lost, whatever they read.
            cells = set(mapped.attrs.get("number_cells", {}).get(column.name, ()))
            if cells:
                problems = [(line, rule) for line, rule in problems if line not in cells]
                problems += [(line, "nip_as_number") for line in sorted(cells)]
            as_number = [line for line, rule in problems if rule == "nip_as_number"]
            _check_nip_storage(values, nips, as_number, path.name, column.name, cells=cells)
            parsed.frame[column.name] = nips
            for line, rule in problems:
                parsed.reject([line], column.name, rule)
            empty = nips.isna()
        else:
            order = "dmy"
            if column.kind in ("date", "month"):
                order = _date_order(values, column.name, path.name, table_map)
            value, bad, rule = _parse_column(values, column, table_map, date_order=order)
            parsed.frame[column.name] = value
            parsed.reject(values.index[bad.to_numpy()], column.name, rule)
            empty = value.isna() & ~bad
        if not column.nullable:
            # A cell a mapping rule could not fill has its reject already.
            empty &= ~values.index.isin(list(outcome.lines))
            parsed.reject(values.index[empty.to_numpy()], column.name, "missing_value")
    convert_units(parsed.frame, table_map)
    parsed.raw = _compact(mapped)
    if spec.name == "employees":
        # Later tables' rules read the export as text; its cells need not be kept as objects.
        context.employees_export = _compact(raw)
    for line, column, rule in _pandera_rejects(parsed.frame, spec):
        parsed.reject([line], column, rule)
    _check_rows(parsed, spec)
    # A value taken from another file (an attendance recap, a discipline history): its
    # reject names the line there, the one to fix.
    for line, column, rule in set(parsed.problems):
        if (line, column) in outcome.origins:
            file, origin = outcome.origins[(line, column)]
            cause = Message("rejects.cause", file=file, line=origin, rules=rule).text("en")
            parsed.causes.setdefault((line, column), cause)
    return parsed


def _compact(cells: pd.DataFrame) -> pd.DataFrame:
    """``cells`` with text columns as categoricals: the same values in a fraction of the memory.

    Kept only to show a rejected cell as it was read (:func:`_rejects_frame`), so each
    distinct value is stored once and each cell as a small code.
    """
    out = cells.copy(deep=False)
    for position in range(out.shape[1]):
        values = out.iloc[:, position]
        if values.dtype == object and len(values):
            out.isetitem(position, values.astype("category"))
    return out


def _text_codes(mapped: pd.DataFrame) -> pd.DataFrame:
    """``mapped`` with each cell replaced by a code equal where the cells' text is equal.

    Two lines repeat each other when every cell reads the same as text (an empty cell as
    ""). Comparing codes gives the same answer as comparing the text of every cell, without
    writing 47 million course records out as strings: each distinct value of a column is
    written once.
    """
    codes = {}
    for position, column in enumerate(mapped.columns):
        values, distinct = pd.factorize(mapped.iloc[:, position], use_na_sentinel=False)
        text = pd.Series(distinct).astype("string").fillna("")
        same_text, _ = pd.factorize(text)
        codes[column] = same_text[values]
    return pd.DataFrame(codes, index=mapped.index)


def _check_other_sheets(path: Path, spec: Table, table_map: dict, first: str) -> None:
    """Name the sheet that holds the table when the first sheet is a cover or notes sheet."""
    for name, header in list(excel_headers(path).items())[1:]:
        targets = set(_targets([str(h) for h in header], spec, table_map)[0])
        if set(spec.required) <= targets:
            raise DataError(
                Message(
                    "table.other_sheet", file=path.name, first=first, table=spec.name, sheet=name
                )
            )


def _check_rows(parsed: _Parsed, spec: Table) -> None:
    """Rules between the columns of one row, beyond what pandera checks."""
    frame = parsed.frame
    if spec.name == "employees":
        backwards = (frame["service_end"] < frame["service_start"]).fillna(False).astype(bool)
        parsed.reject(frame.index[backwards.to_numpy()], "service_end", "service_end_before_start")
    if spec.name == "services":
        allowed = frame["service"].map(SERVICE_UNITS)
        wrong = frame["time_unit"].notna() & allowed.notna() & (frame["time_unit"] != allowed)
        parsed.reject(frame.index[wrong.to_numpy()], "time_unit", "wrong_time_unit")


def _check_window(parsed: _Parsed, spec: Table, years: list[int], data_date: pd.Timestamp) -> None:
    """Values outside the dataset's own years, and dates after its data date."""
    frame = parsed.frame
    for column in spec.columns:
        values = frame[column.name]
        if column.in_years:
            if column.kind == "period":
                year = pd.to_numeric(values.str.slice(0, 4), errors="coerce")
            elif column.kind in ("date", "month"):
                year = values.dt.year
            else:
                year = pd.to_numeric(values, errors="coerce")
            outside = year.notna() & ((year < years[0]) | (year > years[-1]))
            parsed.reject(frame.index[outside.to_numpy(dtype=bool)], column.name, "outside_years")
        if column.until_data_date:
            late = (values > data_date).fillna(False).astype(bool)
            parsed.reject(frame.index[late.to_numpy()], column.name, "after_data_date")


def _typed(frame: pd.DataFrame, spec: Table) -> pd.DataFrame:
    out = {}
    for column in spec.columns:
        values = frame[column.name]
        if column.kind == "category" and column.name != "rank":
            # rank stays text: golongan and PPPK grades are not one ordered scale
            out[column.name] = pd.Categorical(
                values, categories=list(column.values), ordered=column.ordered
            )
        elif column.kind == "int":
            values = values.astype("Int64")
            out[column.name] = values.astype("int64") if values.notna().all() else values
        elif column.kind in ("str", "nip", "category", "period"):
            out[column.name] = values.astype(object)
        else:
            out[column.name] = values
    return pd.DataFrame(out, index=frame.index)


def _hide(value: Any, column: str) -> str:
    # pd.isna, not value != value: an empty cell of a text column is pd.NA, whose != has
    # no truth value (an empty required cell crashed here).
    missing = value is None or bool(pd.isna(value))
    if column in ("nip", "name") and not missing:
        return HIDDEN
    return "" if missing else str(value)


# --- the dataset --------------------------------------------------------------------------
METADATA_FILE = "metadata.yaml"
TRUTH_FILE = "truth.json"  # written only by the synthetic generator
# The optional 'issuer' block of metadata.yaml: who issues the report (the cover, the Word
# letterhead and signature block). Only 'office' is required within it.
ISSUER_KEYS: tuple[str, ...] = ("office", "head", "head_title", "place", "contact")


def _metadata(data_dir: Path) -> tuple[dict, list[Message]]:
    """``metadata.yaml`` checked for shape, and the notes a reader must see about it."""
    path = data_dir / METADATA_FILE
    notes: list[Message] = []
    meta: Any = {}
    if not path.exists():
        notes.append(
            Message(
                "note.metadata_missing", metadata=METADATA_FILE, folder=data_dir, truth=TRUTH_FILE
            )
        )
    else:
        try:
            meta = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise DataError(
                Message("metadata.not_yaml", metadata=METADATA_FILE, folder=data_dir, detail=error)
            ) from None
    where = Message("metadata.where", metadata=METADATA_FILE, folder=data_dir)
    if not isinstance(meta, Mapping):
        raise DataError(Message("metadata.not_entries", where=where, kind=_kind_of(meta)))
    meta = dict(meta)
    synthetic = meta.get("synthetic", False)
    if not isinstance(synthetic, bool):
        raise DataError(
            Message("metadata.synthetic_not_bool", where=where, kind=_kind_of(synthetic))
        )
    if "years" in meta:
        years = meta["years"]
        whole = isinstance(years, list | tuple) and len(years) == 2 and all(
            isinstance(y, int) and not isinstance(y, bool) for y in years
        )  # fmt: skip
        if not whole:
            raise DataError(Message("metadata.years_not_pair", where=where, kind=_kind_of(years)))
        if years[0] > years[1]:
            raise DataError(
                Message("metadata.years_backwards", where=where, first=years[0], last=years[1])
            )
        meta["years"] = [int(years[0]), int(years[1])]
    if "data_date" in meta and _as_date(meta["data_date"]) is None:
        raise DataError(
            Message("metadata.data_date_not_date", where=where, kind=_kind_of(meta["data_date"]))
        )
    if meta.get("issuer") is None:
        meta.pop("issuer", None)  # 'issuer:' left empty says nothing
    else:
        meta["issuer"] = _issuer(meta["issuer"], where)
    evidence = []
    if (data_dir / TRUTH_FILE).exists():
        evidence.append(Message("note.truth_evidence", truth=TRUTH_FILE))
    if str(meta.get("generator", "")).startswith("asn-eval synth"):
        evidence.append(
            Message("note.generator_evidence", metadata=METADATA_FILE, generator=meta["generator"])
        )
    if evidence and not synthetic:
        said = "note.says_false" if "synthetic" in meta else "note.no_synthetic"
        notes.append(
            Message(
                "note.synthetic_overruled",
                metadata=METADATA_FILE,
                said=Message(said),
                evidence=evidence,
            )
        )
        synthetic = True
    meta["synthetic"] = synthetic
    if synthetic:
        meta["notice"] = meta.get("notice") or SYNTHETIC_NOTICE
    return meta, notes


def _issuer(block: Any, where: Message) -> dict[str, str]:
    """The ``issuer`` block of metadata.yaml: its entries as stripped text, empty ones left
    out; the office is required, the others (:data:`ISSUER_KEYS`) optional."""
    keys = ", ".join(ISSUER_KEYS)
    if not isinstance(block, Mapping):
        raise DataError(Message("metadata.issuer_not_entries", where=where, kind=_kind_of(block)))
    extra = sorted(str(key) for key in set(block) - set(ISSUER_KEYS))
    if extra:
        raise DataError(
            Message("metadata.issuer_unknown", where=where, extra=str(extra), keys=keys)
        )
    issuer = {}
    for key in ISSUER_KEYS:
        value = block.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            # A phone number YAML read as a number has lost its leading zero.
            raise DataError(
                Message("metadata.issuer_not_text", where=where, key=key, kind=_kind_of(value))
            )
        if value.strip():
            issuer[key] = " ".join(value.split())
    if "office" not in issuer:
        raise DataError(Message("metadata.issuer_no_office", where=where))
    return issuer


def _as_date(value: Any) -> pd.Timestamp | None:
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    if isinstance(value, str):
        parsed, bad = parse_date(pd.Series([value]))
        return None if bad.iloc[0] or pd.isna(parsed.iloc[0]) else parsed.iloc[0]
    return None


def _check_keys(name: str, parsed: _Parsed, spec: Table) -> None:
    if not spec.key:
        return
    good = parsed.frame.drop(index=list(parsed.rejected_lines), errors="ignore")
    dup = good.duplicated(subset=list(spec.key), keep=False)
    if dup.any():
        # Two lines of one key, one of them with a value set aside (a typo in a birth date)
        # and one whole: the whole one is kept, as before the value was set aside alone.
        flawed = {line for line, column, _ in parsed.problems if column in parsed.field_columns}
        copies = good[dup]
        is_flawed = pd.Series(copies.index.isin(list(flawed)), index=copies.index)
        whole = (~is_flawed).groupby([copies[k] for k in spec.key], dropna=False).transform("any")
        drop = copies.index[is_flawed & whole]
        if len(drop):
            parsed.reject(drop, "(row)", "duplicate_key_flawed")
            good = good.drop(index=drop)
            dup = good.duplicated(subset=list(spec.key), keep=False)
    if dup.any():
        lines = sorted(good.index[dup])[:6]
        shown = ", ".join(map(str, lines))
        key = " + ".join(spec.key)
        raise DataError(
            Message(
                "table.duplicate_keys", file=parsed.file, count=int(dup.sum()), key=key, lines=shown
            )
        )


def _rule_counts(counts: pd.Series, n: int = 3) -> list[Message]:
    """The ``n`` most frequent rules with their counts ("invalid_date 1,234"), for a message."""
    return [Message("table.rule_count", rule=r, count=c) for r, c in counts.head(n).items()]


def _top_rules(parsed: _Parsed, n: int = 3) -> list[Message]:
    counts = Counter(rule for _, _, rule in set(parsed.problems))
    return _rule_counts(pd.Series(dict(counts.most_common(n)), dtype=object), n)


def _check_references(
    parsed: _Parsed, spec: Table, known: dict[str, set], everything: dict[str, _Parsed]
) -> None:
    for column, target in spec.references.items():
        values = parsed.frame[column]
        pending = ~parsed.frame.index.isin(list(parsed.rejected_lines)) & values.notna()
        unknown = pending & ~values.isin(known[target])
        if not unknown.any():
            continue
        root = everything[target]
        key = root.frame[CONTRACT[target].key[0]]
        rejected_keys = key[key.index.isin(list(root.rejected_lines))].dropna()
        # Present in the target's file but rejected there: the problem lies in that row.
        lost = unknown & values.isin(set(rejected_keys))
        share = unknown.sum() / max(parsed.read, 1)
        if share > MAX_UNKNOWN_SHARE:
            what = Message("table.what_nips" if target == "employees" else "table.what_agencies")
            if lost.sum() * 2 >= unknown.sum():
                raise DataError(
                    Message(
                        "table.lost_to_validation",
                        root=root.file,
                        lost_rows=len(root.rejected_lines),
                        root_read=root.read,
                        top=_top_rules(root),
                        lost=int(lost.sum()),
                        read=parsed.read,
                        file=parsed.file,
                        share=lost.sum() / parsed.read,
                        what=what,
                    )
                )
            examples = [
                Message("nip.hidden") if column == "nip" else str(v)
                for v in values[unknown].drop_duplicates().head(3)
            ]
            raise DataError(
                Message(
                    "table.unknown_references",
                    file=parsed.file,
                    column=column,
                    unknown=int(unknown.sum()),
                    read=parsed.read,
                    share=share,
                    what=what,
                    target=target,
                    examples=examples,
                    limit=MAX_UNKNOWN_SHARE,
                )
            )
        absent = unknown & ~lost
        rule = "unknown_employee" if target == "employees" else "unknown_agency"
        parsed.reject(values.index[absent.to_numpy()], column, rule)
        if lost.any():
            cascade = "rejected_employee" if target == "employees" else "rejected_agency"
            referring = values[lost.to_numpy()]
            parsed.reject(referring.index, column, cascade)
            # Each key's first rejected line (a later copy of it is rejected as a repeat).
            first = rejected_keys[rejected_keys.isin(set(referring))]
            first = first[~first.duplicated()]
            why = _causes(root, {value: int(line) for line, value in first.items()})
            parsed.causes.update(
                {(int(line), column): why[value] for line, value in referring.items()}
            )


def _causes(root: _Parsed, lines: dict[Any, int]) -> dict[Any, str]:
    """Why each rejected row of ``root`` was rejected, for the rows that refer to it.

    ``lines`` maps a key to its rejected line; the answer maps it to e.g. "employees.csv
    line 807 (nip: nip_sex_digit)". A row itself rejected for the row it refers to names
    that one too, so that the chain ends at the row to fix.
    """
    wanted = set(lines.values())
    broken: dict[int, set] = {}
    for line, column, rule in root.problems:
        if line in wanted and column not in root.field_columns:
            broken.setdefault(line, set()).add((column, rule))
    out = {}
    for value, line in lines.items():
        row = sorted(broken.get(line, ()))
        rules = ", ".join(r if c == "(row)" else f"{c}: {r}" for c, r in row)
        text = Message("rejects.cause", file=root.file, line=line, rules=rules).text("en")
        further = [root.causes[(line, c)] for c, _ in row if (line, c) in root.causes]
        if further:
            text = Message("rejects.because", cause=text, further=further[0]).text("en")
        out[value] = text
    return out


def _check_policy_dates(parsed: _Parsed, years: list[int]) -> None:
    first, last = pd.Timestamp(years[0], 1, 1), pd.Timestamp(years[-1], 12, 31)
    for policy in parsed.frame.columns[1:]:
        dates = parsed.frame[policy]
        outside = dates.notna() & ((dates < first) | (dates > last))
        if outside.any():
            line = int(dates.index[outside.to_numpy()][0])
            raise DataError(
                Message(
                    "dates.policy_outside_years",
                    file=parsed.file,
                    column=policy,
                    count=int(outside.sum()),
                    first=years[0],
                    last=years[-1],
                    line=line,
                    date=f"{dates[outside].iloc[0]:%d/%m/%Y}",
                )
            )


def _nip_flags(frame: pd.DataFrame) -> pd.Series:
    parts = _nip_parts(frame["nip"].astype("string"))
    birth = frame["birth_date"]
    flag_birth = birth.notna() & parts["birth"].notna() & (birth != parts["birth"])
    expected_sex = parts["sex_digit"].map(dict(NIP_SEX_DIGITS))
    flag_sex = frame["sex"].notna() & expected_sex.notna() & (
        frame["sex"].astype(object) != expected_sex
    )  # fmt: skip
    flags = np.where(flag_birth, "birth_date", "")
    flags = np.where(flag_sex, np.where(flag_birth, "birth_date;sex", "sex"), flags)
    return pd.Series(flags, index=frame.index, dtype=object)


def _rejects_frame(parsed: dict[str, _Parsed]) -> pd.DataFrame:
    """One row per broken rule of every table read so far (NIP and name values hidden)."""
    rejects = []
    for name, p in parsed.items():
        rejected = p.rejected_lines
        for line, column, rule in sorted(set(p.problems)):
            if rule == "duplicate_row":
                value = Message("rejects.same_as", line=p.duplicate_of[line]).text("en")
            elif rule == "wrong_cell_count":
                value = Message(
                    "rejects.cell_count", cells=p.cell_counts[line], width=p.header_cells
                ).text("en")
            elif (line, column) in p.shown:
                value = _hide(p.shown[(line, column)], column)
            else:
                value = _hide(p.raw.at[line, column], column) if column in p.raw else ""
            scope = ROW if line in rejected else FIELD
            cause = p.causes.get((line, column), "")
            rejects.append((name, p.file, line, column, value, rule, scope, cause))
        for file, line, column, value, rule in p.side_rejects:
            rejects.append((name, file, line, column, _hide(value, column), rule, ROW, ""))
    return pd.DataFrame(rejects, columns=list(REJECT_COLUMNS))


def _policy_gaps(policies: _Parsed, agencies: set) -> pd.DataFrame:
    """Accepted agencies whose policy adoption dates are unknown, and why."""
    bad = policies.rejected_lines
    codes = policies.frame["agency_code"]
    accepted = set(codes.drop(index=list(bad), errors="ignore").dropna())
    missing = sorted(agencies - accepted)
    if not missing:
        return pd.DataFrame(columns=list(POLICY_GAP_COLUMNS))
    rules: dict[int, list[str]] = {}
    for line, _, rule in sorted(set(policies.problems)):
        rules.setdefault(line, []).append(rule)
    line_of = {code: int(line) for line, code in codes[codes.index.isin(list(bad))].items()}
    for line, cells in policies.malformed.items():
        for cell in cells:
            line_of.setdefault(str(cell).strip(), int(line))
    rows = []
    for code in missing:
        line = line_of.get(code, 0)
        if line:
            rule = ";".join(dict.fromkeys(rules.get(line, [])))
            reason = (
                f"its row in {policies.file} (line {line}) was rejected ({rule}), so its "
                "adoption dates are unknown"
            )
        else:
            rule = ""
            reason = f"it has no row in {policies.file}, so its adoption dates are unknown"
        rows.append((code, policies.file, line, rule, reason))
    return pd.DataFrame(rows, columns=list(POLICY_GAP_COLUMNS))


def _nip_as_number_note(file: str, lines: list[int]) -> Message:
    """What a clerk must know about NIPs that a spreadsheet stored as numbers."""
    shown: list[Any] = [int(line) for line in lines[:3]] + (["..."] if len(lines) > 3 else [])
    key = "note.nip_as_number_one" if len(lines) == 1 else "note.nip_as_number"
    return Message(key, file=file, count=len(lines), lines=shown)


def load_dataset(
    data_dir: str | Path,
    *,
    mapping: str | Path | Mapping | None = None,
    key: str | bytes | None = None,
) -> Dataset:
    """Load, validate and pseudonymise a dataset folder.

    Parameters
    ----------
    data_dir
        Folder with one file per contract table (``<table>.csv``, ``.xlsx`` or
        ``.parquet``) and ``metadata.yaml``.
    mapping
        Column-mapping YAML path (or dict) for exports whose headers differ from the
        contract; see ``data/siasn-mapping.yaml``. Default: ``mapping.yaml`` in the data
        folder when there is one, so that ``asn-eval report`` and ``asn-eval validate``
        read an office's export the same way without extra options.
    key
        Pseudonymisation key; default ``$ASN_EVAL_KEY`` or the per-installation key file.

    Returns
    -------
    Dataset
        Canonical tables, the quality summary and the rejects.

    Raises
    ------
    DataError
        When the data cannot be used (missing file or column, unreadable file, duplicate
        keys, too many unknown references, policy dates outside the data's years).

    Examples
    --------
    >>> ds = load_dataset("data/kupang-synthetic")  # doctest: +SKIP
    >>> ds.quality.eval("read == accepted + rejected").all()  # doctest: +SKIP
    True
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(Message("table.folder_missing", folder=data_dir, tables=", ".join(TABLES)))
    if mapping is None and (data_dir / MAPPING_FILE).is_file():
        mapping = data_dir / MAPPING_FILE
    table_maps = load_mapping(mapping)
    metadata, notes = _metadata(data_dir)
    parsed: dict[str, _Parsed] = {}
    context = Context(data_dir, date_order=_date_order)
    if "years" in metadata:
        first, last = metadata["years"]
        context.years = list(range(first, last + 1))
        context.data_date = pd.Timestamp(last, 12, 31)
    context.data_date = _as_date(metadata.get("data_date")) or context.data_date
    agency_from_employees = any(m.get("agency_from") == "employees" for m in table_maps.values())
    try:
        for name in TABLES:
            parsed[name] = _read_table(
                data_dir, CONTRACT[name], table_maps.get(name) or {}, context
            )
            release_memory()  # the table's transient frames, before the next one is read
            frame = parsed[name].frame
            if name == "agencies":
                context.agency_codes = set(frame["agency_code"].dropna())
            if name == "employees":
                context.employee_nips = frame["nip"]
                if agency_from_employees:  # one entry per employee: only when a rule reads it
                    pairs = frame[["nip", "agency_code"]].dropna()
                    context.employee_agency = dict(
                        zip(pairs["nip"], pairs["agency_code"], strict=True)
                    )
        # An optional table is read when its file is there; without it nothing changes.
        for name in OPTIONAL_TABLES:
            if find_table_file(data_dir, name, (table_maps.get(name) or {}).get("file")):
                parsed[name] = _read_table(
                    data_dir, CONTRACT[name], table_maps.get(name) or {}, context
                )
        present = [*TABLES, *(name for name in OPTIONAL_TABLES if name in parsed)]
        if "years" not in metadata:
            found = parsed["performance"].frame["year"].dropna().astype(int)
            metadata["years"] = [int(found.min()), int(found.max())]
        years = list(range(int(metadata["years"][0]), int(metadata["years"][1]) + 1))
        data_date = _as_date(metadata.get("data_date")) or pd.Timestamp(years[-1], 12, 31)
        for name in present:
            _check_window(parsed[name], CONTRACT[name], years, data_date)
        for name in present:
            _check_keys(name, parsed[name], CONTRACT[name])
        _check_policy_dates(parsed["policies"], years)
        known: dict[str, set] = {}
        agencies = parsed["agencies"]
        known["agencies"] = set(
            agencies.frame["agency_code"].drop(list(agencies.rejected_lines), errors="ignore")
        )
        _check_references(parsed["employees"], CONTRACT["employees"], known, parsed)
        employees = parsed["employees"]
        known["employees"] = set(
            employees.frame["nip"].drop(list(employees.rejected_lines), errors="ignore")
        )
        for name in TABLES:
            if name not in ("agencies", "employees"):
                _check_references(parsed[name], CONTRACT[name], known, parsed)
    except DataError as error:
        # What was rejected before the data proved unusable, so that it can be written out.
        if error.rejects is None:
            error.rejects = _rejects_frame(parsed)
        raise
    gaps = _policy_gaps(parsed["policies"], known["agencies"])
    if len(gaps):
        rejected = int((gaps["line"] > 0).sum())
        notes.append(
            Message(
                "note.policy_gaps_one" if len(gaps) == 1 else "note.policy_gaps",
                count=len(gaps),
                rejected=rejected,
                file=parsed["policies"].file,
                without=len(gaps) - rejected,
            )
        )

    for name in present:
        for column in parsed[name].absent:
            notes.append(
                Message("note.column_absent", file=parsed[name].file, column=column, table=name)
            )
        lines = sorted({line for line, _, rule in parsed[name].problems if rule == "nip_as_number"})
        if lines:
            notes.append(_nip_as_number_note(parsed[name].file, lines))

    secret = get_key(key)
    pseudonyms: dict[str, str] = {}  # each NIP hashed once across the tables
    rejects = _rejects_frame(parsed)
    # The cells as read were kept only to show rejected values: freed before any table is
    # typed, so that typing the largest one does not also hold the others' cells.
    context.employees_export = None
    for p in parsed.values():
        p.raw = None
    release_memory()
    tables, quality = {}, []
    for name in present:
        p = parsed[name]
        bad = p.rejected_lines
        frame = _typed(p.accepted(), CONTRACT[name])
        # The parsed cells are no longer needed once the table is typed: freed table by
        # table, the national tables are never held twice.
        p.frame = None
        quality.append((name, p.read, len(frame), len(bad)))
        if name == "employees":
            frame["nip_flag"] = _nip_flags(frame)
        if "nip" in frame:
            frame.insert(0, "employee_id", pseudonymise(frame.pop("nip"), secret, known=pseudonyms))
        frame = frame.drop(columns=list(DROPPED_COLUMNS), errors="ignore")
        tables[name] = frame.reset_index(drop=True)
        release_memory()
    return Dataset(
        tables=tables,
        quality=pd.DataFrame(quality, columns=list(QUALITY_COLUMNS)),
        rejects=rejects,
        metadata=metadata,
        source=data_dir,
        notes=notes,
        policy_gaps=gaps,
    )
