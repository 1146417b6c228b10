"""report.docx from the report's HTML: Word styles, real tables, embedded figures, a contents
field, the synthetic notice on every page, and the issuer's letterhead and signature only
when metadata.yaml names one. The real report's document is checked in test_report_build.py."""

from __future__ import annotations

import datetime as dt
import zipfile

import docx
import pytest
from docx.oxml.ns import qn
from support import docx_paragraphs, docx_to_pdf, soffice

from asn_eval.report.word import Issuer, write_docx

# A 1 x 1 PNG.
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5Erk"
    "Jggg=="
)
ISSUER = {
    "office": "BKPSDM Kota Kupang",
    "head": "Maria Contoh, S.H.",
    "head_title": "Kepala BKPSDM",
    "place": "Kupang",
    "contact": "Jl. Contoh 1, Kupang",
}
ISSUED = dt.date(2026, 1, 15)
# The report's HTML in small (asn_eval.report.document.build_html): the running notice,
# cover, contents, and a chapter with the pieces every chapter is made of.
HTML = f"""<!DOCTYPE html><html lang="id"><head><title>Evaluasi — Kota Kupang 2025</title>
<style>body {{ color: black; }}</style></head><body>
<div class="running-notice">Data sintetis: hanya ilustrasi</div>
<section class="cover">
  <h1 class="report-title">Evaluasi Dampak Kebijakan</h1>
  <p class="subtitle">Laporan tahunan 2025</p>
  <dl><dt>Wilayah</dt><dd>Kota Kupang</dd></dl>
  <div class="synthetic-notice">DATA SINTETIS: hanya ilustrasi metode.</div>
</section>
<section class="executive-summary"><h1>Ringkasan eksekutif</h1><p>Singkat.</p></section>
<nav class="toc"><h2>Daftar Isi</h2>
  <ol><li class="level-1"><a href="#ch1-h1">1. Pendahuluan</a></li>
  <li class="level-2"><a href="#ch1-h2">1.1 Data</a></li></ol>
  <h2>Daftar Gambar</h2>
  <ol class="captions"><li><a href="#fig-1-1">Gambar 1.1. Pegawai</a></li></ol>
  <h2>Daftar Tabel</h2><ol class="captions"><li><a href="#tab-1-1">Tabel 1.1. Baris</a></li></ol>
</nav>
<section class="chapter" id="chapter-1">
<div class="output-block"><h1 id="ch1-h1">1. Pendahuluan</h1></div>
<div class="output-block"><p>Teks <strong>tebal</strong> dan <em>miring</em>,
  lalu   spasi.</p></div>
<div class="output-block"><h2 id="ch1-h2">1.1 Data</h2></div>
<div class="output-block"><ul><li>Satu<ul><li>Di dalam</li></ul></li><li>Dua</li></ul></div>
<div class="output-block"><ol><li>Pertama</li><li>Kedua</li></ol></div>
<div class="output-block"><ol><li>Lagi pertama</li></ol></div>
<div class="output-block"><style type="text/css">
#T_1_1 .col0 {{ text-align: left; }}
#T_1_1 .col1 {{ text-align: right; }}
#T_1_1 td.col1 {{ white-space: nowrap; }}
</style>
<table id="T_1_1" class="asn-table"><caption id="tab-1-1">Tabel 1.1. Baris</caption>
<thead><tr><th class="col_heading level0 col0">Berkas</th>
<th class="col_heading level0 col1">Baris</th></tr></thead>
<tbody><tr><td class="data row0 col0">Pegawai</td><td class="data row0 col1">3.000</td></tr>
<tr><td class="data row1 col0">Pelatihan</td><td class="data row1 col1">33.312</td></tr></tbody>
</table><p class="table-note"><small>Catatan tabel.</small></p></div>
<div class="output-block"><h3 id="ch1-h3">Survei</h3></div>
<div class="output-block"><figure><img src="data:image/png;base64,{PNG}" alt="Gambar 1.1. Pegawai"
  style="width:2.00in;max-width:100%"><figcaption id="fig-1-1">Gambar 1.1. Pegawai</figcaption>
</figure></div>
<div class="output-block"><div class="notice"><strong>DATA SINTETIS: catatan.</strong></div></div>
</section>
</body></html>"""


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("word")
    plain = write_docx(HTML, folder / "plain.docx", lang="id", metadata={}, issued=ISSUED)
    issued = write_docx(
        HTML, folder / "issued.docx", lang="id", metadata={"issuer": ISSUER}, issued=ISSUED
    )
    return plain, issued


def test_headings_are_word_styles_in_report_order(written):
    document = docx.Document(written[0])
    shown = [(p.style.name, p.text) for p in document.paragraphs if p.text]
    assert ("Title", "Evaluasi Dampak Kebijakan") in shown
    assert ("Subtitle", "Laporan tahunan 2025") in shown
    headings = [(s, t) for s, t in shown if s.startswith("Heading")]
    assert headings == [
        ("Heading 1", "Ringkasan eksekutif"),
        ("Heading 1", "1. Pendahuluan"),
        ("Heading 2", "1.1 Data"),
        ("Heading 3", "Survei"),
    ]
    assert ("Normal", "Teks tebal dan miring, lalu spasi.") in shown
    runs = {r.text: (r.bold, r.italic) for p in document.paragraphs for r in p.runs}
    assert runs["tebal"] == (True, None) and runs["miring"] == (None, True)
    # Each chapter starts a page, as the PDF's do.
    chapter = next(
        p for p in document.paragraphs if p.style.name == "Heading 1" and p.text[0] == "1"
    )
    assert chapter.paragraph_format.page_break_before


def test_lists_captions_notes_and_notices_have_their_styles(written):
    document = docx.Document(written[0])
    styles = {p.text: p.style.name for p in document.paragraphs if p.text}
    assert styles["Satu"] == styles["Dua"] == "List Bullet"
    assert styles["Di dalam"] == "List Bullet 2"
    assert styles["Pertama"] == styles["Lagi pertama"] == "List Number"
    assert styles["Tabel 1.1. Baris"] == styles["Gambar 1.1. Pegawai"] == "Caption"
    assert styles["Catatan tabel."] == "Note"
    assert styles["DATA SINTETIS: catatan."] == "Notice"
    assert styles["DATA SINTETIS: hanya ilustrasi metode."] == "Notice"
    assert styles["Wilayah: Kota Kupang"] == "Normal"

    # Each numbered list counts from 1: its own Word list, restarted.
    def number_id(text):
        paragraph = next(p for p in document.paragraphs if p.text == text)
        return paragraph._p.pPr.numPr.numId.val

    assert number_id("Pertama") == number_id("Kedua") != number_id("Lagi pertama")


def test_tables_are_word_tables_with_a_repeated_heading_row(written):
    document = docx.Document(written[0])
    (table,) = document.tables
    assert table.style.name == "Table Grid"
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["Berkas", "Baris"],
        ["Pegawai", "3.000"],
        ["Pelatihan", "33.312"],
    ]
    header, *body = table.rows
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr.find(qn("w:tblHeader")) is None for row in body)
    assert all(r.bold for r in header.cells[0].paragraphs[0].runs)
    # Numbers right-aligned, as the table's own style rules say; words left.
    alignments = [c.paragraphs[0].alignment for c in body[0].cells]
    assert [a and a.name for a in alignments] == [None, "RIGHT"]


def test_figures_are_embedded_at_their_width_with_their_caption_as_alt_text(written):
    document = docx.Document(written[0])
    (shape,) = document.inline_shapes
    assert shape.width == docx.shared.Inches(2)
    assert shape._inline.docPr.get("descr") == "Gambar 1.1. Pegawai"


def test_contents_is_a_toc_field_and_the_lists_point_at_bookmarks(written):
    with zipfile.ZipFile(written[0]) as archive:
        body = archive.read("word/document.xml").decode("utf-8")
        settings = archive.read("word/settings.xml").decode("utf-8")
    assert 'TOC \\o "1-2" \\h \\z \\u' in body
    assert body.count('w:fldCharType="begin"') == body.count('w:fldCharType="end"')
    assert "PAGEREF fig_1_1 \\h" in body and "PAGEREF tab_1_1 \\h" in body
    for bookmark in ("ch1_h1", "ch1_h2", "fig_1_1", "tab_1_1"):
        assert f'w:name="{bookmark}"' in body
    assert "Nomor halaman muncul setelah daftar isi ini diperbarui" in body  # the placeholder
    assert '<w:updateFields w:val="true"/>' in settings  # Word fills it in when opened
    document = docx.Document(written[0])
    styles = {p.text: p.style.name for p in document.paragraphs if p.text}
    assert styles["1. Pendahuluan"] in ("Heading 1", "toc 1")
    assert styles["Daftar Isi"] == "TOC Heading"


def test_synthetic_notice_heads_every_page_and_no_letterhead_without_an_issuer(written):
    document = docx.Document(written[0])
    assert len(document.sections) == 2  # the cover, then the rest with page numbers
    for section in document.sections:
        assert [p.text for p in section.header.paragraphs] == ["Data sintetis: hanya ilustrasi"]
    footer = document.sections[1].footer.paragraphs[0]
    assert footer.text == "Halaman 1 dari 1"  # PAGE and NUMPAGES fields, filled when shown
    assert not [p for p in document.paragraphs if p.style.name == "Signature"]
    assert document.core_properties.author == "asn-eval"


def test_an_issuer_brings_a_letterhead_and_a_signature_block(written):
    document = docx.Document(written[1])
    first, rest = document.sections
    assert [p.text for p in first.header.paragraphs] == [
        "BKPSDM Kota Kupang",
        "Jl. Contoh 1, Kupang",
        "Data sintetis: hanya ilustrasi",
    ]
    assert [p.text for p in rest.header.paragraphs] == ["Data sintetis: hanya ilustrasi"]
    signature = [p.text for p in document.paragraphs if p.style.name == "Signature"]
    assert signature == [
        "Kupang, 15 Januari 2026",
        "Kepala BKPSDM",
        "",
        "",
        "",
        "Maria Contoh, S.H.",
    ]
    assert document.paragraphs[-1].text == "Maria Contoh, S.H."  # the document's end
    assert document.core_properties.author == "BKPSDM Kota Kupang"


def test_issuer_keys_are_optional_and_read_defensively():
    assert Issuer.from_metadata({}) == Issuer()
    assert Issuer.from_metadata({"issuer": None}) == Issuer()
    assert Issuer.from_metadata({"issuer": "BKPSDM"}) == Issuer()
    only_office = Issuer.from_metadata({"issuer": {"office": " BKPSDM \n Kota Kupang "}})
    assert only_office.office == "BKPSDM Kota Kupang"
    assert only_office.has_letterhead and not only_office.signs
    assert Issuer.from_metadata({"issuer": {"head": "Maria"}}).signs


def test_english_signature_date_is_written_in_english(tmp_path):
    path = write_docx(
        HTML.replace('lang="id"', 'lang="en"'),
        tmp_path / "en.docx",
        lang="en",
        metadata={"issuer": {"head": "Maria", "place": "Kupang"}},
        issued=ISSUED,
    )
    document = docx.Document(path)
    signature = [p.text for p in document.paragraphs if p.style.name == "Signature"]
    assert signature[0] == "Kupang, 15 January 2026"
    assert document.sections[1].footer.paragraphs[0].text == "Page 1 of 1"


def test_the_same_html_gives_the_same_bytes(tmp_path, written):
    again = write_docx(
        HTML, tmp_path / "again.docx", lang="id", metadata={"issuer": ISSUER}, issued=ISSUED
    )
    assert again.read_bytes() == written[1].read_bytes()
    with zipfile.ZipFile(again) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    properties = docx.Document(again).core_properties
    assert properties.created == properties.modified == dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
    assert properties.title == "Evaluasi — Kota Kupang 2025"
    assert properties.language == "id-ID"


def test_docx_text_reads_body_tables_and_headers(written):
    text = "\n".join(docx_paragraphs(written[1]))
    for said in ("Pelatihan", "33.312", "BKPSDM Kota Kupang", "Data sintetis: hanya ilustrasi"):
        assert said in text


@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_it_and_prints_it(tmp_path, written):
    from pypdf import PdfReader

    pdf = docx_to_pdf(written[1], tmp_path)
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 3  # cover, summary and contents, the chapter
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert "Evaluasi Dampak Kebijakan" in text and "Tabel 1.1. Baris" in text
    assert "BKPSDM Kota Kupang" in text and "Kupang, 15 Januari 2026" in text
