"""The persistent cache: reuse unchanged units, redo changed ones and the
units that include a changed header, and never change the result."""
from __future__ import annotations

from analyzer.classify import classify
from analyzer.report.json import render_json
from analyzer.scan.engine import ScanOptions, scan
from tests.conftest import FIXTURES, make_tree

SOURCES = [FIXTURES / "user_a.c", FIXTURES / "user_b.c", FIXTURES / "macros.c",
           FIXTURES / "include" / "shared.h"]


def test_warm_run_reuses_everything_and_matches_cold(tmp_path):
    tree = make_tree(tmp_path / "tree", SOURCES)
    options = ScanOptions(jobs=1, cache_dir=str(tmp_path / "cache"))
    cold = scan(str(tree), options)
    warm = scan(str(tree), options)
    assert (cold.cache_hits, warm.cache_hits) == (0, 3)
    assert render_json(warm, classify(warm)) == render_json(cold, classify(cold))


def test_touched_file_and_header_dependents_are_redone(tmp_path):
    tree = make_tree(tmp_path / "tree", SOURCES)
    options = ScanOptions(jobs=1, cache_dir=str(tmp_path / "cache"))
    scan(str(tree), options)
    macros = tree / "Objects" / "macros.c"
    macros.write_text(macros.read_text() + "static int added;\n")
    after_source_edit = scan(str(tree), options)
    assert after_source_edit.cache_hits == 2
    assert any(g.name == "added" for g in after_source_edit.globals)
    header = tree / "Include" / "shared.h"
    header.write_text(header.read_text().replace("static int header_counter;", "static int renamed;"))
    after_header_edit = scan(str(tree), options)
    assert after_header_edit.cache_hits == 1    # only macros.c does not include it
    assert {g.name for g in after_header_edit.globals if g.file == "Include/shared.h"} == {"renamed", "bumps"}


def test_parallel_equals_serial(tmp_path):
    tree = make_tree(tmp_path / "tree", sorted(FIXTURES.glob("*.c")) + [FIXTURES / "include" / "shared.h"])
    serial = scan(str(tree), ScanOptions(jobs=1))
    parallel = scan(str(tree), ScanOptions(jobs=2))
    assert render_json(parallel, classify(parallel)) == render_json(serial, classify(serial))


def test_an_edit_is_journaled_and_many_edits_fold_into_the_main_file(tmp_path, monkeypatch):
    from analyzer.scan import cache as cache_module
    tree = make_tree(tmp_path / "tree", SOURCES)
    cache_dir = tmp_path / "cache"
    options = ScanOptions(jobs=1, cache_dir=str(cache_dir))
    cold = scan(str(tree), options)
    (main,) = cache_dir.glob("scan-*[0-9a-f].pickle")
    written = main.stat().st_mtime_ns
    macros = tree / "Objects" / "macros.c"
    original = macros.read_text()
    macros.write_text(original + "static int added;\n")
    scan(str(tree), options)
    assert main.stat().st_mtime_ns == written and main.with_suffix(".journal").exists()
    macros.write_text(original)
    again = scan(str(tree), options)       # one entry per unit: the journal's (the edit) replaced main's
    assert again.cache_hits == 2 and main.stat().st_mtime_ns == written
    monkeypatch.setattr(cache_module, "_JOURNAL_LIMIT", 0)
    macros.write_text(original + "static int other;\n")
    folded = scan(str(tree), options)
    assert main.stat().st_mtime_ns != written and not main.with_suffix(".journal").exists()
    assert scan(str(tree), options).cache_hits == 3
    assert {g.name for g in folded.globals} == {g.name for g in cold.globals} | {"other"}


def test_lazy_table_unpacks_on_first_use():
    from analyzer.scan.cache import LazyTable
    unpacked = []
    table = LazyTable({"a": (1,), "b": (2,)}, lambda packed: unpacked.append(packed) or packed[0])
    assert "a" in table and "c" not in table and unpacked == []
    assert (table.get("a"), table["a"], table.get("c", 0)) == (1, 1, 0)
    assert unpacked == [(1,)]


def test_a_few_changed_units_analyzed_beside_the_unpacking_give_the_same_scan(tmp_path):
    tree = make_tree(tmp_path / "tree", SOURCES)
    scan(str(tree), ScanOptions(jobs=2, cache_dir=str(tmp_path / "cache")))
    header = tree / "Include" / "shared.h"            # two units include it: both go to the worker
    header.write_text(header.read_text().replace("static int header_counter;", "static int renamed;"))
    warm = scan(str(tree), ScanOptions(jobs=2, cache_dir=str(tmp_path / "cache")))
    cold = scan(str(tree), ScanOptions(jobs=1))
    assert warm.cache_hits == 1
    assert render_json(warm, classify(warm)) == render_json(cold, classify(cold))


def test_every_field_of_the_records_survives_the_cache(tmp_path):
    """Dataclass equality compares every field, so a field the packer forgets
    (as library_calls once was) fails here even when the JSON does not show it."""
    tree = make_tree(tmp_path / "tree", [*SOURCES, FIXTURES / "process_wide.c"])
    options = ScanOptions(jobs=1, cache_dir=str(tmp_path / "cache"))
    cold = scan(str(tree), options)
    warm = scan(str(tree), options)
    assert warm.cache_hits == 4
    assert (warm.globals, warm.uses, warm.functions, warm.initializers) == \
        (cold.globals, cold.uses, cold.functions, cold.initializers)
    assert any(function.library_calls for function in cold.functions)


def test_units_are_preprocessed_ahead_while_the_first_is_analyzed(tmp_path):
    import threading
    import time

    from analyzer.frontend.preprocess import preprocess
    from analyzer.scan import engine
    from analyzer.scan.checkout import open_checkout
    checkout = open_checkout(str(make_tree(tmp_path / "tree", SOURCES)))
    env, macros = checkout.environment(str(tmp_path / "work"))
    ctx = engine.UnitContext(env=env, function_macros=macros)
    units = list(checkout.units)
    threads = threading.active_count()
    with engine._preprocessing_ahead(ctx, units):
        deadline = time.monotonic() + 30
        while len(ctx.preprocessed) < len(units) and time.monotonic() < deadline:
            time.sleep(0.01)
    assert threading.active_count() == threads          # joined before any fork
    assert ctx.preprocessed == {unit.path: preprocess(env, unit) for unit in units}
