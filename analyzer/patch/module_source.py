"""What an extension module's source says about its module state: the
PyModuleDef, the state struct its m_size gives, the function that gets the
state from the module, the m_traverse and m_clear functions, and, per
function, the expression that reaches the state from what the function has."""
from __future__ import annotations

from dataclasses import dataclass

from ..cpython.api import MODULE_DEF_FIELDS, MODULE_EXEC_SLOT, MODULE_STATE_CALLS
from ..cpython.lifecycle import MODULE_INIT_PREFIX
from .edits import Token, closing_brace, closing_paren, function_bodies, initializer_elements


@dataclass(frozen=True, slots=True, kw_only=True)
class Function:
    name: str
    start: int                 # index of its name in the code tokens
    brace: int                 # index of the `{` of its body
    end: int                   # index of the `}` closing it
    parameters: tuple[tuple[str, str], ...]    # (type, name): `PyObject *`, `module`


@dataclass(frozen=True, slots=True, kw_only=True)
class ModuleSource:
    """A module whose PyModuleDef gives it a state struct (m_size = sizeof(...))."""
    name: str                  # the import name, m_name
    definition: str            # the PyModuleDef variable
    state_type: str            # `array_state`, `struct module_state`
    getter: str                # the function returning the state of a module object
    traverse: str | None
    clear: str | None
    entry_points: frozenset[str]    # the functions of its method table and its exec slots
    exec_functions: tuple[str, ...] = ()
    new_state: bool = False    # a multi-phase module without state: the conversion adds the struct and getter
    definition_index: int = 0  # the token index of the PyModuleDef's variable
    slots_table: str = ""      # the variable of its PyModuleDef_Slot table
    free: str | None = None
    finder: str = ""           # the helper the series adds: the state of the module that defined a heap type


def code_tokens(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.kind != "comment"]


def functions(code: list[Token]) -> list[Function]:
    found = []
    for start, end, name in function_bodies(code):
        paren = start + 1
        close = closing_paren(code, paren)
        brace = next(i for i in range(close, end) if code[i].text == "{" and code[i].directive is None)
        found.append(Function(name=name, start=start, brace=brace, end=end,
                              parameters=_parameters(code[paren + 1:close])))
    return found


def _parameters(tokens: list[Token]) -> tuple[tuple[str, str], ...]:
    pieces: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.directive is not None:
            continue
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if token.text == "," and depth == 0:
            pieces.append([])
        else:
            pieces[-1].append(token)
    parameters = []
    for piece in pieces:
        if len(piece) >= 2 and piece[-1].kind == "id":
            parameters.append((_type_text(piece[:-1]), piece[-1].text))
    return tuple(parameters)


def _type_text(tokens: list[Token]) -> str:
    return " ".join(t.text for t in tokens if t.text != "*") + " " + "*" * sum(t.text == "*" for t in tokens)


def module_definition(code: list[Token]) -> tuple[int, dict[str, list[Token]]] | str:
    """The token index of the type of the file's one PyModuleDef and the
    tokens of each member its initializer sets; or why there is none."""
    definitions = [i for i in range(len(code) - 3) if code[i].text == "PyModuleDef" and code[i].directive is None
                   and code[i + 1].kind == "id" and code[i + 2].text == "=" and code[i + 3].text == "{"]
    if not definitions:
        return "defines no PyModuleDef"
    if len(definitions) > 1:
        return "defines more than one PyModuleDef"
    return definitions[0], _initializer_fields(code, definitions[0] + 3, MODULE_DEF_FIELDS, head=True)


def read_module(code: list[Token]) -> ModuleSource | str:
    """The module the file defines, or why it has no module state to extend."""
    found = module_definition(code)
    if isinstance(found, str):
        return found
    index, fields = found
    size = fields.get("m_size", [])
    name_tokens = fields.get("m_name", [])
    name = name_tokens[0].text.strip('"') if len(name_tokens) == 1 and name_tokens[0].kind == "string" else ""
    if not name:       # a macro (PySocket_MODULE_NAME): the init function's name says the import name
        inits = {t.text for t in code if t.text.startswith(MODULE_INIT_PREFIX) and t.kind == "id"}
        name = inits.pop()[len(MODULE_INIT_PREFIX):] if len(inits) == 1 else ""
    entry_points = set()
    for field in ("m_methods", "m_slots"):
        table = single_id(fields.get(field, []))
        if table is not None:
            entry_points |= _table_functions(code, table, field == "m_slots")
    methods = single_id(fields.get("m_methods", []))
    if methods is not None:
        entry_points -= _not_bound_to_module(code, index + 1, methods)
    slots_table = single_id(fields.get("m_slots", [])) or ""
    exec_functions = tuple(sorted(_table_functions(code, slots_table, True))) if slots_table else ()
    gc = {field: single_id(fields.get(field, [])) for field in ("m_traverse", "m_clear", "m_free")}
    if [t.text for t in size[:2]] != ["sizeof", "("] or size[-1].text != ")":
        if slots_table and not exec_functions and [t.text for t in size] in ([], ["0"]):
            return "multi-phase init without module state, and no exec function to make it in"
        if [t.text for t in size] not in ([], ["0"]) or not exec_functions or not name:
            return "single-phase init without module state (m_size is not sizeof a state struct)"
        named = [f"{field} ({function})" for field, function in gc.items() if function]
        if named:
            return f"multi-phase init without module state, and its PyModuleDef sets {', '.join(named)} already"
        prefix = name.lstrip("_")
        taken = {t.text for t in code if t.kind == "id"}
        names = {"state_type": f"{prefix}_state", "getter": f"get_{prefix}_state", "traverse": f"{prefix}_traverse",
                 "clear": f"{prefix}_clear", "free": f"{prefix}_free"}
        if set(names.values()) & taken:
            return f"multi-phase init without module state, and the names it would add ({', '.join(names.values())}) " \
                   "are taken"
        return ModuleSource(name=name, definition=code[index + 1].text, entry_points=frozenset(entry_points),
                            exec_functions=exec_functions, new_state=True, definition_index=index + 1,
                            slots_table=slots_table, finder=_free_name(taken, f"{names['getter']}_by_type"),
                            **names)
    state_type = " ".join(t.text for t in size[2:-1])
    all_functions = functions(code)
    getter = _getter(code, all_functions, state_type)
    if getter is None:
        return f"no function returning its {state_type} * from PyModule_GetState"
    return ModuleSource(name=name, definition=code[index + 1].text, state_type=state_type, getter=getter,
                        traverse=gc["m_traverse"], clear=gc["m_clear"], free=gc["m_free"],
                        entry_points=frozenset(entry_points), exec_functions=exec_functions,
                        definition_index=index + 1, slots_table=slots_table,
                        finder=_free_name({t.text for t in code if t.kind == "id"}, f"{getter}_by_type"))


def _not_bound_to_module(code: list[Token], definition: int, table: str) -> set[str]:
    """The functions of the module's method table whose `self` may not be
    this module's object: all of them when the table is also named outside
    the PyModuleDef (`PyModule_AddFunctions(other, table)` binds them to
    another module), and those the C code calls directly (with whatever it
    passes as `self`)."""
    named = _table_functions(code, table, False)
    initializer = range(definition, closing_brace(code, definition + 2) + 1)
    if any(token.text == table and token.kind == "id" and i not in initializer
           and code[i + 1].text != "[" for i, token in enumerate(code[:-1])):
        return named
    return {code[i].text for i in range(1, len(code) - 1)
            if code[i].text in named and code[i + 1].text == "(" and code[i - 1].text not in (".", "->")
            and not _is_definition(code, i)}


def _is_definition(code: list[Token], index: int) -> bool:
    """The name at `index` is declared or defined there: a return type
    precedes it at file scope (`static PyObject *\nname(`)."""
    return code[index].depth == 0 and (code[index - 1].text == "*" or code[index - 1].kind == "id")


def _free_name(taken: set[str], name: str) -> str:
    """The finder's name, when it and its binary-slot twin are free."""
    return "" if {name, name.removesuffix("_by_type") + "_by_operands"} & taken else name


def _initializer_fields(code: list[Token], brace: int, positional: tuple[str, ...],
                        head: bool = False) -> dict[str, list[Token]]:
    """The tokens of each member's value in `{ a, b }` or `{ .m = a }`;
    `head`: the first positional element is a header to skip
    (PyModuleDef_HEAD_INIT)."""
    fields: dict[str, list[Token]] = {}
    position = -1 if head else 0
    for element in initializer_elements(code, brace, closing_brace(code, brace)):
        if element[0].text == "." and len(element) > 2 and element[2].text == "=":
            fields[element[1].text] = element[3:]
            continue
        if position >= 0 and position < len(positional):
            fields[positional[position]] = element
        position += 1
    return fields


def single_id(tokens: list[Token]) -> str | None:
    """The name a member's value gives, through casts: `f`, `(PyCFunction)f`,
    `_PyCFunction_CAST(f)`; None for NULL."""
    ids = [t.text for t in tokens if t.kind == "id" and t.text != "NULL"]
    return ids[-1] if ids else None


def _table_functions(code: list[Token], table: str, slots: bool) -> set[str]:
    """The functions named in `static PyMethodDef table[] = {...}` (second
    member of each entry), or the exec functions of a slot table."""
    found = set()
    for values in table_entries(code, table, ("first", "second")):
        if slots and [t.text for t in values.get("first", [])] != [MODULE_EXEC_SLOT]:
            continue
        function = single_id(values.get("second", []))
        if function is not None:
            found.add(function)
    return found


def table_entries(code: list[Token], table: str, fields: tuple[str, ...]) -> list[dict[str, list[Token]]]:
    """The members of each entry of `static TYPE table[] = { {...}, ... };`
    (a PyMethodDef, PyGetSetDef or slot table), named by `fields` in order."""
    for index in range(len(code) - 4):
        if code[index].text == table and code[index + 1].text == "[" and code[index].directive is None:
            brace = next((i for i in range(index, min(index + 6, len(code))) if code[i].text == "{"), None)
            if brace is not None:
                return [_initializer_fields(code, entry, fields) for entry in _entries(code, brace)]
    return []


def _entries(code: list[Token], brace: int) -> list[int]:
    """The `{` of each entry of a table's initializer."""
    end = closing_brace(code, brace)
    depth = code[brace].depth + 1
    return [i for i in range(brace + 1, end) if code[i].text == "{" and code[i].depth == depth
            and code[i].directive is None]


def _getter(code: list[Token], all_functions: list[Function], state_type: str) -> str | None:
    """A function of one `PyObject *` parameter, declared to return
    `STATE *`, whose body calls PyModule_GetState."""
    words = state_type.split()
    for function in all_functions:
        if len(function.parameters) != 1 or function.parameters[0][0] != "PyObject *":
            continue
        before = [t.text for t in code[max(0, function.start - len(words) - 1):function.start]]
        if before != [*words, "*"]:
            continue
        if any(code[i].text in MODULE_STATE_CALLS for i in range(function.brace, function.end)):
            return function.name
    return None


def state_locals(code: list[Token], function: Function, state_type: str) -> list[tuple[int, str]]:
    """(index, name) of each `STATE *name = ...;` in the function's outermost
    block, and of a `STATE *name` parameter (index: its name's)."""
    found = [(function.start, name) for type_, name in function.parameters if type_ == f"{state_type} *"]
    words = state_type.split()
    depth = code[function.brace].depth + 1
    width = len(words)
    for index in range(function.brace + 1, function.end - width - 2):
        if code[index].depth != depth or code[index].directive is not None:
            continue
        if [t.text for t in code[index:index + width]] == words and code[index + width].text == "*" \
                and code[index + width + 1].kind == "id" and code[index + width + 2].text == "=" \
                and code[index - 1].text in (";", "{", "}"):
            found.append((index + width + 1, code[index + width + 1].text))
    return found


def state_expression(code: list[Token], function: Function, module: ModuleSource, first_use: int) -> str | None:
    """How the function reaches its module's state before `first_use` (a
    token index): a state local or parameter, or the module object it is
    given (a module-level function, an exec function); None when it has no
    path to its module."""
    for index, name in state_locals(code, function, module.state_type):
        if index < first_use:
            return f"{name}->"
    if function.parameters and function.parameters[0][0] == "PyObject *":
        parameter = function.parameters[0][1]
        if parameter == "module" or function.name in module.entry_points:
            return f"{module.getter}({parameter})->"
    return None


_NOT_DECLARING = frozenset({"return", "case", "goto", "else"})


def declared_in(code: list[Token], function: Function, name: str) -> bool:
    """Whether the function declares a local (or parameter) `name`: `T name`
    or `T *name` (`return name;` is not one)."""
    return any(code[i].text == name and code[i].directive is None and code[i - 1].directive is None
               and (code[i - 1].kind == "id" and code[i - 1].text not in _NOT_DECLARING or code[i - 1].text == "*")
               and code[i + 1].text in ("=", ";", ",", "[", ")") for i in range(function.start, function.end))
