"""Run the C preprocessor on one translation unit, under our stand-in headers.

gcc runs with -undef -nostdinc: the host's headers and predefined macros never
enter the analysis.  System headers (<...> includes the tree does not provide)
resolve to stand-ins that include stubs/include/_cglobals_libc.h; headers the
build generates (frozen modules) resolve to empty stand-ins when the tree is
unbuilt; the tree's pyconfig.h is used when it is configured, our Linux
profile otherwise.
"""
from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .. import codes
from ..codes import Code
from ..cpython.layout import SOURCE_DIRECTORIES
from ..model import Diagnostic, SourceUnit, Tree

_STUBS = Path(str(resources.files("analyzer") / "stubs"))
STUB_INCLUDE = _STUBS / "include"
PROFILE_DIR = _STUBS / "profile"
PREDEF = STUB_INCLUDE / "_cglobals_predef.h"

# gcc's "FILE:LINE:COL: error: MESSAGE": FILE may hold colons (a tree under
# /tmp/a:b), so it is the shortest prefix that the rest of the form follows.
_MISSING_RE = re.compile(
    r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): fatal error: (?P<hdr>[^\n]+?): No such file or directory$",
    re.M)
_ERROR_RE = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?:(?P<col>\d+):)? (?:fatal )?error: (?P<msg>.*)$", re.M)


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """Everything preprocessing needs that is shared by all units of a tree."""
    tree: Tree
    overlay: str          # directory with generated stand-ins for this tree
    config_dir: str       # directory holding the pyconfig.h to use


@dataclass(frozen=True, slots=True, kw_only=True)
class Preprocessed:
    unit: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PreprocessFailure:
    unit: str
    diagnostic: Diagnostic


def prepare_environment(tree: Tree, generated: tuple[str, ...], system_includes: frozenset[str],
                        work_dir: str) -> Environment:
    """Write the overlay of stand-in headers this tree needs into work_dir
    (and nowhere else: a name that would leave it gets no stand-in)."""
    root = Path(tree.root)
    overlay = Path(work_dir) / "overlay"
    system = overlay / "system"
    for name in standin_names(system_includes):
        if not _provided_by_stubs(name):
            _write_standin(system, name, '#include "_cglobals_libc.h"\n')
    for header in generated:
        if _safe_relative(header):
            _write_standin(overlay / "generated", header,
                           "/* cglobals: stand-in for a header the build generates */\n")
    # Anchors for includes like "../Python/x.h" from a unit's directory: gcc
    # ignores include directories that do not exist.
    for directory in SOURCE_DIRECTORIES:
        for sub in (root / directory).rglob("*"):
            if sub.is_dir():
                with contextlib.suppress(OSError):
                    (overlay / "generated" / sub.relative_to(root)).mkdir(parents=True, exist_ok=True)
        (overlay / "generated" / directory).mkdir(parents=True, exist_ok=True)
    config_dir = tree.root if tree.configured else str(PROFILE_DIR)
    return Environment(tree=tree, overlay=str(overlay), config_dir=config_dir)


def standin_names(system_includes: frozenset[str]) -> tuple[str, ...]:
    """The <...> include names that can have a stand-in: relative paths that
    stay below the stand-in directory (no `..`, not absolute, no NUL, no part
    longer than a file name may be), and not the directory of another name
    (<a> beside <a/b.h>: a file and a directory cannot share a path).  A unit
    that includes one of the others gets gcc's missing-header diagnostic."""
    names = {name for name in system_includes if _safe_relative(name)}
    directories = {name.rsplit("/", i)[0] for name in names for i in range(1, name.count("/") + 1)}
    return tuple(sorted(names - directories))


def _safe_relative(name: str) -> bool:
    parts = name.split("/")
    return (0 < len(name) <= 1024 and "\0" not in name and not name.startswith("/")
            and all(part not in ("", ".", "..") and len(part.encode("utf-8", "surrogateescape")) <= 255
                    for part in parts))


def _provided_by_stubs(name: str) -> bool:
    try:
        return (STUB_INCLUDE / name).exists()
    except (OSError, ValueError):
        return False


def _write_standin(base: Path, name: str, text: str) -> None:
    """Write base/name (a safe relative name), first removing what an earlier
    run left in its way (a stand-in file where a directory is now needed, or
    the reverse); on any error the name simply has no stand-in."""
    path = base / name
    try:
        for parent in reversed(path.relative_to(base).parents[:-1]):
            blocking = base / parent
            if blocking.is_symlink() or (blocking.exists() and not blocking.is_dir()):
                blocking.unlink()
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        _write_if_changed(path, text)
    except OSError:
        return


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and not path.is_symlink() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def command(env: Environment, unit: SourceUnit) -> list[str]:
    # -ftrack-macro-expansion=0: with gcc's default tracking, -E puts every
    # expansion of a macro from a system header (our stand-ins are) between
    # two line markers that restate its line; without it the same tokens stay
    # on the same lines, the output is a sixth smaller and gcc a tenth faster.
    root = Path(env.tree.root)
    unit_dir = (root / unit.path).parent
    generated = Path(env.overlay) / "generated"
    args = ["gcc", "-E", "-x", "c", "-std=c11", "-undef", "-nostdinc", "-ftrack-macro-expansion=0",
            "-include", str(PREDEF), "-I", env.config_dir]
    for include in ("Include", "Include/internal", *unit.include_dirs, "."):
        args += ["-I", str(root / include)]
    args += ["-idirafter", str(generated / unit_dir.relative_to(root)),
             "-idirafter", str(generated), "-idirafter", str(STUB_INCLUDE),
             "-idirafter", str(Path(env.overlay) / "system")]
    args += [f"-D{define}" for define in unit.defines]
    args.append(str(root / unit.path))
    return args


MAX_PREPROCESSED_BYTES = 32 << 20
"""The most preprocessed text a unit may have (CPython's largest have a few
MiB); what gcc writes past it is not read, and the unit fails with too-large."""
GCC_MEMORY_BYTES = 1 << 30
"""Address space gcc may use (an include of /dev/zero grows it without end)."""
DEFAULT_TIMEOUT = 60.0


def preprocess(env: Environment, unit: SourceUnit,
               timeout: float = DEFAULT_TIMEOUT) -> Preprocessed | PreprocessFailure:
    """Run gcc on the unit, with no input (stdin is /dev/null), its output
    capped at MAX_PREPROCESSED_BYTES, its memory at GCC_MEMORY_BYTES and its
    time at `timeout` seconds: each limit becomes a diagnostic, never a hang."""
    source = Path(env.tree.root) / unit.path
    try:
        mode = source.stat().st_mode
    except (OSError, ValueError) as exc:
        return _failure(unit, codes.UNREADABLE_FILE, unit.path, 0, 0, f"cannot read the file: {_reason(exc)}")
    if not stat.S_ISREG(mode):
        return _failure(unit, codes.UNREADABLE_FILE, unit.path, 0, 0, f"not a regular file ({file_kind(mode)})")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        argv = command(env, unit)
        if shutil.which(argv[0]) is None:
            return _failure(unit, codes.PREPROCESS_ERROR, unit.path, 0, 0, f"cannot run gcc: no {argv[0]} on PATH")
        try:
            proc = subprocess.Popen(_limited(argv, timeout), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err, cwd=env.tree.root, start_new_session=True)
        except OSError as exc:
            return _failure(unit, codes.PREPROCESS_ERROR, unit.path, 0, 0, f"cannot run gcc: {exc}")
        try:
            returncode = _wait(proc, timeout)
        except subprocess.TimeoutExpired:
            return _failure(unit, codes.UNIT_TIMEOUT, unit.path, 0, 0,
                            f"gcc did not finish preprocessing in {timeout:g} s")
        finally:
            if proc.returncode is None:       # timed out, or interrupted (the unit's own deadline)
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        size = out.tell()
        err.seek(0)
        stderr = err.read(1 << 20).decode("utf-8", "replace")
        if size > MAX_PREPROCESSED_BYTES:
            return _failure(unit, codes.TOO_LARGE, unit.path, 0, 0,
                            f"preprocessed text over {MAX_PREPROCESSED_BYTES >> 20} MiB")
        if returncode != 0:
            return _gcc_failure(env, unit, stderr, returncode)
        out.seek(0)
        text = out.read(MAX_PREPROCESSED_BYTES + 1)
    # Bytes that are not UTF-8 (a Latin-1 string, a file name) stay surrogate
    # escapes, so names match the file system's; every renderer escapes them.
    return Preprocessed(unit=unit.path, text=text.decode("utf-8", "surrogateescape"))


def _limited(argv: list[str], timeout: float) -> list[str]:
    """argv run by a shell that first sets gcc's limits: its memory, the size
    of what it writes, its CPU time (a backstop for the wall-clock timeout)
    and no core.  A shell rather than a preexec_fn, which makes Python fork
    the whole (large) analyzing process instead of using vfork: that fork
    and the wait for it cost as much as gcc's own run."""
    limits = (f"ulimit -v {GCC_MEMORY_BYTES >> 10}", f"ulimit -f {(MAX_PREPROCESSED_BYTES >> 9) + 1}",
              f"ulimit -t {int(timeout) + 5}", "ulimit -c 0")
    return ["/bin/sh", "-c", " && ".join((*limits, 'exec "$@"')), "sh", *argv]


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """proc's exit status, waiting at most `timeout` seconds (TimeoutExpired
    past it).  Popen.wait(timeout) polls with sleeps of up to 50 ms, which
    adds tens of milliseconds to every unit; a pidfd wakes us when gcc exits."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        return proc.wait(timeout)
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
    if not ready:
        raise subprocess.TimeoutExpired(proc.args, timeout)
    return proc.wait()


def _gcc_failure(env: Environment, unit: SourceUnit, stderr: str, returncode: int) -> PreprocessFailure:
    missing = _MISSING_RE.search(stderr)
    if missing:
        return _failure(unit, codes.MISSING_HEADER, _relative(env, missing["file"]),
                        int(missing["line"]), int(missing["col"]), f"{missing['hdr']}: no such file")
    error = _ERROR_RE.search(stderr)
    if error:
        return _failure(unit, codes.PREPROCESS_ERROR, _relative(env, error["file"]),
                        int(error["line"]), int(error["col"] or 0), error["msg"])
    lines = stderr.strip().splitlines()
    return _failure(unit, codes.PREPROCESS_ERROR, unit.path, 0, 0, lines[-1] if lines else f"gcc exited {returncode}")


def file_kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a file")


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _relative(env: Environment, path: str) -> str:
    try:
        return Path(path).resolve().relative_to(env.tree.root).as_posix()
    except (OSError, ValueError, RuntimeError):
        return path


def _failure(unit: SourceUnit, code: Code, path: str, line: int, column: int, detail: str) -> PreprocessFailure:
    return PreprocessFailure(unit=unit.path, diagnostic=Diagnostic(
        code=code, file=path, line=line, column=column, detail=detail, unit=unit.path))
