"""What the patch planner reads besides the scan: what the public headers
declare, which files use CPython's API, and the texts of the files it edits."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..cpython.layout import API_INCLUDE_RE
from ..cpython.typeslots import TypeLayout, type_layout
from ..frontend.checkout import TreeError, read_source
from ..model import Family, ScanResult
from .edits import tokenize
from .module_source import code_tokens
from .type_specs import BaseType, read_base


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
        types.update(re.findall(r"\btypedef\b[^;{]*?\(\s*\*\s*(\w+)\s*\)\s*\(", text))   # typedef R (*Name)(...);
        macros.update(re.findall(r"^\s*#\s*define\s+(\w+)[ \t]", text, flags=re.M))
        for name, body in _OBJECT_MACRO_RE.findall(text):
            bodies.setdefault(name, " ".join(body.replace("\\\n", " ").split()))
    return PublicNames(types=frozenset(types), macros=frozenset(macros), exported=frozenset(exported),
                       atomics=frozenset(atomics), member_types=tuple(sorted(members)),
                       macro_bodies=tuple(sorted(bodies.items())))




def api_files(root: str, files: Iterable[str]) -> frozenset[str]:
    """The files that include Python.h or an internal pycore_ header
    themselves: CPython's own code, not bundled libraries (mimalloc) or
    stand-alone helpers."""
    found = set()
    for path in sorted(set(files)):
        data = read_source(Path(root) / path)
        if data is not None and API_INCLUDE_RE.search(data):
            found.add(path)
    return frozenset(found)


def module_texts(root: Path, result: ScanResult) -> dict[str, str]:
    """The text of each extension module file (Modules/) with a global,
    for the module-state conversions; a file that is not UTF-8 is left out
    (its globals stay: nothing to edit)."""
    texts = {}
    files = {var.file for var in result.globals if var.file.startswith("Modules/")}
    clinic = {f"{Path(path).parent}/clinic/{Path(path).name}.h" for path in files if path.endswith(".c")}
    for path in sorted(files | {path for path in clinic if (root / path).is_file()}):
        try:
            texts[path] = (root / path).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def check_texts(root: Path, paths: set[str]) -> None:
    """The series edits these files as UTF-8 text: raises TreeError naming
    the first one that is not (files the tree lacks are the series' to skip)."""
    for path in sorted(paths):
        try:
            (root / path).read_bytes().decode("utf-8")
        except OSError:
            continue
        except UnicodeDecodeError as exc:
            raise TreeError(f"{root / path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                            f"{exc.start}): `cglobals patch` edits UTF-8 sources only") from None


def type_inputs(root: Path, result: ScanResult) -> tuple[TypeLayout | None, dict[str, BaseType]]:
    """The tree's PyTypeObject layout and type slots, and what a module's
    heap type needs of each static type defined outside Modules/ (the
    builtin types it may subclass)."""
    try:
        descrobject = root / "Include/descrobject.h"
        layout = type_layout((root / "Include/cpython/object.h").read_text(encoding="utf-8"),
                             (root / "Include/typeslots.h").read_text(encoding="utf-8"),
                             descrobject.read_text(encoding="utf-8") if descrobject.is_file() else "")
    except (OSError, UnicodeDecodeError):
        return None, {}
    if layout is None:
        return None, {}
    by_file: dict[str, list[str]] = {}
    for var in result.globals:
        if var.family is Family.STATIC_TYPE and not var.file.startswith("Modules/") and var.file.endswith(".c"):
            by_file.setdefault(var.file, []).append(var.name)
    bases = {}
    for path, names in sorted(by_file.items()):
        data = read_source(root / path)
        if data is None:
            continue
        code = code_tokens(tokenize(data.decode("utf-8", errors="replace")))
        for name in names:
            found = read_base(code, name, layout)
            if found is not None:
                bases[name] = found
    return layout, bases

