"""The real report on the committed dataset: complete, repeatable, private, bilingual.

Builds the Indonesian report twice and the English one once (a few minutes in all).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from asn_eval.formatting import fmt_date
from asn_eval.narrative import verdict
from asn_eval.pipeline import CHAPTERS, DEFAULT_DATA_DIR
from asn_eval.privacy import check_no_identifiers

pytestmark = pytest.mark.skipif(
    not (DEFAULT_DATA_DIR / "metadata.yaml").exists(), reason="default dataset not generated"
)


def _build(out: Path, lang: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "asn_eval", "report", "--lang", lang, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def report_id(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("first") / "report-id"
    _build(out, "id")
    return out


@pytest.fixture(scope="module")
def report_id_again(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("second") / "report-id"
    _build(out, "id")
    return out


@pytest.fixture(scope="module")
def report_en(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("english") / "report-en"
    _build(out, "en")
    return out


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def test_same_inputs_and_parameters_give_the_same_numbers(report_id, report_id_again):
    first, second = report_id, report_id_again
    assert (first / "results.json").read_text() == (second / "results.json").read_text()
    tables = sorted(p.relative_to(first) for p in (first / "tables").glob("*.csv"))
    assert tables, "the report saved no tables"
    assert tables == sorted(p.relative_to(second) for p in (second / "tables").glob("*.csv"))
    for table in tables:
        assert (first / table).read_bytes() == (second / table).read_bytes(), table
    assert (first / "report.html").read_bytes() == (second / "report.html").read_bytes()


def test_report_has_five_chapters_cover_contents_and_page_numbers(report_id):
    html = (report_id / "report.html").read_text(encoding="utf-8")
    for title in ("Pendahuluan", "Kebijakan", "Dampak", "Tantangan", "Kesimpulan"):
        assert re.search(rf"<h1[^>]*>[^<]*{title}", html), f"chapter {title} missing"
    assert "Daftar Isi" in html
    # The cover gives the date of the data in the report's language: "31 Desember 2025".
    data_date = yaml.safe_load((DEFAULT_DATA_DIR / "metadata.yaml").read_text())["data_date"]
    assert fmt_date(data_date, "id") in html
    text = _pdf_text(report_id / "report.pdf")
    assert "Halaman 2 dari" in text
    assert "DATA SINTETIS" in text  # the synthetic notice, keyed off the dataset metadata


def test_every_output_is_named_in_results_and_figures_folder(report_id):
    results = json.loads((report_id / "results.json").read_text())
    assert results, "results.json is empty"
    figures = list((report_id / "figures").glob("*.png"))
    assert len(figures) >= len(CHAPTERS) - 1
    assert all(p.with_suffix(".svg").exists() for p in figures)
    assert all(p.with_suffix(".tex").exists() for p in (report_id / "tables").glob("*.csv"))
    # Every saved figure and table is the numbered one the reader sees, with its caption.
    html = (report_id / "report.html").read_text(encoding="utf-8")
    for folder, word in (("figures", "Gambar"), ("tables", "Tabel")):
        for path in (report_id / folder).glob("*.csv" if folder == "tables" else "*.png"):
            number = path.stem.split("_", 1)[0].replace("-", ".")
            assert f"{word} {number}." in html, f"{path.name} has no caption in the report"
    # Each record holds what issue 4 asks of results.json, and its verdict follows its interval.
    required = {"policy", "outcome", "estimator", "estimate", "std_error", "ci_low", "ci_high"}
    required |= {"p_value", "n_agencies", "n_employees", "verdict"}
    for record in results["records"]:
        assert required <= set(record), record
        assert record["verdict"] == verdict(
            record["estimate"], record["ci_low"], record["ci_high"], better=record["better"]
        )


def test_no_nip_or_name_from_the_input_appears_anywhere_in_the_report(report_id):
    employees = pd.read_csv(
        DEFAULT_DATA_DIR / "employees.csv",
        sep=None,
        engine="python",
        dtype=str,
        encoding="utf-8-sig",
    )
    nips = set(employees["nip"].dropna().str.strip())
    names = set(employees["name"].dropna().str.strip())
    assert len(nips) > 1000 and len(names) > 1000
    assert check_no_identifiers(report_id, nips | names) == []


def test_english_report_speaks_english(report_en):
    html = (report_en / "report.html").read_text(encoding="utf-8")
    for title in ("Introduction", "Policies", "Impact", "Challenges", "Conclusion"):
        assert re.search(rf"<h1[^>]*>[^<]*{title}", html), f"chapter {title} missing"
    assert "Contents" in html and "Daftar Isi" not in html
    assert "SYNTHETIC DATA" in _pdf_text(report_en / "report.pdf")
