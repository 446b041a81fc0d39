"""Runtime code imports only what ``pip install .`` installs (no dev extra).

``./ferry start`` installs the runtime dependencies only; a runtime module importing a package
that only the ``dev`` extra brings crashes a fresh install while the test-suite (which installs
the dev extra) stays green. This test reads pyproject.toml and every runtime module's imports.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _runtime_packages(project: dict) -> list[str]:
    includes = project["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(pattern.rstrip("*") for pattern in includes)


def _imported_top_levels(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _installed_closure(requirements: list[str]) -> set[str]:
    """The distributions the runtime requirements install, dependencies of dependencies included."""
    seen: set[str] = set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        seen.add(name)
        for extra in requirement.extras:
            todo.extend(
                Requirement(text)
                for text in metadata.requires(requirement.name) or []
                if Requirement(text).marker and Requirement(text).marker.evaluate({"extra": extra})
            )
        todo.extend(
            Requirement(text)
            for text in metadata.requires(requirement.name) or []
            if not Requirement(text).marker or Requirement(text).marker.evaluate({"extra": ""})
        )
    return seen


def test_it_imports_no_dev_only_package_from_runtime_code():
    project = _pyproject()
    packages = _runtime_packages(project)
    installed = _installed_closure(project["project"]["dependencies"])
    distributions = metadata.packages_distributions()
    missing: dict[str, set[str]] = {}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for module in _imported_top_levels(path):
                if (
                    module in sys.stdlib_module_names
                    or module in packages
                    or module == "__future__"
                ):
                    continue
                owners = {canonicalize_name(d) for d in distributions.get(module, [module])}
                if not owners & installed:
                    missing.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    assert not missing, (
        "runtime code imports packages that the runtime dependencies do not install "
        f"(move them from the dev extra to [project] dependencies): {missing}"
    )
