"""The report document: the executive summary is lifted out of chapter 5 to follow the cover."""

from asn_eval.report.document import take_summary


def test_executive_summary_is_lifted_out_of_the_chapter_body():
    body = (
        '<h1>5. Kesimpulan</h1>\n<div class="output-block"><section class="executive-summary">'
        "<h1>Ringkasan eksekutif</h1><p>Satu.</p></section></div>\n<p>Sisa bab.</p>"
    )
    rest, found = take_summary(body)
    assert found == [
        '<section class="executive-summary"><h1>Ringkasan eksekutif</h1><p>Satu.</p></section>'
    ]
    assert rest == "<h1>5. Kesimpulan</h1>\n\n<p>Sisa bab.</p>"
    assert take_summary("<p>no summary</p>") == ("<p>no summary</p>", [])


def test_numbered_captions_get_anchors_for_the_lists_of_figures_and_tables():
    from asn_eval.report.document import anchor_captions

    body = (
        "<figure><img src='x'><figcaption>Gambar 3.2. Efek &amp; waktu</figcaption></figure>"
        "<table><caption>Tabel 1.4. Mutu data</caption></table>"
        "<table><caption>No number here</caption></table>"
    )
    out, found = anchor_captions(body)
    assert [(c.kind, c.anchor, c.text) for c in found] == [
        ("figure", "fig-3-2", "Gambar 3.2. Efek & waktu"),
        ("table", "tab-1-4", "Tabel 1.4. Mutu data"),
    ]
    assert '<figcaption id="fig-3-2">Gambar 3.2. Efek &amp; waktu</figcaption>' in out
    assert '<caption id="tab-1-4">Tabel 1.4. Mutu data</caption>' in out
    assert "<caption>No number here</caption>" in out


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

    from asn_eval.report.document import print_images
    from asn_eval.report.figures import FigureRegistry, figure_size

    fig, ax = plt.subplots(figsize=figure_size("full"))
    ax.plot([0, 1], [0, 1])
    saved = FigureRegistry(tmp_path, chapter=3, lang="id").save(fig, "garis", "Garis")
    shown = saved._repr_html_()
    screen = base64.b64decode(re.search(r"base64,([^\"]+)", shown).group(1))
    printed = saved.png.read_bytes()
    assert len(screen) < len(printed) / 3  # the notebook keeps a small copy
    body = print_images(f'<div class="output-block">{shown}</div>', tmp_path)
    assert base64.b64decode(re.search(r"base64,([^\"]+)", body).group(1)) == printed
    assert "data-print-src" not in body
