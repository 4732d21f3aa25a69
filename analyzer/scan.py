"""Scan a tree: run preprocess -> parse -> extract on every unit, in parallel,
reusing cached results for units whose files did not change."""
from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import multiprocessing
import os
import signal
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import parse
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
from .extract import extract_globals, path_relativizer
from .memory import collector_paused
from .model import (
    ChunkFacts,
    Diagnostic,
    Function,
    GlobalVar,
    Initializer,
    Prototype,
    ScanResult,
    SourceUnit,
    Tree,
    UnitResult,
    Use,
)
from .preprocess import Environment, Preprocessed, fingerprint, prepare_environment, preprocess
from .resolve import UnitDeclarations, resolve_unit
from .sites import collect_sites, function_sites, token_sites
from .sources import FileHashes, SourceLines, TreeError, find_tree, generated_headers, list_units, take_inventory

Progress = Callable[[int, int], None]
"""(units done, units total)"""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOptions:
    jobs: int = 0                     # 0: one per CPU
    cache_dir: str | None = None      # None: no persistent cache
    only: tuple[str, ...] = ()        # restrict to these unit paths
    focus: frozenset[str] | None = None   # keep only the uses of globals declared in these files


@dataclass
class UnitContext:
    """What one process needs to analyze units; its memo tables grow as it works."""
    env: Environment
    function_macros: frozenset[str]
    keep_chunks: bool = False    # hand new chunk summaries back, for the persistent cache
    chunks: parse.ChunkCache = field(default_factory=parse.ChunkCache)

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
    pre = preprocess(ctx.env, unit)
    if not isinstance(pre, Preprocessed):
        return UnitResult(unit=unit.path, diagnostics=(pre.diagnostic,), failed=True)
    try:
        parsed = parse.parse_unit(pre.text, ctx.chunks, ctx.extract, ctx.extract_body)
    except parse.ChunkParseError as exc:
        where = ctx.relative(exc.origin) or unit.path
        _, included = parse.split_chunks(pre.text, ctx.chunks)
        return UnitResult(unit=unit.path, depends_on=_dependencies(ctx, unit, included), failed=True,
                          diagnostics=(Diagnostic(code="parse-error", file=where, line=exc.line,
                                                  column=exc.column, detail=exc.message),))
    globals_ = parsed.globals
    resolved = resolve_unit(parsed.bodies, _declarations(parsed.facts), globals_)
    diagnostics = tuple(Diagnostic(code="body-parse-error", file=ctx.relative(f.origin) or unit.path, line=f.line,
                                   column=f.column, detail=f.message) for f in parsed.body_failures)
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
    try:
        return analyze_unit(ctx, unit)
    except RecursionError:
        detail = "nesting too deep for the parser"
    except Exception as exc:  # one unit's crash must not lose the others' results
        detail = f"{type(exc).__name__}: {exc}"
    return UnitResult(unit=unit.path, failed=True, diagnostics=(Diagnostic(
        code="internal-error", file=unit.path, line=0, column=0, detail=detail),))


# The worker's context: set once per worker process by the pool initializer
# (inherited by fork), never mutated from outside that process.
_worker: UnitContext | None = None


def _init_worker(ctx: UnitContext) -> None:
    global _worker
    _ignore_interrupts()
    _worker = ctx


def _ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the parent's to answer (it ends the pool); a
    worker that took it too would print its own traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


Outcome = tuple[UnitResult, dict[str, Packed]]


def _run_in_worker(unit: SourceUnit) -> Outcome:
    assert _worker is not None
    return _safe_analyze(_worker, unit), _worker.take_new_chunks()


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
    yield _safe_analyze(ctx, first), ctx.take_new_chunks()
    done += 1
    if progress:
        progress(done, total)
    fork = multiprocessing.get_context("fork")
    with fork.Pool(jobs, initializer=_init_worker, initargs=(ctx,)) as pool:
        for result in pool.imap_unordered(_run_in_worker, rest):
            yield result
            done += 1
            if progress:
                progress(done, total)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class OptionError(Exception):
    """Scan options that cannot be used; the message says which and why."""


def scan(path: str, options: ScanOptions = ScanOptions(),
         progress: Progress | None = None) -> ScanResult:
    """Raises sources.TreeError when `path` is not a usable CPython tree,
    OptionError when an option cannot be used (before any unit is analyzed)."""
    if options.jobs < 0:
        raise OptionError(f"{options.jobs} worker processes")
    tree = find_tree(path)
    try:
        units = list_units(tree)
    except OSError as exc:           # the build data (Makefile.pre.in, Modules/Setup*) is there but unreadable
        where = exc.filename if isinstance(exc.filename, str) else f"{tree.root}: the build data"
        raise TreeError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    if options.only:
        wanted = set(options.only)
        unknown = sorted(wanted - {unit.path for unit in units})
        if unknown:
            raise OptionError(f"no translation unit of {path} is {', '.join(unknown)} (a unit is a tree-relative "
                              "path of a .c file the default build compiles)")
        units = tuple(u for u in units if u.path in wanted)
    if options.cache_dir:
        _check_cache_dir(options.cache_dir)
    with contextlib.ExitStack() as stack:
        work_dir = options.cache_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="cglobals-"))
        try:
            return _scan_units(tree, units, options, work_dir, progress)
        except OSError as exc:
            if options.cache_dir and _inside(exc.filename, work_dir):
                raise OptionError(f"{work_dir}: cannot use the cache directory: {exc.strerror or exc} "
                                  f"({exc.filename})") from None
            if _inside(exc.filename, tree.root):
                raise TreeError(f"{exc.filename}: cannot read it: {exc.strerror or exc}") from None
            raise


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


def _scan_units(tree: Tree, units: tuple[SourceUnit, ...], options: ScanOptions, work_dir: str,
                progress: Progress | None) -> ScanResult:
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
        fork = multiprocessing.get_context("fork")
        background = concurrent.futures.ProcessPoolExecutor(1, mp_context=fork, initializer=_ignore_interrupts)
        outcomes = background.submit(_analyze_units, tree, work_dir, stale, cache)
    with collector_paused():
        cached = cache.unpack_units({path: stored[path] for path in fresh}, options.focus) if cache else {}
    results = {path: entry.result for path, entry in cached.items()}
    hits = len(results)
    if stale:
        made: dict[str, Packed] = {}
        analyzed: Iterable[Outcome]
        if background is not None:
            with background:
                analyzed = outcomes.result()
        else:
            env, function_macros = environment(tree, work_dir)
            ctx = UnitContext(env=env, function_macros=function_macros, keep_chunks=cache is not None)
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
        return _merge(tree, units, results, hits, options.focus)


_BACKGROUND_UNITS = 4
"""Up to this many changed units are analyzed in one worker, beside the unpacking."""


def _analyze_units(tree: Tree, work_dir: str, units: list[SourceUnit], cache: CacheFile | None) -> list[Outcome]:
    env, function_macros = environment(tree, work_dir)
    ctx = UnitContext(env=env, function_macros=function_macros, keep_chunks=cache is not None)
    ctx.seed(cache.load_chunks() if cache else {})
    return [(_safe_analyze(ctx, unit), ctx.take_new_chunks()) for unit in units]


def environment(tree: Tree, work_dir: str) -> tuple[Environment, frozenset[str]]:
    """The preprocessing environment for a tree (stand-ins written under
    work_dir), and the names of the tree's function-like macros."""
    env_dir = os.path.join(work_dir, "env", _tree_key(tree))
    inventory = take_inventory(tree, env_dir)
    env = prepare_environment(tree, generated_headers(tree), inventory.system_includes, env_dir)
    return env, inventory.function_macros


def _tree_key(tree: Tree) -> str:
    return hashlib.blake2b(tree.root.encode(), digest_size=8).hexdigest()


def _merge(tree: Tree, units: tuple[SourceUnit, ...], results: dict[str, UnitResult],
           hits: int, focus: frozenset[str] | None) -> ScanResult:
    """Header globals and header functions come from many units: keep each
    identity once; settle uses of external variables by name."""
    globals_: dict[tuple[str, str, str], GlobalVar] = {}
    diagnostics: list[Diagnostic] = []
    uses: set[Use] = set()
    functions: dict[tuple[str, str], Function] = {}
    initializers: set[Initializer] = set()
    for unit in units:
        result = results[unit.path]
        diagnostics.extend(result.diagnostics)
        for var in result.globals:
            known = globals_.get(var.identity)
            if known is None or var.line < known.line:
                globals_[var.identity] = var
        uses.update(result.uses)
        for function in result.functions:
            functions.setdefault(function.key, function)
        initializers.update(result.initializers)
    externs = {var.name: var.identity for var in globals_.values() if var.storage.value == "extern"}
    settled = []
    for use in uses:
        if use.target[0] == "":
            identity = externs.get(use.target[2])
            if identity is None or (focus is not None and identity[0] not in focus):
                continue          # a variable outside the tree (errno, environ, ...), or out of focus
            use = replace(use, target=identity)
        if focus is None or use.target[0] in focus:
            settled.append(use)
    return ScanResult(
        tree=tree,
        units=tuple(u.path for u in units),
        globals=tuple(sorted(globals_.values(), key=lambda g: (g.file, g.line, g.func or "", g.name))),
        diagnostics=tuple(sorted(set(diagnostics), key=lambda d: (d.file, d.line, d.column, d.code))),
        uses=tuple(sorted(settled, key=_use_order)),
        functions=tuple(functions[k] for k in sorted(functions)),
        initializers=tuple(sorted(initializers, key=lambda i: i.target)),
        unit_kinds=tuple((u.path, u.kind) for u in units),
        failed_units=tuple(sorted(u.path for u in units if results[u.path].failed)),
        cache_hits=hits)


def _use_order(use: Use) -> tuple[object, ...]:
    return (use.target, use.file, use.line, use.kind.value, use.function or ("", ""), use.callee or ("", ""),
            use.position, use.via or "", use.initializer_of or ("", "", ""))
