"""datapackage.json: the table CSVs described as one Frictionless Tabular Data Package."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from asn_eval.domain.privacy import SUPPRESSED_MARK
from asn_eval.report.datapackage import (
    PACKAGE_FILE,
    STAGING_DIR,
    read_data_package,
    write_data_package,
)
from asn_eval.report.tables import TableSpec, save_table
from asn_eval.report.workbook import add_sheet

frictionless = pytest.importorskip("frictionless")

CREATED = dt.date(2026, 1, 5)
SYNTHETIC = {
    "name": "kupang-synthetic",
    "synthetic": True,
    "notice": "synthetic data: illustrative only",
    "region": "Kota Kupang",
    "description": "Synthetic personnel data for a Kupang-like city.",
}
EFFECTS = pd.DataFrame(
    {
        "policy": ["Pelatihan", "=HYPERLINK(1)", "Digitalisasi"],
        "estimate": [6.707164, -1.5, 0.25],
        "ci_low": [2.0213, SUPPRESSED_MARK, -0.5],
        "ci_high": [11.4049, SUPPRESSED_MARK, 1.0],
        "p_value": [0.0004, 0.2, 1.82944e-16],
        "n_agencies": [12, 12, 9],
        "share": [0.456, SUPPRESSED_MARK, 1.0],
        "median": [4.5, np.inf, 2.0],
        "wait_days": [3.5, 4.0, np.nan],
        "year": ["2019", "2020", "2021"],
        "covered": [True, False, True],
    }
)
SPEC = TableSpec(
    labels={"policy": "Kebijakan", "estimate": "Efek", "interval": "Selang 95%",
            "p_value": "p", "share": "Porsi", "median": "Median", "wait_days": "Waktu tunggu"},
    digits={"estimate": 2, "interval": 2},
    percent=["share"],
    units={"estimate": "pp", "interval": "pp", "median": "months"},
    intervals={"interval": ("ci_low", "ci_high")},
    pvalues=["p_value"],
)  # fmt: skip


def _save_tables(folder):
    """Two chapters' tables, saved out of report order, and one extra sheet."""
    save_table(EFFECTS, folder, 3, 1, "overall_effects", "Efek", "id", spec=SPEC, note="* kecil")
    for number in (10, 2):
        frame = pd.DataFrame({"agency": ["Dinas A", "Dinas B"], "employees": [40, number]})
        save_table(frame, folder, 2, number, f"agencies_{number}", f"OPD {number}", "id")
    add_sheet(
        pd.DataFrame({"agency": ["Dinas A", "Dinas B"], "n": [40, 3], "skp": [0.8, "*"]}),
        folder, key="scorecards", title="Kartu OPD", lang="id", percent=["skp"],
    )  # fmt: skip


@pytest.fixture
def package_dir(tmp_path):
    _save_tables(tmp_path)
    write_data_package(tmp_path, lang="id", year=2025, metadata=SYNTHETIC, created=CREATED)
    return tmp_path


def _problems(report) -> list:
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_the_package_validates_and_each_csv_opens_with_plain_read_csv(package_dir):
    report = frictionless.validate(package_dir / PACKAGE_FILE)
    assert report.valid, _problems(report)
    package = read_data_package(package_dir)
    assert package["profile"] == "tabular-data-package"
    csvs = sorted(p.relative_to(package_dir).as_posix() for p in package_dir.rglob("*.csv"))
    assert sorted(r["path"] for r in package["resources"]) == csvs
    for resource in package["resources"]:
        frame = pd.read_csv(package_dir / resource["path"])  # no option: the header is line 1
        assert list(frame.columns) == [f["name"] for f in resource["schema"]["fields"]]
        assert resource["name"] == resource["path"].rsplit("/", 1)[1].removesuffix(".csv")
        assert (resource["format"], resource["encoding"], resource["mediatype"]) == (
            "csv", "utf-8", "text/csv",
        )  # fmt: skip
        assert resource["schema"]["missingValues"] == [""]
    # what the per-table .json held is in the package; the staged resources are gone
    assert not list((package_dir / "tables").rglob("*.json"))
    assert not (package_dir / STAGING_DIR).exists()
    effects = package["resources"][2]
    assert effects["title"] == "Tabel 3.1. Efek"  # the caption as the report numbers it
    assert (effects["caption"], effects["description"]) == ("Efek", "* kecil")
    assert (effects["chapter"], effects["number"], effects["slug"]) == ("3", 1, "overall_effects")


def test_the_validation_reads_the_data_not_only_the_description(package_dir):
    """A word in a number column is an error frictionless names: the test above means
    something."""
    path = package_dir / "tables" / "3-1_overall_effects.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("6.707164", "enam")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = frictionless.validate(package_dir / PACKAGE_FILE)
    assert not report.valid
    assert [(row, field, kind) for row, field, kind, _ in _problems(report)] == [
        (2, "estimate_pp", "type-error")
    ]


def test_field_types_and_units_match_what_the_csv_holds(package_dir):
    package = read_data_package(package_dir)
    effects = next(r for r in package["resources"] if r["name"] == "3-1_overall_effects")
    fields = {f["name"]: f for f in effects["schema"]["fields"]}
    frame = pd.read_csv(package_dir / effects["path"])
    expected = {  # name: (type, unit, pandas dtype kind)
        "policy": ("string", None, "O"),
        "estimate_pp": ("number", "percentage points", "f"),
        "ci_low_pp": ("number", "percentage points", "f"),
        "ci_low_pp_suppressed": ("boolean", None, "b"),
        "p_value": ("number", None, "f"),
        "n_agencies": ("integer", None, "i"),
        "share": ("number", "proportion 0-1", "f"),
        "share_suppressed": ("boolean", None, "b"),
        "median_months": ("number", "months", "f"),
        "wait_days": ("number", "days", "f"),  # the unit from the name's suffix
        "year": ("year", None, "i"),  # text that holds only years
        "covered": ("boolean", None, "b"),
    }
    for name, (kind, unit, dtype) in expected.items():
        assert (fields[name]["type"], fields[name].get("unit"), frame[name].dtype.kind) == (
            kind, unit, dtype,
        ), name  # fmt: skip
    assert fields["wait_days"]["description"] == "In days."
    assert fields["estimate_pp"]["title"] == "Efek"  # the heading the report shows
    assert fields["ci_low_pp"]["title"] == "Selang 95% (batas bawah)"
    assert (fields["estimate_pp"]["kind"], fields["estimate_pp"]["decimals"]) == ("number", 2)
    assert fields["p_value"]["kind"] == "pvalue"
    assert frame["share"].dropna().between(0, 1).all()
    assert frame["p_value"].between(0, 1).all()
    assert frame["p_value"].iloc[2] == 1.82944e-16  # p-values keep their significant digits
    # a withheld cell is empty, and its flag says so
    assert frame["ci_low_pp"].isna().tolist() == frame["ci_low_pp_suppressed"].tolist()
    assert "withheld for privacy" in fields["share_suppressed"]["description"]
    assert pd.isna(frame["median_months"].iloc[1])  # "not reached" is empty, not "inf"


def test_package_names_the_synthetic_dataset_and_a_licence_when_the_data_has_one(tmp_path):
    _save_tables(tmp_path / "a")
    write_data_package(tmp_path / "a", lang="en", year=2025, metadata=SYNTHETIC, created=CREATED)
    synthetic = read_data_package(tmp_path / "a")
    assert synthetic["name"] == "asn-eval-kupang-synthetic-2025-en"
    assert synthetic["title"] == (
        "The Impact of Personnel Policy on ASN Performance: Annual report 2025, Kota Kupang"
    )
    assert synthetic["created"] == "2026-01-05T00:00:00Z"
    assert synthetic["synthetic"] is True
    assert synthetic["description"].startswith("SYNTHETIC DATA:")
    assert synthetic["sources"] == [
        {
            "title": "kupang-synthetic (synthetic data: illustrative only)",
            "description": "Synthetic personnel data for a Kupang-like city.",
        }
    ]
    assert "licenses" not in synthetic

    real = {"name": "Kota Kupang 2025", "synthetic": False, "license": "CC-BY-4.0"}
    _save_tables(tmp_path / "b")
    path = write_data_package(tmp_path / "b", lang="id", year=2025, metadata=real, created=CREATED)
    package = read_data_package(path.parent)
    assert package["name"] == "asn-eval-kota-kupang-2025-2025-id"
    assert package["synthetic"] is False and "description" not in package
    assert package["licenses"] == [{"name": "CC-BY-4.0"}]
    report = frictionless.validate(path)
    assert report.valid, _problems(report)


def test_two_writes_of_the_same_tables_give_the_same_bytes_in_report_order(tmp_path):
    for name in ("first", "second"):
        _save_tables(tmp_path / name)
        write_data_package(tmp_path / name, lang="id", year=2025, metadata=SYNTHETIC,
                           created=CREATED)  # fmt: skip
    first, second = (tmp_path / n / PACKAGE_FILE for n in ("first", "second"))
    assert first.read_bytes() == second.read_bytes()
    names = [r["name"] for r in json.loads(first.read_text(encoding="utf-8"))["resources"]]
    assert names == ["2-2_agencies_2", "2-10_agencies_10", "3-1_overall_effects", "scorecards"]


def test_an_existing_datapackage_json_is_never_replaced(tmp_path):
    _save_tables(tmp_path)
    theirs = tmp_path / PACKAGE_FILE
    theirs.write_text('{"name": "someone-elses"}\n', encoding="utf-8")
    with pytest.raises(FileExistsError) as error:
        write_data_package(tmp_path, lang="id", year=2025, metadata=SYNTHETIC, created=CREATED)
    assert str(error.value) == f"{theirs} exists already; asn-eval does not replace it."
    assert theirs.read_text(encoding="utf-8") == '{"name": "someone-elses"}\n'
    assert (tmp_path / STAGING_DIR).is_dir()  # nothing was folded, nothing lost


def test_a_csv_the_package_would_not_describe_stops_the_package(tmp_path):
    _save_tables(tmp_path)
    (tmp_path / "tables" / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError) as error:
        write_data_package(tmp_path, lang="id", year=2025, metadata=SYNTHETIC, created=CREATED)
    assert str(error.value) == (
        f"datapackage.json would not describe the tables of {tmp_path}: CSVs without a "
        "description ['tables/notes.csv'], descriptions without a CSV []. Table CSVs are "
        "written by asn_eval.report.tables.save_table (or workbook.add_sheet), which also "
        "describes them."
    )
    assert not (tmp_path / PACKAGE_FILE).exists()


def test_a_folder_without_tables_gets_no_package(tmp_path):
    assert write_data_package(tmp_path, lang="id", year=2025, metadata={}, created=CREATED) is None
    assert not (tmp_path / PACKAGE_FILE).exists()
