"""The checkout as the front end reads it: whether a path is a CPython tree
(and which release), the includes and function-like macros of its C files,
and the lines of its sources.  read_source is the one guarded way the
analyzer reads a file of the tree."""
from __future__ import annotations

import os
import pickle
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..cpython import build
from ..cpython.layout import SOURCE_DIRECTORIES
from ..model import Tree


class TreeError(Exception):
    """The path is not a usable CPython tree; the message says why."""


def find_tree(path: str) -> Tree:
    root = Path(path)
    if not root.exists():
        raise TreeError(f"{path}: no such directory")
    if not root.is_dir():
        raise TreeError(f"{path}: not a directory")
    patchlevel = root / "Include" / "patchlevel.h"
    missing = [name for name in ("Include/patchlevel.h", "Makefile.pre.in") if not (root / name).is_file()]
    if missing:
        raise TreeError(f"{path}: not a CPython source tree (no {' or '.join(missing)})")
    match = build.VERSION_RE.search(_required_text(patchlevel))
    _required_text(root / "Makefile.pre.in")    # there but unreadable: a broken tree, said before any work
    if not match:
        raise TreeError(f"{patchlevel}: no PY_VERSION")
    return Tree(root=str(root.resolve()), version=match.group(1),
                configured=(root / "pyconfig.h").is_file())


def _required_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise TreeError(f"{path}: cannot read it: {exc.strerror or exc}") from None


# `#define NAME(`, `#include <...>`, `#include "....h"`; a directive only
# where blanks alone precede it on its line (see _directives).
_DIRECTIVE_RE = re.compile(rb'#[ \t]*(?:define[ \t]+([A-Za-z_]\w*)\('
                           rb'|include[ \t]*<([^>\s]+)>|include[ \t]*"([^"\s]+\.h)")')
# The headers of the C library (C11 7.1.2): `#include "setjmp.h"` finds one
# when the tree has no such file.
_C_STANDARD_HEADERS = frozenset({
    "assert.h", "complex.h", "ctype.h", "errno.h", "fenv.h", "float.h", "inttypes.h", "iso646.h", "limits.h",
    "locale.h", "math.h", "setjmp.h", "signal.h", "stdalign.h", "stdarg.h", "stdatomic.h", "stdbool.h",
    "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "stdnoreturn.h", "string.h", "tgmath.h", "threads.h",
    "time.h", "uchar.h", "wchar.h", "wctype.h"})

MAX_SOURCE_BYTES = 64 << 20
"""The most the analyzer reads of one tree file (the largest CPython file is
well under 1 MiB): a larger one is read only this far."""


def read_source(path: Path, limit: int = MAX_SOURCE_BYTES) -> bytes | None:
    """Up to `limit` bytes of a regular file; None when it is not one (a FIFO,
    a device, a directory, a dangling or looping symlink) or cannot be read.
    Opened without blocking, so a FIFO is refused rather than waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        os.set_blocking(fd, True)
        pieces, left = [], limit
        while left > 0:
            piece = os.read(fd, min(left, 1 << 20))
            if not piece:
                break
            pieces.append(piece)
            left -= len(piece)
        return b"".join(pieces)
    except OSError:
        return None
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """Facts read from every C file of the tree's source directories."""
    system_includes: frozenset[str]   # names of all <...> includes, and "..." C library ones no tree file has
    function_macros: frozenset[str]   # names defined as function-like macros


_Entry = tuple[int, int, frozenset[str], frozenset[str], frozenset[str]]
"""(size, mtime_ns, <...> includes, function-like macros, "....h" includes) of one file."""


def take_inventory(tree: Tree, memo_dir: str) -> Inventory:
    """Read the tree's .c/.h files for their includes and function-like
    macro names; a file whose size and mtime are unchanged since the last run
    (memo in memo_dir) is not read again.  What is not a regular file (a FIFO,
    a device, a broken link) is passed over: it adds nothing.  A "....h"
    include of a C library header that no file of the tree answers
    (`#include "setjmp.h"` in 3.9's pyfpe.c) finds the system's, as in the
    compiler: it gets a stand-in like <...> ones.  Any other "..." include
    the tree lacks stays missing."""
    root = Path(tree.root)
    memo_path = Path(memo_dir) / "inventory.pickle"
    try:
        with memo_path.open("rb") as handle:
            memo = pickle.load(handle)
        if not isinstance(memo, dict):
            memo = {}
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        memo = {}
    current: dict[str, _Entry] = {}
    for path in sorted(p for d in SOURCE_DIRECTORIES for p in (root / d).rglob("*.[ch]")):
        try:
            info = path.stat()
        except (OSError, ValueError):
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        key = str(path)
        entry = memo.get(key)
        if not isinstance(entry, tuple) or len(entry) != 5 or entry[:2] != (info.st_size, info.st_mtime_ns):
            data = read_source(path)
            if data is None:
                continue
            macros, angled, in_quotes = _directives(data)
            entry = (info.st_size, info.st_mtime_ns, frozenset(m.decode("ascii", "replace") for m in angled),
                     frozenset(m.decode() for m in macros), frozenset(m.decode("ascii", "replace") for m in in_quotes))
        current[key] = entry
    if current != memo:
        try:
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            with memo_path.open("wb") as handle:
                pickle.dump(current, handle, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:
            pass      # only a memo: the next run reads the files again
    tree_headers = {Path(key).name for key in current} | {p.name for p in root.glob("*.h")}
    quoted = frozenset().union(*(e[4] for e in current.values()))
    system_quoted = {name for name in quoted if name in _C_STANDARD_HEADERS and name not in tree_headers}
    return Inventory(system_includes=frozenset().union(*(e[2] for e in current.values())) | system_quoted,
                     function_macros=frozenset().union(*(e[3] for e in current.values())))


def _directives(data: bytes) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """The names of a file's function-like macros, its <...> includes and its
    "....h" includes.  Searched from the `#` (a literal sre finds fast; `^` with
    re.M is tried at every byte) and kept where only blanks precede it."""
    found: tuple[list[bytes], list[bytes], list[bytes]] = ([], [], [])
    for match in _DIRECTIVE_RE.finditer(data):
        start = match.start()
        if data[data.rfind(b"\n", 0, start) + 1:start].strip(b" \t"):
            continue
        for kind, name in zip(found, match.groups(), strict=True):
            if name is not None:
                kind.append(name)
    return found


class SourceLines:
    """Lines of the tree's files, read on first use (for macro attribution)."""

    def __init__(self, root: str) -> None:
        self._root = Path(root)
        self._files: dict[str, list[str]] = {}

    def __call__(self, path: str, line: int) -> str:
        lines = self._files.get(path)
        if lines is None:
            data = read_source(self._root / path)
            text = data.decode("utf-8", "replace") if data is not None else ""
            lines = self._files[path] = text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""
