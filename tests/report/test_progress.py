"""What the office sees while a report runs: progress in its language, quiet and verbose runs,
a log file, the draws of chapter 3 across the kernel boundary, and refusals in Indonesian.

Stand-in chapter notebooks (as in tests/test_pipeline.py) keep the runs short; the third one
runs a loop of draws through :func:`asn_eval.common.draws.track`, as chapter 3's permutations do.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from support import write_chapters

from asn_eval.config import CHAPTERS
from asn_eval.report.build import check_inputs
from asn_eval.report.errors import ReportInputError
from asn_eval.report.progress import Progress, message_language

DRAWS = (
    "from asn_eval.common.draws import track\n"
    "total = 0\n"
    "for b in track(range(40), step='permutation', total=40):\n"
    "    total += b\n"
    "total"
)


def _chapters(folder: Path) -> Path:
    write_chapters(folder)
    path = folder / "03_impact.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(new_code_cell(DRAWS))
    nbformat.write(nb, str(path))
    return folder


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES")}
    environ.update(env or {"LANG": "C.UTF-8"})
    return subprocess.run(
        [sys.executable, "-m", "asn_eval", "report", *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=environ,
    )


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> Path:
    return _chapters(tmp_path_factory.mktemp("stand-in") / "notebooks")


@pytest.fixture(scope="module")
def verbose_id(tmp_path_factory, notebooks):
    root = tmp_path_factory.mktemp("verbose")
    log = root / "run.log"
    out = root / "2024-id"
    result = _run(
        "--notebooks", str(notebooks), "--year", "2024", "--lang", "id", "--out", str(out),
        "-v", "--log-file", str(log),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out, log, result


def test_indonesian_progress_names_each_chapter_and_the_finished_report(verbose_id):
    out, _, result = verbose_id
    titles = ["Pendahuluan", "Kebijakan", "Dampak", "Tantangan", "Kesimpulan"]
    for number, ((stem, _), title) in enumerate(zip(CHAPTERS, titles, strict=True), start=1):
        assert f"[{number}/5] {number}. {title}: menjalankan {stem}.ipynb" in result.stdout
    assert "Memeriksa data di" in result.stdout
    assert re.search(r"selesai dalam \d+ detik", result.stdout)
    assert "Laporan selesai dalam" in result.stdout and str(out / "report.html") in result.stdout
    assert "chapter" not in result.stdout and "running" not in result.stdout
    assert "impact" not in result.stdout.replace("03_impact", "")  # the key is no title


def test_verbose_shows_cells_and_the_draws_reported_from_inside_the_kernel(verbose_id):
    out, _, result = verbose_id
    # Parameters, injected parameters, the stand-in's body and (chapter 3) the loop.
    assert "sel 1 dari 3" in result.stdout and "sel 4 dari 4" in result.stdout
    draws = re.findall(r"sel 4 dari 4: permutasi: (\d+) dari 40", result.stdout)
    assert draws[0] == "0" and draws[-1] == "40" and len(draws) == 11  # each tenth
    # Nothing of it enters the executed notebook, which stays deterministic.
    executed = (out / "notebooks" / "03_impact.ipynb").read_text(encoding="utf-8")
    assert "permutasi" not in executed and "asn-eval-progress" not in executed
    assert "780" in executed  # the loop ran: 0 + 1 + ... + 39


def test_the_log_file_gets_every_line_with_its_time(verbose_id):
    _, log, result = verbose_id
    lines = log.read_text(encoding="utf-8").splitlines()
    stamped = [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", line) for line in lines]
    assert all(a != b for a, b in zip(lines, stamped, strict=True))
    assert stamped == result.stdout.splitlines()


def test_quiet_prints_nothing_on_success_but_still_logs(tmp_path, notebooks):
    log = tmp_path / "quiet.log"
    result = _run(
        "--notebooks", str(notebooks), "--year", "2024", "--lang", "en",
        "--out", str(tmp_path / "out"), "-q", "--log-file", str(log), "--jobs", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    text = log.read_text(encoding="utf-8")
    assert "[3/5] 3. Impact: running 03_impact.ipynb" in text
    assert "permutations: 40 of 40" in text  # the log has the steps, even when quiet


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--lang", "id"), {"LANG": "C.UTF-8"}), ((), {"LANG": "id_ID.UTF-8"})],
    ids=["lang-id", "locale-id"],
)
def test_refusals_come_out_in_indonesian(tmp_path, args, env):
    missing = tmp_path / "missing"
    result = _run(*args, "--data", str(missing), "--year", "2024", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"asn-eval report: Folder data {missing} tidak ada. Arahkan --data ke folder yang "
        "berisi tabel hasil ekspor (lihat data/README.md)."
    )
    result = _run(*args, "--year", "2031", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "asn-eval report: Data mencakup 2019-2025 (metadata.yaml, 'years'), bukan 2031. "
        "Berikan tahun di dalam rentang itu dengan --year, atau perluas 'years' di "
        "metadata.yaml jika berkasnya memuat tahun itu."
    )
    target = tmp_path / "summary.pdf"
    target.write_bytes(b"%PDF")
    result = _run(*args, "--out", str(target), env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"asn-eval report: --out {target} adalah berkas, bukan folder; asn-eval tidak akan "
        "menggantinya. Tidak ada yang diubah. Sebutkan folder baru atau kosong dengan --out."
    )


def test_previous_must_name_an_earlier_report(tmp_path):
    missing = tmp_path / "2024-id"
    out = str(tmp_path / "out")
    result = _run("--lang", "en", "--year", "2025", "--previous", str(missing), "--out", out)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"asn-eval report: The previous report folder {missing} does not exist. Point "
        "--previous at the folder of an earlier asn-eval report (e.g. reports/2024-id)."
    )
    missing.mkdir()
    result = _run("--lang", "id", "--previous", str(missing), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"asn-eval report: Folder {missing} tidak berisi results.json, jadi bukan laporan "
        "asn-eval yang dapat dibandingkan. Arahkan --previous ke folder laporan sebelumnya."
    )
    assert not (tmp_path / "out").exists()


def test_the_rejected_rows_stop_reads_in_indonesian(tmp_path):
    from asn_eval.common.formatting import fmt_number
    from asn_eval.config import DEFAULT_DATA_DIR
    from asn_eval.data import load_dataset

    try:
        check_inputs(DEFAULT_DATA_DIR, max_reject_share=0.0)
    except ReportInputError as error:
        said = error.localized("id")
        assert said.startswith("Terlalu banyak baris ditolak untuk menyusun laporan dari sisanya:")
        *_, total, notice = said.splitlines()
        # the totals of the data check, written as Indonesian numbers (71.147, not 71,147)
        quality = load_dataset(DEFAULT_DATA_DIR).quality
        counts = [
            fmt_number(int(quality[column].sum()), "id", 0)
            for column in ("read", "accepted", "rejected")
        ]
        assert total.split() == ["jumlah", *counts]
        assert "." in counts[0]  # the thousands separator of Indonesian
        assert notice == "data sintetis: hanya ilustrasi"
        assert "Too many" not in said and "rows" not in said
        assert error.localized("en") == str(error)
        assert str(error).startswith("Too many rows were rejected to build a report on the rest")
    else:
        pytest.skip("the committed data have no rejected rows")


def test_messages_follow_lang_then_the_locale():
    assert message_language("en", {"LANG": "id_ID.UTF-8"}) == "en"
    assert message_language(None, {"LC_ALL": "id_ID.UTF-8", "LANG": "en_US.UTF-8"}) == "id"
    assert message_language(None, {"LC_ALL": "", "LANG": "en_US.UTF-8"}) == "en"
    assert message_language(None, {}) == "en"


def test_the_bar_is_only_for_a_terminal(tmp_path):
    with open(tmp_path / "err.txt", "w") as err:
        assert not Progress(err=err).use_bar
    assert not Progress(quiet=True).use_bar
