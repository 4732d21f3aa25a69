"""Trees and paths that are valid but odd: file names that are not UTF-8,
control characters from the sources, paths with spaces, colons and
non-ASCII letters, an ASCII-only standard output, an interrupted run.  Every
format renders, every command works, and what is written is valid UTF-8."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzer.cli import main
from tests.conftest import FIXTURES, make_tree
from tests.unit.test_cli import run
from tests.unit.test_patch import _patch_tree
from tests.unit.test_sources import git

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def odd_tree(tmp_path_factory) -> Path:
    """Programs/ holds a unit whose name is the byte 0xff (a type there
    spells the bytes 0xff 0xfe of a string) and one whose name holds a
    newline and 0xfe, with an escape character the parser refuses."""
    tree = make_tree(tmp_path_factory.mktemp("odd") / "tree", [FIXTURES / "macros.c"])
    programs = os.fsencode(tree / "Programs")
    os.mkdir(programs)
    with open(programs + b"/\xff.c", "wb") as handle:
        handle.write(b'static int counter;\nstatic const char tbl[sizeof("\xff\xfe")] = "";\n'
                     b"void bump(void) { counter++; }\n")
    with open(programs + b"/bad\n\xfe.c", "wb") as handle:
        handle.write(b"static int x\x1b[31m;\n")
    return tree


def strict_stream() -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")


def run_strict(*argv: str) -> tuple[int, str, str]:
    """main() writing to streams that refuse what is not UTF-8, as a
    terminal's would with a UTF-8 locale; what was written, decoded."""
    out, err = strict_stream(), strict_stream()
    status = main(list(argv), stdout=out, stderr=err)
    out.flush()
    err.flush()
    return status, out.buffer.getvalue().decode("utf-8"), err.buffer.getvalue().decode("utf-8")


BAD_UNIT = ("Programs/bad\\n\\udcfe.c:1:13: error: the preprocessed file could not be parsed as C: Illegal character "
            "'\\x1b' [CG903 parse-error]\n")


@pytest.mark.parametrize("fmt", ["text", "json", "tsv"])
def test_scan_renders_bytes_that_are_not_utf8(odd_tree, tmp_path, fmt):
    status, out, err = run_strict("scan", str(odd_tree), "--no-cache", "--format", fmt)
    assert (status, err) == (3, BAD_UNIT)
    if fmt == "json":
        document = json.loads(out)
        assert {g["file"] for g in document["globals"]} >= {"Programs/\udcff.c"}    # json escapes: lossless
        assert [d["file"][:12] for d in document["diagnostics"]] == ["Programs/bad"]
    else:
        assert "Programs/\\udcff.c" in out and "\udcff" not in out
    if fmt == "text":
        assert 'const char [sizeof("\\udcff\\udcfe")]' in out
    status, _, _ = run_strict("scan", str(odd_tree), "--no-cache", "--format", fmt, "-o", str(tmp_path / "out"))
    assert status == 3
    (tmp_path / "out").read_bytes().decode("utf-8")


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_check_renders_bytes_that_are_not_utf8(odd_tree, tmp_path, fmt):
    status, out, err = run_strict("check", str(odd_tree), "--no-cache", "--strict", "--format", fmt)
    assert (status, err) == (3, BAD_UNIT)
    if fmt in ("json", "sarif"):
        json.loads(out)
    else:
        assert "Programs/\\udcff.c" in out and "\udcff" not in out and "\x1b" not in out
    if fmt == "github":       # one annotation per problem: the unit's name keeps its newline escaped
        assert all(line.startswith("::") for line in out.splitlines())
    status, _, _ = run_strict("check", str(odd_tree), "--no-cache", "--format", fmt, "-o", str(tmp_path / "out"))
    assert status == 3
    (tmp_path / "out").read_bytes().decode("utf-8")


def test_report_baseline_and_races_render_bytes_that_are_not_utf8(odd_tree, tmp_path):
    status, out, err = run_strict("report", str(odd_tree), "--no-cache", "-o", str(tmp_path / "report"))
    assert (status, err) == (3, BAD_UNIT)
    for name in ("index.md", "index.html"):
        assert "Programs/\\udcff.c" in (tmp_path / "report" / name).read_bytes().decode("utf-8")
    status, _, err = run_strict("baseline", str(odd_tree), "--no-cache", "-o", str(tmp_path / "b.tsv"))
    assert (status, err) == (3, BAD_UNIT)
    assert "Programs/\\udcff.c\t-\tcounter\tinterpreter\t" in (tmp_path / "b.tsv").read_bytes().decode("utf-8")
    log = tmp_path / "tsan.1"
    log.write_bytes((FIXTURES.parent / "tsan" / "sample.log").read_bytes().replace(b"type_ready", b"type\x1b\xff"))
    status, out, err = run_strict("races", str(odd_tree), str(log), "--no-cache")
    assert (status, err) == (0, "") and "type\\x1b\ufffd" in out


@pytest.fixture(scope="module")
def odd_place(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("paths") / "a dir: ü"


def test_every_command_takes_paths_with_spaces_colons_and_non_ascii(odd_place):
    """The tree, -o, --baseline, --cache-dir, --races and the logs, all under
    `a dir: ü`; the tree a git checkout for --diff."""
    tree = _patch_tree(odd_place / "tree ü")
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "base")
    cache = ["--cache-dir", str(odd_place / "cache: é")]
    baseline = odd_place / "base line: é.tsv"
    assert run("baseline", str(tree), "-o", str(baseline), *cache) == (0, "", "")
    for fmt in ("text", "json", "github", "sarif"):
        status, _, err = run("check", str(tree), "--baseline", str(baseline), "--format", fmt,
                             "-o", str(odd_place / f"check: {fmt}"), *cache)
        assert (status, err) == (0, "")
    source = tree / "Objects" / "cache.c"
    source.write_text(source.read_text() + "static int added;\nvoid set_added(void) { added = 1; }\n")
    status, out, err = run("check", str(tree), "--baseline", str(baseline), "--diff", "HEAD", "--format", "json",
                           *cache)
    assert (status, err) == (1, "") and [f["name"] for f in json.loads(out)["new"]] == ["added"]
    document = json.loads(run("check", str(tree), "--baseline", str(baseline), "--format", "sarif", *cache)[1])
    assert document["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"].endswith("/a%20dir%3A%20%C3%BC/tree%20%C3%BC/")
    git(tree, "checkout", "-q", "--", ".")
    status, out, err = run("scan", str(tree), "--format", "tsv", "-o", str(odd_place / "scan: ü.tsv"), *cache)
    assert (status, out, err) == (0, "", "")
    status, out, err = run("report", str(tree), "-o", str(odd_place / "report: ü"), *cache)
    assert (status, err) == (0, "") and out == f"{odd_place / 'report: ü' / 'index.html'}\n"
    log = odd_place / "tsan: ü.1"
    log.write_text((FIXTURES.parent / "tsan" / "sample.log").read_text().replace("PyLong_Type", "threshold")
                   .replace("/tree/Objects/typeobject.c", f"{tree}/Objects/cache.c"))
    races = odd_place / "races: ü.json"
    status, _, err = run("races", str(tree), str(log), "--format", "json", "-o", str(races), *cache)
    assert (status, err) == (0, "") and json.loads(races.read_text())["attributed"] == 1
    series = odd_place.parent / "series:ü"       # no space on the way: see the next test
    status, out, err = run("patch", str(tree), "-o", str(series), "--races", str(races), *cache)
    assert (status, err) == (0, "") and out.startswith(f"2 patches in {series}: ")
    assert (series / "series").read_text().splitlines() == sorted(p.name for p in series.glob("*.patch"))


def test_a_series_written_where_the_path_has_a_space(odd_place):
    tree = _patch_tree(odd_place / "tree for a series")
    series = odd_place / "a series"
    status, out, err = run("patch", str(tree), "-o", str(series), "--no-cache")
    assert (status, err) == (0, "") and out.startswith(f"2 patches in {series}: ")
    assert (series / "series").read_text().splitlines() == sorted(p.name for p in series.glob("*.patch"))


def test_an_ascii_standard_output_gets_escapes_not_a_traceback(tmp_path):
    """PYTHONIOENCODING=ascii (or a Latin-1 locale): what it cannot encode is written escaped."""
    tree = make_tree(tmp_path / "tree", [FIXTURES / "empty.c"])
    (tree / "Objects" / "empty.c").write_text('static const char s[sizeof("é")] = "";\n')
    proc = subprocess.run([sys.executable, "-m", "analyzer", "scan", str(tree), "--no-cache", "--format", "text"],
                          capture_output=True, cwd=REPO, env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert b'const char [sizeof("\\xe9")]' in proc.stdout


def test_an_interrupted_scan_says_so_in_one_line_and_the_cache_stays_good(tmp_path):
    """Ctrl-C while worker processes analyze: the terminal's whole process
    group gets SIGINT; one line, status 130, no worker traceback; the next
    run with the same cache is whole."""
    sources = []
    for number in range(6):
        copy = tmp_path / "src" / f"unit{number}.c"
        copy.parent.mkdir(exist_ok=True)
        copy.write_text(_busy_unit(2000))
        sources.append(copy)
    tree = make_tree(tmp_path / "tree", sources)
    cache = tmp_path / "cache"
    argv = [sys.executable, "-m", "analyzer", "scan", str(tree), "--format", "tsv", "-j", "2",
            "--cache-dir", str(cache)]
    # A shell's background job (as CI may run this) starts with SIGINT ignored,
    # and Python then leaves it ignored: the scan must start as from a terminal.
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_interruptible)
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)              # until the pool's workers run
    assert proc.poll() is None, "the scan ended before it could be interrupted"
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.decode()) == (130, "cglobals: interrupted\n")
    whole = subprocess.run(argv, cwd=REPO, capture_output=True, timeout=300)
    fresh = subprocess.run([*argv[:-2], "--no-cache"], cwd=REPO, capture_output=True, timeout=300)
    assert (whole.returncode, whole.stderr) == (0, b"")
    assert whole.stdout == fresh.stdout and whole.stdout.count(b"\n") > 6


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _busy_unit(functions: int) -> str:
    """A unit big enough that a scan of six of them outlasts the time it
    takes to see the workers start (a second or two each here), so the
    interrupt always lands while they analyze."""
    parts = ["static int counter;"]
    for n in range(functions):
        parts.append(f"static int g{n};\n"
                     f"int f{n}(int x) {{ if (x) {{ g{n} = x + {n}; counter++; }} return g{n} * 2; }}")
    return "\n".join(parts) + "\n"


def _children(pid: int) -> list[str]:
    """The processes pid started (Linux: /proc/PID/task/*/children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += (task / "children").read_text().split()
        except OSError:
            continue
    return found
