"""Privacy in outputs: small cells withheld and marked; no NIP or name in any output file."""

import json

import nbformat
import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from asn_eval.domain.privacy import (
    SUPPRESSED_MARK,
    assert_no_identifiers,
    check_no_identifiers,
    suppress_small_cells,
    suppress_with_complements,
)
from asn_eval.domain.regulations import MIN_CELL_SIZE
from asn_eval.report.narrative import suppression_note

NIP = "198503122010011002"
NAME = "Yohanes Bria Seran"
IDENTIFIERS = [NIP, NAME, "Maria Goreti Lake", "Al"]


def _table():
    return pd.DataFrame(
        {
            "agency": ["Dinas A", "Dinas B", "Dinas C", "Dinas D"],
            "employees": [4, 5, 0, 120],
            "share_good": [1.0, 0.6, float("nan"), 0.81],
            "absence_mean": [7.5, 2.0, float("nan"), 1.2],
        }
    )


def test_cells_below_the_minimum_are_withheld_and_marked():
    assert MIN_CELL_SIZE == 5
    out = suppress_small_cells(_table(), "employees", ["share_good", "absence_mean"])
    # 4 employees: withheld; 5: shown (the limit is "fewer than 5"); 0: nothing to disclose
    assert out["share_good"].tolist()[:2] == [SUPPRESSED_MARK, 0.6]
    assert out["absence_mean"].tolist()[0] == SUPPRESSED_MARK
    assert out["employees"].tolist() == ["<5", 5, 0, 120]
    assert out["agency"].tolist() == _table()["agency"].tolist()
    assert out.attrs["n_suppressed_rows"] == 1
    assert suppression_note("id") == (
        "* Tidak ditampilkan: statistik dari kurang dari 5 pegawai, disembunyikan untuk "
        "melindungi data pribadi (UU 27/2022)."
    )
    # the input is left untouched
    assert _table().equals(_table()) and _table()["share_good"].iloc[0] == 1.0


def test_minimum_is_configurable_and_note_in_english():
    out = suppress_small_cells(
        _table(), "employees", ["share_good"], min_size=10, mark_count=False
    )
    assert out["share_good"].tolist()[:2] == [SUPPRESSED_MARK, SUPPRESSED_MARK]
    assert out["employees"].tolist() == [4, 5, 0, 120]
    assert suppression_note("en", 10).startswith(
        "* Not shown: a statistic from fewer than 10 employees"
    )


def test_nothing_to_withhold_gives_no_note():
    out = suppress_small_cells(_table().iloc[[1, 3]], "employees", ["share_good"])
    assert out.attrs == {"n_suppressed_rows": 0}


def test_missing_column_message():
    with pytest.raises(KeyError) as err:
        suppress_small_cells(_table(), "n", ["share_good"])
    assert err.value.args[0] == (
        "Cannot suppress small cells: the table has no column(s) ['n']; its columns are "
        "['agency', 'employees', 'share_good', 'absence_mean']."
    )


def _leaky_report(root):
    """One file of each kind a report contains, each leaking an identifier in its own way."""
    (root / "figures").mkdir(parents=True)
    (root / "tables").mkdir()
    (root / "report.html").write_text(
        "<p>Pegawai terbaik: Yohanes&nbsp;Bria Seran</p>", encoding="utf-8"
    )
    (root / "tables" / "1-1_staff.csv").write_text("agency,nip\nDinas A,19850312 201001 1 002\n")
    (root / "results.json").write_text(json.dumps({"note": "MARIA GORETI LAKE"}))
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                nbformat.v4.new_output("stream", text=f"nip {NIP[:8]}-{NIP[8:14]}-{NIP[14:]}")
            ],
        )
    )
    nbformat.write(nb, root / "01_introduction.ipynb")
    (root / "figures" / "1-1_x.svg").write_text("<svg><text>yohanes bria seran</text></svg>")
    book = Workbook()
    book.active["A1"] = NAME
    book.save(root / "tables" / "1-2_staff.xlsx")
    from weasyprint import HTML

    HTML(string=f"<h1>Laporan</h1><p>{NAME}</p>").write_pdf(root / "report.pdf")


def test_scan_finds_identifiers_in_every_kind_of_output(tmp_path):
    _leaky_report(tmp_path)
    hits = {(h.file, h.kind) for h in check_no_identifiers(tmp_path, IDENTIFIERS)}
    assert hits == {
        ("report.html", "name"),  # HTML entity between the words
        ("tables/1-1_staff.csv", "NIP"),  # NIP written with spaces
        ("results.json", "name"),  # other case
        ("01_introduction.ipynb", "NIP"),  # with dashes, in a notebook output
        ("figures/1-1_x.svg", "name"),
        ("tables/1-2_staff.xlsx", "name"),  # inside a zip-based office file
        ("report.pdf", "name"),  # PDF text (subset fonts: only a text extractor sees it)
    }


def test_clean_report_passes_and_lookalikes_do_not_match(tmp_path):
    (tmp_path / "report.html").write_text(
        # "Mariana" is not "Maria ...", "Al" is too short to search, and a longer digit run
        # that is not the NIP is not a hit; RSUD names and agency names are fine.
        "<p>Mariana Goreti Lakers; Dinas Al-Hidayah; 1985031220100110; RSUD W.Z. Johannes</p>",
        encoding="utf-8",
    )
    assert check_no_identifiers(tmp_path, IDENTIFIERS) == []
    assert_no_identifiers(tmp_path, IDENTIFIERS)


def test_assert_message_masks_the_identifier(tmp_path):
    (tmp_path / "a.csv").write_text(f"x\n{NIP}\n")
    with pytest.raises(AssertionError) as err:
        assert_no_identifiers(tmp_path, IDENTIFIERS)
    message = str(err.value)
    assert message == (
        f"1 identifier(s) from the input data appear in the outputs under {tmp_path}: "
        "a.csv: NIP 198\u2026. Reports must never show a NIP or a name."
    )
    assert NIP not in message


# --- one small-cell rule for every chapter ----------------------------------------------


def test_chapter_suppress_is_the_privacy_rule(tmp_path, monkeypatch):
    from asn_eval.report.chapters import base

    chapter = base.Chapter(
        pd.DataFrame(), year=2024, lang="en", output_dir=tmp_path, min_cell_size=MIN_CELL_SIZE
    )
    frame = _table()
    shown = chapter.suppress(frame, count="employees", columns=["share_good", "absence_mean"])
    expected = suppress_small_cells(
        frame, "employees", ["share_good", "absence_mean"], mark_count=False
    )
    pd.testing.assert_frame_equal(shown, expected)
    assert base.SUPPRESSED == SUPPRESSED_MARK
    # the footnote stands under a table only when one of its cells was withheld
    assert chapter.suppression_note(shown) == suppression_note("en") != ""
    clean = chapter.suppress(frame.iloc[[1, 3]], count="employees", columns=["share_good"])
    assert chapter.suppression_note(clean) == ""


def test_withheld_columns_are_rounded_as_tables_write_numbers():
    table = pd.DataFrame({"n": [3, 40], "share": [0.2, 0.1 + 0.2]})
    out = suppress_small_cells(table, "n", ["share"], mark_count=False)
    # 0.1 + 0.2 is 0.30000000000000004 in binary; a mixed column cannot be rounded later
    assert out["share"].tolist() == [SUPPRESSED_MARK, 0.3]


# --- complementary suppression -----------------------------------------------------------


def _agencies():
    """Six agencies of two types; Dinas A has 3 employees (below the minimum)."""
    return pd.DataFrame(
        {
            "agency": ["Dinas A", "Dinas B", "Dinas C", "Camat D", "Camat E", "Camat F"],
            "type": ["dinas", "dinas", "dinas", "kecamatan", "kecamatan", "kecamatan"],
            "n": [3, 40, 12, 30, 25, 8],
            "share": [2 / 3, 0.75, 0.5, 0.9, 0.6, 0.625],
        }
    )


def _interval(table, published, column="share", by="type"):
    """Smallest and largest value of each withheld cell consistent with everything a reader
    sees: the shown cells, every row's count, the whole-table share and each ``by`` group's
    share (count-weighted means), and that a share lies in [0, 1]. Linear programming."""
    from scipy.optimize import linprog

    hidden = [i for i, v in enumerate(published[column]) if v == SUPPRESSED_MARK]
    n = table["n"].to_numpy(float)
    truth = table[column].to_numpy(float)
    groups = [list(range(len(table)))]
    groups += [list(np.flatnonzero(table[by] == g)) for g in sorted(set(table[by]))]
    a_eq, b_eq = [], []
    for rows in groups:
        total = sum(n[i] * truth[i] for i in rows)  # the published total, as a sum
        known = sum(n[i] * truth[i] for i in rows if i not in hidden)
        a_eq.append([n[i] if i in rows else 0.0 for i in hidden])
        b_eq.append(total - known)
    bounds = {}
    for k, i in enumerate(hidden):
        c = np.zeros(len(hidden))
        c[k] = 1.0
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=[(0, 1)] * len(hidden)).fun
        high = -linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=[(0, 1)] * len(hidden)).fun
        bounds[table["agency"].iloc[i]] = (round(low, 6), round(high, 6))
    return bounds


def test_primary_suppression_alone_is_undone_by_the_published_totals():
    table = _agencies()
    primary = suppress_small_cells(table, "n", ["share"], mark_count=False)
    # Dinas A is withheld, but the dinas total (0.75*40 + 0.5*12 + 2 = 38 of 55) gives it back
    assert primary["share"].tolist()[0] == SUPPRESSED_MARK
    assert _interval(table, primary) == {"Dinas A": (round(2 / 3, 6), round(2 / 3, 6))}


def test_a_second_cell_in_the_group_makes_the_withheld_cell_unrecoverable():
    table = _agencies()
    out = suppress_with_complements(table, "n", ["share"], totals_by=["type"])
    # the smallest other dinas (Dinas C, 12 employees) is withheld with Dinas A;
    # the kecamatan group has no withheld cell and stays whole
    assert out["share"].tolist() == [SUPPRESSED_MARK, 0.75, SUPPRESSED_MARK, 0.9, 0.6, 0.625]
    assert out.attrs["n_primary"] == 1 and out.attrs["n_complementary"] == 1
    assert out.attrs["n_suppressed_rows"] == 2 and out.attrs["exposed_groups"] == []
    # 3 a + 12 c = 8 is all a reader learns: Dinas A could be anything from 0% to 100%
    # (and Dinas C then 8/12 down to 5/12)
    bounds = _interval(table, out)
    assert bounds["Dinas A"] == (0.0, 1.0)
    assert bounds["Dinas C"] == (round(5 / 12, 6), round(8 / 12, 6))
    # counts stay shown: protection does not rely on hiding them
    assert out["n"].tolist() == table["n"].tolist()


def test_a_complement_at_the_same_end_of_the_range_is_avoided():
    # Dinas A has 100% good; Dinas C too. Withheld together, their sum (15 of 15) would
    # show both are 100%, so the complement is Dinas B although it is larger.
    table = _agencies().assign(share=[1.0, 0.75, 1.0, 0.9, 0.6, 0.625])
    out = suppress_with_complements(table, "n", ["share"], totals_by=["type"])
    assert out["share"].tolist()[:3] == [SUPPRESSED_MARK, SUPPRESSED_MARK, 1.0]
    assert _interval(table, out)["Dinas A"][1] - _interval(table, out)["Dinas A"][0] > 0.5
    # without a range, the smallest count wins
    plain = suppress_with_complements(
        table, "n", ["share"], totals_by=["type"], value_range=None
    )
    assert plain["share"].tolist()[:3] == [SUPPRESSED_MARK, 0.75, SUPPRESSED_MARK]


def test_one_withheld_group_pulls_a_complement_into_another_through_the_city_total():
    # A type with a single small agency: its own total would show the cell (reported as
    # exposed), and the city total needs a second withheld cell, which in turn needs a
    # partner in its own type.
    table = pd.concat(
        [
            _agencies(),
            pd.DataFrame({"agency": ["RS G"], "type": ["rumah_sakit"], "n": [4], "share": [0.5]}),
        ],
        ignore_index=True,
    )
    table.loc[0, "n"] = 30  # Dinas A is no longer small
    out = suppress_with_complements(table, "n", ["share"], totals_by=["type"])
    withheld = [a for a, v in zip(table["agency"], out["share"], strict=True) if v == "*"]
    # RS G (primary); Camat F (8, smallest elsewhere, city total); Camat E (its partner)
    assert withheld == ["Camat E", "Camat F", "RS G"]
    assert out.attrs["exposed_groups"] == [("type", "rumah_sakit", "share")]
    assert out.attrs["n_primary"] == 1 and out.attrs["n_complementary"] == 2


def test_complements_are_chosen_per_column_and_nothing_small_means_nothing_withheld():
    table = _agencies().assign(n=[30, 40, 12, 30, 25, 8], jp=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    out = suppress_with_complements(table, "n", ["share", "jp"], totals_by=["type"])
    assert out.attrs["n_suppressed_rows"] == 0
    assert out["share"].tolist() == table["share"].round(6).tolist()
    with pytest.raises(KeyError) as err:
        suppress_with_complements(table, "n", ["share"], totals_by=["sector"])
    assert err.value.args[0].startswith("Cannot protect totals by ['sector']: the table has")
