"""Outputs open in a spreadsheet as data, never as formulas (OWASP CSV injection)."""

import csv

import pandas as pd

from asn_eval.data.io import write_csv_safely
from asn_eval.report.tables import save_table


def _cells(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_formula_like_text_is_quoted_and_numbers_are_left_alone(tmp_path):
    frame = pd.DataFrame(
        {
            "value": [
                '=HYPERLINK("http://x","klik")', "+62 812", "-2+3", "@SUM(A1:A9)", "\tx",
                "-3.5", "-3,5", "-1.234,5", "+7", "-", "Dinas A", None,
            ],
            "number": [-3.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        }
    )  # fmt: skip
    path = write_csv_safely(frame, tmp_path / "rejects.csv")
    rows = _cells(path)
    assert rows[0] == ["value", "number"]
    assert [row[0] for row in rows[1:]] == [
        "'=HYPERLINK(\"http://x\",\"klik\")", "'+62 812", "'-2+3", "'@SUM(A1:A9)", "'\tx",
        "-3.5", "-3,5", "-1.234,5", "+7", "-", "Dinas A", "",
    ]  # fmt: skip
    assert rows[1][1] == "-3.5"  # numeric columns are written as they are
    assert frame["value"].iloc[0].startswith("=")  # the caller's frame is not changed


def test_report_tables_are_written_safely(tmp_path):
    frame = pd.DataFrame({"agency": ["=1+1", "Dinas B"], "change": [-3.5, 2.0]})
    saved = save_table(frame, tmp_path, chapter=2, number=1, slug="safe", caption="Safe")
    rows = _cells(saved.paths["csv"])
    assert rows == [["agency", "change"], ["'=1+1", "-3.5"], ["Dinas B", "2.0"]]
