"""The package map of the README holds: each package of analyzer/ imports
only the packages and modules the map allows it."""
from __future__ import annotations

import ast
from pathlib import Path

import analyzer

PACKAGE = Path(analyzer.__file__).parent
ALLOWED = {
    "cpython": {"model"},
    "frontend": {"cpython", "model", "codes"},
    "scan": {"frontend", "cpython", "model", "codes", "__init__"},
    "classify": {"cpython", "model", "scan.memory"},
    "gate": {"model", "codes", "cpython", "datafiles", "frontend.checkout"},
    "patch": {"classify", "cpython", "frontend.checkout", "races.accesses", "model", "codes"},
    "races": {"model", "datafiles"},
}


def _imported(path: Path, package: str) -> set[str]:
    """The analyzer modules a module of `package` imports, as dotted names below analyzer."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            base = [] if node.level == 2 else [package]
            if node.level > 2:
                continue
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if node.module is None:
                found.update(".".join([*base, alias.name]) for alias in node.names)
            else:
                found.add(module)
    return found


def _allowed(name: str, package: str) -> bool:
    if name == package or name.startswith(package + "."):
        return True
    if name == "" or name == "__version__":
        return "__init__" in ALLOWED[package]
    return any(name == entry or name.startswith(entry + ".") for entry in ALLOWED[package])


def test_each_package_imports_only_what_the_map_allows() -> None:
    wrong = []
    for package in ALLOWED:
        for path in sorted((PACKAGE / package).glob("*.py")):
            wrong += [f"{package}/{path.name}: {name}" for name in sorted(_imported(path, package))
                      if not _allowed(name, package)]
    assert wrong == []


def test_the_readme_map_names_what_is_allowed() -> None:
    readme = (PACKAGE.parent / "README.md").read_text()
    for package, allowed in ALLOWED.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{package}/` |"))
        for entry in allowed - {"__init__"}:
            assert f"`{entry}" in row, (package, entry)
