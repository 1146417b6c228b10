"""Loading and validating a dataset: nothing is lost silently.

Every input row is either accepted or written to the rejects table with file, line,
column, value and the rule it broke; per table, read = accepted + rejected. A problem that
makes the data unusable raises :class:`~asn_eval.data.errors.DataError` with one readable
paragraph. Right after validation NIPs become keyed pseudonyms and names are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml

from asn_eval.regulations import NIP_LENGTH, NIP_SEX_DIGITS

from .contract import CONTRACT, TABLES, Table
from .errors import DataError
from .io import (
    find_table_file,
    parse_category,
    parse_date,
    parse_int,
    parse_month,
    parse_number,
    read_raw,
)
from .pseudonymise import get_key, pseudonymise

# Project choice: more unknown references than this share of a table's rows means the
# tables do not belong together (a wrong export), not a few typos.
MAX_UNKNOWN_SHARE = 0.02
MIN_APPOINTMENT_AGE = 18  # PNS candidates are at least 18 (PP 11/2017 art. 23)
REJECT_COLUMNS = ("table", "file", "line", "column", "value", "rule")
QUALITY_COLUMNS = ("table", "read", "accepted", "rejected")
HIDDEN = "(hidden)"


@dataclass
class Dataset:
    """Validated, pseudonymised tables and the account of what was rejected.

    Attributes
    ----------
    tables
        Contract tables keyed by name; ``employee_id`` instead of NIP, no names.
    quality
        One row per table: ``table``, ``read``, ``accepted``, ``rejected``.
    rejects
        One row per broken rule: ``table``, ``file``, ``line``, ``column``, ``value``,
        ``rule`` (NIP and name values are hidden).
    metadata
        Content of ``metadata.yaml`` (``synthetic``, ``region``, ``years``, ...).
    """

    tables: dict[str, pd.DataFrame]
    quality: pd.DataFrame
    rejects: pd.DataFrame
    metadata: dict[str, Any]
    source: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        first, last = self.metadata["years"]
        return list(range(int(first), int(last) + 1))

    @property
    def synthetic(self) -> bool:
        return bool(self.metadata.get("synthetic", False))

    def summary(self) -> str:
        """Plain-text per-table summary (read = accepted + rejected)."""
        width = max(len(t) for t in self.quality["table"])
        lines = [f"{'table':<{width}}  {'read':>9}  {'accepted':>9}  {'rejected':>9}"]
        for row in self.quality.itertuples():
            lines.append(
                f"{row.table:<{width}}  {row.read:>9,}  {row.accepted:>9,}  {row.rejected:>9,}"
            )
        total = self.quality[["read", "accepted", "rejected"]].sum()
        lines.append(
            f"{'total':<{width}}  {total['read']:>9,}  {total['accepted']:>9,}  "
            f"{total['rejected']:>9,}"
        )
        if self.synthetic:
            lines.append(self.metadata.get("notice", "synthetic data: illustrative only"))
        return "\n".join(lines)


# --- mapping ------------------------------------------------------------------------
MAPPING_FILE = "mapping.yaml"  # a data folder's own column mapping, read by default
def _norm_header(name: str) -> str:
    return "_".join(str(name).strip().lower().replace("-", " ").split())


def load_mapping(mapping: str | Path | Mapping | None) -> dict:
    """Read a column-mapping YAML (or take a mapping); see ``data/siasn-mapping.yaml``."""
    if mapping is None:
        return {}
    if isinstance(mapping, str | Path):
        path = Path(mapping)
        if not path.exists():
            raise DataError(
                f"Mapping file {path} does not exist. Expected a YAML file mapping export "
                "headers to contract columns (see data/siasn-mapping.yaml). Check the path."
            )
        try:
            mapping = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise DataError(
                f"Mapping file {path.name} is not valid YAML ({error}). Expected a 'tables:' "
                "section as in data/siasn-mapping.yaml. Fix the indentation or quoting."
            ) from None
    tables = dict(mapping).get("tables", {}) or {}
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise DataError(
            f"The mapping names unknown tables {sorted(unknown)}. Expected some of "
            f"{', '.join(TABLES)}. Rename them in the mapping file."
        )
    return tables


def _apply_mapping(raw: pd.DataFrame, spec: Table, table_map: dict) -> pd.DataFrame:
    renames = {_norm_header(k): v for k, v in (table_map.get("columns") or {}).items()}
    columns = {}
    for header in raw.columns:
        target = renames.get(_norm_header(header), _norm_header(header))
        if target not in columns.values():
            columns[header] = target
    frame = raw[list(columns)].rename(columns=columns)
    # Columns an export lacks but that are constant for it (e.g. an all-PNS SIASN export).
    for name, value in (table_map.get("defaults") or {}).items():
        if name not in frame.columns:
            frame[name] = str(value)
    known = {c.name for c in spec.columns}
    return frame[[c for c in frame.columns if c in known]]


# --- column parsing --------------------------------------------------------------------
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
    text = raw.astype("string").str.strip().str.lstrip("'").str.replace(" ", "", regex=False)
    problems: list[tuple] = []
    well_formed = text.str.fullmatch(rf"\d{{{NIP_LENGTH}}}").fillna(False).astype(bool)
    problems += [(i, "nip_format") for i in text.index[~well_formed & text.notna()]]
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


def _parse_column(values: pd.Series, column, table_map: dict) -> tuple[pd.Series, pd.Series, str]:
    """Parse one column by its kind; return ``(parsed, bad_mask, rule)``."""
    kind = column.kind
    if kind in ("float", "money"):
        parsed, bad = parse_number(values)
        return parsed, bad, "invalid_number"
    if kind == "int":
        parsed, bad = parse_int(values)
        return parsed, bad, "invalid_number"
    if kind == "date":
        parsed, bad = parse_date(values)
        return parsed, bad, "invalid_date"
    if kind == "month":
        parsed, bad = parse_month(values)
        return parsed, bad, "invalid_date"
    if kind == "category":
        aliases = (table_map.get("values") or {}).get(column.name) or {}
        parsed, bad = parse_category(values, column.values, aliases=aliases)
        return parsed, bad, "invalid_category"
    text = values.astype("string").str.strip()
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
    if spec.name == "services":
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
    header_cells: int = 0

    def reject(self, lines, column: str, rule: str) -> None:
        self.problems += [(int(line), column, rule) for line in lines]

    @property
    def rejected_lines(self) -> set[int]:
        return {line for line, _, _ in self.problems}


def _read_table(data_dir: Path, spec: Table, table_map: dict) -> _Parsed:
    path = find_table_file(data_dir, spec.name, table_map.get("file"))
    if path is None:
        wanted = table_map.get("file") or f"{spec.name}.csv (or .xlsx, .parquet)"
        raise DataError(
            f"File {wanted} for the '{spec.name}' table is missing in {data_dir}. Expected "
            f"one file per table: {', '.join(TABLES)}. Export the table, or name its file "
            "under 'file:' for this table in the mapping YAML."
        )
    raw = read_raw(path, sheet=table_map.get("sheet", 0))
    mapped = _apply_mapping(raw, spec, table_map)
    missing = [c for c in spec.required if c not in mapped.columns]
    if missing:
        raise DataError(
            f"File {path.name} has no column {', '.join(repr(m) for m in missing)} "
            f"required for the '{spec.name}' table. Found columns: "
            f"{', '.join(map(str, raw.columns))}. Expected: {', '.join(spec.required)}. "
            "Rename the header in the file, or map it under "
            f"'tables: {spec.name}: columns:' in the mapping YAML."
        )
    malformed = raw.attrs.get("malformed", {})
    parsed = _Parsed(
        pd.DataFrame(index=mapped.index), path.name, len(mapped) + len(malformed), raw=mapped
    )
    parsed.cell_counts = dict(malformed)
    parsed.header_cells = raw.attrs.get("header_cells", len(raw.columns))
    parsed.reject(malformed, "(row)", "wrong_cell_count")
    # An exact repeat of an earlier line is an export glitch: keep the first.
    text = mapped.astype("string").fillna("")
    dup = text.duplicated(keep="first")
    if dup.any():
        first_line = text.reset_index().groupby(list(text.columns), sort=False)["line"]
        first = first_line.transform("first").to_numpy()
        parsed.duplicate_of = dict(zip(text.index[dup], first[dup.to_numpy()], strict=True))
        parsed.reject(text.index[dup], "(row)", "duplicate_row")
    for column in spec.columns:
        if column.name not in mapped.columns:
            parsed.frame[column.name] = pd.Series(pd.NA, index=mapped.index, dtype=object)
            continue
        values = mapped[column.name]
        if column.kind == "nip":
            nips, problems = _parse_nip(values, full=spec.name == "employees")
            parsed.frame[column.name] = nips
            for line, rule in problems:
                parsed.reject([line], column.name, rule)
            empty = nips.isna()
        else:
            value, bad, rule = _parse_column(values, column, table_map)
            parsed.frame[column.name] = value
            parsed.reject(values.index[bad.to_numpy()], column.name, rule)
            empty = value.isna() & ~bad
        if not column.nullable:
            parsed.reject(values.index[empty.to_numpy()], column.name, "missing_value")
    for line, column, rule in _pandera_rejects(parsed.frame, spec):
        parsed.reject([line], column, rule)
    return parsed


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
        elif column.kind in ("str", "nip", "category"):
            out[column.name] = values.astype(object)
        else:
            out[column.name] = values
    return pd.DataFrame(out, index=frame.index)


def _hide(value: Any, column: str) -> str:
    if column in ("nip", "name") and value is not None and value == value:
        return HIDDEN
    return "" if value is None or value != value else str(value)


# --- the dataset --------------------------------------------------------------------------
def _metadata(data_dir: Path) -> dict:
    path = data_dir / "metadata.yaml"
    if not path.exists():
        return {"synthetic": False}
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise DataError(
            f"File metadata.yaml in {data_dir} is not valid YAML ({error}). Expected keys "
            "synthetic, region, years, data_date, description. Fix the file."
        ) from None
    return dict(meta)


def _check_keys(name: str, parsed: _Parsed, spec: Table) -> None:
    if not spec.key:
        return
    good = parsed.frame.drop(index=list(parsed.rejected_lines), errors="ignore")
    dup = good.duplicated(subset=list(spec.key), keep=False)
    if dup.any():
        lines = sorted(good.index[dup])[:6]
        shown = ", ".join(map(str, lines))
        key = " + ".join(spec.key)
        raise DataError(
            f"File {parsed.file} has duplicate keys: {int(dup.sum())} rows share their {key} "
            f"with another row but differ in other columns (lines {shown}). Expected one row per "
            f"{key}. Decide which row is right and remove the other from the export."
        )


def _check_references(parsed: _Parsed, spec: Table, known: dict[str, set]) -> None:
    for column, target in spec.references.items():
        values = parsed.frame[column]
        pending = ~parsed.frame.index.isin(list(parsed.rejected_lines)) & values.notna()
        unknown = pending & ~values.isin(known[target])
        if not unknown.any():
            continue
        rule = "unknown_employee" if target == "employees" else "unknown_agency"
        share = unknown.sum() / max(parsed.read, 1)
        if share > MAX_UNKNOWN_SHARE:
            what = "NIPs" if target == "employees" else "agency codes"
            examples = ", ".join(
                "(NIP hidden)" if column == "nip" else str(v)
                for v in values[unknown].drop_duplicates().head(3)
            )
            raise DataError(
                f"File {parsed.file}, column '{column}': {int(unknown.sum())} of {parsed.read} "
                f"rows ({share:.1%}) refer to {what} that are not in the {target} table (e.g. "
                f"{examples}); at most {MAX_UNKNOWN_SHARE:.0%} are tolerated as typos. Expected "
                f"every {column} to appear in {target}. Check that both files come from the "
                "same export and the same codes."
            )
        parsed.reject(values.index[unknown.to_numpy()], column, rule)


def _check_policy_dates(parsed: _Parsed, years: list[int]) -> None:
    first, last = pd.Timestamp(years[0], 1, 1), pd.Timestamp(years[-1], 12, 31)
    for policy in parsed.frame.columns[1:]:
        dates = parsed.frame[policy]
        outside = dates.notna() & ((dates < first) | (dates > last))
        if outside.any():
            line = int(dates.index[outside.to_numpy()][0])
            raise DataError(
                f"File {parsed.file}, column '{policy}': {int(outside.sum())} start dates lie "
                f"outside the data's years {years[0]}-{years[-1]} (first at line {line}: "
                f"{dates[outside].iloc[0]:%d/%m/%Y}). Expected adoption dates inside the "
                "window, so that each agency is observed before and after. Correct the date, "
                "leave it empty if the policy was never adopted, or widen 'years' in "
                "metadata.yaml."
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
        raise DataError(
            f"Data folder {data_dir} does not exist. Expected a folder with one file per "
            f"table ({', '.join(TABLES)}) and metadata.yaml. Check the path."
        )
    if mapping is None and (data_dir / MAPPING_FILE).is_file():
        mapping = data_dir / MAPPING_FILE
    table_maps = load_mapping(mapping)
    metadata = _metadata(data_dir)
    parsed = {name: _read_table(data_dir, CONTRACT[name], table_maps.get(name) or {})
              for name in TABLES}  # fmt: skip
    if "years" not in metadata:
        years = parsed["performance"].frame["year"].dropna().astype(int)
        metadata["years"] = [int(years.min()), int(years.max())]
    metadata.setdefault("synthetic", False)
    years = list(range(int(metadata["years"][0]), int(metadata["years"][1]) + 1))

    for name in TABLES:
        _check_keys(name, parsed[name], CONTRACT[name])
    _check_policy_dates(parsed["policies"], years)
    known: dict[str, set] = {}
    agencies = parsed["agencies"]
    known["agencies"] = set(
        agencies.frame["agency_code"].drop(list(agencies.rejected_lines), errors="ignore")
    )
    _check_references(parsed["employees"], CONTRACT["employees"], known)
    employees = parsed["employees"]
    known["employees"] = set(
        employees.frame["nip"].drop(list(employees.rejected_lines), errors="ignore")
    )
    for name in TABLES:
        if name not in ("agencies", "employees"):
            _check_references(parsed[name], CONTRACT[name], known)

    secret = get_key(key)
    tables, quality, rejects = {}, [], []
    for name in TABLES:
        p = parsed[name]
        bad = p.rejected_lines
        frame = _typed(p.frame.drop(index=list(bad), errors="ignore"), CONTRACT[name])
        quality.append((name, p.read, len(frame), len(bad)))
        duplicate_of = p.duplicate_of
        for line, column, rule in sorted(set(p.problems)):
            if rule == "duplicate_row":
                value = f"same as line {duplicate_of[line]}"
            elif rule == "wrong_cell_count":
                value = f"{p.cell_counts[line]} cells, header has {p.header_cells}"
            else:
                value = _hide(p.raw.at[line, column], column) if column in p.raw else ""
            rejects.append((name, p.file, line, column, value, rule))
        if name == "employees":
            frame["nip_flag"] = _nip_flags(frame)
        if "nip" in frame:
            frame.insert(0, "employee_id", pseudonymise(frame.pop("nip"), secret))
        frame = frame.drop(columns=["name"], errors="ignore")
        tables[name] = frame.reset_index(drop=True)
    return Dataset(
        tables=tables,
        quality=pd.DataFrame(quality, columns=list(QUALITY_COLUMNS)),
        rejects=pd.DataFrame(rejects, columns=list(REJECT_COLUMNS)),
        metadata=metadata,
        source=data_dir,
    )
