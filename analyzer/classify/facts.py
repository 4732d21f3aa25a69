"""What the code says about each global, gathered from the scan: how it is
written, read and given away, and in which contexts the writing functions run."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from ..cpython.api import (
    ATOMIC_WRITE,
    BUFFER_DESTINATIONS,
    LOCK_CALLS,
    MUTATING_CALLS,
    PROCESS_RESOURCE_CALLS,
    READ_ONLY_PARAMETERS,
    SIGNAL_STATE_CALLS,
    is_refcount_call,
)
from ..cpython.layout import is_extension, is_test_code
from ..model import Family, FunctionKey, GlobalVar, ScanResult, Use, UseKind
from ..scan.memory import collector_paused
from .usage import ONCE, CallGraph, Context, Reach

_DIRECT_WRITES = frozenset({UseKind.ASSIGN, UseKind.UPDATE, UseKind.MEMBER_WRITE})
OBJECT_FAMILIES = frozenset({Family.STATIC_TYPE, Family.OBJECT})
SHARED_BY_ADDRESS = OBJECT_FAMILIES | {Family.API_TABLE}
"""Families whose address CPython's API takes without writing through it
(static objects; method, member, slot tables and type specs): only direct
writes and the generic mutating API change them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """A use that may change the global, with the context of its function."""
    use: Use
    reach: Reach


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalFacts:
    var: GlobalVar
    extension: bool                  # defined in an extension module's code (Modules/, not the core)
    writes: tuple[Site, ...]         # assignments, updates, member and element writes
    readied: tuple[Site, ...]        # address given to the generic mutating API (PyType_Ready, ...)
    escapes: tuple[Site, ...]        # address given where the callee or holder may write
    readers: tuple[FunctionKey, ...]
    callback_readers: tuple[tuple[FunctionKey, Context], ...]   # readers that run in a signal handler or hook
    lazy: bool                       # every assignment sits in a body that tests the variable first
    used_in: frozenset[Context] = frozenset()   # the contexts of every function that uses it
    set_by_tests: bool = False       # a global of the core written by test code (left out of `writes`)
    resources: tuple[str, ...] = ()  # PROCESS_RESOURCE_CALLS made by the functions that write it
    holds_lock: bool = False         # every write is made holding a process-wide lock, or it holds its own
    library: bool = False            # defined in a bundled C library's file (ScanResult.library_files)
    partners: tuple[str, ...] = ()   # see _with_partners
    probe: bool = False              # every write stores a constant decided by a test (Use.probe)

    @property
    def signal_state(self) -> tuple[Site, ...]:
        """Sites that give the global to the process's signal machinery."""
        return tuple(s for s in self.escapes if s.use.callee and s.use.callee[1] in SIGNAL_STATE_CALLS)

    @property
    def changes(self) -> tuple[Site, ...]:
        """Every site that may change the global, as the rules count them
        (see SHARED_BY_ADDRESS)."""
        if self.var.family in SHARED_BY_ADDRESS:
            return self.writes + self.readied
        return self.writes + self.readied + self.escapes


def gather(result: ScanResult, wanted: tuple[GlobalVar, ...]) -> dict[tuple[str, str, str], GlobalFacts]:
    with collector_paused():
        graph = CallGraph(result.functions, result.initializers, result.globals)
    reach_memo: dict[FunctionKey, Reach] = {}
    called = {function.key: {*function.library_calls, *(name for _, name in function.calls)}
              for function in result.functions}
    locking = _lock_holders(result)

    def reach(key: FunctionKey) -> Reach:
        if key not in reach_memo:
            reach_memo[key] = graph.reach(key)
        return reach_memo[key]

    def site(use: Use) -> Site:
        assert use.function is not None
        return Site(use=use, reach=ONCE if use.once else reach(use.function))

    identities = {var.identity for var in wanted}
    by_target: dict[tuple[str, str, str], list[Use]] = defaultdict(list)
    for use in result.uses:
        if use.target in identities:
            by_target[use.target].append(use)
    entries_readied = _entries_readied(result)
    unit_kinds = dict(result.unit_kinds)
    facts = {}
    for var in wanted:
        writes, readied, escapes, readers = [], [], [], set()
        array = var.ctype.is_array
        set_by_tests = own_lock = False
        for use in by_target.get(var.identity, ()):
            if use.function is None:
                continue          # an initializer: reads and addresses only
            callee = use.callee[1] if use.callee else None
            if is_test_code(use.file) and not is_test_code(var.file):
                set_by_tests |= use.kind in _DIRECT_WRITES or (use.kind is UseKind.ARGUMENT and use.address)
                continue          # test code's callers are artificial, its writes set up a test
            # its own mutex: `&x.mutex` or `x.mutex` (x a struct) given to a lock call
            own_lock |= use.kind is UseKind.ARGUMENT and callee in LOCK_CALLS and (
                use.address or var.family is Family.STRUCT)
            # or its address given to a function of the unit that locks a member of it
            own_lock |= use.kind is UseKind.ARGUMENT and use.callee_locks and use.address
            if use.kind in _DIRECT_WRITES and use.via is not None and var.family in OBJECT_FAMILIES:
                readers.add(use.function)     # an object header through a generic object pointer: refcounts
            elif use.kind in _DIRECT_WRITES or (use.kind is UseKind.ARGUMENT and use.address
                                                and ATOMIC_WRITE.match(callee or "")):
                writes.append(site(use))
            elif use.kind is UseKind.ARGUMENT and (use.address or array) \
                    and BUFFER_DESTINATIONS.get(callee or "") == use.position:
                writes.append(site(use))      # memcpy(&x, ...): the C library writes it
            elif use.kind is UseKind.ARGUMENT and callee in MUTATING_CALLS and _holds_objects(var) \
                    and not use.address:
                readers.add(use.function)     # an entry is readied (see _entries_readied), not the array
            elif (use.kind is UseKind.ARGUMENT and callee in MUTATING_CALLS and (use.address or array)
                  and var.family is not Family.API_TABLE):
                readied.append(site(use))     # the type or object they ready; a description or spec is read
            elif use.kind is UseKind.ARGUMENT and (is_refcount_call(callee)
                                                   or READ_ONLY_PARAMETERS.get(callee or "") == use.position):
                readers.add(use.function)
            elif use.kind is UseKind.ARGUMENT and use.callee_writes_through and (use.address or array):
                writes.append(site(use))      # the unit's body of the callee writes through it
            elif use.kind is UseKind.ARGUMENT and (use.address or array) and use.callee_writes is not False:
                escapes.append(site(use))
            elif use.kind is UseKind.ADDRESS:
                escapes.append(site(use))
            else:
                readers.add(use.function)
        readied += [site(use) for use in entries_readied.get(var.identity, ())]
        assignments = [s for s in writes if s.use.kind is UseKind.ASSIGN]
        writers = {s.use.function for s in writes if s.use.function is not None}
        # a module's init or exec function configures its library beside
        # filling its module state: its writes do not pair with a resource
        paired = {s.use.function for s in writes if s.use.function is not None
                  and Context.MODULE_INIT not in s.reach.contexts}
        extension = is_extension(var.file, unit_kinds)
        facts[var.identity] = GlobalFacts(
            var=var, extension=extension, writes=tuple(writes),
            readied=tuple(readied), escapes=tuple(escapes), readers=tuple(sorted(readers)),
            callback_readers=tuple(sorted((r, c) for r in readers if (c := reach(r).callback) is not None)),
            lazy=bool(assignments) and all(s.use.guarded for s in assignments),
            used_in=frozenset().union(*(site.reach.contexts for site in writes + readied + escapes),
                                      *(reach(reader).contexts for reader in readers)),
            set_by_tests=set_by_tests, library=var.file in result.library_files,
            probe=bool(writes) and all(s.use.kind is UseKind.ASSIGN and s.use.probe for s in writes),
            resources=tuple(sorted({call for writer in paired for call in called.get(writer, ())
                                    if call in PROCESS_RESOURCE_CALLS})),
            holds_lock=var.family is not Family.LOCK and (
                own_lock or not extension and bool(writers) and writers <= locking))
    return _with_partners(facts)


_PROCESS_CALLBACKS = frozenset({Context.SIGNAL_HANDLER, Context.ALLOCATOR, Context.PROCESS_HOOK})


def _with_partners(facts: dict[tuple[str, str, str], GlobalFacts]) -> dict[tuple[str, str, str], GlobalFacts]:
    """Each global's partners: the globals of its file that a signal handler
    or an allocator hook uses (process-wide by what the code does with them)
    and that are written by every function that writes it, none of which is
    a module's init or exec function, and which the runtime's own
    initialization reaches (tracemalloc_init() creates the filename table
    beside the trace tables its allocator hooks read).  State set up together
    with process-wide state is process-wide too; a module's exec function that
    saves a signal handler sets up per-module state, if badly."""
    def writers(fact: GlobalFacts) -> frozenset[FunctionKey] | None:
        functions = frozenset(s.use.function for s in fact.writes if s.use.function is not None)
        if any(context is Context.MODULE_INIT and entry in functions
               for s in fact.writes for context, entry in s.reach.entries):
            return None
        if not any(Context.RUNTIME_LIFECYCLE in s.reach.contexts for s in fact.writes):
            return None
        return functions

    hooked = {identity: functions for identity, fact in facts.items()
              if (any(c in _PROCESS_CALLBACKS for _, c in fact.callback_readers)
                  or any(s.reach.callback in _PROCESS_CALLBACKS for s in fact.changes))
              and (functions := writers(fact))}
    if not hooked:
        return facts
    by_file: dict[str, list[tuple[tuple[str, str, str], frozenset[FunctionKey]]]] = defaultdict(list)
    for identity, functions in hooked.items():
        by_file[identity[0]].append((identity, functions))
    paired = {}
    for identity, fact in facts.items():
        if identity in hooked or identity[0] not in by_file:
            continue
        functions = writers(fact)
        if not functions:
            continue
        names = sorted(other[2] for other, theirs in by_file[identity[0]] if functions <= theirs)
        if names:
            paired[identity] = replace(fact, partners=tuple(names))
    return {**facts, **paired}


def _holds_objects(var: GlobalVar) -> bool:
    """An array of object pointers (`static PyTypeObject *static_types[]`)."""
    return var.family is Family.OBJECT_POINTER and var.ctype.is_array


def _entries_readied(result: ScanResult) -> dict[tuple[str, str, str], list[Use]]:
    """The objects an array of object pointers names in its initializer,
    each with the calls that ready the array's entries (`PyTypeObject *type =
    static_types[i]; _PyStaticType_InitBuiltin(type)`): the call readies
    the entry, not the array."""
    arrays = {var.identity for var in result.globals if _holds_objects(var)}
    calls: dict[tuple[str, str, str], list[Use]] = defaultdict(list)
    entries: dict[tuple[str, str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for use in result.uses:
        if use.target not in arrays:
            continue
        if use.function is not None and use.kind is UseKind.ARGUMENT and not use.address \
                and use.callee is not None and use.callee[1] in MUTATING_CALLS:
            calls[use.target].append(use)
    for use in result.uses:
        if use.function is None and use.initializer_of in calls and use.kind is UseKind.ADDRESS:
            entries[use.initializer_of].append(use.target)
    readied: dict[tuple[str, str, str], list[Use]] = defaultdict(list)
    for array, targets in entries.items():
        for target in targets:
            readied[target] += [replace(use, target=target, via=f"{array[2]}[]") for use in calls[array]]
    return readied


def _lock_holders(result: ScanResult) -> set[FunctionKey]:
    """The functions that acquire a lock kept in a global (a process-wide lock)."""
    locks = {var.identity for var in result.globals if var.family is Family.LOCK}
    return {use.function for use in result.uses
            if use.function is not None and use.target in locks and use.kind is UseKind.ARGUMENT
            and use.callee is not None and use.callee[1] in LOCK_CALLS}
