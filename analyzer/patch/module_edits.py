"""The edits that carry out a module's conversion: each moved global's
uses, the heap types' creation in exec, helpers' state parameters, the
Argument Clinic input, and the state struct (extended, or added with its
getter, m_traverse, m_clear and m_free and the PyModuleDef's members)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..cpython.api import MODULE_DEF_FIELDS
from .clinic import CLINIC_STATE, input_edits, macro_edits, named_in_input
from .edits import (
    Edit,
    EditError,
    Token,
    closing_brace,
    indent_at,
    initializer_elements,
    line_start,
    move_edits,
    own_line_statement,
    realigned,
    tokenize,
)
from .heap_types import HeapType, creation, exec_edits
from .helpers import Helper, helper_edits
from .macros import state_macros
from .module_source import Function, state_expression, state_locals
from .orphans import tidy_removals
from .plan import declaration

if TYPE_CHECKING:
    from .modules import FileContext, ModuleMove


def state_struct(context: FileContext) -> tuple[int, int]:
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


def conversion_edits(context: FileContext, moves: list[ModuleMove], helpers: dict[str, Helper]) -> list[Edit]:
    text, code, module = context.text, context.code, context.module
    tokens = tokenize(text)
    plain = [m for m in moves if m.heap is None and m.var.func is None]
    macros = state_macros(code, {m.var.name: m.field for m in plain},
                          {m.var.name: {f: f"{e}{m.field}" for f, e in m.paths} for m in plain})
    edits: list[Edit] = list(macros.edits)
    for move in moves:
        var = move.var
        if move.heap is not None:
            edits += [edit for edit in move.heap.edits if edit not in edits]   # a dealloc two types share
            continue
        edits += move_edits(text, tokens, name=var.name, line=var.line, func=var.func,
                            replacement={name: f"{expression}{move.field}" for name, expression in move.paths},
                            use_functions=context.use_functions.get(var.identity, frozenset()),
                            known_functions=context.known, macros=macros.macros if var.func is None else frozenset(),
                            macro_users=macros.users.get(var.name, frozenset()) if var.func is None else frozenset())
    for move in moves:
        paths = dict(move.paths)
        for user, index in move.increfs:     # the call steals it: the state keeps a reference of its own
            start = own_line_statement(code, index)
            if start is None or user not in paths:
                raise EditError(f"no line of its own before the call that takes {move.var.name} in {user}()")
            at = line_start(text, code[start].start)
            edits.append(Edit(start=at, end=at,
                              text=f"{indent_at(text, code[start].start)}Py_INCREF({paths[user]}{move.field});\n"))
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
    tidied = tidy_removals(text, edits)
    edits += tidied.edits
    members: list[str] = []
    headed: set[tuple[int, int]] = set()
    for m in moves:
        # a static type's comment described the type object, which a heap type replaces
        group = next((g for g in tidied.comments if g[0] <= m.var.line <= g[1] and m.heap is None), None)
        if group is not None and group not in headed:
            headed.add(group)
            members += _dedented(tidied.comments[group])
        members.append(f"PyTypeObject *{m.field};" if m.heap is not None else f"{declaration(m.var.ctype, m.field)};")
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
    edits += realigned(text, code, edits)
    if module.new_state:
        users = {name for move in moves for name, _ in move.paths}
        return edits + _new_state_edits(context, members, [m.field for m in owned], finder, operands, users)
    if finder:
        edits.append(_finder_edit(context, operands))
    _, closing = state_struct(context)
    indent = indent_at(text, code[closing - 1].start) or "    "
    edits.append(Edit(start=line_start(text, code[closing].start), end=line_start(text, code[closing].start),
                      text="".join(f"{indent}{member}\n" for member in members)))
    for gc_function, macro in ((module.traverse, "Py_VISIT"), (module.clear, "Py_CLEAR")):
        if owned and gc_function:
            edits.append(_before_return(context, gc_function, [f"{macro}({{}}{m.field});" for m in owned]))
    return edits


def _dedented(lines: tuple[str, ...]) -> list[str]:
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return [line[indent:] for line in lines]


def _argument(call: str) -> str:
    """`module` of `get_mod_state(module)`."""
    return call[call.index("(") + 1:-1]


def _finder_lines(context: FileContext, operands: bool) -> list[str]:
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


def _finder_edit(context: FileContext, operands: bool) -> Edit:
    """The finder after the definition of an existing getter."""
    getter = context.named(context.module.getter)
    if len(getter) != 1:
        raise EditError(f"{context.module.getter}() is defined {len(getter)} times")
    after = context.text.find("\n", context.code[getter[0].end].end) + 1
    if context.clinic_include >= 0 and context.code[context.clinic_include].start < after:
        raise EditError(f"{context.module.getter}() is defined after the clinic include that needs it")
    return Edit(start=after, end=after, text="\n".join(_finder_lines(context, operands)) + "\n")


def _new_state_edits(context: FileContext, members: list[str], owned: list[str], finder: bool,
                     operands: bool, users: set[str]) -> list[Edit]:
    """A multi-phase module without state gets one: the struct and its
    getter after the file's includes, m_traverse, m_clear and m_free
    before its slot table, and its PyModuleDef's m_size and GC members."""
    text, code, module = context.text, context.code, context.module
    after_includes = _after_includes(context, users)
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
            *module_def_edits(text, code, module.definition_index,
                              {"m_size": f"sizeof({state})", "m_traverse": module.traverse or "",
                               "m_clear": module.clear or "", "m_free": module.free or ""})]


def _after_includes(context: FileContext, users: set[str]) -> int:
    """The start of the line after the file's last #include before its
    first function outside any #if (one in a platform's branch is not
    compiled on the others), out of any #if around that include; none of
    `users` (the functions that reach the state) may come before it."""
    text, code = context.text, context.code
    conditional = _conditional_depths(code)
    starts = [f.start for f in context.functions]
    first_function = min((i for i in starts if conditional[i] == 0), default=min(starts, default=len(code) - 1))
    includes = [i for i in range(first_function) if code[i].directive == "include"]
    if not includes:
        raise EditError("no #include before the first function: nowhere to put the state struct")
    last = includes[-1]
    close = next((i for i in range(last, first_function) if conditional[i] == 0), None)
    if close is None:
        raise EditError("the last #include before the first function is in an #if that does not end there")
    offset = text.find("\n", code[close].end) + 1
    early = sorted(f.name for f in context.functions if f.name in users and code[f.start].start < offset)
    if early:
        raise EditError(f"{early[0]}() reaches the state before the file's includes end, where the state "
                        "struct goes")
    return offset


def _conditional_depths(code: list[Token]) -> list[int]:
    """How many #if blocks each token is in (a directive's own tokens count
    the block they open or close)."""
    depths, depth = [], 0
    for token in code:
        if token.directive is not None and token.text == token.directive:
            if token.text in ("if", "ifdef", "ifndef"):
                depth += 1
            elif token.text == "endif":
                depth = max(depth - 1, 0)
        depths.append(depth)
    return depths


def _slot_table_start(context: FileContext) -> int:
    code = context.code
    for index in range(len(code) - 2):
        if code[index].text == context.module.slots_table and code[index + 1].text == "[" \
                and code[index].depth == 0 and code[index].directive is None:
            start = index
            while start > 0 and code[start - 1].text not in (";", "}") and code[start - 1].directive is None:
                start -= 1
            return line_start(context.text, code[start].start)
    raise EditError(f"no definition of the slot table {context.module.slots_table}")


def module_def_edits(text: str, code: list[Token], definition_index: int, values: dict[str, str],
                     pad: bool = False) -> list[Edit]:
    """Set members of the PyModuleDef whose name is at `definition_index`,
    positional or designated.  A positional initializer that lists fewer
    members is padded with NULL to its last (m_free) when `pad`, so that
    later edits can set each; otherwise it is an EditError."""
    brace = definition_index + 2
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
    if missing and not designated:
        if not pad or not positional:
            raise EditError(f"{code[definition_index].text} lists fewer members than {', '.join(missing)}")
        final = positional[-1]
        one_per_line = len(positional) > 1 and positional[-2][0].line != final[0].line
        separator = f",\n{indent_at(text, final[0].start)}" if one_per_line else ", "
        extra = [values.get(field, "NULL") for field in MODULE_DEF_FIELDS[len(positional) - 1:]]
        edits.append(Edit(start=final[-1].end, end=final[-1].end, text="".join(f"{separator}{v}" for v in extra)))
    elif missing:
        last = code[closing - 1]
        at = line_start(text, code[closing].start)
        indent = indent_at(text, elements[-1][0].start) or "    "
        comma = "" if last.text == "," else ","
        edits.append(Edit(start=last.end, end=last.end, text=comma) if comma else Edit(start=at, end=at, text=""))
        edits.append(Edit(start=at, end=at, text="".join(f"{indent}.{f} = {values[f]},\n" for f in missing)))
    return [edit for edit in edits if edit.text or edit.start != edit.end]


def _before_return(context: FileContext, name: str, statements: list[str]) -> Edit:
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


def _initial_values(context: FileContext, function: Function, initials: list[tuple[str, str]],
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


def _first_in_body(context: FileContext, function: Function, lines: list[str]) -> Edit:
    """The lines (statements), first in the function's body."""
    code, text = context.code, context.text
    first = code[function.brace + 1]
    if first.line == code[function.brace].line:
        raise EditError(f"{function.name}() has code on the line of its opening brace")
    start = text.find("\n", code[function.brace].end) + 1      # before a comment that opens the body, too
    statement = next((t for t in code[function.brace + 1:function.end] if t.directive is None), first)
    indent = indent_at(text, statement.start)
    return Edit(start=start, end=start, text="".join(f"{indent}{line}\n" if line else "\n" for line in lines))
