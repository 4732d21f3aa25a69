"""The classification rules: one table, tried in order, the first that
matches decides.  Each rule is a pure function of a global's facts and
returns its confidence and evidence, or None.  docs/rules.md is rendered
from this table (`cglobals rules`)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..cpython.api import (
    BUFFER_DESTINATIONS,
    LOCK_CALLS,
    MUTATING_CALLS,
    PROCESS_RESOURCE_CALLS,
    PUBLIC_NAME,
    READ_ONLY_PARAMETERS,
)
from ..cpython.families import pointee_family
from ..cpython.lifecycle import (
    ALLOCATOR_API,
    ALLOCATOR_TABLES,
    CALLBACK_DEPTH,
    HOOK_INSTALLERS,
    INSTALLERS,
    INTERPRETER_ENTRIES,
    PRE_INIT_API,
    RUNTIME_ENTRIES,
)
from ..model import Confidence, Family, StateClass, Storage, UseKind
from .facts import OBJECT_FAMILIES, GlobalFacts, Site
from .usage import Context

Evidence = tuple[Confidence, tuple[str, ...]]
Match = Callable[[GlobalFacts], Evidence | None]

_LIFECYCLE = frozenset({Context.RUNTIME_LIFECYCLE})
_OBJECT_DATA = frozenset({Family.OBJECT_POINTER, Family.OBJECT, Family.STATIC_TYPE})
_PER_INTERPRETER_INIT = frozenset({Context.INTERPRETER_LIFECYCLE, Context.MODULE_INIT})
_PER_INTERPRETER_LIFECYCLE = frozenset({Context.INTERPRETER_LIFECYCLE, Context.RUNTIME_LIFECYCLE})
_MAX_SITES = 3
READYING_WRITES = ("readying writes the type's tp_flags, tp_version_tag, tp_base, tp_bases, tp_mro, tp_dict and "
                   "tp_subclasses (3.12 keeps the last three per interpreter for static builtin types); a second "
                   "interpreter readying it concurrently races on them (ThreadSanitizer shows it)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    state_class: StateClass
    match: Match
    idiom: str                  # the C idiom, for docs/rules.md
    example: str
    false_positives: str


def _where(site: Site) -> str:
    use = site.use
    function = use.function[1] if use.function else "?"
    how = {UseKind.ASSIGN: "assigned", UseKind.UPDATE: "updated", UseKind.MEMBER_WRITE: "written through",
           UseKind.ADDRESS: "address kept", UseKind.ARGUMENT: "address passed"}[use.kind]
    if use.kind is UseKind.ARGUMENT and use.callee:
        writes = use.callee_writes_through or BUFFER_DESTINATIONS.get(use.callee[1]) == use.position
        how = f"address passed to {use.callee[1]}()" + (", which writes through it" if writes else "")
    if use.via:
        how += f" (as an entry of {use.via})" if use.via.endswith("[]") else f" (via local {use.via})"
    return f"{how} in {function}() at {use.file}:{use.line}"


_ONCE = "once per process (under a _Py_IsMainInterpreter() test, a once-flag or a test of a table's entry)"


def _contexts(site: Site) -> str:
    if site.use.once:
        return _ONCE
    if not site.reach.contexts:
        return "no caller in the tree"
    parts = []
    for context, entry in site.reach.entries:
        if context is Context.RUNTIME_LIFECYCLE and entry in site.reach.once_entries:
            origin = "" if entry == site.use.function else f"from {entry[1]}, "
            parts.append(f"once per process ({origin}called under a once test)")
        else:
            parts.append(context.value if entry == site.use.function else f"{context.value} (from {entry[1]})")
    return ", ".join(parts)


def _describe(sites: Iterable[Site]) -> tuple[str, ...]:
    sites = sorted(sites, key=lambda s: (s.use.file, s.use.line))
    lines = [f"{_where(s)}; runs in: {_contexts(s)}" for s in sites[:_MAX_SITES]]
    if len(sites) > _MAX_SITES:
        lines.append(f"... and {len(sites) - _MAX_SITES} more sites")
    return tuple(lines)


def _read_by(facts: GlobalFacts) -> str:
    count = len(facts.readers)
    return f"read in {count} function{'s' if count != 1 else ''}" if count else "not read by any function"


# -- the rules, in order -----------------------------------------------------

def _const(facts: GlobalFacts) -> Evidence | None:
    if not facts.var.const:
        return None
    pointer = facts.var.ctype.pointers > 0 and not facts.var.ctype.is_array
    note = ("the pointer itself is const (outermost declarator); the data it points to is classified on its own"
            if pointer else "declared const")
    return Confidence.HIGH, (f"{note}: {facts.var.type}",)


def _thread_local(facts: GlobalFacts) -> Evidence | None:
    if not facts.var.thread_local:
        return None
    return Confidence.HIGH, ("thread-local: one copy per OS thread, never shared between interpreters' threads",)


def _lock(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is not Family.LOCK:
        return None
    return Confidence.MEDIUM, (f"lock or once-flag type {facts.var.type}: guards process-wide state",)


def _runtime_state(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is not Family.RUNTIME_STATE:
        return None
    return Confidence.HIGH, ("the runtime state itself (_PyRuntimeState)",)


def _extension_static_type(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is not Family.STATIC_TYPE or not facts.extension:
        return None
    readied = _describe(facts.readied) if facts.readied else ()
    return Confidence.MEDIUM, ("a static type of an extension module: every interpreter that imports the module "
                               "readies and uses the same object (PEP 687: a heap type in module state)",
                               *readied)


def _never_written(facts: GlobalFacts) -> Evidence | None:
    if facts.changes:
        return None
    detail = "; its address is passed around, as CPython shares static objects" if facts.escapes else ""
    confidence = Confidence.HIGH if not facts.escapes else Confidence.MEDIUM
    return confidence, (f"no write anywhere in the tree after static initialization; {_read_by(facts)}{detail}",)


def _callback(context: Context, why: str) -> Match:
    def match(facts: GlobalFacts) -> Evidence | None:
        sites = [s for s in facts.changes if s.reach.callback is context]
        if context is Context.SIGNAL_HANDLER:
            sites += [s for s in facts.signal_state if s not in sites]
        # reading a static object (a type check) in a handler shares nothing
        readers = [r for r, c in facts.callback_readers if c is context] \
            if facts.var.family not in OBJECT_FAMILIES else []
        if not sites and not readers:
            return None
        read = (f"read by {', '.join(r[1] + '()' for r in readers[:_MAX_SITES])}, which runs in a {context.value}",) \
            if readers else ()
        return Confidence.HIGH, (why, *read, *_describe(sites))
    return match


_signal_handler = _callback(Context.SIGNAL_HANDLER,
                            "used by a C signal handler, which runs outside any interpreter: process-wide")
_allocator = _callback(Context.ALLOCATOR, "used by the process-wide memory allocators or a hook installed in "
                                          "them, which every interpreter's allocations run")
_process_hook = _callback(Context.PROCESS_HOOK, "used by a hook installed with PySys_AddAuditHook() or "
                                                "PyFile_SetOpenCodeHook(): the runtime keeps one, which the "
                                                "events and opens of every interpreter call")


def _public_data(facts: GlobalFacts) -> Evidence | None:
    var = facts.var
    if (var.storage is not Storage.EXTERN or var.func or facts.extension or not PUBLIC_NAME.match(var.name)
            or var.family in _OBJECT_DATA or not (facts.changes or facts.set_by_tests)):
        return None
    if _handed_out_table(facts) is not None:
        return None     # a table filled at build time and only read: immutable.handed-out-table
    tests = ("also set by CPython's tests, as an embedder would",) if facts.set_by_tests else ()
    return Confidence.MEDIUM, ("public C-API data (a legacy configuration flag, a hook or table an embedder sets "
                               "before Py_Initialize()): one per process by contract, as C code outside CPython "
                               "reads and writes it by name", *tests, *_describe(facts.changes))


def _process_resource(facts: GlobalFacts) -> Evidence | None:
    if not facts.resources or facts.var.family in OBJECT_FAMILIES:
        return None
    calls = ", ".join(f"{name}()" for name in facts.resources)
    return Confidence.MEDIUM, (f"written together with process-wide state: the functions that write it call {calls}, "
                               "which the process has one of (or which probes what the system supports)",
                               *_describe(facts.writes))


def _holds_lock(facts: GlobalFacts) -> Evidence | None:
    if not facts.holds_lock or facts.var.family in OBJECT_FAMILIES:
        return None
    return Confidence.MEDIUM, ("shared on purpose: it holds its own lock, or every write is made holding a lock "
                               "kept in a global", *_describe(facts.writes))


def _library_state(facts: GlobalFacts) -> Evidence | None:
    if not facts.library or not facts.changes:
        return None
    return Confidence.MEDIUM, ("state of a bundled C library (no file of its directory includes Python.h or a "
                               "pycore_ header): the library keeps one copy per process, whichever interpreter "
                               "calls into it", *_describe(facts.changes))


def _object_allocator(facts: GlobalFacts) -> Evidence | None:
    changes = facts.changes
    if not any(s.reach.callback is Context.OBJECT_ALLOCATOR for s in changes):
        return None
    if not all(s.reach.callback is Context.OBJECT_ALLOCATOR or s.reach.contexts <= _PER_INTERPRETER_LIFECYCLE
               for s in changes):
        return None
    return Confidence.MEDIUM, ("the small-object allocator's state: the default object allocator's pools and "
                               "arenas, which 3.12 made per interpreter (objects belong to one interpreter and "
                               "are freed by it)", *_describe(changes))


_BUILD_TIME_TABLES = frozenset({Family.ARRAY, Family.STRUCT, Family.STRING, Family.OTHER})


def _handed_out_table(facts: GlobalFacts) -> Evidence | None:
    var = facts.var
    if not var.has_initializer or var.family not in _BUILD_TIME_TABLES or facts.writes or facts.readied:
        return None
    if var.family is Family.STRING and not var.ctype.is_array:
        return None
    if not facts.escapes or any(s.use.callee and s.use.callee[1] in LOCK_CALLS for s in facts.escapes):
        return None
    if all(s.reach.contexts <= _LIFECYCLE for s in facts.escapes):
        return None     # runtime init filling it in through a helper (_PyWideStringList_Append(&x, ...))
    return Confidence.LOW, ("filled at build time by its initializer and never written: its address is only "
                            "handed to functions that take it without const (lookups, searches, a callback "
                            "table), which read it; it should be const", *_describe(facts.escapes))


def _static_object(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family not in OBJECT_FAMILIES:
        return None
    ordinary = [s for s in facts.writes if Context.ORDINARY in s.reach.contexts]
    if ordinary:
        return None
    what = "a static builtin type" if facts.var.family is Family.STATIC_TYPE else "a statically allocated object"
    readying = (READYING_WRITES,) if facts.var.family is Family.STATIC_TYPE and facts.readied else ()
    return Confidence.MEDIUM, (f"{what}, shared by every interpreter (immortal from 3.12); "
                               "written only while readied or initialized:", *_describe(facts.changes), *readying)


def _shared_object_written(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family not in OBJECT_FAMILIES:
        return None
    ordinary = [s for s in facts.writes if Context.ORDINARY in s.reach.contexts]
    return Confidence.LOW, ("a statically allocated object shared by every interpreter, written after "
                            "initialization: needs a runtime-wide guard or per-interpreter slots",
                            *_describe(ordinary))


def _module_def(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is not Family.MODULE_DEF:
        return None
    return Confidence.MEDIUM, ("a PyModuleDef: shared by every interpreter by design (PEP 489); the import "
                               "machinery fills m_base once", *_describe(facts.changes))


def _identifier(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is not Family.IDENTIFIER:
        return None
    return Confidence.MEDIUM, ("a _Py_Identifier: a string fixed at build time; its index is assigned once per "
                               "process and its object cached per interpreter by the runtime",)


def _arg_parser(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is Family.ARG_PARSER:
        return Confidence.MEDIUM, ("an Argument Clinic _PyArg_Parser: initialized on first use, once per process, "
                                   "by the getargs machinery",)
    if pointee_family(facts.var.ctype) is Family.ARG_PARSER and facts.writes:
        return Confidence.MEDIUM, ("a pointer to Argument Clinic _PyArg_Parser records, which are all static and "
                                   "process-wide: it can only point at (a list of) those",
                                   *_describe(facts.writes))
    return None


def _runtime_lifecycle(facts: GlobalFacts) -> Evidence | None:
    changes = facts.changes
    if not changes:
        return None
    if not all(s.reach.contexts and s.reach.contexts <= _LIFECYCLE for s in changes):
        return None
    guarded = any(s.use.once for s in changes)
    note = (f"written only on runtime init/fini paths or {_ONCE}"
            if guarded else "written only on runtime init/fini paths (once per process)")
    return Confidence.MEDIUM, (note, *_describe(changes))


def _once_flag(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family in _OBJECT_DATA or not facts.writes or facts.escapes:
        return None
    if facts.extension and facts.var.family is not Family.SCALAR:
        return None
    lazy = [s for s in facts.writes if s.use.guarded]
    if not lazy or not all(s.use.guarded or s.reach.contexts <= _LIFECYCLE for s in facts.writes):
        return None
    if any(s.use.kind is UseKind.UPDATE for s in facts.writes):
        return None
    return Confidence.MEDIUM, ("data of the core written only after testing it (`if (!done) { ...; done = 1; }`) "
                               "or on runtime init/fini paths: computed once per process", *_describe(facts.writes))


def _hook(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is not Family.FUNCTION_POINTER or not facts.changes:
        return None
    if not facts.extension:
        return Confidence.MEDIUM, ("a function pointer written at run time: a process-wide hook",
                                   *_describe(facts.changes))
    if facts.var.storage is Storage.EXTERN and all(s.use.file != facts.var.file for s in facts.changes):
        return Confidence.MEDIUM, ("a library's hook (an exported function pointer written only by other files, "
                                   "the module that configures the library): the library has one per process",
                                   *_describe(facts.changes))
    return None


def _set_up_with(facts: GlobalFacts) -> Evidence | None:
    if not facts.partners or facts.var.family in OBJECT_FAMILIES:
        return None
    names = ", ".join(facts.partners[:_MAX_SITES]) + (" ..." if len(facts.partners) > _MAX_SITES else "")
    return Confidence.MEDIUM, (f"set up together with process-wide state: every function that writes it also "
                               f"writes {names}, which a signal handler or an allocator hook uses",
                               *_describe(facts.writes))


def _probe(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is not Family.SCALAR or not facts.probe or facts.readied or facts.escapes:
        return None
    if not all(s.reach.contexts and s.reach.contexts <= _PROBE_CONTEXTS for s in facts.writes):
        return None
    return Confidence.MEDIUM, ("the result of a probe: only ever assigned one constant or another on the two "
                               "branches of a test, in initialization code, so every interpreter computes the "
                               "same value (what the library, the kernel or the build can do): process-wide",
                               *_describe(facts.writes))


_PROBE_CONTEXTS = frozenset({Context.MODULE_INIT, Context.RUNTIME_LIFECYCLE, Context.INTERPRETER_LIFECYCLE})
_TABLES = frozenset({Family.ARRAY, Family.STRUCT, Family.STRING, Family.API_TABLE})
_INIT_CONTEXTS = _PER_INTERPRETER_INIT | _PER_INTERPRETER_LIFECYCLE


def _init_table(facts: GlobalFacts) -> Evidence | None:
    var = facts.var
    if var.family not in _TABLES or (var.family is Family.STRING and not var.ctype.is_array):
        return None
    changes = facts.changes
    if not changes or any(s.use.kind in (UseKind.ASSIGN, UseKind.UPDATE) for s in changes):
        return None
    if not all(s.reach.contexts and s.reach.contexts <= _INIT_CONTEXTS for s in changes):
        return None
    if not any(s.reach.contexts & _PER_INTERPRETER_INIT for s in changes):
        return None
    return Confidence.LOW, ("a table filled in or sorted in place only while a module or an interpreter is "
                            "initialized, never replaced: every initialization stores the same entries, so it "
                            "is shared data that should be const (filled at build time)", *_describe(changes))


def _module_state(facts: GlobalFacts) -> Evidence | None:
    if not facts.extension or not facts.changes:
        return None
    return Confidence.MEDIUM, ("mutable state of an extension module: each interpreter's module object needs "
                               "its own copy (module state, PEP 489/630)", *_describe(facts.changes))


def _object_cache(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is not Family.OBJECT_POINTER or not facts.writes:
        return None
    if facts.lazy:
        return Confidence.HIGH, ("a lazily created object (`if (!x) x = ...`): objects belong to one interpreter",
                                 *_describe(facts.writes))
    return Confidence.MEDIUM, ("holds a pointer to a Python object created at run time: objects belong to one "
                               "interpreter", *_describe(facts.writes))


def _interpreter_lifecycle(facts: GlobalFacts) -> Evidence | None:
    changes = facts.changes
    if not changes or not any(s.reach.contexts & _PER_INTERPRETER_INIT for s in changes):
        return None
    return Confidence.MEDIUM, ("written during interpreter creation/teardown or module init, which every "
                               "interpreter runs", *_describe(changes))


def _mutable(facts: GlobalFacts) -> Evidence | None:
    if not facts.writes:
        return None
    return Confidence.LOW, ("written during ordinary execution, which any interpreter may run",
                            *_describe(facts.writes))


def _escapes(facts: GlobalFacts) -> Evidence | None:
    return Confidence.LOW, ("no direct write, but its address is given to code that may write through it",
                            *_describe(facts.changes))


RULES: tuple[Rule, ...] = (
    Rule(id="immutable.const", state_class=StateClass.IMMUTABLE, match=_const,
         idiom="The object itself is const, by its outermost declarator.",
         example="static const char *const names[] = {...};  static PyObject *const x;",
         false_positives="None for the variable; a const pointer may point to mutable data, which is "
                         "classified with that data's own global."),
    Rule(id="runtime.thread-local", state_class=StateClass.RUNTIME, match=_thread_local,
         idiom="_Thread_local / __thread storage.",
         example="_Py_thread_local PyThreadState *_Py_tss_tstate;",
         false_positives="Thread-locals are safe under a per-interpreter GIL; 'runtime' records that they stay "
                         "process-level, not that they need a lock."),
    Rule(id="runtime.lock", state_class=StateClass.RUNTIME, match=_lock,
         idiom="A lock, mutex, condition or once-flag type (PyThread_type_lock, PyMutex, pthread_*).",
         example="static PyThread_type_lock head_mutex;",
         false_positives="A lock that guards one extension module's state belongs in that module's state."),
    Rule(id="runtime.runtime-state", state_class=StateClass.RUNTIME, match=_runtime_state,
         idiom="A variable of type _PyRuntimeState.",
         example="_PyRuntimeState _PyRuntime = _PyRuntimeState_INIT(_PyRuntime);",
         false_positives="None."),
    Rule(id="immutable.module-def", state_class=StateClass.IMMUTABLE, match=_module_def,
         idiom="A PyModuleDef.",
         example="static struct PyModuleDef spammodule = {PyModuleDef_HEAD_INIT, ...};",
         false_positives="Code that writes other fields than m_base at run time."),
    Rule(id="immutable.identifier", state_class=StateClass.IMMUTABLE, match=_identifier,
         idiom="A _Py_Identifier (the _Py_IDENTIFIER macro).",
         example="_Py_IDENTIFIER(__name__);",
         false_positives="None known."),
    Rule(id="runtime.arg-parser", state_class=StateClass.RUNTIME, match=_arg_parser,
         idiom="An Argument Clinic _PyArg_Parser, or a written pointer to one (the list of parsers initialized).",
         example="static _PyArg_Parser _parser = {...};  static struct _PyArg_Parser *static_arg_parsers;",
         false_positives="None known."),
    Rule(id="interpreter.extension-static-type", state_class=StateClass.INTERPRETER, match=_extension_static_type,
         idiom="A static PyTypeObject defined by an extension module.",
         example="static PyTypeObject Custom_Type = {...};  PyType_Ready(&Custom_Type);",
         false_positives="Types of modules that cannot be loaded in a subinterpreter at all."),
    Rule(id="runtime.public-data", state_class=StateClass.RUNTIME, match=_public_data,
         idiom="Data of the core with external linkage and a C-API name (`Py...`, `_Py...`; not an object, "
               "not a table only read), written anywhere or set by CPython's tests: the legacy configuration "
               "flags, the frozen-module and inittab tables, `PyOS_InputHook`-style hooks an embedder sets "
               "before Py_Initialize().",
         example="int Py_VerboseFlag;  PyOS_InputHook = my_hook;  (before Py_Initialize())",
         false_positives="Exported data that an interpreter owns (none in CPython's public API: exported "
                         "data cannot follow an interpreter)."),
    Rule(id="immutable.never-written", state_class=StateClass.IMMUTABLE, match=_never_written,
         idiom="No assignment, update, member or element write, or address given to writing code, anywhere "
               "in the tree (for static objects: no member write and no mutating API call).",
         example="static PyMethodDef methods[] = {...};  (only read, or named in a PyModuleDef)",
         false_positives="Writes the analyzer cannot see: through pointers stored in other data structures, "
                         "from code outside the tree, or in bodies the tokens show no write context for."),
    Rule(id="runtime.signal-handler", state_class=StateClass.RUNTIME, match=_signal_handler,
         idiom="Written or read within two calls of a function passed to signal()/PyOS_setsig() or stored "
               "in sa_handler/sa_sigaction; or given to sigaction()/sigaltstack()/sigprocmask().",
         example="static volatile sig_atomic_t is_tripped;  (set in the C signal handler)",
         false_positives="A helper called both from the handler and from ordinary code."),
    Rule(id="runtime.library-state", state_class=StateClass.RUNTIME, match=_library_state,
         idiom="Written data of a bundled C library: a file in a directory below the tree's top level none of "
               "whose files (nor those of its subdirectories) includes Python.h or a pycore_ header.",
         example="Objects/mimalloc/options.c: static long mi_max_error_count;  "
                 "Modules/_decimal/libmpdec/mpalloc.c: mpd_ssize_t MPD_MINALLOC;",
         false_positives="A library that keeps per-caller state in globals on purpose (then its caller must "
                         "serialize the calls: still one per process)."),
    Rule(id="interpreter.object-allocator", state_class=StateClass.INTERPRETER, match=_object_allocator,
         idiom="Written within four calls of a function that a static allocator table "
               f"({', '.join(ALLOCATOR_TABLES)}) names, the default allocator, and otherwise only on "
               "interpreter or runtime lifecycle paths.",
         example="static struct arena_object *arenas;  (pymalloc's, grown by new_arena())",
         false_positives="Process-wide facts the allocator computes once (the page size)."),
    Rule(id="runtime.allocator", state_class=StateClass.RUNTIME, match=_allocator,
         idiom="Written or read within three calls of a function installed with PyMem_SetAllocator()/"
               "PyObject_SetArenaAllocator(), or of that API itself.",
         example="static PyMemAllocatorEx _PyMem;  tracemalloc's trace tables",
         false_positives="A helper also used by ordinary code."),
    Rule(id="runtime.process-hook", state_class=StateClass.RUNTIME, match=_process_hook,
         idiom="Written or read within two calls of a function installed with "
               f"{'()/'.join(sorted(HOOK_INSTALLERS))}(): the runtime's one list of audit hooks or its one "
               "open_code hook, which every interpreter calls.",
         example="static int _audit_hook_clear_count;  (counted by a hook _testembed installs)",
         false_positives="A helper also used by ordinary code."),
    Rule(id="immutable.handed-out-table", state_class=StateClass.IMMUTABLE, match=_handed_out_table,
         idiom="An array or struct with a static initializer that nothing writes directly, whose address is "
               "only given to functions (parameters without const) or kept in a pointer, not only on runtime "
               "init paths (there a helper fills it in).",
         example="static struct constdef posix_constants_sysconf[] = {...};  conv_confname(arg, &v, "
                 "posix_constants_sysconf, ...)",
         false_positives="A callee of another unit that does write through the pointer (a buffer filled in, a "
                         "struct the library updates); not seen without the callee's body.  A callee of the same "
                         "unit is read: one that writes through its parameter makes the call a write, one that "
                         "only reads makes it a read."),
    Rule(id="immutable.static-object", state_class=StateClass.IMMUTABLE, match=_static_object,
         idiom="A statically allocated PyTypeObject or other object of the core, written only while readied "
               "(PyType_Ready, struct sequence init) or on lifecycle paths.",
         example="PyTypeObject PyLong_Type = {...};  PyObject _Py_NoneStruct;",
         false_positives="Readying writes tp_flags/tp_dict: 3.12 moved the mutable parts of static builtin "
                         "types to per-interpreter state, and re-readying races (see FACTS)."),
    Rule(id="runtime.shared-object-written", state_class=StateClass.RUNTIME, match=_shared_object_written,
         idiom="A statically allocated object of the core with member writes reachable from ordinary code.",
         example="PyFoo_Type.tp_flags |= ... in a method",
         false_positives="Writes that only run before the object is shared (the graph cannot order them)."),
    Rule(id="runtime.process-resource", state_class=StateClass.RUNTIME, match=_process_resource,
         idiom="Written by a function that also calls into process-wide state: "
               f"{', '.join(sorted(PROCESS_RESOURCE_CALLS))}.",
         example="static int dup3_works = -1; ... res = dup3(fd, fd2, O_CLOEXEC); if (errno == ENOSYS) "
                 "dup3_works = 0;  static PyObject *S_ident_o; ... openlog(ident, ...)",
         false_positives="Module state written by a function that also, on the side, calls one of these."),
    Rule(id="runtime.holds-lock", state_class=StateClass.RUNTIME, match=_holds_lock,
         idiom=f"Its own address is given to a lock call ({', '.join(sorted(LOCK_CALLS))}), or every write "
               "is in a function that acquires a lock kept in a global.",
         example="PyThread_acquire_lock(_PyOS_ReadlineLock, 1); _PyOS_ReadlineTState = tstate;",
         false_positives="A module's own lock that guards its module state (then both belong in module "
                         "state)."),
    Rule(id="runtime.lifecycle", state_class=StateClass.RUNTIME, match=_runtime_lifecycle,
         idiom="Every write is in a function reachable only from runtime init/fini (Py_InitializeFromConfig, "
               "Py_FinalizeEx, fork hooks, ...) without passing interpreter creation, or under a once test: "
               "_Py_IsMainInterpreter(), a scalar static the code then sets, or an entry of a table of plain "
               "values the code then fills (a table computed lazily, entry by entry).",
         example="static int initialized;  set in _PyRuntime_Initialize();  "
                 "if (log_base_BASE[base] == 0.0) { log_base_BASE[base] = ...; convwidth_base[base] = i; }",
         false_positives="A main-interpreter test that guards only part of the function; a lazily filled table "
                         "whose values depend on the interpreter (a table of objects is not taken)."),
    Rule(id="runtime.once-flag", state_class=StateClass.RUNTIME, match=_once_flag,
         idiom="Data of the core (not Python objects), or a scalar of an extension module, whose every write is "
               "an assignment or member write in a function that tests it first, or is on a runtime init/fini "
               "path: a once-flag, or a fact computed once and kept (a module's flag shares its static storage "
               "with every interpreter, so what it records is done once per process).",
         example="static int initialized; if (initialized) return; ...; initialized = 1;  "
                 "if (strncmp(rl_library_version, \"EditLine\", 8) == 0) using_libedit_emulation = 1; "
                 "... if (using_libedit_emulation) ...  (a module's exec)",
         false_positives="A per-interpreter flag reset on interpreter teardown; a counter reset by assignment; a "
                         "module flag meant per module that the module's clear function does not reset (the "
                         "flag is process-wide as written: a second interpreter skips the work)."),
    Rule(id="runtime.hook", state_class=StateClass.RUNTIME, match=_hook,
         idiom="A function pointer of the core written at run time; or a bundled library's exported function "
               "pointer that only other files write (the module configuring the library).",
         example="char *(*PyOS_ReadlineFunctionPointer)(FILE *, FILE *, const char *);  "
                 "mpd_mallocfunc = PyMem_Malloc;  (in _decimal.c)",
         false_positives="A per-interpreter callback kept in a function pointer."),
    Rule(id="runtime.set-up-with", state_class=StateClass.RUNTIME, match=_set_up_with,
         idiom="Every function that writes it (none a module's init or exec function, one at least reached from "
               "the runtime's initialization) also writes a global of the same file that a signal handler or an "
               "allocator hook uses: set up together.",
         example="tracemalloc_init(): tracemalloc_filenames = hashtable_new(...); tracemalloc_traces = "
                 "tracemalloc_create_traces_table();  (the traces are read by the allocator hooks)",
         false_positives="A function that sets up a process-wide table and, on the side, a module's own state. "
                         "Not matched: state a module's exec function sets up beside a signal handler it installs "
                         "(readline's): per-module by intent."),
    Rule(id="runtime.probe", state_class=StateClass.RUNTIME, match=_probe,
         idiom="A scalar only ever assigned constants, one in each branch of one test, in code only "
               "initialization (a module's exec, runtime or interpreter init) runs: a capability probe whose "
               "answer is the same in every interpreter.",
         example="add_history(\"1\"); if (history_get(1) == NULL) { libedit_history_start = 0; } else { "
                 "libedit_history_start = 1; }  (readline's setup, in its exec)",
         false_positives="A per-interpreter setting that initialization picks from the interpreter's "
                         "configuration with the same if/else (`if (config->x) flag = 1; else flag = 0;`)."),
    Rule(id="immutable.init-table", state_class=StateClass.IMMUTABLE, match=_init_table,
         idiom="An array, struct or API table (slots, a struct sequence description; not an object pointer) whose "
               "only changes are element or member writes, or "
               "its address given away, in module init/exec or interpreter creation, never an assignment of the "
               "whole: entries filled in at init from constants, or a table sorted in place.",
         example="static Py_complex acos_special_values[7][7];  (filled by a macro in the module's exec); "
                 "qsort(posix_constants_sysconf, ...);  Str_Type_slots[0].pfunc = &PyUnicode_Type;",
         false_positives="A table filled with values that differ between interpreters (objects are excluded by "
                         "family; other per-interpreter values are not seen)."),
    Rule(id="interpreter.module-state", state_class=StateClass.INTERPRETER, match=_module_state,
         idiom="Any other written global of an extension module.",
         example="static PyObject *ErrorObject;  set in the module's exec function",
         false_positives="Process-wide facts computed once (CPU features, a library's global init)."),
    Rule(id="interpreter.object-cache", state_class=StateClass.INTERPRETER, match=_object_cache,
         idiom="A PyObject pointer assigned at run time, usually lazily: `if (x == NULL) x = ...`.",
         example="static PyObject *cached; if (!cached) cached = PyUnicode_InternFromString(...);",
         false_positives="Immortal objects (interned at build time) cached process-wide."),
    Rule(id="interpreter.lifecycle", state_class=StateClass.INTERPRETER, match=_interpreter_lifecycle,
         idiom="Written during interpreter creation/teardown or a module's init, exec or teardown.",
         example="a freelist reset in PyInterpreterState_Clear",
         false_positives="Writes guarded by a main-interpreter test the analyzer cannot see."),
    Rule(id="interpreter.mutable", state_class=StateClass.INTERPRETER, match=_mutable,
         idiom="Any other global written during ordinary execution.",
         example="static int recursion_depth;  counters, freelists, caches",
         false_positives="Process-wide statistics or once-computed facts; low confidence on purpose."),
    Rule(id="interpreter.escapes", state_class=StateClass.INTERPRETER, match=_escapes,
         idiom="Never written directly, but its address is given to code that may write through it.",
         example="static char buffer[64];  snprintf(buffer, ...)",
         false_positives="Callees that only read but lack a const in their prototype."),
)


def render_rules() -> str:
    """docs/rules.md."""
    def names(entries: frozenset[str]) -> str:
        return ", ".join(f"`{n}`" for n in sorted(entries))

    lines = ["# Classification rules", "",
             "Generated from `analyzer/classify/rules.py` by `cglobals rules > docs/rules.md`.", "",
             "## Facts", "",
             "Each global gets one class (`runtime`, `interpreter`, `immutable`), the id of the rule that "
             "decided it, a confidence and evidence: the sites and contexts the rule used. The facts:", "",
             "- **declaration**: const-ness of the object itself (outermost declarator), thread-local storage, "
             "type family (see the README), whether the file is extension module code (`Modules/`, but for "
             "the core files at its top level).",
             "- **sites**: every use in a function body, resolved per unit (locals shadow, function-local "
             "statics are their own globals): assignment, update (`++`, `+=`), member or element write "
             "(`x.f =`, `x[i] =`, `x->f =`, `*x =`), writes through a local pointer that holds `&x` (aliases), "
             "address kept, address passed to a call (with the callee and whether its prototype's parameter "
             "points to const), reads. Its address given as the buffer a C library call writes (the destination of "
             "`memcpy`, `memset`, `read`, ...; 3.13's `Py_XSETREF` is a `memcpy`) is a write. "
             "Reference counting calls are not writes. For statically allocated "
             "objects (static types, singletons) only member writes and the generic mutating API "
             f"({names(MUTATING_CALLS)}) count: handing their address around is how CPython shares them. "
             "That API writes the type or object it is given; a description or spec given beside it "
             "(`PyStructSequence_Desc`, a type spec) is read. Parameters CPython declares without const but "
             f"only reads are reads: the keyword list of {names(frozenset(READ_ONLY_PARAMETERS))} (3.13 "
             "declares it `char * const *`).",
             "- **lazy initialization**: a write in a body that also tests the variable.",
             "- **main-interpreter code**: writes and calls under a `_Py_IsMainInterpreter()` test (or after "
             "an early return on its negation) run once per process.",
             "- **contexts**: a whole-tree call graph (networkx) of direct calls. A function runs in the "
             "contexts whose entry points reach it, without passing the entry points of another context:",
             f"  - runtime init/fini: {names(RUNTIME_ENTRIES - PRE_INIT_API)}, and the pre-init API an "
             f"embedder calls before Py_Initialize(): {names(PRE_INIT_API)} (a test program's `main()` is "
             "test code);",
             f"  - interpreter creation/teardown: {names(INTERPRETER_ENTRIES)};",
             "  - module init/exec/teardown: `PyInit_*`, the functions a `PyModuleDef_Slot` table names and "
             "those a `PyModuleDef` names (`m_traverse`, `m_clear`, `m_free`);",
             "  - signal handler: functions given to `signal()`/`PyOS_setsig()` or stored in "
             f"`sa_handler`/`sa_sigaction`, within {CALLBACK_DEPTH['SIGNAL_HANDLER']} calls;",
             "  - the default allocator: the functions the initializer of a static allocator table "
             f"({names(frozenset(ALLOCATOR_TABLES))}) names, within {CALLBACK_DEPTH['OBJECT_ALLOCATOR']} calls;",
             f"  - allocator hook: {names(ALLOCATOR_API)}, and functions installed with "
             f"{names(INSTALLERS)}, within {CALLBACK_DEPTH['ALLOCATOR']} calls;",
             f"  - process-wide hook: functions installed with {names(HOOK_INSTALLERS)}, within "
             f"{CALLBACK_DEPTH['PROCESS_HOOK']} calls;",
             "  - ordinary calls: everything reachable from functions nothing calls or whose address is "
             "taken (methods, callbacks), and code deeper than those limits below a signal handler or an "
             "allocator, except test modules (`_test*`).",
             "- **test code**: uses in CPython's test modules and programs (`_test*`) are not sites (their "
             "callers are artificial); that they write a global is kept as a fact of its own.",
             "- **process-wide resources**: the calls the functions writing a global make into state the "
             f"process has one of ({names(PROCESS_RESOURCE_CALLS)}); a module's init or exec function does "
             "not pair its writes with them (it configures its library beside filling its state).",
             f"- **locks**: a global whose own member is given to a lock call ({names(LOCK_CALLS)}), or "
             "(in the core) whose every write is in a function that acquires a lock kept in a global.",
             "",
             "Confidence is `high` when the fact is structural (const, thread-local, a lazily created object, a "
             "signal handler's data), `medium` for rules that rest on the call graph or on CPython's "
             "conventions, `low` for fallbacks. Known blind spots: writes through pointers stored in other "
             "data structures, bodies whose tokens show no write context for any global of the unit (they "
             "are not parsed), and flow: the graph does not know that a call happens only once.",
             "",
             "The rules are tried in this order; the first that matches decides the class.", ""]
    for rule in RULES:
        lines += [f"## `{rule.id}` → {rule.state_class.value}", "", f"**Idiom.** {rule.idiom}", "",
                  f"**Example.** `{rule.example}`", "", f"**Known false positives.** {rule.false_positives}", ""]
    return "\n".join(lines)

