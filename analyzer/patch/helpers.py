"""A static helper function that is given no module, state or object of a
converted type, but is only called from functions that reach the state,
is given the state instead: a `STATE *state` parameter first, and each
call passes the caller's state local (as upstream's isolation patches do
for helpers such as `_grouper_create(state, ...)`)."""
from __future__ import annotations

from dataclasses import dataclass

from .edits import Edit, EditError, Token, closing_paren, function_bodies
from .module_source import Function

PARAMETER_PATH = "parameter"     # a reachable function's expression: the state parameter it gains
_NAMES = ("state", "st", "mod_state", "module_state")


@dataclass(frozen=True, slots=True, kw_only=True)
class Helper:
    name: str
    parameter: str                    # the state parameter it gains
    calls: tuple[tuple[int, str], ...]     # code index of each call's name, and the function calling there
    declarations: tuple[int, ...]     # code index of the name in its definition and prototypes

    @property
    def callers(self) -> tuple[str, ...]:
        return tuple(sorted({caller for _, caller in self.calls}))


def state_helpers(code: list[Token], functions: list[Function], reaching: set[str]) -> dict[str, Helper]:
    """The static functions every caller of which is in `reaching` (the
    exec functions and the functions that reach the state), called by
    name only: not a function pointer, not in a macro or a table."""
    bodies = function_bodies(code)
    named: dict[str, list[int]] = {}
    for index, token in enumerate(code):
        if token.kind == "id":
            named.setdefault(token.text, []).append(index)
    found = {}
    for function in functions:
        if function.name in reaching or not _is_static(code, function):
            continue
        calls, declarations, callers = [], [function.start], set()
        for index in named.get(function.name, ()):
            token = code[index]
            if index == function.start:
                continue
            if token.directive is not None or code[index - 1].text in (".", "->") or code[index + 1].text != "(":
                break
            owner = next((name for start, end, name in bodies if start <= index <= end), None)
            if owner is None:
                if code[closing_paren(code, index + 1) + 1].text != ";":
                    break
                declarations.append(index)          # a prototype
                continue
            calls.append((index, owner))
            callers.add(owner)
        else:
            if calls and callers <= reaching and function.name not in callers:
                taken = {t.text for t in code[function.start:function.end] if t.kind == "id"}
                parameter = next((n for n in _NAMES if n not in taken), "")
                if parameter:
                    found[function.name] = Helper(name=function.name, parameter=parameter, calls=tuple(calls),
                                                  declarations=tuple(declarations))
    return found


def _is_static(code: list[Token], function: Function) -> bool:
    index = function.start - 1
    while index >= 0 and code[index].text not in (";", "}", "{") and code[index].directive is None:
        if code[index].text == "static":
            return True
        index -= 1
    return False


def helper_edits(code: list[Token], helper: Helper, state_type: str, locals_: dict[str, str]) -> list[Edit]:
    """The parameter in the definition and prototypes, the argument at each
    call (`locals_`: the state local of each caller)."""
    edits = []
    for index in helper.declarations:
        edits.append(first_argument(code, index, f"{state_type} *{helper.parameter}", void=True))
    for index, caller in helper.calls:
        if caller not in locals_:
            raise EditError(f"{caller}() calls {helper.name}() with no state local to pass")
        edits.append(first_argument(code, index, locals_[caller], void=False))
    return edits


def first_argument(code: list[Token], name: int, text: str, void: bool = False) -> Edit:
    """`text` as the new first parameter or argument of the function (or
    macro, or call) whose name is at `name`; `void`: it replaces a `(void)`
    parameter list."""
    paren = name + 1
    close = closing_paren(code, paren)
    if close == paren + 1:
        return Edit(start=code[paren].end, end=code[paren].end, text=text)
    if void and close == paren + 2 and code[paren + 1].text == "void":
        return Edit(start=code[paren + 1].start, end=code[paren + 1].end, text=text)
    return Edit(start=code[paren].end, end=code[paren].end, text=f"{text}, ")
