"""Writing the synthetic city the way offices export it, with known dirty rows.

Small datasets are written as CSV with Indonesian conventions (semicolons, decimal comma,
thousands dots, ``Rp``, ``31/12/2024`` and ``31 Desember 2024`` dates, some predicates in
capitals), plus a small, documented set of dirty rows whose every expected rejection is
listed in ``truth.json`` under ``dirty_rows``. Large datasets (more than
:data:`~asn_eval.data.synth.CSV_MAX_EMPLOYEES` employees) are written as Parquet, chunk by
chunk, without dirty rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from .contract import COMPARISON_TABLE, TABLES
from .io import format_date_id, format_decimal_id, format_thousands_id
from .synth import (
    CSV_MAX_EMPLOYEES,
    DATASET_NAME,
    DEFAULT_EMPLOYEES,
    DEFAULT_SEED,
    DEFAULT_YEARS,
    PREDICATE_FROM_YEAR,
    iter_city,
)

SYNTHETIC_NOTICE = "synthetic data: illustrative only"
# table -> (separator, write a UTF-8 BOM), as spreadsheet programs in Indonesia save CSV
CSV_STYLE = {
    "agencies": (";", True),
    "employees": (";", True),
    "performance": (";", True),
    "training": (";", False),
    "policies": (";", True),
    "digital_adoption": (",", False),
    "services": (";", False),
    "satisfaction": (",", False),
    "budget": (";", True),
    COMPARISON_TABLE: (";", False),
}
DIRTY_RULES_DOC = {
    "duplicate_row": "the line repeats an earlier line exactly (exported twice)",
    "nip_format": "NIP is not 18 digits",
    "nip_sex_digit": "the NIP's 15th digit (sex) is neither 1 nor 2",
    "invalid_date": "a date that does not exist (e.g. 30/02/2023)",
    "invalid_number": "a number cell that holds text",
    "invalid_category": "a label outside the allowed values (a typo)",
    "out_of_range": "a number below the minimum or above the maximum",
    "unknown_employee": "a NIP that is not in employees",
    "completed_exceeds_requests": "more requests completed than received",
}


def _jp_text(jp: pd.Series) -> pd.Series:
    whole = jp == np.floor(jp)
    return jp.map(lambda v: str(int(v))).where(whole, format_decimal_id(jp, 1))


def format_tables(tables: Mapping[str, pd.DataFrame], rng: np.random.Generator) -> dict:
    """Turn clean tables into text frames in Indonesian office formats."""
    out = {}
    emp = tables["employees"].copy()
    emp["birth_date"] = format_date_id(emp["birth_date"], style="dmy")
    emp["service_start"] = format_date_id(emp["service_start"], style="long")
    emp["service_end"] = format_date_id(emp["service_end"], style="dmy")
    out["employees"] = emp
    perf = tables["performance"].copy()
    upper = rng.random(len(perf)) < 0.1  # some offices type predicates in capitals
    pred = perf["skp_predicate"].astype(object)
    perf["skp_predicate"] = pred.where(~(upper & pred.notna()), pred.str.upper()).fillna("")
    perf["skp_score"] = format_decimal_id(perf["skp_score"], 2)
    out["performance"] = perf
    tr = tables["training"].copy()
    tr["date"] = format_date_id(tr["date"], style="dmy")
    tr["jp"] = _jp_text(tr["jp"])
    out["training"] = tr
    pol = tables["policies"].copy()
    for column in pol.columns[1:]:
        pol[column] = format_date_id(pol[column], style="long")
    out["policies"] = pol
    dig = tables["digital_adoption"].copy()
    dig["first_use"] = format_date_id(dig["first_use"], style="iso")
    out["digital_adoption"] = dig
    sv = tables["services"].copy()
    sv["month"] = format_date_id(sv["month"], style="iso")
    sv["median_time"] = format_decimal_id(sv["median_time"], 1)
    sv["share_within_standard"] = format_decimal_id(sv["share_within_standard"], 3)
    out["services"] = sv
    out["satisfaction"] = tables["satisfaction"].copy()
    bud = tables["budget"].copy()
    bud["training_budget"] = format_thousands_id(bud["training_budget"], prefix="Rp ")
    out["budget"] = bud
    out["agencies"] = tables["agencies"].copy()
    return {name: out[name].astype(object).where(out[name].notna(), "") for name in TABLES}


def _comparison_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The comparison offices' services in the formats of services.csv."""
    out = frame.copy()
    out["month"] = format_date_id(out["month"], style="iso")
    out["median_time"] = format_decimal_id(out["median_time"], 1)
    out["share_within_standard"] = format_decimal_id(out["share_within_standard"], 3)
    return out.astype(object).where(out.notna(), "")


def _fake_nip(rng: np.random.Generator, used: set[str]) -> str:
    while True:
        year, month, day = rng.integers(1965, 1995), rng.integers(1, 13), rng.integers(1, 29)
        nip = (
            f"{year}{month:02d}{day:02d}{year + 25}{month:02d}{rng.integers(1, 3)}"
            f"{rng.integers(1, 999):03d}"
        )
        if nip not in used:
            used.add(nip)
            return nip


def inject_dirty_rows(text: dict[str, pd.DataFrame], rng: np.random.Generator) -> dict:
    """Add the documented dirty rows; return the manifest of expected rejections.

    Each dirty row breaks exactly one rule, so that validation must report exactly the
    manifest. A few employees also get a sex or birth date that disagrees with their NIP:
    those are flagged (``nip_flag``), not rejected.
    """
    manifest: dict[str, list[dict]] = {}
    flags = {"sex": [], "birth_date": []}
    used = set(text["employees"]["nip"])

    def edit(table, column, value, rule, rows=None, n=1):
        frame = text[table]
        pool = np.flatnonzero(rows) if rows is not None else np.arange(len(frame))
        pool = np.setdiff1d(pool, frame.attrs.setdefault("touched", []))
        picks = rng.choice(pool, size=n, replace=False)
        for pick in picks:
            frame.iat[pick, frame.columns.get_loc(column)] = value
            frame.attrs["touched"].append(pick)
            frame.attrs.setdefault("dirty", []).append((pick, column, rule))

    def untouched(table) -> int:
        frame = text[table]
        pool = np.setdiff1d(np.arange(len(frame)), frame.attrs.setdefault("touched", []))
        return int(rng.choice(pool))

    def insert(table, row_values: dict, column, rule, after=None):
        frame = text[table]
        extra = frame.attrs.setdefault("extra", [])
        position = int(rng.integers(0, len(frame))) if after is None else after
        extra.append((position, row_values, column, rule))

    emp = text["employees"]
    # Sex / birth date disagreeing with the NIP: flagged, not rejected.
    sex_rows = rng.choice(len(emp), size=3, replace=False)
    for pick in sex_rows:
        emp.iat[pick, emp.columns.get_loc("sex")] = "P" if emp["sex"].iat[pick] == "L" else "L"
        flags["sex"].append(emp["nip"].iat[pick])
    emp.attrs["touched"] = list(sex_rows)
    rest = np.setdiff1d(np.arange(len(emp)), sex_rows)
    for pick in rng.choice(rest, size=2, replace=False):
        day, month, year = emp["birth_date"].iat[pick].split("/")
        emp.iat[pick, emp.columns.get_loc("birth_date")] = f"{day}/{month}/{int(year) - 1}"
        flags["birth_date"].append(emp["nip"].iat[pick])
        emp.attrs["touched"].append(pick)
    for _ in range(3):
        pick = untouched("employees")
        insert("employees", emp.iloc[pick].to_dict(), "(row)", "duplicate_row", after=pick)
    template = emp.iloc[untouched("employees")].to_dict()
    for k in range(2):
        nip = _fake_nip(rng, used)
        bad = {**template, "nip": nip[:-1], "name": f"Ghost {k}"}
        insert("employees", bad, "nip", "nip_format")
    # A date that does not exist in a column that rejects its row (a bad birth date would
    # set aside the value alone, and keep these made-up employees).
    for k in range(2):
        nip = _fake_nip(rng, used)
        bad = {**template, "nip": nip, "name": f"Ghost {k + 2}",
               "service_start": f"31/02/{int(nip[:4]) + 25}"}  # fmt: skip
        insert("employees", bad, "service_start", "invalid_date")
    nip = _fake_nip(rng, used)
    bad = {**template, "nip": nip[:14] + "3" + nip[15:], "name": "Ghost 4"}
    insert("employees", bad, "nip", "nip_sex_digit")

    perf = text["performance"]
    late = perf["year"].astype(int) >= PREDICATE_FROM_YEAR
    for typo in ("Sangat Baek", "Baik sekali", "Baiik", "Butuh Perbaikkan"):
        edit("performance", "skp_predicate", typo, "invalid_category", rows=late)
    edit("performance", "absence_days", "-2", "out_of_range", n=3)
    for _ in range(3):
        pick = untouched("performance")
        insert("performance", perf.iloc[pick].to_dict(), "(row)", "duplicate_row", after=pick)
    for _ in range(2):
        row = perf.iloc[untouched("performance")].to_dict()
        insert("performance", {**row, "nip": _fake_nip(rng, used)}, "nip", "unknown_employee")

    edit("training", "date", "30/02/2023", "invalid_date", n=3)
    edit("training", "jp", "0", "out_of_range", n=2)
    edit("training", "jp", "dua", "invalid_number", n=1)
    for _ in range(3):
        pick = untouched("training")
        row = text["training"].iloc[pick].to_dict()
        insert("training", row, "(row)", "duplicate_row", after=pick)

    sv = text["services"]
    for pick in rng.choice(len(sv), size=2, replace=False):
        sv.iat[pick, sv.columns.get_loc("completed")] = str(int(sv["requests"].iat[pick]) + 7)
        sv.attrs.setdefault("dirty", []).append((pick, "completed", "completed_exceeds_requests"))
    edit("satisfaction", "u8", "5", "out_of_range", n=3)

    for table, frame in text.items():
        dirty = frame.attrs.get("dirty", [])
        extra = frame.attrs.get("extra", [])
        order = np.arange(len(frame)) * 2.0
        tags = {int(pick): (column, rule) for pick, column, rule in dirty}
        rows = [frame]
        extra_order = []
        for i, (position, values, column, rule) in enumerate(extra):
            rows.append(pd.DataFrame([values], columns=frame.columns))
            extra_order.append(position * 2.0 + 1 + i * 1e-6)
            tags[len(frame) + i] = (column, rule)
        combined = pd.concat(rows, ignore_index=True)
        sort_key = np.concatenate([order, np.array(extra_order)])
        final = np.argsort(sort_key, kind="stable")
        combined = combined.iloc[final].reset_index(drop=True)
        line_of = {int(old): new + 2 for new, old in enumerate(final)}
        text[table] = combined
        manifest[table] = sorted(
            ({"line": line_of[old], "column": column, "rule": rule}
             for old, (column, rule) in tags.items()),
            key=lambda r: r["line"],
        )  # fmt: skip
    return {"rejects": manifest, "nip_flags": {k: sorted(v) for k, v in flags.items()}}


SYNTHETIC_ISSUER = {
    "office": "BKPSDM Kota Kupang (contoh, data sintetis)",
    "head": "Nama Kepala (contoh)",
    "head_title": "Kepala BKPSDM",
    "place": "Kupang",
    "contact": "contoh@example.invalid",
}


def _metadata(n_employees: int, years: tuple[int, int], seed: int, fmt: str) -> dict:
    return {
        "name": DATASET_NAME if n_employees == DEFAULT_EMPLOYEES else f"synthetic-{n_employees}",
        "synthetic": True,
        "notice": SYNTHETIC_NOTICE,
        # The region as a reader names it; that the data are synthetic is said by
        # "synthetic"/"notice" above, in the reader's language.
        "region": "Kota Kupang",
        "years": [years[0], years[1]],
        "data_date": f"{years[1]}-12-31",
        "description": (
            "Synthetic personnel, performance, training, policy, service and IKM data for a "
            "Kupang-like city, generated with known true effects (truth.json). Not real "
            "people: NIPs and names are fake. Illustrative only."
        ),
        "generator": (
            f"asn-eval synth --seed {seed} --employees {n_employees} "
            f"--years {years[0]}-{years[1]} --force"
        ),
        "format": fmt,
        # Who issues a report built from these data (the cover, a Word letterhead): a
        # fictitious office, so that no real office is named under invented numbers.
        "issuer": dict(SYNTHETIC_ISSUER),
    }


def _readme(meta: dict, dirty: dict | None) -> str:
    lines = [
        f"# {meta['name']}: {SYNTHETIC_NOTICE}",
        "",
        meta["description"],
        "",
        f"Generated by `{meta['generator']}`; the same command gives byte-identical files.",
        "Tables follow the data contract in `data/README.md`. `truth.json` holds every true",
        "effect (by policy, outcome, adoption cohort and years of exposure) and the list of",
        "dirty rows below.",
        "",
    ]
    if dirty:
        lines += [
            "## Dirty rows (on purpose)",
            "",
            "A small, known share of rows is broken the way real exports are; `asn-eval "
            "validate` must reject exactly these (file line numbers count the header as line 1):",
            "",
            "| table | line | column | rule |",
            "|---|---|---|---|",
        ]
        for table, rows in dirty["rejects"].items():
            lines += [f"| {table} | {r['line']} | {r['column']} | {r['rule']} |" for r in rows]
        lines += [
            "",
            "Rules: " + "; ".join(f"`{k}`: {v}" for k, v in DIRTY_RULES_DOC.items()) + ".",
            "",
            "Flagged, not rejected (sex or birth date disagrees with the NIP): "
            f"{len(dirty['nip_flags']['sex'])} employees by sex, "
            f"{len(dirty['nip_flags']['birth_date'])} by birth date.",
            "",
        ]
    return "\n".join(lines)


def _write_csv(frame: pd.DataFrame, path: Path, table: str) -> None:
    sep, bom = CSV_STYLE[table]
    text = frame.to_csv(sep=sep, index=False, lineterminator="\n")
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))


def write_dataset(
    out: str | Path,
    *,
    n_employees: int = DEFAULT_EMPLOYEES,
    years: tuple[int, int] = DEFAULT_YEARS,
    effects: Mapping[str, float] | float | str | Path | None = None,
    seed: int = DEFAULT_SEED,
    fmt: str | None = None,
    dirty: bool | None = None,
    overwrite: bool = False,
) -> Path:
    """Generate the synthetic city and write it to ``out``.

    Parameters
    ----------
    out
        Folder to write (created, with missing parents). A folder that already holds
        files is refused unless ``overwrite``.
    n_employees, years, effects, seed
        See :func:`asn_eval.data.synth.generate_city`.
    fmt
        ``"csv"`` (Indonesian office formats) or ``"parquet"`` (chunked, for large
        datasets); default CSV up to 20,000 employees, Parquet above.
    dirty
        Add the documented dirty rows (default: with CSV only).
    overwrite
        Replace the files this function writes in a folder that already holds files
        (the nine tables in either format, ``metadata.yaml``, ``truth.json`` and
        ``README.md``); any other file in the folder is left alone.

    Returns
    -------
    pathlib.Path
        The folder written, holding the nine tables, ``metadata.yaml``, ``truth.json`` and
        ``README.md``.
    """
    out = Path(out)
    fmt = fmt or ("csv" if n_employees <= CSV_MAX_EMPLOYEES else "parquet")
    dirty = (fmt == "csv") if dirty is None else dirty
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}.")
    present = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if present and not overwrite:
        raise FileExistsError(
            f"{out} already holds files ({', '.join(present[:3])}); write_dataset does not "
            "overwrite a dataset unless overwrite=True."
        )
    out.mkdir(parents=True, exist_ok=True)
    year_range = range(years[0], years[1] + 1)
    stream = iter_city(n_employees=n_employees, years=year_range, effects=effects, seed=seed)
    for name in (*TABLES, COMPARISON_TABLE):  # a table left in the other format would be a
        for suffix in (".csv", ".parquet"):  # second file for it
            stale = out / f"{name}{suffix}"
            if stale.is_file():
                stale.unlink()
    collected: dict[str, list[pd.DataFrame]] = {}
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for kind, part in stream:
            if kind == "end":
                truth = part["truth"]
                part = {k: part[k] for k in ("budget", COMPARISON_TABLE) if k in part}
            for name, frame in part.items():
                if fmt == "csv":
                    collected.setdefault(name, []).append(frame)
                    continue
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if name not in writers:
                    writers[name] = pq.ParquetWriter(out / f"{name}.parquet", table.schema)
                else:  # a chunk whose column is all empty must keep the first chunk's types
                    table = table.cast(writers[name].schema)
                writers[name].write_table(table)
    finally:
        for writer in writers.values():
            writer.close()
    manifest = None
    if fmt == "csv":
        tables = {name: pd.concat(collected[name], ignore_index=True) for name in TABLES}
        text = format_tables(tables, np.random.default_rng([seed, 4]))
        if dirty:
            manifest = inject_dirty_rows(text, np.random.default_rng([seed, 3]))
        for name in TABLES:
            _write_csv(text[name], out / f"{name}.csv", name)
        if COMPARISON_TABLE in collected:  # written clean: its dirty rows would be new draws
            comparison = pd.concat(collected[COMPARISON_TABLE], ignore_index=True)
            _write_csv(_comparison_text(comparison), out / f"{COMPARISON_TABLE}.csv",
                       COMPARISON_TABLE)  # fmt: skip
    meta = _metadata(n_employees, years, seed, fmt)
    (out / "metadata.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    if manifest is not None:
        truth["dirty_rows"] = manifest
    (out / "truth.json").write_text(
        json.dumps(rounded_truth(truth), indent=1, ensure_ascii=False) + "\n"
    )
    (out / "README.md").write_text(_readme(meta, manifest))
    return out


# Significant digits of the true effects in truth.json. The effects are averages over many
# cells, and their last binary digit depends on the order numpy sums in, which differs
# between CPUs (SIMD widths): 12 digits are the same on every machine and far finer than
# any estimate is compared with them.
TRUTH_DIGITS = 12


def rounded_truth(value: Any) -> Any:
    """``value`` (the truth's nested dicts and lists) with every float at
    :data:`TRUTH_DIGITS` significant digits, as ``truth.json`` stores it."""
    if isinstance(value, dict):
        return {k: rounded_truth(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded_truth(v) for v in value]
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{TRUTH_DIGITS}g}")
    return value


def parse_years(text: str) -> tuple[int, int]:
    """``"2019-2025"`` -> ``(2019, 2025)``."""
    first, _, last = text.partition("-")
    try:
        years = int(first), int(last or first)
    except ValueError:
        raise ValueError(f"years must look like 2019-2025, got {text!r}.") from None
    if years[1] - years[0] < 3:
        raise ValueError(f"need at least four years, got {text!r}.")
    return years


__all__ = ["SYNTHETIC_NOTICE", "format_tables", "inject_dirty_rows", "parse_years",
           "write_dataset"]  # fmt: skip
