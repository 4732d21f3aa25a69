"""Find the translation units a default Linux build of a CPython tree compiles.

The unit list comes from the tree's own build data: the object lists in
Makefile.pre.in (libpython); the module lines of Modules/Setup.bootstrap.in,
Modules/Setup and Modules/Setup.stdlib.in (as makesetup reads them); the
extensions of setup.py (3.11 and older); and Programs/*.c.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from . import setup_py
from .cpython import build
from .cpython.layout import SOURCE_DIRECTORIES
from .model import Change, SourceUnit, Suppression, Tree, UnitKind
from .preprocess import PROFILE_DIR


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


def _setup_py_extensions(tree: Tree) -> tuple[setup_py.Extension, ...]:
    """The extensions setup.py (3.11 and older) builds on Linux, except those
    whose configure condition is false on Linux."""
    root = Path(tree.root)
    text = _read(root / "setup.py")
    if not text:
        return ()
    pyconfig = _read(root / "pyconfig.h" if tree.configured else PROFILE_DIR / "pyconfig.h")
    config = build.setup_py_config(tree.root, tree.configured, pyconfig, _read(root / "pyconfig.h.in"),
                                   setup_py.UNKNOWN)
    return tuple(ext for ext in setup_py.read_extensions(text, tree.root, config) if build.built_on_linux(ext.name))


def _tree_path(root: Path, path: str, base: str) -> str | None:
    """A path setup.py names (relative to base, or absolute), relative to
    the tree; None when it is outside the tree."""
    full = Path(path) if path.startswith("/") else root / base / path
    try:
        return Path(os.path.normpath(full)).relative_to(root).as_posix()
    except ValueError:
        return None


def list_units(tree: Tree) -> tuple[SourceUnit, ...]:
    units = _collect_units(tree)
    makefile_defines = build.recipe_defines(_read(Path(tree.root) / "Makefile.pre.in"))
    listed = []
    for unit in units:
        named = {d.split("=", 1)[0] for d in unit.defines}
        defines = unit.defines + tuple(d for d in makefile_defines.get(unit.path.split(".c")[0], ())
                                       if d.split("=", 1)[0] not in named)
        listed.append(replace(unit, defines=defines + build.configure_defines(unit.path, defines)))
    return tuple(listed)


def _collect_units(tree: Tree) -> tuple[SourceUnit, ...]:
    root = Path(tree.root)
    makefile = (root / "Makefile.pre.in").read_text(encoding="utf-8", errors="replace")
    vendored_includes = tuple(sorted(
        {d for d in build.vendored_include_dirs(makefile + _read(root / "configure.ac")) if (root / d).is_dir()}))
    units: dict[str, SourceUnit] = {}
    for path in build.core_sources(makefile, lambda source: (root / source).is_file()):
        kind = UnitKind.BUILTIN_MODULE if path == "Modules/config.c.in" else UnitKind.CORE
        units[path] = SourceUnit(path=path, kind=kind, defines=("Py_BUILD_CORE",),
                                 include_dirs=vendored_includes)
    for setup in build.SETUP_FILES:
        for _name, sources, flags, builtin in build.setup_modules(_read(root / "Modules" / setup)):
            defines, includes = build.module_flags(flags)
            kind = UnitKind.BUILTIN_MODULE if builtin else UnitKind.SHARED_MODULE
            if builtin:
                defines = ("Py_BUILD_CORE_BUILTIN", *defines)
            for source in sources:
                path = f"Modules/{source}"
                if (root / path).is_file() and path not in units:
                    units[path] = SourceUnit(path=path, kind=kind, defines=defines,
                                             include_dirs=includes + vendored_includes)
    from_setup_py: set[str] = set()
    for extension in _setup_py_extensions(tree):
        includes = tuple(d for d in (_tree_path(root, i, ".") for i in extension.include_dirs)
                         if d is not None and (root / d).is_dir())
        for source in extension.sources:
            module_source = _tree_path(root, source, "Modules")
            if module_source is None or not (root / module_source).is_file():
                continue
            if module_source not in units:
                from_setup_py.add(module_source)
                units[module_source] = SourceUnit(path=module_source, kind=UnitKind.SHARED_MODULE,
                                                  defines=extension.defines,
                                                  include_dirs=includes + vendored_includes)
            elif module_source in from_setup_py:    # a source of two Extension calls (alternatives): both flag sets
                unit = units[module_source]
                units[module_source] = replace(
                    unit, defines=tuple(dict.fromkeys(unit.defines + extension.defines)),
                    include_dirs=tuple(dict.fromkeys(includes + unit.include_dirs)))
        for obj in extension.objects:       # made by a Makefile rule (its flags), linked into the extension
            made = _tree_path(root, obj, ".") if obj.endswith(".o") else None
            object_source = f"{made[:-2]}.c" if made is not None else None
            if object_source is not None and (root / object_source).is_file() and object_source not in units:
                units[object_source] = SourceUnit(path=object_source, kind=UnitKind.SHARED_MODULE,
                                                  include_dirs=vendored_includes)
    for program in sorted((root / "Programs").glob("*.c")):
        path = program.relative_to(root).as_posix()
        units.setdefault(path, SourceUnit(path=path, kind=UnitKind.PROGRAM,
                                          defines=("Py_BUILD_CORE",),
                                          include_dirs=vendored_includes))
    return tuple(sorted(units.values(), key=lambda u: u.path))


def generated_headers(tree: Tree) -> tuple[str, ...]:
    """Headers the build generates (Makefile targets) that this tree lacks."""
    root = Path(tree.root)
    makefile = _read(root / "Makefile.pre.in")
    return tuple(sorted({h for h in build.generated_header_names(makefile) if not (root / h).exists()}))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


_FUNCTION_MACRO_RE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\(", re.M)
_ANGLE_INCLUDE_RE = re.compile(rb"^[ \t]*#[ \t]*include[ \t]*<([^>\s]+)>", re.M)
_QUOTED_HEADER_RE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"\s]+\.h)"', re.M)
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
            entry = (info.st_size, info.st_mtime_ns,
                     frozenset(m.decode("ascii", "replace") for m in _ANGLE_INCLUDE_RE.findall(data)),
                     frozenset(m.decode() for m in _FUNCTION_MACRO_RE.findall(data)),
                     frozenset(m.decode("ascii", "replace") for m in _QUOTED_HEADER_RE.findall(data)))
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


FileStamp = tuple[int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode): a file with the same stamp has the same content."""


class FileHashes:
    """Content hashes of tree files, read once per run; a file whose stamp is
    the one recorded with its hash is not read again (as make and git do;
    ctime and inode catch what a restored mtime would hide)."""

    def __init__(self, root: str, known: dict[str, tuple[FileStamp, str]]) -> None:
        self._root = Path(root)
        self.known = known            # path -> (stamp, hash), updated as files are read
        self.changed = False
        self._memo: dict[str, str | None] = {}

    def __call__(self, path: str) -> str | None:
        if path in self._memo:
            return self._memo[path]
        full = self._root / path
        try:
            info = full.stat()
        except OSError:
            self._memo[path] = None
            return None
        stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        recorded = self.known.get(path)
        if recorded is not None and recorded[0] == stamp:
            digest: str | None = recorded[1]
        else:
            digest = content_hash(full)
            if digest is not None:
                self.known[path] = (stamp, digest)
                self.changed = True
        self._memo[path] = digest
        return digest


def content_hash(path: Path) -> str | None:
    """None for what is not a regular file, or cannot be read; the hash of a
    larger file than read_source reads covers its first MAX_SOURCE_BYTES and
    its size (gcc, not the analyzer, reads the rest)."""
    data = read_source(path)
    if data is None:
        return None
    digest = hashlib.blake2b(data, digest_size=16)
    if len(data) == MAX_SOURCE_BYTES:
        with contextlib.suppress(OSError):
            digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()


_COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


_WORD_RE = re.compile(r"\w+")


def still_written(root: str, identities: Iterable[tuple[str, str, str]]) -> frozenset[tuple[str, str, str]]:
    """The (file, func, name) whose name is still a word of its file: code the
    analyzed configuration does not compile (an #ifdef for another platform
    or build), not a global that is gone.  Each file is read once, its words
    put in a set: a baseline of any size costs a lookup per entry."""
    found = set()
    texts: dict[str, str] = {}
    words: dict[str, frozenset[str]] = {}
    for identity in identities:
        path, _, name = identity
        if path not in texts:
            data = read_source(Path(root) / path)      # None: gone, unreadable, not a file
            texts[path] = _COMMENT_RE.sub(" ", data.decode("utf-8", "replace") if data is not None else "")
            words[path] = frozenset(_WORD_RE.findall(texts[path]))
        if name in words[path] if _WORD_RE.fullmatch(name) else re.search(rf"\b{re.escape(name)}\b", texts[path]):
            found.add(identity)
    return frozenset(found)


def initializer_texts(root: str, variables: Iterable[tuple[tuple[str, str, str], int]]) -> dict[
        tuple[str, str, str], str]:
    """The initializer of each (identity, line) whose declaration line reads
    `... NAME = INITIALIZER;` (one-line initializers only)."""
    found = {}
    lines = SourceLines(root)
    for identity, line in variables:
        match = re.search(rf"\b{re.escape(identity[2])}\s*(?:\[[^\]]*\]\s*)*=\s*(\{{[^;]*\}}|[^;{{]*);",
                          lines(identity[0], line))
        if match:
            found[identity] = match.group(1).strip()
    return found


_SUPPRESSION_RE = re.compile(r"(?:/\*|//)\s*cglobals:\s*ignore\[([^\]]*)\]\s*(.*?)\s*(?:\*/|$)")


def read_suppressions(root: str, files: Iterable[str]) -> tuple[Suppression, ...]:
    """The suppression comments in these tree files (unreadable ones have none)."""
    found = []
    for path in sorted(set(files)):
        data = read_source(Path(root) / path)
        if data is None or b"cglobals:" not in data:
            continue
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            match = _SUPPRESSION_RE.search(line)
            if match is None:
                continue
            alone = not line[:match.start()].strip()
            found.append(Suppression(file=path, line=number, covers=number + 1 if alone else number,
                                     label=match.group(1).strip(), reason=match.group(2)))
    return tuple(found)


_HUNK_RE = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def git_changes(root: str, base: str) -> Change:
    """What changed in the checkout at root since the commit `base`: the
    working tree against it, untracked files included.  Raises TreeError."""
    if base.startswith("-"):
        raise TreeError(f"{base!r} is not a revision")
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except TreeError as exc:
        if "not a git repository" in str(exc):
            raise TreeError(f"{root} is not a git checkout (--diff compares one with a commit)") from None
        raise TreeError(f"{base!r} is not a commit of the checkout at {root}") from None
    diff = _git(root, "diff", "--no-color", "--no-ext-diff", "--no-renames", "--unified=0", "--relative", base,
                "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    lines: dict[str, set[int]] = {}
    deleted: set[str] = set()
    old = current = None
    old_left = new_left = 0         # lines of the hunk still to come: they are content, whatever they look like
    for line in diff.split("\n"):
        if old_left > 0 or new_left > 0:
            if line.startswith(("-", " ")):
                old_left -= 1
            if line.startswith(("+", " ")):
                new_left -= 1
            continue
        if line.startswith("--- "):
            old = _diff_path(line[4:], "a/")
        elif line.startswith("+++ "):
            current = _diff_path(line[4:], "b/")
            if current is None and old is not None:
                deleted.add(old)
            elif current is not None:
                lines.setdefault(current, set())
        elif match := _HUNK_RE.match(line):
            old_left, start, new_left = int(match.group(1) or 1), int(match.group(2)), int(match.group(3) or 1)
            if current is not None:
                lines[current].update(range(start, start + new_left))
    for path in filter(None, untracked.split("\0")):
        count = _line_count(Path(root) / path)
        lines[path] = set(range(1, count + 1))
    return Change(base=base, lines=tuple(sorted((p, frozenset(n)) for p, n in lines.items())),
                  deleted=frozenset(deleted))


_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _diff_path(name: str, prefix: str) -> str | None:
    """The path a ---/+++ line names, without git's a/ or b/ (None for
    /dev/null): git quotes a name with special characters C-style, and ends
    one with a space with a tab."""
    name = name[:-1] if name.endswith("\t") else name
    if name.startswith('"') and name.endswith('"') and len(name) > 1:
        quoted, name, index = name[1:-1], "", 0
        raw = bytearray()
        while index < len(quoted):
            char = quoted[index]
            if char == "\\" and quoted[index + 1:index + 2] in _C_ESCAPES:
                raw.append(_C_ESCAPES[quoted[index + 1]])
                index += 2
            elif char == "\\" and re.fullmatch(r"[0-7]{3}", quoted[index + 1:index + 4]):
                raw.append(int(quoted[index + 1:index + 4], 8))
                index += 4
            else:
                raw += char.encode("utf-8", "surrogateescape")
                index += 1
        name = raw.decode("utf-8", "surrogateescape")
    return name[len(prefix):] if name.startswith(prefix) else None


def _git(root: str, *argv: str) -> str:
    """git's output, decoded as file names are (bytes that are not UTF-8 kept as surrogates)."""
    try:
        proc = subprocess.run(["git", "-c", "core.quotePath=false", *argv], cwd=root, capture_output=True,
                              encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise TreeError(f"cannot run git: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        message = proc.stderr.strip().splitlines()
        raise TreeError(f"git {argv[0]} failed in {root}: {message[-1] if message else proc.returncode}")
    return proc.stdout


def _line_count(path: Path) -> int:
    data = read_source(path)
    return data.count(b"\n") + 1 if data is not None else 0


@dataclass(frozen=True, slots=True)
class PublicNames:
    """What the public headers (Include/, Include/cpython/) declare: code
    that includes Python.h, as the state header's includers do, can use it."""
    types: frozenset[str]       # typedef names
    macros: frozenset[str]      # object-like macros
    exported: frozenset[str]    # data exported with PyAPI_DATA (Include/internal/ too)
    atomics: frozenset[str] = frozenset()                   # pyatomic's _Py_atomic_* functions
    member_types: tuple[tuple[str, str], ...] = ()          # (struct member, its scalar type), Include/ all
    macro_bodies: tuple[tuple[str, str], ...] = ()          # (object-like macro, its body), public headers


_SCALAR_MEMBER_RE = re.compile(
    r"^[ \t]+((?:unsigned[ \t]+|signed[ \t]+)?(?:long[ \t]+long|long|int|short|char)|unsigned|u?int(?:8|16|32|64)_t"
    r"|Py_ssize_t|u?intptr_t|size_t)[ \t]+(\w+)[ \t]*;", re.M)
_OBJECT_MACRO_RE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+((?:[^\n]*\\\n)*[^\n]*)", re.M)


def public_names(root: str) -> PublicNames:
    types: set[str] = set()
    macros: set[str] = set()
    exported: set[str] = set()
    atomics: set[str] = set()
    members: set[tuple[str, str]] = set()
    bodies: dict[str, str] = {}
    for header in sorted(Path(root, "Include").rglob("*.h")):
        text = re.sub(r"/\*.*?\*/", " ", header.read_text(encoding="utf-8", errors="replace"), flags=re.S)
        exported.update(re.findall(r"\bPyAPI_DATA\([^)]*\)[\s*]*(\w+)", text))
        atomics.update(re.findall(r"\b(_Py_atomic_\w+)\s*\(", text))
        members.update((name, " ".join(type_.split())) for type_, name in _SCALAR_MEMBER_RE.findall(text))
        if "internal" in header.relative_to(Path(root, "Include")).parts:
            continue
        types.update(re.findall(r"\btypedef\b[^;{]*?(\w+)\s*;", text))      # typedef struct _object PyObject;
        types.update(re.findall(r"\}\s*(\w+)\s*;", text))                   # typedef struct { ... } Name;
        macros.update(re.findall(r"^\s*#\s*define\s+(\w+)[ \t]", text, flags=re.M))
        for name, body in _OBJECT_MACRO_RE.findall(text):
            bodies.setdefault(name, " ".join(body.replace("\\\n", " ").split()))
    return PublicNames(types=frozenset(types), macros=frozenset(macros), exported=frozenset(exported),
                       atomics=frozenset(atomics), member_types=tuple(sorted(members)),
                       macro_bodies=tuple(sorted(bodies.items())))


def read_logs(paths: Iterable[str]) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(path, text) of each ThreadSanitizer log, and (path, reason) of the
    others: unreadable, or not a log of ThreadSanitizer (it names itself in
    every report)."""
    texts, unreadable = [], []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            unreadable.append((path, exc.strerror or str(exc)))
            continue
        except ValueError as exc:         # a NUL in the path
            unreadable.append((path, str(exc)))
            continue
        if "ThreadSanitizer" not in text:
            unreadable.append((path, "not a ThreadSanitizer log (no report in it)"))
            continue
        texts.append((path, text))
    return tuple(texts), tuple(unreadable)


_API_INCLUDE_RE = re.compile(rb'^\s*#\s*include\s*[<"](?:Python\.h|pycore_\w+\.h)[">]', re.M)


def api_files(root: str, files: Iterable[str]) -> frozenset[str]:
    """The files that include Python.h or an internal pycore_ header
    themselves: CPython's own code, not bundled libraries (mimalloc) or
    stand-alone helpers."""
    found = set()
    for path in sorted(set(files)):
        data = read_source(Path(root) / path)
        if data is not None and _API_INCLUDE_RE.search(data):
            found.add(path)
    return frozenset(found)


def symbolize_objects(root: str, wanted: dict[str, tuple[frozenset[int], frozenset[int]]]) -> tuple[
        dict[tuple[str, int], tuple[str, str, int]], dict[tuple[str, int], tuple[str, int, int]]]:
    """Names for what TSan left unsymbolized, read from the built objects of
    the tree (`python`, extension modules under build/) with binutils:
    code offsets -> (function, file, line) by addr2line, data offsets -> the
    symbol holding them (name, start, size) by nm.  Objects not found or
    unreadable, or binutils not installed, stay unnamed."""
    code: dict[tuple[str, int], tuple[str, str, int]] = {}
    data: dict[tuple[str, int], tuple[str, int, int]] = {}
    for name, (code_offsets, data_offsets) in wanted.items():
        path = _built_object(root, name)
        if path is None:
            continue
        offsets = sorted(code_offsets)
        if offsets:
            status, output = _tool("addr2line", "-f", "-e", str(path), *(hex(o) for o in offsets))
            lines = output.splitlines() if status == 0 else []
            for offset, function, where in zip(offsets, lines[0::2], lines[1::2], strict=False):
                file, _, line = where.split(" ")[0].rpartition(":")
                if function != "??" and line.isdigit():
                    code[(name, offset)] = (function, file, int(line))
        if data_offsets:
            symbols = []
            for line in _tool("nm", "-S", "--defined-only", str(path))[1].splitlines():
                fields = line.split()
                if len(fields) == 4:
                    symbols.append((int(fields[0], 16), int(fields[1], 16), fields[3]))
            for offset in data_offsets:
                holder = next(((sym, start, size) for start, size, sym in symbols if start <= offset < start + size),
                              None)
                if holder is not None:
                    data[(name, offset)] = holder
    return code, data


def _tool(*argv: str) -> tuple[int | None, str]:
    """(status, output) of a binutils or gdb run; (None, "") when the tool is
    not installed: what it would have named stays unnamed."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", check=False)
    except OSError:
        return None, ""
    return proc.returncode, proc.stdout


def _built_object(root: str, name: str) -> Path | None:
    direct = Path(root) / name
    if direct.is_file():
        return direct
    return next((path for path in sorted(Path(root).glob(f"build/*/{name}")) if path.is_file()), None)


_PTYPE_RE = re.compile(r"^/\*\s*(?P<offset>\d+)(?::\s*\d+)?\s*\|\s*(?P<size>\d+) \*/\s*(?P<decl>.*)$")


def member_names(root: str, wanted: dict[tuple[str, str], frozenset[int]]) -> dict[tuple[str, str, int], str]:
    """The member of each global at each offset, from the object's debug
    information (`gdb -batch -ex 'ptype /o GLOBAL'`): `signals.unhandled_
    keyboard_interrupt` in _PyRuntime.  What gdb cannot say stays unnamed."""
    names: dict[tuple[str, str, int], str] = {}
    by_object: dict[str, dict[str, frozenset[int]]] = {}
    for (name, variable), offsets in wanted.items():
        if re.fullmatch(r"\w+", variable):
            by_object.setdefault(name, {})[variable] = offsets
    for name, variables in sorted(by_object.items()):
        path = _built_object(root, name)
        if path is None:
            continue
        commands = []
        for variable in sorted(variables):      # one gdb for all of an object's globals
            commands += ["-ex", f"echo @@cglobals {variable}\\n", "-ex", f"ptype /o {variable}"]
        for chunk in _tool("gdb", "-nx", "-batch", *commands, str(path))[1].split("@@cglobals ")[1:]:
            variable, _, text = chunk.partition("\n")
            members = _ptype_members(text)
            for offset in variables.get(variable, frozenset()):
                containing = [(start, size, dotted) for start, size, dotted in members
                              if start <= offset < start + size]
                if containing:
                    names[(name, variable, offset)] = min(containing, key=lambda m: (m[1], -len(m[2])))[2]
    return names


def _ptype_members(text: str) -> list[tuple[int, int, str]]:
    """(offset, size, dotted name) of every member gdb's ptype /o prints."""
    found: list[tuple[int, int, str]] = []
    stack: list[tuple[int, int, list[tuple[int, int, str]]]] = []
    for line in text.splitlines():
        match = _PTYPE_RE.match(line.strip())
        stripped = line.strip()
        if match and match["decl"].rstrip().endswith("{"):
            stack.append((int(match["offset"]), int(match["size"]), []))
        elif match:
            member = re.search(r"(\w+)\s*(?:\[[^\]]*\])*\s*(?::\s*\d+)?;$", match["decl"])
            if member:
                (stack[-1][2] if stack else found).append((int(match["offset"]), int(match["size"]), member[1]))
        elif stripped.startswith("}") and stack:
            start, size, inner = stack.pop()
            member = re.match(r"\}\s*(\w*)", stripped)
            prefix = member[1] if member and member[1] else ""
            members = [(start, size, prefix)] if prefix else []
            members += [(o, s, f"{prefix}.{n}" if prefix else n) for o, s, n in inner]
            (stack[-1][2] if stack else found).extend(members)
    return found
