"""The scan cache's fingerprint is cut at package boundaries: an edit to the
code after the scan keeps every cached scan, an edit to what the scan runs
invalidates them."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from analyzer.model import Tree
from analyzer.scan.fingerprint import PACKAGE, SCAN_INPUTS, fingerprint

TREE = Tree(root="/nonexistent", version="3.13.5", configured=False)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("package") / "analyzer"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _edited(package: Path, relative: str) -> str:
    """The fingerprint with `relative` edited, then the file restored."""
    path = package / relative
    original = path.read_bytes()
    path.write_bytes(original + b"\n/* an edit */\n" if relative.endswith(".h") else original + b"\n# an edit\n")
    try:
        return fingerprint(TREE, package)
    finally:
        path.write_bytes(original)


@pytest.mark.parametrize("relative", ["races/binaries.py", "races/reports.py", "report/text.py", "gate/check.py",
                                      "gate/inputs.py", "classify/rules.py", "patch/series.py", "cli.py",
                                      "datafiles.py", "gate/baseline.py", "races/accesses.py"])
def test_an_edit_after_the_scan_keeps_the_cache(package: Path, relative: str) -> None:
    assert _edited(package, relative) == fingerprint(TREE, package)


@pytest.mark.parametrize("relative", ["frontend/parse.py", "frontend/preprocess.py", "frontend/checkout.py",
                                      "cpython/families.py", "scan/discovery.py", "scan/cache.py", "model.py",
                                      "codes.py", "stubs/include/zlib.h", "stubs/profile/pyconfig.h"])
def test_an_edit_to_what_the_scan_runs_invalidates_it(package: Path, relative: str) -> None:
    assert _edited(package, relative) != fingerprint(TREE, package)


def test_the_installed_package_and_its_copy_agree(package: Path) -> None:
    assert fingerprint(TREE, package) == fingerprint(TREE)
    assert fingerprint(TREE) != fingerprint(Tree(root=TREE.root, version=TREE.version, configured=True))


def _imports(path: Path, module: str) -> set[str]:
    """The analyzer modules a module imports, at module level or deferred."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)    # `from . import parse`
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "analyzer"}


def _file(module: str) -> Path | None:
    relative = Path(*module.split(".")[1:])
    for candidate in (PACKAGE / relative.with_suffix(".py"), PACKAGE / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def test_what_the_scan_imports_is_fingerprinted() -> None:
    """Every module the scan engine reaches, through any import, is in a
    package of SCAN_INPUTS: a scan that came to depend on code outside them
    would keep stale cached results.  The package's __init__ only gives the
    version, which the cache's stamp holds."""
    seen, pending = set(), ["analyzer.scan.engine"]
    while pending:
        module = pending.pop()
        path = _file(module) if module != "analyzer" else None
        if module in seen or path is None:
            continue
        seen.add(module)
        pending += _imports(path, module)
    outside = sorted(m for m in seen if not any(
        m == f"analyzer.{entry.removesuffix('.py')}" or m.startswith(f"analyzer.{entry}.") for entry in SCAN_INPUTS))
    assert outside == []
    assert {"analyzer.frontend.parse", "analyzer.cpython.families", "analyzer.scan.discovery"} <= seen
