"""Edits of C source text at exact token positions: remove a moved global's
declaration, rewrite each reference to it, add an include, add a member to a
struct.  The text is tokenized (comments, strings, preprocessor lines kept
apart); a reference is rewritten only in a function where the analysis saw a
use of that global (elsewhere the name is a local's or a parameter's), or in
a #define, and every such function must have one, so nothing is rewritten by
a name match alone."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN_RE = re.compile(r"""
    (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<id>[A-Za-z_]\w*)
  | (?P<number>\.?\d[\w.]*)
  | (?P<punct>->|[^\s\w])
  | (?P<newline>\n)
  | (?P<space>[ \t\r\f\v]+|\\\n)
""", re.S | re.X)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str            # comment, string, id, number, punct
    text: str
    start: int
    end: int
    line: int
    directive: str | None     # the directive's name (define, include, ...) inside a preprocessor line
    depth: int                # brace depth before the token (outside directives)


@dataclass(frozen=True, slots=True)
class Edit:
    start: int
    end: int
    text: str


class EditError(Exception):
    """The source does not look as the analysis says: nothing is edited."""


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    line, depth = 1, 0
    directive: str | None = None
    line_start = True
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup or "punct"
        value = match.group()
        if kind == "newline":
            line += 1
            directive, line_start = None, True
            continue
        if kind == "space":
            line += value.count("\n")
            continue
        if kind == "punct" and value == "#" and line_start:
            directive = ""
        elif directive == "" and kind == "id":
            directive = value
        tokens.append(Token(kind=kind, text=value, start=match.start(), end=match.end(), line=line,
                            directive=directive, depth=depth))
        line += value.count("\n")             # a comment, or a string continued with a backslash
        if directive is None and kind == "punct":
            depth += {"{": 1, "}": -1}.get(value, 0)
        if kind != "comment":
            line_start = False
    return tokens


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            raise EditError(f"overlapping edits at offset {after.start}")
    pieces, position = [], 0
    for edit in ordered:
        pieces += [text[position:edit.start], edit.text]
        position = edit.end
    return "".join(pieces) + text[position:]


def move_edits(text: str, tokens: list[Token], *, name: str, line: int, func: str | None, replacement: str,
               use_functions: frozenset[str]) -> list[Edit]:
    """Remove the declaration of `name` on `line` (in function `func`, or at
    file scope) and rewrite its references to `replacement`.
    `use_functions`: where the analysis saw uses ("" for initializers)."""
    code = [t for t in tokens if t.kind != "comment"]
    declaration = _declaration(code, name, line)
    first, last = code[declaration[0]], code[declaration[1]]
    edits = [_whole_lines(text, first.start, last.end)]
    bodies = function_bodies(code)
    scope = next(((s, e) for s, e, _ in bodies if s <= declaration[0] <= e), None) if func else (0, len(code) - 1)
    if scope is None:
        raise EditError(f"no function body around the declaration of {name}")
    references, seen = [], set()
    for index in range(scope[0], scope[1] + 1):
        token = code[index]
        if token.kind != "id" or token.text != name or declaration[0] <= index <= declaration[1]:
            continue
        if index and code[index - 1].text in (".", "->"):
            continue              # a member of the same name
        if token.directive not in (None, "define"):
            continue
        if token.directive is None:
            owner = next((n for s, e, n in bodies if s <= index <= e), "")
            if owner not in use_functions:
                continue          # the analysis saw no use there: a local or a parameter of the same name
            seen.add(owner)
        references.append(token)
    in_macros = any(token.directive == "define" for token in references)
    if not in_macros and not use_functions <= seen:
        missing = ", ".join(sorted(use_functions - seen))
        raise EditError(f"{name}: no reference found where the analysis saw its uses ({missing})")
    edits += [Edit(start=token.start, end=token.end, text=replacement) for token in references]
    return edits


def function_bodies(code: list[Token]) -> list[tuple[int, int, str]]:
    """(index of `{`, index of `}`, function name) of every top-level body
    that follows a parameter list."""
    bodies = []
    index = 0
    while index < len(code):
        token = code[index]
        if token.text == "{" and token.depth == 0 and token.directive is None:
            end = index + 1
            while end < len(code) and not (code[end].text == "}" and code[end].depth == 1
                                           and code[end].directive is None):
                end += 1
            name = _function_name(code, index)
            if name is not None:
                bodies.append((index, end, name))
            index = end
        index += 1
    return bodies


def _function_name(code: list[Token], brace: int) -> str | None:
    """The identifier before the parameter list that ends just before `brace`."""
    index = brace - 1
    while index >= 0 and code[index].directive is not None:
        index -= 1
    if index < 0 or code[index].text != ")":
        return None
    depth = 0
    while index >= 0:
        text = code[index].text
        depth += {")": 1, "(": -1}.get(text, 0) if code[index].directive is None else 0
        if depth == 0:
            break
        index -= 1
    if index > 0 and code[index - 1].kind == "id":
        return code[index - 1].text
    return None


def _declaration(code: list[Token], name: str, line: int) -> tuple[int, int]:
    """(index of `static`, index of `;`) of the declaration of name on line."""
    for index, token in enumerate(code):
        if token.line != line or token.text != "static" or token.directive is not None:
            continue
        end = index
        while end < len(code) and code[end].text != ";":
            end += 1
        names = [t.text for t in code[index:end] if t.kind == "id"]
        if end < len(code) and name in names:
            return index, end
    raise EditError(f"no declaration `static ... {name} ...;` on line {line}")


def _whole_lines(text: str, start: int, end: int) -> Edit:
    """The declaration's span, with its lines when nothing else (but a
    trailing comment) stands on them."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if not text[line_start:start].strip() and _only_comment(text[end:line_end].strip()):
        return Edit(start=line_start, end=min(line_end + 1, len(text)), text="")
    return Edit(start=start, end=end, text="")


def _only_comment(rest: str) -> bool:
    if not rest or rest.startswith("//"):
        return True
    return rest.startswith("/*") and rest.find("*/") == len(rest) - 2


def include_edit(text: str, tokens: list[Token], header: str, comment: str) -> Edit | None:
    """`#include "header"` after the last include that comes before the
    file's first brace (but `extern "C" {`); None when the file includes it
    already."""
    last = None
    for index, token in enumerate(tokens):
        if token.directive == "include" and token.kind == "string":
            if token.text == f'"{header}"':
                return None
            last = last if last and token.depth > last.depth else token
        elif token.directive is None and token.text == "{" and tokens[index - 1].text != '"C"':
            break
    if last is None:
        raise EditError("no #include to put the new one after")
    line_end = text.find("\n", last.end)
    return Edit(start=line_end + 1, end=line_end + 1, text=f'#include "{header}"'.ljust(34) + f"// {comment}\n")


def member_edit(tokens: list[Token], struct: str, member: str) -> Edit:
    """A member added at the end of `struct NAME { ... };`."""
    for index, token in enumerate(tokens[:-2]):
        if token.text == "struct" and tokens[index + 1].text == struct and tokens[index + 2].text == "{":
            depth = tokens[index + 2].depth
            for closing in tokens[index + 3:]:
                if closing.text == "}" and closing.depth == depth + 1 and closing.directive is None:
                    return Edit(start=closing.start, end=closing.start, text=f"\n    {member}\n")
    raise EditError(f"no `struct {struct} {{ ... }}`")
