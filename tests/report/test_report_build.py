"""The real report on the committed dataset: complete, repeatable, private, bilingual.

Builds the Indonesian 2025 report twice, each compared with an Indonesian 2024 report built
here too (``--previous``), and the English one once (a few minutes in all).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from docx.oxml.ns import qn
from support import docx_to_pdf, soffice

from asn_eval.common.formatting import fmt_date
from asn_eval.config import CHAPTERS, DEFAULT_DATA_DIR
from asn_eval.domain.privacy import check_no_identifiers
from asn_eval.report.narrative import verdict

pytestmark = pytest.mark.skipif(
    not (DEFAULT_DATA_DIR / "metadata.yaml").exists(), reason="default dataset not generated"
)


def _build(
    out: Path, lang: str, *extra: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "asn_eval", "report", "--lang", lang, "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def report_2024(tmp_path_factory) -> Path:
    """Last year's report on the same data (its years, 2019-2025, allow --year 2024)."""
    out = tmp_path_factory.mktemp("last-year") / "report-2024"
    _build(out, "id", "--year", "2024")
    return out


@pytest.fixture(scope="module")
def report_id(tmp_path_factory, report_2024) -> Path:
    out = tmp_path_factory.mktemp("first") / "report-id"
    _build(out, "id", "--previous", str(report_2024))
    return out


@pytest.fixture(scope="module")
def report_id_again(tmp_path_factory, report_2024) -> Path:
    """The same report again, on a data cache of its own whose performance table was cut
    short (a full disk, a crash during a copy): it used to make every later report fail in
    chapter 3 ("No magic bytes found") until the cache was deleted by hand. The build's
    output is kept in ``build.log`` beside the report."""
    from asn_eval.data import cache

    caches = tmp_path_factory.mktemp("damaged-cache")
    path = cache.validated_dataset(DEFAULT_DATA_DIR, cache_dir=caches).parquet_path("performance")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    out = tmp_path_factory.mktemp("second") / "report-id"
    env = {**os.environ, "ASN_EVAL_CACHE_DIR": str(caches)}
    result = _build(out, "id", "--previous", str(report_2024), env=env)
    (out.parent / "build.log").write_text(result.stdout + result.stderr, encoding="utf-8")
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
    package = "datapackage.json"
    assert (first / package).read_bytes() == (second / package).read_bytes()
    assert (first / "report.docx").read_bytes() == (second / "report.docx").read_bytes()


def test_a_damaged_data_cache_is_rebuilt_with_one_indonesian_line(report_id_again):
    """The same numbers as a clean run are checked by the test above; here, what is said."""
    from asn_eval.data import cache

    log = (report_id_again.parent / "build.log").read_text(encoding="utf-8")
    told = [line for line in log.splitlines() if "rusak" in line or "damaged" in line]
    assert told == [
        "Salinan data yang sudah diperiksa rusak (tables/performance.parquet ukurannya tidak "
        f"sesuai); data di {DEFAULT_DATA_DIR} diperiksa ulang."
    ]
    caches = next(report_id_again.parent.parent.glob("damaged-cache*"))
    (healed,) = caches.glob(f"{cache.PREFIX}*")
    assert cache.open_cached(healed, verify="hash") is not None


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


def test_no_printed_page_is_left_near_empty(report_id):
    """Issue 20, item 6: a figure or table too tall for the space left, a forced break or an
    executive summary over one page by a few lines left pages nearly empty (page 3 of the
    Kupang report). Only a chapter's last page may be short (tests/page_fill.py)."""
    from page_fill import near_empty_pages

    html = (report_id / "report.html").read_text(encoding="utf-8")
    assert near_empty_pages(html, base_url=str(report_id)) == []


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
        direction = verdict(
            record["estimate"], record["ci_low"], record["ci_high"], better=record["better"]
        )
        if record["pretrend_status"] == "failed":
            assert record["verdict"] == "not_identified"  # whatever the interval
        else:
            assert record["verdict"] == direction


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


def _visible_text(html: str) -> str:
    """The words a reader of report.html sees: no styles, tags or embedded images."""
    html = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.DOTALL)
    html = re.sub(r"<[^>]+>", " ", html)
    from html import unescape

    return unescape(html)


# Technical names the Indonesian report keeps as the field writes them (glossary terms and
# method names), removed before looking for English.
KEPT_TERMS = (
    "Callaway-Sant'Anna",
    "difference-in-differences",
    "wild cluster bootstrap",
    "multiplier bootstrap",
    "Goodman-Bacon",
    "Newey-West",
    "Rambachan",
    "e-learning",
    "asn-eval",  # the cover's "Disusun dengan asn-eval 0.1.0"
)
# English terms that Indonesian has a word for: each only once, in the glossary, as
# "(Inggris: ...)" (issue 20, item 5).
GLOSSARY_ONLY = ("p-value", "event study", "parallel trends", "confidence interval")
# Never in the Indonesian report: a second word for a glossary concept, file names, commands
# and code-like labels (an annex for researchers would be the place for them).
NEVER_IN_INDONESIAN = (
    "tren paralel", "adopsi", "Mbar", "breakdown", ".json", ".csv", "--previous",
    "asn-eval report", "SMA-", "Tabel temuan",
)  # fmt: skip
ENGLISH_WORDS = (
    "the", "and", "of", "with", "effect", "effects", "agencies", "employees", "improved",
    "worsened", "tentative", "confirmed", "synthetic", "estimate", "interval", "Figure",
    "Table", "rows", "rejected", "policy", "training", "share", "before", "after",
)  # fmt: skip


def _assert_indonesian(text: str, where: str) -> None:
    """No code (``not_identified``), no English word and no ASCII arrow in ``text``."""
    for term in GLOSSARY_ONLY:
        assert text.count(term) == text.count(f"(Inggris: {term})") == 1, term
        text = text.replace(f"(Inggris: {term})", " ")
    for term in KEPT_TERMS:
        text = text.replace(term, " ")
    codes = sorted(set(re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text)))
    assert codes == [], f"codes in the Indonesian {where}: {codes}"
    english = sorted({w for w in ENGLISH_WORDS if re.search(rf"\b{w}\b", text)})
    assert english == [], f"English words in the Indonesian {where}: {english}"
    assert "->" not in text
    found = [term for term in NEVER_IN_INDONESIAN if term in text]
    assert found == [], f"in the Indonesian report: {found}"


def test_indonesian_report_shows_no_codes_and_no_english(report_id):
    text = _visible_text((report_id / "report.html").read_text(encoding="utf-8"))
    _assert_indonesian(text, "report")


def test_indonesian_docx_shows_no_codes_and_no_english(report_id):
    from support import docx_paragraphs

    _assert_indonesian("\n".join(docx_paragraphs(report_id / "report.docx")), "report.docx")


def test_report_docx_carries_the_html_headings_tables_and_figures(report_id):
    """report.docx is made from report.html: its Heading 1 paragraphs are the chapter titles
    in order, one Word table per HTML table, one embedded picture per figure, the contents a
    TOC field, the synthetic notice on every page; the committed data's (fictitious) issuer
    gives the cover's letterhead and the closing signature block. The build registers it as
    its own file."""
    import docx
    import lxml.html

    from asn_eval.report.output_folder import read_marker

    page = lxml.html.document_fromstring((report_id / "report.html").read_text(encoding="utf-8"))
    document = docx.Document(str(report_id / "report.docx"))
    chapters = [
        " ".join(h.text_content().split())
        for h in page.xpath('//section[contains(@class, "chapter")]//h1')
    ]
    assert len(chapters) == len(CHAPTERS)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert [h for h in headings if h in chapters] == chapters
    for level in (2, 3):
        html_headings = page.xpath(f'//section[contains(@class, "chapter")]//h{level}')
        word = [p for p in document.paragraphs if p.style.name == f"Heading {level}"]
        assert len(word) >= len(html_headings) > 0
    assert len(document.tables) == len(page.xpath("//table")) > 10
    figures = page.xpath("//figure")
    pngs = list((report_id / "figures").glob("*.png"))
    assert len(document.inline_shapes) == len(figures) == len(pngs)
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert len(captions) == len(figures) + len(document.tables)
    assert all(t.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None for t in document.tables)
    body = document.element.body
    instructions = " ".join(i.text for i in body.iter(qn("w:instrText")))
    assert 'TOC \\o "1-2"' in instructions
    assert instructions.count("PAGEREF") == len(figures) + len(document.tables)
    issuer = yaml.safe_load((DEFAULT_DATA_DIR / "metadata.yaml").read_text("utf-8"))["issuer"]
    notice = "Data sintetis: hanya ilustrasi"
    headers = [[p.text for p in section.header.paragraphs] for section in document.sections]
    assert headers[0] == [issuer["office"], issuer["contact"], notice]  # the letterhead
    assert all(h == [notice] for h in headers[1:])
    signed = [p.text for p in document.paragraphs if p.style.name == "Signature"]
    assert signed[0].startswith(f"{issuer['place']}, ")
    assert [t for t in signed if t] == [signed[0], issuer["head_title"], issuer["head"]]
    assert "report.docx" in read_marker(report_id)["files"]


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_report_docx_opens_and_prints_in_libreoffice(report_id, tmp_path):
    from pypdf import PdfReader

    pdf = docx_to_pdf(report_id / "report.docx", tmp_path)
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 20
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    for said in ("Daftar Isi", "1. Pendahuluan", "5. Kesimpulan", "Tabel 5.1.", "Gambar 3.1."):
        assert said in text
    assert "Data sintetis: hanya ilustrasi" in text
    assert f"Halaman 2 dari {len(reader.pages)}" in text


def test_every_estimate_reads_the_same_verdict_wherever_it_appears(report_id):
    """Table 3.1, Table 5.1, the sentences and the recommendations all read the one decision
    stored in results.json; an action is recommended only on a confirmed finding."""
    from asn_eval.domain import setting as context
    from asn_eval.report.chapters.conclusion import findings
    from asn_eval.report.narrative import (
        estimator_label,
        text_group,
        verdict_label,
    )
    from asn_eval.results.store import load_results

    headline = findings(load_results(report_id))
    assert headline
    outcomes = text_group("chapters.impact.outcomes", "id")
    tables = report_id / "tables"
    overall = pd.read_csv(next(tables.glob("3-*_overall_effects.csv")))
    final = pd.read_csv(next(tables.glob("5-*_findings.csv")))
    for r in headline:
        key = (context.policy(r.policy, "id")["name"], outcomes[r.outcome])
        frames = [final] + ([overall] if r.estimator == "Callaway-Sant'Anna" else [])
        for frame in frames:
            rows = frame[(frame["policy"] == key[0]) & (frame["outcome"] == key[1])]
            if frame is final:
                rows = rows[rows["estimator"] == estimator_label(r.estimator, "id", title=True)]
            assert list(rows["verdict"]) == [verdict_label(r, "id")], (key, r.estimator)
    html = _visible_text((report_id / "report.html").read_text(encoding="utf-8"))
    tentative = sum(
        r.standing == "tentative" and r.estimator == "Callaway-Sant'Anna" for r in headline
    )
    assert html.count("Temuan ini belum pasti") >= tentative
    # An action (extend, keep) rests on a confirmed finding of an outcome the policy does
    # not itself produce, or on its main outcome's.
    cs = {(r.policy, r.outcome): r for r in headline if r.estimator == "Callaway-Sant'Anna"}
    decisions = json.loads((report_id / "results.json").read_text("utf-8"))["policy_decisions"]
    for d in decisions:
        if d["decision"] == "extend":
            assert cs[(d["policy"], d["main_outcome"])].standing == "confirmed", d
        if d["decision"] == "keep":
            main = cs[(d["policy"], d["main_outcome"])]
            assert main.standing == "confirmed" or (
                d["supporting"]
                and all(cs[(d["policy"], o)].standing == "confirmed" for o in d["supporting"])
            ), d
    assert sum(r.standing == "confirmed" for r in headline) >= 1


def test_recommendations_name_the_office_the_check_year_and_the_priced_training_gap(
    report_id, tmp_path
):
    """Issue 20, item 4: every decision names its office and the report that checks it again;
    the training gap is priced at the year's budget per place, and the agencies' shortfalls
    in the chapter 4 table add up to the places the text and the recommendation state."""
    from asn_eval.analysis.panels import training_gap
    from asn_eval.common.formatting import fmt_number, fmt_rupiah
    from asn_eval.data import cache
    from asn_eval.domain import setting as context

    decisions = json.loads((report_id / "results.json").read_text("utf-8"))["policy_decisions"]
    page = " ".join(_visible_text((report_id / "report.html").read_text(encoding="utf-8")).split())
    for d in decisions:
        assert d["check_year"] == 2026 and d["owner"] == context.owner(d["policy"], "id")["code"]
        # the office by its name in chapter 5, by its short name in the summary
        for owner in context.owner(d["policy"], "id").values():
            assert f"Penanggung jawab: {owner}; diperiksa lagi dalam laporan 2026" in page
    gap = training_gap(cache.validated_dataset(DEFAULT_DATA_DIR, cache_dir=tmp_path), year=2025)
    shortfall = pd.read_csv(report_id / "tables" / "4-3_training_shortfall.csv")
    assert shortfall["shortfall"].sum() == gap.places_short > 0
    places = fmt_number(gap.places_short, "id", 0)
    assert f"kekurangannya {places} kuota" in page
    assert f"kuota kurang {places}, sekitar {fmt_rupiah(gap.cost, 'id', compact=True)}" in page

def test_the_2025_report_sets_each_headline_estimate_beside_2024s(report_id, report_2024):
    """Section 5.2 and the executive summary: each headline estimate in 2024 and 2025, the
    change and whether the verdict or its standing changed, read from both results.json."""
    from asn_eval.report.chapters.conclusion import findings
    from asn_eval.results.comparison import compare
    from asn_eval.results.store import load_results

    then, now = findings(load_results(report_2024)), findings(load_results(report_id))
    assert then and now and {r.key for r in then} == {r.key for r in now}
    assert [r.estimate for r in then] != [r.estimate for r in now]  # a year more of data
    expected = compare(then, now)
    table = pd.read_csv(report_id / "tables" / "5-2_comparison.csv")
    assert len(table) == len(now)
    for r, row in zip(expected.rows, table.itertuples(index=False), strict=True):
        scale = 100.0 if r.unit == "share" else 1.0
        assert row.estimate_previous == pytest.approx(r.previous.estimate * scale, abs=1e-4)
        assert row.estimate_current == pytest.approx(r.current.estimate * scale, abs=1e-4)
        change = (r.current.estimate - r.previous.estimate) * scale
        assert row.change == pytest.approx(change, abs=1e-3)
        assert (
            row.changed
            in {True: ("Arah", "Kepastian"), False: ("Tidak",)}[bool(r.standing_changed)]
        )
    html = _visible_text((report_id / "report.html").read_text(encoding="utf-8"))
    html = " ".join(html.split())
    assert "5.2 Dibanding tahun lalu" in html
    assert "Estimasi utama tahun 2024 dan 2025" in html
    assert (
        f"Dibanding 2024: {expected.n_changed} dari {expected.n_paired} estimasi utama berubah"
    ) in html
    # Same data folder, version and options: the section says so rather than warn.
    same = "Kedua laporan memakai berkas masukan, versi asn-eval dan opsi analisis yang sama"
    assert same in html
    last_year = " ".join(_visible_text((report_2024 / "report.html").read_text()).split())
    assert "Tidak ada laporan sebelumnya untuk dibandingkan." in last_year


def test_workbook_csvs_and_latex_agree_with_results_json(report_id):
    """Issue 12: the headline estimates in the findings CSV, its LaTeX and the workbook sheet
    are the numbers of results.json (shares in percentage points); results.json follows its
    schema and results.csv holds the same records with subgroups split out."""
    import jsonschema
    import openpyxl

    from asn_eval.report.chapters.conclusion import findings
    from asn_eval.results.store import load_results, results_schema

    data = json.loads((report_id / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, results_schema())
    flat = pd.read_csv(report_id / "results.csv", keep_default_na=False)
    assert len(flat) == len(data["records"])
    assert not flat["outcome"].str.contains("|", regex=False).any()
    assert (
        (flat["subgroup_variable"] != "").sum()
        == sum(bool(r.get("subgroup_variable")) for r in data["records"])
        > 0
    )

    headline = findings(load_results(report_id))
    final = pd.read_csv(next((report_id / "tables").glob("5-*_findings.csv")))
    assert len(final) == len(headline)
    for r, row in zip(headline, final.itertuples(index=False), strict=True):
        scale = 100 if r.unit == "share" else 1
        assert row.estimate == pytest.approx(r.estimate * scale, rel=1e-5)
        assert row.ci_low == pytest.approx(r.ci_low * scale, rel=1e-5)
        assert row.ci_high == pytest.approx(r.ci_high * scale, rel=1e-5)
        assert row.estimate_unit == ("pp" if r.unit == "share" else r.unit)

    book = openpyxl.load_workbook(report_id / "tabel.xlsx")
    csvs = sorted((report_id / "tables").glob("*.csv"))
    assert book.sheetnames[0] == "Daftar isi" and len(book.sheetnames) >= len(csvs) + 1
    package = json.loads((report_id / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["path"]: r for r in package["resources"]}
    for path in csvs:
        frame = pd.read_csv(path)
        resource = resources[path.relative_to(report_id).as_posix()]
        fields = resource["schema"]["fields"]
        shown = [c for c in fields if not c["name"].endswith("_suppressed")]
        sheet = book[f"Tabel {resource['chapter']}.{resource['number']}"]  # as the report names it
        assert sheet["A1"].value == resource["title"]
        for j, column in enumerate(shown, start=1):
            if column["kind"] not in ("integer", "number", "share", "pvalue"):
                continue
            cells = [sheet.cell(row=i + 3, column=j).value for i in range(len(frame))]
            flags = frame.get(column["name"] + "_suppressed", pd.Series(False, frame.index))
            for value, cell, withheld in zip(frame[column["name"]], cells, flags, strict=True):
                if withheld:
                    assert cell == "*"
                elif pd.isna(value):
                    assert cell is None
                else:
                    assert cell == pytest.approx(value), (path.name, column["name"])
        tex = path.with_suffix(".tex").read_text(encoding="utf-8")
        assert f"\\label{{tab:{resource['slug']}}}" in tex
        assert "\\caption{Tabel" not in tex  # LaTeX numbers the table itself


def test_datapackage_json_describes_exactly_the_table_csvs_and_validates(report_id):
    """Issue 20, item 7: the table CSVs are plain CSV (the header first), described by one
    Frictionless Data Package that lists each of them and nothing else, and that the run's
    marker lists as its own; the per-table descriptions it replaced are gone."""
    import frictionless

    from asn_eval.report.datapackage import STAGING_DIR

    package = json.loads((report_id / "datapackage.json").read_text(encoding="utf-8"))
    tables = report_id / "tables"
    csvs = sorted(p.relative_to(report_id).as_posix() for p in tables.rglob("*.csv"))
    assert csvs and sorted(r["path"] for r in package["resources"]) == csvs
    assert not list(tables.rglob("*.json")) and not (report_id / STAGING_DIR).exists()
    marker = json.loads((report_id / ".asn-eval-report").read_text(encoding="utf-8"))
    assert "datapackage.json" in marker["files"]
    report = frictionless.validate(report_id / "datapackage.json")
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "note"])
    for resource in package["resources"]:
        frame = pd.read_csv(report_id / resource["path"])
        assert list(frame.columns) == [f["name"] for f in resource["schema"]["fields"]]
    assert package["synthetic"] is True and package["description"].startswith("DATA SINTETIS")
    assert package["resources"][0]["title"].startswith("Tabel 1.1. ")


@pytest.mark.parametrize("which", ["report_id", "report_en"])
def test_each_policy_has_one_decision_named_alike_in_summary_chapter_5_and_results(
    which, request
):
    """Issue 20: several actions for one policy ("pertahankan dan perluas", "tegaskan ...",
    "tinjau ...") become one decision, the same in results.json, the summary and 5.3."""
    from asn_eval.data.contract import POLICIES
    from asn_eval.domain.policy_decision import DECISIONS
    from asn_eval.report.narrative import label, text

    out = request.getfixturevalue(which)
    lang = "id" if which == "report_id" else "en"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    decisions = results["policy_decisions"]
    assert [d["policy"] for d in decisions] == list(POLICIES)
    page = " ".join(_visible_text((out / "report.html").read_text(encoding="utf-8")).split())
    summary = page.split(text("chapters.conclusion.summary.recommendations_title", lang))[1]
    chapter_5 = page.split(text("chapters.conclusion.sections.recommendations.lead", lang))[1]
    labels = {d: text(f"policy_decision.label.{d}", lang) for d in DECISIONS}
    for entry in decisions:
        name = label("policy", entry["policy"], lang)
        name = name[0].upper() + name[1:]
        said = f"{name}: {labels[entry['decision']]}."
        others = [f"{name}: {v}." for k, v in labels.items() if k != entry["decision"]]
        for where, words in (("summary", summary[:4000]), ("chapter 5", chapter_5[:4000])):
            assert words.count(said) == 1, (where, said)
            assert not any(o in words for o in others), (where, entry["policy"])


def test_no_estimate_with_a_failed_pretrend_reads_improved_or_worsened_anywhere(report_id):
    """On the committed data, discipline sanctions fail the pre-trend test (p = 0.003): they
    read 'cannot be read as an effect' in results.json, every table CSV that carries a
    verdict, and the summary, never 'Membaik'/'Memburuk'."""
    from asn_eval.report.narrative import label, text, text_group

    records = json.loads((report_id / "results.json").read_text(encoding="utf-8"))["records"]
    failed = [r for r in records if r["pretrend_status"] == "failed"]
    assert failed and {r["verdict"] for r in failed} == {"not_identified"}
    shown = text("verdict.not_identified", "id")
    effects = {text(f"verdict.{v}", "id") for v in ("improved", "worsened")}
    names = text_group("chapters.impact.outcomes", "id")  # as the tables name outcomes
    checked = 0
    for path in sorted((report_id / "tables").glob("*.csv")):
        frame = pd.read_csv(path)
        if not {"verdict", "policy", "outcome"} <= set(frame):
            continue
        for r in failed:
            if r["subgroup_variable"]:
                continue
            rows = frame[
                (frame["policy"] == label("policy", r["policy"], "id", title=True))
                & (frame["outcome"] == names[r["outcome"]])
            ]
            for cell in rows["verdict"]:
                assert not any(cell.startswith(e) for e in effects), (path.name, cell)
                assert cell == shown, (path.name, cell)
                checked += 1
    assert checked >= 2  # Tables 3.1 and 5.1 at least
    page = " ".join(_visible_text((report_id / "report.html").read_text(encoding="utf-8")).split())
    for r in failed:
        if r["estimator"] == "Callaway-Sant'Anna" and not r["subgroup_variable"]:
            phrase = text(
                "summary_phrase.not_identified", "id", outcome=label("outcome", r["outcome"], "id")
            )
            assert phrase in page


@pytest.mark.parametrize("which", ["report_id", "report_en"])
def test_an_effect_reads_the_same_in_chapter_3_and_chapter_5(which, request):
    """Tables 3.1 (overall effects) and 5.1 (findings), and the truth table, show each
    Callaway-Sant'Anna estimate through one EffectSummary: the same policy and outcome words,
    unit, interval and verdict, to the digit: both read the record as results.json stores it."""
    tables = request.getfixturevalue(which) / "tables"

    def read(stem: str) -> pd.DataFrame:
        return pd.read_csv(next(tables.glob(f"*_{stem}.csv")))

    overall, findings, truth = read("overall_effects"), read("findings"), read("truth")
    keys = ["policy", "outcome"]
    cs_words = findings["estimator"].value_counts().index  # the headline estimator, in words
    headline = findings[findings["estimator"] == cs_words[0]]
    both = overall.merge(headline, on=keys, suffixes=("_3", "_5"), validate="one_to_one")
    assert len(both) == len(overall) == len(headline) > 0
    for column in ("estimate", "ci_low", "ci_high"):
        assert (both[f"{column}_3"] == both[f"{column}_5"]).all(), column
    assert (both["estimate_unit_3"] == both["estimate_unit_5"]).all()
    assert (both["verdict_3"] == both["verdict_5"]).all()
    same = findings.merge(truth, on=[*keys, "estimator"], suffixes=("", "_truth"))
    assert len(same) == len(findings)
    for column in ("estimate", "ci_low", "ci_high", "estimate_unit"):
        assert (same[column] == same[f"{column}_truth"]).all()
