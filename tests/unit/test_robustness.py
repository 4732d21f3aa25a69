"""Hostile input to the scan front end: each case is one failure the fuzzer
found, reduced; the scan must end with results and diagnostics, never a
crash, a hang, a file written outside its directories or unbounded memory."""
from __future__ import annotations

import io
import os
import random
import re
import signal
import time
import tracemalloc
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.cpython.api import MUTATING_CALLS
from analyzer.frontend import preprocess as preprocess_module
from analyzer.frontend.bodies import read_tokens, readied_names, write_contexts
from analyzer.frontend.parse import LONG_LITERAL, shorten_literals
from analyzer.frontend.preprocess import standin_names
from analyzer.scan import engine as scan_module
from analyzer.scan import pool as pool_module
from analyzer.scan.engine import ScanOptions, scan
from analyzer.scan.pool import Lost, Supervised
from tests.conftest import make_tree

HEADER = '#include "Python.h"\n'


def tree_with(tmp_path: Path, sources: dict[str, bytes], root_name: str = "tree") -> Path:
    """A fixture tree whose Objects/ units are the given files (name -> bytes)."""
    staging = tmp_path / "staging"
    staging.mkdir(exist_ok=True)
    paths = []
    for name, data in sources.items():
        (staging / name).write_bytes(data)
        paths.append(staging / name)
    return make_tree(tmp_path / root_name, paths)


def codes(result) -> set[tuple[str, str]]:
    return {(d.file, d.code.slug) for d in result.diagnostics}


def test_weird_includes_in_a_file_no_unit_includes_change_nothing(tmp_path):
    outside = tmp_path / "outside"
    tree = tree_with(tmp_path, {"ok.c": HEADER.encode() + b"static int kept;\n"})
    (tree / "Objects" / "unused.h").write_bytes(
        b"/*\n#include <str\0ing.h>\n*/\n#include <a>\n#include <a/b.h>\n#include <" + b"n" * 300 + b".h>\n"
        b"#include <" + str(outside / "x.h").encode() + b">\n#include <../../escape.h>\n")
    result = scan(str(tree), ScanOptions(jobs=1))
    assert result.diagnostics == () and result.failed_units == ()
    assert [g.name for g in result.globals if g.file == "Objects/ok.c"] == ["kept"]
    assert not outside.exists() and not (tmp_path / "escape.h").exists()


def test_a_weird_include_is_a_diagnostic_of_the_unit_that_includes_it(tmp_path):
    tree = tree_with(tmp_path, {"clash.c": HEADER.encode() + b"#include <a>\n#include <a/b.h>\nstatic int x;\n",
                                "ok.c": HEADER.encode() + b"static int kept;\n"})
    result = scan(str(tree), ScanOptions(jobs=1))
    assert codes(result) == {("Objects/clash.c", "missing-header")}
    assert result.failed_units == ("Objects/clash.c",)


def test_stand_in_names_stay_below_their_directory():
    names = frozenset({"stdio.h", "sys/types.h", "a", "a/b.h", "/abs/x.h", "../up.h", "x/../../y.h", "n\0ul.h",
                       "a//b.h", "./x.h", "z" * 300 + ".h", ""})
    assert standin_names(names) == ("a/b.h", "stdio.h", "sys/types.h")


def test_stale_stand_ins_of_an_earlier_run_give_way(tmp_path):
    tree = tree_with(tmp_path, {"one.c": HEADER.encode() + b"#include <fz>\nstatic int x;\n"})
    cache = tmp_path / "cache"
    assert scan(str(tree), ScanOptions(jobs=1, cache_dir=str(cache))).failed_units == ()
    (tree / "Objects" / "one.c").write_bytes(HEADER.encode() + b"#include <fz/b.h>\nstatic int x;\n")
    assert scan(str(tree), ScanOptions(jobs=1, cache_dir=str(cache))).failed_units == ()


def test_knr_declarations_and_definitions(tmp_path):
    tree = tree_with(tmp_path, {"knr.c": HEADER.encode() + (
        b"int f(a);\nstatic int z;\nint h(a, b) int *a; long b; { z = *a; return a[b]; }\n"
        b"static int w;\nint k(void) { return f(&w); }\n")})
    result = scan(str(tree), ScanOptions(jobs=1))
    assert result.diagnostics == ()
    assert {g.name for g in result.globals if g.file == "Objects/knr.c"} == {"z", "w"}


def test_deep_nesting_loses_only_what_is_too_deep(tmp_path):
    shallow, deep = b"(" * 122 + b"1" + b")" * 122, b"(" * 10_000 + b"1" + b")" * 10_000
    chain = b"+".join([b"1"] * 493)
    tree = tree_with(tmp_path, {"deep.c": HEADER.encode() + (
        b"static int z;\nint h(void) { z = " + shallow + b"; return 0; }\n"
        b"static int chain = " + chain + b";\n"
        b"int g(void) { z = " + deep + b"; return 0; }\n"
        b"static int too_deep = " + deep + b";\nstatic int after;\n")})
    result = scan(str(tree), ScanOptions(jobs=1))
    assert codes(result) == {("Objects/deep.c", "body-parse-error"), ("Objects/deep.c", "nesting-too-deep")}
    assert [(d.code.slug, d.line) for d in result.diagnostics] == [("body-parse-error", 5), ("nesting-too-deep", 6)]
    assert {g.name for g in result.globals if g.file == "Objects/deep.c"} == {"z", "chain", "after"}


def test_long_literals_are_emptied_before_pycparser():
    long = "a" * (LONG_LITERAL + 1)
    text = f'f("{long}", \'c\', "ok", "a\\"{long}");\n"{long}\ng(\'{long}\');'
    assert shorten_literals(text) == "f(\"\", 'c', \"ok\", \"\");\n\"\ng('');"
    assert shorten_literals('"short" \'x\'') == '"short" \'x\''


def test_a_megabyte_literal_costs_little_memory(tmp_path):
    literal = b'"' + b"a" * (1 << 20) + b'"'
    tree = tree_with(tmp_path, {"lit.c": HEADER.encode() + b"static int z;\nstatic const char *s = " + literal
                                + b";\nint h(void) { z = sizeof(" + literal + b"); return 0; }\n"})
    tracemalloc.start()
    try:
        result = scan(str(tree), ScanOptions(jobs=1))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.failed_units == ()
    assert peak < 150 << 20            # it was some 900 MiB


def test_mutating_calls_are_found_as_the_regex_found_them_in_linear_time():
    old = re.compile(r"\b(?:" + "|".join(sorted(MUTATING_CALLS)) + r")\s*\([^;]*?&[\s(]*([A-Za-z_]\w*)")
    atoms = ["PyType_Ready", "PyStructSequence_InitType", "PyStructSequence_InitType2", "(", ")", "&", "&&", ";",
             " ", "\n", "x", "y1", ",", "1", "PyModule_AddType"]
    rng = random.Random(7)
    for _ in range(3000):
        code = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 30)))
        assert readied_names(code) == {m.group(1) for m in old.finditer(code)}, code
    started = time.monotonic()
    tokens = read_tokens("PyType_Ready(" * 20_000 + "&t" + ")" * 20_000 + ";", "f", True, False, "x.c", 1, False)
    assert write_contexts(tokens).readied == frozenset({"t"})
    assert time.monotonic() - started < 5        # it was 47 s


def test_a_header_error_names_the_unit_and_keeps_its_line_under_a_colon_path(tmp_path):
    tree = tree_with(tmp_path, {"t.c": HEADER.encode() + b'#include "v.h"\n'}, root_name="co:lon")
    (tree / "Objects" / "v.h").write_bytes(b"\n#error boom here\n")
    (diagnostic,) = scan(str(tree), ScanOptions(jobs=1)).diagnostics
    assert (diagnostic.code.slug, diagnostic.file, diagnostic.line, diagnostic.unit) == (
        "preprocess-error", "Objects/v.h", 2, "Objects/t.c")
    assert diagnostic.detail == "#error boom here"


def test_gcc_reads_no_stdin_and_a_device_include_is_bounded(tmp_path):
    tree = tree_with(tmp_path, {"stdin.c": HEADER.encode() + b'#include "/dev/stdin"\nstatic int x;\n',
                                "zero.c": HEADER.encode() + b'#include "/dev/zero"\nstatic int y;\n'})
    started = time.monotonic()
    result = scan(str(tree), ScanOptions(jobs=1))
    assert time.monotonic() - started < 30
    assert codes(result) == {("Objects/zero.c", "preprocess-error")}
    assert any(g.name == "x" for g in result.globals)


def test_a_fifo_in_the_tree_is_passed_over_and_one_included_times_out(tmp_path):
    tree = tree_with(tmp_path, {"fifo.c": HEADER.encode() + b'#include "wait.h"\n',
                                "ok.c": HEADER.encode() + b"static int kept;\n"})
    os.mkfifo(tree / "Objects" / "wait.h")
    os.mkfifo(tree / "Objects" / "stray.c")
    started = time.monotonic()
    result = scan(str(tree), ScanOptions(jobs=1, unit_timeout=2))
    assert time.monotonic() - started < 30
    assert codes(result) == {("Objects/fifo.c", "unit-timeout")}
    assert any(g.name == "kept" for g in result.globals)


def test_what_is_not_a_regular_file_is_unreadable(tmp_path):
    tree = tree_with(tmp_path, {"dir.c": b"", "loop.c": b"", "gone.c": b"", "ok.c": HEADER.encode()})
    for name, make in (("dir.c", lambda p: p.mkdir()), ("loop.c", lambda p: p.symlink_to("loop.c")),
                       ("gone.c", lambda p: p.symlink_to("nothing"))):
        path = tree / "Objects" / name
        path.unlink()
        make(path)
    (tree / "Programs").mkdir()
    os.mkfifo(tree / "Programs" / "pipe.c")
    only = ("Objects/dir.c", "Objects/loop.c", "Objects/gone.c", "Objects/ok.c", "Programs/pipe.c")
    result = scan(str(tree), ScanOptions(jobs=1, only=only))
    assert codes(result) == {(p, "unreadable-file") for p in only if p != "Objects/ok.c"}
    assert set(result.failed_units) == set(only) - {"Objects/ok.c"}


def test_a_unit_past_its_time_is_a_diagnostic(tmp_path, monkeypatch):
    tree = tree_with(tmp_path, {"slow.c": HEADER.encode(), "ok.c": HEADER.encode() + b"static int kept;\n"})
    real = scan_module.analyze_unit

    def slow(ctx, unit):
        if unit.path == "Objects/slow.c":
            time.sleep(30)
        return real(ctx, unit)

    monkeypatch.setattr(scan_module, "analyze_unit", slow)
    result = scan(str(tree), ScanOptions(jobs=1, unit_timeout=1))
    assert codes(result) == {("Objects/slow.c", "unit-timeout")}
    assert any(g.name == "kept" for g in result.globals)


def test_too_much_preprocessed_text_is_a_diagnostic(tmp_path, monkeypatch):
    monkeypatch.setattr(preprocess_module, "MAX_PREPROCESSED_BYTES", 4096)
    tree = tree_with(tmp_path, {"big.c": HEADER.encode() + b"static int x;\n" * 2000})
    assert codes(scan(str(tree), ScanOptions(jobs=1))) == {("Objects/big.c", "too-large")}


def test_a_dead_worker_is_a_diagnostic_and_the_rest_go_on(tmp_path, monkeypatch):
    units = {f"u{i}.c": HEADER.encode() + f"static int kept{i};\n".encode() for i in range(5)}
    units["victim.c"] = HEADER.encode() + b"static int victim;\n"
    tree = tree_with(tmp_path, units)
    parent = os.getpid()
    real = scan_module.analyze_unit

    def die_in_a_worker(ctx, unit):
        if unit.path == "Objects/victim.c" and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(ctx, unit)

    monkeypatch.setattr(scan_module, "analyze_unit", die_in_a_worker)
    monkeypatch.setattr(scan_module, "_size", lambda path: 0 if path.name == "victim.c" else 1)  # not the first
    result = scan(str(tree), ScanOptions(jobs=2))
    assert codes(result) == {("Objects/victim.c", "worker-died")}
    assert "SIGKILL" in result.diagnostics[0].detail
    assert {g.name for g in result.globals} == {f"kept{i}" for i in range(5)}


def test_the_pool_replaces_dead_and_stuck_workers(monkeypatch):
    def work(item: int) -> str:
        if item == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        if item == 2:
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            time.sleep(60)
        return f"done {item}"

    def lost(item: int, why: Lost) -> str:
        return f"{why.code.slug} {item}"

    monkeypatch.setattr(pool_module, "GRACE", 0.5)
    results = sorted(Supervised(work, [0, 1, 2, 3, 4], 2, 0.5, lost).results())
    assert results == ["done 0", "done 3", "done 4", "unit-timeout 2", "worker-died 1"]


def test_every_renderer_takes_bytes_that_are_not_utf8(tmp_path):
    tree = tree_with(tmp_path, {"bad.c": HEADER.encode() + b'static char q[sizeof("\xff\xfe")];\n#error \xff bad\n'})
    (tree / "Programs").mkdir()
    (tree / "Programs" / os.fsdecode(b"caf\xe9.c")).write_bytes(b"#error \xe9\n")
    for format_ in ("text", "json", "tsv"):
        out, err = io.StringIO(), io.StringIO()
        assert main(["scan", str(tree), "--format", format_, "--no-cache"], stdout=out, stderr=err) == 3
        assert "internal error" not in err.getvalue()
        (out.getvalue() + err.getvalue()).encode("utf-8")       # all of it can be written out


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_the_inventory_reads_no_special_file(tmp_path, kind):
    tree = tree_with(tmp_path, {"ok.c": HEADER.encode() + b"static int kept;\n"})
    special = tree / "Include" / "special.h"
    os.mkfifo(special) if kind == "fifo" else special.mkdir()
    started = time.monotonic()
    assert scan(str(tree), ScanOptions(jobs=1)).failed_units == ()
    assert time.monotonic() - started < 30
