"""A core global that moves into the runtime or interpreter state is
reached through a macro defined where its declaration was, as upstream
reaches its own moved state (`#define EXTENSIONS
_PyRuntime.imports.extensions` in Python/import.c): its uses stay short.
A file-scope global's macro is its name in capitals; a function's static
keeps its name, defined in the function and undefined at its end, so its
uses do not change at all (upstream's `#define import_level ...` in
import_find_and_load()).  Where the name is taken, the uses get the full
expression instead."""
from __future__ import annotations

from collections.abc import Collection

from .edits import Edit, Token, function_bodies, line_start

WIDTH = 79
_NOT_TYPES = frozenset({"return", "case", "goto", "else", "sizeof", "do"})


def accessor_name(code: list[Token], name: str, func: str | None, taken: Collection[str]) -> str | None:
    """The macro's name, or None when no name is free: the capitals of a
    file-scope global (its own name in upper case, taken by no identifier
    of the file nor of the public headers); a function's static's own name
    when the function uses it as nothing else (no member, no second
    declaration)."""
    if func is None:
        macro = name.lstrip("_").upper()
        return macro if macro and macro != name and macro not in taken else None
    body = next(((s, e) for s, e, n in function_bodies(code) if n == func), None)
    if body is None or code[body[1] - 1].line == code[body[1]].line:
        return None               # its #undef goes on the line before the closing brace
    uses = [i for i in range(body[0], body[1]) if code[i].text == name and code[i].kind == "id"]
    if any(code[i - 1].text in (".", "->") or code[i].directive is not None for i in uses):
        return None
    # `T name`: the static's own declaration, or a local of the same name it would shadow
    # (`T *name` and `a * name` read alike; a local pointer of that name would not compile)
    declared = sum(1 for i in uses if code[i - 1].kind == "id" and code[i - 1].text not in _NOT_TYPES)
    return name if declared <= 1 else None


def definition_lines(macro: str, expression: str, comment: str = "") -> str:
    """`#define NAME expression`, the expression on a continuation line when
    the line would pass the column limit; the comment the declaration's
    line ended with after it, or above it where it does not fit."""
    line = f"#define {macro} {expression}"
    if comment and len(f"{line}  {comment}") <= WIDTH:
        return f"{line}  {comment}\n"
    above = f"{comment}\n" if comment else ""
    return above + (f"{line}\n" if len(line) <= WIDTH else f"#define {macro} \\\n    {expression}\n")


def undefine_edit(text: str, code: list[Token], func: str, macros: list[str]) -> Edit:
    """`#undef NAME` lines before the closing brace of the function (on a
    line of its own: accessor_name)."""
    end = next(e for _, e, n in function_bodies(code) if n == func)
    at = line_start(text, code[end].start)
    return Edit(start=at, end=at, text="".join(f"#undef {macro}\n" for macro in macros))
