"""Agency scorecards (section 2.4): the annex repeats the panels' numbers per agency, shows no
exact count, and no withheld cell can be worked back from a published total."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from support import make_dataset

from asn_eval.analysis import AnalysisSpec
from asn_eval.analysis.panels import POLICIES, UNKNOWN_COHORT, adoption_cohorts, agency_year_panel
from asn_eval.analysis.policies import PRINT_ROW_LIMIT, headcount_band, scorecards
from asn_eval.domain.privacy import SUPPRESSED_MARK
from asn_eval.report.chapters import base, open_chapter

YEAR = 2024


def small_dataset():
    """12 agencies of 20 employees; in 2024 agency A01 (badan) keeps 3 appraised employees,
    and A11 has no policies row (adoption dates unknown)."""
    data = make_dataset(per_agency=20)
    perf = data.tables["performance"]
    a01 = perf[(perf["agency_code"] == "A01") & (perf["year"] == YEAR)]
    data.tables["performance"] = perf.drop(a01.index[3:]).reset_index(drop=True)
    policies = data.tables["policies"]
    data.tables["policies"] = policies[policies["agency_code"] != "A11"].reset_index(drop=True)
    return data


@pytest.fixture(scope="module")
def data():
    return small_dataset()


@pytest.fixture(scope="module")
def result(data):
    return scorecards(data, AnalysisSpec(year=YEAR))


def test_scorecards_repeat_the_panel_numbers_of_the_year(data, result):
    panel = agency_year_panel(data, years=[YEAR]).set_index("agency_code")
    table = result.to_frame().set_index("agency_code")
    assert result.year == YEAR and result.n_agencies == 12
    shown = table.index[table["skp_good_share"] != SUPPRESSED_MARK]
    assert len(shown) == 10  # A01 and its complement withheld
    np.testing.assert_allclose(
        table.loc[shown, "skp_good_share"].astype(float),
        panel.loc[shown, "skp_good_share"],
        atol=1e-6,
    )
    np.testing.assert_allclose(
        table.loc[shown, "jp_minimum_share"].astype(float),
        panel.loc[shown, "jp_minimum_share"],
        atol=1e-6,
    )
    cohorts = adoption_cohorts(data, years=[YEAR]).set_index("agency_code")
    pd.testing.assert_frame_equal(
        table[cohorts.columns], cohorts.loc[table.index], check_dtype=False
    )
    assert (table.loc["A11", list(cohorts.columns)] == UNKNOWN_COHORT).all()
    # city-wide shares are the means over every employee of the year
    year = data.tables["performance"].query("year == @YEAR")
    assert result.city["n_employees"] == len(year) == 11 * 20 + 3
    good = year["skp_predicate"].isin(["Sangat Baik", "Baik"]).mean()
    assert result.city["skp_good_share"] == pytest.approx(good)


def test_no_exact_count_is_published(result):
    table = result.to_frame()
    assert not {"n_employees", "n_skp", "ikm_respondents", "headcount"} & set(table.columns)
    assert table.set_index("agency_code")["headcount_band"].to_dict() == {
        **{f"A{i:02d}": "20-49" for i in range(12)},
        "A01": "<20",
    }
    assert headcount_band([3, 19, 20, 49, 50, 99, 100, 5000]).tolist() == [
        "<20", "<20", "20-49", "20-49", "50-99", "50-99", "100+", "100+",
    ]  # fmt: skip


def test_a_small_agency_and_one_partner_of_its_type_are_withheld(result):
    table = result.to_frame()
    withheld = table[table["skp_good_share"] == SUPPRESSED_MARK]
    # A01 (3 employees) is a badan; the badan total is drawn in section 2.2, so a second
    # badan is withheld: the smallest shown one whose share is not 0% or 100%
    assert withheld["agency_code"].tolist()[0] == "A01"
    assert withheld["agency_type"].tolist() == ["badan", "badan"]
    for column in ("skp_good_share", "jp_minimum_share"):
        marks = table[column] == SUPPRESSED_MARK
        # never exactly one withheld cell in the city or in an agency type
        assert marks.sum() != 1
        assert (marks.groupby(table["agency_type"]).sum() != 1).all()
    assert result.suppressed.loc["skp_good_share"].tolist() == [1, 1]
    assert result.suppressed.loc["jp_minimum_share"].tolist() == [1, 1]
    # IKM: A00 and A01 each have 4 respondents: both small, and two withheld cells protect
    # each other against the city total
    assert table.set_index("agency_code")["ikm"].loc[["A00", "A01"]].tolist() == ["*", "*"]
    assert result.suppressed.loc["ikm"].tolist() == [2, 0]
    assert result.exposed_groups == ()
    assert result.n_suppressed == 6


def _render(data, tmp_path, monkeypatch, lang):
    shown: list[str] = []
    monkeypatch.setattr(base, "_display", lambda html, *kind, **label: shown.append(html))
    chapter = open_chapter(
        "policies",
        data_dir=None,
        dataset=data,
        lang=lang,
        output_dir=tmp_path,
        spec=AnalysisSpec(year=YEAR),
    )
    chapter.show("scorecards")
    return chapter, "\n".join(shown)


@pytest.mark.parametrize(
    ("lang", "title", "never", "unknown", "complementary"),
    [
        ("id", "2.4 Rapor per perangkat daerah", "belum", "tidak diketahui", "ikut disembunyikan"),
        ("en", "2.4 Agency scorecards", "not yet", "unknown", "a second figure of that"),
    ],
)
def test_section_shows_one_row_per_agency_in_the_language(
    data, tmp_path, monkeypatch, lang, title, never, unknown, complementary
):
    chapter, html = _render(data, tmp_path, monkeypatch, lang)
    assert f"<h2>{title}</h2>" in html
    csv = pd.read_csv(tmp_path / "tables" / "2-1_agency_scorecards.csv", dtype=str)
    assert len(csv) == 12
    assert csv["agency"].tolist()[:2] == ["Agency 0", "Agency 1"]
    years = [f"{p}_year" for p in POLICIES]
    row = csv.set_index("agency").loc["Agency 11"]
    assert set(row[years]) == {unknown}  # A11: no policies row
    assert never in set(csv[years].to_numpy().ravel())
    # primary and complementary: two withheld SKP cells, empty in the data, flagged
    assert (csv["skp_good_share_suppressed"] == "True").sum() == 2
    assert csv.loc[csv["skp_good_share_suppressed"] == "True", "skp_good_share"].isna().all()
    assert SUPPRESSED_MARK in html
    # the footnote names the rule, the city shares in the lead match the result
    assert complementary in html
    assert "<table" in html and ("table", chapter.emitted[-1][1]) in chapter.emitted


def test_many_agencies_go_to_the_table_files_only(tmp_path, monkeypatch):
    many = make_dataset(n_agencies=PRINT_ROW_LIMIT + 1, per_agency=5, years=[2023, 2024])
    chapter, html = _render(many, tmp_path, monkeypatch, "en")
    assert "<table" not in html
    assert re.search(
        rf"The scorecards of {PRINT_ROW_LIMIT + 1} agencies are too long for the printed "
        rf"report \(limit {PRINT_ROW_LIMIT} rows\)\. The full table is in the table file "
        r"tables/2-1_agency_scorecards\.csv",
        html,
    )
    csv = pd.read_csv(tmp_path / "tables" / "2-1_agency_scorecards.csv")
    assert len(csv) == PRINT_ROW_LIMIT + 1
    assert ("table_file", "Table 2.1. Agency scorecards, 2024") in chapter.emitted
