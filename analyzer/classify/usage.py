"""The whole-tree call graph, and from which entry points each function is
reachable.

Nodes are functions; edges are direct calls.  Entry points come from generic
knowledge of CPython's lifecycle API: the C program's `main()` and what an
embedder calls before `Py_Initialize()`, runtime initialization and
finalization, interpreter creation and teardown, extension module init and
exec functions (`PyInit_*` and the functions a `PyModuleDef_Slot` table
names), signal handlers (functions given to `signal`/`PyOS_setsig` or stored
in a `sigaction`), the default allocator (the functions a static allocator
table names), allocator hooks and the process-wide hooks (audit hooks and
the open_code hook).  Code within a few calls of a signal handler, an
allocator or a hook runs in it; deeper code is shared with ordinary code.
Everything else that nothing calls, or whose address is taken (methods,
callbacks, slots), is an ordinary root: it may run at any time, in any
interpreter.  Reachability from one kind of entry stops at the entries of
the other kinds: what `Py_InitializeFromConfig` reaches through
`PyInterpreterState_New` belongs to interpreter creation.  A test module's
methods and the hooks test code installs reach only test code (`_test*`).

The networkx graph stays in this module; callers get Reach records.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from ..cpython.layout import is_test_code
from ..cpython.lifecycle import (
    ALLOCATOR_API,
    ALLOCATOR_TABLES,
    CALLBACK_DEPTH,
    HOOK_INSTALLERS,
    INSTALLERS,
    INTERPRETER_ENTRIES,
    MODULE_INIT_PREFIX,
    MODULE_SLOT_TYPE,
    RUNTIME_ENTRIES,
)
from ..model import Family, Function, FunctionKey, GlobalVar, Initializer


class Context(enum.Enum):
    RUNTIME_LIFECYCLE = "runtime init/fini"
    INTERPRETER_LIFECYCLE = "interpreter creation/teardown"
    MODULE_INIT = "module init/exec/teardown"
    SIGNAL_HANDLER = "signal handler"
    OBJECT_ALLOCATOR = "the default allocator"
    ALLOCATOR = "allocator hook"
    PROCESS_HOOK = "process-wide hook"
    ORDINARY = "ordinary calls"


CALLBACKS = (Context.SIGNAL_HANDLER, Context.OBJECT_ALLOCATOR, Context.ALLOCATOR, Context.PROCESS_HOOK)
"""The contexts of callbacks: code within CALLBACK_DEPTH calls of their entries runs in them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reach:
    """The contexts a function runs in, each with an entry point that reaches it."""
    contexts: frozenset[Context]
    entries: tuple[tuple[Context, FunctionKey], ...]
    callback: Context | None = None       # the first of CALLBACKS it runs in
    once_entries: frozenset[FunctionKey] = frozenset()   # runtime entries that are functions called once per process


_UNREACHED = Reach(contexts=frozenset(), entries=())
ONCE = Reach(contexts=frozenset({Context.RUNTIME_LIFECYCLE}), entries=())
"""The reach of code that runs once per process (see model.Use.once)."""


class CallGraph:
    def __init__(self, functions: Iterable[Function], initializers: Iterable[Initializer],
                 globals_: Iterable[GlobalVar]) -> None:
        graph: nx.DiGraph = nx.DiGraph()
        functions = list(functions)
        globals_ = list(globals_)
        referenced: set[FunctionKey] = set()
        handlers: set[FunctionKey] = set()
        once_targets: set[FunctionKey] = set()
        once_edges: set[tuple[FunctionKey, FunctionKey]] = set()
        for function in functions:
            if function.once_calls:
                once_edges.update((function.key, callee) for callee in function.once_calls)
                once_targets.update(function.once_calls)
            referenced.update(function.references)
            handlers.update(function.signal_handlers)
        graph.add_nodes_from(function.key for function in functions)
        graph.add_edges_from((function.key, callee) for function in functions for callee in function.calls)
        test_code = {function.key for function in functions if is_test_code(function.file)}
        by_key = {function.key: function for function in functions}
        allocator = _installed(graph, by_key, INSTALLERS)
        hooks = _installed(graph, by_key, HOOK_INSTALLERS)
        module_tables = {var.identity for var in globals_ if var.ctype.name == MODULE_SLOT_TYPE}
        # a PyModuleDef names its m_traverse, m_clear and m_free functions (its
        # methods are in a table of their own): each interpreter's module runs them
        module_tables |= {var.identity for var in globals_ if var.family is Family.MODULE_DEF}
        allocator_tables = {var.identity for var in globals_ if var.ctype.name in ALLOCATOR_TABLES}
        module_entries: set[FunctionKey] = set()
        default_allocator: set[FunctionKey] = set()
        for initializer in initializers:
            referenced.update(initializer.functions)
            if initializer.target in module_tables:
                module_entries.update(initializer.functions)
            if initializer.target in allocator_tables:
                default_allocator.update(initializer.functions)
        nodes = set(graph.nodes)
        module_entries.update(key for key in nodes if key[1].startswith(MODULE_INIT_PREFIX))
        module_entries &= nodes
        runtime = {key for key in nodes if key[1] in RUNTIME_ENTRIES} - test_code
        interpreter = {key for key in nodes if key[1] in INTERPRETER_ENTRIES}
        handlers &= nodes
        hooks &= nodes
        default_allocator &= nodes
        allocator = (allocator | {key for key in nodes if key[1] in ALLOCATOR_API}) & nodes
        lifecycle = runtime | interpreter | module_entries
        roots = {key for key, degree in graph.in_degree() if degree == 0} | (referenced & nodes)
        callback_entries = handlers | allocator | default_allocator | hooks
        roots -= lifecycle | callback_entries | test_code
        callbacks = {Context.SIGNAL_HANDLER: handlers, Context.OBJECT_ALLOCATOR: default_allocator,
                     Context.ALLOCATOR: allocator, Context.PROCESS_HOOK: hooks}
        self._once_targets = frozenset(once_targets & nodes)
        self._reached: dict[Context, dict[FunctionKey, tuple[FunctionKey, int]]] = {
            # a function called once per process that is also a module's or an
            # interpreter's entry (m_free, called once by init's error path) runs with each
            Context.RUNTIME_LIFECYCLE: _reach(graph, runtime | (once_targets & nodes) - interpreter - module_entries,
                                              interpreter | module_entries, set()),
            Context.INTERPRETER_LIFECYCLE: _reach(graph, interpreter, runtime | module_entries, once_edges),
            Context.MODULE_INIT: _reach(graph, module_entries, runtime | interpreter, once_edges),
        }
        beyond: set[FunctionKey] = set()     # called from a callback's code, too deep to run in it
        for context, sources in callbacks.items():
            depth = CALLBACK_DEPTH[context.name]
            reached = _reach(graph, sources - test_code, lifecycle, once_edges, depth)
            # a hook a test installs is test code's caller: it reaches only test code
            for key, entry in _reach(graph, sources & test_code, lifecycle | (nodes - test_code),
                                     once_edges, depth).items():
                reached.setdefault(key, entry)
            self._reached[context] = reached
            beyond.update(successor for key, (_, d) in reached.items() if d == depth
                          for successor in graph.successors(key) if successor not in reached)
        ordinary = _reach(graph, roots | (beyond - lifecycle - test_code), lifecycle | test_code, once_edges)
        # a test module's methods run as any module's do, but only for its own
        # code: what they call outside test code is reached as the tests call it
        test_roots = {key for key, degree in graph.in_degree() if degree == 0} | (referenced & nodes)
        test_roots &= test_code - lifecycle - callback_entries
        for key, entry in _reach(graph, test_roots, lifecycle | (nodes - test_code), once_edges).items():
            ordinary.setdefault(key, entry)
        self._reached[Context.ORDINARY] = ordinary

    def reach(self, key: FunctionKey) -> Reach:
        entries = tuple((context, reached[key][0]) for context, reached in self._reached.items() if key in reached)
        if not entries:
            return _UNREACHED
        contexts = frozenset(c for c, _ in entries)
        callback = next((context for context in CALLBACKS if context in contexts), None)
        once = frozenset(entry for context, entry in entries
                         if context is Context.RUNTIME_LIFECYCLE and entry in self._once_targets)
        return Reach(contexts=contexts, entries=entries, callback=callback, once_entries=once)


def _installed(graph: nx.DiGraph, by_key: dict[FunctionKey, Function], installers: frozenset[str]) -> set[FunctionKey]:
    """The functions the callers of `installers` name without calling them:
    the hooks they install."""
    installed: set[FunctionKey] = set()
    for installer in (key for key in graph if key[1] in installers):
        for caller in graph.predecessors(installer):
            installed.update(by_key[caller].references if caller in by_key else ())
    return installed


def _reach(graph: nx.DiGraph, sources: set[FunctionKey], stop: set[FunctionKey],
           skip: set[tuple[FunctionKey, FunctionKey]],
           max_depth: int | None = None) -> dict[FunctionKey, tuple[FunctionKey, int]]:
    """Every function reachable from `sources` without entering `stop`, within
    `max_depth` calls when given, with the source that reaches it and the
    number of calls from it (breadth first, sources in a stable order), not
    following the calls in `skip` (those made only once per process, for
    every context but runtime's)."""
    reached: dict[FunctionKey, tuple[FunctionKey, int]] = {source: (source, 0) for source in sorted(sources)}
    frontier = sorted(sources)
    depth = 0
    while frontier and (max_depth is None or depth < max_depth):
        depth += 1
        following = []
        for node in frontier:
            origin = reached[node][0]
            for successor in graph.successors(node):
                if successor in reached or successor in stop or (node, successor) in skip:
                    continue
                reached[successor] = (origin, depth)
                following.append(successor)
        frontier = following
    return reached
