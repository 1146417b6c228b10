"""No command loses a user's file: output folders are checked before any work starts.

Each refusal test takes a full listing of the folders involved (every path, its type, mode
and the sha256 of every file) before and after, and asserts the exact message the user
reads. The refusals happen before the data are read or a chapter runs, which the tests
prove by making those steps fail loudly if they are reached.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from support import stand_in_dataset

from asn_eval.cli import commands as cli
from asn_eval.data import write_dataset
from asn_eval.data.pseudonymise import get_key
from asn_eval.report import build as pipeline
from asn_eval.report import kernels, manifest
from asn_eval.report.output_folder import (
    REPORT_MARKER,
    OutputFolderError,
    check_report_folder,
    failed_folder,
    follow_umask,
    make_build_folder,
    write_marker,
)

DATASET_FILES = [
    "README.md", "agencies.csv", "budget.csv", "comparison_services.csv", "digital_adoption.csv",
    "employees.csv", "metadata.yaml", "performance.csv", "policies.csv", "satisfaction.csv",
    "services.csv", "training.csv", "truth.json",
]  # fmt: skip


def listing(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` (and root itself): type, mode, and sha256 for files."""
    entries = {}
    for path in [root, *sorted(root.rglob("*"))]:
        info = path.lstat()
        key = path.relative_to(root).as_posix()
        if stat.S_ISREG(info.st_mode):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[key] = ("file", stat.S_IMODE(info.st_mode), digest)
        else:
            entries[key] = ("dir", stat.S_IMODE(info.st_mode))
    return entries


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the run gets as far as reading the data or running a chapter."""
    reached = []

    def load(*args, **kwargs):
        reached.append("check_inputs")
        raise AssertionError("the data were read before the output folder was checked")

    def run(*args, **kwargs):
        reached.append("execute_notebook")
        raise AssertionError("a chapter ran before the output folder was checked")

    monkeypatch.setattr(pipeline, "check_inputs", load)
    monkeypatch.setattr(kernels, "execute_notebook", run)
    return reached


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A data folder and a user's notes folder; the current folder is elsewhere."""
    data = tmp_path / "export"
    data.mkdir()
    (data / "employees.csv").write_text("nip;name\n199001012015011001;A\n")
    notes = tmp_path / "notes"
    (notes / "drafts").mkdir(parents=True)
    (notes / "notes.txt").write_text("meeting with BKPSDM\n")
    (notes / "budget.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (notes / "drafts" / "chapter.docx").write_bytes(b"draft")
    (tmp_path / "summary.pdf").write_bytes(b"%PDF-1.7 a user's file")
    home = tmp_path / "elsewhere"
    home.mkdir()
    monkeypatch.chdir(home)
    return tmp_path, data, notes


def _report(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["report", "--lang", "en", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err.strip()


def test_report_refuses_a_folder_holding_a_users_files(workspace, no_work, capsys):
    root, data, notes = workspace
    before = listing(root)
    code, message = _report(capsys, "--data", str(data), "--out", str(notes))
    assert code == 2
    assert message == (
        f"asn-eval report: --out {notes} holds 3 files that asn-eval did not write, e.g. "
        "budget.xlsx, drafts/chapter.docx, notes.txt. A report replaces its whole output "
        "folder, so asn-eval writes only into a new or empty folder or into one that holds an "
        "earlier asn-eval report and nothing else. Nothing was changed. Choose another folder "
        f"with --out, for example --out {notes / 'asn-eval-report'}."
    )
    assert listing(root) == before  # nothing inside or beside it: no build or .failed folder
    assert no_work == []


def test_report_refuses_the_current_folder(workspace, no_work, capsys, monkeypatch):
    root, data, notes = workspace
    monkeypatch.chdir(notes)
    before = listing(root)
    code, message = _report(capsys, "--data", str(data), "--out", ".")
    assert code == 2
    assert message == (
        f"asn-eval report: --out {notes} is the current folder; a report replaces its whole "
        "output folder, so it cannot be the folder you are working in. Nothing was changed. "
        f"Choose a new folder with --out, for example --out {notes / 'asn-eval-report'}."
    )
    assert listing(root) == before and no_work == []


@pytest.mark.parametrize("where", ["equal", "inside", "containing"])
def test_report_refuses_the_data_folder_and_folders_inside_or_around_it(
    workspace, no_work, capsys, where
):
    root, data, _ = workspace
    out = {"equal": data, "inside": data / "report", "containing": root}[where]
    before = listing(root)
    code, message = _report(capsys, "--data", str(data), "--out", str(out))
    assert code == 2
    elsewhere = root / "export-report"
    expected = {
        "equal": f"--out {data} is the data folder; a report replaces its whole output folder "
        "and would delete the input files.",
        "inside": f"--out {out} is inside the data folder {data}; a report there would be "
        "mixed with the input files.",
        "containing": f"--out {root} contains the data folder {data}; a report replaces its "
        "whole output folder and would delete the input files.",
    }[where]
    assert message == (
        f"asn-eval report: {expected} Nothing was changed. Choose a folder outside the data "
        f"folder with --out, for example --out {elsewhere}."
    )
    assert listing(root) == before and no_work == []


def test_report_refuses_an_existing_file(workspace, no_work, capsys):
    root, data, _ = workspace
    target = root / "summary.pdf"
    before = listing(root)
    code, message = _report(capsys, "--data", str(data), "--out", str(target))
    assert code == 2
    assert message == (
        f"asn-eval report: --out {target} is a file, not a folder; asn-eval will not replace "
        f"it. Nothing was changed. Name a new or empty folder with --out, for example --out "
        f"{root / 'summary-output'}."
    )
    assert listing(root) == before and no_work == []


def test_every_command_refuses_an_out_folder_under_a_file(workspace, no_work, capsys):
    # A path under a regular file cannot be created by anyone, root included (tests run as
    # root here, where chmod 0555 would not stop a write).
    root, data, _ = workspace
    out = root / "summary.pdf" / "out"
    before = listing(root)
    for command in (
        ["report", "--lang", "en", "--data", str(data)],
        ["validate", str(data)],
        ["synth", "--employees", "100"],
    ):
        code = cli.main([*command, "--out", str(out)])
        err = capsys.readouterr().err.strip()
        assert code == 2, err
        assert err == (
            f"asn-eval {command[0]}: --out {out} cannot be created: {root / 'summary.pdf'} is "
            "a file, not a folder. Nothing was changed. Name a folder with --out whose parent "
            "is a folder."
        )
    assert listing(root) == before and no_work == []


def test_every_command_refuses_a_read_only_parent(workspace, no_work, capsys, monkeypatch):
    # Tests run as root, for whom a 0555 folder is still writable; os.access stands in for
    # what an ordinary user's permission check returns on a read-only share.
    root, data, _ = workspace
    shared = root / "share"
    shared.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        "asn_eval.report.output_folder.os.access",
        lambda path, mode: False if Path(path) == shared else real_access(path, mode),
    )
    out = shared / "2025" / "out"
    before = listing(root)
    for command in (
        ["report", "--lang", "en", "--data", str(data)],
        ["validate", str(data)],
        ["synth", "--employees", "100"],
    ):
        code = cli.main([*command, "--out", str(out)])
        err = capsys.readouterr().err.strip()
        assert code == 2, err
        assert err == (
            f"asn-eval {command[0]}: --out {out} cannot be written: you cannot write to the "
            f"folder {shared} (it is read-only or belongs to someone else). Nothing was "
            f"changed. Name a folder you can write to with --out, for example one in your "
            f"home folder ({Path.home() / 'asn-eval'})."
        )
    assert listing(root) == before and no_work == []


def test_missing_parent_folders_are_created(tmp_path, monkeypatch):
    monkeypatch.setenv("ASN_EVAL_KEY", "test-key")
    out = tmp_path / "new" / "nested" / "validation"
    code = cli.main(["validate", str(pipeline.DEFAULT_DATA_DIR), "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["quality.csv", "rejects.csv"]


def test_only_empty_folders_and_asn_eval_reports_may_be_replaced(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    empty = tmp_path / "empty"
    empty.mkdir()
    check_report_folder(empty, data_dir=data)  # accepted: nothing to lose
    check_report_folder(tmp_path / "new", data_dir=data)

    report = tmp_path / "report"
    (report / "figures").mkdir(parents=True)
    (report / "report.html").write_text("<html></html>")
    (report / "figures" / "1-1_x.png").write_bytes(b"png")
    write_marker(report, run_id="abc", status="complete")
    marker = json.loads((report / REPORT_MARKER).read_text())
    assert marker["files"] == ["figures/1-1_x.png", "report.html"]
    assert {"run_id", "version", "written", "status"} <= set(marker)
    check_report_folder(report, data_dir=data)  # accepted: asn-eval wrote every file

    (report / "figures" / "my-edit.png").write_bytes(b"the user's own figure")
    with pytest.raises(OutputFolderError, match=r"holds 1 file that asn-eval did not write, "
                       r"e\.g\. figures/my-edit\.png\."):  # fmt: skip
        check_report_folder(report, data_dir=data)


def test_a_report_from_before_the_marker_is_recognised_by_its_layout(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    old = tmp_path / "2025-id"
    (old / "notebooks").mkdir(parents=True)
    (old / "notebooks" / "01_introduction.ipynb").write_text("{}")
    (old / "report.html").write_text("<html></html>")
    manifest = {"parameters": {}, "inputs": {}, "chapters": []}
    (old / "manifest.json").write_text(json.dumps(manifest))
    check_report_folder(old, data_dir=data)
    (old / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match=r"holds 4 files that asn-eval did not write"):
        check_report_folder(old, data_dir=data)


def test_a_users_failed_folder_is_never_deleted(tmp_path):
    out = tmp_path / "2025-id"
    users = tmp_path / "2025-id.failed"
    users.mkdir()
    (users / "notes.txt").write_text("the user named a folder like this")
    before = listing(users)
    assert failed_folder(out) == tmp_path / "2025-id.failed-2"
    assert listing(users) == before

    ours = tmp_path / "2025-id.failed-2"
    (ours / "notebooks").mkdir(parents=True)
    (ours / "notebooks" / "03_impact.ipynb").write_text("{}")
    write_marker(ours, run_id="abc", status="failed")
    assert failed_folder(out) == ours and not ours.exists()  # our own is replaced
    assert listing(users) == before


def test_manifest_hashes_skip_asn_eval_folders_inside_the_data(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "employees.csv").write_text("a\n")
    (data / "sub" / "training.csv").write_text("b\n")
    build = make_build_folder(data, "report")
    (build / "report.html").write_text("not an input")
    write_marker(build, run_id="abc", status="building")
    assert sorted(manifest.input_hashes(data)) == ["employees.csv", "sub/training.csv"]


def test_build_folders_and_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        build = make_build_folder(tmp_path, "2025-id")
        (build / "figures").mkdir()
        handle, private = tempfile.mkstemp(dir=build / "figures")  # 0600, like results.json
        os.close(handle)
        assert stat.S_IMODE(build.stat().st_mode) == 0o755  # mkdtemp would give 0700
        follow_umask(build)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((build / "figures").stat().st_mode) == 0o755
    assert stat.S_IMODE(Path(private).stat().st_mode) == 0o644
    assert build.name.startswith(".2025-id-build-")


# --- synth ---------------------------------------------------------------------------------


def test_synth_refuses_a_folder_with_files_without_force(tmp_path, capsys):
    out = tmp_path / "city"
    out.mkdir()
    (out / "employees.csv").write_text("the office's real export\n")
    (out / "notes.txt").write_text("mine\n")
    before = listing(tmp_path)
    assert cli.main(["synth", "--out", str(out), "--employees", "100"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"asn-eval synth: --out {out} already holds 2 files, e.g. employees.csv, notes.txt; "
        "asn-eval synth does not overwrite a dataset unless told to. Nothing was changed. "
        "Choose a new folder with --out, or add --force to replace the files synth writes "
        "(the nine tables, metadata.yaml, truth.json and README.md; other files are left "
        "alone)."
    )
    assert listing(tmp_path) == before
    with pytest.raises(FileExistsError, match="unless overwrite=True"):
        write_dataset(out, n_employees=100)
    assert listing(tmp_path) == before


def test_synth_refuses_the_committed_dataset_and_points_to_make_data(capsys):
    before = listing(pipeline.DEFAULT_DATA_DIR)
    assert cli.main(["synth", "--out", str(pipeline.DEFAULT_DATA_DIR)]) == 2
    err = capsys.readouterr().err.strip()
    held = len(DATASET_FILES)  # every file of the committed dataset is synth's own
    assert err.startswith(f"asn-eval synth: --out {pipeline.DEFAULT_DATA_DIR} already holds {held}")
    assert err.endswith("The committed dataset is regenerated with 'make data'.")
    assert listing(pipeline.DEFAULT_DATA_DIR) == before


def test_synth_force_replaces_only_its_own_files(tmp_path, capsys):
    out = tmp_path / "city"
    out.mkdir()
    (out / "employees.csv").write_text("old\n")
    (out / "employees.parquet").write_bytes(b"an older run in the other format")
    (out / "notes.txt").write_text("mine\n")
    (out / "extra.csv").write_text("a table synth does not write\n")
    argv = ["synth", "--out", str(out), "--employees", "100", "--no-dirty", "--force"]
    assert cli.main(argv) == 0
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*DATASET_FILES, "extra.csv", "notes.txt"]
    )
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / "extra.csv").read_text() == "a table synth does not write\n"
    assert (out / "employees.csv").read_text() != "old\n"


# --- the pseudonymisation key --------------------------------------------------------------


def _key_in_child(config: str, barrier, results) -> None:
    os.environ.pop("ASN_EVAL_KEY", None)
    os.environ["XDG_CONFIG_HOME"] = config
    barrier.wait()
    results.put(get_key().decode())


def test_processes_starting_together_all_get_the_same_complete_key(tmp_path, monkeypatch):
    monkeypatch.delenv("ASN_EVAL_KEY", raising=False)
    context = multiprocessing.get_context("fork")
    for attempt in range(5):  # a fresh key path each time: five races, eight processes each
        config = str(tmp_path / f"config{attempt}")
        barrier, results = context.Barrier(8), context.Queue()
        workers = [
            context.Process(target=_key_in_child, args=(config, barrier, results)) for _ in range(8)
        ]
        for worker in workers:
            worker.start()
        keys = [results.get(timeout=20) for _ in workers]
        for worker in workers:
            worker.join(timeout=20)
            assert worker.exitcode == 0
        key_file = Path(config) / "asn-eval" / "key"
        assert len(set(keys)) == 1, keys
        assert len(keys[0]) == 64 and keys[0] == key_file.read_text().strip()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert sorted(p.name for p in key_file.parent.iterdir()) == ["key"]  # no temp files


def test_an_empty_key_file_is_a_clear_message(tmp_path, monkeypatch):
    from asn_eval.data import DataError

    monkeypatch.delenv("ASN_EVAL_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "asn-eval").mkdir()
    (tmp_path / "asn-eval" / "key").write_text("")
    with pytest.raises(DataError, match=r"key file .* is empty\. If no data were pseudonymised"):
        get_key()


def test_a_refusal_from_the_installed_command_has_no_traceback(tmp_path):
    target = tmp_path / "summary.pdf"
    target.write_bytes(b"%PDF")
    result = subprocess.run(
        [sys.executable, "-m", "asn_eval", "report", "--lang", "en", "--out", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"asn-eval report: --out {target} is a file, not a folder")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert target.read_bytes() == b"%PDF"


# --- the build itself, with stand-ins for the data and the chapters (fast) ----------------


@pytest.fixture
def quick_build(tmp_path, monkeypatch):
    """build_report with the data, chapters and documents replaced by stand-ins."""

    import asn_eval.report.document

    data = tmp_path / "export"
    data.mkdir()
    (data / "employees.csv").write_text("nip\n")
    notebooks = tmp_path / "chapters"
    notebooks.mkdir()
    for stem, _ in pipeline.CHAPTERS:
        (notebooks / f"{stem}.ipynb").write_text("{}")
    dataset = stand_in_dataset()
    monkeypatch.setattr(pipeline, "check_inputs", lambda *args, **kwargs: dataset)
    monkeypatch.setattr(kernels, "clean_notebook_metadata", lambda path: None)
    monkeypatch.setattr(asn_eval.report.document, "write_documents", lambda *a, **k: None)
    during = []  # what each chapter does besides writing its notebook

    def chapter(source, target, **kwargs):
        target.write_text("{}")
        for action in during:
            action(source)

    monkeypatch.setattr(kernels, "execute_notebook", chapter)

    def build(out: Path) -> Path:
        return pipeline.build_report(
            data_dir=data, out_dir=out, notebooks_dir=notebooks, progress=lambda line: None
        )

    return build, during


def test_a_folder_that_gains_a_users_file_during_the_run_is_not_replaced(quick_build, tmp_path):
    build, during = quick_build
    out = tmp_path / "reports" / "2025-id"
    build(out)  # an earlier report
    before = (out / ".asn-eval-report").read_text()
    during.append(lambda source: (out / "notes.txt").write_text("written while it ran"))
    with pytest.raises(pipeline.ReportInputError) as caught:
        build(out)
    kept = tmp_path / "reports" / "2025-id.failed"
    assert str(caught.value) == (
        f"--out {out} holds 1 file that asn-eval did not write, e.g. notes.txt. A report "
        "replaces its whole output folder, so asn-eval writes only into a new or empty folder "
        "or into one that holds an earlier asn-eval report and nothing else. Nothing was "
        f"changed. Choose another folder with --out, for example --out "
        f"{out / 'asn-eval-report'}. The finished report was kept in {kept} instead. The "
        f"previous report in {out} was left untouched."
    )
    assert (out / "notes.txt").read_text() == "written while it ran"
    assert (out / ".asn-eval-report").read_text() == before
    assert sorted(p.name for p in (kept / "notebooks").iterdir()) == [
        f"{stem}.ipynb" for stem, _ in pipeline.CHAPTERS
    ]


def test_a_failed_run_keeps_its_build_beside_a_users_failed_folder(quick_build, tmp_path):
    build, during = quick_build
    out = tmp_path / "reports" / "2025-id"
    users = tmp_path / "reports" / "2025-id.failed"
    users.mkdir(parents=True)
    (users / "notes.txt").write_text("a user's folder that happens to have this name")
    before = listing(users)

    def chapter_three_fails(source):
        if source.name == "03_impact.ipynb":
            raise pipeline.ReportError("Chapter 3 failed; see {partial}/notebooks/03_impact.ipynb.")

    during.append(chapter_three_fails)
    with pytest.raises(pipeline.ReportError) as caught:
        build(out)
    kept = tmp_path / "reports" / "2025-id.failed-2"
    assert str(caught.value) == f"Chapter 3 failed; see {kept}/notebooks/03_impact.ipynb."
    assert listing(users) == before
    assert json.loads((kept / REPORT_MARKER).read_text())["status"] == "failed"
    during.clear()
    build(out)  # a good run removes its own failed build, never the user's folder
    assert sorted(p.name for p in out.parent.iterdir()) == ["2025-id", "2025-id.failed"]
    assert listing(users) == before
