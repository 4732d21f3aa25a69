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


class Family(enum.Enum):
    """What kind of data a global holds, read from its declared type."""
    OBJECT_POINTER = "object-pointer"      # PyObject *, PyTypeObject *, ... (any *Object pointer)
    STATIC_TYPE = "static-type"            # a PyTypeObject itself
    OBJECT = "object"                      # another statically allocated object (..Object value)
    MODULE_DEF = "module-def"              # PyModuleDef
    API_TABLE = "api-table"                # method/member/getset/slot tables, type specs, protocol structs
    ARG_PARSER = "arg-parser"              # Argument Clinic's _PyArg_Parser
    IDENTIFIER = "identifier"              # _Py_Identifier
    LOCK = "lock"                          # PyThread_type_lock, PyMutex, pthread mutexes, once-flags
    FUNCTION_POINTER = "function-pointer"  # a pointer to a function (or an array of them)
    STRING = "string"                      # char arrays and char pointers
    SCALAR = "scalar"                      # integer, floating, boolean and enum values
    STRUCT = "struct"                      # another struct or union value
    ARRAY = "array"                        # an array of anything else
    POINTER = "pointer"                    # another data pointer
    OTHER = "other"                        # a typedef name the analyzer cannot see through


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
    family: Family = Family.OTHER

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
