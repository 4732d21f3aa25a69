"""Parse preprocessed C with pycparser, parsing identical text once.

A preprocessed unit is mostly header text that other units repeat.  It is cut
at file boundaries (the preprocessor's include markers) that lie between two
top-level declarations, into chunks that each come from one file.  A chunk
parses on its own once the parser knows which of its identifiers are typedef
names, so its result depends only on its text and on those names (and on
which of them name function types): the digest of the three is the chunk's
key.  A chunk's summary (what it adds to the typedef names, and the facts
extracted from it) is kept under that key for every later unit and run.

Before parsing, a chunk is compacted (see compact): data that names nothing is
dropped and blanks are folded, keeping every line position.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from pycparser import c_ast
from pycparser.c_parser import CParser, ParseError

from ..cpython.api import MAIN_INTERPRETER_TESTS
from ..cpython.families import watch_kind
from ..model import Body, ChunkFacts, GlobalVar
from .bodies import (
    LINEMARKER_RE,
    STRING_RE,
    BodySpan,
    BodyTokens,
    Positions,
    WriteContexts,
    elide_bodies,
    position_of,
    position_only,
    write_contexts,
)

# Markers that enter (flag 1) or return to (flag 2) a file.  Anchored on the
# preceding newline rather than ^ with re.M: a literal prefix searches fast.
# Possessive repeats: the same matches, but a line marker with other flags
# fails without backtracking through its path (four times faster).
_FILE_CHANGE_SPLIT_RE = re.compile(r'(\n)(# \d+ "([^"\\]*+(?:\\.[^"\\]*+)*+)" ([12])\b[^\n]*)')
INCLUDE_MARKER_RE = re.compile(r'\n# \d+ "([^"\\]*+(?:\\.[^"\\]*+)*+)" 1\b')
_SPACES_RE = re.compile(r"[ \t]+")
# GCC's labels as values (computed goto tables): `&&label` where an operand
# starts, and `goto *expr;`.
_LABEL_ADDRESS_RE = re.compile(r"(?<=[{,(=])(\s*)&&\s*[A-Za-z_]\w*")
_COMPUTED_GOTO_RE = re.compile(r"\bgoto\s*\*")
_IDENT_RE = re.compile(r"[A-Za-z_]\w*")


_TOP_TOKEN_RE = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'|[{};]')


def compact(text: str) -> tuple[str, tuple[BodySpan, ...]]:
    """Elide bodies and data that names nothing (bodies.elide_bodies) and fold
    runs of blanks: pycparser's lexer walks whitespace one character at a time."""
    elided = elide_bodies(text)
    return fold(elided.text), elided.spans


def fold(text: str) -> str:
    """Fold blanks; rewrite GCC's label addresses into what pycparser parses;
    empty long quoted text (see shorten_literals)."""
    text = _SPACES_RE.sub(" ", text)
    if '"' in text:
        text = _STRING_INITIALIZER_RE.sub(_emptied_initializer, text)
    if '"' in text or "'" in text:
        text = shorten_literals(text)
    if "&&" in text:
        text = _LABEL_ADDRESS_RE.sub(r"\1(void *)0", text)
    if "goto" in text:
        text = _COMPUTED_GOTO_RE.sub("(void)*", text)
    return text


# An initializer that is string literals only (`= "..." "...";`: a
# docstring): emptied, its line breaks kept; nothing reads their characters.
_STRING_INITIALIZER_RE = re.compile(r'(?<==)(\s*)("[^"\\\n]*(?:\\.[^"\\\n]*)*"(?:\s*"[^"\\\n]*(?:\\.[^"\\\n]*)*")*)'
                                    r'(?=\s*[;,])')


def _emptied_initializer(match: re.Match[str]) -> str:
    return match.group(1) + '""' + "\n" * match.group(2).count("\n")


# A string or character literal, or a quote that a line ends without closing.
_QUOTED_RE = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*("?)|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*(\'?)')
LONG_LITERAL = 1024
"""pycparser's lexer keeps some 850 bytes per character of a literal it
reads (a capturing group repeated per character): a literal longer than this
is emptied before it parses, as is a quote left open that long."""


def shorten_literals(text: str) -> str:
    """Empty the quoted text longer than LONG_LITERAL (`"..."` -> `""`, an open
    `"...` -> `"`): nothing the analysis reads is in a literal's characters."""
    pieces: list[str] = []
    done = 0
    for match in _QUOTED_RE.finditer(text):
        start, end = match.span()
        if end - start > LONG_LITERAL:
            quote = text[start]
            closed = bool(match.group(1) or match.group(2))
            pieces += [text[done:start], quote * 2 if closed else quote]
            done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


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
    parse with, and the facts extracted from it.  Depends only on the chunk's
    key, so it is kept across units and runs."""
    typedefs_added: frozenset[str]
    names_declared: frozenset[str]
    function_types_added: frozenset[str]
    facts: ChunkFacts


Extractor = Callable[[c_ast.FileAST, frozenset[str]], ChunkFacts]
"""(chunk AST, function-type typedef names usable in it) -> its facts"""


@dataclass(frozen=True, slots=True)
class BodyExtractors:
    parsed: Callable[[c_ast.FileAST], Body | None]     # AST of one function definition -> its Body
    tokens: Callable[[BodyTokens], Body | None]        # what a body's tokens say -> its Body


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
    first = LINEMARKER_RE.match(chunks[0].text)
    if first:
        chunks[0] = Chunk(text=chunks[0].text, origin=first.group(2))
    return [c for c in chunks if c.text], included


def _segment_info(segment: str) -> tuple[int, str]:
    """(change in bracket depth, last non-blank character outside line markers)."""
    body = LINEMARKER_RE.sub("", segment) if "\n# " in segment else segment
    body = STRING_RE.sub('""', body) if ("'" in body or '"' in body) else body
    depth = body.count("{") + body.count("(") - body.count("}") - body.count(")")
    return depth, body.rstrip()[-1:]


_COORD_RE = re.compile(r"^(?P<file>.*?):(?P<line>\d+)(?::(?P<col>\d+))?: (?P<msg>.*)$", re.S)


@dataclass
class ChunkCache:
    """Memo tables for one process: per segment, per raw chunk text, and chunk
    summaries by key (seeded from the persistent cache; `new` holds the ones
    this process made)."""
    segments: dict[str, tuple[int, str]] = field(default_factory=dict)
    elided: dict[str, tuple[str, tuple[BodySpan, ...]]] = field(default_factory=dict)
    identifiers: dict[str, frozenset[str]] = field(default_factory=dict)
    summaries: dict[str, ChunkSummary] = field(default_factory=dict)
    new: dict[str, ChunkSummary] = field(default_factory=dict)
    bodies: dict[str, Body | None] = field(default_factory=dict)     # fully parsed bodies, by key
    new_bodies: dict[str, Body | None] = field(default_factory=dict)
    token_bodies: dict[BodyTokens, Body | None] = field(default_factory=dict)
    contexts: dict[BodyTokens, WriteContexts] = field(default_factory=dict)    # write_contexts(), by body


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
        except (ParseError, RecursionError):
            high = middle
    start = ends[low - 1] if low else 0
    start += len(chunk.text[start:]) - len(chunk.text[start:].lstrip())
    origin, line = position_of(chunk.text, start)
    return ChunkParseError(origin or chunk.origin, line, 0, message)


def _top_level_ends(text: str) -> list[int]:
    """Offsets just after each ';' or '}' that ends a file-scope construct."""
    ends, depth = [], 0
    for match in _TOP_TOKEN_RE.finditer(text):
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


@dataclass(frozen=True, slots=True)
class BodyFailure:
    origin: str
    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class ParsedUnit:
    facts: tuple[ChunkFacts, ...]
    bodies: tuple[Body, ...]
    included: frozenset[str]     # every file the unit includes, as its line markers spell them
    body_failures: tuple[BodyFailure, ...] = ()
    skipped: tuple[BodyFailure, ...] = ()        # file-scope declarations left out (TOO_DEEP)
    definitions: dict[str, BodyTokens] = field(default_factory=dict)   # function name -> its body's tokens

    @property
    def globals(self) -> tuple[GlobalVar, ...]:
        return tuple(g for f in self.facts for g in f.globals)


def parse_unit(text: str, cache: ChunkCache, extract: Extractor, extract_body: BodyExtractors) -> ParsedUnit:
    """The facts of a preprocessed unit, chunk by chunk: each chunk is
    compacted, then its summary is taken from the cache or made by parsing and
    `extract`; then the bodies that may write a global of the unit (see
    bodies.py) are parsed in full and read by `extract_body.parsed`; the
    others are read from their tokens by `extract_body.tokens`.
    Raises ChunkParseError when a chunk does not parse; a body that does not
    parse is reported in body_failures and keeps what its tokens say."""
    typedefs: frozenset[str] = frozenset()
    function_types: frozenset[str] = frozenset()
    watched: set[str] = set()
    arrays: set[str] = set()
    objects: set[str] = set()
    found: list[ChunkFacts] = []
    found_bodies: list[Body] = []
    failures: list[BodyFailure] = []
    skipped: list[BodyFailure] = []
    definitions: dict[str, BodyTokens] = {}
    chunks, included = split_chunks(text, cache)
    for raw in chunks:
        elided = cache.elided.get(raw.text)
        if elided is None:
            elided = cache.elided[raw.text] = compact(raw.text)
        compacted, spans = elided
        identifiers = cache.identifiers.get(compacted)
        if identifiers is None:
            identifiers = cache.identifiers[compacted] = frozenset(_IDENT_RE.findall(compacted))
        relevant, relevant_functions = identifiers & typedefs, identifiers & function_types
        key = chunk_key(compacted, relevant, relevant_functions)
        summary = cache.summaries.get(key)
        if summary is None:
            chunk = Chunk(text=compacted, origin=raw.origin)
            try:
                summary = _summarize(chunk, relevant, relevant_functions, extract)
                cache.summaries[key] = cache.new[key] = summary
            except RecursionError:
                # Not kept: a unit that has this chunk reports what was left out each time.
                summary, left_out = _summarize_shallow(chunk, relevant, relevant_functions, extract)
                skipped.extend(left_out)
        if summary.typedefs_added or summary.names_declared:
            typedefs = (typedefs | summary.typedefs_added) - summary.names_declared
        if summary.function_types_added:
            function_types = function_types | summary.function_types_added
        facts = summary.facts
        watched.update(facts.watched)
        arrays.update(facts.arrays)
        objects.update(facts.objects)
        local = _local_statics(facts.globals) if spans else {}
        wanted = [span for span in spans if span.tokens.function and (
            span.tokens.name is None or _may_write_globals(span.tokens, cache, watched, arrays, objects)
            or _may_write_globals(span.tokens, cache, *local.get(span.tokens.name, _NO_STATICS)))]
        parsed_bodies = _parse_bodies(raw, wanted, typedefs, function_types, cache, extract_body.parsed, failures) \
            if wanted else {}
        for span in spans:
            if span.tokens.function and span.tokens.name is not None:
                definitions[span.tokens.name] = span.tokens
            body = parsed_bodies.get(span.start)
            if body is None:
                if span.tokens not in cache.token_bodies:
                    cache.token_bodies[span.tokens] = extract_body.tokens(span.tokens)
                body = cache.token_bodies[span.tokens]
            if body is not None:
                found_bodies.append(body)
        found.append(facts)
    return ParsedUnit(facts=tuple(found), bodies=tuple(found_bodies), included=included,
                      body_failures=tuple(failures), skipped=tuple(skipped), definitions=definitions)


TOO_DEEP = "nesting too deep for the parser"


def _summarize(chunk: Chunk, relevant: frozenset[str], relevant_functions: frozenset[str],
               extract: Extractor) -> ChunkSummary:
    parsed = parse_chunk(chunk, relevant, relevant_functions)
    return ChunkSummary(typedefs_added=parsed.typedefs_added, names_declared=parsed.names_declared,
                        function_types_added=parsed.function_types_added,
                        facts=extract(parsed.ast, parsed.function_types))


_MAX_LEFT_OUT = 16


def _summarize_shallow(chunk: Chunk, relevant: frozenset[str], relevant_functions: frozenset[str],
                       extract: Extractor) -> tuple[ChunkSummary, list[BodyFailure]]:
    """The summary of a chunk that is too deeply nested to parse (or to walk)
    whole: the file-scope declarations that are (found by bisection, as in
    _located) are left out, keeping line positions, and each is reported.
    Raises ChunkParseError when that does not help."""
    text, left_out = chunk.text, []
    for _ in range(_MAX_LEFT_OUT):
        ends = _top_level_ends(text) + [len(text)]
        low, high = 0, len(ends) - 1
        while low < high:
            middle = (low + high) // 2
            try:
                _summarize(Chunk(text=text[:ends[middle]], origin=chunk.origin), relevant, relevant_functions,
                           extract)
                low = middle + 1
            except RecursionError:
                high = middle
            except ChunkParseError:
                low = middle + 1
        start = ends[low - 1] if low else 0
        start += len(text[start:ends[low]]) - len(text[start:ends[low]].lstrip())
        origin, line = position_of(text, start)
        left_out.append(BodyFailure(origin=origin or chunk.origin, line=line, column=0, message=TOO_DEEP))
        text = text[:start] + position_only(text[start:ends[low]]) + text[ends[low]:]
        try:
            return _summarize(Chunk(text=text, origin=chunk.origin), relevant, relevant_functions,
                              extract), left_out
        except RecursionError:
            continue
    origin, line = position_of(chunk.text, 0)
    raise ChunkParseError(origin or chunk.origin, line, 0, TOO_DEEP)


_NO_STATICS: tuple[set[str], set[str], set[str]] = (set(), set(), set())


def _local_statics(globals_: tuple[GlobalVar, ...]) -> dict[str, tuple[set[str], set[str], set[str]]]:
    """Per function, its writable statics: (watched, arrays, objects)."""
    found: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for var in globals_:
        if var.func is None:
            continue
        kind = watch_kind(const=var.const, family=var.family, array=var.ctype.is_array)
        if kind is not None:
            sets = found.setdefault(var.func, (set(), set(), set()))
            sets[("watched", "arrays", "objects").index(kind)].add(var.name)
    return found


def _may_write_globals(tokens: BodyTokens, cache: ChunkCache, watched: set[str], arrays: set[str],
                       objects: set[str]) -> bool:
    """Whether a body may write a writable global of the unit: objects count
    as written only by member writes and by the generic mutating API."""
    if tokens.installs_handlers or not tokens.calls.isdisjoint(MAIN_INTERPRETER_TESTS):
        return True
    mentions = tokens.mentions
    if watched.isdisjoint(mentions) and objects.isdisjoint(mentions) and arrays.isdisjoint(mentions):
        return False
    contexts = cache.contexts.get(tokens)
    if contexts is None:
        contexts = cache.contexts[tokens] = write_contexts(tokens)
    return (not watched.isdisjoint(contexts.writes) or not objects.isdisjoint(contexts.assigned)
            or not objects.isdisjoint(contexts.readied) or not arrays.isdisjoint(contexts.writes)
            or not arrays.isdisjoint(contexts.decayed))


def _parse_bodies(raw: Chunk, spans: list[BodySpan], typedefs: frozenset[str], function_types: frozenset[str],
                  cache: ChunkCache, extract_body: Callable[[c_ast.FileAST], Body | None],
                  failures: list[BodyFailure]) -> dict[int, Body]:
    """Parse function definitions on their own, each after a line marker for
    its position; their bodies by the offset of their span."""
    positions = Positions(raw.text)
    found: dict[int, Body] = {}
    for span in spans:
        origin, line = positions.at(span.start)
        snippet = fold(f'# {line} "{origin}"\n{raw.text[span.start:span.end]}')
        identifiers = frozenset(_IDENT_RE.findall(snippet))
        relevant, relevant_functions = identifiers & typedefs, identifiers & function_types
        key = "body:" + chunk_key(snippet, relevant, relevant_functions)
        if key in cache.bodies:
            body = cache.bodies[key]
        else:
            try:
                parsed = parse_chunk(Chunk(text=snippet, origin=origin), relevant, relevant_functions)
                body = extract_body(parsed.ast)
            except ChunkParseError as exc:
                failures.append(BodyFailure(origin=exc.origin, line=exc.line, column=exc.column,
                                            message=exc.message))
                continue
            except RecursionError:
                text = raw.text[span.start:span.end]
                first = line + text[:len(text) - len(text.lstrip())].count("\n")     # the definition's line
                failures.append(BodyFailure(origin=origin, line=first, column=0, message=TOO_DEEP))
                continue
            cache.bodies[key] = cache.new_bodies[key] = body
        if body is not None:
            found[span.start] = body
    return found
