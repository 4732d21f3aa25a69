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
import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..cpython.api import BUFFER_WRITING_CALLS, HANDLER_NAMES, LOCK_CALLS, MUTATING_CALLS

STRING_RE = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'')
_LINE_MARKER_LINE_RE = re.compile(r'^#[^\n]*$', re.M)
_BRACE_TOKEN_RE = re.compile(
    r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'|[{}]|\b(?:static|_Thread_local)\b')
_BODY_TOKEN_RE = re.compile(
    r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'|[{};]|\b(?:static|_Thread_local|typedef)\b')
LINEMARKER_RE = re.compile(r'^# (\d+) "([^"\\]*(?:\\.[^"\\]*)*)"[^\n]*$', re.M)
# An identifier that is not the tail of a number (0x1F, 10UL, 1e5) or a
# member.  `\b` before a letter is `(?<!\w)`, and sre tests it faster; the
# possessive repeats change no match (what follows cannot be a word
# character) but make failing attempts cheap, here and below.
_NAME_RE = re.compile(r"\b(?<!\.)[A-Za-z_]\w*+")
_CALL_RE = re.compile(r"\b(?<![.>])([A-Za-z_]\w*+)\s*+\(")
_MEMBER_OR_TAG_RE = re.compile(r"(?:->|\.|\b(?:struct|union|enum|goto)\s)\s*([A-Za-z_]\w*)")
# Write contexts: a name, then members and subscripts (one level of nested
# brackets), then an assignment operator or ++/--; ++/-- before it; `*` before
# it with an assignment after; `&` before it.  Arrays also decay where a value
# is passed, assigned or returned, or offset (`table + i`).
_CHAIN = r"(?:\s*+\)|\s*+(?:\.|->)\s*+\w++|\s*+\[(?:[^\[\]]|\[[^\[\]]*+\])*+\])*+"
_ASSIGN = r"\s*+(?:(?:[-+*/%&|^]|<<|>>)?=(?!=)|\+\+|--)"
_WRITE_AFTER_RE = re.compile(r"\b(?<![.>])([A-Za-z_]\w*+)" + _CHAIN + _ASSIGN)
_UPDATE_BEFORE_RE = re.compile(r"(\+\+|--)[\s(]*([A-Za-z_]\w*)")
_ADDRESS_RE = re.compile(r"(?<!&)&[\s(]*([A-Za-z_]\w*)")
_DEREF_RE = re.compile(r"\*[\s(]*([A-Za-z_]\w*)" + _CHAIN + _ASSIGN)
_DECAY_RE = re.compile(r"(?:[(,=?:)]|\breturn)\s*([A-Za-z_]\w*)\s*(?=[,);:]|[-+](?![-+=]))")
_MUTATING_CALL_RE = re.compile(r"\b(?:" + "|".join(sorted(MUTATING_CALLS)) + r")\s*\(")
_ADDRESS_ARGUMENT_RE = re.compile(r"&[\s(]*([A-Za-z_]\w*)")
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
    declarator: str = ""         # a function's text before its body (`static int f(T *a, int b)`)


@dataclass(frozen=True, slots=True)
class WriteContexts:
    """The names a body mentions where a write could happen (computed only
    for bodies that mention a writable global)."""
    writes: frozenset[str]       # any write context, including by address
    assigned: frozenset[str]     # written by the body itself (not by address)
    readied: frozenset[str]      # address given to MUTATING_CALLS
    addressed: frozenset[str]    # address taken
    decayed: frozenset[str]      # passed, assigned or returned as a value (an array's address)


_STATIC_OR_BRACE_RE = re.compile(r"\bstatic\b|[{};]")


def static_declarations(code: str) -> Iterator[tuple[int, int]]:
    """The spans of the `static ...;` declarations in a body's code, braces
    counted (`static struct { ...; } x = { ... };`, Argument Clinic's
    _kwtuple, ends at its last `;`)."""
    start, depth = -1, 0
    for match in _STATIC_OR_BRACE_RE.finditer(code):
        token = match.group()
        if start < 0:
            if token == "static":
                start, depth = match.start(), 0
            continue
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:            # the body ended first: not a declaration
                start = -1
        elif token == ";" and depth == 0:
            yield start, match.end()
            start = -1


def without_static_declarations(code: str) -> str:
    """The code with each static declaration replaced by `;`."""
    pieces, done = [], 0
    for start, end in static_declarations(code):
        pieces += [code[done:start], ";"]
        done = end
    pieces.append(code[done:])
    return "".join(pieces)


_BRACED_RE = re.compile(r"\{[^{}]*\}")
_DECLARED_NAME_RE = re.compile(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*(?:=|;)")


def addressed_names(code: str) -> frozenset[str]:
    """The names whose address the code takes (`&x`, `&x.f`), initializers included."""
    return frozenset(m.group(1) for m in _ADDRESS_RE.finditer(code))


def static_names(code: str) -> frozenset[str]:
    """The names a body's static declarations declare (the last declarator
    of each)."""
    names = set()
    for start, end in static_declarations(code):
        declaration = code[start:end]
        while "{" in declaration:
            stripped = _BRACED_RE.sub("", declaration)
            if stripped == declaration:
                break
            declaration = stripped
        match = _DECLARED_NAME_RE.search(declaration)
        if match:
            names.add(match.group(1))
    return frozenset(names)



def write_contexts(tokens: BodyTokens) -> WriteContexts:
    # A static's own initializer (`static T x = {...};`) is not a write.
    code = without_static_declarations(tokens.code) if tokens.has_statics else tokens.code
    assigned = {m.group(1) for m in _WRITE_AFTER_RE.finditer(code)}
    assigned.update(m.group(2) for m in _UPDATE_BEFORE_RE.finditer(code))
    addressed = set(addressed_names(code))
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
                                         has_statics, declarator=text[start:body_open - 1])
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
                has_statics: bool, declarator: str = "") -> BodyTokens:
    code = STRING_RE.sub('""', _LINE_MARKER_LINE_RE.sub("", body) if "\n#" in body else body)
    # Set arithmetic over findall keeps the per-name work in C.  A name used
    # both plainly and as a member in one body loses its read (not a write).
    words = set(_NAME_RE.findall(code)) - _KEYWORDS
    calls = set(_CALL_RE.findall(code)) - _KEYWORDS
    members = set(_MEMBER_OR_TAG_RE.findall(code))
    names = words - calls - members
    # Every whole-word mention of a name is among the words or the members.
    handlers = not HANDLER_NAMES.isdisjoint(words) or not HANDLER_NAMES.isdisjoint(members)
    return BodyTokens(name=name, function=function, static=static, origin=origin, line=line,
                      calls=frozenset(calls), names=frozenset(names), mentions=frozenset(words),
                      has_statics=has_statics, installs_handlers=handlers,
                      code=code, declarator=declarator)


def parameter_names(declarator: str) -> tuple[str | None, ...] | None:
    """The names of a definition's parameters, in order (None for one with
    no plain name: a function pointer, an unnamed one); None when the
    declarator is not `... name(params)` (K&R, a function returning a
    function pointer)."""
    close = declarator.rfind(")")
    if close < 0 or declarator[close + 1:].strip():
        return None
    depth, index = 0, close
    while index >= 0:
        depth += {")": 1, "(": -1}.get(declarator[index], 0)
        if depth == 0:
            break
        index -= 1
    if index < 0 or declarator[:index].rstrip().endswith(")"):
        return None
    params, depth, start = [], 0, index + 1
    for position in range(index + 1, close + 1):
        char = declarator[position]
        if char in "([":
            depth += 1
        elif char in ")]" and position != close:
            depth -= 1
        if (char == "," and depth == 0) or position == close:
            params.append(declarator[start:position].strip())
            start = position + 1
    if params == ["void"] or params == [""]:
        return ()
    names: list[str | None] = []
    for param in params:
        if param == "...":
            break
        match = _PARAMETER_NAME_RE.search(param)
        names.append(match.group(1) if match and "(" not in param and match.start(1) > 0 else None)
    return tuple(names)


_PARAMETER_NAME_RE = re.compile(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*$")
_AFTER_NAME_RE = re.compile(r"(" + _CHAIN + r")(" + _ASSIGN + r")?")
_BEFORE_TRUTH_TEST = ("!", "==", "!=", "<", ">", "<=", ">=", "&&", "||")
_AFTER_TRUTH_TEST = ("==", "!=", "<", ">", "&&", "||", "?")


class Through(enum.Enum):
    """What a body does with the data a pointer parameter points to."""
    READ = "read"            # only reads through it
    WRITTEN = "written"      # writes through it
    PASSED = "passed"        # may write: passes it on, stores or returns it, takes its address


def through_parameter(tokens: BodyTokens, name: str) -> Through:
    """Whether a body reads through the pointer parameter `name`, writes
    through it (`p->f = v`, `p[i]++`, `*p = v`, a member given to one of
    BUFFER_WRITING_CALLS), or may (passes `p` on, stores or returns it,
    takes its address).  A read is a member or element read (`p->f`, `p[i]`;
    a member given to another call), a re-pointing (`p = ...`, `p++`), a
    comparison or a truth test.  A member that is itself a pointer into the
    data (`q = p->next; q->f = 1`, an array member given to the tree's own
    function) is not followed."""
    code = tokens.code
    passed = False
    for match in re.finditer(r"(?<![\w.>])" + re.escape(name) + r"\b", code):
        before = code[:match.start()].rstrip()
        after = _AFTER_NAME_RE.match(code, match.end())
        assert after is not None
        chain, assignment = after.group(1), after.group(2)
        through = bool(chain.strip().strip(")"))       # a member or an element
        if before.endswith("&") and not before.endswith("&&"):
            passed = True
            continue
        deref = before.endswith("*")      # a pointer is never multiplied: `*` before it dereferences
        if assignment:
            if through or deref:
                return Through.WRITTEN
            continue                                     # re-pointing the parameter
        if before.endswith(("++", "--")):
            if chain.lstrip().startswith(")"):           # (++p)->f: p is re-pointed, then read through
                continue
            if through:
                return Through.WRITTEN
            continue
        if through:
            rest = code[after.end():].lstrip()
            if rest[:1] in (",", ")") and _calling(code, match.start()) in BUFFER_WRITING_CALLS:
                return Through.WRITTEN
            continue
        if deref:
            continue                                     # `*p` read
        rest = code[match.end():].lstrip()
        if before.endswith(_BEFORE_TRUTH_TEST) or rest.startswith(_AFTER_TRUTH_TEST):
            continue
        if rest.startswith(")") and re.search(r"\b(?:if|while)\s*\($", before):
            continue
        passed = True
    return Through.PASSED if passed else Through.READ


_LOCK_CALL = r"\b(?:" + "|".join(sorted(LOCK_CALLS)) + r")\s*\(\s*&?\s*\(?\s*"


def locks_through(tokens: BodyTokens, name: str) -> bool:
    """Whether a body gives a member of the pointer parameter `name` to a
    lock call (`PyThread_acquire_lock(channels->mutex, ...)`): the data
    passed there holds its own lock."""
    return re.search(_LOCK_CALL + re.escape(name) + r"\s*->", tokens.code) is not None


def _calling(code: str, index: int) -> str | None:
    """The function whose argument list the text at index is in."""
    depth = 0
    position = index - 1
    while position >= 0:
        char = code[position]
        if char == ")":
            depth += 1
        elif char == "(":
            if depth == 0:
                match = re.search(r"([A-Za-z_]\w*)\s*$", code[max(0, position - 80):position])
                return match.group(1) if match else None
            depth -= 1
        elif char in ";{}" and depth == 0:
            return None
        position -= 1
    return None


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
                pieces.append(f'\n# {line} "{origin}"\n{_initializer_elided(text[pending:match.end()])}')
                pending = -1
            statement_start = match.end()
        elif token[0] not in "\"'" and pending < 0:
            pending, pending_depth = _skip_blanks(text, statement_start), depth
    origin, line = positions.at(end)
    pieces.append(f'\n# {line} "{origin}"\n')
    return pieces


_DECLARATION_TOKEN_RE = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'|[{}()=]')


def _initializer_elided(declaration: str) -> str:
    """A kept declaration with its brace initializer, if any, replaced by
    `{0}` (line positions kept), as a file-scope one is: what a function's
    static is initialized to is read from the body's tokens, and Argument
    Clinic's keyword tuples (`&_Py_ID(name)` per keyword) would otherwise be
    a third of the text pycparser reads."""
    if "{" not in declaration:
        return declaration
    depth = 0
    opened = -1
    after_equals = False
    for match in _DECLARATION_TOKEN_RE.finditer(declaration):
        token = match.group()
        if token in "({":
            if token == "{" and depth == 0 and after_equals:
                opened = match.end()
            depth += 1
        elif token in ")}":
            depth -= 1
            if depth == 0 and opened >= 0:
                interior = declaration[opened:match.start()]
                return declaration[:opened] + "0" + position_only(interior) + declaration[match.start():]
        elif token == "=" and depth == 0:
            after_equals = True
    return declaration


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
