"""A bad descriptive value sets aside the value, not the person; a cascade names its root.

Every test copies the committed dataset and breaks cells the way a clerk would (a note
typed into a cell), then checks what the user sees: rejects.csv, the exit code and message
of ``asn-eval validate`` and ``asn-eval report``, and that no row is lost unaccounted for.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from asn_eval.config import PROJECT_ROOT
from asn_eval.data import DataError, load_dataset
from asn_eval.data.contract import CONTRACT, PPPK_GRADES
from asn_eval.report import narrative
from asn_eval.report.chapters.introduction import Introduction

ROOT = PROJECT_ROOT
DEFAULT = ROOT / "data" / "kupang-synthetic"
ASN_EVAL = ROOT / ".venv" / "bin" / "asn-eval"
KEY = "test-key"
SEPARATORS = {"employees": ";", "performance": ";", "training": ";", "digital_adoption": ","}
DIRTY = json.loads((DEFAULT / "truth.json").read_text(encoding="utf-8"))["dirty_rows"]["rejects"]


@pytest.fixture
def data(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DEFAULT, target)
    return target


def _table(folder: Path, name: str) -> pd.DataFrame:
    """The file as text, indexed by file line (the header is line 1)."""
    frame = pd.read_csv(
        folder / f"{name}.csv", sep=SEPARATORS[name], dtype=str, keep_default_na=False,
        encoding="utf-8-sig",
    )  # fmt: skip
    frame.index = frame.index + 2
    return frame


def _set(folder: Path, name: str, line: int, column: str, value: str) -> str:
    """Write ``value`` into one cell, leaving every other byte of the file as it was."""
    path = folder / f"{name}.csv"
    sep = SEPARATORS[name]
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").split("\n")
    cells = lines[line - 1].split(sep)
    at = lines[0].split(sep).index(column)
    old, cells[at] = cells[at], value
    lines[line - 1] = sep.join(cells)
    path.write_bytes(("\ufeff" if bom else "").encode() + "\n".join(lines).encode())
    return old


def _clean_person(folder: Path) -> tuple[int, str]:
    """Line and NIP of an employee with rows in three other tables and no dirty row."""
    dirty = {(table, row["line"]) for table, rows in DIRTY.items() for row in rows}
    others = {
        name: _table(folder, name) for name in ("performance", "training", "digital_adoption")
    }
    dirty_nips = {
        nip for name, frame in others.items() for line, nip in frame["nip"].items()
        if (name, int(line)) in dirty
    }  # fmt: skip
    counts = {name: frame["nip"].value_counts() for name, frame in others.items()}
    for line, nip in _table(folder, "employees")["nip"].items():
        if ("employees", int(line)) in dirty or nip in dirty_nips:
            continue
        if counts["performance"].get(nip, 0) >= 5 and all(nip in c for c in counts.values()):
            return int(line), nip
    raise AssertionError("no clean employee in the committed data")


def _identity(dataset, folder: Path) -> None:
    """Per table: file lines = accepted + rejected rows, and rejected = rows set aside."""
    quality = dataset.quality.set_index("table")
    row_rejects = dataset.rejects[dataset.rejects["set_aside"] == "row"]
    for name in CONTRACT:
        lines = len((folder / f"{name}.csv").read_text(encoding="utf-8-sig").splitlines()) - 1
        assert quality.at[name, "read"] == lines, name
        assert quality.at[name, "accepted"] + quality.at[name, "rejected"] == lines, name
        assert len(dataset.tables[name]) == quality.at[name, "accepted"], name
        rejected = row_rejects.loc[row_rejects["table"] == name, "line"].nunique()
        assert quality.at[name, "rejected"] == rejected, name


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ASN_EVAL), *map(str, args)], capture_output=True, text=True, timeout=600
    )


# --- a field-level column: the value goes, the person stays ------------------------------------
@pytest.mark.parametrize(
    ("column", "typed"),
    [
        ("education", "belum diisi"),
        ("sex", "laki-laki"),
        ("rank", "III-a"),
        ("position_type", "fungsional tertentu"),
        ("employment_type", "PNSS"),
    ],
)
def test_a_note_in_a_descriptive_column_sets_aside_the_value_and_keeps_every_row_of_the_person(
    data, column, typed
):
    """One typo in a descriptive column used to reject the employee and, with them, every
    row of theirs in the other tables (16 rows for one 'PNSS')."""
    clean = load_dataset(data, key=KEY)
    line, nip = _clean_person(data)
    assert _set(data, "employees", line, column, typed) in CONTRACT[
        "employees"
    ].column(column).values  # fmt: skip
    dataset = load_dataset(data, key=KEY)

    new = dataset.rejects.merge(clean.rejects, how="left", indicator=True)
    assert new.loc[new["_merge"] == "left_only"].drop(columns="_merge").values.tolist() == [
        ["employees", "employees.csv", line, column, typed, "invalid_category", "field", ""],
    ]
    # No row of any table was lost to the note, the person's rows in other tables included.
    pd.testing.assert_frame_equal(dataset.quality, clean.quality)
    employees = dataset.tables["employees"]
    missing = employees.loc[employees[column].isna(), "employee_id"]
    assert len(missing) == 1
    for name in ("performance", "training", "digital_adoption"):
        kept = int((dataset.tables[name]["employee_id"] == missing.iloc[0]).sum())
        assert kept == int((_table(data, name)["nip"] == nip).sum()), name
    # Everything else about the person is kept as read.
    assert employees.loc[missing.index[0], "agency_code"] == _table(data, "employees").at[
        line, "agency_code"
    ]  # fmt: skip
    _identity(dataset, data)


def test_a_note_in_a_birth_date_keeps_the_person_and_their_rows_in_other_tables(data):
    """The issue's case: 'belum diisi' in one birth date rejected the employee, then 16 of
    their rows elsewhere as unknown_employee ("NIP tidak ada di tabel pegawai")."""
    from asn_eval.analysis.panels import employee_year_panel

    clean = load_dataset(data, key=KEY)
    line, nip = _clean_person(data)
    _set(data, "employees", line, "birth_date", "belum diisi")
    dataset = load_dataset(data, key=KEY)
    new = dataset.rejects.merge(clean.rejects, how="left", indicator=True)
    assert new.loc[new["_merge"] == "left_only"].drop(columns="_merge").values.tolist() == [
        ["employees", "employees.csv", line, "birth_date", "belum diisi", "invalid_date",
         "field", ""],
    ]  # fmt: skip
    pd.testing.assert_frame_equal(dataset.quality, clean.quality)
    employees = dataset.tables["employees"]
    (person,) = employees.loc[employees["birth_date"].isna(), "employee_id"]
    assert employees.set_index("employee_id").at[person, "nip_flag"] == ""  # not a mismatch
    for name in ("performance", "training", "digital_adoption"):
        kept = int((dataset.tables[name]["employee_id"] == person).sum())
        assert kept == int((_table(data, name)["nip"] == nip).sum()), name
    # Age is unknown for this person, and only for them; everything else as read.
    panel = employee_year_panel(dataset)
    assert set(panel.loc[panel["age"].isna(), "employee_id"]) == {person}
    assert panel.loc[panel["employee_id"] == person, "age_band"].isna().all()
    _identity(dataset, data)


def test_a_copy_of_an_employee_with_a_bad_birth_date_gives_way_to_the_whole_copy(data):
    """Two lines of one NIP, one with a typo in its birth date: the whole one is kept and
    the other rejected, as when a bad birth date rejected its row."""
    line, nip = _clean_person(data)
    path = data / "employees.csv"
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    cells = lines[line - 1].split(";")
    cells[lines[0].split(";").index("birth_date")] = "31/02/1980"
    lines.insert(line, ";".join(cells))  # the flawed copy right after the whole one
    path.write_text("\n".join(lines), encoding="utf-8")
    dataset = load_dataset(data, key=KEY)
    listed = dataset.rejects[dataset.rejects["line"] == line + 1]
    assert listed[["table", "column", "rule", "set_aside"]].values.tolist() == [
        ["employees", "(row)", "duplicate_key_flawed", "row"],
        ["employees", "birth_date", "invalid_date", "row"],
    ]
    employees = dataset.tables["employees"]
    assert employees["birth_date"].notna().all()  # the kept copy is the whole one
    _identity(dataset, data)


def test_an_empty_field_level_cell_is_listed_as_set_aside(data):
    clean = load_dataset(data, key=KEY)
    line, _ = _clean_person(data)
    _set(data, "employees", line, "education", "")
    dataset = load_dataset(data, key=KEY)
    listed = dataset.rejects[dataset.rejects["set_aside"] == "field"]
    assert listed.values.tolist() == [
        ["employees", "employees.csv", line, "education", "", "missing_value", "field", ""]
    ]
    pd.testing.assert_frame_equal(dataset.quality, clean.quality)


def test_a_bad_value_in_a_row_level_column_still_rejects_the_row(data):
    line, _ = _clean_person(data)
    _set(data, "employees", line, "service_start", "31/02/2010")  # places the row in time
    dataset = load_dataset(data, key=KEY)
    mine = dataset.rejects[(dataset.rejects["table"] == "employees")]
    assert mine.loc[mine["line"] == line].values.tolist() == [
        ["employees", "employees.csv", line, "service_start", "31/02/2010", "invalid_date",
         "row", ""]
    ]  # fmt: skip
    _identity(dataset, data)


def test_key_and_reference_columns_cannot_be_field_level():
    from asn_eval.data.contract import Column, Table

    for name, spec in CONTRACT.items():
        assert not spec.field_rejects & (set(spec.key) | set(spec.references)), name
    with pytest.raises(ValueError, match=r"t: key or reference columns \['a'\] must reject"):
        Table("t", (Column("a", "str", field_reject=True),), key=("a",))


# --- the cascade: a rejected employee's other rows name the row to fix ------------------------
def test_rows_of_a_rejected_employee_name_its_row_and_rule_not_a_missing_nip(data):
    line, nip = _clean_person(data)
    _set(data, "employees", line, "service_start", "31/02/2010")
    dataset = load_dataset(data, key=KEY)
    rejects = dataset.rejects
    cascade = rejects[rejects["rule"] == "rejected_employee"]
    expected = []
    for name in ("digital_adoption", "performance", "training"):
        for at in _table(data, name).index[_table(data, name)["nip"] == nip]:
            expected.append([name, f"{name}.csv", int(at), "nip", "(hidden)",
                             "rejected_employee", "row",
                             f"employees.csv line {line} (service_start: "
                             "invalid_date)"])  # fmt: skip
    got = cascade.sort_values(["table", "line"]).values.tolist()
    assert got == sorted(expected)
    # The NIP is in employees.csv: no row of that person says it is absent.
    unknown = rejects[rejects["rule"] == "unknown_employee"]
    assert len(unknown) == len(DIRTY_RULES("unknown_employee"))
    assert narrative.label("rule", "rejected_employee", "id") == "baris pegawainya sendiri ditolak"
    assert narrative.label("rule", "rejected_employee", "en") == (
        "the employee's own row was rejected"
    )
    _identity(dataset, data)


def DIRTY_RULES(rule: str) -> list[dict]:  # noqa: N802 - reads as the manifest it is
    return [row for rows in DIRTY.values() for row in rows if row["rule"] == rule]


# --- validate and report agree ------------------------------------------------------------------
def test_validate_exits_0_on_the_committed_data_and_counts_rows_and_values(tmp_path):
    result = _run("validate", DEFAULT, "--out", tmp_path / "v")
    assert result.returncode == 0, result.stderr
    rows = sum(len({row["line"] for row in rows}) for rows in DIRTY.values())
    assert f"{rows:,} rows rejected and 0 values set aside (their rows kept); " in result.stdout
    written = pd.read_csv(tmp_path / "v" / "rejects.csv", dtype=str, keep_default_na=False)
    assert list(written.columns)[-2:] == ["set_aside", "cause"]
    assert set(written["set_aside"]) == {"row"}


def _break_training(folder: Path) -> tuple[int, str]:
    """Give 15% of training rows a bad JP; return the rows rejected and the top rules."""
    frame = pd.read_csv(folder / "training.csv", sep=";", dtype=str, keep_default_na=False)
    broken = len(frame) * 15 // 100
    frame.loc[: broken - 1, "jp"] = [f"dua{i}" for i in range(broken)]
    frame.to_csv(folder / "training.csv", sep=";", index=False)
    kept = [row for row in DIRTY["training"] if row["line"] > broken + 1]
    rules = Counter(row["rule"] for row in kept)
    rules["invalid_number"] += broken
    top = ", ".join(f"{rule} {count:,}" for rule, count in rules.most_common(3))
    return broken + len({row["line"] for row in kept}), top


def test_validate_stops_with_the_message_report_stops_with(data, tmp_path):
    rejected, top = _break_training(data)
    message = (
        "Too many rows were rejected to build a report on the rest: training (training.csv): "
        f"{rejected:,} of 33,321 rows rejected ({rejected / 33321:.1%}; most often {top}). At "
        "most 10% of a table's rows may be rejected. Expected an export that mostly passes "
        "validation. Run asn-eval validate to see every rejected line and rule in rejects.csv, "
        "fix the export and run again, or pass --allow-rejects to build the report on the "
        "accepted rows anyway."
    )
    validate = _run("validate", data, "--out", tmp_path / "v")
    assert validate.returncode == 2
    assert validate.stderr == f"asn-eval validate: {message}\n"
    # What was found is still written, so that the clerk can fix it.
    written = pd.read_csv(tmp_path / "v" / "rejects.csv", dtype=str, keep_default_na=False)
    assert written.loc[written["table"] == "training", "line"].nunique() == rejected
    report = _run("report", "--data", data, "--lang", "en", "--out", tmp_path / "r", "-q")
    assert report.returncode == 2
    assert report.stderr.startswith(f"asn-eval report: {message}\n\n")
    assert not (tmp_path / "r").exists()


def test_a_column_that_loses_too_many_values_stops_both_commands(data, tmp_path):
    employees = _table(data, "employees")
    # 12.5% of the rows, away from the dirty ones (a changed copy of a repeated line would
    # make two rows with one NIP).
    near_dirty = {row["line"] + d for row in DIRTY["employees"] for d in (-1, 0, 1)}
    lines = [line for line in employees.index if line not in near_dirty][::8]
    for line in lines:
        _set(data, "employees", int(line), "education", "belum diisi")
    dataset = load_dataset(data, key=KEY)
    cells = dataset.rejects[dataset.rejects["set_aside"] == "field"]
    assert len(cells) == len(lines)
    with pytest.raises(DataError) as info:
        dataset.check_reject_share()
    message = (
        "Too many rows were rejected to build a report on the rest: employees (employees.csv), "
        f"column 'education': {len(lines):,} of 3,008 values set aside "
        f"({len(lines) / 3008:.1%}; most often invalid_category {len(lines):,}). At most 10% of "
        "a table's rows may be rejected, and at most as many of one column's values set "
        "aside. Expected an export that mostly passes validation. Run asn-eval validate to "
        "see every rejected line and rule in rejects.csv, fix the export and run again, or "
        "pass --allow-rejects to build the report on the accepted rows anyway."
    )
    assert str(info.value) == message
    validate = _run("validate", data, "--out", tmp_path / "v")
    assert (validate.returncode, validate.stderr) == (2, f"asn-eval validate: {message}\n")
    _identity(dataset, data)


# --- the report: rejects.csv on success, counts in Table 1.6 --------------------------------------
def test_report_writes_rejects_and_counts_rows_and_values(data, tmp_path):
    from support import write_chapters

    line, _ = _clean_person(data)
    _set(data, "employees", line, "education", "belum diisi")
    dataset = load_dataset(data, key=KEY)
    out = tmp_path / "out" / "2025-en"
    notebooks = write_chapters(tmp_path / "notebooks")
    result = _run("report", "--data", data, "--notebooks", notebooks, "--lang", "en",
                  "--out", out, "--no-previous")  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = int(dataset.quality["rejected"].sum())
    assert (
        f"{rows} rows rejected and 1 values set aside (their rows kept), each listed in "
        f"{out / 'rejects.csv'}\n"
    ) in result.stdout
    written = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    # The report folder is handed on: it lists where each problem is, not the values.
    expected = dataset.rejects.drop(columns="value").astype(str)
    pd.testing.assert_frame_equal(written, expected)


def test_table_1_6_shows_values_set_aside_only_when_there_are_some(data, tmp_path):
    clean = Introduction(load_dataset(DEFAULT, key=KEY), year=2025, lang="en",
                         output_dir=tmp_path / "clean")  # fmt: skip
    clean.section_quality()
    line, _ = _clean_person(data)
    _set(data, "employees", line, "education", "belum diisi")
    chapter = Introduction(load_dataset(data, key=KEY), year=2025, lang="id",
                           output_dir=tmp_path / "set-aside")  # fmt: skip
    chapter.section_quality()

    def table(folder: Path) -> pd.DataFrame:
        (path,) = (folder / "tables").glob("1-*_data_quality.csv")
        return pd.read_csv(path, comment="#")

    assert "set_aside" not in table(tmp_path / "clean").columns
    assert not any("set aside" in text for kind, text in clean.emitted if kind == "paragraph")
    shown = table(tmp_path / "set-aside").set_index("table")["set_aside"]
    assert shown.to_dict() == {
        narrative.label("table", name, "id"): int(name == "employees") for name in CONTRACT
    }
    lead = next(text for kind, text in chapter.emitted if kind == "paragraph")
    assert lead.endswith(
        " Selain itu 1 isian dikosongkan tanpa menolak barisnya (barisnya tetap dipakai); "
        "rejects.csv mencantumkan masing-masing."
    )


def test_chapter_1_reads_set_aside_values_as_unknown_and_says_how_many(data, tmp_path):
    """Shares are of the employees whose value is known, the golongan comes from the rank
    when the employment type is unknown, no bar is labelled 'nan', and the text says how
    many values are unknown."""
    from asn_eval.analysis.panels import workforce_snapshot
    from asn_eval.common.formatting import fmt_percent

    employees = _table(data, "employees")
    dirty = {row["line"] for row in DIRTY.get("employees", [])}
    women = [int(i) for i in employees.index[employees["sex"] == "P"] if i not in dirty][:200]
    for line in women:  # enough to move the share of women by several points
        _set(data, "employees", line, "sex", "perempuan")
    pppk = next(
        int(i) for i in employees.index[employees["employment_type"] == "PPPK"] if i not in dirty
    )
    _set(data, "employees", pppk, "employment_type", "P3K")
    dataset = load_dataset(data, key=KEY)
    snap = workforce_snapshot(dataset, year=2025)
    unknown_sex = int(snap["sex"].isna().sum())
    assert 0 < unknown_sex <= len(women)
    known = snap["sex"].dropna()
    chapter = Introduction(dataset, year=2025, lang="en", output_dir=tmp_path)
    chapter.section_workforce()
    paragraphs = [text for kind, text in chapter.emitted if kind == "paragraph"]
    assert f"{fmt_percent((known == 'P').mean(), 'en')} were women" in paragraphs[0]
    assert fmt_percent((snap["sex"] == "P").mean(), "en") not in paragraphs[0]  # the old read
    assert paragraphs[1] == (
        f"Values set aside by the data check are read as unknown (sex, {unknown_sex} employees"
        f" and employment type, {int(snap['employment_type'].isna().sum())} employees): the "
        "shares above and in the tables below are of the employees whose value is known."
    )
    # the PPPK employee without an employment type is still counted as PPPK, by their grade
    from asn_eval.report.chapters.introduction import rank_group

    groups = rank_group(snap["rank"], snap["employment_type"])
    assert not groups.isin(["nan", "None"]).any()
    assert (groups == "PPPK").sum() == snap["rank"].isin(PPPK_GRADES).sum()
