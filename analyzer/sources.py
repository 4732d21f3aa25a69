"""Find the translation units a default Linux build of a CPython tree compiles.

The unit list comes from the tree's own build data: the object lists in
Makefile.pre.in (libpython); the module lines of Modules/Setup.bootstrap.in,
Modules/Setup and Modules/Setup.stdlib.in (as makesetup reads them); the
extensions of setup.py (3.11 and older); and Programs/*.c.
"""
from __future__ import annotations

import hashlib
import pickle
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from .model import Change, SourceUnit, Suppression, Tree, UnitKind


class TreeError(Exception):
    """The path is not a usable CPython tree; the message says why."""


_VERSION_RE = re.compile(r'^#define\s+PY_VERSION\s+"([^"]+)"', re.M)

# configure substitutions, as configure resolves them on Linux.
_LINUX_SUBSTITUTIONS = {"DYNLOADFILE": "dynload_shlib.o"}

# Flags configure adds on x86_64 Linux (configure.ac: LIBMPDEC_CFLAGS for the
# "ansi64" machine; DBM_CFLAGS with Debian's gdbm compatibility layer;
# BINASCII_CFLAGS when zlib is found).
_CONFIGURE_DEFINES = (
    ("Modules/_decimal/", ("CONFIG_64=1", "ANSI=1")),
    ("Modules/_dbmmodule.c", ("USE_GDBM_COMPAT",)),
    ("Modules/binascii.c", ("USE_ZLIB_CRC32",)),
)

# Object lists that are not C compiled on Linux by default.
_SKIPPED_OBJ_VARIABLES = frozenset({"DTRACE_OBJS", "LINK_PYTHON_OBJS", "MODOBJS"})

# Setup.stdlib.in modules whose configure condition is false on Linux.
_NON_LINUX_MODULE_CONDITIONS = frozenset({"MODULE__SCPROXY_TRUE"})

_SETUP_LINE_RE = re.compile(r"^(?:@(\w+)@)?([A-Za-z_][\w.]*)\s+(.*)$")
_MAKE_VAR_RE = re.compile(r"^([A-Z][A-Z0-9_]*)\s*=(.*)$")
_OBJ_RE = re.compile(r"(?:\$\(srcdir\)/)?((?:Objects|Python|Parser|Modules|Programs)/[\w./-]+?)\.o\b")
_SRCDIR_INCLUDE_RE = re.compile(r"-I\\?\$\(srcdir\)/((?:Modules|Include)/[\w./-]+)")
_RULE_RE = re.compile(r"^((?:Objects|Python|Parser|Modules|Programs)/[\w./-]+)\.o:[^\n]*\n((?:\t[^\n]*\n)+)", re.M)
_RECIPE_DEFINE_RE = re.compile(r"""-D(\w+)(?:=('[^']*'|"(?:[^"\\]|\\.)*"|[^\s\\]+))?""")
_GENERATED_HEADER_RE = re.compile(r"^((?:Python|Modules|Objects|Parser|Include)/[\w./-]+\.h)\s*:", re.M)


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
    match = _VERSION_RE.search(_required_text(patchlevel))
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


def _make_variables(joined: str) -> dict[str, str]:
    """Variable assignments of a makefile whose continuation lines are joined."""
    variables: dict[str, str] = {}
    for line in joined.splitlines():
        match = _MAKE_VAR_RE.match(line)
        if match:
            variables[match.group(1)] = match.group(2)
    return variables


_PROGRAM_RULE_RE = re.compile(r"^Programs/[\w.-]+:([^\n]*)$", re.M)


def _core_sources(root: Path, makefile: str) -> list[str]:
    """Objects of the *_OBJS lists, and those the Programs/ link rules name."""
    sources: list[str] = []
    joined = re.sub(r"\\\n", " ", makefile)
    for prerequisites in _PROGRAM_RULE_RE.findall(joined):
        sources.extend(f"{obj}.c" for obj in _OBJ_RE.findall(prerequisites) if (root / f"{obj}.c").is_file())
    for name, value in _make_variables(joined).items():
        if "OBJS" not in name or name in _SKIPPED_OBJ_VARIABLES:
            continue
        for key, replacement in _LINUX_SUBSTITUTIONS.items():
            value = value.replace(f"@{key}@", replacement).replace(f"$({key})", replacement)
        for obj in _OBJ_RE.findall(value):
            for candidate in (f"{obj}.c", f"{obj}.c.in"):
                if (root / candidate).is_file():
                    sources.append(candidate)
                    break
    return sources


def _setup_modules(text: str) -> list[tuple[str, list[str], list[str], bool]]:
    """(name, sources, flags, builtin) for each enabled module line."""
    modules = []
    builtin = True   # makesetup's default until a *shared* marker
    for raw in text.splitlines():
        # 3.11 comments out the module lines that setup.py builds instead.
        line = raw.strip()
        line = line[1:] if line.startswith("#@MODULE_") else line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("*") and line.endswith("*"):
            builtin = line == "*static*"
            continue
        match = _SETUP_LINE_RE.match(line)
        if not match or "=" in match.group(2):
            continue
        condition, name, rest = match.groups()
        if condition in _NON_LINUX_MODULE_CONDITIONS:
            continue
        words = rest.split()
        sources = [w for w in words if w.endswith(".c")]
        flags = [w for w in words if w.startswith(("-D", "-I"))]
        modules.append((name, sources, flags, builtin))
    return modules


_SETUP_PY_EXTENSION_RE = re.compile(
    r"""Extension\(\s*['"](\w+)['"]\s*,\s*(?:sources\s*=\s*)?\[([^\]]*)\]""")
_QUOTED_C_RE = re.compile(r"""['"]([\w/.-]+\.c)['"]""")


def _setup_py_sources(text: str) -> list[str]:
    """Sources of the extensions setup.py (3.11 and older) builds, except
    those whose configure condition is false on Linux."""
    sources = []
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for name, listed in _SETUP_PY_EXTENSION_RE.findall(code):
        if f"MODULE_{name.upper()}_TRUE" not in _NON_LINUX_MODULE_CONDITIONS:
            sources.extend(_QUOTED_C_RE.findall(listed))
    return sources


def _module_flags(flags: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    defines = tuple(f[2:] for f in flags if f.startswith("-D"))
    includes = tuple(f[2:].replace("$(srcdir)/", "") for f in flags if f.startswith("-I"))
    return defines, includes


def _recipe_defines(makefile: str) -> dict[str, tuple[str, ...]]:
    """-D flags that the Makefile's own rule for an object passes, with make
    variables in string values replaced by their names (PREFIX="prefix")."""
    defines: dict[str, tuple[str, ...]] = {}
    for target, recipe in _RULE_RE.findall(re.sub(r"\\\n", "\n\t", makefile)):
        found = []
        for name, value in _RECIPE_DEFINE_RE.findall(recipe):
            if not value:
                found.append(name)
                continue
            # A string built by make or the shell at build time: its name stands in.
            found.append(f'{name}="{name}"' if '"' in value else f"{name}={value}")
        if found:
            defines[target] = tuple(found)
    return defines


def _configure_defines(path: str) -> tuple[str, ...]:
    return tuple(d for prefix, flags in _CONFIGURE_DEFINES if path.startswith(prefix) for d in flags)


def list_units(tree: Tree) -> tuple[SourceUnit, ...]:
    units = _collect_units(tree)
    makefile_defines = _recipe_defines(_read(Path(tree.root) / "Makefile.pre.in"))
    return tuple(
        replace(unit, defines=unit.defines + makefile_defines.get(unit.path.split(".c")[0], ())
                + _configure_defines(unit.path))
        for unit in units)


def _collect_units(tree: Tree) -> tuple[SourceUnit, ...]:
    root = Path(tree.root)
    makefile = (root / "Makefile.pre.in").read_text(encoding="utf-8", errors="replace")
    vendored_includes = tuple(sorted(
        {d for d in _SRCDIR_INCLUDE_RE.findall(makefile + _read(root / "configure.ac"))
         if (root / d).is_dir()}))
    units: dict[str, SourceUnit] = {}
    for path in _core_sources(root, makefile):
        kind = UnitKind.BUILTIN_MODULE if path == "Modules/config.c.in" else UnitKind.CORE
        units[path] = SourceUnit(path=path, kind=kind, defines=("Py_BUILD_CORE",),
                                 include_dirs=vendored_includes)
    for setup in ("Setup.bootstrap.in", "Setup", "Setup.stdlib.in"):
        for _name, sources, flags, builtin in _setup_modules(_read(root / "Modules" / setup)):
            defines, includes = _module_flags(flags)
            kind = UnitKind.BUILTIN_MODULE if builtin else UnitKind.SHARED_MODULE
            if builtin:
                defines = ("Py_BUILD_CORE_BUILTIN", *defines)
            for source in sources:
                path = f"Modules/{source}"
                if (root / path).is_file() and path not in units:
                    units[path] = SourceUnit(path=path, kind=kind, defines=defines,
                                             include_dirs=includes + vendored_includes)
    for source in _setup_py_sources(_read(root / "setup.py")):
        path = f"Modules/{source}"
        if (root / path).is_file() and path not in units:
            units[path] = SourceUnit(path=path, kind=UnitKind.SHARED_MODULE, include_dirs=vendored_includes)
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
    return tuple(sorted({h for h in _GENERATED_HEADER_RE.findall(makefile)
                         if not (root / h).exists()}))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


_FUNCTION_MACRO_RE = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\(", re.M)
_ANGLE_INCLUDE_RE = re.compile(rb"^[ \t]*#[ \t]*include[ \t]*<([^>\s]+)>", re.M)
_SOURCE_DIRS = ("Include", "Objects", "Python", "Parser", "Modules", "Programs")


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """Facts read from every C file of the tree's source directories."""
    system_includes: frozenset[str]   # names of all <...> includes
    function_macros: frozenset[str]   # names defined as function-like macros


def take_inventory(tree: Tree, memo_dir: str) -> Inventory:
    """Read the tree's .c/.h files for their <...> includes and function-like
    macro names; a file whose size and mtime are unchanged since the last run
    (memo in memo_dir) is not read again."""
    root = Path(tree.root)
    memo_path = Path(memo_dir) / "inventory.pickle"
    try:
        with memo_path.open("rb") as handle:
            memo = pickle.load(handle)
        if not isinstance(memo, dict):
            memo = {}
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        memo = {}
    current: dict[str, tuple[int, int, frozenset[str], frozenset[str]]] = {}
    for path in sorted(p for d in _SOURCE_DIRS for p in (root / d).rglob("*.[ch]")):
        try:
            stat = path.stat()
            key = str(path)
            entry = memo.get(key)
            if entry is None or entry[:2] != (stat.st_size, stat.st_mtime_ns):
                data = path.read_bytes()
                entry = (stat.st_size, stat.st_mtime_ns,
                         frozenset(m.decode("ascii", "replace") for m in _ANGLE_INCLUDE_RE.findall(data)),
                         frozenset(m.decode() for m in _FUNCTION_MACRO_RE.findall(data)))
        except OSError:
            continue
        current[key] = entry
    if current != memo:
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        with memo_path.open("wb") as handle:
            pickle.dump(current, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return Inventory(system_includes=frozenset().union(*(e[2] for e in current.values())),
                     function_macros=frozenset().union(*(e[3] for e in current.values())))


class SourceLines:
    """Lines of the tree's files, read on first use (for macro attribution)."""

    def __init__(self, root: str) -> None:
        self._root = Path(root)
        self._files: dict[str, list[str]] = {}

    def __call__(self, path: str, line: int) -> str:
        lines = self._files.get(path)
        if lines is None:
            try:
                text = (self._root / path).read_bytes().decode("utf-8", "replace")
            except OSError:
                text = ""
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
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except OSError:
        return None


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
            try:
                text = (Path(root) / path).read_bytes().decode("utf-8", "replace")
            except (OSError, ValueError):      # gone, unreadable, or no path at all (a NUL)
                text = ""
            texts[path] = _COMMENT_RE.sub(" ", text)
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
        try:
            data = (Path(root) / path).read_bytes()
        except OSError:
            continue
        if b"cglobals:" not in data:
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
    try:
        return path.read_bytes().count(b"\n") + 1
    except OSError:
        return 0


@dataclass(frozen=True, slots=True)
class PublicNames:
    """What the public headers (Include/, Include/cpython/) declare: code
    that includes Python.h, as the state header's includers do, can use it."""
    types: frozenset[str]       # typedef names
    macros: frozenset[str]      # object-like macros
    exported: frozenset[str]    # data exported with PyAPI_DATA (Include/internal/ too)


def public_names(root: str) -> PublicNames:
    types: set[str] = set()
    macros: set[str] = set()
    exported: set[str] = set()
    for header in sorted(Path(root, "Include").rglob("*.h")):
        text = re.sub(r"/\*.*?\*/", " ", header.read_text(encoding="utf-8", errors="replace"), flags=re.S)
        exported.update(re.findall(r"\bPyAPI_DATA\([^)]*\)[\s*]*(\w+)", text))
        if "internal" in header.relative_to(Path(root, "Include")).parts:
            continue
        types.update(re.findall(r"\btypedef\b[^;{]*?(\w+)\s*;", text))      # typedef struct _object PyObject;
        types.update(re.findall(r"\}\s*(\w+)\s*;", text))                   # typedef struct { ... } Name;
        macros.update(re.findall(r"^\s*#\s*define\s+(\w+)[ \t]", text, flags=re.M))
    return PublicNames(types=frozenset(types), macros=frozenset(macros), exported=frozenset(exported))


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
        try:
            if _API_INCLUDE_RE.search((Path(root) / path).read_bytes()):
                found.add(path)
        except OSError:
            continue
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
