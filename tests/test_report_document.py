"""The report document: the executive summary is lifted out of chapter 5 to follow the cover."""

from asn_eval.report_document import take_summary


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
