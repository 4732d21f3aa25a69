"""Find the translation units a default Linux build of a CPython tree compiles.

The unit list comes from the tree's own build data: the object lists in
Makefile.pre.in (libpython); the module lines of Modules/Setup.bootstrap.in,
Modules/Setup and Modules/Setup.stdlib.in (as makesetup reads them); the
extensions of setup.py (3.11 and older); and Programs/*.c.  Also which
files belong to bundled C libraries (library_files).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from ..cpython import build
from ..cpython.layout import API_INCLUDE_RE
from ..frontend.checkout import read_source
from ..frontend.preprocess import PROFILE_DIR
from ..model import SourceUnit, Tree, UnitKind
from . import setup_py


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
        units[path] = SourceUnit(path=path, kind=kind, defines=build.CORE_DEFINES,
                                 include_dirs=vendored_includes)
    for setup in build.SETUP_FILES:
        for _name, sources, flags, builtin in build.setup_modules(_read(root / "Modules" / setup)):
            defines, includes = build.module_flags(flags)
            kind = UnitKind.BUILTIN_MODULE if builtin else UnitKind.SHARED_MODULE
            if builtin:
                defines = (build.BUILTIN_MODULE_DEFINE, *defines)
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
                                          defines=build.CORE_DEFINES,
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


_LIBRARY_SUFFIXES = (".c", ".h")


def library_files(root: str, files: Iterable[str]) -> frozenset[str]:
    """The files of bundled C libraries (mimalloc, libmpdec, expat, HACL*):
    those in a directory below the tree's top level in which no file, nor
    any in its subdirectories, includes Python.h or a pycore_ header.  Such
    code knows nothing of interpreters.  (A module's own directory has one
    file including Python.h, often a shared header, and so is not one.)"""
    verdicts: dict[Path, bool] = {}

    def is_library(directory: Path) -> bool:
        if directory not in verdicts:
            sources = [Path(top) / name for top, _, names in os.walk(directory)     # symlinks not followed
                       for name in names if name.endswith(_LIBRARY_SUFFIXES)]
            verdicts[directory] = bool(sources) and not any(
                API_INCLUDE_RE.search(read_source(p) or b"") for p in sources)
        return verdicts[directory]

    base = Path(root)
    return frozenset(path for path in sorted(set(files))
                     if path.count("/") >= 2 and is_library((base / path).parent))
