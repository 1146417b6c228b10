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
from asn_eval.report.datapackage import UNIT_WORDS, read_data_package, write_data_package
from asn_eval.report.narrative import templates
from asn_eval.report.tables import TableSpec, save_table
from asn_eval.report.workbook import (
    add_sheet,
    heading,
    table_sources,
    unit_words,
    write_workbook,
)
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
    assert book.sheetnames == ["Daftar isi", "Tabel 3.1", "Kartu OPD"]
    resources = {r["name"]: r for r in read_data_package(tmp_path)["resources"]}
    described = {meta["stem"]: meta for _, meta in table_sources(tmp_path)}
    for csv_name, sheet_name in (("3-1_overall_effects", "Tabel 3.1"), ("scorecards", "Kartu OPD")):
        sheet = book[sheet_name]
        resource = resources[csv_name]
        assert sheet["A1"].value == resource["title"]
        shown = [c for c in described[csv_name]["columns"] if not c["name"].endswith("_suppressed")]
        assert [c.value for c in sheet[2]] == [heading(c, "id") for c in shown]
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
    assert book["Tabel 3.1"]["E3"].number_format == "0.000"  # the p-value column
    assert book["Kartu OPD"]["C3"].number_format == "0.0%"


# 3.1 of the report as data: a unit column ("pp", "days") behind a column of mixed units,
# an agencies ratio, months and shares.
FINDINGS = pd.DataFrame(
    {
        "policy": ["Pelatihan", "Digitalisasi"],
        "estimate": [6.71, -0.54],
        "ci_low": [2.02, -0.63],
        "ci_high": [11.40, -0.46],
        "estimate_unit": ["pp", "days"],
        "n_treated": [39, 1],
        "n_agencies": [43, 1],
        "median": [3.1, 4.2],
        "share": [0.45, 0.5],
    }
)
FINDINGS_LABELS = {
    "id": {"policy": "Kebijakan", "estimate": "Efek", "interval": "Selang 95%",
           "agencies": "Perangkat daerah", "n_treated": "Perangkat daerah yang menerapkan",
           "median": "Median waktu", "share": "Memenuhi 20 JP"},
    "en": {"policy": "Policy", "estimate": "Effect", "interval": "95% CI",
           "agencies": "Agencies", "n_treated": "Adopting agencies",
           "median": "Median time", "share": "Meeting 20 JP"},
}  # fmt: skip
SNAKE_CASE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


@pytest.mark.parametrize(
    ("lang", "contents", "sheet", "units"),
    [
        ("id", ["Tabel", "Judul", "Lembar", "Catatan"], "Tabel 3.1", ["poin persentase", "hari"]),
        ("en", ["Table", "Caption", "Sheet", "Note"], "Table 3.1", ["percentage points", "days"]),
    ],
)
def test_workbook_speaks_the_reports_language(tmp_path, lang, contents, sheet, units):
    """Issue 20: sheets were named by file stem, headings were data names (n_treated) and
    units codes (pp, days). Now sheets are named as the report names its tables, the
    contents sheet gives each table's number, caption and a link, and headings and unit cells
    are words of the report's language; stems and snake_case stay in the CSVs."""
    openpyxl = pytest.importorskip("openpyxl")
    spec = TableSpec(
        labels=FINDINGS_LABELS[lang], digits=2, units={"median": "months"},
        intervals={"interval": ("ci_low", "ci_high")},
        ratios={"agencies": ("n_treated", "n_agencies")}, percent=["share"],
        hidden=["estimate_unit"],
    )  # fmt: skip
    save_table(FINDINGS, tmp_path, 3, 1, "overall_effects", "Efek", lang, spec=spec)
    save_table(FINDINGS, tmp_path, 3, 2, "overall_effects_again", "Efek lagi", lang, spec=spec)
    add_sheet(FINDINGS[["policy"]], tmp_path, key="annex_a", title="Lampiran: A/B", lang=lang)
    add_sheet(FINDINGS[["policy"]], tmp_path, key="annex_b", title="lampiran: a/b", lang=lang)
    write_data_package(
        tmp_path, lang=lang, year=2025, metadata={"name": "test"}, created=dt.date(2026, 1, 5)
    )
    book = openpyxl.load_workbook(write_workbook(tmp_path, lang=lang))
    table = "Tabel" if lang == "id" else "Table"
    assert book.sheetnames == [
        book.sheetnames[0], f"{table} 3.1", f"{table} 3.2", "Lampiran A B", "lampiran a b (2)",
    ]  # fmt: skip
    for name in book.sheetnames:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\"), name
    assert len({n.casefold() for n in book.sheetnames}) == len(book.sheetnames)
    # the contents: number, caption, a link to the sheet; no file stem anywhere
    index = book[book.sheetnames[0]]
    assert [c.value for c in index[1]] == contents
    assert [c.value for c in index[2]][:3] == ["3.1", "Efek", f"{table} 3.1"]
    assert index["C2"].hyperlink.location == f"'{table} 3.1'!A1"
    assert [index.cell(row=r, column=1).value for r in (4, 5)] == [None, None]  # annexes
    cells = [str(c.value) for row in index.iter_rows() for c in row if c.value]
    assert not [c for c in cells if "overall_effects" in c or "annex_" in c]
    # headings: the report's, with the unit in words; no data name, no unit code
    headings = [c.value for c in book[sheet][2]]
    words = FINDINGS_LABELS[lang]
    assert headings[:2] == [words["policy"], words["estimate"]]
    whole, months = ("penyebut", "bulan") if lang == "id" else ("denominator", "months")
    assert words["n_treated"] in headings  # a ratio's part named by the spec
    assert f"{words['agencies']} ({whole})" in headings  # and one it does not name
    assert f"{words['median']} ({months})" in headings
    assert words["share"] in headings  # a share: the cells say %
    assert not [h for h in headings if SNAKE_CASE.match(h)], headings
    unit_column = headings.index("Satuan" if lang == "id" else "Unit") + 1
    assert [book[sheet].cell(row=r, column=unit_column).value for r in (3, 4)] == units
    shown = " ".join(str(c.value) for row in book[sheet].iter_rows() for c in row if c.value)
    if lang == "id":
        assert not re.search(r"\b(pp|days|months)\b", shown), shown
    # the CSV keeps the data names and unit codes
    frame = pd.read_csv(tmp_path / "tables" / "3-1_overall_effects.csv")
    assert {"n_treated", "n_agencies", "estimate_unit"} <= set(frame.columns)
    assert frame["estimate_unit"].tolist() == ["pp", "days"]


def test_every_unit_of_the_tables_has_words_in_both_languages():
    for lang in ("id", "en"):
        missing = [u for u in UNIT_WORDS if f"unit.{u}" not in templates(lang)]
        assert not missing, (lang, missing)
    assert unit_words("pp", "id") == "poin persentase" and unit_words("days", "en") == "days"
    assert unit_words("months", "id") == "bulan" and unit_words("rupiah", "id") == "Rp"


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
