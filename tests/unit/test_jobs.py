"""The jobs as library functions: `from analyzer import scan, ...` gives the
functions, whatever else has been imported, and each returns the records its
command renders."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import analyzer
from analyzer.model import ScanResult, StateClass
from tests.conftest import FIXTURES, make_tree

JOBS = ("scan", "classify", "check", "patch", "races", "report")


def test_the_jobs_are_functions_even_after_every_module_is_imported() -> None:
    """The packages of the same names (analyzer.scan, analyzer.patch, ...) do
    not take the functions' places when their modules are imported later."""
    for module in pkgutil.walk_packages(analyzer.__path__, "analyzer."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    from analyzer import check, classify, patch, races, report, scan
    for job in (scan, classify, check, patch, races, report):
        assert inspect.isfunction(job) and job.__doc__, job
    assert [getattr(analyzer, name).__name__ for name in JOBS] == list(JOBS)


def test_scan_and_classify_from_python(tmp_path: Path) -> None:
    from analyzer import ScanOptions, classify, scan
    tree = make_tree(tmp_path / "tree", [FIXTURES / "classes.c"])
    result = scan(str(tree), ScanOptions(jobs=1))
    assert isinstance(result, ScanResult) and result.globals and not result.failed_units
    verdicts = classify(result)
    assert [v.identity for v in verdicts] == [var.identity for var in result.globals]


def test_check_from_python(tmp_path: Path) -> None:
    from analyzer import ScanOptions, check
    tree = make_tree(tmp_path / "tree", [FIXTURES / "classes.c"])
    ready: list[bool] = []
    checked = check(str(tree), options=ScanOptions(jobs=1), ready=lambda: ready.append(True))
    assert ready == [True]
    new = {finding.verdict.state_class for finding in checked.report.outcome.new}
    assert new and new <= {StateClass.RUNTIME, StateClass.INTERPRETER}
    assert checked.report.outcome.failed and checked.result.tree.root == str(tree.resolve())


def test_declarations_and_the_files_a_scan_read(tmp_path: Path) -> None:
    """`declarations` gives pycparser's view of a unit's file-scope
    declarations; a scan's `files` are the units and the tree files they include."""
    from pycparser import c_ast

    from analyzer import ScanOptions, TreeError, declarations, scan
    tree = make_tree(tmp_path / "tree", [FIXTURES / "user_a.c", FIXTURES / "include" / "shared.h"])
    result = scan(str(tree), ScanOptions(jobs=1))
    assert result.files == {"Objects/user_a.c", "Include/shared.h", "Include/Python.h"}
    names = set()
    for ast in declarations(str(tree), "Objects/user_a.c"):
        assert isinstance(ast, c_ast.FileAST)
        names.update(node.name for node in ast.ext if isinstance(node, (c_ast.Decl, c_ast.FuncDef)) and
                     getattr(node, "name", None))
    assert {"header_counter", "only_in_a"} <= names
    try:
        declarations(str(tree), "Objects/none.c")
    except TreeError as exc:
        assert "Objects/none.c" in str(exc)
    else:
        raise AssertionError("no TreeError for a path that is not a unit")
