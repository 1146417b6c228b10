"""Loading and validation: expected rejects, read = accepted + rejected, fatal messages."""

import argparse
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from asn_eval.cli.data import add_validate_arguments, run_validate
from asn_eval.config import PROJECT_ROOT
from asn_eval.data import DataError, load_dataset, write_dataset
from asn_eval.data.pseudonymise import pseudonymise

ROOT = PROJECT_ROOT
DEFAULT = ROOT / "data" / "kupang-synthetic"
KEY = "test-key"


@pytest.fixture(scope="module")
def default_dataset():
    return load_dataset(DEFAULT, key=KEY)


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory):
    """A small clean synthetic dataset (no dirty rows) to break in the tests."""
    out = tmp_path_factory.mktemp("small") / "city"
    write_dataset(out, n_employees=150, seed=7, dirty=False)
    return out


@pytest.fixture
def broken(small_dir, tmp_path):
    target = tmp_path / "broken"
    shutil.copytree(small_dir, target)
    return target


def _data_lines(path: Path) -> int:
    # Counted independently of the loader: non-empty lines minus the header.
    return sum(1 for line in path.read_text(encoding="utf-8-sig").splitlines() if line) - 1


def test_default_dataset_rejects_exactly_the_documented_dirty_rows(default_dataset):
    manifest = json.loads((DEFAULT / "truth.json").read_text())["dirty_rows"]["rejects"]
    expected = {(t, r["line"], r["column"], r["rule"]) for t, rows in manifest.items()
                for r in rows}  # fmt: skip
    got = set(default_dataset.rejects[["table", "line", "column", "rule"]].itertuples(
        index=False, name=None))  # fmt: skip
    assert got == expected
    assert len(expected) == 34  # 0.05% of 65,855 lines: a small, known share


def test_read_equals_accepted_plus_rejected_and_matches_file_lines(default_dataset):
    quality = default_dataset.quality.set_index("table")
    assert (quality["read"] == quality["accepted"] + quality["rejected"]).all()
    for table, row in quality.iterrows():
        assert row["read"] == _data_lines(DEFAULT / f"{table}.csv"), table
        assert row["accepted"] == len(default_dataset.tables[table]), table
    assert quality.loc["employees", "rejected"] == 8
    assert quality.loc["performance", "rejected"] == 12


def test_nip_inconsistencies_are_flagged_not_dropped(default_dataset):
    flags = json.loads((DEFAULT / "truth.json").read_text())["dirty_rows"]["nip_flags"]
    employees = default_dataset.tables["employees"].set_index("employee_id")
    for kind in ("sex", "birth_date"):
        ids = pseudonymise(pd.Series(flags[kind]), KEY.encode())
        assert (employees.loc[ids, "nip_flag"] == kind).all()
    assert (employees["nip_flag"] != "").sum() == 5


def test_canonical_columns_and_types(default_dataset):
    t = default_dataset.tables
    assert list(t["employees"].columns) == [
        "employee_id", "agency_code", "birth_date", "sex", "education", "rank",
        "position_type", "employment_type", "service_start", "service_end", "nip_flag",
    ]  # fmt: skip
    assert t["employees"]["employee_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert t["employees"]["education"].cat.ordered
    assert pd.api.types.is_datetime64_any_dtype(t["policies"]["digitalisation"])
    assert t["budget"]["training_budget"].iloc[0] == 80_520_000  # "Rp 80.520.000"
    assert default_dataset.synthetic is True
    assert default_dataset.years == list(range(2019, 2026))
    # Predicates written in capitals ("SANGAT BAIK") are read as the canonical label.
    raw = pd.read_csv(DEFAULT / "performance.csv", sep=";", dtype=str)
    assert raw["skp_predicate"].eq("SANGAT BAIK").any()
    assert set(t["performance"]["skp_predicate"].dropna()) <= {
        "Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang"}  # fmt: skip


def test_loaded_skp_predicates_order_from_worst_to_best(default_dataset):
    predicate = default_dataset.tables["performance"]["skp_predicate"]
    assert predicate.cat.ordered
    assert list(predicate.cat.categories) == [
        "Sangat Kurang",
        "Kurang/Misconduct",
        "Butuh Perbaikan",
        "Baik",
        "Sangat Baik",
    ]
    assert predicate.dropna().max() == "Sangat Baik"
    assert (predicate.dropna() >= "Baik").equals(predicate.dropna().isin(["Baik", "Sangat Baik"]))


def _message(directory, **kw) -> str:
    with pytest.raises(DataError) as info:
        load_dataset(directory, key=KEY, **kw)
    return str(info.value)


def test_row_with_a_stray_separator_is_rejected_by_line_not_fatal(broken):
    path = broken / "training.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header_cells = lines[0].count(";") + 1
    lines[4] = lines[4] + ";extra"  # file line 5: one cell too many
    lines.insert(7, "")  # a blank line must not shift the line numbers after it
    cells = lines[9].split(";")
    cells[-1] = "pigeon post"  # file line 10: an unknown training route
    lines[9] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dataset = load_dataset(broken, key=KEY)
    quality = dataset.quality.set_index("table").loc["training"]
    assert quality["read"] == len(lines) - 2  # header and blank line are not rows
    assert quality["read"] == quality["accepted"] + quality["rejected"]
    reject = dataset.rejects[dataset.rejects["rule"] == "wrong_cell_count"]
    assert reject[["file", "line", "column", "value"]].values.tolist() == [
        ["training.csv", 5, "(row)", f"{header_cells + 1} cells, header has {header_cells}"]
    ]
    route = dataset.rejects[dataset.rejects["value"] == "pigeon post"]
    assert route[["line", "column"]].values.tolist() == [[10, "route"]]


def test_missing_file_message(broken):
    (broken / "budget.csv").unlink()
    assert _message(broken) == (
        f"File budget.csv (or .xlsx, .parquet) for the 'budget' table is missing in {broken}. "
        "Expected one file per table: agencies, employees, performance, training, policies, "
        "digital_adoption, services, satisfaction, budget. Export the table, or name its "
        "file under 'file:' for this table in the mapping YAML."
    )


def test_missing_required_column_message(broken):
    path = broken / "training.csv"
    frame = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig")
    frame.drop(columns="jp").to_csv(path, sep=";", index=False)
    assert _message(broken) == (
        "File training.csv has no column 'jp' required for the 'training' table. Found "
        "columns: nip, date, type, route. Expected: nip, date, jp, type, route. Rename the "
        "header in the file, or map it under 'tables: training: columns:' in the mapping YAML."
    )


def test_unreadable_encoding_message(broken):
    path = broken / "agencies.csv"
    path.write_bytes(path.read_text(encoding="utf-8-sig").encode("utf-16"))
    assert _message(broken) == (
        "File agencies.csv has an encoding that could not be read (it contains NUL bytes, "
        "as UTF-16 files do). Expected a CSV file saved as UTF-8 (with or without BOM) or "
        "Windows-1252. Open it in a spreadsheet program and save it again as 'CSV UTF-8'."
    )


def test_empty_file_message(broken):
    (broken / "satisfaction.csv").write_text("respondent_id,agency_code,period\n")
    assert _message(broken) == (
        "File satisfaction.csv is empty: it has no data rows. Expected a header row and at "
        "least one data row. Export the table again, or remove the file's table from the "
        "mapping if it is not available."
    )


def test_duplicate_keys_message(broken):
    path = broken / "agencies.csv"
    text = path.read_text(encoding="utf-8-sig").splitlines()
    code = text[1].split(";")[0]
    text.insert(3, f"{code};Dinas Baru;dinas")
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert _message(broken) == (
        "File agencies.csv has duplicate keys: 2 rows share their agency_code with another "
        "row but differ in other columns (lines 2, 4). Expected one row per agency_code. "
        "Decide which row is right and remove the other from the export."
    )


def test_unknown_agencies_beyond_small_share_message(broken):
    path = broken / "satisfaction.csv"
    frame = pd.read_csv(path, dtype=str)
    frame.loc[:299, "agency_code"] = "9999999"
    frame.to_csv(path, index=False)
    n = len(frame)
    assert _message(broken) == (
        f"File satisfaction.csv, column 'agency_code': 300 of {n} rows ({300 / n:.1%}) refer to "
        "agency codes that are not in the agencies table (e.g. 9999999); at most 2% are "
        "tolerated as typos. Expected every agency_code to appear in agencies. Check that "
        "both files come from the same export and the same codes."
    )


def test_policy_date_outside_years_message(broken):
    path = broken / "policies.csv"
    frame = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    frame.loc[2, "reward_punishment"] = "15 Juli 2016"
    frame.to_csv(path, sep=";", index=False)
    assert _message(broken) == (
        "File policies.csv, column 'reward_punishment': 1 start dates lie outside the data's "
        "years 2019-2025 (first at line 4: 15/07/2016). Expected adoption dates inside the "
        "window, so that each agency is observed before and after. Correct the date, leave "
        "it empty if the policy was never adopted, or widen 'years' in metadata.yaml."
    )


def test_cli_prints_paragraph_without_traceback_and_returns_2(broken, tmp_path, capsys):
    (broken / "employees.csv").unlink()
    parser = add_validate_arguments(argparse.ArgumentParser())
    code = run_validate(parser.parse_args([str(broken), "--out", str(tmp_path / "v")]))
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("asn-eval validate: File employees.csv (or .xlsx, .parquet) for")
    assert "Traceback" not in err and err.count("\n") == 1


def test_cli_summary_and_rejects_file(small_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ASN_EVAL_KEY", KEY)
    parser = add_validate_arguments(argparse.ArgumentParser())
    code = run_validate(parser.parse_args([str(small_dir), "--out", str(tmp_path / "v")]))
    out = capsys.readouterr().out
    assert code == 0
    assert "synthetic data: illustrative only" in out
    assert (tmp_path / "v" / "rejects.csv").exists()
    quality = pd.read_csv(tmp_path / "v" / "quality.csv")
    assert (quality["read"] == quality["accepted"]).all()  # a clean dataset: nothing rejected


def test_nip_rules():
    from asn_eval.data.validate import _parse_nip

    nips = pd.Series(
        [
            "197610042004112001",  # valid: born 4 Oct 1976, appointed Nov 2004, female
            "19761004200411200",  # 17 digits
            "197613042004112001",  # month 13 in the birth date
            "197610041990112001",  # appointed at 14
            "197610042004132001",  # appointment month 13
            "197610042004113001",  # sex digit 3
            "'197610042004112001 ",  # quoted as text in Excel: cleaned, valid
        ],
        index=range(2, 9),
    )
    cleaned, problems = _parse_nip(nips, full=True)
    assert sorted(problems) == [
        (3, "nip_format"), (4, "nip_birth_date"), (5, "nip_appointment"),
        (6, "nip_appointment"), (7, "nip_sex_digit"),
    ]  # fmt: skip
    assert cleaned[8] == "197610042004112001"
