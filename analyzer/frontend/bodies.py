"""Function bodies, read two ways.

Parsing every body with pycparser costs four times the rest of a scan, and
most bodies never touch a global in a way that could change it.  So a chunk
is first parsed with its bodies elided (only their static, thread-local and
typedef declarations stay), and each body is read from its tokens: the names
it calls and the names it mentions; for bodies that mention a writable
global of the unit, also the names in write contexts (`x =`, `x +=`, `x++`,
`x.f[i] =`, `x->f =`, `*x =`, `&x`; for arrays also where they decay to a
pointer: passed, assigned, returned).  A body is parsed in full later
(parse.parse_unit) only when one of those names is a writable global of the
unit or one of its own statics, when it tests _Py_IsMainInterpreter(), or
when it installs signal handlers.  A body that is not parsed contributes its
calls and its reads: nothing in it is a write of a global, unless in a form
the write contexts miss (a write through a pointer kept elsewhere).
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ..cpython.api import HANDLER_NAMES, MUTATING_CALLS

STRING_RE = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'')
_LINE_MARKER_LINE_RE = re.compile(r'^#[^\n]*$', re.M)
_BRACE_TOKEN_RE = re.compile(
    r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'|[{}]|\b(?:static|_Thread_local)\b')
_BODY_TOKEN_RE = re.compile(
    r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'|[{};]|\b(?:static|_Thread_local|typedef)\b')
LINEMARKER_RE = re.compile(r'^# (\d+) "([^"\\]*(?:\\.[^"\\]*)*)"[^\n]*$', re.M)
# An identifier that is not the tail of a number (0x1F, 10UL, 1e5).
_NAME_RE = re.compile(r"(?<![\w.])[A-Za-z_]\w*")
_CALL_RE = re.compile(r"(?<![\w.>])([A-Za-z_]\w*)\s*\(")
_MEMBER_OR_TAG_RE = re.compile(r"(?:->|\.|\b(?:struct|union|enum|goto)\s)\s*([A-Za-z_]\w*)")
# Write contexts: a name, then members and subscripts (one level of nested
# brackets), then an assignment operator or ++/--; ++/-- before it; `*` before
# it with an assignment after; `&` before it.  Arrays also decay where a value
# is passed, assigned or returned.
_CHAIN = r"(?:\s*\)|\s*(?:\.|->)\s*\w+|\s*\[(?:[^\[\]]|\[[^\[\]]*\])*\])*"
_ASSIGN = r"\s*(?:(?:[-+*/%&|^]|<<|>>)?=(?!=)|\+\+|--)"
_WRITE_AFTER_RE = re.compile(r"(?<![\w.>])([A-Za-z_]\w*)" + _CHAIN + _ASSIGN)
_UPDATE_BEFORE_RE = re.compile(r"(\+\+|--)[\s(]*([A-Za-z_]\w*)")
_ADDRESS_RE = re.compile(r"(?<!&)&[\s(]*([A-Za-z_]\w*)")
_DEREF_RE = re.compile(r"\*[\s(]*([A-Za-z_]\w*)" + _CHAIN + _ASSIGN)
_DECAY_RE = re.compile(r"(?:[(,=?:)]|\breturn)\s*([A-Za-z_]\w*)\s*(?=[,);:])")
_MUTATING_CALL_RE = re.compile(r"\b(?:" + "|".join(sorted(MUTATING_CALLS)) + r")\s*\(")
_ADDRESS_ARGUMENT_RE = re.compile(r"&[\s(]*([A-Za-z_]\w*)")
_HANDLER_RE = re.compile(r"\b(?:" + "|".join(sorted(HANDLER_NAMES)) + r")\b")
_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if inline int long
    register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
    _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert _Thread_local
    __asm__ __inline __inline__ __restrict __volatile__ __extension__ __typeof__ __alignof__
    """.split())


@dataclass(frozen=True, slots=True)
class BodyTokens:
    """What the tokens of a function body or of a file-scope initializer say
    (see the module docstring)."""
    name: str | None             # the function or variable; None when the declarator is unusual
    function: bool               # a function body, else an initializer
    static: bool                 # declared `static`
    origin: str                  # file of the name, as the line markers spell it
    line: int                    # line of the name
    calls: frozenset[str]
    names: frozenset[str]        # the other names it reads (not members, not tags)
    mentions: frozenset[str]     # every identifier in it
    has_statics: bool
    installs_handlers: bool
    code: str                    # the body without strings and line markers, for write_contexts()


@dataclass(frozen=True, slots=True)
class WriteContexts:
    """The names a body mentions where a write could happen (computed only
    for bodies that mention a writable global)."""
    writes: frozenset[str]       # any write context, including by address
    assigned: frozenset[str]     # written by the body itself (not by address)
    readied: frozenset[str]      # address given to MUTATING_CALLS
    addressed: frozenset[str]    # address taken
    decayed: frozenset[str]      # passed, assigned or returned as a value (an array's address)


_STATIC_DECLARATION_RE = re.compile(r"\bstatic\b[^;]*;")


def write_contexts(tokens: BodyTokens) -> WriteContexts:
    # A static's own initializer (`static T x = {...};`) is not a write.
    code = _STATIC_DECLARATION_RE.sub(";", tokens.code) if tokens.has_statics else tokens.code
    assigned = {m.group(1) for m in _WRITE_AFTER_RE.finditer(code)}
    assigned.update(m.group(2) for m in _UPDATE_BEFORE_RE.finditer(code))
    addressed = {m.group(1) for m in _ADDRESS_RE.finditer(code)}
    dereferenced = {m.group(1) for m in _DEREF_RE.finditer(code)}
    readied = readied_names(code) if tokens.calls & MUTATING_CALLS else set()
    assigned |= dereferenced
    return WriteContexts(writes=frozenset((assigned | addressed) - _KEYWORDS),
                         assigned=frozenset(assigned - _KEYWORDS), readied=frozenset(readied),
                         addressed=frozenset(addressed - _KEYWORDS),
                         decayed=frozenset(m.group(1) for m in _DECAY_RE.finditer(code)) - _KEYWORDS)


def readied_names(code: str) -> set[str]:
    r"""The names whose address a mutating call is given: for each call (not
    inside an earlier match), the first `&name` after its `(` with no `;`
    between, as the regex `CALL\s*\([^;]*?&[\s(]*(name)` would find them, but
    in n log n time: that regex scans to the next `;` from every call, so
    20,000 calls in one statement took minutes."""
    semicolons = [m.start() for m in _SEMICOLON_RE.finditer(code)]
    addresses = list(_ADDRESS_ARGUMENT_RE.finditer(code))
    starts = [m.start() for m in addresses]
    found: set[str] = set()
    position = 0
    while (call := _MUTATING_CALL_RE.search(code, position)) is not None:
        after = call.end()
        index = bisect.bisect_left(starts, after)
        semicolon = bisect.bisect_left(semicolons, after)
        if index < len(starts) and (semicolon == len(semicolons) or starts[index] < semicolons[semicolon]):
            found.add(addresses[index].group(1))
            position = addresses[index].end()
        else:
            position = after
    return found


_SEMICOLON_RE = re.compile(";")


@dataclass(frozen=True, slots=True)
class BodySpan:
    """Where a function definition or an initializer lies in the raw chunk text."""
    start: int                   # the definition's first character
    end: int                     # just after its '}'
    tokens: BodyTokens


@dataclass(frozen=True, slots=True)
class Elided:
    text: str
    spans: tuple[BodySpan, ...]


def elide_bodies(text: str) -> Elided:
    """Keep every line position (by newlines or line markers), so coordinates
    are unchanged, and, after reading their tokens (BodyTokens):
    - drop function definitions, but for the static, thread-local and typedef
      declarations of their bodies (and their declarators when those exist,
      or when the name could not be read from the tokens);
    - replace file-scope brace initializers by `{0}`."""
    if "{" not in text:
        return Elided(text=text, spans=())
    positions = Positions(text)
    pieces: list[str] = []
    spans: list[BodySpan] = []
    done = 0
    depth = 0
    last_close = 0          # just after the last file-scope '}'
    start = -1              # where the elidable text begins
    is_body = has_statics = False
    body_open = 0
    for match in _BRACE_TOKEN_RE.finditer(text):
        token = match.group()
        if token == "{":
            if depth == 0:
                before = previous_char(text, match.start())
                if before == ")":
                    # The definition starts after the last file-scope ';' or '}'.
                    start = max(last_close, text.rfind(";", last_close, match.start()) + 1)
                    is_body, has_statics, body_open = True, False, match.end()
                elif before == "=":
                    start, is_body, body_open = match.end(), False, text.rindex("=", 0, match.start())
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                if start >= 0 and is_body:
                    name, at = _function_name(text, start, body_open - 1)
                    static = name is not None and _STATIC_RE.search(text, start, at) is not None
                    origin, line = positions.at(at)
                    tokens = read_tokens(text[body_open:match.start()], name, True, static, origin, line,
                                         has_statics)
                    spans.append(BodySpan(start=start, end=match.end(), tokens=tokens))
                    pieces.append(text[done:start])
                    if has_statics or name is None:
                        pieces.append(text[start:body_open])
                        pieces.extend(_kept_declarations(text, body_open, match.start(), positions)
                                      if has_statics else [position_only(text[body_open:match.start()])])
                        done = match.start()
                    else:
                        pieces.append(position_only(text[start:match.end()]))
                        done = match.end()
                elif start >= 0:
                    name, at = _variable_name(text, last_close, body_open)
                    interior = text[start:match.start()]
                    if name is not None:
                        origin, line = positions.at(at)
                        spans.append(BodySpan(start=start, end=match.end(), tokens=read_tokens(
                            interior, name, False, False, origin, line, False)))
                    pieces.append(text[done:start])
                    pieces.append("0" + position_only(interior))
                    done = match.start()
                start = -1
                last_close = match.end()
        elif token[0] not in "\"'" and is_body and depth > 0:
            has_statics = True
    if not pieces:
        return Elided(text=text, spans=tuple(spans))
    pieces.append(text[done:])
    return Elided(text="".join(pieces), spans=tuple(spans))


_TRAILING_NAME_RE = re.compile(r"([A-Za-z_]\w*)\s*$")
_DECLARATOR_TAIL_RE = re.compile(r"([A-Za-z_]\w*)\s*(?:\[[^\]\[]*\]\s*)*=\s*$")
_STATIC_RE = re.compile(r"\bstatic\b")


def _function_name(text: str, start: int, brace: int) -> tuple[str | None, int]:
    """The name of a function defined by text[start:brace] (`T name(params)`),
    and its offset; (None, start) for other declarators."""
    close = text.rindex(")", start, brace)
    depth = 0
    index = close
    while index >= start:
        char = text[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                break
        index -= 1
    match = _TRAILING_NAME_RE.search(text, start, max(index, start))
    if index < start or match is None:
        return None, start
    return match.group(1), match.start(1)


def _variable_name(text: str, start: int, equals: int) -> tuple[str | None, int]:
    """The name declared just before an initializer's `=` (`T name[] =`)."""
    match = _DECLARATOR_TAIL_RE.search(text, max(start, equals - 400), equals + 1)
    return (match.group(1), match.start(1)) if match else (None, start)


def read_tokens(body: str, name: str | None, function: bool, static: bool, origin: str, line: int,
                has_statics: bool) -> BodyTokens:
    code = STRING_RE.sub('""', _LINE_MARKER_LINE_RE.sub("", body) if "\n#" in body else body)
    # Set arithmetic over findall keeps the per-name work in C.  A name used
    # both plainly and as a member in one body loses its read (not a write).
    words = set(_NAME_RE.findall(code)) - _KEYWORDS
    calls = set(_CALL_RE.findall(code)) - _KEYWORDS
    names = words - calls - set(_MEMBER_OR_TAG_RE.findall(code))
    return BodyTokens(name=name, function=function, static=static, origin=origin, line=line,
                      calls=frozenset(calls), names=frozenset(names), mentions=frozenset(words),
                      has_statics=has_statics, installs_handlers=_HANDLER_RE.search(code) is not None,
                      code=code)


def _kept_declarations(text: str, begin: int, end: int, positions: Positions) -> list[str]:
    """The static, thread-local and typedef declarations of a function body
    text[begin:end], each behind a line marker for its position, then a marker
    for the position of the closing brace."""
    pieces: list[str] = []
    depth = 0
    statement_start = begin     # just after the last ';', '{' or '}'
    pending = -1                # start of a declaration to keep, until its ';'
    pending_depth = 0
    for match in _BODY_TOKEN_RE.finditer(text, begin, end):
        token = match.group()
        if token in "{}":
            depth += 1 if token == "{" else -1
            statement_start = match.end()
        elif token == ";":
            if pending >= 0 and depth == pending_depth:
                origin, line = positions.at(pending)
                pieces.append(f'\n# {line} "{origin}"\n{text[pending:match.end()]}')
                pending = -1
            statement_start = match.end()
        elif token[0] not in "\"'" and pending < 0:
            pending, pending_depth = _skip_blanks(text, statement_start), depth
    origin, line = positions.at(end)
    pieces.append(f'\n# {line} "{origin}"\n')
    return pieces


class Positions:
    """(file, line) at increasing offsets of a line-marked text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._index = 0
        self._origin = ""
        self._line = 1

    def at(self, index: int) -> tuple[str, int]:
        text = self._text
        if index < self._index:
            self._index, self._origin, self._line = 0, "", 1
        start = self._index
        for marker in LINEMARKER_RE.finditer(text, self._index, index):
            self._line += text.count("\n", start, marker.start())
            self._origin, self._line = marker.group(2), int(marker.group(1)) - 1
            start = marker.start()
        self._line += text.count("\n", start, index)
        self._index = index
        return self._origin, self._line


def position_of(text: str, index: int) -> tuple[str, int]:
    """(file, line) that a line-marked text assigns to the character at index."""
    return Positions(text).at(index)


def position_only(interior: str) -> str:
    """Text that leaves the lexer where `interior` would: its newlines, or,
    when it holds line markers, one marker for the position after it."""
    origin, line = position_of(interior, len(interior))
    if not origin:
        return "\n" * interior.count("\n")
    return f'\n# {line} "{origin}"\n'


def _skip_blanks(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\n":
        index += 1
    return index


def previous_char(text: str, index: int) -> str:
    index -= 1
    while index >= 0 and text[index] in " \t\n":
        index -= 1
    return text[index] if index >= 0 else ""
