"""Stores into process-wide globals that a single-phase init makes where the
analysis could not see them: under a preprocessor branch the analyzed
configuration does not compile (`#ifdef MS_WINDOWS`, a lock only some
platforms need).  The facts know nothing of them, yet once the init is an
exec function they run for every interpreter's module, so they are found
in the text, every branch at once.

Under one GIL for all interpreters (3.11) two forms already run once: the
test and set (`if (x == -1) { x = ...; }`), and a store of a pointer global
with no initializer, stored nowhere else, which becomes one under
`if (x == NULL)`.  Any other store, or any store where each interpreter
has its own GIL, stops the conversion."""
from __future__ import annotations

from dataclasses import dataclass

from ..cpython.api import POINTER_TYPEDEFS
from .edits import (
    STATEMENT_BOUNDARY,
    Edit,
    Token,
    indent_at,
    line_start,
    names_member,
    opening_paren,
    own_line_statement,
)
from .module_source import Function, declared_in, functions

_CONDITIONALS = ("if", "ifdef", "ifndef", "elif", "else")


@dataclass(frozen=True, slots=True)
class UnanalyzedStores:
    guards: tuple[Edit, ...]     # of the text given: the stores made once
    guarded: tuple[str, ...]     # `netdb_lock (under #if defined(USE_GETHOSTBYNAME_LOCK))`


def unanalyzed_stores(text: str, code: list[Token], exec_name: str, moving: frozenset[str],
                      shared_gil: bool) -> UnanalyzedStores | str:
    """The guards that make exec's stores into globals that stay run once
    per process, or why it cannot run for every interpreter."""
    variables = file_scope_variables(code)
    staying = {name: index for name, index in variables.items() if name not in moving}
    definitions = functions(code)
    guards: list[Edit] = []
    guarded: list[str] = []
    for function in reached_functions(definitions, code, exec_name):
        for index in range(function.brace, function.end):
            token = code[index]
            if token.text not in staying or token.directive is not None or not _is_store(code, index) \
                    or names_member(code, index) or declared_in(code, function, token.text):
                continue
            where = _branch(text, code, index)
            shown = f"`{_shown(text, code, index)}` in {function.name}(){f' (under {where})' if where else ''}"
            if not shared_gil:
                return f"exec would store into {token.text}, which stays process-wide, with no lock: {shown}"
            if _tested_before(code, function, index, token.text):
                continue
            if function.name != exec_name or not _top_level(code, function, index) \
                    or not _guardable(code, staying[token.text]) or _stores(code, token.text) != 1:
                return f"every interpreter's exec would store into {token.text}, which stays process-wide: {shown}"
            guards += _null_guard(text, code, index, token.text)
            guarded.append(f"{token.text}{f' (under `{where}`)' if where else ''}")
    return UnanalyzedStores(guards=tuple(guards), guarded=tuple(guarded))


def file_scope_variables(code: list[Token]) -> dict[str, int]:
    """The variables the file declares outside functions, in any branch: name
    -> the index of its first declarator."""
    found: dict[str, int] = {}
    parens = 0
    typedef = False
    for i, token in enumerate(code[:-1]):
        if token.directive is not None or token.depth:
            continue
        parens += {"(": 1, ")": -1}.get(token.text, 0)
        if token.text == "typedef":
            typedef = True
        elif token.text == ";":
            typedef = False
        elif token.kind == "id" and not parens and not typedef and code[i + 1].text in (";", "=", "[", ",") \
                and (code[i - 1].kind == "id" or code[i - 1].text in ("*", ",", "}")) and code[i - 1].directive is None:
            found.setdefault(token.text, i)
    return found


def reached_functions(definitions: list[Function], code: list[Token], exec_name: str) -> list[Function]:
    """Exec and the functions of the file it calls, every definition of a
    name (a function may be defined once per platform)."""
    named: dict[str, list[Function]] = {}
    for function in definitions:
        named.setdefault(function.name, []).append(function)
    reached, pending = {exec_name}, [exec_name]
    while pending:
        for function in named.get(pending.pop(), []):
            for i in range(function.brace, function.end):
                callee = code[i].text
                if callee in named and callee not in reached and code[i + 1].text == "(" \
                        and code[i - 1].text not in (".", "->"):
                    reached.add(callee)
                    pending.append(callee)
    return [f for name in sorted(reached) for f in named.get(name, [])]


def _is_store(code: list[Token], index: int) -> bool:
    """`x = `, `x += `, `x++`, `++x` (the tokenizer splits operators into characters)."""
    after = [t.text for t in code[index + 1:index + 4]]
    if after[:1] == ["="] and after[1:2] != ["="]:
        return code[index - 1].text not in ("=", "!", "<", ">")
    if len(after) >= 2 and after[0] in "+-*/%&|^" and after[1] == "=" and after[2:3] != ["="]:
        return True
    if len(after) >= 3 and after[0] in "<>" and after[1] == after[0] and after[2] == "=":
        return True
    increment = (after[:2] in (["+", "+"], ["-", "-"]))
    return increment or [t.text for t in code[index - 2:index]] in (["+", "+"], ["-", "-"])


def _statement_bounds(code: list[Token], index: int) -> tuple[int, int]:
    start = index
    while not (code[start - 1].text in STATEMENT_BOUNDARY and code[start - 1].directive is None) \
            and code[start - 1].directive is None:
        start -= 1
    end = index
    while not (code[end].text == ";" and code[end].directive is None):
        end += 1
    return start, end


def _shown(text: str, code: list[Token], index: int) -> str:
    start, end = _statement_bounds(code, index)
    return " ".join(text[code[start].start:code[end].end].split())


def _branch(text: str, code: list[Token], index: int) -> str:
    """The innermost `#if` (or `#ifdef`, `#elif`, `#else`) the token is under."""
    depth = 0
    for i in range(index - 1, 0, -1):
        token = code[i]
        if token.directive is None or code[i - 1].text != "#" or code[i - 1].directive != "":
            continue
        if token.text == "endif":
            depth += 1
        elif token.text in _CONDITIONALS and depth == 0:
            line_end = text.find("\n", token.end)
            return " ".join(text[code[i - 1].start:line_end if line_end >= 0 else len(text)].split())
        elif token.text in ("if", "ifdef", "ifndef"):
            depth -= 1
    return ""


def _tested_before(code: list[Token], function: Function, index: int, name: str) -> bool:
    """Whether an `if` whose condition reads `name` holds the store."""
    depth = 0
    for i in range(index - 1, function.brace, -1):
        if code[i].directive is not None:
            continue
        if code[i].text == "}":
            depth += 1
        elif code[i].text == "{":
            if depth:
                depth -= 1
                continue
            if code[i - 1].text != ")":
                continue
            opening = opening_paren(code, i - 1)
            if code[opening - 1].text == "if" and any(t.text == name for t in code[opening:i]):
                return True
    return False


def _top_level(code: list[Token], function: Function, index: int) -> bool:
    """A statement of the function's own body, on a line of its own (the
    guard goes around its lines)."""
    return own_line_statement(code, index) == index and code[index].depth == code[function.brace].depth + 1


def _guardable(code: list[Token], declarator: int) -> bool:
    """A pointer with no initializer (so NULL until its one store)."""
    start = declarator
    while code[start - 1].text not in (";", "}") and code[start - 1].directive is None and start > 0:
        start -= 1
    declaration = [t.text for t in code[start:declarator]]
    pointer = declaration[-1:] == ["*"] or any(t in POINTER_TYPEDEFS for t in declaration)
    return pointer and code[declarator + 1].text == ";" and "extern" not in declaration


def _stores(code: list[Token], name: str) -> int:
    return sum(1 for i, t in enumerate(code) if t.text == name and t.directive is None and t.depth
               and not names_member(code, i) and _is_store(code, i))


def _null_guard(text: str, code: list[Token], index: int, name: str) -> list[Edit]:
    """`x = f();` -> `if (x == NULL) { x = f(); }`, made of insertions (the
    conversion may edit inside the statement)."""
    _, end = _statement_bounds(code, index)
    indent = indent_at(text, code[index].start)
    first = line_start(text, code[index].start)
    edits = [Edit(start=first, end=first, text=f"{indent}if ({name} == NULL) {{\n")]
    at = first
    while at < code[end].end:
        edits.append(Edit(start=at, end=at, text="    "))
        at = text.index("\n", at) + 1
    stop = text.find("\n", code[end].end)
    stop = len(text) if stop < 0 else stop
    edits.append(Edit(start=stop, end=stop, text=f"\n{indent}}}"))
    return edits

