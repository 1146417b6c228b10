"""Export accidents an office meets in its first week: each one stops with a message that
names the file, the line or column, what it is and how to fix it, or is rejected by rule.

Every test copies the committed dataset and breaks one file the way a real export does.
"""

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from asn_eval.config import PROJECT_ROOT
from asn_eval.data import DataError, load_dataset
from asn_eval.data.contract import RULES
from asn_eval.data.io import read_raw

ROOT = PROJECT_ROOT
DEFAULT = ROOT / "data" / "kupang-synthetic"
KEY = "test-key"
BOM = "\ufeff"


@pytest.fixture
def data(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DEFAULT, target)
    return target


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8-sig").splitlines()


def _write(path: Path, lines: list[str], *, bom: bool = True) -> None:
    path.write_bytes(((BOM if bom else "") + "\n".join(lines) + "\n").encode("utf-8"))


def _set_cell(path: Path, line: int, column: int, value: str, *, sep: str = ";") -> str:
    """Write ``value`` into one cell (file line, 0-based column); return the old value."""
    lines = _lines(path)
    bom = path.read_bytes().startswith(BOM.encode())
    cells = lines[line - 1].split(sep)
    old, cells[column] = cells[column], value
    lines[line - 1] = sep.join(cells)
    _write(path, lines, bom=bom)
    return old


def _error(directory: Path, **kw) -> DataError:
    with pytest.raises(DataError) as info:
        load_dataset(directory, key=KEY, **kw)
    return info.value


def _rejects(dataset, *rules: str) -> list[list]:
    rows = dataset.rejects[dataset.rejects["rule"].isin(rules)]
    return rows[["table", "file", "line", "column", "value", "rule"]].values.tolist()


# --- quotes and separators ---------------------------------------------------------------
def test_stray_quote_in_a_small_table_stops_instead_of_swallowing_rows(data):
    path = data / "agencies.csv"
    old = _set_cell(path, 4, 1, '"Inspektorat Daerah')
    assert old == "Inspektorat Daerah"  # line 4 of 44: the rest of the file ran into it
    assert str(_error(data)) == (
        "File agencies.csv: a double quote on line 4 opens a quoted cell that is never "
        "closed, so lines 4-44 (the end of the file) were read as one row (the file has 44 "
        "lines, the CSV reader found 4 rows). Expected quotes only around a whole cell, closed "
        "on the same line. Remove the stray quote on line 4 (or close it; a line break inside "
        "a cell must go too) and export the table again."
    )


def test_stray_quote_closed_further_down_names_both_lines(data):
    path = data / "agencies.csv"
    _set_cell(path, 4, 1, '"Inspektorat Daerah')
    _set_cell(path, 10, 2, 'dinas"')
    assert str(_error(data)).startswith(
        "File agencies.csv: a double quote on line 4 opens a quoted cell that is closed only "
        "on line 10, so lines 4-10 were read as one row (the file has 44 lines, the CSV reader "
        "found 38 rows)."
    )


def test_stray_quote_in_a_large_table_is_a_message_not_a_csv_traceback(data):
    path = data / "training.csv"
    _set_cell(path, 4, 3, '"teknis')  # 33,000 lines run into one cell: over csv's field limit
    error = _error(data)
    assert str(error) == (
        "File training.csv: the row starting on line 4 could not be read (field larger than "
        "field limit (131072)): a double quote on line 4 opens a quoted cell that is never "
        "closed, so the rest of the file runs into one cell. Expected quotes only around a "
        "whole cell, closed on the same line. Remove the stray quote on line 4 (or close it) "
        "and export the table again."
    )
    # The tables read before it keep their rejects, for rejects.csv.
    assert set(error.rejects["table"]) == {"employees", "performance"}


def test_stray_separator_that_shifts_dates_is_rejected_not_accepted(data):
    path = data / "policies.csv"
    lines = _lines(path)
    assert lines[18] == "5371018;27 Maret 2023;8 Januari 2024;15 Maret 2020;"
    # One separator too many after the code: every date moves one policy to the right and
    # the empty last cell hides the extra one.
    lines[18] = "5371018;;27 Maret 2023;8 Januari 2024;15 Maret 2020;"
    _write(path, lines)
    dataset = load_dataset(data, key=KEY)
    assert _rejects(dataset, "wrong_cell_count") == [
        ["policies", "policies.csv", 19, "(row)", "6 cells, header has 5", "wrong_cell_count"]
    ]
    assert "5371018" not in set(dataset.tables["policies"]["agency_code"])


def test_comma_csv_with_unquoted_decimal_commas_says_so(data):
    path = data / "services.csv"
    _write(path, [line.replace(";", ",") for line in _lines(path)], bom=False)
    assert str(_error(data)) == (
        "File services.csv is separated by commas but also writes decimal numbers with a comma "
        "and without quotes, so a number such as 5,3 is split into two cells: 672 of 672 lines "
        "have more cells than the header (first at line 2: 11 cells, the header has 9). "
        "Expected ';' as the separator (the Indonesian Excel default) or decimal numbers in "
        "quotes. Export the table again as CSV separated by ';', or save it as .xlsx."
    )


def test_rows_with_another_separator_than_the_header_say_so(data):
    path = data / "agencies.csv"
    lines = _lines(path)
    _write(path, [lines[0]] + [line.replace(";", ",") for line in lines[1:]])
    assert str(_error(data)) == (
        "File agencies.csv: 43 of 43 lines do not have the header's 3 cells (first at line 2: "
        "1 cell) when read with ';' as the separator, the one the header uses. Expected the "
        "same separator in the header and in every line. Export the table again as one CSV "
        "with one separator (';' or ',')."
    )


# --- encodings and file types ---------------------------------------------------------------
def test_utf8_file_with_one_windows_1252_byte_names_line_and_byte(data):
    path = data / "agencies.csv"
    lines = path.read_bytes().split(b"\n")
    assert lines[6].startswith(b"5371006;Dinas Pekerjaan")
    lines[6] = lines[6].replace(b"Dinas", b"Din\xe9s", 1)  # an accented letter pasted in
    path.write_bytes(b"\n".join(lines))
    assert str(_error(data)) == (
        "File agencies.csv is saved as UTF-8, but line 7 holds a byte that is not UTF-8 (0xE9, "
        "which is '\u00e9' in Windows-1252), as happens when text from another program is pasted "
        "into the file. Expected one encoding for the whole file. Retype the character on line "
        "7, or open the file in a spreadsheet program and save it again as 'CSV UTF-8'."
    )


def test_utf8_without_bom_is_recognised_by_its_accented_letters(data):
    path = data / "agencies.csv"
    lines = path.read_bytes()[3:].split(b"\n")  # no BOM
    lines[2] = lines[2].replace(b"Sekretariat", "Sekretariat \u2013".encode(), 1)
    lines[7] += b"\x96"  # an en dash in Windows-1252
    path.write_bytes(b"\n".join(lines))
    assert str(_error(data)).startswith(
        "File agencies.csv is saved as UTF-8, but line 8 holds a byte that is not UTF-8 (0x96, "
        "which is '\u2013' in Windows-1252)"
    )


def test_two_files_for_one_table_are_refused_naming_both(data):
    read_raw(data / "agencies.csv").to_excel(data / "agencies.xlsx", index=False)
    assert str(_error(data)) == (
        f"The 'agencies' table has 2 files in {data}: agencies.csv and agencies.xlsx. Expected "
        "one file per table, so that it is clear which export is the current one. Move the "
        "older file out of the data folder (or name the right one under 'file:' for this table "
        "in the mapping YAML)."
    )


def _to_workbook(data: Path, table: str, first_sheet: pd.DataFrame, name: str) -> None:
    frame = read_raw(data / f"{table}.csv").reset_index(drop=True)
    (data / f"{table}.csv").unlink()
    with pd.ExcelWriter(data / f"{table}.xlsx") as writer:
        first_sheet.to_excel(writer, sheet_name=name, index=False)
        frame.to_excel(writer, sheet_name="OPD", index=False)


def test_table_on_a_later_sheet_behind_an_empty_one(data):
    _to_workbook(data, "agencies", pd.DataFrame(), "Sampul")
    assert str(_error(data)) == (
        "File agencies.xlsx: its first sheet 'Sampul' is empty, and the data seem to be on "
        "sheet 'OPD'. Expected the table on the first sheet, with the header in row 1. Move "
        "sheet 'OPD' to the front in Excel, or set 'sheet: OPD' for this table in the mapping "
        "YAML."
    )


def test_table_on_a_later_sheet_behind_a_cover_sheet(data):
    cover = pd.DataFrame({"Daftar Perangkat Daerah Kota Kupang": ["Sumber: BKPSDM", "2025"]})
    _to_workbook(data, "agencies", cover, "Keterangan")
    assert str(_error(data)) == (
        "File agencies.xlsx: its first sheet 'Keterangan' does not hold the 'agencies' table, "
        "which seems to be on sheet 'OPD'. Expected the table on the first sheet, with the "
        "header in row 1. Move sheet 'OPD' to the front in Excel, or set 'sheet: OPD' for this "
        "table in the mapping YAML."
    )
    # Named in the mapping, the sheet is read.
    mapping = {"tables": {"agencies": {"sheet": "OPD"}}}
    assert len(load_dataset(data, key=KEY, mapping=mapping).tables["agencies"]) == 43


def test_zero_byte_parquet(data):
    (data / "agencies.csv").unlink()
    (data / "agencies.parquet").write_bytes(b"")
    assert str(_error(data)) == (
        "File agencies.parquet is empty (0 bytes), as when an export or a copy did not finish. "
        "Expected a header row and at least one data row. Export the table again."
    )


def test_truncated_parquet(data):
    frame = read_raw(data / "agencies.csv").reset_index(drop=True)
    frame.to_parquet(data / "agencies.parquet")
    (data / "agencies.csv").unlink()
    whole = (data / "agencies.parquet").read_bytes()
    (data / "agencies.parquet").write_bytes(whole[: len(whole) // 2])
    assert str(_error(data)) == (
        "File agencies.parquet is an incomplete Parquet file: its end is missing, as when a copy "
        "or download stops early. Expected a complete file. Copy or export it again."
    )


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_csv_renamed_as_parquet_or_excel(data, suffix):
    (data / "agencies.csv").rename(data / f"agencies{suffix}")
    kind = "Parquet file" if suffix == ".parquet" else "Excel workbook"
    assert str(_error(data)) == (
        f"File agencies{suffix} is not a real {kind}: it holds plain text, like a CSV file that "
        "was renamed. Expected the file type its name says. Rename it to .csv if it is a CSV "
        f"export, or export the table again as {suffix}."
    )


def test_duplicated_column_header(data):
    path = data / "agencies.csv"
    lines = _lines(path)
    lines[0] = lines[0].replace("agency_type", "Agency Code")
    _write(path, lines)
    assert str(_error(data)) == (
        "File agencies.csv has 2 columns for 'agency_code': 'agency_code' (column 1), 'Agency "
        "Code' (column 3). Expected each column once, so that it is clear which one holds the "
        "data. Delete or rename the extra column, or map only one of them in the mapping YAML."
    )


# --- NIPs stored as numbers ------------------------------------------------------------------
NIP_FIX = (
    "Excel stored NIP as a number and lost its last digits; format the column as Text and "
    "export again."
)


def _employees(data: Path) -> pd.DataFrame:
    return pd.read_csv(
        data / "employees.csv", sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False
    )


def test_nips_in_scientific_notation_name_the_employees_file(data):
    frame = _employees(data)
    # What Excel writes to CSV for a number column in an Indonesian locale.
    frame["nip"] = [f"{float(v):.5E}".replace(".", ",") for v in frame["nip"]]
    assert frame["nip"].iloc[0] == "1,97610E+17"
    frame.to_csv(data / "employees.csv", sep=";", index=False)
    assert str(_error(data)) == (
        "File employees.csv, column 'nip': 3,008 of 3,008 NIPs are written in scientific "
        "notation (like 1.97610E+17) (first at line 2), the mark of a number format that keeps "
        f"only 15 digits. {NIP_FIX} Expected NIPs as 18-digit text; the lost digits tell one "
        "employee from another, so they cannot be repaired here."
    )


def test_nips_rounded_to_15_digits_in_a_workbook_are_not_other_people(data):
    frame = read_raw(data / "employees.csv").reset_index(drop=True)
    # Excel keeps 15 significant digits of a number cell, stored as a float.
    frame["nip"] = pd.to_numeric(frame["nip"], errors="coerce").round(-3)
    (data / "employees.csv").unlink()
    frame.to_excel(data / "employees.xlsx", index=False)
    message = str(_error(data))
    assert message.startswith("File employees.xlsx, column 'nip': ")
    assert "NIPs are written as numbers rounded to 15 significant digits (first at line 2)" in (
        message
    )
    assert NIP_FIX in message


def test_nips_as_15_digits_and_000_in_csv(data):
    frame = _employees(data)
    frame["nip"] = frame["nip"].str.slice(0, 15) + "000"
    frame.to_csv(data / "employees.csv", sep=";", index=False)
    assert str(_error(data)).startswith(
        "File employees.csv, column 'nip': 3,008 of 3,008 NIPs are written as numbers rounded "
        "to 15 significant digits (first at line 2)"
    )


def test_float_parquet_nip_column(data):
    frame = read_raw(data / "performance.csv").reset_index(drop=True)
    frame["nip"] = pd.to_numeric(frame["nip"], errors="coerce").astype(float)
    (data / "performance.csv").unlink()
    frame.to_parquet(data / "performance.parquet")
    assert str(_error(data)) == (
        "File performance.parquet, column 'nip': the NIPs are stored as floating-point "
        "numbers, which keep only 15 to 16 significant digits, so the last digits of an "
        f"18-digit NIP are lost and may point to another employee. {NIP_FIX} Expected NIPs as "
        "18-digit text (a Parquet string or integer column)."
    )


def test_one_nip_in_scientific_notation_is_rejected_by_rule(data):
    _set_cell(data / "performance.csv", 6, 0, "1,97610E+17")
    dataset = load_dataset(data, key=KEY)
    assert _rejects(dataset, "nip_as_number") == [
        ["performance", "performance.csv", 6, "nip", "(hidden)", "nip_as_number"]
    ]


# --- one table broken badly ------------------------------------------------------------------
def test_broken_root_table_is_named_and_its_rejects_are_kept(data):
    frame = _employees(data)
    frame.loc[::3, "service_start"] = "31/02/1980"  # a third of the employees rejected
    frame.to_csv(data / "employees.csv", sep=";", index=False)
    error = _error(data)
    assert str(error) == (
        "File employees.csv lost 1,006 of 3,008 rows to validation (most often invalid_date "
        "1,005, nip_format 2, nip_sex_digit 1), so 6,060 of 18,327 rows of performance.csv "
        "(33.1%) refer to NIPs whose rows in employees.csv were rejected. Expected "
        "employees.csv to pass validation first: the problem is there, not in performance.csv. "
        "Fix employees.csv (rejects.csv lists each rejected line and its rule) and run again."
    )
    lost = error.rejects[(error.rejects["table"] == "employees")]
    assert (lost["rule"] == "invalid_date").sum() == 1005
    assert list(error.rejects.columns) == [
        "table", "file", "line", "column", "value", "rule", "set_aside", "cause",
    ]  # fmt: skip


# --- metadata.yaml and the mapping -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "- synthetic: true\n- years: [2019, 2025]\n",
            " holds a list, not 'key: value' entries. Expected keys synthetic, region, years, "
            "data_date, description, e.g. 'synthetic: false', 'region: Kota Kupang', 'years: "
            "[2019, 2025]', \"data_date: '2025-12-31'\". Rewrite the file in that form.",
        ),
        (
            "years: [2025, 2019]\n",
            ": 'years' runs backwards (2025 to 2019). Expected the first year first, 'years: "
            "[2019, 2025]'. Swap the two years.",
        ),
        (
            "years: ['2019', '2025']\n",
            ": 'years' holds the list ['2019', '2025']. Expected the first and last year "
            "covered as two whole numbers without quotes, 'years: [2019, 2025]'. Correct the "
            "line.",
        ),
        (
            "years: 2019-2025\n",
            ": 'years' holds the text '2019-2025'. Expected the first and last year covered as "
            "two whole numbers without quotes, 'years: [2019, 2025]'. Correct the line.",
        ),
        (
            "synthetic: 'false'\n",
            ": 'synthetic' holds the text 'false', not true or false. Expected 'synthetic: "
            "true' or 'synthetic: false' without quotes (YAML reads a quoted 'false' as text, "
            "which must not decide whether a report says its data are synthetic). Remove the "
            "quotes.",
        ),
        (
            "data_date: soon\n",
            ": 'data_date' holds the text 'soon', not a date. Expected the date the data were "
            "exported, written 'data_date: 2025-12-31'. Correct it.",
        ),
        (
            "issuer: BKPSDM Kota Kupang\n",
            ": 'issuer' holds the text 'BKPSDM Kota Kupang'. Expected 'issuer:' alone on its "
            "line and the issuing office's entries indented on the lines below it, 'office: "
            "BKPSDM Kota Kupang' (and optionally head, head_title, place, contact). Write it in "
            "that form.",
        ),
        (
            "issuer:\n  office: BKPSDM\n  ofice: BKPSDM\n  telephone: '0380'\n",
            ": 'issuer' has unknown entries ['ofice', 'telephone']. Expected some of office, "
            "head, head_title, place, contact. Correct the spelling.",
        ),
        (
            "issuer:\n  office: BKPSDM\n  contact: 821234\n",
            ": 'issuer' entry 'contact' holds the value 821234, not text. Expected one line of "
            "text; put a phone number in quotes (\"contact: '0380 821234'\"), which YAML "
            "otherwise reads as a number. Correct it.",
        ),
        (
            "issuer:\n  head: Maria Fernandez\n  place: Kupang\n",
            ": 'issuer' does not name the issuing office. Expected 'office: BKPSDM Kota Kupang' "
            "inside the block (the cover prints \"Issued by\" with it). Add the office, or "
            "remove the issuer block.",
        ),
    ],
)
def test_metadata_of_the_wrong_shape(data, text, expected):
    (data / "metadata.yaml").write_text(text, encoding="utf-8")
    assert str(_error(data)) == f"File metadata.yaml in {data}{expected}"


def test_issuer_block_is_read_as_text_and_is_optional(data):
    path = data / "metadata.yaml"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    meta["issuer"] = {"office": "  BKPSDM Kota\nKupang ", "head": None, "contact": "0380 821234"}
    path.write_text(yaml.safe_dump(meta), encoding="utf-8")
    issuer = load_dataset(data, key=KEY).metadata["issuer"]
    assert issuer == {"office": "BKPSDM Kota Kupang", "contact": "0380 821234"}
    for empty in (None, "absent"):
        if empty is None:
            meta["issuer"] = None  # 'issuer:' with nothing under it
        else:
            meta.pop("issuer")
        path.write_text(yaml.safe_dump(meta), encoding="utf-8")
        assert "issuer" not in load_dataset(data, key=KEY).metadata


def test_missing_metadata_is_said_and_truth_json_keeps_the_synthetic_notice(data):
    (data / "metadata.yaml").unlink()
    dataset = load_dataset(data, key=KEY)
    assert dataset.synthetic is True and dataset.metadata["synthetic"] is True
    assert dataset.years == list(range(2019, 2026))  # from the performance table
    assert [str(note) for note in dataset.notes] == [
        f"metadata.yaml is missing in {data}: the years are taken from the performance table, "
        "the data date is taken as the end of the last year, region and description are "
        "unknown, and the data count as real (not synthetic) unless the folder holds "
        "truth.json. Add metadata.yaml (see data/README.md).",
        "metadata.yaml does not say synthetic, but the folder holds truth.json, which only the "
        "synthetic generator writes: the data are treated as synthetic and every output "
        "carries the synthetic notice.",
    ]
    summary = dataset.summary()
    assert "synthetic data: illustrative only" in summary
    assert f"note: metadata.yaml is missing in {data}" in summary


def test_synthetic_false_is_overruled_by_truth_json(data):
    (data / "metadata.yaml").write_text("synthetic: false\nyears: [2019, 2025]\n")
    dataset = load_dataset(data, key=KEY)
    assert dataset.metadata["synthetic"] is True
    assert dataset.metadata["notice"] == "synthetic data: illustrative only"
    assert str(dataset.notes[0]).startswith("metadata.yaml says synthetic: false, but the folder")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "- employees\n",
            "Mapping file mapping.yaml holds the list ['employees'], not 'key: value' entries. "
            "Expected a 'tables:' section with one entry per table. Write it as in "
            "data/siasn-mapping.yaml.",
        ),
        (
            "tables:\n  - employees\n",
            "Mapping file mapping.yaml: 'tables' holds the list ['employees']. Expected one "
            "entry per table ('employees:', 'performance:', ...), each with its own settings. "
            "Write it as in data/siasn-mapping.yaml.",
        ),
        (
            "tables:\n  employees:\n    columns:\n      - NIP BARU\n",
            "Mapping file mapping.yaml, table 'employees': 'columns' holds the list ['NIP "
            "BARU']. Expected 'export name: contract name' entries, one per line. Write it as "
            "in data/siasn-mapping.yaml.",
        ),
        (
            "tables:\n  employees:\n    colums: {}\n",
            "Mapping file mapping.yaml, table 'employees' has unknown entries ['colums']. "
            "Expected some of file, sheet, columns, values, defaults, date_order, agency_from, "
            "nip_from, service_end_from, predicate_from, jp_unit, add. Correct the spelling.",
        ),
        (
            "tables:\n  employees:\n    sheet: [Data]\n",
            "Mapping file mapping.yaml, table 'employees': 'sheet' holds the list ['Data']. "
            "Expected one sheet name (or its number, 0 for the first), e.g. 'sheet: Data'.",
        ),
    ],
)
def test_mapping_of_the_wrong_shape(data, text, expected):
    (data / "mapping.yaml").write_text(text, encoding="utf-8")
    assert str(_error(data)) == expected


# --- values outside the dataset, and null spellings ---------------------------------------------
def test_values_outside_the_dataset_are_rejected_by_rule(data):
    assert _set_cell(data / "performance.csv", 3, 1, "2052") == "2020"
    assert _set_cell(data / "training.csv", 3, 1, "15/03/2031") == "08/07/2021"
    assert _set_cell(data / "employees.csv", 10, 10, "01/01/1990") == "31/01/2024"
    services = data / "services.csv"
    lines = _lines(services)
    assert lines[253] == "5371038;2019-01-01;rawat_jalan;2426;2327;49,0;minutes;0,909;5"
    lines[253] = lines[253].replace("minutes", "days")  # outpatient times are in minutes
    _write(services, lines, bom=False)
    _set_cell(data / "satisfaction.csv", 3, 2, "2024-3", sep=",")
    _set_cell(data / "budget.csv", 4, 1, "2018")
    _set_cell(data / "digital_adoption.csv", 5, 1, "2026-01-02", sep=",")
    dataset = load_dataset(data, key=KEY)
    rules = (
        "outside_years", "after_data_date", "service_end_before_start", "wrong_time_unit",
        "invalid_period",
    )  # fmt: skip
    assert _rejects(dataset, *rules) == [
        ["employees", "employees.csv", 10, "service_end", "01/01/1990",
         "service_end_before_start"],
        ["performance", "performance.csv", 3, "year", "2052", "outside_years"],
        ["training", "training.csv", 3, "date", "15/03/2031", "after_data_date"],
        ["digital_adoption", "digital_adoption.csv", 5, "first_use", "2026-01-02",
         "after_data_date"],
        ["services", "services.csv", 254, "time_unit", "days", "wrong_time_unit"],
        ["satisfaction", "satisfaction.csv", 3, "period", "2024-3", "invalid_period"],
        ["budget", "budget.csv", 4, "year", "2018", "outside_years"],
    ]  # fmt: skip
    quality = dataset.quality.set_index("table")
    assert (quality["read"] == quality["accepted"] + quality["rejected"]).all()
    # The periods left are the ones chapter 2 can read.
    assert dataset.tables["satisfaction"]["period"].str.fullmatch(r"\d{4}-S[12]").all()


def test_null_spellings_are_empty_where_a_column_may_be_empty(data):
    employees = data / "employees.csv"
    assert _set_cell(employees, 2, 10, "NULL") == ""  # service_end: still serving
    _set_cell(employees, 3, 10, " n/a ")
    _set_cell(employees, 4, 3, "NULL")  # birth_date must not be empty: the value set aside
    performance = data / "performance.csv"
    _set_cell(performance, 2, 3, "#N/A")  # skp_predicate
    _set_cell(performance, 2, 4, "-")  # skp_score
    _set_cell(data / "digital_adoption.csv", 2, 1, "NA", sep=",")
    _set_cell(data / "policies.csv", 2, 4, "null")
    dataset = load_dataset(data, key=KEY)
    new = dataset.rejects[dataset.rejects["line"].isin([2, 3, 4])]
    assert new.values.tolist() == [
        ["employees", "employees.csv", 4, "birth_date", "NULL", "invalid_date", "field", ""],
    ]  # fmt: skip  (the employee, and their rows in other tables, stay)
    policies = dataset.tables["policies"].set_index("agency_code")
    assert pd.isna(policies.loc["5371001", "digitalisation"])
    assert dataset.tables["digital_adoption"]["first_use"].isna().sum() == 1 + int(
        pd.read_csv(DEFAULT / "digital_adoption.csv", dtype=str)["first_use"].isna().sum()
    )


def test_every_rule_is_explained_in_the_contract_and_in_data_readme():
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    table = text.split("| rule | meaning |")[1].split("\n\n")[0]
    documented = {
        name
        for row in table.splitlines()[2:]
        for name in re.findall(r"`([a-z_]+)`", row.split("|")[1])
    }
    assert documented == set(RULES)


# --- the share of rejected rows --------------------------------------------------------------
def test_committed_dataset_stays_under_the_reject_limit():
    dataset = load_dataset(DEFAULT, key=KEY)
    dataset.check_reject_share()  # raises if any table lost more than 10%
    assert dataset.reject_shares().max() < 0.01
    assert set(dataset.rejects["rule"]) <= set(RULES)


def test_too_many_rejected_rows_stop_the_report(data):
    frame = pd.read_csv(data / "training.csv", sep=";", dtype=str, keep_default_na=False)
    broken = len(frame) * 15 // 100
    # A distinct bad number per row, so that no two broken rows become repeats of each other.
    frame.loc[: broken - 1, "jp"] = [f"dua{i}" for i in range(broken)]
    frame.to_csv(data / "training.csv", sep=";", index=False)
    # Expected counts from the documented dirty rows, apart from the code under test.
    dirty = json.loads((DEFAULT / "truth.json").read_text())["dirty_rows"]["rejects"]["training"]
    kept = [row for row in dirty if row["line"] > broken + 1]  # the rest are overwritten
    rules = Counter(row["rule"] for row in kept)
    rules["invalid_number"] += broken
    top = ", ".join(f"{rule} {count:,}" for rule, count in rules.most_common(3))
    rejected = broken + len({row["line"] for row in kept})
    assert (rejected, top) == (5006, "invalid_number 4,999, invalid_date 3, duplicate_row 2")

    dataset = load_dataset(data, key=KEY)
    dataset.check_reject_share(max_share=0.2)  # settable: 15% is allowed under 20%
    with pytest.raises(DataError) as info:
        dataset.check_reject_share()
    assert str(info.value) == (
        "Too many rows were rejected to build a report on the rest: training (training.csv): "
        f"{rejected:,} of 33,321 rows rejected ({rejected / 33321:.1%}; most often {top}). At "
        "most 10% of a table's rows may be rejected. Expected an export that mostly passes "
        "validation. Run asn-eval validate to see every rejected line and rule in rejects.csv, "
        "fix the export and run again, or pass --allow-rejects to build the report on the "
        "accepted rows anyway."
    )
    assert len(info.value.rejects) == len(dataset.rejects)
