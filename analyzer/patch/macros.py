"""A function-like macro whose body names a global that moves into the
module state is given the state as a new first parameter, as a core
developer would write it (`#define Xxo_Check(state, v) Py_IS_TYPE(v,
(state)->Xxo_Type)`), and each invocation passes the state its function
reaches.  An object-like macro, or one invoked where no state is at hand
(another macro, file scope), leaves the move undone (edits.move_edits says
so)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .edits import Edit, EditError, Token, closing_paren, function_bodies, macro_definitions, names_member
from .helpers import first_argument

_PARAMETER_NAMES = ("state", "st", "mod_state", "module_state")


@dataclass(frozen=True, slots=True)
class StateMacros:
    edits: tuple[Edit, ...]
    users: Mapping[str, frozenset[str]]     # per moved name: the functions that reach it through a macro
    macros: frozenset[str]                  # the macros given the state


def state_macros(code: list[Token], fields: Mapping[str, str],
                 expressions: Mapping[str, Mapping[str, str]]) -> StateMacros:
    """`fields`: each moved name's member; `expressions`: per moved name, per
    function, the expression that reaches its member there (`state->x`).
    Raises EditError when a macro cannot be given the state."""
    edits: list[Edit] = []
    users: dict[str, set[str]] = {}
    given: set[str] = set()
    bodies = function_bodies(code)
    for macro, definitions in macro_definitions(code).items():
        for name_index, end in definitions:
            named = [i for i in range(name_index + 1, end)
                     if code[i].text in fields and code[i].kind == "id" and not names_member(code, i)]
            if not named:
                continue
            if code[name_index + 1].text != "(" or code[name_index + 1].start != code[name_index].end:
                raise EditError(f"{code[named[0]].text} is named in the object-like macro {macro} "
                                f"(line {code[name_index].line})")
            close = closing_paren(code, name_index + 1)
            parameters = {t.text for t in code[name_index + 2:close] if t.kind == "id"}
            parameter = next((p for p in _PARAMETER_NAMES if p not in parameters), None)
            if parameter is None:
                raise EditError(f"the macro {macro} has parameters of every name the state could take")
            edits.append(first_argument(code, name_index, parameter))
            for i in named:
                edits.append(Edit(start=code[i].start, end=code[i].end,
                                  text=f"({parameter})->{fields[code[i].text]}"))
            moved = {code[i].text for i in named}
            for function in _invocations(code, bodies, macro, edits, moved, expressions):
                for name in moved:
                    users.setdefault(name, set()).add(function)
            given.add(macro)
    return StateMacros(edits=tuple(edits), users={n: frozenset(f) for n, f in users.items()},
                       macros=frozenset(given))


def _invocations(code: list[Token], bodies: list[tuple[int, int, str]], macro: str, edits: list[Edit],
                 moved: set[str], expressions: Mapping[str, Mapping[str, str]]) -> set[str]:
    """Pass the state to each invocation of the macro; the functions invoking it."""
    functions: set[str] = set()
    for index, token in enumerate(code[:-1]):
        if token.text != macro or token.kind != "id" or code[index + 1].text != "(" or names_member(code, index):
            continue
        if token.directive is not None:
            if token.directive == "define" and code[index - 1].text == "define":
                continue              # its own definition
            raise EditError(f"the macro {macro} is used in another macro (line {token.line})")
        function = next((n for s, e, n in bodies if s <= index <= e), None)
        if function is None:
            raise EditError(f"the macro {macro} is used at file scope (line {token.line})")
        states = set()
        for name in moved:
            expression = expressions.get(name, {}).get(function)
            if expression is None or "->" not in expression:
                raise EditError(f"the macro {macro} is used in {function}() (line {token.line}), "
                                f"which has no way to the state")
            states.add(expression.rsplit("->", 1)[0])
        if len(states) != 1:
            raise EditError(f"the macro {macro} names globals {function}() reaches in different ways")
        edits.append(first_argument(code, index, states.pop()))
        functions.add(function)
    return functions
