"""The run's manifest (``manifest.json``): parameters, input hashes, versions and commit.

Everything a reader needs to re-run a report and get the same numbers: the parameters every
chapter received, the sha256 of every input file, the Python and package versions that
decide the numbers and the look, and the checked-out commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING

from asn_eval.config import CHAPTERS, PROJECT_ROOT

if TYPE_CHECKING:
    from asn_eval.report.kernels import ReportParams

# Packages whose versions go into the manifest: they decide the numbers and the look.
KEY_PACKAGES = (
    "asn-eval",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "matplotlib",
    "seaborn",
    "lifelines",
    "pandera",
    "papermill",
    "nbclient",
    "ipykernel",
    "babel",
    "weasyprint",
)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_hashes(data_dir: Path) -> dict[str, str]:
    """sha256 of every input file in the data folder, by path relative to it (sorted).

    Sub-folders that asn-eval wrote (a report or a build folder, recognised by their
    marker file) are not inputs and are skipped.
    """
    from asn_eval.report.output_folder import prune_marked

    files = []
    for root, dirs, names in os.walk(data_dir):
        prune_marked(dirs, root)
        files.extend(Path(root) / name for name in names if (Path(root) / name).is_file())
    files.sort()
    return {p.relative_to(data_dir).as_posix(): sha256_file(p) for p in files}


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(root: Path = PROJECT_ROOT) -> str | None:
    """The checked-out commit (with ``-dirty`` when the tree has changes), or None."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def write_manifest(
    build_dir: Path, *, params: ReportParams, data_dir: Path, run_id: str | None = None
) -> Path:
    manifest = {
        "run_id": run_id,
        "parameters": params.as_notebook_parameters(),
        "inputs": input_hashes(data_dir),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "git_commit": git_commit(),
        "chapters": [f"{stem}.ipynb" for stem, _ in CHAPTERS],
    }
    path = build_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
