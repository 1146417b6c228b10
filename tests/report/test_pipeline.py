"""The report run: progress, documents, manifest, and what a failing chapter does.

These use five tiny stand-in chapter notebooks so that the run itself is tested quickly;
tests/test_report_build.py builds the real report.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from support import write_chapters

from asn_eval.config import CHAPTERS, DEFAULT_DATA_DIR
from asn_eval.report.narrative import text


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "asn_eval", *args], capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("pipeline")
    notebooks = write_chapters(root / "notebooks")
    out = root / "out" / "2024-en"
    result = _run_cli(
        "report",
        "--notebooks",
        str(notebooks),
        "--year",
        "2024",
        "--lang",
        "en",
        "--seed",
        "7",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    return out, result


def test_progress_names_each_chapter_and_where_the_report_is(built):
    out, result = built
    for number, (_, key) in enumerate(CHAPTERS, start=1):
        assert f"{number}. {text(f'chapters.{key}.title', 'en')}" in result.stdout
    assert "[5/5] 5. Conclusion: running 05_conclusion.ipynb" in result.stdout
    assert "Report ready in" in result.stdout
    assert str(out / "report.html") in result.stdout


def test_output_folder_holds_notebooks_documents_and_manifest(built):
    out, _ = built
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == [
        f"{stem}.ipynb" for stem, _ in CHAPTERS
    ]
    for name in ("report.html", "report.pdf", "manifest.json"):
        assert (out / name).stat().st_size > 0
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def test_parameters_reach_every_chapter(built):
    out, _ = built
    for stem, _ in CHAPTERS:
        nb = nbformat.read(str(out / "notebooks" / f"{stem}.ipynb"), as_version=4)
        html = nb.cells[-1].outputs[-1]["data"]["text/html"]
        assert "2024" in html and "en" in html and ">7<" in html


def test_report_html_has_chapters_and_contents_but_no_code(built):
    out, _ = built
    html = (out / "report.html").read_text(encoding="utf-8")
    for number, (_, key) in enumerate(CHAPTERS, start=1):
        assert f"Chapter {number}: {key}" in html
        assert f'href="#ch{number}-h1"' in html  # contents links to each chapter
    assert "Contents" in html  # English shell words for --lang en
    assert "import pandas" not in html and "1 / 0" not in html
    assert "<script" not in html  # self-contained and static


def test_manifest_records_parameters_inputs_versions_and_commit(built):
    out, _ = built
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"] == {
        "data_dir": str(DEFAULT_DATA_DIR.resolve()),
        "year": 2024,
        "lang": "en",
        "seed": 7,
        "output_dir": str(out),
    }
    files = sorted(p for p in DEFAULT_DATA_DIR.rglob("*") if p.is_file())
    assert sorted(manifest["inputs"]) == sorted(
        p.relative_to(DEFAULT_DATA_DIR).as_posix() for p in files
    )
    assert all(len(h) == 64 for h in manifest["inputs"].values())
    assert manifest["python"].count(".") == 2
    assert {"pandas", "linearmodels", "papermill"} <= set(manifest["packages"])
    assert "git_commit" in manifest


def test_report_folder_carries_the_marker_of_its_run(built):
    out, _ = built
    marker = json.loads((out / ".asn-eval-report").read_text())
    assert marker["tool"] == "asn-eval" and marker["status"] == "complete"
    assert marker["run_id"] == json.loads((out / "manifest.json").read_text())["run_id"]
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert marker["files"] == [name for name in written if name != ".asn-eval-report"]
    assert "manifest.json" in marker["files"] and "report.pdf" in marker["files"]


def test_rebuild_replaces_an_earlier_report_with_the_umasks_permissions(built, tmp_path):
    from asn_eval.report.build import build_report

    earlier, _ = built
    out = tmp_path / "reports" / "2024-en"
    shutil.copytree(earlier, out)  # an earlier asn-eval report, marker included
    first = json.loads((out / ".asn-eval-report").read_text())["run_id"]
    notebooks = write_chapters(tmp_path / "chapters")
    previous = os.umask(0o022)
    try:
        build_report(year=2024, lang="en", out_dir=out, notebooks_dir=notebooks,
                     progress=lambda line: None)  # fmt: skip
    finally:
        os.umask(previous)
    assert json.loads((out / ".asn-eval-report").read_text())["run_id"] != first
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["2024-en"]
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


def test_failing_chapter_names_chapter_cell_and_error_and_keeps_previous_report(tmp_path, built):
    good, _ = built
    out = tmp_path / "2024-en"
    # A complete report from an earlier run sits in the output folder.
    ok = _run_cli(
        "report",
        "--notebooks",
        str(write_chapters(tmp_path / "good")),
        "--year",
        "2024",
        "--lang",
        "en",
        "--out",
        str(out),
    )
    assert ok.returncode == 0, ok.stderr
    before = (out / "report.html").read_bytes()

    broken = write_chapters(tmp_path / "broken", broken=3)
    result = _run_cli(
        "report", "--notebooks", str(broken), "--year", "2024", "--lang", "en", "--out", str(out)
    )
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "Traceback" not in message
    assert len(message.splitlines()) == 1, "one readable paragraph"
    assert "Chapter 3 (impact, 03_impact.ipynb) failed in code cell 3" in message
    assert "ZeroDivisionError: division by zero" in message
    partial = out.with_name("2024-en.failed") / "notebooks" / "03_impact.ipynb"
    assert str(partial) in message and partial.exists()
    assert "previous report" in message
    assert (out / "report.html").read_bytes() == before
    failed = json.loads((partial.parents[1] / ".asn-eval-report").read_text())
    assert failed["status"] == "failed" and "notebooks/03_impact.ipynb" in failed["files"]


def test_unknown_data_folder_is_one_clear_message(tmp_path):
    result = _run_cli(
        "report", "--data", str(tmp_path / "missing"), "--year", "2024", "--lang", "en"
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"asn-eval report: The data folder {tmp_path / 'missing'} does not exist. Point --data "
        "at the folder that holds the exported tables (see data/README.md)."
    )


def test_year_outside_the_data_is_one_clear_message(tmp_path):
    result = _run_cli("report", "--year", "2031", "--lang", "en", "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "asn-eval report: The data cover 2019-2025 (metadata.yaml, 'years'), not 2031. Pass a "
        "year inside that range with --year, or extend 'years' in metadata.yaml if the files "
        "hold that year."
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["report", "validate", "synth", "notebooks"])
def test_every_subcommand_has_help(command):
    result = _run_cli(command, "--help")
    assert result.returncode == 0
    assert f"usage: asn-eval {command}" in result.stdout


def test_chapters_run_side_by_side_give_the_same_report(built, tmp_path):
    """--jobs 2 runs chapters 1-4 two at a time and the conclusion last: the same documents
    and notebook outputs as one at a time, and each end line names its chapter."""
    serial, _ = built
    notebooks = write_chapters(tmp_path / "notebooks")
    out = tmp_path / "out" / "2024-en"
    args = ["--notebooks", str(notebooks), "--year", "2024", "--lang", "en", "--seed", "7"]
    one = _run_cli("report", *args, "--out", str(tmp_path / "one"), "--jobs", "1")
    two = _run_cli("report", *args, "--out", str(out), "--jobs", "2")
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert (
        "[1-4/5] 1. Introduction, 2. Policies, 3. Impact, 4. Challenges: running 2 at a time\n"
        in two.stdout
    )
    ends = [
        two.stdout.index(f"\n      {number}. {title} done in ")
        for number, title in enumerate(["Introduction", "Policies", "Impact", "Challenges"], 1)
    ]
    assert ends == sorted(ends)  # in report order, and before the conclusion starts
    assert two.stdout.index("[5/5] 5. Conclusion: running 05_conclusion.ipynb") > ends[-1]
    for stem, _ in CHAPTERS:
        a = nbformat.read(str(tmp_path / "one" / "notebooks" / f"{stem}.ipynb"), as_version=4)
        b = nbformat.read(str(out / "notebooks" / f"{stem}.ipynb"), as_version=4)
        assert a.cells[-1].outputs == b.cells[-1].outputs
    html = (tmp_path / "one" / "report.html").read_text(encoding="utf-8")
    assert html == (out / "report.html").read_text(encoding="utf-8")


def test_jobs_below_one_is_refused_before_any_work(tmp_path):
    result = _run_cli("report", "--jobs", "0", "--out", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "--jobs must be 1 or more, not 0." in result.stderr
    assert not (tmp_path / "r").exists()


def test_chapters_run_one_at_a_time_above_the_employee_year_limit(monkeypatch):
    """Two chapters at once only when the data are small enough to hold twice in memory."""
    import pandas as pd

    from asn_eval.report.schedule import PARALLEL_MAX_EMPLOYEE_YEARS, chapter_jobs

    class Data:
        def __init__(self, rows: int):
            self.quality = pd.DataFrame({"table": ["performance"], "accepted": [rows]})

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert chapter_jobs(Data(PARALLEL_MAX_EMPLOYEE_YEARS)) == 2
    assert chapter_jobs(Data(PARALLEL_MAX_EMPLOYEE_YEARS + 1)) == 1
    assert chapter_jobs(Data(PARALLEL_MAX_EMPLOYEE_YEARS + 1), 3) == 3  # --jobs decides
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert chapter_jobs(Data(100)) == 1


READ_FROM_CACHE = """\
import asn_eval.data.cache as cache
import asn_eval.data.validate as validate


def refuse(*args, **kwargs):
    raise AssertionError("a chapter kernel parsed the raw data files")


cache.load_dataset = validate.load_dataset = refuse
from asn_eval.report.chapters import load_data

print("performance rows:", len(load_data(data_dir).tables["performance"]))
"""


def test_chapter_kernels_read_the_data_the_run_checked_from_the_columnar_cache(tmp_path):
    """The run parses and checks the raw files once, in the parent, into the cache; a
    chapter kernel that would parse them again fails here."""
    notebooks = write_chapters(tmp_path / "notebooks")
    for stem in ("02_policies", "04_challenges"):
        path = notebooks / f"{stem}.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        nb.cells.append(new_code_cell(READ_FROM_CACHE))
        nbformat.write(nb, str(path))
    cache = tmp_path / "cache"
    result = subprocess.run(
        [sys.executable, "-m", "asn_eval", "report", "--notebooks", str(notebooks),
         "--lang", "en", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "ASN_EVAL_CACHE_DIR": str(cache)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    folders = [p.name for p in cache.iterdir()]
    assert len(folders) == 1 and folders[0].startswith("dataset-")
    for stem in ("02_policies", "04_challenges"):
        nb = nbformat.read(str(tmp_path / "out" / "notebooks" / f"{stem}.ipynb"), as_version=4)
        assert nb.cells[-1].outputs[0]["text"].startswith("performance rows: ")
