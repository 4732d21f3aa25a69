"""The classification rules: one table, tried in order, the first that
matches decides.  Each rule is a pure function of a global's facts and
returns its confidence and evidence, or None.  docs/rules.md is rendered
from this table (`cglobals rules`)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..cpython.api import MUTATING_CALLS, READ_ONLY_PARAMETERS
from ..cpython.lifecycle import ALLOCATOR_API, CALLBACK_DEPTH, INSTALLERS, INTERPRETER_ENTRIES, RUNTIME_ENTRIES
from ..model import Confidence, Family, StateClass, UseKind
from .facts import OBJECT_FAMILIES, GlobalFacts, Site
from .usage import Context

Evidence = tuple[Confidence, tuple[str, ...]]
Match = Callable[[GlobalFacts], Evidence | None]

_LIFECYCLE = frozenset({Context.RUNTIME_LIFECYCLE})
_OBJECT_DATA = frozenset({Family.OBJECT_POINTER, Family.OBJECT, Family.STATIC_TYPE})
_PER_INTERPRETER_INIT = frozenset({Context.INTERPRETER_LIFECYCLE, Context.MODULE_INIT})
_MAX_SITES = 3


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
        how = f"address passed to {use.callee[1]}()"
    if use.via:
        how += f" (via local {use.via})"
    return f"{how} in {function}() at {use.file}:{use.line}"


def _contexts(site: Site) -> str:
    if site.use.once:
        return "once per process (under a _Py_IsMainInterpreter() test or a once-flag)"
    if not site.reach.contexts:
        return "no caller in the tree"
    parts = []
    for context, entry in site.reach.entries:
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
    pointer = "*" in facts.var.type and not facts.var.type.endswith("]")
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
        readers = [r for r, c in facts.callback_readers if c is context]
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


def _static_object(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family not in OBJECT_FAMILIES:
        return None
    ordinary = [s for s in facts.writes if Context.ORDINARY in s.reach.contexts]
    if ordinary:
        return None
    what = "a static builtin type" if facts.var.family is Family.STATIC_TYPE else "a statically allocated object"
    return Confidence.MEDIUM, (f"{what}, shared by every interpreter (immortal from 3.12); "
                               "written only while readied or initialized:", *_describe(facts.changes))


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
    if facts.var.family is not Family.ARG_PARSER:
        return None
    return Confidence.MEDIUM, ("an Argument Clinic _PyArg_Parser: initialized on first use, once per process, "
                               "by the getargs machinery",)


def _runtime_lifecycle(facts: GlobalFacts) -> Evidence | None:
    changes = facts.changes
    if not changes:
        return None
    if not all(s.reach.contexts and s.reach.contexts <= _LIFECYCLE for s in changes):
        return None
    guarded = any(s.use.once for s in changes)
    note = ("written only on runtime init/fini paths or once per process (under a _Py_IsMainInterpreter() "
            "test or a once-flag)"
            if guarded else "written only on runtime init/fini paths (once per process)")
    return Confidence.MEDIUM, (note, *_describe(changes))


def _once_flag(facts: GlobalFacts) -> Evidence | None:
    if facts.extension or facts.var.family in _OBJECT_DATA or not facts.writes or facts.escapes:
        return None
    lazy = [s for s in facts.writes if s.use.guarded]
    if not lazy or not all(s.use.guarded or s.reach.contexts <= _LIFECYCLE for s in facts.writes):
        return None
    if any(s.use.kind is UseKind.UPDATE for s in facts.writes):
        return None
    return Confidence.MEDIUM, ("data of the core written only after testing it (`if (!done) { ...; done = 1; }`) "
                               "or on runtime init/fini paths: computed once per process", *_describe(facts.writes))


def _hook(facts: GlobalFacts) -> Evidence | None:
    if facts.var.family is not Family.FUNCTION_POINTER or not facts.changes or facts.extension:
        return None
    return Confidence.MEDIUM, ("a function pointer written at run time: a process-wide hook", *_describe(facts.changes))


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
         idiom="An Argument Clinic _PyArg_Parser.",
         example="static _PyArg_Parser _parser = {...};",
         false_positives="None known."),
    Rule(id="interpreter.extension-static-type", state_class=StateClass.INTERPRETER, match=_extension_static_type,
         idiom="A static PyTypeObject defined by an extension module.",
         example="static PyTypeObject Custom_Type = {...};  PyType_Ready(&Custom_Type);",
         false_positives="Types of modules that cannot be loaded in a subinterpreter at all."),
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
    Rule(id="runtime.allocator", state_class=StateClass.RUNTIME, match=_allocator,
         idiom="Written or read within three calls of a function installed with PyMem_SetAllocator()/"
               "PyObject_SetArenaAllocator(), or of that API itself.",
         example="static PyMemAllocatorEx _PyMem;  tracemalloc's trace tables",
         false_positives="A helper also used by ordinary code."),
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
    Rule(id="runtime.lifecycle", state_class=StateClass.RUNTIME, match=_runtime_lifecycle,
         idiom="Every write is in a function reachable only from runtime init/fini (Py_InitializeFromConfig, "
               "Py_FinalizeEx, fork hooks, ...) without passing interpreter creation, or in a function that "
               "tests _Py_IsMainInterpreter().",
         example="static int initialized;  set in _PyRuntime_Initialize()",
         false_positives="A main-interpreter test that guards only part of the function."),
    Rule(id="runtime.once-flag", state_class=StateClass.RUNTIME, match=_once_flag,
         idiom="Data of the core (not Python objects) whose every write is an assignment or member write in a "
               "function that tests it first, or is on a runtime init/fini path.",
         example="static int initialized; if (initialized) return; ...; initialized = 1;",
         false_positives="A per-interpreter flag reset on interpreter teardown; a counter reset by assignment."),
    Rule(id="runtime.hook", state_class=StateClass.RUNTIME, match=_hook,
         idiom="A function pointer of the core written at run time.",
         example="char *(*PyOS_ReadlineFunctionPointer)(FILE *, FILE *, const char *);",
         false_positives="A per-interpreter callback kept in a function pointer."),
    Rule(id="interpreter.module-state", state_class=StateClass.INTERPRETER, match=_module_state,
         idiom="Any other written global of an extension module.",
         example="static PyObject *ErrorObject;  set in the module's exec function",
         false_positives="Process-wide facts computed once (CPU features, a library's global init)."),
    Rule(id="interpreter.object-cache", state_class=StateClass.INTERPRETER, match=_object_cache,
         idiom="A PyObject pointer assigned at run time, usually lazily: `if (x == NULL) x = ...`.",
         example="static PyObject *cached; if (!cached) cached = PyUnicode_InternFromString(...);",
         false_positives="Immortal objects (interned at build time) cached process-wide."),
    Rule(id="interpreter.lifecycle", state_class=StateClass.INTERPRETER, match=_interpreter_lifecycle,
         idiom="Written during interpreter creation/teardown or module init/exec.",
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
             "points to const), reads. Reference counting calls are not writes. For statically allocated "
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
             f"  - runtime init/fini: {names(RUNTIME_ENTRIES)};",
             f"  - interpreter creation/teardown: {names(INTERPRETER_ENTRIES)};",
             "  - module init/exec: `PyInit_*` and the functions a `PyModuleDef_Slot` table names;",
             "  - signal handler: functions given to `signal()`/`PyOS_setsig()` or stored in "
             f"`sa_handler`/`sa_sigaction`, within {CALLBACK_DEPTH['SIGNAL_HANDLER']} calls;",
             f"  - allocator hook: {names(ALLOCATOR_API)}, and functions installed with "
             f"{names(INSTALLERS)}, within {CALLBACK_DEPTH['ALLOCATOR']} calls;",
             "  - ordinary calls: everything reachable from functions nothing calls or whose address is "
             "taken (methods, callbacks), except test modules (`_test*`).",
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

