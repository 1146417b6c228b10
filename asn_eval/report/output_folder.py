"""Output folders that never cost a user a file.

Every command that writes (``report``, ``validate``, ``synth``) checks its output folder
before it does any work, and refuses with one paragraph when writing there could lose
something. A report replaces its whole folder, so it may only replace a folder that is
empty or that asn-eval itself wrote: such a folder carries a marker file,
:data:`REPORT_MARKER`, a small JSON record of the run (id, version, time) and of every
file the run wrote. Anything else in the folder makes it someone else's.

Folders and files are created with the user's umask, so that a colleague on a shared
server can read a report when the user's umask allows it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

REPORT_MARKER = ".asn-eval-report"
MARKER_TOOL = "asn-eval"
# Enough to say "holds more than 10,000 files" without walking a whole disk.
MAX_LISTED = 10_000
# What a report folder of asn-eval 0.1.0 (before the marker) holds, and nothing else.
_LEGACY_TOP = {"report.html", "report.pdf", "manifest.json", "results.json"}
_LEGACY_FOLDERS = {"notebooks", "figures", "tables"}


class OutputFolderError(Exception):
    """An output folder cannot be written without risk to the user's files.

    ``str(error)`` is one paragraph: what is there, that nothing was changed, and what
    to do instead. The command line prints it with exit status 2. ``key`` names its
    template (``cli.errors.<key>``): ``output_file`` (the path is a file), ``output_data``
    (the data folder is in the way), ``output_foreign`` (the folder holds someone's files),
    or ``output_refused``, which keeps this English paragraph after a translated lead.
    """

    def __init__(self, message: str, *, key: str = "output_refused"):
        super().__init__(" ".join(message.split()))
        self.key = key


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def _examples(names: list[str], limit: int = 3) -> str:
    return ", ".join(sorted(names)[:limit])


def _walk_files(folder: Path, limit: int = MAX_LISTED) -> tuple[list[str], list[str], bool]:
    """Files and empty folders under ``folder`` (relative POSIX paths), and whether cut off."""
    files: list[str] = []
    empty_dirs: list[str] = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        rel = Path(root).relative_to(folder)
        files.extend((rel / name).as_posix() for name in sorted(names))
        if not dirs and not names and rel != Path("."):
            empty_dirs.append(rel.as_posix() + "/")
        if len(files) > limit:
            return files[:limit], empty_dirs, True
    return files, empty_dirs, False


def read_marker(folder: Path) -> dict | None:
    """The marker record of an asn-eval report folder, or None when there is none."""
    path = Path(folder) / REPORT_MARKER
    if not path.is_file() or path.is_symlink():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("tool") != MARKER_TOOL:
        return None
    if not isinstance(record.get("files"), list):
        return None
    return record


def write_marker(folder: Path, *, run_id: str, status: str) -> Path:
    """Mark ``folder`` as asn-eval's, listing every file it holds now."""
    from asn_eval import __version__

    files, _, _ = _walk_files(folder, limit=10 * MAX_LISTED)
    record = {
        "tool": MARKER_TOOL,
        "run_id": run_id,
        "version": __version__,
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": status,
        "files": sorted(name for name in files if name != REPORT_MARKER),
    }
    path = Path(folder) / REPORT_MARKER
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def new_run_id() -> str:
    return uuid.uuid4().hex


def foreign_files(folder: Path) -> tuple[list[str], int, bool]:
    """What in ``folder`` asn-eval did not write: (examples, count, count is a lower bound).

    Files listed in the folder's marker are asn-eval's; so is a report folder written
    before the marker existed, recognised by its exact layout. Empty sub-folders count as
    foreign only in a folder without a marker.
    """
    folder = Path(folder)
    files, empty_dirs, cut = _walk_files(folder)
    record = read_marker(folder)
    if record is not None:
        ours = set(record["files"]) | {REPORT_MARKER}
        foreign = [name for name in files if name not in ours]
        return foreign, len(foreign), cut
    if _is_legacy_report(folder, files, empty_dirs):
        return [], 0, False
    foreign = files + empty_dirs
    return foreign, len(foreign), cut


def _is_legacy_report(folder: Path, files: list[str], empty_dirs: list[str]) -> bool:
    """A report folder from before the marker: only the report's own files, with its manifest."""
    if empty_dirs or "manifest.json" not in files:
        return False
    for name in files:
        top, _, rest = name.partition("/")
        if not rest and top not in _LEGACY_TOP:
            return False
        if rest and (top not in _LEGACY_FOLDERS or "/" in rest):
            return False
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"parameters", "inputs", "chapters"} <= set(manifest)


def is_ours(folder: Path) -> bool:
    """True when ``folder`` is empty or holds only what asn-eval wrote there."""
    _, count, _ = foreign_files(folder)
    return count == 0


def _contains(outer: Path, inner: Path) -> bool:
    return outer == inner or outer in inner.parents


def check_writable_target(out: Path, *, option: str = "--out", replace: bool = False) -> None:
    """Refuse an output path that is a file or whose nearest existing folder is not writable.

    Missing folders on the way are fine (they will be created); nothing is created here.
    With ``replace`` the folder itself is swapped for a new one, which needs its parent
    to be writable; otherwise files are written into it.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        suggestion = out.with_name(out.stem + "-output")
        raise OutputFolderError(
            f"{option} {out} is a file, not a folder; asn-eval will not replace it. Nothing "
            f"was changed. Name a new or empty folder with {option}, for example "
            f"{option} {suggestion}.",
            key="output_file",
        )
    ancestor = out if out.exists() else out.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputFolderError(
            f"{option} {out} cannot be created: {ancestor} is a file, not a folder. Nothing "
            f"was changed. Name a folder with {option} whose parent is a folder."
        )
    writable = (out.parent if replace else out) if ancestor == out else ancestor
    if not os.access(writable, os.W_OK | os.X_OK):
        raise OutputFolderError(
            f"{option} {out} cannot be written: you cannot write to the folder {writable} "
            f"(it is read-only or belongs to someone else). Nothing was changed. Name a "
            f"folder you can write to with {option}, for example one in your home folder "
            f"({Path.home() / 'asn-eval'})."
        )


def check_report_folder(
    out: Path,
    *,
    data_dir: Path,
    notebooks_dir: Path | None = None,
    cwd: Path | None = None,
    option: str = "--out",
) -> None:
    """Refuse a report output folder that a run would damage; touch nothing.

    A report replaces its whole folder, so ``out`` may be a new folder, an empty one, or
    one that holds an earlier asn-eval report and nothing else. It may not be, contain or
    lie inside the data folder (or the notebooks folder), nor be or contain the current
    folder.
    """
    out = Path(out).resolve()
    data_dir = Path(data_dir).resolve()
    if cwd is None:
        try:
            cwd = Path.cwd()
        except OSError:  # the current folder was deleted: nothing there to protect
            cwd = Path("/nonexistent-current-folder")
    cwd = Path(cwd).resolve()
    check_writable_target(out, option=option, replace=True)
    elsewhere = data_dir.parent / f"{data_dir.name}-report"
    if out == data_dir:
        raise OutputFolderError(
            f"{option} {out} is the data folder; a report replaces its whole output folder "
            f"and would delete the input files. Nothing was changed. Choose a folder outside "
            f"the data folder with {option}, for example {option} {elsewhere}.",
            key="output_data",
        )
    if _contains(data_dir, out):
        raise OutputFolderError(
            f"{option} {out} is inside the data folder {data_dir}; a report there would be "
            f"mixed with the input files. Nothing was changed. Choose a folder outside the "
            f"data folder with {option}, for example {option} {elsewhere}.",
            key="output_data",
        )
    if _contains(out, data_dir):
        raise OutputFolderError(
            f"{option} {out} contains the data folder {data_dir}; a report replaces its whole "
            f"output folder and would delete the input files. Nothing was changed. Choose a "
            f"folder outside the data folder with {option}, for example {option} {elsewhere}.",
            key="output_data",
        )
    if notebooks_dir is not None and _contains(out, Path(notebooks_dir).resolve()):
        raise OutputFolderError(
            f"{option} {out} contains the chapter notebooks ({Path(notebooks_dir).resolve()}); "
            f"a report replaces its whole output folder and would delete them. Nothing was "
            f"changed. Choose a new folder with {option}."
        )
    if _contains(out, cwd):
        where = "is the current folder" if out == cwd else f"contains the current folder {cwd}"
        raise OutputFolderError(
            f"{option} {out} {where}; a report replaces its whole output folder, so it "
            f"cannot be the folder you are working in. Nothing was changed. Choose a new "
            f"folder with {option}, for example {option} {out / 'asn-eval-report'}."
        )
    if not out.exists():
        return
    examples, count, more = foreign_files(out)
    if count:
        files = [name for name in examples if not name.endswith("/")]
        what = _plural(count, "file" if files else "folder")
        if more:
            what = f"more than {what}"
        raise OutputFolderError(
            f"{option} {out} holds {what} that asn-eval did not write, e.g. "
            f"{_examples(examples)}. A report replaces its whole output folder, so asn-eval "
            f"writes only into a new or empty folder or into one that holds an earlier "
            f"asn-eval report and nothing else. Nothing was changed. Choose another folder "
            f"with {option}, for example {option} {out / 'asn-eval-report'}.",
            key="output_foreign",
        )


def existing_files(folder: Path) -> list[str]:
    """Files under ``folder`` (relative POSIX paths, sorted); empty when it does not exist."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files, _, _ = _walk_files(folder)
    return files


def make_build_folder(parent: Path, name: str, *, kind: str = "build") -> Path:
    """A new, uniquely named hidden folder ``.<name>-<kind>-<random>`` in ``parent``.

    Unlike :func:`tempfile.mkdtemp` (always 0700), its mode follows the umask, and it never
    reuses an existing name.
    """
    for _ in range(100):
        path = Path(parent) / f".{name}-{kind}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"could not find a free name for a {kind} folder in {parent}")


def unused_name(parent: Path, name: str, *, kind: str) -> Path:
    """A path ``.<name>-<kind>-<random>`` in ``parent`` that does not exist yet."""
    while True:
        path = Path(parent) / f".{name}-{kind}-{secrets.token_hex(4)}"
        if not path.exists() and not path.is_symlink():
            return path


def failed_folder(out: Path) -> Path:
    """Where a failed build of ``out`` is kept: ``<out>.failed`` unless a user's folder is there.

    An earlier asn-eval ``.failed`` folder at that name is removed; a folder that asn-eval
    did not write is left alone and the next free ``<out>.failed-2``, ``-3``, ... is used.
    """
    out = Path(out)
    for number in range(1, 1000):
        suffix = ".failed" if number == 1 else f".failed-{number}"
        path = out.with_name(out.name + suffix)
        if not path.exists() and not path.is_symlink():
            return path
        if path.is_dir() and not path.is_symlink() and read_marker(path) and is_ours(path):
            shutil.rmtree(path)
            return path
    raise FileExistsError(f"no free name for a failed build beside {out}")


def remove_failed_folders(out: Path) -> None:
    """Remove asn-eval's own ``<out>.failed*`` folders after a successful run."""
    out = Path(out)
    for path in out.parent.glob(f"{out.name}.failed*"):
        if path.is_dir() and not path.is_symlink() and read_marker(path) and is_ours(path):
            shutil.rmtree(path)


def follow_umask(folder: Path, *, mask: int | None = None) -> None:
    """Give every folder under ``folder`` mode 0777 and every file 0666, less the umask.

    Files written through :func:`tempfile.mkstemp` (0600) and folders from
    :func:`tempfile.mkdtemp` (0700) would otherwise be private to the user even when
    the umask says a colleague may read them.
    """
    mask = current_umask() if mask is None else mask
    dir_mode, file_mode = 0o777 & ~mask, 0o666 & ~mask
    os.chmod(folder, dir_mode)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, dir_mode)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                executable = os.stat(path).st_mode & 0o100
                os.chmod(path, file_mode | (0o111 & ~mask if executable else 0))


def prune_marked(dirs: list[str], root: str) -> None:
    """Drop (in place) sub-folders of an :func:`os.walk` that are asn-eval output folders."""
    dirs[:] = sorted(name for name in dirs if not (Path(root) / name / REPORT_MARKER).exists())


def describe(names: Iterable[str], limit: int = 3) -> str:
    names = sorted(names)
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


# --- the run as a transaction: built beside the output folder, moved into place when done
def new_build_folder(out_dir: Path) -> Path:
    """A fresh build folder beside ``out_dir`` whose mode follows the umask (not mkdtemp's 0700)."""

    build_dir = make_build_folder(out_dir.parent, out_dir.name, kind="build")
    (build_dir / "notebooks").mkdir()
    return build_dir


def start_run(build_dir: Path) -> str:
    """Mark the build folder as asn-eval's from the start; returns the run id."""

    run_id = new_run_id()
    write_marker(build_dir, run_id=run_id, status="building")
    return run_id


def finish_run(build_dir: Path, *, run_id: str, status: str) -> None:
    """List every file of the run in its marker and give the tree the umask's modes."""

    write_marker(build_dir, run_id=run_id, status=status)
    follow_umask(build_dir)


def keep_failed_build(build_dir: Path, out_dir: Path, *, run_id: str) -> Path:
    """Move a failed build to ``<out>.failed`` (or the next free name); returns where."""

    failed_dir = failed_folder(out_dir)
    if build_dir.exists():
        finish_run(build_dir, run_id=run_id, status="failed")
        build_dir.rename(failed_dir)
    return failed_dir


def move_into_place(build_dir: Path, out_dir: Path) -> None:
    """Swap the finished build in; the old report is removed only after the swap."""

    old = None
    if out_dir.exists():
        old = unused_name(out_dir.parent, out_dir.name, kind="old")
        out_dir.rename(old)
    build_dir.rename(out_dir)
    if old is not None:
        shutil.rmtree(old)
    _rewrite_build_paths(out_dir, build_dir)


def _rewrite_build_paths(out_dir: Path, build_dir: Path) -> None:
    """Executed notebooks record the temporary output folder; point them at the final one."""
    for path in (out_dir / "notebooks").glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        if str(build_dir) in text:
            path.write_text(text.replace(str(build_dir), str(out_dir)), encoding="utf-8")
    manifest = out_dir / "manifest.json"
    if manifest.exists():
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text.replace(str(build_dir), str(out_dir)), encoding="utf-8")
