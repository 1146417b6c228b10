"""Mapping rules that build contract columns from an export of another shape.

A column mapping (``data/README.md``, *Mapping an office export*) renames an export's
headers and labels. An export that holds the data in another shape needs rules besides;
SIASN's "Export Data ASN" and its histories are the case in point
(``data/siasn-mapping.yaml``). Each rule is one entry of a table's mapping:

``agency_from: {first_listed: [unor_id, satuan_kerja_kerja_id]}``
    ``agency_code`` is the first of these columns whose value is an agency code of the
    agencies table; when none is, the last of them that has a value (the row is then
    rejected as ``unknown_agency``, naming it).
``agency_from: employees``
    ``agency_code`` is the employee's agency in the employees table (a history that does
    not record the employee's unit: transfers between years are not seen).
``nip_from: {column: pnsDinilaiId, employees: pns_id}``
    The NIP is looked up in the employees export by another identifier (SIASN's PNS ID).
``service_end_from: {status: kedudukan_hukum_nama, active: [...], inactive: [...], end: data_date}``
    Where no end date is exported, an employee whose status is inactive left at the latest on
    the data date (``metadata.yaml``), and an active one is still serving.
``predicate_from: [hasilKinerja, perilakuKerja]``
    An empty predicate is the PermenPANRB 6/2022 matrix
    (:data:`~asn_eval.domain.regulations.SKP_MATRIX`) of the two ratings.
``jp_unit: hours`` (or ``jp``)
    The unit of the training column mapped to ``jp``; hours become JP (1 JP = 45 minutes).
``add: {absence_days: {...}, sanction_level: {...}}``
    Values of the performance table kept in other files, one line per employee and year
    (an attendance recap) or per sanction (a discipline history).

Every line these rules cannot place is rejected with its file, line, column and rule, as
any other (see :func:`apply_rules`).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from asn_eval.domain.regulations import (
    DISCIPLINE_LEVELS,
    DISCIPLINE_SANCTION_TYPES,
    MINUTES_PER_JP,
    SKP_MATRIX,
)

from .contract import CONTRACT, Table
from .errors import DataError
from .io import find_table_file, normalise_label, null_spelling, parse_date, parse_int, read_raw
from .messages import Message

MINUTES_PER_HOUR = 60
JP_UNITS: tuple[str, ...] = ("jp", "hours")
RULE_KEYS: tuple[str, ...] = (
    "agency_from",
    "nip_from",
    "service_end_from",
    "predicate_from",
    "jp_unit",
    "add",
)
ADDABLE: tuple[str, ...] = ("absence_days", "sanction_level")
# Which contract column each rule fills, and the tables it may stand in.
_RULE_COLUMN = {
    "agency_from": "agency_code",
    "nip_from": "nip",
    "service_end_from": "service_end",
    "predicate_from": "skp_predicate",
    "jp_unit": "jp",
}
_RULE_TABLES = {
    "service_end_from": ("employees",),
    "predicate_from": ("performance",),
    "jp_unit": ("training",),
    "add": ("performance",),
}
_ADD_KEYS = {
    "absence_days": ("file", "sheet", "columns", "nip_from"),
    "sanction_level": (
        "file", "sheet", "columns", "nip_from", "date", "type", "regulation", "cancelled",
    ),
}  # fmt: skip
NO_SANCTION = "none"  # the sanction level of a year without a sanction (contract label)


# --- headers -------------------------------------------------------------------------
def norm_header(name: Any) -> str:
    """A header as the mapping matches it: lower case, without spaces, underscores or
    hyphens, so that ``NIP BARU``, ``nip_baru`` and ``nipBaru`` are one name."""
    return re.sub(r"[\s_\-]+", "", str(name).strip().lower())


def check_headers(headers: list[str], used: set[str], file: str) -> None:
    """Refuse a file with two columns that read as one header the mapping uses."""
    seen: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        name = norm_header(header)
        if name in used:
            seen.setdefault(name, []).append(position)
    for positions in seen.values():
        if len(positions) > 1:
            shown = [
                Message("mapping.header_position", header=headers[i], position=i + 1)
                for i in positions
            ]
            raise DataError(
                Message("mapping.same_header", file=file, count=len(positions), shown=shown)
            )


def missing_header(
    file: str, headers: list[str], wanted: list[str], target: str, table: str
) -> DataError:
    """The error for a mapped header the file does not have, with the closest one it has."""
    closest = _closest(wanted, headers)
    closest = (
        Message("mapping.closest_header", header=closest)
        if closest is not None
        else Message("mapping.no_close_header", found=", ".join(map(str, headers)))
    )
    return DataError(
        Message(
            "mapping.missing_mapped_column",
            file=file,
            headers=Message("mapping.header_choice", names=[f"'{w}'" for w in wanted]),
            target=target,
            table=table,
            closest=closest,
        )
    )


def _closest(wanted: list[str], headers: list[str], cutoff: float = 0.6) -> str | None:
    """The header most like one of ``wanted`` (difflib's ratio, then the longest common
    start: ``tmt_cpn`` for ``tmt_cpns`` rather than ``tmt_pns``), or None below ``cutoff``."""
    best: tuple[float, int] | None = None
    found = None
    for target in map(norm_header, wanted):
        for header in headers:
            name = norm_header(header)
            score = difflib.SequenceMatcher(None, target, name).ratio()
            start = len(os.path.commonprefix([target, name]))
            if score >= cutoff and (best is None or (score, start) > best):
                best, found = (score, start), header
    return found


def _column(raw: pd.DataFrame, header: str, file: str, target: str, table: str) -> pd.Series:
    """The export's column named ``header`` (matched as :func:`norm_header` says)."""
    wanted = norm_header(header)
    for name in raw.columns:
        if norm_header(name) == wanted:
            return raw[name]
    raise missing_header(file, [str(h) for h in raw.columns], [header], target, table)


def _cells(values: pd.Series) -> pd.Series:
    """Text cells trimmed, with empty cells and the NULL spellings as missing."""
    text = values.astype("string").str.strip()
    return text.mask(null_spelling(values) | (text == ""))


def _clean_nip(values: pd.Series) -> pd.Series:
    return _cells(values).str.lstrip("'").str.replace(" ", "", regex=False)


# --- the mapping's shape -------------------------------------------------------------
def source_headers(table_map: Mapping) -> set[str]:
    """Headers of the main file that the table's rules read (normalised)."""
    names: set[str] = set()
    agency = table_map.get("agency_from")
    if isinstance(agency, Mapping):
        names.update(agency.get("first_listed") or ())
    nip = table_map.get("nip_from")
    if isinstance(nip, Mapping):
        names.add(nip.get("column", ""))
    status = table_map.get("service_end_from")
    if isinstance(status, Mapping):
        names.add(status.get("status", ""))
    names.update(table_map.get("predicate_from") or ())
    return {norm_header(n) for n in names if n}


def check_rules(spec: Mapping, table: Table, place: Message, kind_of: Callable) -> None:
    """Refuse a rule of the wrong shape or in a table it does not apply to."""
    for key in RULE_KEYS:
        if key not in spec:
            continue
        value = spec[key]
        tables = _RULE_TABLES.get(key)
        column = _RULE_COLUMN.get(key)
        if (tables and table.name not in tables) or (
            column and column not in {c.name for c in table.columns}
        ):
            allowed = tables or [
                name for name, t in CONTRACT.items() if column in {c.name for c in t.columns}
            ]
            raise DataError(
                Message("mapping.rule_table", place=place, key=key, tables=list(allowed))
            )
        if not _rule_shape_ok(key, value):
            raise DataError(
                Message(
                    "mapping.rule_shape",
                    place=place,
                    key=key,
                    kind=kind_of(value),
                    expected=Message(f"mapping.expect_{key}"),
                )
            )
    for column, entry in (spec.get("add") or {}).items():
        extra = sorted(set(entry) - set(_ADD_KEYS[column]))
        if extra:
            raise DataError(
                Message(
                    "mapping.unknown_entries",
                    place=Message("mapping.where_add", place=place, column=column),
                    extra=str(extra),
                    keys=", ".join(_ADD_KEYS[column]),
                )
            )


def _names(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _lookup_ok(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"column", "employees"} and all(
        isinstance(v, str) for v in value.values()
    )  # fmt: skip


def _rule_shape_ok(key: str, value: Any) -> bool:
    if key == "agency_from":
        if value == "employees":
            return True
        return isinstance(value, Mapping) and set(value) == {"first_listed"} and _names(
            value["first_listed"]
        )  # fmt: skip
    if key == "nip_from":
        return _lookup_ok(value)
    if key == "service_end_from":
        return (
            isinstance(value, Mapping)
            and set(value) == {"status", "active", "inactive", "end"}
            and isinstance(value["status"], str)
            and _names(value["active"])
            and _names(value["inactive"])
            and value["end"] == "data_date"
        )
    if key == "predicate_from":
        return _names(value) and len(value) == 2
    if key == "jp_unit":
        return value in JP_UNITS
    if key == "add":
        if not isinstance(value, Mapping) or not value or not set(value) <= set(ADDABLE):
            return False
        for column, entry in value.items():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("file"), str):
                return False
            if not isinstance(entry.get("columns") or {}, Mapping):
                return False
            if "nip_from" in entry and not _lookup_ok(entry["nip_from"]):
                return False
            if column == "sanction_level" and not all(
                isinstance(entry.get(k), str) for k in ("date", "type")
            ):
                return False
        return True
    return False


# --- applying the rules --------------------------------------------------------------
@dataclass
class Context:
    """What the rules of one table read from the rest of the dataset.

    Filled by :func:`asn_eval.data.validate.load_dataset` as the tables are read, agencies
    first, then employees: ``agency_codes`` (every code of the agencies file),
    ``employees_export`` (the employees file as read, all its columns) with
    ``employee_nips`` (its cleaned NIPs, by line) and ``employee_agency`` (NIP -> agency code
    as the employees table gives it). ``date_order`` decides the order of day and month of
    a date column (validation's check, so that a history file's dates are read as the main
    files' are).
    """

    data_dir: Path
    data_date: pd.Timestamp | None = None
    years: list[int] | None = None
    agency_codes: set[str] = field(default_factory=set)
    employees_export: pd.DataFrame | None = None
    employees_file: str = "employees"
    employee_nips: pd.Series | None = None
    employee_agency: dict[str, str] = field(default_factory=dict)
    date_order: Callable[..., str] | None = None


@dataclass
class Outcome:
    """What the rules did to one table's mapped frame.

    ``problems`` are ``(line, column, rule)`` of the main file, as validation records them;
    ``shown`` gives the value rejects.csv shows for a cell the rules filled (the label or
    rating that could not be read); ``origins`` names, for a cell taken from another file,
    that file and line (``cause`` of its reject); ``side_rejects`` are lines of those other
    files that could not be added to any row: ``(file, line, column, value, rule)``.
    """

    problems: list[tuple[int, str, str]] = field(default_factory=list)
    shown: dict[tuple[int, str], str] = field(default_factory=dict)
    origins: dict[tuple[int, str], tuple[str, int]] = field(default_factory=dict)
    side_rejects: list[tuple[str, int, str, str, str]] = field(default_factory=list)

    @property
    def lines(self) -> set[int]:
        return {line for line, _, _ in self.problems}


def apply_rules(
    raw: pd.DataFrame,
    mapped: pd.DataFrame,
    table_map: Mapping,
    table: Table,
    file: str,
    context: Context,
) -> Outcome:
    """Fill ``mapped``'s contract columns by the table's rules (in place).

    ``raw`` is the export as read (index = file line), ``mapped`` the frame of contract
    columns :func:`asn_eval.data.validate._apply_mapping` made from it. The cells are left
    as text, to be parsed and checked like any other.
    """
    outcome = Outcome()
    if "nip_from" in table_map:
        mapped["nip"] = _nips_by_lookup(raw, table_map["nip_from"], file, table.name, context)
        unknown = mapped.index[mapped["nip"].isna().to_numpy()]
        outcome.problems += [(int(line), "nip", "unknown_employee") for line in unknown]
    agency = table_map.get("agency_from")
    if agency == "employees":
        nips = _clean_nip(mapped["nip"])
        mapped["agency_code"] = nips.map(context.employee_agency).astype(object)
    elif agency is not None:
        mapped["agency_code"] = _first_listed(raw, agency["first_listed"], file, table, context)
    if "service_end_from" in table_map:
        _service_end(raw, mapped, table_map["service_end_from"], file, table, context, outcome)
    if "predicate_from" in table_map:
        _predicate(raw, mapped, table_map["predicate_from"], file, table, outcome)
    aliases = ((table_map.get("values") or {}).get("sanction_level")) or {}
    for column, entry in (table_map.get("add") or {}).items():
        _add(mapped, column, entry, table, context, outcome, aliases)
    return outcome


def convert_units(frame: pd.DataFrame, table_map: Mapping) -> None:
    """Parsed values in the contract's units (in place): training hours become JP."""
    if table_map.get("jp_unit") == "hours" and "jp" in frame:
        frame["jp"] = frame["jp"] * MINUTES_PER_HOUR / MINUTES_PER_JP


def _nips_by_lookup(
    raw: pd.DataFrame, lookup: Mapping, file: str, table: str, context: Context
) -> pd.Series:
    """NIPs found through another identifier of the employees export (a PNS ID)."""
    ids = _cells(_column(raw, lookup["column"], file, "nip", table))
    return ids.map(_id_to_nip(lookup["employees"], context)).astype(object)


def _id_to_nip(header: str, context: Context) -> dict[str, str]:
    export = context.employees_export
    if export is None or context.employee_nips is None:
        return {}
    ids = _cells(_column(export, header, context.employees_file, "nip", "employees"))
    pairs = pd.DataFrame({"id": ids, "nip": context.employee_nips.reindex(ids.index)})
    pairs = pairs.dropna().drop_duplicates()
    # An identifier given to two NIPs names neither: its rows are rejected as unknown.
    pairs = pairs[pairs.groupby("id")["nip"].transform("size") == 1]
    return dict(zip(pairs["id"], pairs["nip"], strict=True))


def _first_listed(
    raw: pd.DataFrame, headers: list[str], file: str, table: Table, context: Context
) -> pd.Series:
    columns = [_cells(_column(raw, h, file, "agency_code", table.name)) for h in headers]
    chosen = pd.Series(pd.NA, index=raw.index, dtype="string")
    for values in columns:  # the first listed one wins
        listed = values.isin(context.agency_codes) & chosen.isna()
        chosen = chosen.mask(listed.to_numpy(), values)
    fallback = pd.Series(pd.NA, index=raw.index, dtype="string")
    for values in columns:  # else the last one with a value, so that its reject names it
        fallback = values.where(values.notna(), fallback)
    return chosen.fillna(fallback).astype(object)


def _labels(labels: list[str]) -> set[str]:
    return set(normalise_label(pd.Series(labels, dtype="string")).dropna())


def _service_end(
    raw: pd.DataFrame,
    mapped: pd.DataFrame,
    rule: Mapping,
    file: str,
    table: Table,
    context: Context,
    outcome: Outcome,
) -> None:
    if context.data_date is None:
        raise DataError(Message("mapping.needs_data_date", file=file, status=rule["status"]))
    status = _cells(_column(raw, rule["status"], file, "service_end", table.name))
    exported = mapped["service_end"] if "service_end" in mapped else None
    given = (
        _cells(exported).notna()
        if exported is not None
        else pd.Series(False, index=mapped.index)
    )  # fmt: skip
    key = normalise_label(status)
    active, inactive = key.isin(_labels(rule["active"])), key.isin(_labels(rule["inactive"]))
    end = pd.Series(pd.NA, index=mapped.index, dtype=object)
    end[inactive.to_numpy(dtype=bool)] = f"{context.data_date:%Y-%m-%d}"
    if exported is not None:
        end = exported.where(given, end)
    mapped["service_end"] = end
    todo = ~given
    for mask, rule_name in (
        (todo & status.isna(), "missing_value"),
        (todo & status.notna() & ~active & ~inactive, "invalid_category"),
    ):
        for line in mapped.index[mask.to_numpy(dtype=bool)]:
            outcome.problems.append((int(line), "service_end", rule_name))
            value = status.get(line)
            outcome.shown[(int(line), "service_end")] = "" if pd.isna(value) else str(value)


def rating(value: Any) -> Any:
    """A rating of PermenPANRB 6/2022 as :data:`SKP_RATINGS` writes it (``"DIATAS
    EKSPEKTASI"`` -> ``"di atas"``); text that is no rating is returned as it is."""
    if not isinstance(value, str):
        return value
    text = re.sub(r"\s+", " ", value.strip().lower())
    text = re.sub(r"\s*ekspektasi$", "", text)
    return {"diatas": "di atas", "dibawah": "di bawah"}.get(text, text)


def _predicate(
    raw: pd.DataFrame,
    mapped: pd.DataFrame,
    headers: list[str],
    file: str,
    table: Table,
    outcome: Outcome,
) -> None:
    given = mapped["skp_predicate"] if "skp_predicate" in mapped else None
    empty = (
        _cells(given).isna() if given is not None else pd.Series(True, index=mapped.index)
    )  # fmt: skip
    results, behaviour = (
        _cells(_column(raw, h, file, "skp_predicate", table.name)).astype(object).map(rating)
        for h in headers
    )
    predicate = given.copy() if given is not None else pd.Series(pd.NA, index=mapped.index)
    predicate = predicate.astype(object)
    for line in mapped.index[empty.to_numpy(dtype=bool)]:
        pair = (results[line], behaviour[line])
        if any(pd.isna(p) for p in pair):
            predicate[line] = pd.NA  # a rating missing: the predicate is unknown
        elif pair in SKP_MATRIX:
            predicate[line] = SKP_MATRIX[pair]
        else:
            predicate[line] = pd.NA
            outcome.problems.append((int(line), "skp_predicate", "invalid_category"))
            shown = " / ".join(str(_column(raw, h, file, "", "")[line]) for h in headers)
            outcome.shown[(int(line), "skp_predicate")] = shown
    mapped["skp_predicate"] = predicate


# --- values added from other files ----------------------------------------------------
def _add(
    mapped: pd.DataFrame,
    column: str,
    entry: Mapping,
    table: Table,
    context: Context,
    outcome: Outcome,
    aliases: Mapping,
) -> None:
    """Fill ``column`` of every row from the lines of another file for its NIP and year."""
    path = find_table_file(context.data_dir, column, entry["file"])
    if path is None:
        raise DataError(
            Message(
                "mapping.add_file_missing",
                column=column,
                table=table.name,
                file=entry["file"],
                folder=context.data_dir,
            )
        )
    side = read_raw(path, sheet=entry.get("sheet"))
    file = path.name
    renames = {norm_header(k): v for k, v in (entry.get("columns") or {}).items()}
    used = set(renames) | {
        norm_header(entry[k]) for k in ("date", "type", "regulation", "cancelled") if k in entry
    }
    if "nip_from" in entry:
        used.add(norm_header(entry["nip_from"]["column"]))
    check_headers([str(h) for h in side.columns], used, file)

    def mapped_column(target: str) -> pd.Series:
        headers = [k for k, v in (entry.get("columns") or {}).items() if v == target]
        for header in headers:
            for name in side.columns:
                if norm_header(name) == norm_header(header):
                    return side[name]
        raise missing_header(file, [str(h) for h in side.columns], headers or [target],
                             target, table.name)  # fmt: skip

    if "nip_from" in entry:
        nips = _nips_by_lookup(side, entry["nip_from"], file, table.name, context)
        nips = pd.Series(nips, index=side.index, dtype="string")
    else:
        nips = _clean_nip(mapped_column("nip"))
    if column == "sanction_level":
        dates = _cells(_column(side, entry["date"], file, column, table.name))
        order = "dmy"
        if context.date_order is not None:
            order = context.date_order(dates, entry["date"], file, entry)
        parsed, bad_date = parse_date(dates, order=order)
        years = parsed.dt.year.astype("Int64")
        year_header = entry["date"]
    else:
        years, bad_date = parse_int(_cells(mapped_column("year")))
        years = years.astype("Int64")
        year_header = "year"
    rejected: set[int] = set()
    if column == "sanction_level" and "cancelled" in entry:
        # An annulled sanction (a number of the SK that cancels it) is no sanction: it is
        # neither added nor a reject, whatever its other cells hold.
        annulled = _cells(_column(side, entry["cancelled"], file, column, table.name)).notna()
        rejected.update(int(line) for line in side.index[annulled.to_numpy(dtype=bool)])

    def reject(mask: pd.Series, where: str, rule: str, values: pd.Series) -> None:
        for line in side.index[mask.to_numpy(dtype=bool)]:
            if int(line) in rejected:
                continue
            rejected.add(int(line))
            value = values.get(line)
            shown = "" if pd.isna(value) else str(value)
            outcome.side_rejects.append((file, int(line), where, shown, rule))

    nip_missing = nips.isna()
    reject(nip_missing, "nip", "unknown_employee" if "nip_from" in entry else "missing_value",
           nips)  # fmt: skip
    raw_years = dates if column == "sanction_level" else mapped_column("year")
    bad_date = bad_date.fillna(False).astype(bool)
    reject(bad_date, year_header, "invalid_date" if column == "sanction_level"
           else "invalid_number", raw_years)  # fmt: skip
    reject(years.isna() & ~bad_date, year_header, "missing_value", raw_years)
    if context.years:
        outside = years.notna() & ~years.isin(context.years)
        reject(outside.fillna(False), year_header, "outside_years", raw_years)
    main_nips = _clean_nip(mapped["nip"]) if "nip" in mapped else None
    main_years = parse_int(_cells(mapped["year"]))[0].astype("Int64")
    main_keys = pd.MultiIndex.from_arrays([main_nips, main_years])
    keys = pd.MultiIndex.from_arrays([nips, years])
    no_row = ~keys.isin(main_keys) & nips.notna().to_numpy() & years.notna().to_numpy()
    reject(pd.Series(no_row, index=side.index), year_header, "no_row_for_year", years)
    good = ~side.index.isin(list(rejected))
    if column == "sanction_level":
        _add_sanctions(side, entry, file, table, nips, years, good, mapped, outcome, aliases)
    else:
        _add_values(side, mapped_column(column), file, nips, years, good, mapped, column,
                    outcome, reject)  # fmt: skip


def _main_line_of(mapped: pd.DataFrame) -> dict[tuple[str, int], int]:
    nips = _clean_nip(mapped["nip"])
    years = parse_int(_cells(mapped["year"]))[0].astype("Int64")
    keys = pd.DataFrame({"nip": nips, "year": years, "line": mapped.index})
    keys = keys.dropna().drop_duplicates(["nip", "year"], keep="first")
    return {(n, int(y)): int(line) for n, y, line in keys.itertuples(index=False)}


def _add_values(
    side: pd.DataFrame,
    values: pd.Series,
    file: str,
    nips: pd.Series,
    years: pd.Series,
    good: np.ndarray,
    mapped: pd.DataFrame,
    column: str,
    outcome: Outcome,
    reject: Callable,
) -> None:
    """One value per employee and year (an attendance recap)."""
    frame = pd.DataFrame({"nip": nips, "year": years, "value": values.astype("string")})[good]
    repeat = frame.duplicated(keep="first")
    if repeat.any():
        first = frame.reset_index().groupby(["nip", "year", "value"], dropna=False)["line"]
        first = pd.Series(first.transform("first").to_numpy(), index=frame.index)
        same_as = first.map(lambda n: Message("rejects.same_as", line=n).text("en"))
        reject(pd.Series(side.index.isin(frame.index[repeat]), index=side.index), "(row)",
               "duplicate_row", same_as)  # fmt: skip
    frame = frame[~repeat]
    twice = frame.duplicated(["nip", "year"], keep=False)
    if twice.any():
        lines = ", ".join(map(str, sorted(frame.index[twice])[:6]))
        raise DataError(
            Message(
                "table.duplicate_keys",
                file=file,
                count=int(twice.sum()),
                key="nip + year",
                lines=lines,
            )
        )
    main = _main_line_of(mapped)
    cells = pd.Series(pd.NA, index=mapped.index, dtype=object)
    for side_line, (nip, year, value) in frame.iterrows():
        line = main[(nip, int(year))]
        cells[line] = value
        outcome.origins[(line, column)] = (file, int(side_line))
    mapped[column] = cells


def sanction_key(text: Any) -> str:
    """A sanction type as it is matched: lower case, words only, without what is in
    brackets and without filler words ("Pemotongan Tunjangan Kinerja Sebesar 25% (dua puluh
    lima persen) Selama 6 (enam) Bulan" -> "pemotongan tunjangan kinerja 25% 6 bulan")."""
    value = re.sub(r"\([^)]*\)", " ", str(text).lower())
    value = re.sub(r"(\d)\s*%", r"\1%", value)
    words = re.findall(r"[a-z0-9%]+", value)
    return " ".join(w for w in words if w not in _FILLER)


_FILLER = frozenset({"sebesar", "secara", "selama", "sebagai", "dari", "menjadi", "dalam",
                     "rangka", "yang"})  # fmt: skip


def regulation_key(text: Any) -> str | None:
    """The regulation of a sanction, ``"94/2021"``, from how a history writes its number
    (``"94 Tahun 2021"``, ``"PP 94/2021"``, ``"PP No. 53 Th. 2010"``); None when empty."""
    if text is None or pd.isna(text) or not str(text).strip():
        return None
    found = re.search(r"(\d+)\D+?((?:19|20)\d\d)", str(text))
    return f"{int(found[1])}/{found[2]}" if found else str(text).strip()


def _sanction_levels() -> dict[str | None, dict[str, str]]:
    levels: dict[str | None, dict[str, str]] = {
        regulation: {sanction_key(t): level for t, level in types.items()}
        for regulation, types in DISCIPLINE_SANCTION_TYPES.items()
    }
    # No regulation named: a type of either (the two agree on the types they share).
    levels[None] = {k: v for types in list(levels.values()) for k, v in types.items()}
    return levels


def sanction_level(kind: Any, regulation: Any, aliases: Mapping | None = None) -> str | None:
    """The level (ringan, sedang, berat) of a sanction type under the regulation it names
    (:data:`~asn_eval.domain.regulations.DISCIPLINE_SANCTION_TYPES`); ``aliases`` (the
    mapping's ``values: sanction_level``) name further export labels. None if unknown."""
    if kind is None or pd.isna(kind):
        return None
    for label, level in (aliases or {}).items():
        if sanction_key(label) == sanction_key(kind) and level in DISCIPLINE_LEVELS:
            return level
    types = _sanction_levels().get(regulation_key(regulation))
    return None if types is None else types.get(sanction_key(kind))


def _add_sanctions(
    side: pd.DataFrame,
    entry: Mapping,
    file: str,
    table: Table,
    nips: pd.Series,
    years: pd.Series,
    good: np.ndarray,
    mapped: pd.DataFrame,
    outcome: Outcome,
    aliases: Mapping,
) -> None:
    """The heaviest sanction of each employee and year; a year without one is ``none``.

    (Annulled sanctions were set aside by :func:`_add`.) A type that is not of the
    regulation named rejects the row it belongs to, its reject naming the line of the
    history.
    """
    kinds = _cells(_column(side, entry["type"], file, "sanction_level", table.name))
    regulation = (
        _cells(_column(side, entry["regulation"], file, "sanction_level", table.name))
        if "regulation" in entry
        else pd.Series(pd.NA, index=side.index, dtype="string")
    )
    rank = {level: i for i, level in enumerate(DISCIPLINE_LEVELS)}
    main = _main_line_of(mapped)
    cells = pd.Series(NO_SANCTION, index=mapped.index, dtype=object)
    cells[mapped.index[(_clean_nip(mapped["nip"]).isna()).to_numpy()]] = pd.NA
    best: dict[int, int] = {}
    for side_line in side.index[good]:
        line = main[(nips[side_line], int(years[side_line]))]
        level = sanction_level(kinds[side_line], regulation[side_line], aliases)
        if (line, "sanction_level") in outcome.origins and cells[line] not in rank:
            continue  # an unreadable sanction already decides this row
        if level is None:
            # The label as exported: the row is rejected (invalid_category), its cause this line.
            cells[line] = "" if pd.isna(kinds[side_line]) else str(kinds[side_line])
            outcome.origins[(line, "sanction_level")] = (file, int(side_line))
            continue
        if line not in best or rank[level] > best[line]:
            best[line] = rank[level]
            cells[line] = level
            outcome.origins[(line, "sanction_level")] = (file, int(side_line))
    mapped["sanction_level"] = cells
