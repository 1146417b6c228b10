"""Chapter notebooks run in Jupyter kernels by papermill.

A private kernelspec names the running interpreter (:func:`running_kernel_spec`); each
chapter receives the parameters it declares (:class:`ReportParams`,
:func:`declared_parameters`); a failing cell becomes one paragraph naming the chapter and
the cell (:func:`execute_notebook`); run times are dropped from executed notebooks
(:func:`clean_notebook_metadata`); :func:`refresh_committed_notebooks` re-executes the
committed notebooks in place.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from asn_eval.config import CHAPTERS, NOTEBOOKS_DIR
from asn_eval.report.errors import ReportError

KERNEL_NAME = "asn-eval-run"


@dataclass(frozen=True)
class ReportParams:
    """Parameters passed to every chapter notebook.

    ``analysis`` holds the analysis options set with ``--param`` (fields of
    :class:`asn_eval.analysis.AnalysisSpec`); a notebook receives those it declares in its
    parameters cell, the others keep the defaults written there.
    """

    data_dir: str
    year: int
    lang: str
    seed: int
    output_dir: str
    analysis: tuple[tuple[str, Any], ...] = ()
    previous_dir: str = ""

    def as_notebook_parameters(self) -> dict:
        values = asdict(self)
        values.pop("analysis")
        if not values["previous_dir"]:  # the notebook's default: no earlier report
            values.pop("previous_dir")
        return {**values, **dict(self.analysis)}


@contextmanager
def running_kernel_spec() -> Iterator[str]:
    """A kernelspec for the running interpreter, visible only to this process.

    Papermill looks kernels up by name; registering one globally would tie the report
    to whatever that name points at on the machine. Instead a private spec naming
    ``sys.executable`` is put first on JUPYTER_PATH for the duration of the run.
    """
    with tempfile.TemporaryDirectory(prefix="asn-eval-kernel-") as tmp:
        spec_dir = Path(tmp) / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [
                sys.executable,
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
                # The kernel only talks to this process on loopback; its transport
                # warning would read as a problem in the report log.
                "--IPKernelApp.log_level=CRITICAL",
            ],
            "display_name": "Python (asn-eval report)",
            "language": "python",
            "env": {"PYTHONHASHSEED": "0"},
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        previous = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [tmp, previous]))
        try:
            yield KERNEL_NAME
        finally:
            if previous is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = previous


def _first_line(text: str, limit: int = 300) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def execute_notebook(
    source: Path,
    target: Path,
    *,
    parameters: dict | None,
    kernel_name: str,
    chapter_label: str,
    hooks: dict[str, Callable[..., None]] | None = None,
) -> None:
    """Run one notebook with papermill; failures become a one-paragraph ReportError.

    ``hooks`` are nbclient's cell and notebook hooks (e.g. ``on_cell_start``), which
    papermill hands to its notebook client: the run's progress uses them.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name=kernel_name,
            language="python",
            cwd=str(source.parent),
            progress_bar=False,
            log_output=False,
            report_mode=False,
            **(hooks or {}),
        )
    except PapermillExecutionError as error:
        code_cell = _code_cell_number(target, error.cell_index)
        raise ReportError(
            f"Chapter {chapter_label} failed in code cell {code_cell} "
            f"(cell {error.cell_index + 1} of {source.name}): {error.ename}: "
            f"{_first_line(error.evalue)}. The partly executed notebook is kept at "
            f"{{partial}}/notebooks/{target.name} for debugging."
        ) from None


def _code_cell_number(notebook_path: Path, cell_index: int) -> int:
    """1-based position of a cell among the code cells, as a reader counts them."""
    import nbformat

    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
    except (OSError, ValueError):
        return cell_index + 1
    return sum(1 for cell in nb.cells[: cell_index + 1] if cell.cell_type == "code")


def clean_notebook_metadata(path: Path) -> None:
    """Drop run times papermill writes, so re-executed notebooks differ only in content."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, str(path))


def declared_parameters(notebook: Path, values: dict) -> dict:
    """The ``values`` that ``notebook`` declares in its parameters cell (papermill would add
    the others as undeclared variables and warn)."""
    import nbformat
    import papermill

    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError, nbformat.ValidationError):  # the run will say what is wrong
        return dict(values)
    if nb.metadata.get("kernelspec", {}).get("name"):
        declared = papermill.inspect_notebook(str(notebook))
    else:  # papermill infers the language from the kernel; the run names its own kernel
        nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "language": "python"}
        with tempfile.TemporaryDirectory(prefix="asn-eval-inspect-") as tmp:
            path = Path(tmp) / notebook.name
            nbformat.write(nb, str(path))
            declared = papermill.inspect_notebook(str(path))
    return {name: value for name, value in values.items() if name in declared}


def refresh_committed_notebooks(
    notebooks_dir: Path = NOTEBOOKS_DIR, progress: Callable[[str], None] = print
) -> None:
    """Re-execute the committed notebooks in place with their own default parameters."""
    with running_kernel_spec() as kernel_name:
        for number, (stem, key) in enumerate(CHAPTERS, start=1):
            path = notebooks_dir / f"{stem}.ipynb"
            progress(f"[{number}/{len(CHAPTERS)}] re-executing {path.name}")
            execute_notebook(
                path,
                path,
                parameters=None,
                kernel_name=kernel_name,
                chapter_label=f"{number} ({key}, {path.name})",
            )
            _restore_kernelspec(path)
            clean_notebook_metadata(path)


# The kernel `make setup` installs inside .venv (ipykernel install --sys-prefix): JupyterLab
# and VS Code offer it by this name, and committed notebooks ask for it.
PROJECT_KERNEL = {"display_name": "Python (asn-eval)", "language": "python", "name": "asn-eval"}


def _restore_kernelspec(path: Path) -> None:
    """Committed notebooks name the project's kernel, not the private one of the run."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.metadata["kernelspec"] = dict(PROJECT_KERNEL)
    nbformat.write(nb, str(path))
