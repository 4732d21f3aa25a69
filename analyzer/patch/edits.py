"""Edits of C source text at exact token positions: remove a moved global's
declaration, rewrite each reference to it, add an include, add a member to a
struct.  The text is tokenized (comments, strings, preprocessor lines kept
apart); a reference is rewritten only in a function where the analysis saw a
use of that global (elsewhere the name is a local's or a parameter's), or in
a #define, and every such function must have one, so nothing is rewritten by
a name match alone."""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_TOKEN_RE = re.compile(r"""
    (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<id>[A-Za-z_]\w*)
  | (?P<number>\.?\d[\w.]*)
  | (?P<space>[ \t\r\f\v]+|\\\r?\n)
  | (?P<punct>->|[^\s\w])
  | (?P<newline>\n)
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
    # Per open #if: the depth at it and at the end of its first branch.  Each
    # branch starts from the #if's depth (`#ifdef X if (a) { #else if (b) {
    # #endif` opens one brace, not two).
    conditionals: list[list[int | None]] = []
    extern_blocks = 0
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
            depth = _branch_depth(conditionals, value, depth)
        tokens.append(Token(kind=kind, text=value, start=match.start(), end=match.end(), line=line,
                            directive=directive, depth=depth))
        line += value.count("\n")             # a comment, or a string continued with a backslash
        if directive is None and value == "{" and [t.text for t in tokens[-3:-1]] == ["extern", '"C"']:
            extern_blocks += 1    # C++ linkage: what it holds is still at file scope
        elif directive is None and value == "}" and depth == 0 and extern_blocks:
            extern_blocks -= 1
        elif directive is None and kind == "punct":
            depth += {"{": 1, "}": -1}.get(value, 0)
        if kind != "comment":
            line_start = False
    return tokens


def _branch_depth(conditionals: list[list[int | None]], directive: str, depth: int) -> int:
    if directive in ("if", "ifdef", "ifndef"):
        conditionals.append([depth, None])
    elif directive in ("elif", "else") and conditionals:
        if conditionals[-1][1] is None:
            conditionals[-1][1] = depth
        return conditionals[-1][0] or 0
    elif directive == "endif" and conditionals:
        first_end = conditionals.pop()[1]
        return depth if first_end is None else first_end
    return depth


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


def move_edits(text: str, tokens: list[Token], *, name: str, line: int, func: str | None,
               replacement: str | Mapping[str, str], use_functions: frozenset[str],
               known_functions: frozenset[str], macros: frozenset[str] = frozenset(),
               macro_users: frozenset[str] = frozenset()) -> list[Edit]:
    """Remove the declaration of `name` on `line` (in function `func`, or at
    file scope) and rewrite its references to `replacement` (per function,
    when a mapping: a reference in a macro then blocks the edit).
    `use_functions`: where the analysis saw uses ("" for initializers);
    `known_functions`: every function of the file the analysis saw.  The name
    in a function it did not see (code of another configuration) or at file
    scope where it saw no use could be this global: the file is not edited.
    `macros`: the macros given the state already (macros.state_macros),
    which `macro_users` invoke."""
    code = [t for t in tokens if t.kind != "comment"]
    declaration = _declaration(code, name, line)
    first, last = code[declaration[0]], code[declaration[1]]
    edits = [_whole_lines(text, first.start, last.end)]
    bodies = function_bodies(code)
    scope = next(((s, e) for s, e, _ in bodies if s <= declaration[0] <= e), None) if func else (0, len(code) - 1)
    if scope is None:
        raise EditError(f"no function body around the declaration of {name}")
    members = member_lists(code)
    references: list[tuple[Token, str]] = []
    seen = set(macro_users)
    given = {i for name in macros for start, end in macro_definitions(code).get(name, []) for i in range(start, end)}
    for index in range(scope[0], scope[1] + 1):
        token = code[index]
        if token.kind != "id" or token.text != name or declaration[0] <= index <= declaration[1]:
            continue
        if any(start < index < end for start, end in members):
            continue              # a member of a struct or union being defined
        if names_member(code, index):
            continue              # a member of the same name
        if index in given:
            continue
        if token.directive not in (None, "define"):
            continue
        owner = ""
        if token.directive is None:
            owner = next((n for s, e, n in bodies if s <= index <= e), "")
            if owner not in use_functions and (not owner or owner not in known_functions):
                where = f"{owner}()" if owner else "file scope"
                raise EditError(f"{name} appears in {where} (line {token.line}), where the analysis saw no use")
            if owner not in use_functions:
                continue          # the analysis saw no use there: a local or a parameter of the same name
            seen.add(owner)
        references.append((token, owner))
    in_macros = any(token.directive == "define" for token, _ in references)
    if not in_macros and not use_functions <= seen:
        missing = ", ".join(sorted(use_functions - seen))
        raise EditError(f"{name}: no reference found where the analysis saw its uses ({missing})")
    for token, owner in references:
        if isinstance(replacement, str):
            edits.append(Edit(start=token.start, end=token.end, text=replacement))
        elif owner in replacement:
            edits.append(Edit(start=token.start, end=token.end, text=replacement[owner]))
        else:
            where = f"{owner}()" if owner else "a macro"
            raise EditError(f"{name} is used in {where} (line {token.line}), which has no way to the new home")
    return edits


def macro_definitions(code: list[Token]) -> dict[str, list[tuple[int, int]]]:
    """The `#define NAME ...` lines of the file (one name may have several,
    in #if branches): the index of NAME and the end (exclusive) of the run
    of its directive's tokens."""
    found: dict[str, list[tuple[int, int]]] = {}
    for index, token in enumerate(code[:-1]):
        if token.directive == "define" and token.text == "define":
            end = index + 2
            while end < len(code) and code[end].directive == "define":
                end += 1
            found.setdefault(code[index + 1].text, []).append((index + 1, end))
    return found


OFFSETOF_MACROS = frozenset({"offsetof"})


def names_member(code: list[Token], index: int) -> bool:
    """Whether the identifier at `index` names a member rather than a
    variable: after `.` or `->`, or as the member argument of
    `offsetof(TYPE, member)`."""
    if index and code[index - 1].text in (".", "->"):
        return True
    depth, after_comma = 0, False
    for back in range(index - 1, -1, -1):
        text = code[back].text
        if text in (")", "]"):
            depth += 1
        elif text in ("(", "["):
            if depth == 0:
                return text == "(" and after_comma and back > 0 and code[back - 1].text in OFFSETOF_MACROS
            depth -= 1
        elif text == "," and depth == 0:
            if after_comma:
                return False
            after_comma = True
        elif text in (";", "{", "}"):
            return False
    return False


def member_lists(code: list[Token]) -> list[tuple[int, int]]:
    """(index of `{`, index of `}`) of every `struct [TAG] { ... }` and `union`."""
    aggregate = ("struct", "union")
    return [(index, closing_brace(code, index)) for index, token in enumerate(code)
            if token.text == "{" and token.directive is None and index > 0
            and (code[index - 1].text in aggregate
                 or (index > 1 and code[index - 1].kind == "id" and code[index - 2].text in aggregate))]


def closing_brace(tokens: list[Token], brace: int) -> int:
    """The index of the `}` that closes the `{` at `brace` (len(tokens) when
    none does): the next `}` outside directives one level deeper, as the
    tokenizer counts depth (across #if branches)."""
    depth = tokens[brace].depth
    return next((index for index in range(brace + 1, len(tokens)) if tokens[index].text == "}"
                 and tokens[index].depth == depth + 1 and tokens[index].directive is None), len(tokens))


def closing_paren(tokens: list[Token], paren: int) -> int:
    """The index of the `)` that closes the `(` at `paren`."""
    depth = 0
    for index in range(paren, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[index].text, 0)
        if depth == 0:
            return index
    raise EditError(f"no `)` closes the `(` on line {tokens[paren].line}")


def opening_paren(tokens: list[Token], close: int) -> int:
    """The index of the `(` that the `)` at `close` closes."""
    depth = 0
    for i in range(close, -1, -1):
        depth += {")": 1, "(": -1}.get(tokens[i].text, 0)
        if depth == 0:
            return i
    return 0


def function_bodies(code: list[Token]) -> list[tuple[int, int, str]]:
    """(index of the name, index of `}`, function name) of every function
    definition: its parameters belong to it."""
    bodies = []
    index = 0
    while index < len(code):
        token = code[index]
        if token.text == "{" and token.depth == 0 and token.directive is None and code[index - 1].text != '"C"':
            end = closing_brace(code, index)
            named = _function_name(code, index)
            if named is not None:
                bodies.append((named[1], end, named[0]))
            index = end
        index += 1
    return bodies


def _function_name(code: list[Token], brace: int) -> tuple[str, int] | None:
    """The identifier before the parameter list that ends just before
    `brace`, and its index."""
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
        return code[index - 1].text, index - 1
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
            closing = closing_brace(tokens, index + 2)
            if closing < len(tokens):
                return Edit(start=tokens[closing].start, end=tokens[closing].start, text=f"\n    {member}\n")
    raise EditError(f"no `struct {struct} {{ ... }}`")


def define_edit(tokens: list[Token], macro: str, fragment: str) -> Edit:
    """`fragment` (a macro expanding to designated initializers, or to
    nothing) added first in the braces of `#define MACRO { ... }`."""
    for index, token in enumerate(tokens[:-1]):
        if token.directive == "define" and token.text == macro and tokens[index - 1].text == "define":
            brace = next((t for t in tokens[index + 1:] if t.text == "{" or t.directive != "define"), None)
            if brace is not None and brace.text == "{" and brace.directive == "define":
                return Edit(start=brace.end, end=brace.end, text=f" \\\n        {fragment}")
    raise EditError(f"no `#define {macro} {{ ...`")


def reset_edits(text: str, tokens: list[Token], struct: str, member: str) -> list[Edit]:
    """Keep `STATE->member` across `memcpy(STATE, &initial, sizeof(*STATE));`
    (_PyRuntimeState_Init's reset when Py_Initialize() runs again)."""
    code = [t for t in tokens if t.kind != "comment"]
    for index, token in enumerate(code[:-5]):
        if token.text == "memcpy" and [t.text for t in code[index + 1:index + 6:2]] == ["(", ",", "initial"] \
                and code[index + 4].text == "&" and token.directive is None:
            state = code[index + 2].text
            end = next(t for t in code[index:] if t.text == ";")
            line_start = text.rfind("\n", 0, token.start) + 1
            indent = text[line_start:token.start]
            keep = (f"{indent}// cglobals: what were statics keep their values, as the statics did\n"
                    f"{indent}{struct} saved_{member} = {state}->{member};\n")
            return [Edit(start=line_start, end=line_start, text=keep),
                    Edit(start=end.end, end=end.end, text=f"\n{indent}{state}->{member} = saved_{member};")]
    raise EditError("no `memcpy(runtime, &initial, ...)` reset of the runtime state")


STATEMENT_BOUNDARY = (";", "{", "}")
"""What precedes the first token of a statement."""


def if_statement_end(code: list[Token], index: int) -> int | None:
    """The last token of the `if (...) ...` at `index`: the `}` of its
    block, or the `;` of its one statement."""
    close = closing_paren(code, index + 1)
    if code[close + 1].text == "{":
        return closing_brace(code, close + 1)
    return next((i for i in range(close + 1, len(code)) if code[i].text == ";" and code[i].directive is None), None)


def null_test(code: list[Token], index: int, variable: str) -> int | None:
    """The last token of `if (v == NULL) ...` (or `!v`, `NULL == v`) at
    `index`; None when the code there is not that test."""
    if code[index].text != "if" or code[index + 1].text != "(":
        return None
    condition = "".join(t.text for t in code[index + 2:closing_paren(code, index + 1)])
    if condition not in (f"{variable}==NULL", f"NULL=={variable}", f"!{variable}"):
        return None
    return if_statement_end(code, index)


def own_line_statement(code: list[Token], index: int) -> int | None:
    """The first token of the statement holding `index`, when it starts a
    line of its own and is not an `else` branch."""
    start = index
    while code[start - 1].directive is not None or code[start - 1].text not in STATEMENT_BOUNDARY:
        start -= 1
    while code[start].directive is not None:     # an #if line between the statements
        start += 1
    if code[start].text == "else" or code[start - 1].directive is None and code[start - 1].line == code[start].line:
        return None
    return start


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def indent_at(text: str, offset: int) -> str:
    """The indentation of the line that holds offset."""
    start = line_start(text, offset)
    line = text[start:offset]
    return line[:len(line) - len(line.lstrip())]


def initializer_elements(code: list[Token], brace: int, closing: int) -> list[list[Token]]:
    """The non-empty elements between the braces of an initializer (or
    after `brace`, any token before the first element), split on its
    top-level commas; preprocessor lines left out."""
    elements: list[list[Token]] = [[]]
    depth = 0
    for token in code[brace + 1:closing]:
        if token.directive is not None:
            continue
        depth += {"(": 1, ")": -1, "{": 1, "}": -1}.get(token.text, 0)
        if token.text == "," and depth == 0:
            elements.append([])
        else:
            elements[-1].append(token)
    return [element for element in elements if element]


def realigned(text: str, code: list[Token], edits: list[Edit]) -> list[Edit]:
    """Edits that keep continuation lines aligned with the open parenthesis
    they follow (PEP 7) when `edits` lengthen or shorten a line before that
    parenthesis: `f(state->x,\\n  y)` moves `y` along with `(`."""
    by_line: dict[int, list[Edit]] = {}
    for edit in edits:
        if "\n" not in edit.text and "\n" not in text[edit.start:edit.end] and edit.start != edit.end:
            by_line.setdefault(line_start(text, edit.start), []).append(edit)
    starts = {line_start(text, e.start) for e in edits if e.start == line_start(text, e.start)}
    added = []
    offsets = [t.start for t in code]
    for begin, line_edits in sorted(by_line.items()):
        end = text.find("\n", begin)
        end = len(text) if end < 0 else end
        on_line = [i for i in range(bisect.bisect_left(offsets, begin), bisect.bisect_left(offsets, end))
                   if code[i].directive is None]
        if not on_line:
            continue
        opened: list[int] = []
        for index in on_line:
            if code[index].text == "(":
                opened.append(index)
            elif code[index].text == ")" and opened:
                opened.pop()
        if not opened:
            continue
        paren = code[opened[-1]]
        shift = sum(len(e.text) - (e.end - e.start) for e in line_edits if e.end <= paren.start)
        if shift == 0:
            continue
        column = paren.start - begin + 1
        depth = 1
        for index in range(on_line[-1] + 1, len(code)):
            token = code[index]
            first_on_line = line_start(text, token.start) != line_start(text, code[index - 1].start)
            if first_on_line and token.start - line_start(text, token.start) == column:
                at = line_start(text, token.start)
                if at not in starts:
                    added.append(Edit(start=at, end=at + max(0, -shift), text=" " * max(0, shift)))
            depth += {"(": 1, ")": -1}.get(token.text, 0)
            if depth == 0:
                break
    return added
