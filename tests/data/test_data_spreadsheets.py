"""What spreadsheets do to an export: number cells, note sheets, NUL bytes, line breaks.

Each test builds a copy of the committed dataset the way a clerk's spreadsheet writes it and
checks what the user sees, and that no wrong value is accepted.
"""

import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from asn_eval.config import PROJECT_ROOT
from asn_eval.data import DataError, load_dataset
from asn_eval.data.io import read_raw

ROOT = PROJECT_ROOT
DEFAULT = ROOT / "data" / "kupang-synthetic"
KEY = "test-key"
BOM = "\ufeff"


@pytest.fixture(scope="module")
def committed():
    return load_dataset(DEFAULT, key=KEY)


@pytest.fixture
def data(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DEFAULT, target)
    return target


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8-sig").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_bytes((BOM + "\n".join(lines) + "\n").encode("utf-8"))


def _error(directory: Path, **kw) -> DataError:
    with pytest.raises(DataError) as info:
        load_dataset(directory, key=KEY, **kw)
    return info.value


# --- a NIP stored as a number in a column of text NIPs -------------------------------------
def _employees_workbook(data: Path, numbers: list[int]) -> list[str]:
    """employees.xlsx with text NIPs but for the rows ``numbers`` (0-based), stored as
    numbers the way Excel stores them (a double); returns the NIPs of those rows."""
    frame = read_raw(data / "employees.csv").reset_index(drop=True)
    frame["nip"] = frame["nip"].astype(object)
    nips = [frame.at[i, "nip"] for i in numbers]
    for i in numbers:
        frame.at[i, "nip"] = float(frame.at[i, "nip"])
    (data / "employees.csv").unlink()
    frame.to_excel(data / "employees.xlsx", index=False)
    return nips


def test_one_nip_number_cell_in_a_text_column_is_rejected_not_renamed(data, committed):
    (nip,) = _employees_workbook(data, [0])
    assert nip == "197610042004112001"
    read_back = read_raw(data / "employees.xlsx")["nip"]
    assert read_back.iloc[0] == "197610042004112000"  # what the loader used to accept
    dataset = load_dataset(data, key=KEY)
    rejects = dataset.rejects.query("table == 'employees' and rule == 'nip_as_number'")
    assert rejects[["file", "line", "column", "value"]].values.tolist() == [
        ["employees.xlsx", 2, "nip", "(hidden)"]
    ]
    assert (
        "employees.xlsx: 1 NIP (line 2) was stored as a number, not as text: Excel keeps 15 of "
        "a number's digits, so the last digits of the 18-digit NIP are lost and it could be "
        "another employee's. That row is rejected (nip_as_number), not matched to anyone. "
        "Format the NIP column as Text, type the NIP again and export again."
    ) in [str(note) for note in dataset.notes]
    # No employee was accepted under the rounded NIP: one fewer employee, all others equal.
    quality = dataset.quality.set_index("table")
    assert (
        quality.at["employees", "accepted"]
        == committed.quality.set_index("table").at["employees", "accepted"] - 1
    )
    kept = committed.tables["employees"].iloc[1:].reset_index(drop=True)
    assert_frame_equal(dataset.tables["employees"], kept)
    assert quality["read"].tolist() == (quality["accepted"] + quality["rejected"]).tolist()


def test_many_nip_number_cells_stop_naming_the_file(data):
    _employees_workbook(data, list(range(0, 3000, 10)))
    assert str(_error(data)) == (
        "File employees.xlsx, column 'nip': 300 of 3,008 NIPs are written as number cells "
        "instead of text (first at line 2), the mark of a number format that keeps only 15 digits. "
        "Excel stored NIP as a number and lost its last digits; format the column as Text and "
        "export again. Expected NIPs as 18-digit text; the lost digits tell one employee from "
        "another, so they cannot be repaired here."
    )


# --- a note sheet in front of the table ------------------------------------------------------
def test_note_sheet_in_front_of_the_table_names_the_data_sheet(data, committed):
    frame = read_raw(data / "agencies.csv").reset_index(drop=True)
    (data / "agencies.csv").unlink()
    with pd.ExcelWriter(data / "agencies.xlsx") as writer:
        note = pd.DataFrame(columns=["Keterangan: daftar perangkat daerah Kota Kupang 2025"])
        note.to_excel(writer, sheet_name="Keterangan", index=False)
        frame.to_excel(writer, sheet_name="Data", index=False)
    assert str(_error(data)) == (
        "File agencies.xlsx: its first sheet 'Keterangan' holds only a note ('Keterangan: "
        "daftar perangkat daerah K...'), no table, and the data seem to be on sheet 'Data'. "
        "Expected the table on the first sheet, with the header in row 1. Move sheet 'Data' to "
        "the front in Excel, or set 'sheet: Data' for this table in the mapping YAML."
    )
    dataset = load_dataset(data, key=KEY, mapping={"tables": {"agencies": {"sheet": "Data"}}})
    assert_frame_equal(dataset.tables["agencies"], committed.tables["agencies"])


def test_header_without_data_on_the_only_sheet_is_still_empty(data):
    (data / "agencies.csv").unlink()
    pd.DataFrame(columns=["agency_code", "agency_name", "agency_type"]).to_excel(
        data / "agencies.xlsx", index=False
    )
    assert str(_error(data)).startswith("File agencies.xlsx is empty: it has no data rows.")


# --- NUL bytes ----------------------------------------------------------------------------
def test_nul_byte_in_a_csv_cell_names_line_and_column(data):
    path = data / "agencies.csv"
    lines = _lines(path)
    assert lines[15].split(";")[1] == "Dinas Perhubungan"  # file line 16
    lines[15] = lines[15].replace("Dinas Perhubungan", "Dinas Per\x00hubungan")
    _write(path, lines)
    assert str(_error(data)) == (
        "File agencies.csv, line 16, column 'agency_name': the cell holds a NUL byte (an "
        "invisible character with code 0), as when a file is damaged in a copy or text is "
        "pasted from another program; it would stay hidden inside the value. Expected plain "
        "text in every cell. Retype the cell 'agency_name' on line 16 and export the table "
        "again."
    )


def test_utf16_file_still_says_encoding(data):
    path = data / "agencies.csv"
    path.write_bytes(path.read_text(encoding="utf-8-sig").encode("utf-16"))
    assert "has an encoding that could not be read (it contains NUL bytes" in str(_error(data))


def test_nul_in_a_workbook_cell_names_line_and_column(data):
    frame = read_raw(data / "agencies.csv").reset_index(drop=True)
    frame.loc[4, "agency_name"] = "Dinas NULMARK Pendidikan"
    (data / "agencies.csv").unlink()
    frame.to_excel(data / "plain.xlsx", index=False)
    # Excel writes a NUL in a cell as the escape _x0000_; openpyxl cannot write one.
    with (
        zipfile.ZipFile(data / "plain.xlsx") as source,
        zipfile.ZipFile(data / "agencies.xlsx", "w") as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item).replace(b"NULMARK", b"_x0000_"))
    (data / "plain.xlsx").unlink()
    assert str(_error(data)).startswith(
        "File agencies.xlsx, line 6, column 'agency_name': the cell holds a NUL byte"
    )


# --- line breaks inside quoted cells ------------------------------------------------------
def test_quoted_line_breaks_are_read_and_later_lines_keep_their_numbers(data, committed):
    path = data / "employees.csv"
    lines = _lines(path)
    # An address column typed with Alt+Enter on two employees (lines 3 and 10): the address
    # is not a contract column and is ignored; every later line moves down by one per break.
    lines[0] += ";alamat"
    for number in range(2, len(lines) + 1):
        address = '"Jl. Timor Raya\nNo. 3"' if number in (3, 10) else "Jl. Sudirman"
        lines[number - 1] += ";" + address
    _write(path, lines)
    assert len(path.read_text(encoding="utf-8-sig").splitlines()) == len(lines) + 2
    dataset = load_dataset(data, key=KEY)
    assert_frame_equal(dataset.tables["employees"], committed.tables["employees"])
    assert_frame_equal(dataset.quality, committed.quality)
    before = committed.rejects.query("table == 'employees'").reset_index(drop=True)
    after = dataset.rejects.query("table == 'employees'").reset_index(drop=True)
    # Every reject of employees.csv lies after line 10: two lines further down the file.
    assert (before["line"] > 10).all()
    assert after["line"].tolist() == (before["line"] + 2).tolist()
    physical = path.read_text(encoding="utf-8-sig").splitlines()
    for line, value in after.query("rule == 'invalid_date'")[["line", "value"]].values:
        assert value in physical[line - 1]  # names the file's own line


def test_a_quoted_line_break_in_a_kept_column_is_kept(data):
    path = data / "agencies.csv"
    lines = _lines(path)
    assert lines[3] == "5371003;Inspektorat Daerah;inspektorat"
    lines[3] = '5371003;"Inspektorat\nDaerah";inspektorat'
    _write(path, lines)
    agencies = load_dataset(data, key=KEY).tables["agencies"].set_index("agency_code")
    assert agencies.at["5371003", "agency_name"] == "Inspektorat\nDaerah"
    assert len(agencies) == 43


def test_stray_quote_still_stops_beside_a_well_formed_line_break(data):
    path = data / "agencies.csv"
    lines = _lines(path)
    lines[1] = lines[1].replace("Sekretariat Daerah", '"Sekretariat\nDaerah"')
    lines[5] = lines[5].replace(";", ';"', 1)  # line 7 of the file once line 2 has two
    _write(path, lines)
    message = str(_error(data))
    assert message.startswith(
        "File agencies.csv: a double quote on line 7 opens a quoted cell that is never "
        "closed, so lines 7-45 (the end of the file) were read as one row"
    )
