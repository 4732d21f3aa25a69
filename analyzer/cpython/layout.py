"""Where things live in a CPython checkout."""
from __future__ import annotations

import re

from ..model import UnitKind

SOURCE_DIRECTORIES = ("Include", "Objects", "Python", "Parser", "Modules", "Programs")
"""The directories whose C files a default build compiles or includes."""

API_INCLUDE_RE = re.compile(rb'^\s*#\s*include\s*[<"](?:Python\.h|pycore_\w+\.h)[">]', re.M)
"""An #include of Python.h or of an internal pycore_ header: a file with one
is CPython's own code, not a bundled library (mimalloc) or a stand-alone helper."""

CORE_DIRECTORIES = ("Objects/", "Python/")
"""The core's own code, outside the extension modules (Modules/)."""

_EXTENSION_KINDS = frozenset({UnitKind.BUILTIN_MODULE, UnitKind.SHARED_MODULE})


def is_extension(path: str, unit_kinds: dict[str, UnitKind]) -> bool:
    """Whether a file is extension module code: a module unit, the clinic
    header of one, or another file under Modules/ (the core's files there
    sit at its top level; Modules/_io is core-linked but a module)."""
    if path in unit_kinds and path.count("/") == 1:
        return unit_kinds[path] in _EXTENSION_KINDS     # Modules/main.c, getpath.c, ... are the core
    if "/clinic/" in path and path.endswith(".c.h"):
        directory, name = path.split("/clinic/")
        unit = f"{directory}/{name[:-2]}"
        if unit in unit_kinds:
            return unit_kinds[unit] in _EXTENSION_KINDS
    return path.startswith("Modules/")


def is_public_header(path: str) -> bool:
    """A header of the C API that extensions compile against (Include/, not Include/internal/)."""
    return path.startswith("Include/") and not path.startswith("Include/internal/")


def is_test_code(path: str) -> bool:
    """CPython's test modules and test programs: their callers are artificial."""
    name = path.rsplit("/", 1)[-1]
    return name.startswith("_test") or "/_test" in path


TEST_MODULES = (("Lib/test/test__xxsubinterpreters.py", "interpreters"),
                ("Lib/test/test__interpreters.py", "_interpreters"))
"""CPython's tests of its low-level interpreters module, and the name that
module has there: 3.11/3.12, then 3.13+.  3.13's _interpreters.create()
makes an isolated interpreter with its own GIL."""

UPSTREAM_COLUMNS = ("filename", "funcname", "name", "reason")
"""The header of Tools/c-analyzer/cpython/globals-to-fix.tsv and ignored.tsv."""
