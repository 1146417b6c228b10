"""The committed chapter notebooks: the right five, parameterised, thin and fully executed.

nbval compares the outputs of cells that were executed and silently compares nothing for
cells that were not, so these checks are what make the nbval run mean something.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from asn_eval.config import CHAPTERS, NOTEBOOKS_DIR

PARAMETERS = {"data_dir", "year", "lang", "seed", "output_dir"}
NOTEBOOKS = [NOTEBOOKS_DIR / f"{stem}.ipynb" for stem, _ in CHAPTERS]
# An estimator call with its options written out, one per line, is the point of a cell
# (shared/STYLE.md); a cell longer than this is logic that belongs in asn_eval.
MAX_CELL_LINES = 24
# Analysis options a researcher would change, offered in the parameters cell of the notebooks
# whose numbers they decide (each must be a field of asn_eval.analysis.AnalysisSpec).
ANALYSIS_PARAMETERS = {
    "control_group",
    "base_period",
    "anticipation",
    "n_boot",
    "n_perm",
    "level",
    "min_cell_size",
}


def test_notebooks_folder_holds_exactly_the_five_chapters_in_order():
    found = sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert found == [
        "01_introduction.ipynb",
        "02_policies.ipynb",
        "03_impact.ipynb",
        "04_challenges.ipynb",
        "05_conclusion.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_parameters_cell_declares_the_report_parameters(path: Path):
    from asn_eval.analysis import TUNABLE

    nb = nbformat.read(str(path), as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one cell tagged 'parameters'"
    names = {
        target.id
        for node in ast.parse(tagged[0].source).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert PARAMETERS <= names, f"{path.name} lacks {sorted(PARAMETERS - names)}"
    # Every option beyond the report's own parameters is an analysis option --param can set.
    # ... or, in the conclusion alone, the earlier report it compares with (--previous).
    own = {"previous_dir"} if path.name == "05_conclusion.ipynb" else set()
    extra = names - PARAMETERS - own
    assert extra <= set(TUNABLE), f"{path.name}: {sorted(extra)}"
    if path.name == "03_impact.ipynb":
        assert ANALYSIS_PARAMETERS <= names
    # Each parameter carries a comment saying what it does.
    lines = [line for line in tagged[0].source.splitlines() if "=" in line]
    assert all("#" in line for line in lines), f"{path.name}: a parameter without a comment"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected == [], f"{path.name} carries papermill's injected parameters"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_was_executed_in_order_without_errors(path: Path):
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert None not in counts, (
        f"{path.name}: cells {[i for i, n in enumerate(counts) if n is None]} never ran"
    )
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: not run top to bottom: {counts}"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == [], f"{path.name}: committed with an error output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_thin_calls_into_the_package(path: Path):
    nb = nbformat.read(str(path), as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        logic = [
            type(node).__name__
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.For | ast.While | ast.Lambda)
        ]
        assert logic == [], f"{path.name} cell {index}: {logic} belongs in asn_eval"
        assert len(cell.source.splitlines()) <= MAX_CELL_LINES, f"{path.name} cell {index} is long"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_chapter_shows_its_title_and_real_output(path: Path):
    nb = nbformat.read(str(path), as_version=4)
    mimes = {
        mime
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        for mime in output.get("data", {})
    }
    assert "text/markdown" in mimes or "text/html" in mimes, f"{path.name} shows no text"
    assert {"image/png", "text/html"} & mimes, f"{path.name} shows no figure or table"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_explains_itself_in_markdown_kept_out_of_the_report(path: Path):
    from asn_eval.report.document import HIDDEN_TAGS

    nb = nbformat.read(str(path), as_version=4)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    assert markdown and markdown[0] is nb.cells[0], f"{path.name} does not open with its text"
    # The notebook's narrative is for researchers; the report carries the rendered chapter.
    assert all("research" in c.metadata.get("tags", []) for c in markdown)
    assert "research" in HIDDEN_TAGS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_ask_for_the_project_kernel_that_setup_installs(path: Path):
    import sys

    from jupyter_client.kernelspec import KernelSpecManager

    from asn_eval.report.kernels import PROJECT_KERNEL

    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata["kernelspec"] == PROJECT_KERNEL
    # make setup installs it inside the environment (--sys-prefix), running this Python.
    spec = KernelSpecManager().get_kernel_spec(PROJECT_KERNEL["name"])
    assert Path(spec.resource_dir).is_relative_to(Path(sys.prefix))
    assert Path(spec.argv[0]).resolve() == Path(sys.executable).resolve()


@pytest.mark.parametrize(("path", "key"), zip(NOTEBOOKS, [k for _, k in CHAPTERS], strict=True),
                         ids=lambda v: getattr(v, "name", v))  # fmt: skip
def test_each_notebook_shows_every_section_of_its_chapter_in_order(path: Path, key: str):
    """A section the chapter renders but no notebook cell shows never reaches the report."""
    import re

    from asn_eval.report.chapters import chapter_class

    nb = nbformat.read(str(path), as_version=4)
    shown = [
        name
        for cell in nb.cells
        if cell.cell_type == "code"
        for name in re.findall(r'ch\.show\("([a-z_]+)"\)', cell.source)
    ]
    expected = list(chapter_class(key).sections)
    assert [s for s in shown if s in expected] == expected, f"{path.name} shows {shown}"
