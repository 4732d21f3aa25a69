"""Racing writes that store what is already there: each interpreter's
initialization (type readying, module exec) writes the same value into a
process-wide global that other interpreters read at the same time.  Guarded
as `if (x != v) x = v;`, only the first store happens (in the main
interpreter, before any other exists) and the rest become reads: the same
final state, no data race.  The edit is made only on a plain expression
statement `LHS = RHS;`, `LHS |= RHS;` or `LHS &= ~RHS;` with no call,
increment or nested assignment in it; anything else is left with the
reason."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import RacingWrite
from .edits import Edit, EditError, Token, function_bodies

_STATEMENT_KEYWORDS = frozenset("if else for while do switch case default return goto break continue".split())
_SIMPLE = frozenset({".", "->", "[", "]", "(", ")", "*", "&", "|", "~", "+", "-", "<", ">", "^", ","})


@dataclass(frozen=True, slots=True, kw_only=True)
class Guard:
    write: RacingWrite
    edit: Edit
    statement: str              # the statement as it was


def guard_edit(text: str, tokens: list[Token], write: RacingWrite) -> Guard:
    """The guarded statement for the write TSan saw at write.line in
    write.function (EditError with the reason when it is not a plain
    store)."""
    code = [t for t in tokens if t.kind != "comment"]
    body = next(((s, e) for s, e, name in function_bodies(code)
                 if name == write.function and code[s].line <= write.line <= code[e].line), None)
    if body is None:
        raise EditError(f"no function {write.function}() around line {write.line}")
    on_line = [i for i in range(body[0], body[1]) if code[i].line == write.line and code[i].directive is None]
    if not on_line:
        raise EditError(f"no code on line {write.line}")
    start = on_line[0]
    while code[start - 1].text not in (";", "{", "}") and code[start - 1].directive is None:
        start -= 1
    end = start
    while end < body[1] and code[end].text != ";":
        end += 1
    statement = code[start:end]
    shown = " ".join(text[statement[0].start:code[end].end].split()) if statement else ""
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    if not statement or statement[0].text in _STATEMENT_KEYWORDS or len(statement) != len(
            [t for t in statement if t.directive is None]):
        raise EditError(f"line {write.line} is not a plain expression statement: {shown!r}")
    assign = _assignment(statement)
    if assign is None:
        raise EditError(f"line {write.line} is not a plain store (`=`, `|=`, `&= ~`): {shown!r}")
    index, operator = assign
    lhs = statement[:index - (operator != "=")]
    rhs = statement[index + 1:]
    if not lhs or not rhs or not _plain(lhs) or not _plain(rhs):
        raise EditError(f"line {write.line} calls, increments, assigns more or stores a string literal: {shown!r}")
    lhs_text = text[lhs[0].start:lhs[-1].end]
    rhs_text = text[rhs[0].start:rhs[-1].end]
    if operator == "=":
        test = f"({lhs_text}) != ({rhs_text})"
    elif operator == "|":
        test = f"(({lhs_text}) & ({rhs_text})) != ({rhs_text})"
    elif rhs[0].text == "~":
        test = f"({lhs_text}) & ({text[rhs[1].start:rhs[-1].end]})"
    else:
        raise EditError(f"line {write.line} clears bits other than by `&= ~`: {shown!r}")
    guarded = f"if ({test}) {{ {text[statement[0].start:code[end].end]} }}"
    return Guard(write=write, edit=Edit(start=statement[0].start, end=code[end].end, text=guarded),
                 statement=text[statement[0].start:code[end].end])


def _assignment(statement: list[Token]) -> tuple[int, str] | None:
    """(index of the `=`, "=" or the compound operator) of the statement's
    one top-level assignment."""
    depth = 0
    found = None
    for index, token in enumerate(statement):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(token.text, 0)
        if token.text != "=" or depth:
            continue
        before = statement[index - 1].text if index else ""
        after = statement[index + 1].text if index + 1 < len(statement) else ""
        if after == "=" or before in ("=", "!", "<", ">"):
            continue                  # ==, !=, <=, >=
        if found is not None:
            return None               # a second assignment
        if before in ("|", "&"):
            found = (index, before)
        elif before in ("+", "-", "*", "/", "%", "^"):
            return None
        else:
            found = (index, "=")
    return found


def _plain(tokens: list[Token]) -> bool:
    """Names, numbers, member and element access, casts and operators: no
    call (a name before `(`), no ++/--, no assignment, no string literal
    (two equal literals need not be one object: the test could not hold)."""
    for index, token in enumerate(tokens):
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if token.kind == "id" and following == "(":
            return False
        if token.kind in ("number", "id"):
            continue
        if token.text not in _SIMPLE or (token.text in "+-" and following == token.text):
            return False
    return True
