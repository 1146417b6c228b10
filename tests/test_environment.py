"""environment.yml (conda) and pyproject.toml (pip) must declare the same dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml

from asn_eval.config import PROJECT_ROOT

ROOT = PROJECT_ROOT
# Conda-forge spells a few packages differently from PyPI.
CONDA_NAMES = {"matplotlib-base": "matplotlib", "python-duckdb": "duckdb"}
NOT_DEPENDENCIES = {"python", "pip"}


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)(.*)$", requirement).groups()
    name = name.lower().replace("_", "-")
    return CONDA_NAMES.get(name, name), spec.replace(" ", "")


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    return dict(_split(r) for r in requirements)


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    declared = {}
    for entry in env["dependencies"]:
        items = entry["pip"] if isinstance(entry, dict) else [entry]
        for item in items:
            if item.startswith("-e"):
                continue
            name, spec = _split(item)
            if name not in NOT_DEPENDENCIES:
                declared[name] = spec
    return declared


def test_environment_yml_names_the_project_environment_on_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "asn-eval"
    assert env["channels"] == ["conda-forge"]


def test_conda_and_pip_declare_the_same_packages_and_bounds():
    pip, conda = _pyproject(), _environment()
    assert sorted(set(pip) - set(conda)) == [], "in pyproject.toml but not environment.yml"
    assert sorted(set(conda) - set(pip)) == [], "in environment.yml but not pyproject.toml"
    differing = {name: (pip[name], conda[name]) for name in pip if pip[name] != conda[name]}
    assert differing == {}, "version bounds differ (pyproject, environment.yml)"


def test_core_packages_are_declared():
    core = {"jupyterlab", "pandas", "seaborn", "scipy", "linearmodels", "papermill", "nbval"}
    assert core <= set(_pyproject())


def test_every_data_file_of_the_package_is_shipped_with_it():
    from fnmatch import fnmatch

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["asn_eval"]
    package = ROOT / "asn_eval"
    data_files = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    ]
    assert data_files, "the package has no templates?"
    unshipped = [f for f in data_files if not any(fnmatch(f, pat) for pat in patterns)]
    assert unshipped == [], "add these to [tool.setuptools.package-data] in pyproject.toml"
