"""Which interpreter globals of an extension module move into its module
state and how each function reaches it (a state local or parameter, the
module object of a module-level or exec function, the type a function of
a converted type is given, a new state parameter of a helper); static
types that become heap types are found together, as a fixed point.  What
cannot move stays, with a code (codes.STAY_CODES) and the detail.  The
edits that carry out a plan are module_edits'."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from dataclasses import dataclass, replace

from .. import codes
from ..classify import Classified
from ..codes import Code
from ..cpython.api import (
    BORROWED_REFERENCE_CALLS,
    DECREF_CALLS,
    INCREF_CALLS,
    NEW_REFERENCE_CALLS,
    PER_INTERPRETER_GIL_SLOT,
    SETREF_CALLS,
    STEALING_CALLS,
)
from ..cpython.lifecycle import MODULE_INIT_PREFIX
from ..cpython.typeslots import TypeLayout
from ..model import Family, GlobalVar, ScanResult, StateClass, Storage, Verdict
from .clinic import CLINIC_STATE, clinic_include, named_in_input
from .edits import (
    Edit,
    EditError,
    Token,
    apply_edits,
    macro_definitions,
    names_member,
    own_line_statement,
    tokenize,
)
from .guard_layout import WIDTH
from .heap_types import HeapType, own_functions, plan_heap_type
from .helpers import PARAMETER_PATH, Helper, state_helpers
from .init_rewrite import difference_edits, line_map, rewrite_init
from .module_edits import conversion_edits, state_struct
from .module_source import (
    Function,
    ModuleSource,
    code_tokens,
    declared_in,
    functions,
    read_module,
    state_expression,
)
from .own_gil import declares_own_gil, own_gil_expressible, own_gil_slot_edit
from .plan import ZERO_RE, declarable_elsewhere, declaration
from .type_specs import OPERANDS, BaseType
from .unanalyzed import reached_functions, unanalyzed_stores
from .wrapping import wrapped

STATE_PATH = "state"       # a reachable function's expression is the state's own: `get_mod_state(module)->`


@dataclass(frozen=True, slots=True, kw_only=True)
class ModuleMove:
    var: GlobalVar
    verdict: Verdict
    field: str                 # the member of the state struct
    owned: bool                # an object reference the state owns: visited and cleared
    paths: tuple[tuple[str, str], ...]    # (function, the expression reaching the state there)
    locals: tuple[tuple[str, str, str], ...] = ()   # (function, state local it gains, from which parameter)
    heap: HeapType | None = None       # a static type that becomes a heap type made in the exec function
    passing: tuple[str, ...] = ()      # functions that only pass the state on to a helper
    given: tuple[str, ...] = ()        # helpers given the state as a new first parameter
    initial: str = ""                  # the constant its exec function stores first (module state starts zeroed)
    taken_by: str = ""                 # the call that takes the new reference it is given
    increfs: tuple[tuple[str, int], ...] = ()  # (function, code index): an incref before the call keeps its own


@dataclass(frozen=True, slots=True, kw_only=True)
class ModuleStay:
    var: GlobalVar
    verdict: Verdict
    code: Code                 # a constant of codes.py (CG3xx)
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversion:
    """The edits that move a module file's globals into its state."""
    file: str
    module: str                # the import name
    state_type: str
    getter: str
    moves: tuple[ModuleMove, ...]
    edits: tuple[Edit, ...]    # of the pristine text
    new_state: bool = False    # the module had no state: the conversion gives it one
    clinic_output: str = ""    # its Argument Clinic output's path, to regenerate from the edited text
    multi_phase: str = ""      # the single-phase init function whose body became the exec function
    exec_name: str = ""        # that exec function
    shared_dict: bool = False  # that init's m_size was -1 (see init_rewrite.InitRewrite)
    added_slots: tuple[str, ...] = ()
    warnings_kept: bool = False
    once_stored: tuple[str, ...] = ()   # process-wide globals exec stores once (unanalyzed.UnanalyzedStores)
    own_gil: bool = False      # its slots say Py_MOD_PER_INTERPRETER_GIL_SUPPORTED once converted
    own_gil_problem: str = ""  # why they may not, on a tree that has the slot
    texts: tuple[tuple[str, str], ...] = ()    # (path, text) once regenerated: the file and its clinic output
    clinic_before: str = ""                   # the clinic output as it was, once regenerated


def module_files(texts: dict[str, str], names: Collection[str]) -> frozenset[str] | str:
    """The Modules/ files of the extension modules `names` (import names:
    the file defining `PyInit_NAME`, and the files of its directory that
    define no module of their own), or why one name matches none."""
    defining: dict[str, str] = {}
    for path, text in sorted(texts.items()):
        for name in re.findall(rf"\b{MODULE_INIT_PREFIX}(\w+)\s*\(", text):
            defining.setdefault(name, path)
    unknown = sorted(set(names) - set(defining))
    if unknown:
        return (f"no extension module named {', '.join(unknown)} among the Modules/ files with globals "
                f"(these are: {', '.join(sorted(defining))})")
    owners = set(defining.values())
    chosen = {defining[name] for name in names}
    return frozenset(chosen | {path for path in texts if path not in owners and path.endswith(".c")
                               and any(path.rpartition("/")[0] == c.rpartition("/")[0] != "Modules"
                                       for c in chosen)})


def convert_modules(result: ScanResult, classified: Classified, texts: dict[str, str],
                    initializers: dict[tuple[str, str, str], str], public_types: frozenset[str],
                    use_functions: dict[tuple[str, str, str], frozenset[str]],
                    known_functions: dict[str, frozenset[str]],
                    only: frozenset[str] | None = None, layout: TypeLayout | None = None,
                    bases: dict[str, BaseType] | None = None,
                    without_clinic: frozenset[str] = frozenset(),
                    per_interpreter_gil: bool = False) -> tuple[tuple[Conversion, ...],
                                                                            tuple[ModuleStay, ...]]:
    """`texts`: the pristine text of each Modules/ file that has a mutable
    global (read by the caller); `layout`: the tree's PyTypeObject and type
    slots (static types stay static without it); `bases`: the tree's types
    outside Modules/ that a module's type may subclass; `without_clinic`:
    files whose clinic output could not be regenerated (the types their
    clinic input names stay); the rest as for plan.make_plan and
    series.write_series."""
    by_file: dict[str, list[tuple[GlobalVar, Verdict]]] = {}
    for var, verdict in zip(result.globals, classified.verdicts, strict=True):
        if var.file.startswith("Modules/") and verdict.state_class is not StateClass.IMMUTABLE \
                and (only is None or var.file in only):
            by_file.setdefault(var.file, []).append((var, verdict))
    elsewhere: dict[tuple[str, str, str], set[str]] = {}
    for use in result.uses:
        if use.file != use.target[0]:
            elsewhere.setdefault(use.target, set()).add(use.file)
    declarators: dict[tuple[str, int], int] = {}
    for var in result.globals:
        declarators[(var.file, var.line)] = declarators.get((var.file, var.line), 0) + 1
    inputs = _Inputs(texts=texts, initializers=initializers, public_types=public_types, use_functions=use_functions,
                     known_functions=known_functions, layout=layout, bases=bases or {},
                     without_clinic=without_clinic, declarators=declarators, classified=classified,
                     per_interpreter_gil=per_interpreter_gil)
    conversions, stays = [], []
    for path, found in sorted(by_file.items()):
        runtime = [(v, d) for v, d in found if d.state_class is StateClass.RUNTIME]
        stays += [ModuleStay(var=v, verdict=d, code=codes.PROCESS_WIDE_MODULE_STATE, detail="") for v, d in runtime]
        wanted = [(v, d) for v, d in found if d.state_class is StateClass.INTERPRETER]
        if not wanted:
            continue
        text = texts.get(path)
        code = code_tokens(tokenize(text)) if text is not None and path.endswith(".c") else []
        module = read_module(code) if code else "not a C source file"
        elsewhere_of = {v.identity: frozenset(elsewhere[v.identity]) for v, _ in wanted if v.identity in elsewhere}
        if isinstance(module, str) and module.startswith("single-phase"):
            assert text is not None
            conversion, file_stays = _single_phase(path, text, code, module, found, elsewhere_of, inputs)
        elif isinstance(module, str):
            why = codes.STATE_NOT_ADDED if module.startswith("multi-phase") else codes.OUTSIDE_MODULE_DEFINITION
            stays += [ModuleStay(var=v, verdict=d, code=why, detail=module) for v, d in wanted]
            continue
        else:
            assert text is not None
            conversion, file_stays = _convert(path, text, code, module, found, elsewhere_of, inputs)
        stays += file_stays
        if conversion is not None:
            conversions.append(conversion)
    return tuple(conversions), tuple(stays)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Inputs:
    """What every file's conversion reads of the tree (see convert_modules)."""
    texts: dict[str, str]
    initializers: dict[tuple[str, str, str], str]
    public_types: frozenset[str]
    use_functions: dict[tuple[str, str, str], frozenset[str]]
    known_functions: dict[str, frozenset[str]]
    layout: TypeLayout | None
    bases: dict[str, BaseType]
    without_clinic: frozenset[str]
    declarators: dict[tuple[str, int], int]
    classified: Classified
    per_interpreter_gil: bool       # the tree has Py_mod_multiple_interpreters (3.12+)


def _convert(path: str, text: str, code: list[Token], module: ModuleSource, found: list[tuple[GlobalVar, Verdict]],
             elsewhere: dict[tuple[str, str, str], frozenset[str]],
             inputs: _Inputs) -> tuple[Conversion | None, list[ModuleStay]]:
    """The conversion of one module file with module state (or a multi-phase
    one without), and the interpreter globals that stay."""
    wanted = [(v, d) for v, d in found if d.state_class is StateClass.INTERPRETER]
    texts = inputs.texts
    clinic = clinic_include(code) if path not in inputs.without_clinic else None
    clinic_path = f"{path.rpartition('/')[0]}/{clinic[1]}" if clinic else ""
    clinic_code = code_tokens(tokenize(texts[clinic_path])) if clinic_path in texts else []
    known = inputs.known_functions.get(path, frozenset())
    context = FileContext(text=text, code=code, module=module, functions=functions(code),
                          use_functions=inputs.use_functions, known=known,
                          file_names=frozenset(v.name for v, _ in found) | known,
                          layout=inputs.layout, bases=inputs.bases,
                          module_types=frozenset(v.name for v, d in wanted if v.family is Family.STATIC_TYPE),
                          elsewhere=elsewhere, clinic_path=clinic_path if clinic_code else "",
                          clinic_include=clinic[0] if clinic and clinic_code else -1,
                          clinic_code=clinic_code, clinic_functions=functions(clinic_code),
                          all_tokens=tokenize(text))
    moves, file_stays, helpers = _plan_file(context, wanted, inputs.initializers, inputs.public_types,
                                            inputs.declarators, inputs.classified)
    if moves:
        try:
            edits = conversion_edits(context, moves, helpers)
            edited = apply_edits(text, edits)
            broken = wrapped(text, edited)
            if broken != edited:
                edits = difference_edits(text, broken)
        except EditError as exc:
            file_stays += [ModuleStay(var=m.var, verdict=m.verdict, code=codes.NOT_EDITED, detail=str(exc))
                           for m in moves]
            moves = []
    if not moves:
        return None, file_stays
    clinic_named = any(m.heap is not None and named_in_input(context.all_tokens, m.var.name) for m in moves)
    own_gil, why = declares_own_gil(code, module.slots_table), ""
    if inputs.per_interpreter_gil and not own_gil:
        why = _own_gil_problem(text, module, found, file_stays)
        if not why:
            try:
                edits = [*edits, own_gil_slot_edit(text, code, module.slots_table)]
                own_gil = True
            except EditError as exc:
                why = str(exc)
    return Conversion(file=path, module=module.name, state_type=module.state_type, getter=module.getter,
                      new_state=module.new_state, moves=tuple(moves), edits=tuple(edits),
                      clinic_output=context.clinic_path if clinic_named else "", own_gil=own_gil,
                      own_gil_problem=why), file_stays


def _own_gil_problem(text: str, module: ModuleSource, found: list[tuple[GlobalVar, Verdict]],
                     stays: list[ModuleStay]) -> str:
    """Why a converted multi-phase module may not say it supports a
    per-interpreter GIL."""
    if not own_gil_expressible(text):
        return "it is built against the limited API of a version before 3.12, which has no " \
               "Py_mod_multiple_interpreters"
    if stays or any(d.state_class is StateClass.RUNTIME for _, d in found):
        return "globals of its file stay static"
    if not module.slots_table:
        return "it has no slot table"
    return ""


def _single_phase(path: str, text: str, code: list[Token], reason: str, found: list[tuple[GlobalVar, Verdict]],
                  elsewhere: dict[tuple[str, str, str], frozenset[str]],
                  inputs: _Inputs) -> tuple[Conversion | None, list[ModuleStay]]:
    """A single-phase module becomes multi-phase with module state when all
    of its interpreter globals move and its init writes none that stays:
    init ran once per process, exec runs for every interpreter's module."""
    wanted = [(v, d) for v, d in found if d.state_class is StateClass.INTERPRETER]

    def stay(detail: str) -> tuple[None, list[ModuleStay]]:
        return None, [ModuleStay(var=v, verdict=d, code=codes.SINGLE_PHASE_MODULE, detail=f"{reason}; {detail}")
                      for v, d in wanted]

    isolated = inputs.per_interpreter_gil and all(d.state_class is not StateClass.RUNTIME for _, d in found) \
        and own_gil_expressible(text)
    rewrite = rewrite_init(text, code, functions(code), isolated)
    if isinstance(rewrite, str):
        return stay(rewrite)
    rename = {rewrite.init: rewrite.exec_name}
    if any(v.func in rename for v, _ in found):
        return stay(f"a static of {rewrite.init}() would become one of every interpreter's exec")
    edited = apply_edits(text, rewrite.edits)
    edited_code = code_tokens(tokenize(edited))
    module = read_module(edited_code)
    if isinstance(module, str):
        return stay(f"once multi-phase: {module}")
    writer = _init_writes(edited_code, rewrite.exec_name, [v for v, d in found if d.state_class is StateClass.RUNTIME],
                          inputs.classified, rename)
    if writer:
        return stay(writer)
    lines = line_map(text, rewrite.edits)
    moved_lines = {v.line: lines(v.line) for v, _ in found}
    if None in moved_lines.values():
        return stay("the rewrite of its init replaces a line that declares a global")
    shifted = [(replace(v, line=moved_lines[v.line] or v.line), d) for v, d in found]
    inputs = replace(inputs,
                     use_functions={**inputs.use_functions, **{
                         identity: frozenset(rename.get(f, f) for f in functions_)
                         for identity, functions_ in inputs.use_functions.items() if identity[0] == path}},
                     known_functions={**inputs.known_functions,
                                      path: inputs.known_functions.get(path, frozenset()) | {rewrite.exec_name}},
                     declarators={**inputs.declarators, **{(path, moved_lines[line] or line): count
                                                           for (file, line), count in inputs.declarators.items()
                                                           if file == path and line in moved_lines}})
    conversion, stays = _convert(path, edited, edited_code, module, shifted, elsewhere, inputs)
    if stays or conversion is None:
        # No path to the state often follows from another global staying (a type whose
        # functions then reach nothing): name a stay of another kind when there is one.
        first = next((s for s in stays if s.code is not codes.NO_PATH_TO_MODULE_STATE), stays[0]) if stays else None
        return stay("it becomes multi-phase only when all its interpreter globals move, and "
                    + (f"{first.var.qualified_name} stays ({first.code.code} {first.code.slug}: {first.detail})"
                       if first else "none moves"))
    unanalyzed = unanalyzed_stores(edited, edited_code, rewrite.exec_name,
                                   frozenset(v.name for v, _ in wanted), shared_gil=not inputs.per_interpreter_gil)
    if isinstance(unanalyzed, str):
        return stay(unanalyzed)
    original = {v.identity: v for v, _ in found}
    after = wrapped(text, apply_edits(edited, [*conversion.edits, *unanalyzed.guards]))
    return replace(conversion, edits=tuple(difference_edits(text, after)),
                   moves=tuple(replace(m, var=original[m.var.identity]) for m in conversion.moves),
                   multi_phase=rewrite.init, shared_dict=rewrite.shared_dict, added_slots=rewrite.added_slots,
                   warnings_kept=rewrite.warnings_kept, once_stored=unanalyzed.guarded, exec_name=rewrite.exec_name,
                   own_gil=PER_INTERPRETER_GIL_SLOT[0] in rewrite.added_slots), []


def _init_writes(code: list[Token], exec_name: str, staying: list[GlobalVar], classified: Classified,
                 rename: dict[str, str]) -> str:
    """Why exec may not run once per interpreter: it, or a function of the
    file it calls, writes a global that stays (each interpreter's module
    would repoint it at its own objects)."""
    reached = {f.name for f in reached_functions(functions(code), code, exec_name)}
    for var in staying:
        writers = {rename.get(f[1], f[1]) for s in classified.facts[var.identity].writes if (f := s.use.function)}
        if writers & reached:
            pristine = {exec_: init for init, exec_ in rename.items()}
            where = ", ".join(f"{pristine.get(f, f)}()" for f in sorted(writers & reached))
            return f"its init writes {var.qualified_name} (in {where}), which stays process-wide: " \
                   "each interpreter's exec would repoint it"
    return ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileContext:
    text: str
    code: list[Token]
    module: ModuleSource
    functions: list[Function]
    use_functions: dict[tuple[str, str, str], frozenset[str]]
    known: frozenset[str]
    file_names: frozenset[str]          # the file's globals and functions
    layout: TypeLayout | None = None
    bases: dict[str, BaseType] | None = None
    module_types: frozenset[str] = frozenset()     # the static types of the file with interpreter verdicts
    elsewhere: dict[tuple[str, str, str], frozenset[str]] | None = None    # uses in other (included) files
    reachable: dict[str, str] | None = None    # functions of the types that convert: the type's expression there
    helpers: dict[str, Helper] = dataclasses.field(default_factory=dict)   # given the state as a parameter
    blocked: frozenset[str] = frozenset()      # functions of the types that stay static too
    clinic_path: str = ""                      # its Argument Clinic output, when the clinic input may change
    clinic_include: int = -1                   # the code index of its #include
    clinic_code: list[Token] = dataclasses.field(default_factory=list)
    clinic_functions: list[Function] = dataclasses.field(default_factory=list)
    all_tokens: list[Token] = dataclasses.field(default_factory=list)     # with the comments (the clinic input)

    def named(self, name: str) -> list[Function]:
        return [f for f in self.functions if f.name == name]

    def references(self, function: Function, name: str) -> list[int]:
        """The indexes of `name` in the function, but as a member."""
        return [i for i in range(function.start, function.end) if self.code[i].text == name
                and self.code[i].kind == "id" and not names_member(self.code, i)]


def _plan_file(context: FileContext, wanted: list[tuple[GlobalVar, Verdict]],
               initializers: dict[tuple[str, str, str], str], public_types: frozenset[str],
               declarators: dict[tuple[str, int], int], classified: Classified) -> tuple[
        list[ModuleMove], list[ModuleStay], dict[str, Helper]]:
    # A method of a type that becomes a heap type reaches the module state
    # through the type (PyType_GetModuleByDef); the types that convert are
    # found together: one that stays static takes that path from its methods.
    owners: dict[str, set[str]] = {}
    expressions: dict[str, str] = {}
    if context.layout is not None and context.module.finder:
        for var, _ in wanted:
            if var.family is Family.STATIC_TYPE:
                for function, expression in own_functions(context.code,
                                                          context.functions + context.clinic_functions,
                                                          var.name, context.layout).items():
                    owners.setdefault(function, set()).add(var.name)
                    if expressions.setdefault(function, expression) != expression:
                        expressions[function] = ""          # given different objects by different types
    # A module-level function has the module object (or a state local) in hand.
    in_hand = {function.name: f"{STATE_PATH}:{path}" for function in context.functions
               if function.name not in context.module.exec_functions
               and (path := state_expression(context.code, function, context.module, function.end))}
    converting = {var.name for var, _ in wanted if var.family is Family.STATIC_TYPE}
    first_reasons: dict[str, ModuleStay] = {}
    while True:
        reachable = {**in_hand, **{f: e for f, e in expressions.items() if e and owners[f] <= converting}}
        reachable |= _clinic_impls(context, reachable)
        helpers: dict[str, Helper] = {}
        while True:                  # a helper's own helpers are given the state it is given
            grown = state_helpers(context.code, context.functions,
                                  {*reachable, *context.module.exec_functions}) | helpers
            if grown.keys() == helpers.keys():
                break
            helpers = grown
            reachable |= {name: f"{PARAMETER_PATH}:{helper.parameter}" for name, helper in helpers.items()}
        blocked = frozenset(f for f in owners if not owners[f] <= converting)
        found_context = replace(context, reachable=reachable, blocked=blocked, helpers=helpers)
        stays: dict[tuple[str, str, str], ModuleStay] = {}
        moves: dict[tuple[str, str, str], ModuleMove] = {}
        taken = set(_state_members(context))
        for var, verdict in wanted:
            found = _move_or_stay(found_context, var, verdict, initializers, public_types, declarators, taken)
            if isinstance(found, ModuleStay):
                stays[var.identity] = found
            else:
                moves[var.identity] = found
                taken.add(found.field)
        staying = {stay.var.name for stay in stays.values() if stay.var.family is Family.STATIC_TYPE}
        for stay in stays.values():
            if stay.var.name in staying & converting:
                first_reasons[stay.var.name] = stay
        if not staying & converting:
            break
        converting -= staying
    for identity, stay in list(stays.items()):
        first = first_reasons.get(stay.var.name)
        if first is not None and first is not stay:
            stays[identity] = first             # the reason it stayed first, not what followed from others
    # Globals written by one function are one piece of state: one that stays keeps the others.
    writers = {identity: {site.use.function for site in classified.facts[identity].writes}
               for identity in (*moves, *stays)}
    changed = True
    while changed:
        changed = False
        for identity in sorted(m for m in moves if moves[m].heap is None):   # a type is not written as state is
            partner = next((other for other in sorted(stays) if writers[identity] & writers[other]), None)
            if partner is not None:
                move = moves.pop(identity)
                stays[identity] = ModuleStay(var=move.var, verdict=move.verdict, code=codes.PARTNER_STAYS,
                                             detail=f"written together with {stays[partner].var.qualified_name}")
                changed = True
    # An index into a table that stays picks entries of that one table:
    # `&BasicStaticTypes[used++]` counts the types handed out per process.
    staying_tables = {stay.var.name: stay for stay in stays.values() if stay.var.ctype.is_array}
    for identity in sorted(m for m in moves if moves[m].heap is None):
        table = _indexed_table(context.code, moves[identity].var.name, staying_tables)
        if table is not None:
            move = moves.pop(identity)
            stays[identity] = ModuleStay(var=move.var, verdict=move.verdict, code=codes.PARTNER_STAYS,
                                         detail=f"an index of {staying_tables[table].var.qualified_name}")
    used = {name for move in moves.values() for name, _ in move.paths}    # by the moves that are left
    helpers = {name: helper for name, helper in helpers.items() if name in used}
    planned = _with_state_locals(replace(found_context, helpers=helpers), list(moves.values()))
    return planned, list(stays.values()), helpers


def _indexed_table(code: list[Token], name: str, tables: Collection[str]) -> str | None:
    """The first of `tables` that `name` subscripts somewhere (`table[... name ...]`)."""
    for index in range(len(code) - 1):
        if code[index].text in tables and code[index + 1].text == "[" and code[index - 1].text not in (".", "->"):
            depth = 0
            for token in code[index + 1:]:
                depth += {"[": 1, "]": -1}.get(token.text, 0)
                if depth == 0:
                    break
                if token.text == name and token.kind == "id":
                    return code[index].text
    return None


def _clinic_impls(context: FileContext, reachable: dict[str, str]) -> dict[str, str]:
    """Argument Clinic's `NAME_impl` of a reachable `NAME` is given what
    `NAME` is given: the type (`PyTypeObject *type`) or the instance."""
    found = {}
    for function in context.functions:
        wrapper = reachable.get(function.name.removesuffix("_impl"), "") if function.name.endswith("_impl") else ""
        if not wrapper or not function.parameters or wrapper.startswith((STATE_PATH, PARAMETER_PATH, OPERANDS)):
            continue
        type_, parameter = function.parameters[0]
        if wrapper.startswith("Py_TYPE("):
            found[function.name] = f"Py_TYPE({parameter})"
        elif type_ == "PyTypeObject *":
            found[function.name] = parameter
    return found


def _line_length(text: str, offset: int) -> int:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return (len(text) if end < 0 else end) - start


def _with_state_locals(context: FileContext, moves: list[ModuleMove]) -> list[ModuleMove]:
    """A function that reaches the state through the getter more than once
    gets a state local instead (`mod_state *state = get_mod_state(module);`
    first in its body), as does one that reaches a heap type, or where the
    call would make a line longer than PEP 7's 79 columns: paths naming it
    as `state->`."""
    counts: dict[str, int] = {}
    for move in moves:
        for name, expression in move.paths:
            if "(" in expression:            # a call of the getter, not a local already
                passes = move.heap is not None or name in move.passing or name in move.given or any(
                    name in context.helpers[helper].callers for helper in move.given)
                references = [i for f in context.named(name) for i in context.references(f, move.var.name)]
                too_long = any(_line_length(context.text, context.code[i].start) + len(expression) > WIDTH
                               for i in references)
                counts[name] = counts.get(name, 0) + len(references) + 2 * (passes or too_long)
    renamed = {}
    for name, count in counts.items():
        if count > 1:
            taken = {t.text for f in context.named(name) for t in context.code[f.start:f.end] if t.kind == "id"}
            renamed[name] = next(n for n in ("state", "st", "mod_state", "module_state") if n not in taken)
    return [replace(move, paths=tuple((name, f"{renamed[name]}->" if name in renamed else expression)
                                      for name, expression in move.paths),
                    locals=tuple((name, renamed[name], expression[:-2])
                                 for name, expression in move.paths if name in renamed))
            for move in moves]


def _move_or_stay(context: FileContext, var: GlobalVar, verdict: Verdict,
                  initializers: dict[tuple[str, str, str], str], public_types: frozenset[str],
                  declarators: dict[tuple[str, int], int], taken: set[str]) -> ModuleMove | ModuleStay:
    def stay(code: Code, detail: str) -> ModuleStay:
        return ModuleStay(var=var, verdict=verdict, code=code, detail=detail)

    other_files = (context.elsewhere or {}).get(var.identity)
    clinic_named = var.family is Family.STATIC_TYPE and bool(context.clinic_path) and bool(context.module.finder) \
        and named_in_input(context.all_tokens, var.name)
    if other_files and not (clinic_named and other_files == {context.clinic_path}):
        return stay(codes.USED_IN_OTHER_FILES, f"used in {', '.join(sorted(other_files))} too (included there)")
    if var.family is Family.STATIC_TYPE:
        return _heap_type_or_stay(context, var, verdict, taken)
    problem = _declaration_problem(var, declarators[(var.file, var.line)], public_types)
    if problem:
        return stay(codes.NOT_A_STATE_MEMBER, problem)
    initializer = initializers.get(var.identity) if var.has_initializer else None
    initial = ""
    if var.has_initializer and (initializer is None or not ZERO_RE.match(initializer)):
        if initializer is None or var.family is not Family.SCALAR or len(context.module.exec_functions) != 1 \
                or not _assignable_in_exec(context, initializer):
            return stay(codes.NONZERO_INITIALIZER, f"= {initializer}" if initializer else "")
        initial = initializer.strip()
    uses = context.use_functions.get(var.identity, frozenset())
    if "" in uses:
        return stay(codes.NO_PATH_TO_MODULE_STATE, "used in the initializer of another global")
    paths = []
    for name in sorted(uses):
        expressions = set()
        for function in context.named(name):
            references = [i for i in context.references(function, var.name) if context.code[i].line != var.line]
            expressions.add(state_expression(context.code, function, context.module, min(references, default=0)))
        if not expressions:
            return stay(codes.NOT_EDITED, f"no definition of {name}() in the file")
        if None in expressions:
            via = (context.reachable or {}).get(name)
            if via is None or len(expressions) > 1 or not (
                    context.module.finder or via.startswith((STATE_PATH, PARAMETER_PATH))):
                return stay(codes.NO_PATH_TO_MODULE_STATE, f"{name}()")
            expressions = {_finder_call(context.module.finder, via)}
        if len(expressions) > 1:
            return stay(codes.NOT_EDITED, f"{name}() reaches the state differently in its definitions")
        paths.append((name, expressions.pop() or ""))
    if var.family is not Family.OBJECT_POINTER:
        external = _handed_to_external(context, var, uses)
        if external:
            return stay(codes.HELD_BY_LIBRARY, f"{external} = {var.name}")
    owned, taken_by = False, ""
    steals: tuple[tuple[str, int], ...] = ()
    if var.family is Family.OBJECT_POINTER:
        ownership, taken_by, steals = _ownership(context, var, uses)
        if ownership is None:
            return stay(codes.OWNERSHIP_UNDECIDED, "")
        owned = ownership
    if owned and (context.module.traverse is None or context.module.clear is None):
        return stay(codes.NO_GC_FUNCTIONS, "")
    field = var.name if var.name not in taken else f"{var.func}_{var.name}" if var.func else ""
    if not field or field in taken:
        return stay(codes.NOT_EDITED, f"the state struct has a member named {var.name}")
    reached = dict(paths)
    given = _through_helpers(context, reached)
    return ModuleMove(var=var, verdict=verdict, field=field, owned=owned, paths=tuple(reached.items()),
                      initial=initial, passing=tuple(sorted(set(reached) - uses)), given=tuple(sorted(given)),
                      taken_by=taken_by, increfs=steals)


def _assignable_in_exec(context: FileContext, initializer: str) -> bool:
    """A scalar's initializer that means the same as the exec function's
    first statement: a constant expression (literals, operators, casts,
    macros) that names none of the file's variables, directly or through
    the file's macros, nor a name the exec function declares."""
    tokens = tokenize(initializer)
    if not tokens or any(t.text in ("{", "}", ";", "=") or t.directive is not None for t in tokens):
        return False
    variables = context.file_names - context.known
    macros = macro_definitions(context.code)
    exec_function = next(f for f in context.functions if f.name == context.module.exec_functions[0])
    seen: set[str] = set()
    pending = [t.text for t in tokens if t.kind == "id"]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in variables or declared_in(context.code, exec_function, name):
            return False
        pending += [t.text for start, end in macros.get(name, ()) for t in context.code[start + 1:end]
                    if t.kind == "id"]
    return True


def _heap_type_or_stay(context: FileContext, var: GlobalVar, verdict: Verdict,
                       taken: set[str]) -> ModuleMove | ModuleStay:
    module = context.module
    if context.layout is None:
        return ModuleStay(var=var, verdict=verdict, code=codes.STATIC_TYPE_IN_MODULE,
                          detail="the tree's headers give no PyTypeObject layout")
    if not module.exec_functions:
        return ModuleStay(var=var, verdict=verdict, code=codes.STATIC_TYPE_IN_MODULE,
                          detail="the module has no exec function to make it in")
    if var.name in taken:
        return ModuleStay(var=var, verdict=verdict, code=codes.NOT_EDITED,
                          detail=f"the state struct has a member named {var.name}")
    clinic_uses = {f.name for f in context.clinic_functions
                   if any(t.text == var.name for t in context.clinic_code[f.start:f.end + 1])}
    not_given = sorted(f for f in clinic_uses if (context.reachable or {}).get(f) != "type")
    if not_given:
        return ModuleStay(var=var, verdict=verdict, code=codes.USED_IN_OTHER_FILES,
                          detail=f"Argument Clinic's output names it in {', '.join(f + '()' for f in not_given)}, "
                                 f"where {CLINIC_STATE}() has no type to reach the state through")
    heap = plan_heap_type(context.text, context.code, context.functions, var.name, module.exec_functions,
                          context.use_functions.get(var.identity, frozenset()), context.layout,
                          context.bases or {}, context.module_types - {var.name}, context.reachable or {},
                          context.blocked)
    if isinstance(heap, str):
        code = codes.NO_PATH_TO_MODULE_STATE if "reach no module state" in heap else codes.STATIC_TYPE_IN_MODULE
        return ModuleStay(var=var, verdict=verdict, code=code, detail=heap)
    parameter = next(f.parameters[0][1] for f in context.named(heap.exec_function) if f.parameters)
    paths = {heap.exec_function: f"{module.getter}({parameter})->",
             **{function: _finder_call(module.finder, expression) for function, expression in heap.method_uses}}
    users = {function for function, _ in heap.method_uses} | {heap.exec_function}
    given = _through_helpers(context, paths)
    return ModuleMove(var=var, verdict=verdict, field=var.name, owned=True, heap=heap, paths=tuple(paths.items()),
                      passing=tuple(sorted(set(paths) - users)), given=tuple(sorted(given)))


def _through_helpers(context: FileContext, paths: dict[str, str]) -> set[str]:
    """The helpers among `paths`' functions, each given the state as a new
    parameter; their callers, added to `paths`, pass it theirs, and so on
    up to the functions that have it."""
    module = context.module
    pending = [function for function in paths if function in context.helpers]
    given = set(pending)
    while pending:
        for caller in context.helpers[pending.pop()].callers:
            if caller in paths:
                continue
            if caller in module.exec_functions:
                exec_parameter = next(f.parameters[0][1] for f in context.named(caller) if f.parameters)
                paths[caller] = f"{module.getter}({exec_parameter})->"
            else:
                paths[caller] = _finder_call(module.finder, (context.reachable or {})[caller])
                if caller in context.helpers:
                    pending.append(caller)
                    given.add(caller)
    return given


def _finder_call(finder: str, expression: str) -> str:
    """`get_mod_state_by_type(Py_TYPE(self))->`, or for a binary number
    slot `get_mod_state_by_operands(left, right)->`."""
    if expression.startswith(f"{STATE_PATH}:"):
        return expression[len(STATE_PATH) + 1:]
    if expression.startswith(f"{PARAMETER_PATH}:"):
        return f"{expression[len(PARAMETER_PATH) + 1:]}->"
    if expression.startswith(f"{OPERANDS}:"):
        return f"{finder.removesuffix('_by_type')}_by_operands({expression[len(OPERANDS) + 1:]})->"
    return f"{finder}({expression})->"


def _declaration_problem(var: GlobalVar, declarators: int, public_types: frozenset[str]) -> str:
    if var.storage is not Storage.STATIC:
        return "defined without static: other files may name it"
    if var.macro:
        return f"declared by the macro {var.macro}"
    if var.thread_local:
        return "thread-local"
    if not var.file.endswith(".c"):
        return "defined in a header"
    if declarators > 1:
        return "declared together with other variables"
    if var.ctype.is_array:
        return f"an array ({var.type})"
    if declaration(var.ctype, var.name) is None or not declarable_elsewhere(var, public_types):
        return f"its type ({var.type}) may be defined after the state struct"
    return ""


def _ownership(context: FileContext, var: GlobalVar,
               uses: frozenset[str]) -> tuple[bool | None, str, tuple[tuple[str, int], ...]]:
    """Whether the global owns the object it points to, from how the code
    stores it: a new reference stored (or a stored value increfed) is owned,
    a borrowed one never increfed is not; None when the code does not say.
    Second and third: the call that steals the new reference it holds (with
    no incref before it), and where (function, index of the reference)."""
    code = context.code
    kinds: set[str] = set()
    increfed = decrefed = False
    stolen = ""
    steals: list[tuple[str, int]] = []
    for name in uses:
        for function in context.named(name):
            for index in context.references(function, var.name):
                before = code[index - 2].text if code[index - 1].text == "(" else ""
                increfed |= before in INCREF_CALLS
                decrefed |= before in DECREF_CALLS
                taker = _stolen(code, function, index)
                if taker and not any(code[i - 2].text in INCREF_CALLS and code[i - 1].text == "("
                                     for i in context.references(function, var.name) if i < index):
                    stolen = stolen or taker
                    steals.append((name, index))
                if before in SETREF_CALLS:
                    kinds.add("new")
                elif code[index + 1].text == "=" and code[index + 2].text != "=":
                    kinds.add(_stored(code, index + 2))
                elif code[index - 1].text == "&":
                    kinds.add("unknown")          # stored through its address
    kinds.discard("none")
    if not kinds:
        return None, "", ()
    if stolen:
        # the call took the reference it had (it was left a borrowed one): an incref before the call
        # keeps one for the state, where it can be owned, visited and cleared
        owned = kinds == {"new"} and all(own_line_statement(code, i) is not None for _, i in steals)
        return owned, stolen, tuple(steals) if owned else ()
    if increfed or kinds == {"new"}:
        return True, "", ()
    if kinds == {"borrowed"} and not decrefed:
        return False, "", ()
    return None, "", ()


def _stolen(code: list[Token], function: Function, index: int) -> str:
    """The call that steals the reference at `index`, if one does."""
    depth = commas = 0
    for i in range(index - 1, function.brace, -1):
        text = code[i].text
        if text in (")", "]"):
            depth += 1
        elif text in ("(", "[") and depth:
            depth -= 1
        elif text == "," and not depth:
            commas += 1
        elif text == "(":
            return code[i - 1].text if STEALING_CALLS.get(code[i - 1].text) == commas else ""
        elif text in (";", "{", "}"):
            return ""
    return ""


def _handed_to_external(context: FileContext, var: GlobalVar, uses: frozenset[str]) -> str:
    """The variable declared neither in the file nor in the function that is
    given the global's value (`rl_completer_word_break_characters = x;`): C
    library state, one per process, keeps what the global holds."""
    code = context.code
    for name in sorted(uses):
        for function in context.named(name):
            for index in context.references(function, var.name):
                target = code[index - 2]
                if code[index - 1].text != "=" or target.kind != "id" or code[index - 3].text in (".", "->"):
                    continue
                if code[index + 1].text == ";" and target.text not in context.file_names \
                        and not declared_in(code, function, target.text):
                    return target.text
    return ""


def _stored(code: list[Token], index: int) -> str:
    """What `x = ...` stores, from the first token after `=`: new (a call
    returning a new reference), borrowed, none (NULL), unknown."""
    while code[index].text == "(":            # a cast: `(PyObject *)`
        close = index + 1
        while close < len(code) and code[close].text != ")":
            close += 1
        if not all(t.kind == "id" or t.text == "*" for t in code[index + 1:close]):
            break
        index = close + 1
    token = code[index]
    if token.text in ("NULL", "0"):
        return "none"
    if token.kind == "id" and code[index + 1].text == "(":
        if token.text in NEW_REFERENCE_CALLS:
            return "new"
        if token.text in BORROWED_REFERENCE_CALLS:
            return "borrowed"
    return "unknown"


def _state_members(context: FileContext) -> list[str]:
    """The member names of the state struct."""
    if context.module.new_state:
        return []
    opening, closing = state_struct(context)
    code = context.code
    return [code[i].text for i in range(opening + 1, closing)
            if code[i].kind == "id" and code[i + 1].text in (";", "[")]
