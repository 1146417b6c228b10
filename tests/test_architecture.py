"""The package's layout is its architecture: layers point down and nothing imports in a cycle.

The data flow (STYLE.md) is raw files -> validated tables -> panels -> estimates -> decisions
-> figures, tables, words -> report. Each top-level package of ``asn_eval`` is one stage, in
the order of :data:`LAYERS`; a module may import its own layer and the layers below it, never
one above (a lazy import inside a function counts too: it is the same dependency, hidden).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import asn_eval

PACKAGE = Path(asn_eval.__file__).resolve().parent

# Bottom to top. Packages on one line are one layer and may import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("config", "common"),
    ("domain",),
    ("data",),
    ("engine", "indices"),
    ("estimators",),
    ("results",),
    ("analysis",),
    ("report",),
    ("cli", "__main__"),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, *, module_level_only: bool = False) -> list[tuple[str, int]]:
    """``(imported asn_eval module or package, line)`` for each import in ``path``."""
    return _imports_in(
        path.read_text(encoding="utf-8"),
        _module_name(path),
        is_package=path.name == "__init__.py",
        module_level_only=module_level_only,
    )


def _imports_in(
    source: str, module: str, *, is_package: bool = False, module_level_only: bool = False
) -> list[tuple[str, int]]:
    tree = ast.parse(source)
    # Imports under `if TYPE_CHECKING:` are for annotations only, never run.
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    nodes = tree.body if module_level_only else ast.walk(tree)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in nodes:
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                imported = ".".join(base + ([node.module] if node.module else []))
            else:
                imported = node.module or ""
            found.append((imported, node.lineno))
            # `from asn_eval.report import plots` imports the module asn_eval.report.plots
            found += [(f"{imported}.{a.name}", node.lineno) for a in node.names]
    return [(m, line) for m, line in found if m == "asn_eval" or m.startswith("asn_eval.")]


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    for rank, names in enumerate(LAYERS):
        if parts[1] in names:
            return rank
    return None


def test_every_top_level_module_and_package_has_a_layer():
    tops = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()}
    tops -= {"__init__", "__pycache__", "py.typed"}
    unplaced = sorted(t for t in tops if _layer(f"asn_eval.{t}") is None)
    assert unplaced == [], f"place these in LAYERS (tests/test_architecture.py): {unplaced}"


def test_no_module_imports_a_layer_above_its_own():
    known = _modules()
    upward = []
    for module, path in known.items():
        mine = _layer(module)
        if mine is None:
            continue
        for imported, line in _imports(path):
            theirs = _layer(imported)
            if theirs is not None and theirs > mine and (
                imported in known or imported.rpartition(".")[0] in known
            ):
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}")
    assert upward == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _graph(*, module_level_only: bool) -> dict[str, set[str]]:
    known = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        targets = set()
        for imported, _ in _imports(path, module_level_only=module_level_only):
            while imported and imported not in known:
                imported = imported.rpartition(".")[0]
            # A package's own __init__ importing its modules is how a package exports.
            if imported and imported != module and not (
                path.name == "__init__.py" and imported.startswith(module + ".")
            ) and imported != "asn_eval":
                targets.add(imported)
        graph[module] = targets
    return graph


@pytest.mark.parametrize("module_level_only", [True, False], ids=["module-level", "all"])
def test_no_import_cycles_between_modules(module_level_only):
    # module-level: what Python must resolve at import; all: lazy imports too, which hide a
    # cycle rather than remove it
    assert _cycles(_graph(module_level_only=module_level_only)) == []


def test_the_checks_find_a_planted_upward_import_and_a_cycle():
    """The checks above can fail: a lazy upward import and a cycle are found, and an
    annotation-only import is not a dependency."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from asn_eval.analysis import panels\n"
        "def plot(self):\n    from asn_eval.report import plots\n"
    )
    found = [m for m, _ in _imports_in(source, "asn_eval.estimators.its")]
    assert "asn_eval.report.plots" in found and "asn_eval.analysis.panels" not in found
    assert _layer("asn_eval.report.plots") > _layer("asn_eval.estimators.its")


def test_each_package_exports_only_public_names():
    private = {}
    for path in sorted(PACKAGE.rglob("__init__.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                names = [e.value for e in node.value.elts]  # type: ignore[attr-defined]
                hidden = [n for n in names if n.startswith("_")]
                if hidden:
                    private[str(path.relative_to(PACKAGE.parent))] = hidden
    assert private == {}


def test_package_is_typed():
    assert (PACKAGE / "py.typed").is_file()
