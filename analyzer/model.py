"""Frozen records passed between the pipeline stages."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class UnitKind(enum.Enum):
    CORE = "core"                # linked into libpython: Objects/, Python/, Parser/, ...
    BUILTIN_MODULE = "builtin"   # Modules/ compiled into the interpreter (Setup.bootstrap)
    SHARED_MODULE = "shared"     # Modules/ built as extension modules (Setup.stdlib)
    PROGRAM = "program"          # Programs/: executables linked against libpython


class Storage(enum.Enum):
    STATIC = "static"    # internal linkage, file scope or function-local
    EXTERN = "extern"    # a definition with external linkage


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceUnit:
    """One translation unit that the default Linux build compiles."""
    path: str
    kind: UnitKind
    defines: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Tree:
    """A CPython checkout, as found on disk."""
    root: str
    version: str
    configured: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalVar:
    """A variable with static storage duration."""
    file: str
    func: str | None
    name: str
    line: int
    type: str
    storage: Storage
    thread_local: bool
    const: bool
    has_initializer: bool
    macro: str | None

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.file, self.func or "", self.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    code: str            # a key of codes.CODES
    file: str
    line: int
    column: int
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitResult:
    """What one translation unit yields: its globals (those it defines and
    those its tree headers define), the files it read, and any failure."""
    unit: str
    globals: tuple[GlobalVar, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    depends_on: tuple[str, ...] = ()
    failed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    tree: Tree
    units: tuple[str, ...]
    globals: tuple[GlobalVar, ...]
    diagnostics: tuple[Diagnostic, ...]
    failed_units: tuple[str, ...] = field(default=())
    cache_hits: int = 0
