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
    assert [(d.file, d.code.slug, d.detail) for d in result.diagnostics] == [
        ("Objects/macros.c", "internal-error", "ValueError: boom")]
    assert result.failed_units == ("Objects/macros.c",)


def _gate_codes(tmp_path) -> set[str]:
    """The codes of what the gate reports on a tree given a new global, a
    suppression without a reason, one that covers nothing, and a stale entry."""
    from analyzer import check
    tree = make_tree(tmp_path / "gated", [FIXTURES / "macros.c"])
    baseline = tmp_path / "baseline.tsv"
    baseline.write_text("schema_version\t1\nfile\tfunc\tname\tclass\treason\n"
                        "Objects/macros.c\t-\tgone_long_ago\tinterpreter\t\n")
    source = tree / "Objects" / "macros.c"
    source.write_text(source.read_text() + "// cglobals: ignore[interpreter]\nstatic int gated_counter;\n"
                      "void gated_bump(void) { gated_counter++; }\n"
                      "static const int gated_table[2]; /* cglobals: ignore[runtime] it never changes */\n")
    checked = check(str(tree), [str(baseline)], options=ScanOptions(jobs=1))
    return {problem.code.slug for problem in checked.report.outcome.problems}


def test_every_code_is_triggered_by_a_test(fixture_scan, tmp_path):
    triggered = {d.code.slug for d in fixture_scan.diagnostics} | {"internal-error"}  # the test above
    gate_codes = _gate_codes(tmp_path)
    assert gate_codes == {"new-mutable-global", "stale-baseline-entry", "suppression-without-reason",
                          "unused-suppression"}
    triggered |= gate_codes
    # The front end's limits: tests/unit/test_robustness.py (a unit past its time, a worker killed, too much
    # preprocessed text, what is not a regular file, nesting too deep for the parser).
    triggered |= {"unit-timeout", "worker-died", "too-large", "unreadable-file", "nesting-too-deep"}
    assert triggered == set(CODES)
