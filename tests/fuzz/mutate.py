"""Seeded mutants of real units of a CPython tree, and the scan's contract on each.

A mutant is one change to a copy of a tree: the bytes of one unit (flips,
truncation, lines deleted or repeated, inserted tokens, K&R definitions, NUL
and bytes that are not UTF-8, CRLF, a 1 MB line, 10,000-deep nesting, a 50 MB
file, a body of 20,000 mutating calls), what is at the unit's path (a symlink
loop, a FIFO, a directory, a dangling symlink, a link to /dev/zero), or a
header it now includes (the same, plus #error, /dev/zero, /dev/stdin, and
<...> names with NUL, absolute paths and file/directory clashes).  Mutant n of
seed s is the same on every run: `python -m tests.fuzz.mutate` reruns one.

Every mutant must give (check_mutant): exit 0 or 3, no traceback, a JSON
document, a diagnostic naming the unit when the unit failed, nothing written
outside the tree's temporary directories, the time within the unit's limit
(plus start-up) and a peak RSS under MAX_RSS.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MAX_RSS = 2 << 30
"""Peak resident memory the scan (or any process it waited for) may reach."""
UNIT_TIMEOUT = 60.0
"""The scan's per-unit limit (its default); a mutant may take this plus SLACK."""
SLACK = 30.0

TOKENS = ("{", "}", "(", ")", ";", "static ", "\n#if\n", "\n#endif\n", "\n#define X(\n", "\\\n", "/*", '"',
          "'", "__attribute__((", "_Atomic ", "typedef ", "struct {", "\n#if 1\n", "\n#else\n", "[", "]", ",", "=",
          "*", "&", "#", "##", "\n#include\n", "\n#pragma once\n", "\n#line 0\n", "\n#line 99999999999\n")
KNR = (b"\nint fuzz_knr_decl(a);\n", b"\nint fuzz_knr_def(a, b) int a; char *b; { return a + *b; }\n",
       b"\nstatic int fuzz_knr_static(x) long x; { static int hits; hits++; return (int)x; }\n")
WEIRD_INCLUDES = (b"#include <str\0ing.h>", b"/*\n#include <a\0b.h>\n*/", b"#include <fuzz_a>\n#include <fuzz_a/b.h>",
                  b'#include "/dev/stdin"', b'#include "/dev/zero"', b"#include <../../../etc/passwd>",
                  b"#include <" + b"n" * 300 + b".h>", b"#include <fuzz\xff\xfe.h>", b"#include <>",
                  b"#include </dev/null/x.h>", b"#include <.>", b"#include <fuzz//x.h>")
HEADER = "fuzz_mutant.h"


@dataclass(frozen=True, slots=True)
class Mutant:
    seed: int
    index: int
    unit: str
    kind: str
    heavy: bool      # may run up to the unit timeout (a FIFO gcc waits on, a 50 MB file)


@dataclass
class Applied:
    """What a mutant changed, to undo it."""
    unit_path: Path
    original: bytes
    created: list[Path]


def _rng(seed: int, index: int) -> random.Random:
    return random.Random(f"{seed}:{index}")


def _offset(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _after_includes(data: bytes) -> int:
    """An offset just after the last #include line of the first 200 lines, or 0."""
    offset = best = 0
    for number, line in enumerate(_lines(data)):
        offset += len(line)
        if number > 200:
            break
        if line.lstrip().startswith(b"#include"):
            best = offset
    return best


def _body_offset(rng: random.Random, data: bytes) -> int:
    """An offset inside some function body (after a `{` that starts a line), or anywhere."""
    starts = [i + 2 for i in range(len(data) - 1) if data[i:i + 2] == b"\n{"]
    return rng.choice(starts) if starts else _offset(rng, data)


# Each mutation takes (rng, unit bytes, tree, unit path) and returns the new bytes
# (or None when it replaced the file itself), recording files it made.
Mutation = Callable[[random.Random, bytes, Path, Path, list[Path]], bytes | None]


def byte_flip(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    buf = bytearray(data or b"\n")
    for _ in range(rng.randint(1, 8)):
        buf[rng.randrange(len(buf))] = rng.randrange(256)
    return bytes(buf)


def truncate(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    return data[:_offset(rng, data)]


def delete_lines(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    lines = _lines(data)
    start = rng.randrange(len(lines))
    del lines[start:start + rng.randint(1, 20)]
    return b"".join(lines)


def duplicate_lines(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    lines = _lines(data)
    start = rng.randrange(len(lines))
    chosen = lines[start:start + rng.randint(1, 20)]
    return b"".join(lines[:start] + chosen * rng.randint(2, 4) + lines[start:])


def insert_tokens(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    for _ in range(rng.randint(1, 5)):
        at = _offset(rng, data)
        data = data[:at] + rng.choice(TOKENS).encode() + data[at:]
    return data


def knr(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    at = _after_includes(data)
    return data[:at] + rng.choice(KNR) + data[at:]


def nul_and_bad_utf8(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    for _ in range(rng.randint(1, 6)):
        at = _offset(rng, data)
        data = data[:at] + rng.choice((b"\0", b"\xff", b"\xc3", b"\xed\xa0\x80", b'"\xff\xfe"', b"\0\0\0",
                                       b"static char fuzz_bad[] = \"\xe9t\xe9\";\n")) + data[at:]
    return data


def crlf(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    return data.replace(b"\n", b"\r\n") if rng.random() < 0.7 else data.replace(b"\n", b"\r")


def long_line(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    megabyte = 1 << 20
    line = rng.choice((b'static const char fuzz_long[] = "' + b"a" * megabyte + b'";\n',
                       b"static int fuzz_sum = " + b"1+" * (megabyte // 2) + b"1;\n",
                       b"x" * megabyte + b"\n", b'"' + b"a" * megabyte + b"\n", b"'" + b"b" * megabyte + b"\n"))
    if rng.random() < 0.5:          # inside a body: a string the body's tokens and parser see
        at = _body_offset(rng, data)
        line = b'\n{ const char *fuzz_s = "' + b"c" * megabyte + b'"; (void)fuzz_s; }\n'
    else:
        at = _after_includes(data)
    return data[:at] + line + data[at:]


def deep_nesting(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    depth = 10_000
    opening, closing = rng.choice(((b"(", b")"), (b"{", b"}"), (b"[", b"]")))
    inner = opening * depth + b"1" + closing * depth
    if rng.random() < 0.5:
        at, text = _body_offset(rng, data), b"\nfuzz_deep = " + inner + b";\n"
    else:
        at, text = _after_includes(data), b"\nstatic int fuzz_deep = " + inner + b";\n"
    return data[:at] + text + data[at:]


def huge_file(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    chunk = b"static int fuzz_filler_%d(void) { return %d; }\n"
    lines = [chunk % (i, i) for i in range(4000)]
    block = b"".join(lines)
    return data + block * ((50 << 20) // len(block) + 1)


def mutating_calls(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    at = _after_includes(data)
    body = b"static PyTypeObject fuzz_type;\nint fuzz_ready(void) { return " + b"PyType_Ready(" * 20_000 + \
        b"&fuzz_type" + b")" * 20_000 + b"; }\n"
    return data[:at] + body + data[at:]


def weird_include(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
    line = rng.choice(WEIRD_INCLUDES + (b"#include <" + str(tree.parent / "fuzz-outside" / "x.h").encode() + b">",))
    if rng.random() < 0.5:      # in a file no unit includes: must change nothing but that file's inventory
        other = path.parent / "fuzz_unincluded.h"
        other.write_bytes(line + b"\n")
        made.append(other)
        return data
    at = _after_includes(data)
    return data[:at] + line + b"\n" + data[at:]


def _replace_with(kind: str, target: Path) -> None:
    if kind == "symlink-loop":
        target.symlink_to(target.name)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
        (target / "inner.c").write_bytes(b"int inner;\n")
    elif kind == "dangling":    # unreadable: root reads any mode, so a link to nothing stands for it
        target.symlink_to("fuzz-no-such-file")
    elif kind == "dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "error":
        target.write_bytes(b"#error fuzz: this header refuses\n")
    else:
        raise ValueError(kind)


def special_unit(kind: str) -> Mutation:
    def mutate(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> None:
        path.unlink()
        _replace_with(kind, path)
    mutate.__name__ = f"unit_{kind}"
    return mutate


def special_header(kind: str) -> Mutation:
    def mutate(rng: random.Random, data: bytes, tree: Path, path: Path, made: list[Path]) -> bytes:
        header = path.parent / HEADER
        _replace_with(kind, header)
        made.append(header)
        at = _after_includes(data)
        return data[:at] + f'#include "{HEADER}"\n'.encode() + data[at:]
    mutate.__name__ = f"header_{kind}"
    return mutate


SPECIAL = ("symlink-loop", "fifo", "directory", "dangling", "dev-zero")
# (mutation, weight, heavy)
MUTATIONS: tuple[tuple[Mutation, int, bool], ...] = (
    (byte_flip, 12, False), (truncate, 8, False), (delete_lines, 8, False), (duplicate_lines, 6, False),
    (insert_tokens, 12, False), (knr, 4, False), (nul_and_bad_utf8, 6, False), (crlf, 3, False),
    (long_line, 3, False), (deep_nesting, 3, False), (mutating_calls, 2, False), (weird_include, 6, False),
    (huge_file, 1, True),
    *((special_unit(kind), 1, False) for kind in SPECIAL),
    *((special_header(kind), 1, kind == "fifo") for kind in (*SPECIAL, "error")),
)


def plan(seed: int, count: int, units: list[str], light: bool = False) -> list[Mutant]:
    """`count` mutants of seed `seed` over these units (light: no heavy ones)."""
    choices = [(m, w, h) for m, w, h in MUTATIONS if not (light and h)]
    weights = [w for _, w, _ in choices]
    mutants = []
    for index in range(count):
        rng = _rng(seed, index)
        mutation, _, heavy = rng.choices(choices, weights)[0]
        mutants.append(Mutant(seed=seed, index=index, unit=rng.choice(units), kind=mutation.__name__,
                              heavy=heavy))
    return mutants


_BY_NAME = {m.__name__: m for m, _, _ in MUTATIONS}


def apply(mutant: Mutant, tree: Path) -> Applied:
    path = tree / mutant.unit
    original = path.read_bytes()
    made: list[Path] = []
    rng = random.Random(f"{mutant.seed}:{mutant.index}:apply")
    new = _BY_NAME[mutant.kind](rng, original, tree, path, made)
    if new is not None:
        path.write_bytes(new)
    return Applied(unit_path=path, original=original, created=made)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def restore(applied: Applied) -> None:
    for path in applied.created:
        _remove(path)
    _remove(applied.unit_path)
    applied.unit_path.write_bytes(applied.original)


def pick_units(tree: Path, count: int = 30, seed: int = 0, max_bytes: int = 120_000) -> list[str]:
    """`count` units of the tree (sources under max_bytes, for speed), the same for a seed."""
    from analyzer.frontend.checkout import find_tree
    from analyzer.scan.discovery import list_units
    units = [u.path for u in list_units(find_tree(str(tree)))
             if u.path.endswith(".c") and (tree / u.path).stat().st_size <= max_bytes]
    return sorted(random.Random(seed).sample(sorted(units), min(count, len(units))))


@dataclass(frozen=True, slots=True)
class Outcome:
    mutant: Mutant
    problems: tuple[str, ...]
    seconds: float
    max_rss: int
    status: int | None


def run_scan(argv: list[str], timeout: float) -> tuple[int | None, str, float, int]:
    """`cglobals ARGV` in a forked child of this (single-threaded) process, so
    the analyzer is imported once: (exit status, or None when it was killed at
    the wall-clock limit; stderr; seconds; peak RSS in bytes of it and what it
    waited for, gcc included)."""
    started = time.monotonic()
    # stdin is a pipe that never ends, as a terminal would be: a gcc that reads it waits forever.
    stdin_read, stdin_write = os.pipe()
    with tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:         # the child: its own session, so the parent can kill it and its gcc at once
            code = 99
            try:
                os.setsid()
                os.close(stdin_write)
                os.dup2(stdin_read, 0)
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 1)
                os.dup2(err.fileno(), 2)
                from analyzer.cli import main as cglobals
                with open(1, "w", closefd=False) as out, open(2, "w", closefd=False) as error:
                    code = cglobals(argv, stdout=out, stderr=error)
            except BaseException:
                import traceback
                with open(2, "w", closefd=False) as error:
                    traceback.print_exc(file=error)
            finally:
                os._exit(code)
        status: int | None = None
        deadline = started + timeout
        while True:
            done, code, usage = os.wait4(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(code)
                break
            if time.monotonic() > deadline:
                try:
                    os.killpg(pid, 9)
                except ProcessLookupError:
                    pass
                _, code, usage = os.wait4(pid, 0)
                break
            time.sleep(0.01)
        os.close(stdin_read)
        os.close(stdin_write)
        err.seek(0)
        stderr = err.read(1 << 20).decode("utf-8", "replace")
    return status, stderr, time.monotonic() - started, usage.ru_maxrss * 1024


def check_mutant(mutant: Mutant, tree: Path, work: Path, unit_timeout: float = UNIT_TIMEOUT,
                 timeout_option: bool = True) -> Outcome:
    """Apply the mutant, scan its unit, check the contract, restore the tree."""
    out = work / "out.json"
    out.unlink(missing_ok=True)
    outside = tree.parent / "fuzz-outside"
    extra = ("--unit-timeout", f"{unit_timeout:g}") if timeout_option else ()
    argv = ["scan", str(tree), "--only", mutant.unit, "--cache-dir", str(work / "cache"), "-j", "1", *extra]
    applied = apply(mutant, tree)
    try:
        status, stderr, seconds, rss = run_scan([*argv, "--format", "json", "-o", str(out)], unit_timeout + SLACK)
        problems = _problems(mutant, status, stderr, out, seconds, rss, unit_timeout)
        if mutant.kind in ("byte_flip", "nul_and_bad_utf8") and not problems:
            # every renderer must take what the tree gave: the text table too
            text_status, text_err, _, _ = run_scan([*argv, "--format", "text", "-o", str(work / "out.txt")],
                                                   unit_timeout + SLACK)
            if text_status not in (0, 3) or "Traceback" in text_err or "internal error" in text_err:
                problems += (f"--format text: exit {text_status}: {_tail(text_err)}",)
    finally:
        restore(applied)
    if outside.exists():
        problems += (f"the scan wrote outside the tree: {outside}",)
        shutil.rmtree(outside, ignore_errors=True)
    return Outcome(mutant=mutant, problems=problems, seconds=seconds, max_rss=rss, status=status)


def _tail(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:300] if lines else ""


def _problems(mutant: Mutant, status: int | None, stderr: str, out: Path, seconds: float, rss: int,
              unit_timeout: float) -> tuple[str, ...]:
    problems = []
    if status is None:
        problems.append(f"hung: killed after {seconds:.0f} s")
    elif status not in (0, 3):
        problems.append(f"exit {status}: {_tail(stderr)}")
    if "Traceback" in stderr:
        problems.append("a traceback on stderr")
    if seconds > unit_timeout + SLACK:
        problems.append(f"took {seconds:.0f} s")
    if rss > MAX_RSS:
        problems.append(f"peak RSS {rss >> 20} MiB")
    if status in (0, 3):
        try:
            document = json.loads(out.read_bytes())
        except (OSError, ValueError) as exc:
            problems.append(f"no JSON document: {exc}")
        else:
            failed = document.get("failed_units", [])
            named = {d.get("unit") or d.get("file") for d in document.get("diagnostics", [])}
            if mutant.unit in failed and mutant.unit not in named:
                problems.append("the unit failed without a diagnostic naming it")
            if (status == 3) != bool(failed):
                problems.append(f"exit {status} with failed units {failed}")
    return tuple(problems)


def describe(outcome: Outcome) -> str:
    m = outcome.mutant
    return (f"mutant seed={m.seed} index={m.index} kind={m.kind} unit={m.unit}: " + "; ".join(outcome.problems)
            + f" (rerun: python -m tests.fuzz.mutate TREE --seed {m.seed} --index {m.index})")


def copy_tree(source: Path, parent: Path) -> Path:
    """A private copy of the tree under a directory whose name holds a colon
    (gcc's diagnostics are parsed with such paths)."""
    target = parent / "tree:copy" / source.name
    shutil.copytree(source, target, symlinks=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", help="a pristine CPython tree (copied; never changed)")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--index", type=int, help="run only this mutant")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--units", type=int, default=30)
    parser.add_argument("--unit-timeout", type=float, default=UNIT_TIMEOUT)
    parser.add_argument("--no-timeout-option", action="store_true",
                        help="do not pass --unit-timeout (a cglobals that predates it)")
    parser.add_argument("--log", help="append one JSON line per mutant here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cglobals-fuzz-") as scratch:
        outcomes = fuzz(Path(args.tree), Path(scratch), args.seed, args.count, args.jobs, args.units,
                        args.unit_timeout, not args.no_timeout_option, args.index, args.log)
    failures = [o for o in outcomes if o.problems]
    for outcome in failures:
        print(describe(outcome))
    kinds: dict[str, int] = {}
    for outcome in failures:
        kinds[outcome.mutant.kind] = kinds.get(outcome.mutant.kind, 0) + 1
    slowest = max((o.seconds for o in outcomes), default=0.0)
    biggest = max((o.max_rss for o in outcomes), default=0)
    print(f"{len(outcomes)} mutants (seed {args.seed}), {len(failures)} failed {kinds}; "
          f"slowest {slowest:.1f} s, peak RSS {biggest >> 20} MiB")
    return 1 if failures else 0


def fuzz(source: Path, scratch: Path, seed: int, count: int, jobs: int, unit_count: int, unit_timeout: float,
         timeout_option: bool = True, only: int | None = None, log: str | None = None,
         light: bool = False) -> list[Outcome]:
    """Run `count` mutants in `jobs` private tree copies; their outcomes."""
    units = pick_units(source, unit_count, seed)
    mutants = plan(seed, count if only is None else only + 1, units, light)
    if only is not None:
        mutants = mutants[only:]
    jobs = max(1, min(jobs, len(mutants)))
    arguments = [(number, scratch, source, mutants[number::jobs], unit_timeout, timeout_option, log)
                 for number in range(jobs)]
    # Forked before any thread, one process per tree copy; each forks a child per mutant.
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        outcomes = [o for part in pool.map(_run_part, arguments, chunksize=1) for o in part]
    return sorted(outcomes, key=lambda o: o.mutant.index)


def _run_part(arguments: tuple[int, Path, Path, list[Mutant], float, bool, str | None]) -> list[Outcome]:
    number, scratch, source, mutants, unit_timeout, timeout_option, log = arguments
    work = scratch / f"w{number}"
    work.mkdir()
    tree = copy_tree(source, work)
    import analyzer.cli  # noqa: F401  (imported once, before the children fork)
    outcomes = []
    for mutant in mutants:
        outcome = check_mutant(mutant, tree, work, unit_timeout, timeout_option)
        outcomes.append(outcome)
        if log:
            with open(log, "a") as handle:
                handle.write(json.dumps({"seed": mutant.seed, "index": mutant.index, "kind": mutant.kind,
                                         "unit": mutant.unit, "status": outcome.status,
                                         "seconds": round(outcome.seconds, 2), "rss_mib": outcome.max_rss >> 20,
                                         "problems": list(outcome.problems)}) + "\n")
    return outcomes


if __name__ == "__main__":
    sys.exit(main())
