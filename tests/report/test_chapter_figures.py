"""Figures made for print (issue 11): the minimum-font guard of Chapter.figure, and the
introduction's and policies' figures drawn at their final width with no text under 7 pt."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from support import make_dataset

from asn_eval.report.chapters import base, open_chapter
from asn_eval.report.figures import MIN_FONT_PT, figure_size, smallest_font_pt


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr(base, "_display", lambda html, *kind, **label: None)


def _chapter(tmp_path, name="introduction", dataset=None):
    return open_chapter(
        name, data_dir=None, year=2024, lang="id", output_dir=tmp_path, dataset=dataset
    )


def test_guard_refuses_a_figure_with_text_under_the_minimum(quiet, tmp_path, monkeypatch):
    monkeypatch.setattr(base, "ENFORCE_MIN_FONT", True)
    chapter = _chapter(tmp_path, dataset=make_dataset(n_agencies=3, per_agency=5))
    fig, ax = plt.subplots(figsize=figure_size("full"))
    ax.set_title("Judul", fontsize=6)
    with pytest.raises(ValueError) as err:
        chapter.figure(fig, "tiny_title", "caption")
    assert str(err.value) == (
        "Figure 1.1 ('tiny_title', chapter introduction) has text that prints at 6.0 pt, "
        "under the 7 pt minimum: draw it at its final width with "
        "asn_eval.report.figures.figure_size and no explicit fontsize below the style's."
    )
    assert not (tmp_path / "figures" / "1-1_tiny_title.png").exists()
    # Drawn 10 in wide, 9 pt text prints at 9 x 6.56 / 10.2 < 7 pt once the page shrinks it.
    wide, ax = plt.subplots(figsize=(10, 4))
    ax.set_title("Judul", fontsize=9)
    with pytest.raises(ValueError, match="under the 7 pt minimum"):
        chapter.figure(wide, "too_wide", "caption")


def test_guard_is_on_for_every_report_figure():
    # Every chapter draws at its printed size, so the report refuses a figure under 7 pt.
    assert base.ENFORCE_MIN_FONT is True


@pytest.mark.parametrize("name", ["introduction", "policies", "challenges"])
def test_chapter_figures_print_at_seven_points_or_more(quiet, tmp_path, monkeypatch, name):
    monkeypatch.setattr(base, "ENFORCE_MIN_FONT", True)
    sizes = {}
    draw = base.Chapter.figure

    def measured(self, fig, slug, caption):
        sizes[slug] = smallest_font_pt(fig)
        draw(self, fig, slug, caption)

    monkeypatch.setattr(base.Chapter, "figure", measured)
    chapter = _chapter(tmp_path, name, dataset=make_dataset(per_agency=10))
    for section in chapter.sections:
        chapter.show(section)
    assert sizes and min(sizes.values()) >= MIN_FONT_PT, sizes


LONG_NAME = "Dinas Pemberdayaan Perempuan dan Perlindungan Anak"


def test_agency_names_wrap_whole_in_the_adoption_figure_and_the_scorecards(tmp_path, monkeypatch):
    """Issue 20: names were cut ("Dinas Pemberdayaan Perempuan…") on Fig. 2.1 and in
    Table 2.4, and hyphenated inside words in print. They are shown whole: wrapped between
    words on the figure's axis, and in the table's cells marked as names for the stylesheet."""
    shown = []
    monkeypatch.setattr(base, "_display", lambda html, *kind, **label: shown.append(html))
    labels = {}
    draw = base.Chapter.figure

    def keep_labels(self, fig, slug, caption):
        fig.canvas.draw()
        labels[slug] = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        draw(self, fig, slug, caption)

    monkeypatch.setattr(base.Chapter, "figure", keep_labels)
    dataset = make_dataset(per_agency=10)
    dataset.tables["agencies"].loc[0, "agency_name"] = LONG_NAME
    chapter = _chapter(tmp_path, "policies", dataset=dataset)
    chapter.show("adoption")
    chapter.show("scorecards")
    names = labels["treatment_maps"]
    (wrapped,) = [n for n in names if n.startswith("Dinas")]
    assert wrapped.replace("\n", " ") == LONG_NAME and wrapped.count("\n") == 1
    assert all(len(line) <= 32 for name in names for line in name.split("\n"))
    assert not [n for n in names if "\u2026" in n or "..." in n]
    card = next(html for html in shown if "_agency_scorecards" in html)
    assert f"{LONG_NAME}</td>" in card and "\u2026" not in card
    # every cell of the name column, and only those, is marked as a name
    cells = [c.split(">")[0] for c in card.split("<td ")[1:]]
    assert cells and all((" col0 " in c) == c.endswith(' name" ') for c in cells), cells[:3]


def test_bacon_panels_name_their_outcome_and_its_unit(quiet, tmp_path, monkeypatch):
    """Issue 20: Fig. 3.5's panels were titled by policy only, and a panel in days read
    "Estimasi 2x2" without a unit. Each panel now names its outcome and unit, under the policy,
    and its y axis carries the unit."""
    from asn_eval.analysis import AnalysisSpec
    from asn_eval.analysis.impact import POLICY_OUTCOMES
    from asn_eval.analysis.panels import POLICIES
    from asn_eval.report.narrative import label, text

    drawn = {}
    draw = base.Chapter.figure

    def keep(self, fig, slug, caption):
        drawn[slug] = [
            (ax.get_title(), [t.get_text() for t in ax.texts if t.get_gid() == "subtitle"],
             ax.get_ylabel())
            for ax in fig.axes
        ]  # fmt: skip
        draw(self, fig, slug, caption)

    monkeypatch.setattr(base.Chapter, "figure", keep)
    chapter = open_chapter(
        "impact", data_dir=None, year=2024, lang="id", output_dir=tmp_path,
        dataset=make_dataset(per_agency=5), spec=AnalysisSpec(year=2024, n_boot=19, n_perm=9),
    )  # fmt: skip
    chapter.show("twfe_bacon")
    # one panel per policy, on its main outcome, in the data contract's order
    panels = drawn["bacon_decomposition"]
    assert len(panels) == len(POLICIES)
    for policy, (title, subtitle, ylabel) in zip(POLICIES, panels, strict=True):
        outcome = POLICY_OUTCOMES[policy][0]
        unit = label("unit", chapter.estimates[(policy, outcome)].outcome.unit, "id")
        flat = " ".join(subtitle).replace("\n", " ").replace("\u00a0", " ")
        assert title.replace("\n", " ") == chapter.policy_name(policy)
        assert flat == f"{text(f'chapters.impact.outcomes.{outcome}', 'id')} ({unit})"
        assert ylabel == f"Estimasi 2x2 ({unit})"
    assert "Estimasi 2x2 (hari)" in {y for *_, y in panels}  # absence days, not a share
