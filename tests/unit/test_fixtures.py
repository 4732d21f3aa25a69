"""Each C fixture's `expect:` comments are exactly what the scan reports for it."""
from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, all_fixtures, as_expected, class_expectations, expectations, fixture_tree_path

ALL_FIXTURES = all_fixtures()


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_fixture_expectations(fixture, fixture_scan):
    path = fixture_tree_path(fixture)
    reported = {as_expected(g) for g in fixture_scan.globals if g.file == path}
    assert reported == expectations(fixture)


@pytest.mark.parametrize("fixture", [f for f in ALL_FIXTURES if class_expectations(f)], ids=lambda p: p.name)
def test_fixture_classes(fixture, fixture_verdicts):
    expected = class_expectations(fixture)
    reported = {identity: (fixture_verdicts[identity].state_class.value, fixture_verdicts[identity].rule)
                for identity in expected if identity in fixture_verdicts}
    assert reported == expected


def test_every_global_has_one_verdict(fixture_scan, fixture_verdicts):
    assert set(fixture_verdicts) == {g.identity for g in fixture_scan.globals}
    assert all(v.evidence for v in fixture_verdicts.values())


def test_a_variable_declared_then_defined_has_the_definition_s_initializer(fixture_scan):
    found = {g.name: (g.line, g.has_initializer, g.initializer) for g in fixture_scan.globals
             if g.file == "Objects/declarations.c" and g.name in ("level", "Later_Type")}
    lines = (FIXTURES / "declarations.c").read_text().splitlines()
    level_line = lines.index("static int level;                            /* expect: level init family=scalar */") + 1
    assert found == {"level": (level_line, True, "5"),
                     "Later_Type": (level_line + 1, True, '{ PyVarObject_HEAD_INIT(NULL, 0) "later", }')}


def test_header_globals_are_counted_once(fixture_scan):
    header = [g.name for g in fixture_scan.globals if g.file == "Include/shared.h"]
    assert sorted(header) == ["bumps", "header_counter"]


def test_failures_are_diagnostics_and_do_not_lose_other_results(fixture_scan):
    codes = {(d.file, d.code.slug) for d in fixture_scan.diagnostics}
    assert codes == {("Objects/unparsable.c", "parse-error"),
                     ("Objects/missing_header.c", "missing-header"),
                     ("Objects/preprocess_error.c", "preprocess-error"),
                     ("Objects/unparsable_body.c", "body-parse-error")}
    assert set(fixture_scan.failed_units) == {"Objects/unparsable.c", "Objects/missing_header.c",
                                              "Objects/preprocess_error.c", "Objects/unparsable_body.c"}
    assert any(g.name == "counter" for g in fixture_scan.globals)


def test_parse_error_names_the_line(fixture_scan):
    (parse_error,) = [d for d in fixture_scan.diagnostics if d.code.slug == "parse-error"]
    assert parse_error.line == 3
    (missing,) = [d for d in fixture_scan.diagnostics if d.code.slug == "missing-header"]
    assert (missing.line, missing.detail) == (2, "no_such_header.h: no such file")
    (body,) = [d for d in fixture_scan.diagnostics if d.code.slug == "body-parse-error"]
    assert body.line == 6
    assert any(g.name == "hits" for g in fixture_scan.globals)     # the unit's globals are kept
    (refused,) = [d for d in fixture_scan.diagnostics if d.code.slug == "preprocess-error"]
    assert (refused.line, refused.detail) == (2, '#error "this unit refuses to preprocess"')


def test_const_ness_of_what_pointers_point_to(fixture_scan):
    found = {g.name: g.points_to_const for g in fixture_scan.globals if g.file == "Objects/declarations.c"}
    assert {name: found[name] for name in ("message", "fixed", "names", "frozen", "singleton",
                                            "pointee_const", "counter", "table", "allocator")} == {
        "message": True, "fixed": False, "names": True, "frozen": True, "singleton": False,
        "pointee_const": True, "counter": None, "table": None, "allocator": None}


def test_evidence_names_a_function_called_once_as_such(fixture_verdicts):
    """init_cond() runs only because init_once() calls it under its once-flag:
    the evidence says so, not "runtime init/fini"."""
    evidence = fixture_verdicts[("Objects/classes.c", "", "cond_ready")].evidence
    assert any("assigned in init_cond()" in line and "runs in: once per process (called under a once test)" in line
               for line in evidence), evidence
