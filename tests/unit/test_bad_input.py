"""Bad input to every command: one line on stderr naming what is wrong (or
one line per diagnostic), exit 2 (3 for partial results), never a traceback
or an internal error, and nothing analyzed in vain."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, make_tree
from tests.unit.test_cli import run
from tests.unit.test_patch import _patch_tree

SAMPLE_LOG = FIXTURES.parent / "tsan" / "sample.log"
HEADER = "schema_version\t1\nfile\tfunc\tname\tclass\treason\n"
DIAGNOSTIC_RE = re.compile(r"^\S.*:\d+:\d+: (error|warning): .* \[CG\d{3} [a-z-]+\]$")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, str]:
    """Paths the table's rows name, under a directory with a space, a colon
    and non-ASCII letters in its name."""
    base = tmp_path_factory.mktemp("bad") / "in put: ü"
    tree = make_tree(base / "tree", [FIXTURES / "classes.c", FIXTURES / "macros.c"])
    paths = {"base": base, "tree": tree, "patch_tree": _patch_tree(base / "patch tree")}
    paths["file"] = base / "a file"
    paths["file"].write_text("text\n")
    paths["empty"] = base / "empty"
    paths["empty"].mkdir()
    unreadable = paths["unreadable"] = make_tree(base / "unreadable", [FIXTURES / "macros.c"])
    (unreadable / "Makefile.pre.in").unlink()
    (unreadable / "Makefile.pre.in").symlink_to("/proc/self/mem")   # a read fails (EIO), even for root
    make_dir = paths["make_dir"] = make_tree(base / "make dir", [FIXTURES / "macros.c"])
    (make_dir / "Makefile.pre.in").unlink()
    (make_dir / "Makefile.pre.in").mkdir()
    no_version = paths["no_version"] = make_tree(base / "no version", [FIXTURES / "macros.c"])
    (no_version / "Include" / "patchlevel.h").write_text("#define PY_MAJOR_VERSION 3\n")
    latin1 = paths["latin1_patch_tree"] = _patch_tree(base / "latin-1 patch tree")
    cache = latin1 / "Objects" / "cache.c"
    cache.write_bytes(b"/* caf\xe9 */\n" + cache.read_bytes())
    for name, data in {
        "binary.tsv": b"\x7fELF\x02\x01\x01\0\0\0\n",
        "nul.tsv": HEADER.encode() + b"Objects/a\0.c\t-\tx\truntime\t\n",
        "latin1.tsv": HEADER.encode() + b"Objects/a.c\t-\tx\truntime\tcaf\xe9\n",
        "class.tsv": HEADER.encode() + b"Objects/a.c\t-\tx\tfrozen\t\n",
        "endless.tsv": HEADER.encode() + b"x" * (2 << 20),
        "races.json": b'{"races": [{"count": "2"}]}',
        "syntax.json": b'{"races": [\n,]}',
        "garbage.log": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "corrupt.log": b"==================\nWARNING: ThreadSanitizer: data race (pid=1)\n"
                       b"  Write of size 4 at 0x7f00 by thread T1:\n    #0 f x.c:1 (python+0xZZ)\n",
    }.items():
        paths[name.replace(".", "_")] = base / name
        (base / name).write_bytes(data)
    paths["good_log"] = base / "tsan good.log"
    shutil.copyfile(SAMPLE_LOG, paths["good_log"])
    return {key: str(path) for key, path in paths.items()}


NOT_A_TREE = "{empty}: not a CPython source tree (no Include/patchlevel.h or Makefile.pre.in)"
ROWS = [
    # scan: the tree
    ("scan", ["scan", "{base}/nope"], 2, "{base}/nope: no such directory"),
    ("scan", ["scan", "{file}"], 2, "{file}: not a directory"),
    ("scan", ["scan", "{empty}"], 2, NOT_A_TREE),
    ("scan", ["scan", "{unreadable}"], 2, "{unreadable}/Makefile.pre.in: cannot read it: Input/output error"),
    ("scan", ["scan", "{make_dir}"], 2, "{make_dir}: not a CPython source tree (no Makefile.pre.in)"),
    ("scan", ["scan", "{no_version}"], 2, "{no_version}/Include/patchlevel.h: no PY_VERSION"),
    # scan: options
    ("scan", ["scan", "{tree}", "-o", "{base}/nope/out.txt"], 2,
     "{base}/nope/out.txt: no such directory {base}/nope"),
    ("scan", ["scan", "{tree}", "-o", "{empty}"], 2, "{empty}: is a directory, not a file"),
    ("scan", ["scan", "{tree}", "-o", "{file}/out.txt"], 2, "{file}/out.txt: {file} is not a directory"),
    ("scan", ["scan", "{tree}", "-o", "/proc/version"], 2, "/proc/version: cannot write it: Input/output error"),
    ("scan", ["scan", "{tree}", "--cache-dir", "{file}"], 2, "{file}: not a directory (the cache directory)"),
    ("scan", ["scan", "{tree}", "--cache-dir", "{file}/cache"], 2,
     "{file}/cache: cannot write in the cache directory: Not a directory"),
    ("scan", ["scan", "{tree}", "--only", "Objects/macros.c", "Objects/nothing.c", "macros.c"], 2,
     "no translation unit of {tree} is Objects/nothing.c, macros.c (a unit is a tree-relative path of a .c file the "
     "default build compiles)"),
    ("scan", ["scan", "{tree}", "-j", "0"], 2, "argument -j/--jobs: must be 1 or more, not 0"),
    ("scan", ["scan", "{tree}", "-j", "-2"], 2, "argument -j/--jobs: must be 1 or more, not -2"),
    ("scan", ["scan", "{tree}", "-j", "two"], 2, "argument -j/--jobs: not a number: 'two'"),
    ("scan", ["scan", ""], 2, "argument tree: an empty string"),
    ("scan", ["scan", "{tree}", "--cache-dir", ""], 2, "argument --cache-dir: an empty string"),
    ("scan", ["scan", "{tree}", "--format", "xml"], 2,
     "argument --format: invalid choice: 'xml' (choose from 'json', 'text', 'tsv')"),
    # report
    ("report", ["report", "{empty}", "-o", "{base}/report"], 2, NOT_A_TREE),
    ("report", ["report", "{tree}", "--compare", "{empty}", "-o", "{base}/report"], 2, NOT_A_TREE),
    ("report", ["report", "{tree}", "--compare", "{file}", "-o", "{base}/report"], 2, "{file}: not a directory"),
    ("report", ["report", "{tree}", "-o", "{file}"], 2, "{file}: not a directory"),
    ("report", ["report", "{tree}", "-o", "{file}/sub/report"], 2, "{file}/sub/report: {file} is not a directory"),
    ("report", ["report", "{tree}"], 2, "the following arguments are required: -o/--output"),
    ("report", ["report", "{tree}", "-o", ""], 2, "argument -o/--output: an empty string"),
    ("report", ["report", "{tree}", "-o", "{base}/report", "-j", "0"], 2,
     "argument -j/--jobs: must be 1 or more, not 0"),
    # baseline
    ("baseline", ["baseline", "{tree}", "-o", "{empty}"], 2, "{empty}: is a directory, not a file"),
    ("baseline", ["baseline", "{tree}", "-o", "{base}/nope/b.tsv"], 2,
     "{base}/nope/b.tsv: no such directory {base}/nope"),
    ("baseline", ["baseline", "{tree}", "-o", "{base}/b.tsv", "--except", "{binary_tsv}"], 2,
     "{binary_tsv}:1: a NUL byte at column 8: a binary file, not a baseline"),
    ("baseline", ["baseline", "{tree}", "-o", "{base}/b.tsv", "--except", "{base}/nope.tsv"], 2,
     "{base}/nope.tsv: cannot read the baseline: No such file or directory"),
    ("baseline", ["baseline", "{file}", "-o", "{base}/b.tsv"], 2, "{file}: not a directory"),
    # check: baselines
    ("check", ["check", "{tree}", "--baseline", "{binary_tsv}"], 2,
     "{binary_tsv}:1: a NUL byte at column 8: a binary file, not a baseline"),
    ("check", ["check", "{tree}", "--baseline", "{nul_tsv}"], 2,
     "{nul_tsv}:3: a NUL byte at column 10: a binary file, not a baseline"),
    ("check", ["check", "{tree}", "--baseline", "{latin1_tsv}"], 2,
     "{latin1_tsv}:3: byte 0xe9 at column 28 is not UTF-8 text"),
    ("check", ["check", "{tree}", "--baseline", "{class_tsv}"], 2,
     "{class_tsv}:3: unknown class 'frozen' (runtime, interpreter, immutable)"),
    ("check", ["check", "{tree}", "--baseline", "{endless_tsv}"], 2,
     "{endless_tsv}:3: a line longer than 1048576 bytes: not a baseline"),
    ("check", ["check", "{tree}", "--baseline", "{empty}"], 2, "{empty}: cannot read the baseline: Is a directory"),
    ("check", ["check", "{tree}", "--baseline", "{base}/nope.tsv"], 2,
     "{base}/nope.tsv: cannot read the baseline: No such file or directory"),
    # check: the rest
    ("check", ["check", "{tree}", "--diff", "HEAD"], 2,
     "{tree} is not a git checkout (--diff compares one with a commit)"),
    ("check", ["check", "{tree}", "--diff=--output=x"], 2, "'--output=x' is not a revision"),
    ("check", ["check", "{tree}", "--diff="], 2, "argument --diff: an empty string"),
    ("check", ["check", "{tree}", "--baseline", ""], 2, "argument --baseline: an empty string"),
    ("check", ["check", "{tree}", "-o", "{empty}"], 2, "{empty}: is a directory, not a file"),
    ("check", ["check", "{tree}", "--format", "html"], 2,
     "argument --format: invalid choice: 'html' (choose from 'text', 'json', 'github', 'sarif')"),
    ("check", ["check", "{empty}", "--baseline", "{binary_tsv}"], 2, NOT_A_TREE),
    # patch
    ("patch", ["patch", "{tree}", "-o", "{base}/series"], 2,
     "{tree}: no Include/internal/pycore_interp.h, Include/internal/pycore_runtime.h, "
     "Include/internal/pycore_runtime_init.h, Python/pystate.c: not a tree `cglobals patch` can edit (the series "
     "hangs its state off these)"),
    ("patch", ["patch", "{patch_tree}", "-o", "{file}"], 2, "{file}: not a directory"),
    ("patch", ["patch", "{patch_tree}", "-o", "{base}/series", "--races", "{base}/nope.json"], 2,
     "{base}/nope.json: cannot read the races: No such file or directory"),
    ("patch", ["patch", "{patch_tree}", "-o", "{base}/series", "--races", "{races_json}"], 2,
     "{races_json}: not a `cglobals races --format json` document (no races[0].global)"),
    ("patch", ["patch", "{patch_tree}", "-o", "{base}/series", "--races", "{syntax_json}"], 2,
     "{syntax_json}:2: not a `cglobals races --format json` document (Expecting value)"),
    ("patch", ["patch", "{patch_tree}", "-o", "{base}/series", "--races", "{garbage_log}"], 2,
     "{garbage_log}: not a `cglobals races --format json` document (not UTF-8: invalid start byte at byte 0)"),
    ("patch", ["patch", "{latin1_patch_tree}", "-o", "{base}/series"], 2,
     "{latin1_patch_tree}/Objects/cache.c: not UTF-8 text (byte 0xe9 at offset 6): `cglobals patch` edits UTF-8 "
     "sources only"),
    # races
    ("races", ["races", "{tree}", "{base}/nope.log"], 2, "{base}/nope.log: No such file or directory"),
    ("races", ["races", "{tree}", "{garbage_log}", "{empty}"], 2,
     "{garbage_log}: not a ThreadSanitizer log (no report in it)\ncglobals: error: {empty}: Is a directory"),
    ("races", ["races", "{tree}", "{good_log}", "{garbage_log}"], 3,
     "{garbage_log}: not a ThreadSanitizer log (no report in it)"),
    ("races", ["races", "{tree}", "{corrupt_log}"], 2,
     "{corrupt_log}: not a ThreadSanitizer log that can be read (invalid literal for int() with base 16: '0xZZ')"),
    ("races", ["races", "{tree}", "{corrupt_log}", "{good_log}"], 3,
     "{corrupt_log}: not a ThreadSanitizer log that can be read (invalid literal for int() with base 16: '0xZZ')"),
    ("races", ["races", "{tree}", "{good_log}", "-o", "{base}/nope/races.txt"], 2,
     "{base}/nope/races.txt: no such directory {base}/nope"),
    ("races", ["races", "{file}", "{good_log}"], 2, "{file}: not a directory"),
    ("races", ["races", "{tree}"], 2, "the following arguments are required: LOG"),
    ("races", ["races", "{tree}", "{good_log}", ""], 2, "argument LOG: an empty string"),
    # rules, fetch, no command
    ("rules", ["rules", "extra"], 2, "unrecognized arguments: extra"),
    ("fetch", ["fetch", "3.13.5", "{file}"], 2, "{file}: not a directory"),
    ("fetch", ["fetch", "3.13.5", "{file}/sub"], 2, "{file}/sub: {file} is not a directory"),
    ("none", [], 2, "the following arguments are required: command"),
]


def assert_one_line_per_problem(status: int, err: str) -> None:
    assert status in (2, 3)
    assert "Traceback" not in err and "internal error" not in err
    assert err.endswith("\n")
    for line in err.splitlines():
        assert line.startswith("cglobals: error: ") or DIAGNOSTIC_RE.match(line), line


@pytest.mark.parametrize(("command", "argv", "status", "message"), ROWS,
                         ids=[f"{row[0]}-{n}" for n, row in enumerate(ROWS)])
def test_bad_input_is_one_line_and_a_status(world, command, argv, status, message):
    argv = [arg.format(**world) for arg in argv]
    if command in ("scan", "report", "baseline", "check", "patch", "races"):
        argv.append("--no-cache") if "--cache-dir" not in argv else None
    code, out, err = run(*argv)
    assert_one_line_per_problem(code, err)
    assert (code, err) == (status, "cglobals: error: " + message.format(**world) + "\n")
    if status == 2:
        assert out == ""


def test_the_table_covers_every_command():
    from analyzer.cli import _build_parser
    commands = next(a for a in _build_parser()._actions if a.dest == "command").choices
    assert set(commands) <= {row[0] for row in ROWS}


def test_an_output_that_cannot_be_written(world, tmp_path, monkeypatch):
    """Found before the scan when the directory says so; said in one line
    when the write itself fails (a full disk, a read-only file system)."""
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: str(path) != str(tmp_path) and real_access(path, mode))
    code, out, err = run("scan", world["tree"], "--no-cache", "-o", str(tmp_path / "out.txt"))
    assert (code, out, err) == (2, "", f"cglobals: error: {tmp_path / 'out.txt'}: not writable\n")
    code, _, err = run("report", world["tree"], "--no-cache", "-o", str(tmp_path / "report"))
    assert (code, err) == (2, f"cglobals: error: {tmp_path / 'report'}: {tmp_path} is not writable\n")
    monkeypatch.undo()

    def full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Path, "write_text", full)
    monkeypatch.setattr(Path, "write_bytes", full)
    code, _, err = run("baseline", world["tree"], "--no-cache", "-o", str(tmp_path / "b.tsv"))
    assert (code, err) == (2, f"cglobals: error: {tmp_path / 'b.tsv'}: cannot write it: No space left on device\n")
    code, _, err = run("report", world["tree"], "--no-cache", "-o", str(tmp_path / "report"))
    assert (code, err) == (2, f"cglobals: error: {tmp_path / 'report' / 'index.html'}: cannot write it: No space left "
                              "on device\n")


def test_a_cache_directory_that_cannot_be_written(world, tmp_path, monkeypatch):
    from analyzer.scan import engine

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(engine.tempfile, "mkstemp", refused)
    code, out, err = run("scan", world["tree"], "--cache-dir", str(tmp_path / "cache"))
    assert (code, out, err) == (2, "", f"cglobals: error: {tmp_path / 'cache'}: cannot write in the cache directory: "
                                       "Permission denied\n")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only directory")
def test_read_only_directories(world, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    code, _, err = run("scan", world["tree"], "--no-cache", "-o", str(locked / "out.txt"))
    assert (code, err) == (2, f"cglobals: error: {locked / 'out.txt'}: not writable\n")
    code, _, err = run("scan", world["tree"], "--cache-dir", str(locked / "cache"))
    assert (code, err) == (2, f"cglobals: error: {locked / 'cache'}: cannot write in the cache directory: "
                              "Permission denied\n")


def test_a_path_with_a_newline_is_still_one_line(tmp_path):
    odd = tmp_path / "two\nlines"
    code, _, err = run("scan", str(odd))
    assert (code, err) == (2, f"cglobals: error: {tmp_path}/two\\nlines: no such directory\n")


def test_nothing_is_analyzed_before_the_inputs_are_known_good(world, monkeypatch):
    """A bad --compare tree, output, log or races document is found before
    the first tree is scanned (minutes on a real tree)."""
    import analyzer.cli
    import analyzer.jobs

    def no_scan(*args, **kwargs):
        raise AssertionError("scanned")
    monkeypatch.setattr(analyzer.cli, "scan", no_scan)
    monkeypatch.setattr(analyzer.jobs, "scan", no_scan)
    for argv in (["report", world["tree"], "--compare", world["empty"], "-o", world["base"] + "/r"],
                 ["report", world["tree"], "-o", world["file"]],
                 ["scan", world["tree"], "-o", world["empty"]],
                 ["baseline", world["tree"], "-o", world["empty"]],
                 ["check", world["tree"], "--baseline", world["binary_tsv"]],
                 ["check", world["tree"], "-o", world["empty"]],
                 ["patch", world["patch_tree"], "-o", world["file"]],
                 ["patch", world["patch_tree"], "-o", world["base"] + "/s", "--races", world["races_json"]],
                 ["races", world["tree"], world["garbage_log"]],
                 ["races", world["tree"], world["good_log"], "-o", world["empty"]]):
        code, _, err = run(*argv, "--no-cache")
        assert code == 2 and err.count("\n") == 1 and err.startswith("cglobals: error: "), (argv, err)


def test_races_that_name_no_tree_file_are_not_guarded(world, tmp_path):
    """A frame outside the tree (libc, an absolute path, ..) names nothing a patch may edit."""
    document = {"races": [{"count": 1, "member": None, "global": {"name": "threshold"}, "accesses": [
        {"kind": "write", "size": 4, "frames": [{"function": "f", "file": path, "line": 1, "object": "python"}]}
        for path in ("/etc/passwd", "../../etc/passwd", "Objects/../../x.c")]}]}
    races = tmp_path / "races.json"
    races.write_text(json.dumps(document))
    code, out, err = run("patch", world["patch_tree"], "-o", str(tmp_path / "series"), "--races", str(races),
                         "--no-cache")
    assert (code, err) == (0, "") and "0 racing statements guarded" in out
    assert "passwd" not in (tmp_path / "series" / "README.md").read_text()
