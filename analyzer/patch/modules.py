"""Extension modules that already keep module state (m_size = sizeof a state
struct): their interpreter globals become members of that struct, reached
in each function from what it has (a state local or parameter, or the
module object of a module-level or exec function), visited by m_traverse and
cleared by m_clear when the global owned the object it points to.  What
cannot move stays, with a code (codes.STAY_CODES) and the detail."""
from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass, replace

from .. import codes
from ..classify import Classified
from ..codes import Code
from ..cpython.api import (
    BORROWED_REFERENCE_CALLS,
    DECREF_CALLS,
    INCREF_CALLS,
    MODULE_DEF_FIELDS,
    NEW_REFERENCE_CALLS,
    SETREF_CALLS,
)
from ..cpython.typeslots import TypeLayout
from ..model import Family, GlobalVar, ScanResult, StateClass, Storage, Verdict
from .clinic import CLINIC_STATE, clinic_include, input_edits, macro_edits, named_in_input
from .edits import (
    Edit,
    EditError,
    Token,
    apply_edits,
    closing_brace,
    indent_at,
    initializer_elements,
    line_start,
    move_edits,
    tokenize,
)
from .heap_types import HeapType, creation, exec_edits, own_functions, plan_heap_type
from .helpers import PARAMETER_PATH, Helper, helper_edits, state_helpers
from .module_source import (
    Function,
    ModuleSource,
    code_tokens,
    functions,
    read_module,
    state_expression,
    state_locals,
)
from .plan import NUMBER_RE, ZERO_RE, declarable_elsewhere, declaration
from .type_specs import OPERANDS, BaseType

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
    texts: tuple[tuple[str, str], ...] = ()    # (path, text) once regenerated: the file and its clinic output


def convert_modules(result: ScanResult, classified: Classified, texts: dict[str, str],
                    initializers: dict[tuple[str, str, str], str], public_types: frozenset[str],
                    use_functions: dict[tuple[str, str, str], frozenset[str]],
                    known_functions: dict[str, frozenset[str]],
                    only: frozenset[str] | None = None, layout: TypeLayout | None = None,
                    bases: dict[str, BaseType] | None = None,
                    without_clinic: frozenset[str] = frozenset()) -> tuple[tuple[Conversion, ...],
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
        if isinstance(module, str):
            why = codes.SINGLE_PHASE_MODULE if module.startswith("single-phase") else codes.OUTSIDE_MODULE_DEFINITION
            stays += [ModuleStay(var=v, verdict=d, code=why, detail=module) for v, d in wanted]
            continue
        assert text is not None
        clinic = clinic_include(code) if path not in without_clinic else None
        clinic_path = f"{path.rpartition('/')[0]}/{clinic[1]}" if clinic else ""
        clinic_code = code_tokens(tokenize(texts[clinic_path])) if clinic_path in texts else []
        context = _FileContext(text=text, code=code, module=module, functions=functions(code),
                               use_functions=use_functions, known=known_functions.get(path, frozenset()),
                               file_names=frozenset(v.name for v, _ in found) | known_functions.get(path, frozenset()),
                               layout=layout, bases=bases or {},
                               module_types=frozenset(v.name for v, d in wanted if v.family is Family.STATIC_TYPE),
                               elsewhere={v.identity: frozenset(elsewhere[v.identity]) for v, _ in wanted
                                          if v.identity in elsewhere},
                               clinic_path=clinic_path if clinic_code else "",
                               clinic_include=clinic[0] if clinic and clinic_code else -1,
                               clinic_code=clinic_code, clinic_functions=functions(clinic_code),
                               all_tokens=tokenize(text))
        moves, file_stays, helpers = _plan_file(context, wanted, initializers, public_types, declarators,
                                                classified)
        if moves:
            try:
                edits = _edits(context, moves, helpers)
                apply_edits(text, edits)
            except EditError as exc:
                file_stays += [ModuleStay(var=m.var, verdict=m.verdict, code=codes.NOT_EDITED, detail=str(exc))
                               for m in moves]
                moves = []
        stays += file_stays
        if moves:
            clinic_named = any(m.heap is not None and named_in_input(context.all_tokens, m.var.name) for m in moves)
            conversions.append(Conversion(file=path, module=module.name, state_type=module.state_type,
                                          getter=module.getter, new_state=module.new_state,
                                          moves=tuple(moves), edits=tuple(edits),
                                          clinic_output=context.clinic_path if clinic_named else ""))
    return tuple(conversions), tuple(stays)


@dataclass(frozen=True, slots=True, kw_only=True)
class _FileContext:
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
                and self.code[i].kind == "id" and self.code[i - 1].text not in (".", "->")]


def _plan_file(context: _FileContext, wanted: list[tuple[GlobalVar, Verdict]],
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
    used = {name for move in moves.values() for name, _ in move.paths}
    helpers = {name: helper for name, helper in helpers.items() if name in used}
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


def _clinic_impls(context: _FileContext, reachable: dict[str, str]) -> dict[str, str]:
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


def _with_state_locals(context: _FileContext, moves: list[ModuleMove]) -> list[ModuleMove]:
    """A function that reaches the state through the getter more than once
    gets a state local instead (`mod_state *state = get_mod_state(module);`
    first in its body), as does one that reaches a heap type: paths naming
    it as `state->`."""
    counts: dict[str, int] = {}
    for move in moves:
        for name, expression in move.paths:
            if "(" in expression:            # a call of the getter, not a local already
                passes = move.heap is not None or name in move.passing or name in move.given or any(
                    name in context.helpers[helper].callers for helper in move.given)
                counts[name] = counts.get(name, 0) + sum(len(context.references(f, move.var.name))
                                                         for f in context.named(name)) + 2 * passes
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


def _move_or_stay(context: _FileContext, var: GlobalVar, verdict: Verdict,
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
        if initializer is None or var.family is not Family.SCALAR or not NUMBER_RE.match(initializer) \
                or len(context.module.exec_functions) != 1:
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
    owned = False
    if var.family is Family.OBJECT_POINTER:
        ownership = _ownership(context, var, uses)
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
                      initial=initial, passing=tuple(sorted(set(reached) - uses)), given=tuple(sorted(given)))


def _heap_type_or_stay(context: _FileContext, var: GlobalVar, verdict: Verdict,
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


def _through_helpers(context: _FileContext, paths: dict[str, str]) -> set[str]:
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


def _ownership(context: _FileContext, var: GlobalVar, uses: frozenset[str]) -> bool | None:
    """Whether the global owns the object it points to, from how the code
    stores it: a new reference stored (or a stored value increfed) is owned,
    a borrowed one never increfed is not; None when the code does not say."""
    code = context.code
    kinds: set[str] = set()
    increfed = decrefed = False
    for name in uses:
        for function in context.named(name):
            for index in context.references(function, var.name):
                before = code[index - 2].text if code[index - 1].text == "(" else ""
                increfed |= before in INCREF_CALLS
                decrefed |= before in DECREF_CALLS
                if before in SETREF_CALLS:
                    kinds.add("new")
                elif code[index + 1].text == "=" and code[index + 2].text != "=":
                    kinds.add(_stored(code, index + 2))
                elif code[index - 1].text == "&":
                    kinds.add("unknown")          # stored through its address
    kinds.discard("none")
    if not kinds:
        return None
    if increfed:
        return True
    if kinds == {"new"}:
        return True
    if kinds == {"borrowed"} and not decrefed:
        return False
    return None


def _handed_to_external(context: _FileContext, var: GlobalVar, uses: frozenset[str]) -> str:
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
                        and not _declared_in(code, function, target.text):
                    return target.text
    return ""


def _declared_in(code: list[Token], function: Function, name: str) -> bool:
    return any(code[i].text == name and code[i].directive is None and code[i - 1].directive is None
               and (code[i - 1].kind == "id" or code[i - 1].text == "*")
               and code[i + 1].text in ("=", ";", ",", "[", ")") for i in range(function.start, function.end))


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


def _state_members(context: _FileContext) -> list[str]:
    """The member names of the state struct."""
    if context.module.new_state:
        return []
    opening, closing = _state_struct(context)
    code = context.code
    return [code[i].text for i in range(opening + 1, closing)
            if code[i].kind == "id" and code[i + 1].text in (";", "[")]


def _state_struct(context: _FileContext) -> tuple[int, int]:
    """(index of `{`, index of `}`) of the state struct's definition:
    `typedef struct [tag] { ... } NAME;` or `struct tag { ... };`."""
    code = context.code
    words = context.module.state_type.split()
    for index, token in enumerate(code[:-2]):
        if token.directive is not None or token.text != "{" or token.depth != 0:
            continue
        closing = closing_brace(code, index)
        if closing + 2 >= len(code):
            continue
        if words[0] == "struct" and [t.text for t in code[index - 2:index]] == words:
            return index, closing
        if len(words) == 1 and code[closing + 1].text == words[0] and code[closing + 2].text == ";" \
                and "typedef" in (code[index - 2].text, code[index - 3].text):
            return index, closing
    raise EditError(f"no definition of {context.module.state_type} in the file")


def _edits(context: _FileContext, moves: list[ModuleMove], helpers: dict[str, Helper]) -> list[Edit]:
    text, code, module = context.text, context.code, context.module
    tokens = tokenize(text)
    edits: list[Edit] = []
    for move in moves:
        var = move.var
        if move.heap is not None:
            edits += [edit for edit in move.heap.edits if edit not in edits]   # a dealloc two types share
            continue
        edits += move_edits(text, tokens, name=var.name, line=var.line, func=var.func,
                            replacement={name: f"{expression}{move.field}" for name, expression in move.paths},
                            use_functions=context.use_functions.get(var.identity, frozenset()),
                            known_functions=context.known)
    made_in: dict[str, tuple[str, list[HeapType]]] = {}
    for move in moves:
        if move.heap is not None:
            for name, expression in move.paths:
                made_in.setdefault(name, (expression, []))[1].append(move.heap)
    for name, (expression, heaps) in sorted(made_in.items()):
        for function in context.named(name):
            edits += exec_edits(text, code, function, heaps, expression)
    caller_locals = {function: expression[:-2] for move in moves for function, expression in move.paths
                     if "(" not in expression and expression.endswith("->")}
    for helper in helpers.values():
        edits += helper_edits(code, helper, module.state_type, caller_locals)
    declared = sorted({entry for move in moves for entry in move.locals})
    initials = [(m.field, m.initial) for m in moves if m.initial]
    initial_names = {m.var.name for m in moves if m.initial}
    initialized = False
    for function_name, local, initializer in declared:
        made = [line for move in moves if move.heap is not None and move.heap.exec_function == function_name
                for line in creation(move.heap, _argument(initializer), f"{local}->", "")]
        starts = [f"{local}->{field} = {value};" for field, value in initials] \
            if function_name in module.exec_functions else []
        initialized |= bool(starts)
        for function in context.named(function_name):
            edits.append(_first_in_body(context, function, [f"{module.state_type} *{local} = {initializer};",
                                                            *starts, *made, *([""] if made or starts else [])]))
    if initials and not initialized:
        for function in context.named(module.exec_functions[0]):
            edits.append(_initial_values(context, function, initials, initial_names))
    members = [f"PyTypeObject *{m.field};" if m.heap is not None else f"{declaration(m.var.ctype, m.field)};"
               for m in moves]
    owned = [m for m in moves if m.owned]
    reached = [expression for move in moves
               for _, expression in (*move.paths, *((n, i + "->") for _, n, i in move.locals))]
    stem = module.finder.removesuffix("_by_type")
    clinic = [m for m in moves if m.heap is not None and context.clinic_path
              and named_in_input(context.all_tokens, m.var.name)]
    for move in clinic:
        edits += input_edits(text, context.all_tokens, move.var.name, f"{CLINIC_STATE}()->{move.field}")
    if clinic:
        edits += macro_edits(text, code, context.clinic_include, module.finder)
    operands = bool(module.finder) and any(e.startswith(f"{stem}_by_operands(") for e in reached)
    finder = bool(module.finder) and (operands or bool(clinic)
                                      or any(e.startswith(f"{module.finder}(") for e in reached))
    if module.new_state:
        return edits + _new_state_edits(context, members, [m.field for m in owned], finder, operands)
    if finder:
        edits.append(_finder_edit(context, operands))
    _, closing = _state_struct(context)
    indent = indent_at(text, code[closing - 1].start) or "    "
    edits.append(Edit(start=line_start(text, code[closing].start), end=line_start(text, code[closing].start),
                      text="".join(f"{indent}{member}\n" for member in members)))
    for gc_function, macro in ((module.traverse, "Py_VISIT"), (module.clear, "Py_CLEAR")):
        if owned and gc_function:
            edits.append(_before_return(context, gc_function, [f"{macro}({{}}{m.field});" for m in owned]))
    return edits


def _argument(call: str) -> str:
    """`module` of `get_mod_state(module)`."""
    return call[call.index("(") + 1:-1]


def _finder_lines(context: _FileContext, operands: bool) -> list[str]:
    """The helper a method of a heap type reaches its module's state with
    (PyType_GetModuleByDef walks the type's MRO to the module that made
    it), after a forward declaration of the module's PyModuleDef; and the
    one of a binary number slot, given the type's instance as either
    operand."""
    module = context.module
    by_operands = f"{module.finder.removesuffix('_by_type')}_by_operands"
    lines = ["", f"static struct PyModuleDef {module.definition};", "",
             f"static inline {module.state_type} *", f"{module.finder}(PyTypeObject *type)", "{",
             f"    PyObject *module = PyType_GetModuleByDef(type, &{module.definition});",
             "    assert(module != NULL);", f"    return {module.getter}(module);", "}"]
    if operands:
        lines += ["", "/* A binary number slot is given the type's instance as either operand. */",
                  f"static inline {module.state_type} *", f"{by_operands}(PyObject *left, PyObject *right)", "{",
                  f"    PyObject *module = PyType_GetModuleByDef(Py_TYPE(left), &{module.definition});",
                  "    if (module == NULL) {", "        PyErr_Clear();",
                  f"        module = PyType_GetModuleByDef(Py_TYPE(right), &{module.definition});", "    }",
                  "    assert(module != NULL);", f"    return {module.getter}(module);", "}"]
    return lines


def _finder_edit(context: _FileContext, operands: bool) -> Edit:
    """The finder after the definition of an existing getter."""
    getter = context.named(context.module.getter)
    if len(getter) != 1:
        raise EditError(f"{context.module.getter}() is defined {len(getter)} times")
    after = context.text.find("\n", context.code[getter[0].end].end) + 1
    if context.clinic_include >= 0 and context.code[context.clinic_include].start < after:
        raise EditError(f"{context.module.getter}() is defined after the clinic include that needs it")
    return Edit(start=after, end=after, text="\n".join(_finder_lines(context, operands)) + "\n")


def _new_state_edits(context: _FileContext, members: list[str], owned: list[str], finder: bool,
                     operands: bool) -> list[Edit]:
    """A multi-phase module without state gets one: the struct and its
    getter after the file's includes, m_traverse, m_clear and m_free
    before its slot table, and its PyModuleDef's m_size and GC members."""
    text, code, module = context.text, context.code, context.module
    first_function = min((f.start for f in context.functions), default=len(code) - 1)
    includes = [t for t in code[:first_function] if t.directive == "include"]
    if not includes:
        raise EditError("no #include before the first function: nowhere to put the state struct")
    after_includes = text.find("\n", includes[-1].end) + 1
    if context.clinic_include >= 0:        # the clinic output's code may use the getters
        after_includes = min(after_includes, line_start(text, code[context.clinic_include].start))
    state, getter = module.state_type, module.getter
    scaffold = ["", "typedef struct {", *(f"    {member}" for member in members), f"}} {state};", "",
                f"static inline {state} *", f"{getter}(PyObject *module)", "{",
                "    void *state = PyModule_GetState(module);", "    assert(state != NULL);",
                f"    return ({state} *)state;", "}", *(_finder_lines(context, operands) if finder else [])]
    gc = ["static int", f"{module.traverse}(PyObject *module, visitproc visit, void *arg)", "{",
          f"    {state} *state = {getter}(module);", *(f"    Py_VISIT(state->{name});" for name in owned),
          "    return 0;", "}", "",
          "static int", f"{module.clear}(PyObject *module)", "{",
          f"    {state} *state = {getter}(module);", *(f"    Py_CLEAR(state->{name});" for name in owned),
          "    return 0;", "}", "",
          "static void", f"{module.free}(void *module)", "{", f"    (void){module.clear}((PyObject *)module);",
          "}", "", ""]
    table = _slot_table_start(context)
    return [Edit(start=after_includes, end=after_includes, text="\n".join(scaffold) + "\n"),
            Edit(start=table, end=table, text="\n".join(gc)),
            *_module_def_edits(context, {"m_size": f"sizeof({state})", "m_traverse": module.traverse or "",
                                         "m_clear": module.clear or "", "m_free": module.free or ""})]


def _slot_table_start(context: _FileContext) -> int:
    code = context.code
    for index in range(len(code) - 2):
        if code[index].text == context.module.slots_table and code[index + 1].text == "[" \
                and code[index].depth == 0 and code[index].directive is None:
            start = index
            while start > 0 and code[start - 1].text not in (";", "}") and code[start - 1].directive is None:
                start -= 1
            return line_start(context.text, code[start].start)
    raise EditError(f"no definition of the slot table {context.module.slots_table}")


def _module_def_edits(context: _FileContext, values: dict[str, str]) -> list[Edit]:
    """Set members of the PyModuleDef, positional or designated."""
    code, text = context.code, context.text
    brace = context.module.definition_index + 2
    closing = closing_brace(code, brace)
    elements = initializer_elements(code, brace, closing)
    designated = {e[1].text: e[3:] for e in elements if e[0].text == "." and len(e) > 3}
    positional = [e for e in elements if e[0].text != "."]
    edits, missing = [], []
    for field, value in values.items():
        if field in designated:
            where = designated[field]
        elif not designated and 1 + MODULE_DEF_FIELDS.index(field) < len(positional):
            where = positional[1 + MODULE_DEF_FIELDS.index(field)]       # after PyModuleDef_HEAD_INIT
        else:
            missing.append(field)
            continue
        edits.append(Edit(start=where[0].start, end=where[-1].end, text=value))
    if missing:
        if not designated:
            raise EditError(f"{context.module.definition} lists fewer members than {', '.join(missing)}")
        last = code[closing - 1]
        at = line_start(text, code[closing].start)
        indent = indent_at(text, elements[-1][0].start) or "    "
        comma = "" if last.text == "," else ","
        edits.append(Edit(start=last.end, end=last.end, text=comma) if comma else Edit(start=at, end=at, text=""))
        edits.append(Edit(start=at, end=at, text="".join(f"{indent}.{f} = {values[f]},\n" for f in missing)))
    return [edit for edit in edits if edit.text or edit.start != edit.end]


def _before_return(context: _FileContext, name: str, statements: list[str]) -> Edit:
    """The statements (`{}` standing for the state expression) put before
    the final `return` of the function."""
    code = context.code
    definitions = context.named(name)
    if len(definitions) != 1:
        raise EditError(f"{name}() is defined {len(definitions)} times")
    function = definitions[0]
    depth = code[function.brace].depth + 1
    returns = [i for i in range(function.brace, function.end) if code[i].text == "return" and code[i].depth == depth]
    if not returns:
        raise EditError(f"{name}() has no return at its end")
    expression = state_expression(code, function, context.module, returns[-1])
    if expression is None:
        raise EditError(f"{name}() has no way to its module's state")
    start = line_start(context.text, code[returns[-1]].start)
    indent = indent_at(context.text, code[returns[-1]].start)
    return Edit(start=start, end=start, text="".join(f"{indent}{s.format(expression)}\n" for s in statements))


def _initial_values(context: _FileContext, function: Function, initials: list[tuple[str, str]],
                    names: set[str]) -> Edit:
    """The exec function's stores of the moved globals' (`names`) initial
    values: after the statement declaring its state local when it has one,
    the statement ends its line and none of them is used before it; else
    first, through the module object."""
    code, text = context.code, context.text
    found = [(i, name) for i, name in state_locals(code, function, context.module.state_type) if i > function.brace]
    if found:
        index, local = found[0]
        end = next(i for i in range(index, function.end) if code[i].text == ";" and code[i].depth == code[index].depth)
        used_before = any(code[i].text in names for i in range(function.brace, end))
        if code[end + 1].line > code[end].line and not used_before:
            start = line_start(text, code[end + 1].start)
            indent = indent_at(text, code[index].start) or "    "
            return Edit(start=start, end=start,
                        text="".join(f"{indent}{local}->{field} = {value};\n" for field, value in initials))
    parameter = function.parameters[0][1]
    return _first_in_body(context, function,
                          [*(f"{context.module.getter}({parameter})->{field} = {value};" for field, value in initials),
                           ""])


def _first_in_body(context: _FileContext, function: Function, lines: list[str]) -> Edit:
    """The lines (statements), first in the function's body."""
    code, text = context.code, context.text
    first = code[function.brace + 1]
    if first.line == code[function.brace].line:
        raise EditError(f"{function.name}() has code on the line of its opening brace")
    start = text.find("\n", code[function.brace].end) + 1      # before a comment that opens the body, too
    indent = indent_at(text, first.start)
    return Edit(start=start, end=start, text="".join(f"{indent}{line}\n" if line else "\n" for line in lines))
