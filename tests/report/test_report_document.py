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
            _output('<section class="executive-summary"><h1>Ringkasan</h1></section>', "summary"),
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
    assert pieces.summaries == ['<section class="executive-summary"><h1>Ringkasan</h1></section>']
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
