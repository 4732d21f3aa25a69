"""Parse preprocessed C with pycparser, parsing identical text once.

A preprocessed unit is mostly header text that other units repeat.  It is cut
at file boundaries (the preprocessor's include markers) that lie between two
top-level declarations, into chunks that each come from one file.  A chunk
parses on its own once the parser knows which of its identifiers are typedef
names, so its result depends only on its text and on those names (and on
which of them name function types): the digest of the three is the chunk's
key.  A chunk's summary (what it adds to the typedef names, and the globals
extracted from it) is kept under that key for every later unit and run.

Before parsing, a chunk is compacted (see compact): what extraction does not
need is dropped, keeping every line position.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from pycparser import c_ast
from pycparser.c_parser import CParser, ParseError

from .model import GlobalVar

_LINEMARKER_RE = re.compile(r'^# (\d+) "((?:[^"\\]|\\.)*)"[^\n]*$', re.M)
# Markers that enter (flag 1) or return to (flag 2) a file.  Anchored on the
# preceding newline rather than ^ with re.M: a literal prefix searches fast.
_FILE_CHANGE_SPLIT_RE = re.compile(r'(\n)(# \d+ "((?:[^"\\]|\\.)*)" ([12])\b[^\n]*)')
INCLUDE_MARKER_RE = re.compile(r'\n# \d+ "((?:[^"\\]|\\.)*)" 1\b')
_SPACES_RE = re.compile(r"[ \t]+")
# GCC's labels as values (computed goto tables): `&&label` where an operand
# starts, and `goto *expr;`.
_LABEL_ADDRESS_RE = re.compile(r"(?<=[{,(=])(\s*)&&\s*[A-Za-z_]\w*")
_COMPUTED_GOTO_RE = re.compile(r"\bgoto\s*\*")
_LITERAL_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_IDENT_RE = re.compile(r"[A-Za-z_]\w*")
_LAST_TOKEN_RE = re.compile(r"(\S)\s*\Z")


_BRACE_TOKEN_RE = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|[{}]|\b(?:static|_Thread_local)\b')
_BODY_TOKEN_RE = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|[{};]|\b(?:static|_Thread_local|typedef)\b')


def elide_bodies(text: str) -> str:
    """Drop what extraction does not need, keeping every line position (by
    newlines or line markers), so later coordinates are unchanged:
    - definitions of functions whose body declares no static or thread-local
      variable go entirely;
    - the other bodies keep only their static, thread-local and typedef
      declarations;
    - file-scope brace initializers become `{0}`."""
    if "{" not in text:
        return text
    positions = _Positions(text)
    pieces: list[str] = []
    done = 0
    depth = 0
    last_close = 0          # just after the last file-scope '}'
    start = -1              # where the elidable text begins
    is_body = keep = False
    body_open = 0
    for match in _BRACE_TOKEN_RE.finditer(text):
        token = match.group()
        if token == "{":
            if depth == 0:
                before = _previous_char(text, match.start())
                if before == ")":
                    # The definition starts after the last file-scope ';' or '}'.
                    start = max(last_close, text.rfind(";", last_close, match.start()) + 1)
                    is_body, keep, body_open = True, False, match.end()
                elif before == "=":
                    start, is_body = match.end(), False
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                if start >= 0 and is_body:
                    pieces.append(text[done:start])
                    if keep:
                        pieces.append(text[start:body_open])
                        pieces.extend(_kept_declarations(text, body_open, match.start(), positions))
                        done = match.start()
                    else:
                        pieces.append(_position_only(text[start:match.end()]))
                        done = match.end()
                elif start >= 0:
                    pieces.append(text[done:start])
                    pieces.append("0" + _position_only(text[start:match.start()]))
                    done = match.start()
                start = -1
                last_close = match.end()
        elif token[0] not in "\"'" and is_body and depth > 0:
            keep = True
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _kept_declarations(text: str, begin: int, end: int, positions: _Positions) -> list[str]:
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


class _Positions:
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
        for marker in _LINEMARKER_RE.finditer(text, self._index, index):
            self._line += text.count("\n", start, marker.start())
            self._origin, self._line = marker.group(2), int(marker.group(1)) - 1
            start = marker.start()
        self._line += text.count("\n", start, index)
        self._index = index
        return self._origin, self._line


def _skip_blanks(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\n":
        index += 1
    return index


def _previous_char(text: str, index: int) -> str:
    index -= 1
    while index >= 0 and text[index] in " \t\n":
        index -= 1
    return text[index] if index >= 0 else ""


def _position_only(interior: str) -> str:
    """Text that leaves the lexer where `interior` would: its newlines, or,
    when it holds line markers, one marker for the position after it."""
    origin, line = position_of(interior, len(interior))
    if not origin:
        return "\n" * interior.count("\n")
    return f'\n# {line} "{origin}"\n'


def compact(text: str) -> str:
    """Elide what extraction does not need and fold runs of blanks: pycparser's
    lexer walks whitespace one character at a time."""
    text = _SPACES_RE.sub(" ", elide_bodies(text))
    if "&&" in text:
        text = _LABEL_ADDRESS_RE.sub(r"\1(void *)0", text)
    if "goto" in text:
        text = _COMPUTED_GOTO_RE.sub("(void)*", text)
    return text


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive preprocessed text that starts with a line marker."""
    text: str
    origin: str           # the file the first line marker names


@dataclass(frozen=True, slots=True)
class ParsedChunk:
    ast: c_ast.FileAST
    typedefs_added: frozenset[str]
    names_declared: frozenset[str]       # file-scope identifiers that shadow a typedef
    function_types: frozenset[str]       # typedef names of function types usable in the chunk
    function_types_added: frozenset[str]


@dataclass(frozen=True, slots=True)
class ChunkSummary:
    """What a parsed chunk leaves behind: its effect on the names later chunks
    parse with, and the globals extracted from it.  Depends only on the chunk's
    key, so it is kept across units and runs."""
    typedefs_added: frozenset[str]
    names_declared: frozenset[str]
    function_types_added: frozenset[str]
    globals: tuple[GlobalVar, ...]


Extractor = Callable[[c_ast.FileAST, frozenset[str]], tuple[GlobalVar, ...]]
"""(chunk AST, function-type typedef names usable in it) -> its globals"""


class ChunkParseError(Exception):
    def __init__(self, origin: str, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.origin = origin
        self.line = line
        self.column = column
        self.message = message


def split_chunks(text: str, cache: ChunkCache) -> tuple[list[Chunk], frozenset[str]]:
    """Cut preprocessed text at line markers that sit between top-level
    declarations (text between other markers stays in the enclosing chunk);
    also return the paths of every file the text includes."""
    # [text, newline, marker line, path, flag, text, newline, marker line, ...]
    parts = _FILE_CHANGE_SPLIT_RE.split(text)
    included = frozenset(parts[i + 2] for i in range(1, len(parts), 5) if parts[i + 3] == "1")
    segments = cache.segments
    pieces: list[str] = []
    chunks: list[Chunk] = []
    origin = ""
    depth = 0
    last_token = ";"
    for index in range(0, len(parts), 5):
        segment = parts[index]
        info = segments.get(segment)
        if info is None:
            info = segments[segment] = _segment_info(segment)
        depth += info[0]
        last_token = info[1] or last_token
        pieces.append(segment)
        if index + 1 == len(parts):
            break
        pieces.append("\n")
        if depth == 0 and last_token in ";}":
            chunks.append(Chunk(text="".join(pieces), origin=origin))
            pieces = []
            origin = parts[index + 3]
        pieces.append(parts[index + 2])
    chunks.append(Chunk(text="".join(pieces), origin=origin))
    first = _LINEMARKER_RE.match(chunks[0].text)
    if first:
        chunks[0] = Chunk(text=chunks[0].text, origin=first.group(2))
    return [c for c in chunks if c.text], included


def _segment_info(segment: str) -> tuple[int, str]:
    """(change in bracket depth, last non-blank character outside line markers)."""
    body = _LINEMARKER_RE.sub("", segment) if "\n# " in segment else segment
    body = _LITERAL_RE.sub('""', body) if ("'" in body or '"' in body) else body
    depth = body.count("{") + body.count("(") - body.count("}") - body.count(")")
    token = _LAST_TOKEN_RE.search(body)
    return depth, token.group(1) if token else ""


_COORD_RE = re.compile(r"^(?P<file>.*?):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<msg>.*)$", re.S)


@dataclass
class ChunkCache:
    """Memo tables for one process: per segment, per raw chunk text, and chunk
    summaries by key (seeded from the persistent cache; `new` holds the ones
    this process made)."""
    segments: dict[str, tuple[int, str]] = field(default_factory=dict)
    elided: dict[str, str] = field(default_factory=dict)
    identifiers: dict[str, frozenset[str]] = field(default_factory=dict)
    summaries: dict[str, ChunkSummary] = field(default_factory=dict)
    new: dict[str, ChunkSummary] = field(default_factory=dict)


def chunk_key(text: str, relevant: frozenset[str], relevant_functions: frozenset[str]) -> str:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=20)
    digest.update(("\0".join(sorted(relevant)) + "\1" + "\0".join(sorted(relevant_functions))).encode())
    return digest.hexdigest()


def parse_chunk(chunk: Chunk, relevant: frozenset[str],
                relevant_functions: frozenset[str] = frozenset()) -> ParsedChunk:
    """Parse a chunk given the typedef names it uses, and among them the names
    of function types (`static F f;` declares a function, not a variable)."""
    # The parser learns typedef names only from declarations, so the chunk is
    # preceded by one that declares those it uses; that node is dropped again.
    prelude = f"typedef int {', '.join(sorted(relevant))};\n" if relevant else ""
    try:
        ast = CParser().parse(prelude + chunk.text, chunk.origin)
    except ParseError as exc:
        raise _located(exc, chunk, prelude) from None
    if prelude:
        ast.ext = ast.ext[len(relevant):]
    added = frozenset(node.name for node in ast.ext if isinstance(node, c_ast.Typedef))
    declared = frozenset(node.name for node in ast.ext
                         if isinstance(node, c_ast.Decl) and node.name and node.name in relevant)
    functions = set(relevant_functions)
    for node in ast.ext:
        if isinstance(node, c_ast.Typedef) and names_function_type(node.type, functions):
            functions.add(node.name)
    return ParsedChunk(ast=ast, typedefs_added=added - relevant, names_declared=declared,
                       function_types=frozenset(functions),
                       function_types_added=frozenset(functions) - relevant_functions)


def names_function_type(node: c_ast.Node, function_types: Collection[str]) -> bool:
    """Whether a declarator's type is a function type, spelled out or through
    one of the function-type typedef names."""
    if isinstance(node, c_ast.FuncDecl):
        return True
    return (isinstance(node, c_ast.TypeDecl) and isinstance(node.type, c_ast.IdentifierType)
            and len(node.type.names) == 1 and node.type.names[0] in function_types)


def _located(exc: ParseError, chunk: Chunk, prelude: str) -> ChunkParseError:
    match = _COORD_RE.match(str(exc))
    if match and int(match["line"]):
        return ChunkParseError(match["file"], int(match["line"]), int(match["col"] or 0), match["msg"])
    message = match["msg"] if match else str(exc).split(": ", 1)[-1]
    # pycparser gave no line: find the first top-level declaration that fails.
    ends = _top_level_ends(chunk.text) + [len(chunk.text)]
    low, high = 0, len(ends) - 1
    while low < high:
        middle = (low + high) // 2
        try:
            CParser().parse(prelude + chunk.text[:ends[middle]], chunk.origin)
            low = middle + 1
        except ParseError:
            high = middle
    start = ends[low - 1] if low else 0
    start += len(chunk.text[start:]) - len(chunk.text[start:].lstrip())
    origin, line = position_of(chunk.text, start)
    return ChunkParseError(origin or chunk.origin, line, 0, message)


def _top_level_ends(text: str) -> list[int]:
    """Offsets just after each ';' or '}' that ends a file-scope construct."""
    ends, depth = [], 0
    for match in _BODY_TOKEN_RE.finditer(text):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                ends.append(match.end())
        elif token == ";" and depth == 0:
            ends.append(match.end())
    return ends


def position_of(text: str, index: int) -> tuple[str, int]:
    """(file, line) that a line-marked text assigns to the character at index."""
    return _Positions(text).at(index)


@dataclass(frozen=True, slots=True)
class ParsedUnit:
    globals: tuple[GlobalVar, ...]
    included: frozenset[str]     # every file the unit includes, as its line markers spell them


def parse_unit(text: str, cache: ChunkCache, extract: Extractor) -> ParsedUnit:
    """The globals of a preprocessed unit: each chunk is compacted, then its
    summary is taken from the cache or made by parsing and `extract`.
    Raises ChunkParseError."""
    typedefs: frozenset[str] = frozenset()
    function_types: frozenset[str] = frozenset()
    found: list[GlobalVar] = []
    chunks, included = split_chunks(text, cache)
    for raw in chunks:
        compacted = cache.elided.get(raw.text)
        if compacted is None:
            compacted = cache.elided[raw.text] = compact(raw.text)
        identifiers = cache.identifiers.get(compacted)
        if identifiers is None:
            identifiers = cache.identifiers[compacted] = frozenset(_IDENT_RE.findall(compacted))
        relevant, relevant_functions = identifiers & typedefs, identifiers & function_types
        key = chunk_key(compacted, relevant, relevant_functions)
        summary = cache.summaries.get(key)
        if summary is None:
            parsed = parse_chunk(Chunk(text=compacted, origin=raw.origin), relevant, relevant_functions)
            summary = cache.summaries[key] = cache.new[key] = ChunkSummary(
                typedefs_added=parsed.typedefs_added, names_declared=parsed.names_declared,
                function_types_added=parsed.function_types_added,
                globals=extract(parsed.ast, parsed.function_types))
        if summary.typedefs_added or summary.names_declared:
            typedefs = (typedefs | summary.typedefs_added) - summary.names_declared
        if summary.function_types_added:
            function_types = function_types | summary.function_types_added
        found.extend(summary.globals)
    return ParsedUnit(globals=tuple(found), included=included)
