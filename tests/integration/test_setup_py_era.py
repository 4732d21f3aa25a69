"""A release of the setup.py era, 3.9.2: units, flags and recall derived from its own build files.

Needs the pristine tree (CGLOBALS_TREES) and, for the compiler checks, its -O0 build made by
`ci/build-tree 3.9.2` (CGLOBALS_BUILT); without them the tests skip with the reason (fail under CI)."""
from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.classify import classify
from analyzer.report.json import render_json
from analyzer.scan.discovery import list_units
from analyzer.scan.engine import ScanOptions, scan
from evaluation.compiled import data_symbols, generated_sources
from evaluation.upstream import check_against_compiler, compare, confirm_found, load_upstream

from .conftest import built_path, tree_path

pytestmark = pytest.mark.realtree
VERSION = "3.9.2"


@pytest.fixture(scope="module")
def tree() -> Path:
    return tree_path(VERSION)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache39")


@pytest.fixture(scope="module")
def scanned(tree, cache_dir):
    return scan(str(tree), ScanOptions(jobs=2, cache_dir=str(cache_dir)))


@pytest.fixture(scope="module")
def built() -> Path:
    return built_path(f"Python-{VERSION}")


@pytest.fixture(scope="module")
def evidence(scanned, built):
    found = {(g.file, g.func or "", g.name) for g in scanned.globals}
    return found, data_symbols(built)


def test_every_unit_is_analyzed(scanned):
    assert scanned.diagnostics == ()
    assert scanned.failed_units == ()
    assert len(scanned.units) > 250
    assert len(scanned.globals) > 6000


def test_warm_run_is_identical_and_fully_cached(tree, scanned, cache_dir):
    warm = scan(str(tree), ScanOptions(jobs=2, cache_dir=str(cache_dir)))
    assert warm.cache_hits == len(warm.units)
    assert render_json(warm, classify(warm)) == render_json(scanned, classify(scanned))


def test_flags_come_from_the_build_files(scanned):
    units = {u.path: u for u in list_units(scanned.tree)}
    # setup.py's extra_compile_args, define_macros and include_dirs
    assert "Py_BUILD_CORE_MODULE" in units["Modules/_json.c"].defines
    assert "Py_BUILD_CORE_MODULE" in units["Modules/_ctypes/_ctypes.c"].defines
    assert {"HAVE_EXPAT_CONFIG_H=1", "USE_PYEXPAT_CAPI"} <= set(units["Modules/pyexpat.c"].defines)
    assert "Modules/expat" in units["Modules/expat/xmlparse.c"].include_dirs
    assert 'MODULE_NAME="sqlite3"' in units["Modules/_sqlite/module.c"].defines
    assert {"CONFIG_64=1", "ASM=1"} <= set(units["Modules/_decimal/libmpdec/mpdecimal.c"].defines)
    # an object setup.py links in, with the flags of its Makefile rule
    assert "Py_BUILD_CORE" in units["Modules/_math.c"].defines
    # Modules/Setup
    assert "Py_BUILD_CORE_BUILTIN" in units["Modules/posixmodule.c"].defines
    assert all(not path.endswith(".h") for path in units)


def test_sentinel_globals(scanned):
    found = {(g.file, g.func, g.name): g for g in scanned.globals}
    assert found[("Python/pyfpe.c", None, "PyFPE_jbuf")].type == "jmp_buf"      # #include "setjmp.h"
    # units that need setup.py's -DPy_BUILD_CORE_MODULE
    assert found[("Modules/_pickle.c", "_Pickle_InitState", "PyId_getattr")].macro == "_Py_IDENTIFIER"
    assert found[("Modules/_json.c", "raise_errmsg", "JSONDecodeError")].type == "PyObject *"
    assert found[("Modules/config.c.in", None, "_PyImport_Inittab")].storage.value == "extern"


def test_every_compiled_object_is_a_unit(scanned, evidence, built):
    _, symbols = evidence
    generated, _ = generated_sources(built, Path(scanned.tree.root))
    compiled = set(symbols) - generated
    assert compiled <= set(scanned.units)
    # Programs/*.c are all analyzed; 3.9 links _freeze_importlib only for `make regen-importlib`.
    assert all(path.startswith("Programs/") for path in set(scanned.units) - compiled)


def test_recall_against_upstream_lists(scanned, evidence, tree):
    found, symbols = evidence
    upstream = load_upstream(str(tree))        # 3.9: Tools/c-analyzer/known.tsv
    result = compare(found, upstream, set(scanned.files), symbols)
    assert result.categories.get("missed", ()) == ()
    assert result.in_scope > 1500


def test_every_compiled_variable_is_found(scanned, evidence, built):
    found, symbols = evidence
    check = check_against_compiler(found, symbols, *generated_sources(built, Path(scanned.tree.root)))
    assert check.missing == ()
    assert check.symbols > 5000


def test_reported_globals_exist_in_the_build(scanned, evidence):
    found, symbols = evidence
    confirmation = confirm_found(found, set(scanned.units), symbols)
    assert confirmation.unconfirmed == ()
