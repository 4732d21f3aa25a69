"""The analyzer on pristine, unconfigured 3.11.2 and 3.13.5 trees."""
from __future__ import annotations

from analyzer.classify import classify
from analyzer.report.json import render_json

SENTINELS = {
    # (file, func, name): (storage, const, has_initializer, macro)
    ("Python/pylifecycle.c", None, "_PyRuntime"): ("extern", False, True, None),
    ("Objects/typeobject.c", None, "PyType_Type"): ("extern", False, True, None),
    ("Python/opcode_targets.h", "_PyEval_EvalFrameDefault", "opcode_targets"): ("static", False, True, None),
    ("Modules/config.c.in", None, "_PyImport_Inittab"): ("extern", False, True, None),
    # declared (`static PyHash_FuncDef PyHash_Func;`), then defined with an initializer
    ("Python/pyhash.c", None, "PyHash_Func"): ("static", False, True, None),
}
SENTINELS_BY_VERSION = {
    "3.11.2": {("Modules/_json.c", "raise_errmsg", "PyId_JSONDecodeError"): ("static", False, True, "_Py_IDENTIFIER")},
    "3.13.5": {("Python/pystate.c", None, "_Py_tss_tstate"): ("extern", False, True, None)},
}


def test_every_unit_is_analyzed(real_scan):
    cold, _ = real_scan
    assert cold.diagnostics == ()
    assert cold.failed_units == ()
    assert len(cold.units) > 250
    assert len(cold.globals) > 5000


def test_warm_run_is_identical_and_fully_cached(real_scan):
    cold, warm = real_scan
    assert warm.cache_hits == len(warm.units)
    assert render_json(warm, classify(warm)) == render_json(cold, classify(cold))


def test_sentinel_globals(real_scan):
    cold, _ = real_scan
    found = {(g.file, g.func, g.name): g for g in cold.globals}
    expected = {**SENTINELS, **SENTINELS_BY_VERSION[cold.tree.version]}
    for identity, (storage, const, init, macro) in expected.items():
        var = found[identity]
        assert (var.storage.value, var.const, var.has_initializer, var.macro) == (storage, const, init, macro), identity


def test_thread_locals_are_marked(real_scan):
    cold, _ = real_scan
    thread_locals = {(g.file, g.name) for g in cold.globals if g.thread_local}
    if cold.tree.version == "3.13.5":
        assert ("Python/pystate.c", "_Py_tss_tstate") in thread_locals
    else:
        assert thread_locals == set()
