"""Scan a tree: run preprocess -> parse -> extract on every unit, in parallel,
reusing cached results for units whose files did not change, and link the
units' results (link.py)."""
from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pycparser import c_ast

from .. import codes
from ..codes import Code
from ..frontend import parse
from ..frontend.checkout import SourceLines, TreeError
from ..frontend.extract import extract_globals, path_relativizer
from ..frontend.preprocess import (
    DEFAULT_TIMEOUT,
    Environment,
    Preprocessed,
    PreprocessFailure,
    file_kind,
    preprocess,
)
from ..frontend.resolve import UnitDeclarations, resolve_unit
from ..frontend.sites import collect_sites, function_sites, token_sites
from ..model import (
    ChunkFacts,
    Diagnostic,
    Prototype,
    ScanResult,
    SourceUnit,
    Tree,
    UnitResult,
)
from .cache import (
    CachedUnit,
    CacheFile,
    LazyTable,
    Packed,
    pack_body,
    pack_chunk,
    stored_hashes,
    unpack_body,
    unpack_chunk,
)
from .checkout import Checkout, open_checkout
from .discovery import library_files
from .files import FileHashes
from .fingerprint import fingerprint
from .link import diagnostic_order, link_units
from .memory import collector_paused
from .pool import Lost, Supervised

Progress = Callable[[int, int], None]
"""(units done, units total)"""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOptions:
    jobs: int = 0                     # 0: one per CPU
    cache_dir: str | None = None      # None: no persistent cache
    only: tuple[str, ...] = ()        # restrict to these unit paths
    focus: frozenset[str] | None = None   # keep only the uses of globals declared in these files
    unit_timeout: float = DEFAULT_TIMEOUT     # seconds per unit (0: none); past it a unit-timeout diagnostic


@dataclass
class UnitContext:
    """What one process needs to analyze units; its memo tables grow as it works."""
    env: Environment
    function_macros: frozenset[str]
    keep_chunks: bool = False    # hand new chunk summaries back, for the persistent cache
    unit_timeout: float = DEFAULT_TIMEOUT
    chunks: parse.ChunkCache = field(default_factory=parse.ChunkCache)
    preprocessed: dict[str, Preprocessed | PreprocessFailure] = field(default_factory=dict)   # by unit path

    def __post_init__(self) -> None:
        self.relative = path_relativizer(self.env.tree.root)
        self.source_line = SourceLines(self.env.tree.root)

    def extract(self, ast: Any, function_types: frozenset[str]) -> ChunkFacts:
        sites = collect_sites(ast, self.relative)
        return ChunkFacts(
            globals=tuple(extract_globals(ast, self.relative, self.function_macros, self.source_line,
                                          function_types)),
            variables=frozenset(sites.variables), watched=frozenset(sites.watched),
            arrays=frozenset(sites.arrays), objects=frozenset(sites.objects),
            prototypes=tuple(sorted(sites.prototypes.items())),
            static_functions=frozenset(sites.static_functions))

    @property
    def extract_body(self) -> parse.BodyExtractors:
        return parse.BodyExtractors(parsed=lambda ast: function_sites(ast, self.relative),
                                    tokens=lambda tokens: token_sites(tokens, self.relative))

    def take_new_chunks(self) -> dict[str, Packed]:
        new, self.chunks.new = self.chunks.new, {}
        bodies, self.chunks.new_bodies = self.chunks.new_bodies, {}
        if not self.keep_chunks:
            return {}
        packed = {key: pack_chunk(summary) for key, summary in new.items()}
        packed.update((key, pack_body(body)) for key, body in bodies.items())
        return packed

    def seed(self, packed: dict[str, Packed]) -> None:
        """Take chunk and body summaries from the persistent cache (unpacked when used)."""
        bodies = {key: value for key, value in packed.items() if key.startswith("body:")}
        summaries = {key: value for key, value in packed.items() if not key.startswith("body:")}
        self.chunks.bodies = LazyTable(bodies, unpack_body)
        self.chunks.summaries = LazyTable(summaries, unpack_chunk)


def analyze_unit(ctx: UnitContext, unit: SourceUnit) -> UnitResult:
    pre = ctx.preprocessed.pop(unit.path, None) or preprocess(ctx.env, unit, ctx.unit_timeout or DEFAULT_TIMEOUT)
    if not isinstance(pre, Preprocessed):
        return UnitResult(unit=unit.path, diagnostics=(pre.diagnostic,), failed=True)
    try:
        parsed = parse.parse_unit(pre.text, ctx.chunks, ctx.extract, ctx.extract_body)
    except parse.ChunkParseError as exc:
        where = ctx.relative(exc.origin) or unit.path
        _, included = parse.split_chunks(pre.text, ctx.chunks)
        return UnitResult(unit=unit.path, depends_on=_dependencies(ctx, unit, included), failed=True,
                          diagnostics=(Diagnostic(
                              code=codes.NESTING_TOO_DEEP if exc.message == parse.TOO_DEEP else codes.PARSE_ERROR,
                              file=where, line=exc.line, column=exc.column, detail=exc.message, unit=unit.path),))
    globals_ = parsed.globals
    resolved = resolve_unit(parsed.bodies, _declarations(parsed.facts), globals_, parsed.definitions)
    diagnostics = tuple(Diagnostic(code=code, file=ctx.relative(f.origin) or unit.path, line=f.line,
                                   column=f.column, detail=f.message, unit=unit.path)
                        for code, failures in ((codes.BODY_PARSE_ERROR, parsed.body_failures),
                                               (codes.NESTING_TOO_DEEP, parsed.skipped)) for f in failures)
    return UnitResult(unit=unit.path, globals=globals_, uses=resolved.uses, functions=resolved.functions,
                      initializers=resolved.initializers, diagnostics=diagnostics, failed=bool(diagnostics),
                      depends_on=_dependencies(ctx, unit, parsed.included))


def _declarations(facts: tuple[ChunkFacts, ...]) -> UnitDeclarations:
    prototypes: dict[str, Prototype] = {}
    for chunk in facts:
        for name, prototype in chunk.prototypes:
            prototypes.setdefault(name, prototype)
    return UnitDeclarations(
        variables=frozenset().union(*(f.variables for f in facts)), prototypes=prototypes,
        static_functions=frozenset().union(*(f.static_functions for f in facts)))


def _dependencies(ctx: UnitContext, unit: SourceUnit, included: frozenset[str]) -> tuple[str, ...]:
    """The unit and every tree file it includes: what its cache entry depends on."""
    files = {ctx.relative(path) for path in included}
    return tuple(sorted({unit.path, *(f for f in files if f is not None)}))


def _safe_analyze(ctx: UnitContext, unit: SourceUnit) -> UnitResult:
    code = codes.INTERNAL_ERROR
    try:
        with _deadline(ctx.unit_timeout), _recursion_limit(RECURSION_LIMIT):
            return analyze_unit(ctx, unit)
    except UnitTimeout:
        code, detail = codes.UNIT_TIMEOUT, f"not analyzed within {ctx.unit_timeout:g} s"
    except RecursionError:
        detail = "nesting too deep for the parser"
    except MemoryError:
        code, detail = codes.TOO_LARGE, "out of memory"
    except Exception as exc:  # one unit's crash must not lose the others' results
        detail = f"{type(exc).__name__}: {exc}"
    return _failed(unit, code, detail)


def _failed(unit: SourceUnit, code: Code, detail: str) -> UnitResult:
    return UnitResult(unit=unit.path, failed=True, diagnostics=(Diagnostic(
        code=code, file=unit.path, line=0, column=0, detail=detail, unit=unit.path),))


RECURSION_LIMIT = 20_000
"""pycparser's parser and visitors recurse about eight Python frames per
nesting level: 1,000 frames are 120 parentheses.  Python 3.11 runs a Python
call without a C frame, so this many frames need no bigger C stack; nothing
the analysis recurses through in C (pickle, repr) is as deep as the AST."""


@contextlib.contextmanager
def _recursion_limit(frames: int) -> Iterator[None]:
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, frames))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


class UnitTimeout(Exception):
    """A unit's time is up (raised by the SIGALRM handler of _deadline)."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise UnitTimeout in the block after `seconds` (0: never).  Only the main
    thread gets signals: elsewhere the block runs unlimited but for gcc's own
    limit (and, in pool workers, the supervising parent's)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise UnitTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


WORKER_MEMORY_BYTES = 8 << 30
"""Address space a pool worker may use: past it the unit fails with a
MemoryError of its own rather than the OOM killer choosing a process."""

Outcome = tuple[UnitResult, dict[str, Packed]]


def _lost(unit: SourceUnit, why: Lost) -> Outcome:
    return _failed(unit, why.code, why.detail), {}


def _run_units(ctx: UnitContext, units: list[SourceUnit], jobs: int,
               progress: Progress | None, done: int, total: int) -> Iterable[Outcome]:
    # Biggest first, so no worker is left with a large file at the end.
    root = Path(ctx.env.tree.root)
    units = sorted(units, key=lambda u: -_size(root / u.path))
    if jobs <= 1 or len(units) <= 1:
        for unit in units:
            yield _safe_analyze(ctx, unit), ctx.take_new_chunks()
            done += 1
            if progress:
                progress(done, total)
        return
    # Warm the chunk memo on one unit first: forked workers inherit it, so the
    # headers every unit shares are parsed once, not once per worker.
    first, rest = units[0], units[1:]
    with _preprocessing_ahead(ctx, rest):
        outcome = _safe_analyze(ctx, first), ctx.take_new_chunks()
    yield outcome
    done += 1
    if progress:
        progress(done, total)
    def work(unit: SourceUnit) -> Outcome:     # in a forked worker, which has its own copy of ctx
        return _safe_analyze(ctx, unit), ctx.take_new_chunks()

    for result in Supervised(work, rest, jobs, ctx.unit_timeout, _lost, WORKER_MEMORY_BYTES).results():
        yield result
        done += 1
        if progress:
            progress(done, total)


@contextlib.contextmanager
def _preprocessing_ahead(ctx: UnitContext, units: list[SourceUnit]) -> Iterator[None]:
    """While the block runs (one unit analyzed alone, the other CPUs idle),
    run gcc on the next units in a thread, in order, into ctx.preprocessed;
    the workers forked afterwards inherit what it finished.  The thread is
    joined before the block is left: no thread may run across a fork."""
    stop = threading.Event()

    def run() -> None:
        held = 0
        for unit in units:
            if stop.is_set() or held > _AHEAD_BYTES:
                return
            pre = ctx.preprocessed[unit.path] = preprocess(ctx.env, unit, ctx.unit_timeout or DEFAULT_TIMEOUT)
            held += len(pre.text) if isinstance(pre, Preprocessed) else 0

    thread = threading.Thread(target=run, name="cglobals-preprocess", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


_AHEAD_BYTES = 64 << 20
"""The most preprocessed text run ahead (a slow first unit must not have the
whole tree's held in the parent, and copied into every worker)."""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class OptionError(Exception):
    """Scan options that cannot be used; the message says which and why."""


def scan(path: str | Checkout, options: ScanOptions = ScanOptions(),
         progress: Progress | None = None) -> ScanResult:
    """`path`: a tree, or a checkout of one already opened (open_checkout).
    Raises frontend.checkout.TreeError when `path` is not a usable CPython tree,
    OptionError when an option cannot be used (before any unit is analyzed)."""
    if options.jobs < 0:
        raise OptionError(f"{options.jobs} worker processes")
    checkout = open_checkout(path) if isinstance(path, str) else path
    tree, units = checkout.tree, checkout.units
    refused: tuple[Diagnostic, ...] = ()
    if options.only:
        wanted = set(options.only)
        missing = sorted(wanted - {unit.path for unit in units})
        refused = _not_files(tree, missing)
        unknown = sorted(set(missing) - {d.file for d in refused})
        if unknown:
            raise OptionError(f"no translation unit of {tree.root} is {', '.join(unknown)} (a unit is a tree-relative "
                              "path of a .c file the default build compiles)")
        units = tuple(u for u in units if u.path in wanted)
    if options.cache_dir:
        _check_cache_dir(options.cache_dir)
    with contextlib.ExitStack() as stack:
        work_dir = options.cache_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="cglobals-"))
        try:
            result = _scan_units(checkout, units, options, work_dir, progress)
        except OSError as exc:
            if options.cache_dir and _inside(exc.filename, work_dir):
                raise OptionError(f"{work_dir}: cannot use the cache directory: {exc.strerror or exc} "
                                  f"({exc.filename})") from None
            if _inside(exc.filename, tree.root):
                raise TreeError(f"{exc.filename}: cannot read it: {exc.strerror or exc}") from None
            raise
    result = replace(result, library_files=library_files(tree.root, {g.file for g in result.globals if not g.const}))
    if not refused:
        return result
    return replace(result, diagnostics=tuple(sorted(result.diagnostics + refused, key=diagnostic_order)),
                   failed_units=tuple(sorted(result.failed_units + tuple(d.unit for d in refused))))


def _not_files(tree: Tree, paths: list[str]) -> tuple[Diagnostic, ...]:
    """For the --only paths that are not units because something other than a
    regular file is there (a directory, a FIFO, a broken link): why each was
    not analyzed.  A path with nothing there is simply not a unit."""
    found = []
    for path in paths:
        full = Path(tree.root) / path
        try:
            full.lstat()
        except (OSError, ValueError):
            continue
        try:
            mode = full.stat().st_mode
            detail = None if stat.S_ISREG(mode) else f"not a regular file ({file_kind(mode)})"
        except OSError as exc:
            detail = f"cannot read the file: {exc.strerror or exc}"
        if detail is not None:
            found.append(Diagnostic(code=codes.UNREADABLE_FILE, file=path, line=0, column=0, detail=detail, unit=path))
    return tuple(found)


def _check_cache_dir(path: str) -> None:
    """Raises OptionError unless the cache directory is one (made if need
    be) that this process can write in."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise OptionError(f"{path}: not a directory (the cache directory)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".cglobals-probe-")
        os.close(fd)
        os.unlink(probe)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OptionError(f"{path}: cannot write in the cache directory: {reason}") from None


def _inside(filename: object, directory: str) -> bool:
    if not isinstance(filename, str):
        return False
    try:
        Path(os.path.abspath(filename)).relative_to(os.path.abspath(directory))
    except ValueError:
        return False
    return True


def _scan_units(checkout: Checkout, units: tuple[SourceUnit, ...], options: ScanOptions, work_dir: str,
                progress: Progress | None) -> ScanResult:
    tree = checkout.tree
    cache = CacheFile.for_tree(work_dir, tree.root, fingerprint(tree)) if options.cache_dir else None
    stored = cache.read_units() if cache else {}
    hashes = FileHashes(tree.root, cache.load_stamps() if cache else {})
    fresh = {unit.path for unit in units if unit.path in stored
             and all(hashes(p) == h for p, h in stored_hashes(stored[unit.path]))}
    stale = [unit for unit in units if unit.path not in fresh]
    jobs = options.jobs or os.cpu_count() or 1
    background = None
    if stale and fresh and len(stale) <= _BACKGROUND_UNITS and jobs > 1:
        # A few units changed: analyze them in a worker while this process unpacks the rest.
        def analyze(batch: list[SourceUnit]) -> list[Outcome]:
            return _analyze_units(checkout, work_dir, batch, cache, options.unit_timeout)

        def lost(batch: list[SourceUnit], why: Lost) -> list[Outcome]:
            return [_lost(unit, why) for unit in batch]

        # Its time: each unit's, and the inventory of the tree before them.
        timeout = options.unit_timeout * (len(stale) + 1) if options.unit_timeout > 0 else 0
        background = Supervised(analyze, [stale], 1, timeout, lost, WORKER_MEMORY_BYTES)
    with collector_paused():
        cached = cache.unpack_units({path: stored[path] for path in fresh}, options.focus) if cache else {}
    results = {path: entry.result for path, entry in cached.items()}
    hits = len(results)
    if stale:
        made: dict[str, Packed] = {}
        analyzed: Iterable[Outcome]
        if background is not None:
            analyzed = [outcome for batch in background.results() for outcome in batch]
        else:
            env, function_macros = checkout.environment(work_dir)
            ctx = UnitContext(env=env, function_macros=function_macros, keep_chunks=cache is not None,
                              unit_timeout=options.unit_timeout)
            ctx.seed(cache.load_chunks() if cache else {})
            analyzed = _run_units(ctx, stale, min(jobs, len(stale)), progress, hits, len(units))
        for result, new_chunks in analyzed:
            results[result.unit] = result
            made.update(new_chunks)
        if cache:
            cache.update_chunks(made)
            cache.update({unit.path: CachedUnit(result=results[unit.path], file_hashes=tuple(
                (p, hashes(p) or "") for p in results[unit.path].depends_on))
                for unit in stale if results[unit.path].depends_on})
    if cache and hashes.changed:
        cache.save_stamps(hashes.known)
    with collector_paused():
        return link_units(tree, units, results, hits, options.focus)


_BACKGROUND_UNITS = 4
"""Up to this many changed units are analyzed in one worker, beside the unpacking."""


def _analyze_units(checkout: Checkout, work_dir: str, units: list[SourceUnit], cache: CacheFile | None,
                   unit_timeout: float) -> list[Outcome]:
    env, function_macros = checkout.environment(work_dir)
    ctx = UnitContext(env=env, function_macros=function_macros, keep_chunks=cache is not None,
                      unit_timeout=unit_timeout)
    ctx.seed(cache.load_chunks() if cache else {})
    return [(_safe_analyze(ctx, unit), ctx.take_new_chunks()) for unit in units]


def unit_declarations(path: str, unit_path: str, work_dir: str) -> tuple[c_ast.FileAST, ...]:
    """pycparser's ASTs of one unit's file-scope declarations, one per chunk
    (function bodies elided, see parse.compact).  Raises TreeError when the
    unit is not one the tree's build compiles or does not preprocess, and
    parse.ChunkParseError when a chunk does not parse."""
    checkout = open_checkout(path)
    unit = next((u for u in checkout.units if u.path == unit_path), None)
    if unit is None:
        raise TreeError(f"{unit_path}: not a translation unit of {checkout.tree.root}")
    env, _ = checkout.environment(work_dir)
    pre = preprocess(env, unit)
    if not isinstance(pre, Preprocessed):
        raise TreeError(f"{unit_path}: {pre.diagnostic.detail}")
    found: list[c_ast.FileAST] = []

    def keep(ast: c_ast.FileAST, function_types: frozenset[str]) -> ChunkFacts:
        found.append(ast)
        return ChunkFacts()

    no_bodies = parse.BodyExtractors(parsed=lambda ast: None, tokens=lambda tokens: None)
    parse.parse_unit(pre.text, parse.ChunkCache(), keep, no_bodies)
    return tuple(found)
