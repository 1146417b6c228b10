"""The data layer's stops reach the commands: a report is not built on a badly broken table,
and validate writes the rejects it found before it stopped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from asn_eval.cli.commands import main
from asn_eval.config import DEFAULT_DATA_DIR
from asn_eval.report.build import build_report
from asn_eval.report.errors import ReportInputError


@pytest.fixture
def broken_training(tmp_path: Path) -> Path:
    """A copy of the committed data whose training file has an impossible date in 20% of its
    rows (an export that mangled a column halfway)."""
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    path = data / "training.csv"
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rows = frame.index[: len(frame) // 5]
    frame.loc[rows, "date"] = "31/31/2021"
    frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    return data


def test_report_stops_before_any_chapter_when_a_table_lost_too_many_rows(
    broken_training, tmp_path
):
    out = tmp_path / "report"
    with pytest.raises(ReportInputError) as caught:
        build_report(data_dir=broken_training, out_dir=out, progress=lambda line: None)
    message = str(caught.value)
    assert message.startswith("Too many rows were rejected to build a report on the rest: ")
    assert "training (training.csv): 6,672 of 33,321 rows rejected (20.0%" in message
    assert "invalid_date" in message
    assert "pass --allow-rejects" in message
    assert not out.exists()  # stopped before any work


def test_the_cli_says_so_with_exit_2_and_the_override_is_named(broken_training, tmp_path, capsys):
    status = main(
        ["report", "--lang", "en", "--data", str(broken_training), "--out", str(tmp_path / "r")]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("asn-eval report: Too many rows were rejected")
    assert "Traceback" not in err


def test_validate_writes_the_rejects_found_before_a_stop(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    # Two files for one table stop loading after the other tables were read.
    shutil.copy(data / "budget.csv", data / "budget.xlsx")
    out = tmp_path / "validation"
    status = main(["validate", str(data), "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2
    assert "budget.csv" in err and "budget.xlsx" in err
    assert "Traceback" not in err
