"""Tables as data (CSV, LaTeX), the workbook, and results.json as a data product.

The tables' datapackage.json is tested in test_data_package.py."""

import datetime as dt
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from asn_eval.domain.privacy import SUPPRESSED_MARK
from asn_eval.report.datapackage import read_data_package, write_data_package
from asn_eval.report.tables import TableSpec, save_table
from asn_eval.report.workbook import add_sheet, write_workbook
from asn_eval.results.store import (
    ResultRecord,
    load_results,
    results_schema,
    save_results,
)

EFFECTS = pd.DataFrame(
    {
        "policy": ["Pelatihan", "=HYPERLINK(1)"],
        "estimate": [6.707164, -1.5],
        "ci_low": [2.0213, SUPPRESSED_MARK],
        "ci_high": [11.4049, SUPPRESSED_MARK],
        "p_value": [0.0004, 0.2],
        "n_treated": [3, 7],
        "n_agencies": [12, 12],
        "share": [0.456, SUPPRESSED_MARK],
        "median": [4.5, np.inf],
    }
)
SPEC = TableSpec(
    labels={"policy": "Kebijakan", "estimate": "Efek", "interval": "Selang 95%",
            "p_value": "p", "agencies": "OPD", "share": "Porsi", "median": "Median"},
    digits={"estimate": 2, "interval": 2},
    percent=["share"],
    units={"estimate": "pp", "interval": "pp", "median": "months"},
    intervals={"interval": ("ci_low", "ci_high")},
    pvalues=["p_value"],
    ratios={"agencies": ("n_treated", "n_agencies")},
    missing_text={"median": "belum tercapai"},
)  # fmt: skip


@pytest.fixture
def saved(tmp_path):
    return save_table(EFFECTS, tmp_path, 3, 1, "overall_effects", "Efek", "id", spec=SPEC)


def test_csv_holds_numbers_with_units_and_suppression_flags(saved):
    lines = saved.paths["csv"].read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("policy,estimate_pp,ci_low_pp,")  # the header, first
    assert "share_share" not in lines[0]
    frame = pd.read_csv(saved.paths["csv"])
    assert list(frame.columns) == [
        "policy", "estimate_pp", "ci_low_pp", "ci_low_pp_suppressed", "ci_high_pp",
        "ci_high_pp_suppressed", "p_value", "n_treated", "n_agencies", "share",
        "share_suppressed", "median_months",
    ]  # fmt: skip
    assert frame["estimate_pp"].tolist() == [6.707164, -1.5]
    assert frame["ci_low_pp"].iloc[0] == 2.0213 and pd.isna(frame["ci_low_pp"].iloc[1])
    assert frame["ci_low_pp_suppressed"].tolist() == [False, True]
    assert frame["p_value"].tolist() == [0.0004, 0.2]
    assert frame["share"].iloc[0] == 0.456  # a proportion, not a percentage
    assert pd.isna(frame["median_months"].iloc[1])  # "not reached" is empty, not "inf"
    assert frame["policy"].iloc[1] == "'=HYPERLINK(1)"  # formula text neutralised


def test_html_keeps_the_report_formatting(saved):
    html = saved.html
    for cell in (">6,71<", ">[2,02; 11,40]<", ">&lt; 0,001<", ">3/12<", ">45,6%<",
                 ">belum tercapai<", "<caption>Tabel 3.1. Efek</caption>"):  # fmt: skip
        assert cell in html, cell
    assert html.count(f">{SUPPRESSED_MARK}<") == 2  # the interval and the share


def test_latex_is_booktabs_siunitx_without_caption_number(saved):
    tex = saved.paths["tex"].read_text(encoding="utf-8")
    assert r"\caption{Efek}" in tex and "Tabel 3.1" not in tex
    assert r"\label{tab:overall_effects}" in tex
    assert r"S[table-format=-1.2]" in tex  # estimate column: sign, one digit, two decimals
    assert "6.71 & " in tex  # siunitx reads a decimal point and writes the decimal comma
    assert r"output-decimal-marker={,}" in tex
    assert re.search(r"\{\\\[?2,02; 11,40\]?\}|\[2,02; 11,40\]", tex)
    for env in ("table", "tabular"):
        assert tex.count(rf"\begin{{{env}") == tex.count(rf"\end{{{env}")
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert tex.count(rule) == 1


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no pdflatex on PATH")
def test_latex_compiles_in_a_plain_article(saved, tmp_path):
    body = saved.paths["tex"].read_text(encoding="utf-8")
    doc = tmp_path / "doc.tex"
    doc.write_text(
        "\\documentclass{article}\\usepackage[utf8]{inputenc}"
        "\\usepackage{booktabs,siunitx,tabularx,array}\\begin{document}\n"
        + body
        + "\\end{document}\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:]


def test_workbook_sheets_hold_the_csv_numbers(tmp_path, saved):
    openpyxl = pytest.importorskip("openpyxl")
    add_sheet(
        pd.DataFrame({"agency": ["Dinas A", "Dinas B"], "n": [40, 3], "skp": [0.8, "*"]}),
        tmp_path, key="scorecards", title="Kartu OPD", lang="id", percent=["skp"],
    )  # fmt: skip
    write_data_package(
        tmp_path, lang="id", year=2025, metadata={"name": "test"}, created=dt.date(2026, 1, 5)
    )
    path = write_workbook(tmp_path, lang="id")
    assert path.name == "tabel.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Daftar isi", "3.1", "scorecards"]
    assert book["Daftar isi"]["B2"].value == "3-1_overall_effects"
    resources = {r["name"]: r for r in read_data_package(tmp_path)["resources"]}
    for csv_name, sheet_name in (("3-1_overall_effects", "3.1"), ("scorecards", "scorecards")):
        sheet = book[sheet_name]
        resource = resources[csv_name]
        fields = resource["schema"]["fields"]
        shown = [c for c in fields if not c["name"].endswith("_suppressed")]
        assert sheet["A1"].value == resource["title"]
        assert [c.value for c in sheet[2]] == [c["title"] for c in shown]
        assert sheet.freeze_panes == "A3"
        frame = pd.read_csv(tmp_path / resource["path"])
        for i, row in frame.iterrows():
            for j, column in enumerate(shown, start=1):
                value, cell = row[column["name"]], sheet.cell(row=i + 3, column=j).value
                flag = column["name"] + "_suppressed"
                if flag in frame and row[flag]:
                    assert cell == SUPPRESSED_MARK
                elif pd.isna(value):
                    assert cell is None
                else:
                    assert cell == value, (csv_name, column["name"], i)
    assert book["3.1"]["E3"].number_format == "0.000"  # the p-value column
    assert book["scorecards"]["C3"].number_format == "0.0%"


def test_results_json_follows_its_schema_and_results_csv_splits_subgroups(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    records = [
        ResultRecord(policy="training_programme", outcome="skp_good|age_band_start=30-39",
                     estimator="CS", estimate=0.05, ci_low=0.01, ci_high=0.09, p_value=0.02,
                     unit="share"),
        ResultRecord(policy="training_programme", outcome="skp_good|age_band_start=40-49",
                     estimator="CS", estimate=0.01, ci_low=-0.03, ci_high=0.05, p_value=0.6,
                     unit="share"),
    ]  # fmt: skip
    save_results(tmp_path, records, chapter=4)
    data = json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(data, results_schema())
    loaded = load_results(tmp_path)
    assert {(r.outcome, r.subgroup_variable, r.subgroup_value) for r in loaded} == {
        ("skp_good", "age_band_start", "30-39"),
        ("skp_good", "age_band_start", "40-49"),
    }
    flat = pd.read_csv(tmp_path / "results.csv", dtype={"subgroup_value": str})
    assert len(flat) == len(data["records"])
    assert not flat["outcome"].str.contains("|", regex=False).any()
    assert flat["estimate"].tolist() == [r["estimate"] for r in data["records"]]
    with pytest.raises(jsonschema.ValidationError):
        data["records"][0]["p_value"] = 1.5
        jsonschema.validate(data, results_schema())
