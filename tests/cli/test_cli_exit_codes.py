"""One exit-status convention for every command, and never a traceback on the terminal.

0 success, 2 the user's input or arguments are wrong, 1 an internal error (one paragraph
naming the log file with the traceback), 130 interrupted.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import asn_eval.cli.data
from asn_eval.cli import commands as cli
from asn_eval.config import PROJECT_ROOT
from asn_eval.data import DataError
from asn_eval.report import build as pipeline

COMMANDS = ["report", "validate", "synth", "notebooks"]


def _arguments(command: str, out: Path | None = None) -> list[str]:
    args = {"report": [], "validate": [str(pipeline.DEFAULT_DATA_DIR)], "synth": [],
            "notebooks": []}[command]  # fmt: skip
    if out is not None:
        args += ["--out", str(out)]
    return [command, *args]


def _patch_command(monkeypatch, command: str, run) -> None:
    """Make ``command`` call ``run`` instead of its real work."""
    if command in ("report", "notebooks"):
        monkeypatch.setattr(cli, f"_run_{command}", run)
    else:
        monkeypatch.setattr(asn_eval.cli.data, f"run_{command}", run)


def _crash(args):
    raise RuntimeError("the disk is on fire\nsecond line of the message")


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unexpected_error_is_one_paragraph_and_a_log_with_the_traceback(
    command, monkeypatch, capsys, tmp_path
):
    logs = tmp_path / "tmp"
    logs.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(logs))
    _patch_command(monkeypatch, command, _crash)
    assert cli.main(_arguments(command)) == 1
    captured = capsys.readouterr()
    (log,) = logs.iterdir()
    assert captured.err == (
        f"asn-eval {command}: internal error: RuntimeError: the disk is on fire. This is a bug "
        f"in asn-eval, not in your data; the full traceback was written to {log}; please send "
        "it with a bug report.\n"
    )
    assert log.name.startswith("asn-eval-crash-") and log.suffix == ".log"
    text = log.read_text()
    assert text.startswith(f"asn-eval {command} (asn-eval ")
    assert "Traceback (most recent call last)" in text
    assert "in _crash" in text and "second line of the message" in text


def test_the_crash_log_follows_the_umask_and_stays_out_of_the_users_folders(
    monkeypatch, capsys, tmp_path
):
    import os

    logs = tmp_path / "tmp"
    logs.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(logs))
    _patch_command(monkeypatch, "report", _crash)
    previous = os.umask(0o022)
    try:
        assert cli.main(_arguments("report", tmp_path / "reports" / "2025-id")) == 1
    finally:
        os.umask(previous)
    capsys.readouterr()
    (log,) = logs.glob("asn-eval-crash-*.log")
    assert stat.S_IMODE(log.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_exits_130_with_one_line(command, monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    _patch_command(monkeypatch, command, interrupted)
    assert cli.main(_arguments(command)) == 130
    # A bare report speaks its report's language, Indonesian by default.
    words = "dihentikan." if command == "report" else "interrupted."
    assert capsys.readouterr().err == f"asn-eval {command}: {words}\n"


@pytest.mark.parametrize("command", ["validate", "synth"])
def test_a_data_error_that_escapes_a_command_is_still_the_users_input(command, monkeypatch, capsys):
    def bad_data(args):
        raise DataError("File employees.csv, column nip: expected 18 digits.")

    _patch_command(monkeypatch, command, bad_data)
    assert cli.main(_arguments(command)) == 2
    assert capsys.readouterr().err == (
        f"asn-eval {command}: File employees.csv, column nip: expected 18 digits.\n"
    )


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (pipeline.ReportInputError("The data cover 2019-2025, not 2031."), 2),
        (pipeline.ReportError("Chapter 3 (impact, 03_impact.ipynb) failed."), 1),
    ],
)
def test_report_tells_the_users_input_from_a_failing_chapter(error, code, monkeypatch, capsys):
    def fails(**kwargs):
        raise error

    monkeypatch.setattr(pipeline, "build_report", fails)
    assert cli.main(["report"]) == code
    assert capsys.readouterr().err == f"asn-eval report: {error}\n"


def test_a_data_error_in_report_exits_2(tmp_path, capsys):
    data = tmp_path / "export"
    data.mkdir()
    (data / "agencies.csv").write_text("kode;nama\n")
    assert cli.main(["report", "--data", str(data), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("asn-eval report: ") and "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # no build folder left


def test_argument_errors_exit_2():
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["report", "--max-reject-share", "1.5"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_states_the_exit_status_convention(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"] if command else ["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert text.endswith(
        "exit status:\n"
        "  0    success\n"
        "  2    the input or the arguments are wrong: the message says what and how to fix\n"
        "       it, and nothing was changed\n"
        "  1    an internal error (a chapter that fails, a bug in asn-eval): the message\n"
        "       names the file with the details\n"
        "  130  interrupted (Ctrl-C)\n"
    )


def test_report_help_offers_the_rejected_rows_threshold(capsys):
    with pytest.raises(SystemExit):
        cli.main(["report", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--max-reject-share SHARE" in text and "--allow-rejects" in text


def test_readme_states_the_same_exit_codes():
    readme = " ".join((PROJECT_ROOT / "README.md").read_text().split())
    assert (
        "Every command exits with **0** on success, **2** when the input or the arguments are wrong"
    ) in readme
    assert "**1** on an internal error" in readme and "**130** when interrupted" in readme
