"""Privacy in outputs: small cells withheld and marked; no NIP or name in any output file."""

import json

import nbformat
import pandas as pd
import pytest
from openpyxl import Workbook

from asn_eval.privacy import (
    SUPPRESSED_MARK,
    assert_no_identifiers,
    check_no_identifiers,
    suppress_small_cells,
)
from asn_eval.regulations import MIN_CELL_SIZE

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
    out = suppress_small_cells(_table(), "employees", ["share_good", "absence_mean"], "id")
    # 4 employees: withheld; 5: shown (the limit is "fewer than 5"); 0: nothing to disclose
    assert out["share_good"].tolist()[:2] == [SUPPRESSED_MARK, 0.6]
    assert out["absence_mean"].tolist()[0] == SUPPRESSED_MARK
    assert out["employees"].tolist() == ["<5", 5, 0, 120]
    assert out["agency"].tolist() == _table()["agency"].tolist()
    assert out.attrs["n_suppressed_rows"] == 1
    assert out.attrs["note"] == (
        "* Tidak ditampilkan: statistik dari kurang dari 5 pegawai, disembunyikan untuk "
        "melindungi data pribadi (UU 27/2022)."
    )
    # the input is left untouched
    assert _table().equals(_table()) and _table()["share_good"].iloc[0] == 1.0


def test_minimum_is_configurable_and_note_in_english():
    out = suppress_small_cells(
        _table(), "employees", ["share_good"], "en", min_size=10, mark_count=False
    )
    assert out["share_good"].tolist()[:2] == [SUPPRESSED_MARK, SUPPRESSED_MARK]
    assert out["employees"].tolist() == [4, 5, 0, 120]
    assert out.attrs["note"].startswith("* Not shown: a statistic from fewer than 10 employees")


def test_nothing_to_withhold_gives_no_note():
    out = suppress_small_cells(_table().iloc[[1, 3]], "employees", ["share_good"], "en")
    assert out.attrs == {"n_suppressed_rows": 0, "note": ""}


def test_missing_column_message():
    with pytest.raises(KeyError) as err:
        suppress_small_cells(_table(), "n", ["share_good"], "en")
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
    from asn_eval.chapters import base

    chapter = base.Chapter(
        pd.DataFrame(), year=2024, lang="en", output_dir=tmp_path, min_cell_size=MIN_CELL_SIZE
    )
    frame = _table()
    shown = chapter.suppress(frame, count="employees", columns=["share_good", "absence_mean"])
    expected = suppress_small_cells(
        frame, "employees", ["share_good", "absence_mean"], "en", mark_count=False
    )
    pd.testing.assert_frame_equal(shown, expected)
    assert base.SUPPRESSED == SUPPRESSED_MARK
    # the footnote stands under a table only when one of its cells was withheld
    assert chapter.suppression_note(shown) == expected.attrs["note"] != ""
    clean = chapter.suppress(frame.iloc[[1, 3]], count="employees", columns=["share_good"])
    assert chapter.suppression_note(clean) == ""


def test_withheld_columns_are_rounded_as_tables_write_numbers():
    table = pd.DataFrame({"n": [3, 40], "share": [0.2, 0.1 + 0.2]})
    out = suppress_small_cells(table, "n", ["share"], "en", mark_count=False)
    # 0.1 + 0.2 is 0.30000000000000004 in binary; a mixed column cannot be rounded later
    assert out["share"].tolist() == [SUPPRESSED_MARK, 0.3]
