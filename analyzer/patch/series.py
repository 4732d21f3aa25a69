"""Write a plan as a `git format-patch` series: an infrastructure patch (the
state header, hung off struct _is and _PyRuntimeState), then one patch per
source file, made in a scratch git repository holding the files the series
touches."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from .. import codes
from ..cpython.api import ONCE_FLAG, PER_INTERPRETER_GIL_SLOT, sees_internal_api
from ..cpython.layout import TEST_MODULES
from ..cpython.state import (
    INFRASTRUCTURE,
    INIT_HEADER,
    INTERP_HEADER,
    INTERPRETER_INIT_MACRO,
    INTERPRETER_STATE,
    INTERPRETER_STATE_HEADER,
    INTERPRETER_STRUCT,
    MAKEFILE,
    RUNTIME_HEADER,
    RUNTIME_INIT_MACRO,
    RUNTIME_SOURCE,
    RUNTIME_STATE,
    RUNTIME_STATE_HEADER,
    RUNTIME_STRUCT,
    makefile_header_line,
)
from ..model import Family, ScanResult
from ..races.accesses import RacingAccess
from .accessors import accessor_name, definition_lines, undefine_edit
from .edits import (
    Edit,
    EditError,
    apply_edits,
    define_edit,
    include_edit,
    line_start,
    member_edit,
    move_edits,
    reset_edits,
    tokenize,
)
from .guard_layout import grouped_edits
from .guards import FORMS, Guard, GuardSource, guard_edit, guard_source
from .inputs import PublicNames
from .modules import Conversion, ModuleMove, ModuleStay
from .plan import Home, ModuleLeft, Move, Plan, Stay, declaration, opaque_structs
from .regression import CLASS_NAME, add_isolation_test

HEADER = "Include/internal/pycore_cglobals.h"
_AUTHOR = {"GIT_AUTHOR_NAME": "cglobals", "GIT_AUTHOR_EMAIL": "cglobals@localhost",
           "GIT_COMMITTER_NAME": "cglobals", "GIT_COMMITTER_EMAIL": "cglobals@localhost",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
# Per home: the state's expression, the header declaring it, what the include is for.
_REFERENCE = {Home.INTERPRETER: (f"{INTERPRETER_STATE}->cglobals", INTERPRETER_STATE_HEADER, INTERPRETER_STATE),
              Home.RUNTIME: (f"{RUNTIME_STATE}.cglobals", RUNTIME_STATE_HEADER, RUNTIME_STATE)}
_STRUCT_SUFFIX = {Home.INTERPRETER: "", Home.RUNTIME: "_runtime"}
_TOP_STRUCT = {Home.INTERPRETER: "_cglobals_interp_state", Home.RUNTIME: "_cglobals_runtime_state"}
_INIT_MACRO = {Home.INTERPRETER: "_PyCGlobals_INTERP_INIT", Home.RUNTIME: "_PyCGlobals_RUNTIME_INIT"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    patches: tuple[str, ...]          # file names written, in order
    moved: tuple[Move, ...]
    stays: tuple[Stay, ...]           # the plan's, and moves whose edits failed
    modules: tuple[ModuleLeft, ...] = ()
    guarded: tuple[Guard, ...] = ()                      # racing accesses made safe
    unguarded: tuple[tuple[RacingAccess, str], ...] = ()  # racing writes left, with the reason
    conversions: tuple[Conversion, ...] = ()             # extension modules' globals moved into module state
    module_stays: tuple[ModuleStay, ...] = ()            # extension modules' mutable globals left, with codes


def function_indexes(result: ScanResult) -> tuple[dict[tuple[str, str, str], frozenset[str]],
                                                 dict[str, frozenset[str]]]:
    """For write_series: per global, the functions of its file that use it
    ("" for initializers of other globals); per file, every function the
    scan saw."""
    use_functions: dict[tuple[str, str, str], set[str]] = {}
    for use in result.uses:
        if use.file == use.target[0]:
            use_functions.setdefault(use.target, set()).add(use.function[1] if use.function else "")
    known_functions: dict[str, set[str]] = {}
    for function in result.functions:
        known_functions.setdefault(function.file, set()).add(function.key[1])
    return ({k: frozenset(v) for k, v in use_functions.items()},
            {k: frozenset(v) for k, v in known_functions.items()})


def write_series(tree_root: str, plan: Plan, use_functions: dict[tuple[str, str, str], frozenset[str]],
                 known_functions: dict[str, frozenset[str]], out_dir: str,
                 racing: tuple[RacingAccess, ...] = (), api: frozenset[str] = frozenset(),
                 mutex: bool = False, public: PublicNames | None = None,
                 conversions: tuple[Conversion, ...] = (), module_stays: tuple[ModuleStay, ...] = ()) -> Series:
    """use_functions: per global, the functions of its file where the analysis
    saw a use ("" for initializers of other globals); known_functions: per
    file, every function the analysis saw; racing: accesses of TSan races
    (config.load_racing_accesses), guarded where a form of guards.py fits;
    api: the files that include Python.h or a pycore_ header; mutex: whether
    the tree's C API has PyMutex for the guards' locks; public: what its
    headers declare (the atomics, members and macros the atomic guards type);
    conversions: extension modules' globals moved into their module state
    (modules.convert_modules), one patch each after the core's."""
    root = Path(tree_root)
    stays = list(plan.stays)
    moves = list(plan.moves)
    pristine: dict[str, str] = {}
    try:
        pristine = {path: (root / path).read_text(encoding="utf-8") for path in INFRASTRUCTURE}
        infrastructure = _infrastructure_edits(pristine)
    except (EditError, OSError) as exc:
        stays += [Stay(var=m.var, verdict=m.verdict, code=codes.NOT_EDITED, reason=f"not edited: {exc}") for m in moves]
        moves, infrastructure = [], {}
    groups: dict[str, list[Move]] = {}
    for move in moves:
        groups.setdefault(move.var.file, []).append(move)
    file_edits: dict[str, list[Edit]] = {}
    accessors: dict[str, dict[str, str]] = {}
    for path, group in sorted(groups.items()):
        text = _pristine(root, pristine, path)
        edits, failed, accessors[path] = _edit_file(
            text, group, use_functions, known_functions.get(path, frozenset()),
            public.macros | public.types | public.exported if public else frozenset())
        stays += failed
        failed_vars = {stay.var for stay in failed}
        groups[path] = [move for move in group if move.var not in failed_vars]
        if groups[path]:
            file_edits[path] = edits + infrastructure.get(path, [])
        else:
            del groups[path]
    order = _order(sorted(groups))
    if order:
        file_edits = {**infrastructure, **file_edits}
    for conversion in conversions:
        _pristine(root, pristine, conversion.file)
        file_edits[conversion.file] = [*file_edits.get(conversion.file, []), *conversion.edits]
    converted = [path for conversion in conversions
                 for path in ([p for p, _ in conversion.texts] or [conversion.file])]
    guarded, unguarded = _guards(root, pristine, racing, api, mutex, file_edits, public)
    guard_files = sorted({guard.access.file for guard in guarded})
    with tempfile.TemporaryDirectory(prefix="cglobals-series-") as scratch:
        work = Path(scratch)
        _git(scratch, "init", "-q")
        test_module, interpreters = next(((path, name) for path, name in TEST_MODULES if (root / path).is_file()),
                                         ("", ""))
        regression = bool(order or guard_files or converted) and bool(test_module)
        touched = sorted({*INFRASTRUCTURE, *order, *guard_files, *converted}
                         | ({test_module} if regression else set()))
        for path in touched:
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / path, work / path)
        _git(scratch, "add", "-A")
        _git(scratch, "commit", "-q", "-m", "pristine")
        moved: list[Move] = []
        if order:
            for path, edits in infrastructure.items():
                (work / path).write_text(apply_edits(pristine[path], edits), encoding="utf-8")
            _commit(work, moved, _INFRASTRUCTURE_MESSAGE)
        for path in order:       # a file the infrastructure patch edited keeps those edits
            moved += groups[path]
            (work / path).write_text(apply_edits(pristine[path], file_edits[path]), encoding="utf-8")
            _commit(work, moved, _message(path, groups[path], accessors.get(path, {})))
        for conversion in conversions:
            written = conversion.texts or ((conversion.file, apply_edits(pristine[conversion.file],
                                                                         conversion.edits)),)
            for path, text in written:            # Modules/: no core moves there
                (work / path).write_text(text, encoding="utf-8")
            _commit(work, moved if order else None, conversion_message(conversion))
        once_flag = ONCE_FLAG[2] in _read(root / "Include" / "internal" / ONCE_FLAG[0])
        for path in guard_files:   # on top of the moves: both were made from the pristine text
            mine = [guard for guard in guarded if guard.access.file == path]
            flagged = once_flag and sees_internal_api(path, pristine[path])
            edits = file_edits.get(path, []) + grouped_edits(mine, pristine[path], flagged)
            (work / path).write_text(apply_edits(pristine[path], edits), encoding="utf-8")
            _commit(work, moved if order else None, _guard_message(path, mine, flagged))
        if regression:
            module = work / test_module
            own_gil_tree = PER_INTERPRETER_GIL_SLOT[0] in _read(root / "Include" / "moduleobject.h")
            # where the test's subinterpreters have their own GIL, only modules that say they may be imported
            imports = tuple(conversion.module for conversion in conversions
                            if conversion.module and (conversion.own_gil or not own_gil_tree))
            heap_types = {conversion.module: tuple(m.heap.python_name for m in conversion.moves
                                                   if m.heap is not None and m.heap.python_name)
                          for conversion in conversions if conversion.module}
            module.write_text(add_isolation_test(module.read_text(encoding="utf-8"), interpreters, imports,
                                                 heap_types), encoding="utf-8")
            _commit(work, moved if order else None, _regression_message(test_module, imports))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.patch"):
            old.unlink()
        commits = bool(order) + len(order) + len(conversions) + len(guard_files) + regression
        names = _git(scratch, "format-patch", "--no-signature", "--zero-commit", "-o", str(out.resolve()),
                     f"HEAD~{commits}").splitlines() if commits else []
    patches = tuple(Path(name).name for name in names)
    (out / "series").write_text("".join(f"{name}\n" for name in patches), encoding="utf-8")
    return Series(patches=patches, moved=tuple(moved), stays=tuple(stays), modules=plan.modules,
                  guarded=guarded, unguarded=unguarded, conversions=conversions, module_stays=module_stays)


def _pristine(root: Path, pristine: dict[str, str], path: str) -> str:
    """The file's text as the tree has it, read once into `pristine`."""
    if path not in pristine:
        pristine[path] = (root / path).read_text(encoding="utf-8")
    return pristine[path]


def _guards(root: Path, pristine: dict[str, str], accesses: tuple[RacingAccess, ...], api: frozenset[str],
            mutex: bool, file_edits: dict[str, list[Edit]], public: PublicNames | None) -> tuple[
        tuple[Guard, ...], tuple[tuple[RacingAccess, str], ...]]:
    """A guard per racing statement that a form fits; the writes no form fits,
    with the reason (a read no form fits is left to its write's guard)."""
    guarded: list[Guard] = []
    unguarded: list[tuple[RacingAccess, str]] = []
    seen: set[tuple[str, int]] = set()
    sources: dict[str, GuardSource | str] = {}
    members: dict[str, set[str]] = {}
    for name, type_ in public.member_types if public else ():
        members.setdefault(name, set()).add(type_)
    typing = {"atomics": public.atomics if public else frozenset(),
              "member_types": {name: frozenset(types) for name, types in members.items()},
              "public_macros": dict(public.macro_bodies) if public else {}}
    for access in accesses:
        if (access.file, access.line) in seen:
            continue                  # one statement, several races
        seen.add((access.file, access.line))
        if access.file not in sources:
            sources[access.file] = _guard_source(root, pristine, access.file, api, mutex, typing)
        source = sources[access.file]
        try:
            if isinstance(source, str):
                raise EditError(source)
            guard = guard_edit(source, access)
            _check_overlaps(guard, file_edits.get(access.file, []), guarded)
        except EditError as exc:
            if access.write:
                unguarded.append((access, str(exc)))
            continue
        if not any(g.access.file == access.file and g.edit == guard.edit for g in guarded):
            guarded.append(guard)
    return tuple(guarded), tuple(unguarded)


def _guard_source(root: Path, pristine: dict[str, str], path: str, api: frozenset[str],
                  mutex: bool, typing: dict[str, Any]) -> GuardSource | str:
    """The file for the guards, locking where the tree has PyMutex and the
    file the full C API, or why it is not edited."""
    if path.endswith(".c") and path not in api:
        return "its file includes neither Python.h nor a pycore_ header: a bundled library, not edited"
    try:
        text = _pristine(root, pristine, path)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    lock = mutex and (path in api or path.endswith(".h")) and "Py_LIMITED_API" not in text
    return guard_source(text, tokenize(text), lock=lock, **typing)


def _check_overlaps(guard: Guard, moves: list[Edit], guarded: list[Guard]) -> None:
    edit = guard.edit
    if any(m.start < edit.end and edit.start < m.end for m in moves):
        raise EditError("a moved global's edit falls inside the guarded code")
    if any(g.access.file == guard.access.file and g.edit != edit and g.edit.start < edit.end
           and edit.start < g.edit.end for g in guarded):
        raise EditError("another guard covers part of it")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _guard_message(path: str, guards: list[Guard], once_flag: bool) -> str:
    noun = "access" if len(guards) == 1 else "accesses"
    lines = [f"cglobals: guard {len(guards)} racing {noun} in {path}", "",
             "ThreadSanitizer, with own-GIL subinterpreters created and run at once",
             "(ci/tsan-races), reports each of these accesses racing with another",
             "interpreter's.  Every interpreter's initialization stores the value",
             "the first one stored; guarded, the later stores become reads: the same",
             "state, no race.", ""]
    flagged = [guard for guard in guards if once_flag and guard.form == "once"]
    if len(flagged) < len(guards):
        lines[-2:-1] = ["state, no race.  A guard with a lock (PyMutex) also orders the first",
                        "stores of interpreters that start together."]
    if flagged:
        lines[-1:-1] = [f"What runs once runs in a function of its own that {ONCE_FLAG[2]}()",
                        "calls: interpreters that start together wait until the first one's",
                        "call has returned."]
    for guard in guards:
        access = guard.access
        what = "writes" if access.write else "reads"
        lock = f", through {ONCE_FLAG[2]}()" if once_flag and guard.form == "once" \
            else ", under a lock" if guard.locked else ""
        lines.append(f"- line {access.line}, {access.function}() {what} {access.target} ({access.count} reports):"
                     f" {FORMS[guard.form]}{lock}")
        was = " ".join(guard.statement.split())
        lines.append(f"  was: {was if len(was) <= 100 else was[:97] + '...'}")
    return "\n".join(lines) + "\n"


def reference(move: Move) -> str:
    """The expression that replaces the global's name."""
    return f"{_REFERENCE[move.home][0]}.{move.state_key}.{move.field}"


def _commit(work: Path, moved: list[Move] | None, message: str) -> None:
    """Commit the scratch tree, with the state header of what moved so far
    (None: a series that moves nothing, guards alone, has no header)."""
    if moved is not None:
        (work / HEADER).write_text(render_header(moved), encoding="utf-8")
    _git(str(work), "add", "-A")
    _git(str(work), "commit", "-q", "-m", message)


_INFRASTRUCTURE_MESSAGE = f"""cglobals: add the state that static globals move into

{HEADER} declares struct _cglobals_interp_state, hung off
struct _is as `cglobals` (reached as _PyInterpreterState_GET()->cglobals),
and struct _cglobals_runtime_state, hung off _PyRuntimeState as `cglobals`
(reached as _PyRuntime.cglobals).  The following patches add one struct per
source file to them.

Initializers: {_INIT_MACRO[Home.INTERPRETER]} and {_INIT_MACRO[Home.RUNTIME]}, expanded in
_PyInterpreterState_INIT and _PyRuntimeState_INIT.

_PyRuntimeState_Init resets the runtime state to _PyRuntimeState_INIT when
Py_Initialize() runs again; the statics kept their values across that, so
the runtime's cglobals are saved and restored around the reset.
"""

def _regression_message(test_module: str, imports: tuple[str, ...]) -> str:
    lines = ["cglobals: test the moved state in several subinterpreters", "",
             f"{CLASS_NAME} in {test_module} runs a workload through the",
             "object protocols, int parsing in other bases and imports in four",
             "subinterpreters at once (threads), destroys them, and runs it again in the",
             "main interpreter: paths that read and write the state this series moved",
             "into the interpreter and the runtime."]
    if imports:
        lines += ["", "A second test imports each module whose globals moved into its module",
                  f"state ({', '.join(imports)}) in four subinterpreters at once and uses",
                  "it there, then in the main interpreter after they are destroyed."]
    return "\n".join(lines + ["", "Added with libcst.", ""])


def conversion_message(conversion: Conversion) -> str:
    moves = conversion.moves
    one = len(moves) == 1
    state = conversion.state_type
    module = f"The {conversion.module} module" if conversion.module else f"The module of {conversion.file}"
    if conversion.multi_phase:
        init = conversion.multi_phase
        exec_name = conversion.exec_name
        before = (f"{init}() created the module once per process, and a subinterpreter that imported it got a "
                  "copy of the first module's dict, with the objects the first interpreter made."
                  if conversion.shared_dict else
                  f"{init}() made a module for each interpreter, but what it kept in static globals was shared by "
                  "all of them, and since 3.12 an isolated subinterpreter cannot import a single-phase module.")
        slots = {"Py_mod_multiple_interpreters": "Py_mod_multiple_interpreters says it supports a per-interpreter "
                                                 "GIL (it keeps nothing in C globals now)",
                 "Py_mod_gil": "Py_mod_gil says what PyUnstable_Module_SetGIL() said (read before exec runs)"}
        said = [slots[slot] for slot in conversion.added_slots if slot in slots]
        has = (f"{module} used single-phase init: {before} It becomes multi-phase (PEP 489): what {init}() did "
               f"after PyModule_Create() is {exec_name}(), the Py_mod_exec slot, run for each module object (its "
               "`return NULL` is -1, its `return m` 0, and it no longer decrefs the module it is given), and "
               f"{init}() returns PyModuleDef_Init()"
               + (", after the deprecation warning it gave (its stack level counts the frames of the import "
                  f"that calls {init}())" if conversion.warnings_kept else "")
               + ". " + "".join(f"{s[0].upper()}{s[1:]}. " for s in said)
               + (f"What exec stores into {_listed(conversion.once_stored)}, which "
                  f"{'stays' if len(conversion.once_stored) == 1 else 'stay'} process-wide, it stores once, "
                  "under a test of NULL (the analysis did not compile that code; one GIL for every interpreter "
                  "makes the test and the store one step). " if conversion.once_stored else "")
               + f"The module gets state: {state}, reached through {conversion.getter}(), with m_traverse, "
               "m_clear and m_free that visit and clear what the state owns. ")
    elif conversion.new_state:
        has = (f"{module} uses multi-phase init but keeps no module state (m_size 0). It gets one: "
               f"{state}, reached through {conversion.getter}(), with m_traverse, m_clear and m_free that visit "
               "and clear what the state owns. ")
    else:
        has = f"{module} keeps module state already ({state}: its PyModuleDef's m_size is sizeof({state})). "
    paragraph = (f"{has}{'This global was' if one else 'These globals were'} one copy per process, shared by every "
                 f"interpreter that imports the module; {'it becomes a member' if one else 'each becomes a member'} "
                 f"of {state}, reached in each function from what the function has: a state local or parameter, "
                 "or the module object of a module-level or exec function"
                 + (", or in a function of a type that becomes a heap type, the type it is given "
                    "(PyType_GetModuleByDef)." if any(move.heap is not None and move.heap.method_uses
                                                    for move in moves) else "."))
    heaps = [move for move in moves if move.heap is not None]
    if heaps:
        traversed = [any("visits the type" in note for note in move.heap.notes)
                     for move in heaps if move.heap is not None]
        gc = "the dealloc drops it, the traverse visits it" if all(traversed) else \
            "the dealloc drops it; the garbage collector does not track the instances, as it did not the " \
            "static type's, so no traverse visits it" if not any(traversed) else \
            "the dealloc drops it, the traverse of a type with GC visits it"
        paragraph += (" A static type becomes a heap type (PEP 687): its initializer becomes a PyType_Spec, the "
                      "exec function makes the type with PyType_FromModuleAndSpec, and its instances own a "
                      f"reference to it ({gc}). The specs add "
                      "Py_TPFLAGS_IMMUTABLETYPE, as a static type was immutable. As for any heap type, the "
                      "type's __dict__ holds its __module__, and each interpreter that imports the module "
                      "makes type objects of its own.")
    if conversion.clinic_output:
        regenerated = dict(conversion.texts).get(conversion.clinic_output)
        paragraph += (f" The Argument Clinic input names the state members (clinic_state()->T, defined around "
                      f"the clinic include), and {conversion.clinic_output} is regenerated by the tree's "
                      "Tools/clinic/clinic.py" + ("." if regenerated != conversion.clinic_before else
                                                  ": it comes out as it was, as no converter there names "
                                                  "the type."))
    lines = [f"cglobals: move {len(moves)} {'global' if one else 'globals'} of {conversion.file} into its module "
             "state", "", *textwrap.wrap(paragraph, 72), ""]
    for move in moves:
        var, verdict = move.var, move.verdict
        lines.append(f"- {var.qualified_name} ({var.type.strip()}, line {var.line}): {verdict.state_class.value}, "
                     f"rule {verdict.rule}")
        lines += [f"  {evidence}" for evidence in verdict.evidence]
        added = {function: f"{local} = {initializer}" for function, local, initializer in move.locals}
        if move.heap is not None:
            lines.append(f"  a heap type made from {move.heap.spec} in {move.heap.exec_function}(), "
                         f"{state}->{move.field}")
            lines += [f"  {note}" for note in move.heap.notes]
            lines += _path_lines(move, added)
            continue
        lines += _path_lines(move, added)
        if move.initial:
            lines.append(f"  was initialized to {move.initial}: module state starts zeroed, so the exec function "
                         "stores it first")
        if move.owned and move.increfs:
            lines.append(f"  owns its object: {move.taken_by}() takes the new reference stored in it, which left the "
                         "static a borrowed one, so an incref before that call keeps one for the state: visited in "
                         "m_traverse, cleared in m_clear")
        elif move.owned:
            lines.append("  owns its object (a new reference is stored): visited in m_traverse, cleared in m_clear")
        elif var.family is Family.OBJECT_POINTER and move.taken_by:
            lines.append(f"  borrows its object ({move.taken_by}() took the new reference stored in it): "
                         "not visited, not cleared")
        elif var.family is Family.OBJECT_POINTER:
            lines.append("  borrows its object (stored, never increfed): not visited, not cleared")
    return "\n".join(lines) + "\n"


def _path_lines(move: ModuleMove, added: dict[str, str]) -> list[str]:
    """How each function that uses, or passes on, the moved global reaches the state."""
    lines = []
    for function, expression in move.paths:
        if move.heap is not None and function == move.heap.exec_function:
            continue
        local = f" (a new local: {added[function]})" if function in added else ""
        if function in move.passing:
            lines.append(f"  in {function}(): passes its state to a helper{local}")
        elif function in move.given:
            lines.append(f"  in {function}(): {expression}{move.field} (the state is a new first parameter)")
        else:
            lines.append(f"  in {function}(): {expression}{move.field}{local}")
    return lines


def _order(files: list[str]) -> list[str]:
    """Each file's patch needs only the infrastructure patch before it; the
    graph keeps the order explicit for when groups depend on each other."""
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(files)
    return list(nx.lexicographical_topological_sort(graph))


def _edit_file(text: str, moves: list[Move], use_functions: dict[tuple[str, str, str], frozenset[str]],
               known_functions: frozenset[str],
               public_names: frozenset[str] = frozenset()) -> tuple[list[Edit], list[Stay], dict[str, str]]:
    """The edits of the moves that can be made, the others as stays, and the
    macro each moved global is reached through (accessors.py), by name.  A
    runtime global can move alone (its one copy stays one copy); when an
    interpreter global cannot, the file's other interpreter globals stay too,
    since they may be one piece of state with it."""
    tokens = tokenize(text)
    code = [t for t in tokens if t.kind != "comment"]
    edits: list[Edit] = []
    failed: list[Stay] = []
    taken = {t.text for t in code if t.kind == "id"} | set(public_names)
    undefined: dict[str, list[str]] = {}
    named: dict[str, str] = {}
    for move in moves:
        var = move.var
        macro = accessor_name(code, var.name, var.func, taken)
        try:
            found = move_edits(text, tokens, name=var.name, line=var.line, func=var.func,
                               replacement=macro or reference(move),
                               use_functions=use_functions.get(var.identity, frozenset()),
                               known_functions=known_functions)
        except EditError as exc:
            failed.append(Stay(var=var, verdict=move.verdict, code=codes.NOT_EDITED, reason=f"not edited: {exc}"))
            continue
        removal = found[0]           # move_edits gives the declaration's removal first
        if macro is not None and removal.start == line_start(text, removal.start) \
                and text[removal.end - 1:removal.end] == "\n":
            taken.add(macro)
            named[var.qualified_name] = macro
            declared = text[removal.start:removal.end]
            comment = declared[declared.rfind(";") + 1:].strip()
            found = [Edit(start=removal.start, end=removal.end,
                          text=definition_lines(macro, reference(move), comment)),
                     *(e for e in found[1:] if text[e.start:e.end] != e.text)]
            if var.func:
                undefined.setdefault(var.func, []).append(macro)
        elif macro is not None:
            found = move_edits(text, tokens, name=var.name, line=var.line, func=var.func,
                               replacement=reference(move),
                               use_functions=use_functions.get(var.identity, frozenset()),
                               known_functions=known_functions)
        edits += found
    edits += [undefine_edit(text, code, func, macros) for func, macros in undefined.items()]
    failed_vars = {stay.var for stay in failed}
    broken = next((move.var for move in moves if move.var in failed_vars and move.home is Home.INTERPRETER), None)
    if broken is not None:
        failed += [Stay(var=move.var, verdict=move.verdict, code=codes.NOT_EDITED,
                        reason=f"not edited: its file's interpreter global {broken.qualified_name} could not be")
                   for move in moves if move.home is Home.INTERPRETER and move.var not in failed_vars]
        runtime = [move for move in moves if move.home is Home.RUNTIME and move.var not in failed_vars]
        edits, _, macros = _edit_file(text, runtime, use_functions, known_functions, public_names)
        return edits, failed, macros
    for home in sorted({move.home for move in moves if move.var not in failed_vars}, key=lambda h: h.value):
        _, header, what = _REFERENCE[home]
        include = include_edit(text, tokens, header, what)
        edits += [include] if include else []
    return edits, failed, {name: macro for name, macro in named.items()
                           if name not in {s.var.qualified_name for s in failed}}


def _infrastructure_edits(texts: dict[str, str]) -> dict[str, list[Edit]]:
    """The infrastructure patch's edits of its files' pristine texts."""
    edits: dict[str, list[Edit]] = {}
    tokens = tokenize(texts[INTERP_HEADER])
    include = include_edit(texts[INTERP_HEADER], tokens, "pycore_cglobals.h", f"struct {_TOP_STRUCT[Home.INTERPRETER]}")
    edits[INTERP_HEADER] = [member_edit(tokens, INTERPRETER_STRUCT, f"struct {_TOP_STRUCT[Home.INTERPRETER]} "
                                                                    "cglobals;  // pycore_cglobals.h")
                            ] + ([include] if include else [])
    edits[RUNTIME_HEADER] = [member_edit(tokenize(texts[RUNTIME_HEADER]), RUNTIME_STRUCT,
                                         f"struct {_TOP_STRUCT[Home.RUNTIME]} cglobals;  // pycore_cglobals.h")]
    tokens = tokenize(texts[INIT_HEADER])
    include = include_edit(texts[INIT_HEADER], tokens, "pycore_cglobals.h", "_PyCGlobals_*_INIT")
    edits[INIT_HEADER] = [define_edit(tokens, RUNTIME_INIT_MACRO, _INIT_MACRO[Home.RUNTIME]),
                          define_edit(tokens, INTERPRETER_INIT_MACRO, _INIT_MACRO[Home.INTERPRETER])
                          ] + ([include] if include else [])
    edits[RUNTIME_SOURCE] = reset_edits(texts[RUNTIME_SOURCE], tokenize(texts[RUNTIME_SOURCE]),
                                        f"struct {_TOP_STRUCT[Home.RUNTIME]}", "cglobals")
    anchor = texts[MAKEFILE].find(makefile_header_line(INTERP_HEADER))
    if anchor < 0:      # the list of headers every object depends on
        raise EditError(f"no pycore_interp.h in the header list of {MAKEFILE}")
    edits[MAKEFILE] = [Edit(start=anchor, end=anchor, text=makefile_header_line(HEADER))]
    return edits


def render_header(moved: list[Move]) -> str:
    lines = ["#ifndef Py_INTERNAL_CGLOBALS_H", "#define Py_INTERNAL_CGLOBALS_H", "",
             "#ifndef Py_BUILD_CORE", '#  error "this header requires Py_BUILD_CORE define"', "#endif", "",
             "/* What were static globals of the core, one struct per source file",
             "   (written by cglobals).  Interpreter state:",
             "   _PyInterpreterState_GET()->cglobals; runtime state: _PyRuntime.cglobals,",
             "   kept across _PyRuntimeState_Init's reset as the statics were. */", ""]
    tags = opaque_structs(moved)
    lines += [f"struct {tag};" for tag in tags] + ([""] if tags else [])
    for home in Home:
        by_file: dict[str, list[Move]] = {}
        for move in moved:
            if move.home is home:
                by_file.setdefault(move.state_key, []).append(move)
        for key, moves in sorted(by_file.items()):
            lines.append(f"struct _cglobals_{key}{_STRUCT_SUFFIX[home]}_state {{")
            lines += _member_lines(sorted(moves, key=lambda m: m.field))
            lines += ["};", ""]
        lines.append(f"struct {_TOP_STRUCT[home]} {{")
        lines += [f"    struct _cglobals_{key}{_STRUCT_SUFFIX[home]}_state {key};" for key in sorted(by_file)]
        lines += [] if by_file else ["    char _unused;                              // C has no empty struct"]
        lines += ["};", ""]
    lines += ["/* Designated initializers of the members initialized to a constant,",
              "   expanded in _PyInterpreterState_INIT and _PyRuntimeState_INIT",
              "   (pycore_runtime_init.h). */"]
    for home in Home:
        lines.append(_init_macro(_INIT_MACRO[home], [m for m in moved if m.home is home and m.initializer]))
    lines += ["", "#endif /* !Py_INTERNAL_CGLOBALS_H */", ""]
    return "\n".join(lines)


def _member_lines(moves: list[Move]) -> list[str]:
    """The members, each with where it was declared: comments aligned at
    column 48, or two past the longest member when a line would pass
    column 79 there; a comment that still does not fit goes above."""
    members = [(f"    {declaration(m.var.ctype, m.field)};",
                f"// was static in {f'{m.var.func}() in {m.var.file}' if m.var.func else m.var.file}") for m in moves]
    column = 48 if all(len(m.ljust(47)) + 1 + len(c) <= 79 for m, c in members) \
        else max(len(m) for m, _ in members) + 2
    lines: list[str] = []
    for member, comment in members:
        line = f"{member.ljust(column - 1)} {comment}"
        lines += [line] if len(line) <= 79 else [f"    {comment}", member]
    return lines


def _init_macro(name: str, moves: list[Move]) -> str:
    if not moves:
        return f"#define {name}"
    by_file: dict[str, list[Move]] = {}
    for move in moves:
        by_file.setdefault(move.state_key, []).append(move)
    lines = [f"#define {name} \\", "    .cglobals = { \\"]
    for key, group in sorted(by_file.items()):
        lines.append(f"        .{key} = {{ \\")
        lines += [f"            .{m.field} = {m.initializer}, \\" for m in sorted(group, key=lambda m: m.field)]
        lines.append("        }, \\")
    lines.append("    },")
    return "\n".join(lines)


def _message(path: str, moves: list[Move], accessors: dict[str, str]) -> str:
    noun = "global" if len(moves) == 1 else "globals"
    homes = [home for home in Home if any(move.home is home for move in moves)]
    lines = [f"cglobals: move {len(moves)} {noun} of {path} into {' and '.join(h.value for h in homes)} state", ""]
    key = moves[0].state_key
    for home in homes:
        lines += [f"{home.value.capitalize()} state: members of struct _cglobals_{key}{_STRUCT_SUFFIX[home]}_state "
                  f"(pycore_cglobals.h),", f"reached as {_REFERENCE[home][0]}.{key}."]
    if accessors:
        lines += [""] + textwrap.wrap(
            "Each use goes through a macro defined where the global was declared, as upstream reaches its own "
            "moved state (`#define EXTENSIONS _PyRuntime.imports.extensions`): a file-scope global's name in "
            "capitals, a function's static its own name, undefined at the end of the function, so the uses of "
            "a static do not change. " + ", ".join(f"{name}: {macro}" for name, macro in accessors.items())
            + ".", 72)
    lines.append("")
    for move in moves:
        var, verdict = move.var, move.verdict
        lines.append(f"- {var.qualified_name} ({var.type.strip()}, line {var.line}): {verdict.state_class.value}, "
                     f"rule {verdict.rule}" + (f"; moves to {move.home.value} state: {move.note}" if move.note else ""))
        lines += [f"  {evidence}" for evidence in verdict.evidence]
        if move.initializer is not None:
            lines.append(f"  its initializer ({move.initializer}) moves into {_INIT_MACRO[move.home]}")
    return "\n".join(lines) + "\n"


def _git(cwd: str, *argv: str) -> str:
    proc = subprocess.run(["git", "-c", "core.autocrlf=false", "-c", "commit.gpgsign=false", *argv], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, **_AUTHOR})
    if proc.returncode != 0:
        raise RuntimeError(f"git {argv[0]} failed: {proc.stderr.strip()}")
    return proc.stdout


def _listed(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
