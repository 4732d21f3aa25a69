"""Frozen records passed between the pipeline stages."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .codes import Code


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
    RUNTIME_STATE = "runtime-state"        # _PyRuntimeState itself
    FUNCTION_POINTER = "function-pointer"  # a pointer to a function (or an array of them)
    STRING = "string"                      # char arrays and char pointers
    SCALAR = "scalar"                      # integer, floating, boolean and enum values
    STRUCT = "struct"                      # another struct or union value
    ARRAY = "array"                        # an array of anything else
    POINTER = "pointer"                    # another data pointer
    OTHER = "other"                        # a typedef name the analyzer cannot see through


@dataclass(frozen=True, slots=True, kw_only=True)
class CType:
    """The shape of a declared type, read from the declarator (GlobalVar.type
    keeps the spelling for display): arrays of pointers to a named type."""
    base: str = ""                    # the specifier, qualifiers first: "const char", "struct arena_object";
                                      # "" when it is not a name (a struct or enum body, a function)
    pointers: int = 0                 # pointer levels below the array dimensions
    qualified_pointer: bool = False   # a pointer level has a qualifier (`char *const`)
    dims: tuple[str, ...] = ()        # array dimensions, outermost first, as spelled ("" for `[]`)
    function: bool = False            # a function or a pointer to one, below the arrays and pointers
    other: bool = False               # another shape below the pointers (a pointer to an array)

    @property
    def name(self) -> str:
        """The type's last word: `unsigned long` -> long, `struct _PyArg_Parser` -> _PyArg_Parser."""
        return self.base.split()[-1] if self.base else ""

    @property
    def is_array(self) -> bool:
        return bool(self.dims)

    @property
    def simple(self) -> bool:
        """`base *...[dim]...`: a named base, unqualified pointers, sized dimensions."""
        return bool(self.base) and not (self.qualified_pointer or self.function or self.other or "" in self.dims)


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
    points_to_const: bool | None = None   # for a pointer (or an array of them): whether the data is const
    ctype: CType = CType()
    initializer: str | None = None        # its initializer's source text, for a global not declared const

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.file, self.func or "", self.name)

    @property
    def qualified_name(self) -> str:
        """The name as messages show it: `func()::name` for a function-local static."""
        return f"{self.func}()::{self.name}" if self.func else self.name


class UseKind(enum.Enum):
    """How a body uses a variable."""
    READ = "read"
    ASSIGN = "assign"              # x = v
    UPDATE = "update"              # x += v, x++, --x
    MEMBER_WRITE = "member-write"  # x.f = v, x[i] = v, x->f = v, *x = v, and updates of those
    ADDRESS = "address"            # &x kept (stored, returned) other than as a call argument
    ARGUMENT = "argument"          # x or &x passed to a call


@dataclass(frozen=True, slots=True, kw_only=True)
class NameUse:
    """A use of a name that is not a plain local, in one body, before the
    unit settles what the name denotes."""
    name: str
    kind: UseKind
    file: str
    line: int
    callee: str | None = None       # ARGUMENT: the function called, when called by name
    position: int = -1              # ARGUMENT: the argument's position
    address: bool = False           # ARGUMENT/ADDRESS: &x (or a local holding &x), not x's value
    via: str | None = None          # the local pointer it went through
    local_static: bool = False      # the name is a static local of the enclosing function
    guarded: bool = False           # a direct write in a body that also tests the variable (lazy init)
    once_flags: tuple[str, ...] = ()  # the once tests it is under: "" for _Py_IsMainInterpreter(), else a flag
    probe: bool = False             # ASSIGN: only constants, another in each branch of one if (a probe's result)


ELEMENT_FLAG = "[]"
"""Appended to a once flag that is an element of a table (`if (t[i] == 0) {
... t[i] = ...; }`): the region runs once per entry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prototype:
    writes: tuple[bool, ...]        # per parameter: a pointer to non-const data
    variadic: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Body:
    """A function definition, or the initializer of a file-scope variable."""
    name: str
    file: str
    line: int
    function: bool
    static: bool
    calls: frozenset[str]
    uses: tuple[NameUse, ...]
    signal_handlers: frozenset[str]
    once_calls: frozenset[tuple[str, tuple[str, ...]]] = frozenset()   # (callee, once_flags): calls made only there


FunctionKey = tuple[str, str]
"""(file, name) for a static function, ("", name) for one with external linkage."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Use:
    """A use of a global, resolved: `target` is the global's identity (with
    file "" for an external variable this unit only declares)."""
    target: tuple[str, str, str]
    kind: UseKind
    file: str
    line: int
    function: FunctionKey | None          # the function the use is in
    initializer_of: tuple[str, str, str] | None = None   # or the global whose initializer it is in
    callee: FunctionKey | None = None
    position: int = -1
    address: bool = False
    callee_writes: bool | None = None     # ARGUMENT: the parameter points to non-const data (None: no prototype);
                                          # False also when the unit's body of the callee only reads through it
    callee_writes_through: bool = False   # ARGUMENT: the unit's body of the callee writes through the parameter
    callee_locks: bool = False            # ARGUMENT: ... and gives a member of it to a lock call
    via: str | None = None
    guarded: bool = False
    once: bool = False              # under a _Py_IsMainInterpreter() test or a scalar once-flag: once per process
    probe: bool = False             # see NameUse.probe


@dataclass(frozen=True, slots=True, kw_only=True)
class Function:
    key: FunctionKey
    file: str
    line: int
    calls: tuple[FunctionKey, ...]
    references: tuple[FunctionKey, ...]       # functions it uses as values (callbacks, tables)
    signal_handlers: tuple[FunctionKey, ...]  # functions it installs as signal handlers
    once_calls: tuple[FunctionKey, ...] = ()  # calls made only once per process (see Use.once)
    library_calls: tuple[str, ...] = ()       # called names the unit does not declare: the C library's


@dataclass(frozen=True, slots=True, kw_only=True)
class Initializer:
    """The functions a global's initializer names (method tables, slots, hooks)."""
    target: tuple[str, str, str]
    functions: tuple[FunctionKey, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkFacts:
    """What extraction finds in one parsed chunk."""
    globals: tuple[GlobalVar, ...] = ()
    variables: frozenset[str] = frozenset()            # file-scope object names declared
    watched: frozenset[str] = frozenset()              # those writable, but for
    arrays: frozenset[str] = frozenset()               # writable arrays and
    objects: frozenset[str] = frozenset()              # writable static types and other static objects
    prototypes: tuple[tuple[str, Prototype], ...] = ()
    static_functions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    code: Code           # a constant of codes.py
    file: str
    line: int
    column: int
    detail: str
    unit: str = ""       # the unit whose analysis raised it (file may be a header it includes)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitResult:
    """What one translation unit yields: its globals (those it defines and
    those its tree headers define), the files it read, and any failure."""
    unit: str
    globals: tuple[GlobalVar, ...] = ()
    uses: tuple[Use, ...] = ()
    functions: tuple[Function, ...] = ()
    initializers: tuple[Initializer, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    depends_on: tuple[str, ...] = ()
    failed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    tree: Tree
    units: tuple[str, ...]
    globals: tuple[GlobalVar, ...]
    diagnostics: tuple[Diagnostic, ...]
    uses: tuple[Use, ...] = ()
    functions: tuple[Function, ...] = ()
    initializers: tuple[Initializer, ...] = ()
    unit_kinds: tuple[tuple[str, UnitKind], ...] = ()
    failed_units: tuple[str, ...] = field(default=())
    cache_hits: int = 0
    library_files: frozenset[str] = frozenset()   # files of bundled C libraries (scan.discovery.library_files)
    files: frozenset[str] = frozenset()           # every tree file a unit compiles or includes


class StateClass(enum.Enum):
    """Where a global's state belongs once interpreters are isolated."""
    RUNTIME = "runtime"            # process-wide by nature: _PyRuntimeState, guarded
    INTERPRETER = "interpreter"    # one copy per interpreter: PyInterpreterState, module state
    IMMUTABLE = "immutable"        # never written after static initialization: shared safely


class Confidence(enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The class of one global, the rule that decided it and the facts it used."""
    identity: tuple[str, str, str]
    state_class: StateClass
    rule: str                      # a stable id from classify.rules.RULES
    confidence: Confidence
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    """A `cglobals: ignore[CLASS] reason` comment in C: it covers the
    declaration on its own line, or on the next line when it stands alone."""
    file: str
    line: int                      # the comment's line
    covers: int                    # the declaration line it applies to
    label: str                     # the text between the brackets
    reason: str

    @property
    def state_class(self) -> StateClass | None:
        """None when the label is not a class."""
        return next((c for c in StateClass if c.value == self.label), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """What a git diff changed: lines added or changed per file (new files
    whole), and the files deleted."""
    base: str
    lines: tuple[tuple[str, frozenset[int]], ...]
    deleted: frozenset[str]

    @property
    def files(self) -> frozenset[str]:
        return frozenset(path for path, _ in self.lines) | self.deleted
