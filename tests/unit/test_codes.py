"""Every diagnostic code is one that some input really produces."""
from __future__ import annotations

from analyzer.codes import CODES
from analyzer.scan import engine as scan_module
from analyzer.scan.engine import ScanOptions, scan
from tests.conftest import FIXTURES, make_tree


def test_a_crash_in_one_unit_is_an_internal_error_and_the_rest_survive(tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "tree", [FIXTURES / "macros.c", FIXTURES / "empty.c"])
    real = scan_module.analyze_unit

    def crash_on_macros(ctx, unit):
        if unit.path == "Objects/macros.c":
            raise ValueError("boom")
        return real(ctx, unit)

    monkeypatch.setattr(scan_module, "analyze_unit", crash_on_macros)
    result = scan(str(tree), ScanOptions(jobs=1))
    assert [(d.file, d.code, d.detail) for d in result.diagnostics] == [
        ("Objects/macros.c", "internal-error", "ValueError: boom")]
    assert result.failed_units == ("Objects/macros.c",)


def test_every_code_is_triggered_by_a_test(fixture_scan):
    triggered = {d.code for d in fixture_scan.diagnostics} | {"internal-error"}  # the test above
    # The gate's codes: tests/unit/test_gate.py (a new global, a stale entry,
    # suppressions without a reason and unused).
    triggered |= {"new-mutable-global", "stale-baseline-entry", "suppression-without-reason", "unused-suppression"}
    # The front end's limits: tests/unit/test_robustness.py (a unit past its time, a worker killed, too much
    # preprocessed text, what is not a regular file, nesting too deep for the parser).
    triggered |= {"unit-timeout", "worker-died", "too-large", "unreadable-file", "nesting-too-deep"}
    assert triggered == set(CODES)
