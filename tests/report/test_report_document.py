"""The report document takes each piece of a chapter by its label: headings with their anchors,
figures printed from their 300 dpi files, anchored table captions, and the executive summary
lifted out of chapter 5 to follow the cover."""

import nbformat

from asn_eval.report.labels import KEY


def _output(html_text, kind=None, **label):
    output = nbformat.v4.new_output(
        "display_data", data={"text/html": html_text, "text/plain": "<HTML>"}
    )
    if kind:
        output.metadata[KEY] = {"kind": kind, **label}
    return output


def _notebook(path, outputs):
    nb = nbformat.v4.new_notebook()
    hidden = nbformat.v4.new_code_cell("spec = ...", metadata={"tags": ["research"]})
    hidden.outputs = [_output("<p>research only</p>")]
    shown = nbformat.v4.new_code_cell("ch.show('findings')")
    shown.outputs = outputs
    nb.cells = [
        nbformat.v4.new_markdown_cell("# For researchers", metadata={"tags": ["research"]}),
        hidden,
        shown,
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def test_pieces_are_taken_by_their_labels(tmp_path):
    from asn_eval.report.document import chapter_pieces

    path = _notebook(
        tmp_path / "notebooks" / "05_conclusion.ipynb",
        [
            _output(
                '<section class="executive-summary" id="ringkasan"><h1>Ringkasan</h1></section>',
                "summary",
                title="Ringkasan",
                anchor="ringkasan",
            ),
            _output(
                "<h1>5. Kesimpulan</h1>", "heading", level=1, text="5. Kesimpulan", anchor="ch5-h1"
            ),  # fmt: skip
            _output("<p>Satu &amp; dua.</p>", "text"),
            _output(
                "<table><caption>Tabel 5.1. Mutu &amp; data</caption></table>",
                "table",
                caption="Tabel 5.1. Mutu & data",
                anchor="tab-5-1",
            ),  # fmt: skip
            _output("<p>unlabelled</p>"),
        ],
    )
    pieces = chapter_pieces(path)
    assert pieces.summaries == [
        '<section class="executive-summary" id="ringkasan"><h1>Ringkasan</h1></section>'
    ]
    assert [(h.level, h.anchor, h.text) for h in pieces.front] == [(1, "ringkasan", "Ringkasan")]
    assert pieces.body == (
        '\n<div class="output-block"><h1 id="ch5-h1">5. Kesimpulan</h1></div>\n'
        '<div class="output-block"><p>Satu &amp; dua.</p></div>\n'
        '<div class="output-block"><table><caption id="tab-5-1">Tabel 5.1. Mutu &amp; data'
        "</caption></table></div>\n"
        '<div class="output-block"><p>unlabelled</p></div>'
    )
    assert [(h.level, h.anchor, h.text) for h in pieces.headings] == [
        (1, "ch5-h1", "5. Kesimpulan")
    ]
    assert [(c.kind, c.anchor, c.text) for c in pieces.captions] == [
        ("table", "tab-5-1", "Tabel 5.1. Mutu & data")
    ]
    assert "research only" not in pieces.body


def test_issue_date_follows_source_date_epoch(monkeypatch):
    import datetime as dt

    from asn_eval.report.document import issue_date

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764460800")  # 2025-11-30 00:00 UTC
    assert issue_date() == dt.date(2025, 11, 30)


def test_notebooks_show_screen_copies_and_the_report_prints_the_300_dpi_file(tmp_path):
    import base64
    import re

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from asn_eval.report.document import chapter_pieces
    from asn_eval.report.figures import FigureRegistry, figure_size

    fig, ax = plt.subplots(figsize=figure_size("full"))
    ax.plot([0, 1], [0, 1])
    saved = FigureRegistry(tmp_path, chapter=3, lang="id").save(fig, "garis", "Garis")
    shown = saved._repr_html_()
    screen = base64.b64decode(re.search(r"base64,([^\"]+)", shown).group(1))
    printed = saved.png.read_bytes()
    assert len(screen) < len(printed) / 3  # the notebook keeps a small copy
    label = {"caption": saved.caption, "anchor": saved.anchor, "print_src": saved.relative_png,
             "width_in": saved.width_in}  # fmt: skip
    path = _notebook(
        tmp_path / "notebooks" / "03_impact.ipynb", [_output(shown, "figure", **label)]
    )
    pieces = chapter_pieces(path)
    assert base64.b64decode(re.search(r"base64,([^\"]+)", pieces.body).group(1)) == printed
    assert "data-print-src" not in pieces.body
    assert '<figcaption id="fig-3-1">Gambar 3.1. Garis</figcaption>' in pieces.body
    assert [(c.kind, c.anchor, c.text) for c in pieces.captions] == [
        ("figure", "fig-3-1", "Gambar 3.1. Garis")
    ]


def _table_html(rows: int) -> str:
    body = "".join(
        f"<tr><td class='data row{i} col0'>Dinas Pemberdayaan Perempuan {i}</td>"
        f"<td class='data row{i} col1'>{i}</td></tr>"
        for i in range(rows)
    )
    return (
        '<table class="asn-table"><caption>Tabel 1.1. Panjang</caption>'
        "<thead><tr><th class='col_heading level0 col0'>Perangkat daerah</th>"
        f"<th class='col_heading level0 col1'>Pegawai</th></tr></thead><tbody>{body}</tbody>"
        '</table><p class="table-note"><small>Catatan tabel.</small></p>'
    )


def _printed_pieces(html_text: str) -> list[list[tuple[str, str]]]:
    """Per page, what of the table it prints: ("caption"|"header"|"row"|"note", text)."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    def text_of(box):
        return "".join(b.text for b in box.descendants() if isinstance(b, boxes.TextBox))

    pages = []
    for page in HTML(string=html_text).render().pages:
        pieces = []
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if isinstance(box, boxes.TableRowBox):
                header = any(
                    isinstance(g, boxes.TableRowGroupBox) and g.is_header and box in g.children
                    for g in page._page_box.descendants()
                )
                pieces.append(("header" if header else "row", text_of(box)))
            elif isinstance(box, boxes.BlockBox) and box.element_tag == "caption":
                pieces.append(("caption", text_of(box)))
            elif isinstance(box, boxes.BlockBox) and element is not None and (
                "table-note" in (element.get("class") or "")
            ):  # fmt: skip
                pieces.append(("note", text_of(box)))
        pages.append([p for p in pieces if p[0] != "row" or p[1]])
    return pages


def test_a_table_across_pages_repeats_its_header_and_keeps_caption_rows_and_note(tmp_path):
    """Tables 3.2 and 5.2 broke with their labels on one page and numbers on the next, a
    row cut in two, a caption and one row at a page's foot: however much of the page is
    left when a table starts, it prints its header on every page, no row in two, its
    caption with at least three rows, at least two rows on a page it continues on, and its
    note with its last rows."""
    from asn_eval.report.document import build_html

    for spacer_mm in (170, 205, 215, 222, 228, 235):
        path = _notebook(
            tmp_path / f"s{spacer_mm}" / "notebooks" / "01_introduction.ipynb",
            [
                _output(f'<div style="height:{spacer_mm}mm"></div>'),
                _output(_table_html(70), "table", caption="Tabel 1.1. Panjang", anchor="t1"),
            ],
        )
        html_text = build_html([path], lang="id", year=2025, metadata={})
        printed = [p for p in _printed_pieces(html_text) if p]
        assert len(printed) >= 2, spacer_mm  # the table spans pages
        rows = [text for page in printed for kind, text in page if kind == "row"]
        assert rows == [f"Dinas Pemberdayaan Perempuan {i}{i}" for i in range(70)], spacer_mm
        assert printed[0][0] == ("caption", "Tabel 1.1. Panjang"), spacer_mm
        for page in printed:
            assert page[0 if page is not printed[0] else 1][0] == "header", spacer_mm
            assert sum(kind == "row" for kind, _ in page) >= (3 if page is printed[0] else 2)
        assert printed[-1][-1] == ("note", "Catatan tabel."), spacer_mm
        assert [kind for kind, _ in printed[-1][-3:]] == ["row", "row", "note"], spacer_mm


def test_names_in_a_tables_first_two_columns_are_not_hyphenated(tmp_path):
    """ "Puskesmas Bakuna-se", "Dinas Ketahanan Pa-ngan", "Waktu la-yanan": in print, words
    of other cells may be hyphenated to fit a narrow column, a name in the first two
    columns (an agency, a policy, an outcome) or in a ``name`` cell wraps only between its
    words."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    from asn_eval.report.document import build_html

    name, outcome = "Dinas Pemberdayaan Perempuan", "Waktu layanan puskesmas"
    words = "Pemberdayaan Perlindungan Kependudukan"
    rows = "".join(
        f"<tr><td class='data row{i} col0'>{name}</td><td class='data row{i} col1'>{outcome}"
        f"</td><td class='data row{i} col2'>{words}</td></tr>"
        for i in range(3)
    )
    table = (
        '<table class="asn-table" style="width:60mm"><caption>Tabel 1.1. Nama</caption>'
        f"<tbody>{rows}</tbody></table>"
    )
    path = _notebook(
        tmp_path / "notebooks" / "01_introduction.ipynb",
        [_output(table, "table", caption="Tabel 1.1. Nama", anchor="t1")],
    )
    html_text = build_html([path], lang="id", year=2025, metadata={})
    cells = {"col0": [], "col1": [], "col2": []}
    for page in HTML(string=html_text).render().pages:
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TableCellBox):
                column = box.element.get("class").split()[-1]
                lines = [b.text for b in box.descendants() if isinstance(b, boxes.TextBox)]
                cells[column].append(lines)
    for column, shown in (("col0", name), ("col1", outcome)):
        assert len(cells[column]) == 3
        for lines in cells[column]:
            assert " ".join(t.strip() for t in lines).split() == shown.split(), lines
    # The third column is narrow enough that its words are hyphenated: the rule is needed.
    assert any(line.endswith("\u2010") for lines in cells["col2"] for line in lines)


def _page_texts(html_text: str) -> list[str]:
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    return [
        " ".join(b.text for b in page._page_box.descendants() if isinstance(b, boxes.TextBox))
        for page in HTML(string=html_text).render().pages
    ]


def test_contents_list_the_executive_summary_and_the_lists_of_figures_and_tables(tmp_path):
    """The executive summary was missing from the contents: every front section is listed
    before chapter 1, with the page it starts on."""
    import re

    from asn_eval.report.document import build_html

    path = _notebook(
        tmp_path / "notebooks" / "05_conclusion.ipynb",
        [
            _output(
                '<section class="executive-summary" id="executive-summary">'
                "<h1>Ringkasan eksekutif</h1></section>",
                "summary",
                title="Ringkasan eksekutif",
                anchor="executive-summary",
            ),
            _output(
                "<h1>5. Kesimpulan</h1>", "heading", level=1, text="5. Kesimpulan", anchor="ch5-h1"
            ),
            _output(
                '<table class="asn-table"><caption>Tabel 5.1. Temuan</caption></table>',
                "table",
                caption="Tabel 5.1. Temuan",
                anchor="tab-5-1",
            ),
        ],
    )
    html_text = build_html([path], lang="id", year=2025, metadata={})
    contents = re.search(r'<nav class="toc">.*?</ol>', html_text, re.S).group(0)
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', contents) == [
        ("executive-summary", "Ringkasan eksekutif"),
        ("list-of-tables", "Daftar Tabel"),
        ("ch5-h1", "5. Kesimpulan"),
    ]
    assert '<h2 id="list-of-tables">Daftar Tabel</h2>' in html_text
    pages = _page_texts(html_text)
    # Cover, summary, contents (with the list of tables), chapter 5.
    assert "Ringkasan eksekutif" in pages[1] and "Daftar Isi" in pages[2]
    listed = dict(re.findall(r"(Ringkasan eksekutif|Daftar Tabel|5\. Kesimpulan)[ .]*(\d+)",
                             pages[2]))  # fmt: skip
    assert listed == {"Ringkasan eksekutif": "2", "Daftar Tabel": "3", "5. Kesimpulan": "4"}


def test_cover_names_the_issuing_office_and_contact_only_when_metadata_give_them(tmp_path):
    import re

    from asn_eval.report.document import build_html

    path = _notebook(tmp_path / "notebooks" / "01_introduction.ipynb", [_output("<p>Isi.</p>")])
    issuer = {"office": "BKPSDM Kota Kupang & Co", "contact": "kantor@example.invalid"}

    def cover(metadata, lang="id"):
        html_text = build_html([path], lang=lang, year=2025, metadata=metadata)
        return re.search(r'<section class="cover">.*?</section>', html_text, re.S).group(0)

    shown = cover({"region": "Kota Kupang", "issuer": issuer})
    assert '<p class="issued-by">Diterbitkan oleh BKPSDM Kota Kupang &amp; Co</p>' in shown
    assert '<p class="contact">Kontak: kantor@example.invalid</p>' in shown
    assert "Issued by BKPSDM" in cover({"issuer": issuer}, lang="en")
    office_only = cover({"issuer": {"office": "BKPSDM"}})
    assert "Diterbitkan oleh BKPSDM" in office_only and "Kontak" not in office_only
    for metadata in ({}, {"issuer": {}}):
        bare = cover(metadata)
        assert "Diterbitkan oleh" not in bare and "Kontak" not in bare
        assert 'class="issuer"' not in bare


def test_page_fill_finds_a_near_empty_page_but_not_a_chapters_short_last_page(tmp_path):
    """The check behind "no near-empty pages" (tests/page_fill.py): a block too tall for the
    space left pushes on and leaves its page near empty; a chapter's last page may be short."""
    from page_fill import near_empty_pages, page_fills

    from asn_eval.report.document import build_html

    first = _notebook(
        tmp_path / "a" / "notebooks" / "01_introduction.ipynb",
        [
            _output(
                "<h1>1. Pendahuluan</h1>", "heading", level=1, text="1. Pendahuluan", anchor="h1"
            ),
            _output("<p>Satu paragraf.</p>"),
            _output('<div style="height:240mm;break-inside:avoid">tinggi</div>'),
            _output("<p>Penutup bab.</p>" * 8),
        ],
    )
    second = _notebook(
        tmp_path / "b" / "notebooks" / "02_policies.ipynb",
        [_output("<h1>2. Kebijakan</h1>", "heading", level=1, text="2. Kebijakan", anchor="h2")],
    )
    html_text = build_html([first, second], lang="id", year=2025, metadata={})
    fills = page_fills(html_text)
    # Cover and contents (short, each on its one page), chapter 1 (heading and a line; the
    # tall block; its last lines, short but the chapter's last page), chapter 2 (a heading:
    # the document's last page).
    assert len(fills) == 6
    assert [p.exempt for p in fills] == [True, True, False, False, True, True]
    assert fills[1].fill < 0.25 and fills[2].fill < 0.25 and fills[3].fill > 0.9
    assert near_empty_pages(html_text) == [3]
    # An executive summary run over by a few lines leaves a near-empty page before the
    # contents (page 3 of the Kupang report before this check).
    summary = _notebook(
        tmp_path / "c" / "notebooks" / "05_conclusion.ipynb",
        [
            _output(
                '<section class="executive-summary"><div style="height:245mm"></div>'
                "<p>Satu baris lagi.</p><p>Dan satu lagi.</p></section>",
                "summary",
            )
        ],
    )
    html_text = build_html([summary], lang="id", year=2025, metadata={})
    assert near_empty_pages(html_text) == [3]
