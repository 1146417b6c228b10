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

from asn_eval.common.formatting import fmt_date
from asn_eval.config import CHAPTERS, DEFAULT_DATA_DIR
from asn_eval.domain.privacy import check_no_identifiers
from asn_eval.report.narrative import verdict
from asn_eval.report.tables import read_table_csv

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
    "event study",
    "wild cluster bootstrap",
    "multiplier bootstrap",
    "Goodman-Bacon",
    "Newey-West",
    "Rambachan",
    "e-learning",
    "Mbar",
    "breakdown",
    "asn-eval",
    "truth.json",
    "results.json",
)
ENGLISH_WORDS = (
    "the", "and", "of", "with", "effect", "effects", "agencies", "employees", "improved",
    "worsened", "tentative", "confirmed", "synthetic", "estimate", "interval", "Figure",
    "Table", "rows", "rejected", "policy", "training", "share", "before", "after",
)  # fmt: skip


def test_indonesian_report_shows_no_codes_and_no_english(report_id):
    text = _visible_text((report_id / "report.html").read_text(encoding="utf-8"))
    for term in KEPT_TERMS:
        text = text.replace(term, " ")
    codes = sorted(set(re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text)))
    assert codes == [], f"codes in the Indonesian report: {codes}"
    english = sorted({w for w in ENGLISH_WORDS if re.search(rf"\b{w}\b", text)})
    assert english == [], f"English words in the Indonesian report: {english}"
    assert "->" not in text


def test_every_estimate_reads_the_same_verdict_wherever_it_appears(report_id):
    """Table 3.1, Table 5.1, the sentences and the recommendations all read the one decision
    stored in results.json; an action is recommended only on a confirmed finding."""
    from asn_eval.domain import setting as context
    from asn_eval.report.chapters.conclusion import findings
    from asn_eval.report.narrative import (
        estimator_label,
        recommendation_rule,
        text_group,
        verdict_label,
    )
    from asn_eval.report.tables import read_table_csv
    from asn_eval.results.store import load_results

    headline = findings(load_results(report_id))
    assert headline
    outcomes = text_group("chapters.impact.outcomes", "id")
    tables = report_id / "tables"
    overall = read_table_csv(next(tables.glob("3-*_overall_effects.csv")))
    final = read_table_csv(next(tables.glob("5-*_findings.csv")))
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
    for r in headline:
        rule = recommendation_rule(r)
        if rule in ("sustain", "review"):
            assert r.standing == "confirmed", (r.policy, r.outcome, rule)
    assert sum(r.standing == "confirmed" for r in headline) >= 1

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
    table = read_table_csv(report_id / "tables" / "5-2_comparison.csv")
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
    final = read_table_csv(next((report_id / "tables").glob("5-*_findings.csv")))
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
    for path in csvs:
        frame = read_table_csv(path)
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        shown = [c for c in meta["columns"] if not c["name"].endswith("_suppressed")]
        sheet = book[path.stem.split("_", 1)[0].replace("-", ".")]
        assert sheet["A1"].value == meta["numbered_caption"]
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
        assert f"\\label{{tab:{meta['slug']}}}" in tex
        assert "\\caption{Tabel" not in tex  # LaTeX numbers the table itself


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
        frame = read_table_csv(path)
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
