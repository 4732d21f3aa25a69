"""The persistent scan cache, two stores per tree: each unit's result with
the content hashes of every file it read (a unit is reused only when the
analyzer, the stand-in headers and all of those files are unchanged), and the
chunk summaries, so re-analyzing a unit parses only chunks whose text changed.
Each store is a main pickle plus a journal of the entries changed since."""
from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..codes import CODES
from ..frontend.parse import ChunkSummary
from ..model import (
    Body,
    ChunkFacts,
    CType,
    Diagnostic,
    Family,
    Function,
    GlobalVar,
    Initializer,
    NameUse,
    Prototype,
    Storage,
    UnitResult,
    Use,
    UseKind,
)

_FORMAT = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedUnit:
    result: UnitResult
    file_hashes: tuple[tuple[str, str], ...]   # (tree-relative path, content hash)


_JOURNAL_LIMIT = 256
"""Changed entries kept in a file's journal before the file is rewritten whole
(an internal header's edit changes a few hundred units: rewriting the whole
store for them would cost more than analyzing them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheFile:
    """Two stores per tree, each a main pickle plus a journal of the entries
    changed since it was written (so one edited unit costs a small write, not
    a rewrite of every unit's result)."""
    path: Path
    stamp: str        # analyzer version + stand-in fingerprint + format

    @classmethod
    def for_tree(cls, cache_dir: str, tree_root: str, fingerprint: str) -> CacheFile:
        name = hashlib.blake2b(tree_root.encode(), digest_size=8).hexdigest()
        return cls(path=Path(cache_dir) / f"scan-{name}.pickle",
                   stamp=f"{__version__}:{fingerprint}:{_FORMAT}")

    def read_units(self) -> dict[str, Packed]:
        """Every stored unit, packed: stored_hashes() tells which are still good."""
        return self._load(self.path)

    @staticmethod
    def unpack_units(stored: dict[str, Packed], focus: frozenset[str] | None = None) -> dict[str, CachedUnit]:
        """The units, with the functions and uses of header code that many
        units repeat unpacked once (the first unit keeps them): the merged
        scan is the same, and loading costs a fifth.  With `focus`, only the
        uses of globals declared in those files (and of external names, which
        the merge settles)."""
        seen_functions: set[Any] = set()
        seen_uses: set[Any] = set()
        return {path: _unpack_unit(packed, seen_functions, seen_uses, focus)
                for path, packed in sorted(stored.items())}

    def update(self, units: dict[str, CachedUnit]) -> None:
        self._update(self.path, {path: _pack_unit(unit) for path, unit in units.items()})

    @property
    def _chunks_path(self) -> Path:
        return self.path.with_suffix(".chunks.pickle")

    def load_chunks(self) -> dict[str, Packed]:
        """Packed chunk summaries (see pack_chunk): read only when some unit
        must be analyzed again."""
        return self._load(self._chunks_path)

    def update_chunks(self, chunks: dict[str, Packed]) -> None:
        self._update(self._chunks_path, chunks)

    @property
    def _stamps_path(self) -> Path:
        return self.path.with_suffix(".stamps.pickle")

    def load_stamps(self) -> dict[str, Any]:
        """What files.FileHashes recorded: path -> (file stamp, content hash)."""
        return self._read(self._stamps_path, whole=True)[1]

    def save_stamps(self, stamps: dict[str, Any]) -> None:
        self._write(self._stamps_path, "", stamps)

    def _load(self, path: Path) -> dict[str, Any]:
        token, content = self._read(path, whole=True)
        journal_token, changes = self._read(_journal(path), whole=True)
        if changes and token is not None and journal_token == token:
            content.update(changes)
        return content

    def _update(self, path: Path, changes: dict[str, Any]) -> None:
        if not changes:
            return
        token, _ = self._read(path, whole=False)
        journal_token, journal = self._read(_journal(path), whole=True)
        merged = {**(journal if token is not None and journal_token == token else {}), **changes}
        if token is not None and len(merged) <= _JOURNAL_LIMIT:
            self._write(_journal(path), token, merged)
            return
        _, content = self._read(path, whole=True)
        content.update(merged)
        memo: dict[Any, Any] = {}
        self._write(path, os.urandom(8).hex(), {key: _shared(value, memo) for key, value in content.items()})
        with contextlib.suppress(OSError):
            _journal(path).unlink()

    def _read(self, path: Path, whole: bool) -> tuple[str | None, dict[str, Any]]:
        """(the token of the main file the content belongs to, the content);
        (None, {}) when missing, unreadable or of another analyzer."""
        try:
            with path.open("rb") as handle:
                stamp, token = pickle.load(handle)
                content = pickle.load(handle) if whole else {}
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return None, {}
        if stamp != self.stamp or not isinstance(token, str) or not isinstance(content, dict):
            return None, {}
        return token, content

    def _write(self, path: Path, token: str, content: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((self.stamp, token), handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(content, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)


def _shared(value: Any, memo: dict[Any, Any]) -> Any:
    """The value with equal strings and (file, name) or (path, hash) pairs made
    one object: pickle writes a shared object once, so the units' store is
    two fifths the size and loads three times as fast (and its strings keep
    their hashes)."""
    kind = type(value)
    if kind is str:
        return memo.setdefault(value, value)
    if kind is tuple:
        items = tuple([_shared(item, memo) for item in value])
        if len(items) == 2 and type(items[0]) is str:
            return memo.setdefault(items, items)
        return items
    if kind is frozenset:
        return frozenset([_shared(item, memo) for item in value])
    return value


def _journal(path: Path) -> Path:
    return path.with_suffix(".journal")


# Entries are stored as plain tuples: pickling slotted dataclasses one by one
# costs more than the rest of a warm run.

Packed = tuple[Any, ...]


def _pack_global(var: GlobalVar) -> Packed:
    shape = var.ctype
    return (var.file, var.func, var.name, var.line, var.type, var.storage.value, var.thread_local,
            var.const, var.has_initializer, var.macro, var.family.value, var.points_to_const,
            (shape.base, shape.pointers, shape.qualified_pointer, shape.dims, shape.function, shape.other),
            var.initializer)


def _unpack_global(packed: Packed) -> GlobalVar:
    (file, func, name, line, type_, storage, thread_local, const, init, macro, family, pointee_const, shape,
     initializer) = packed
    base, pointers, qualified, dims, function, other = shape
    return GlobalVar(file=file, func=func, name=name, line=line, type=type_, storage=Storage(storage),
                     thread_local=thread_local, const=const, has_initializer=init, macro=macro,
                     family=Family(family), points_to_const=pointee_const,
                     ctype=CType(base=base, pointers=pointers, qualified_pointer=qualified, dims=dims,
                                 function=function, other=other), initializer=initializer)


def _pack_use(use: Use) -> Packed:
    return (use.target, use.kind.value, use.file, use.line, use.function, use.initializer_of, use.callee,
            use.position, use.address, use.callee_writes, use.callee_writes_through, use.callee_locks, use.via,
            use.guarded, use.once, use.probe)


def _unpack_use(packed: Packed) -> Use:
    (target, kind, file, line, function, owner, callee, position, address, writes, through, locks, via, guarded,
     once, probe) = packed
    return Use(target=target, kind=UseKind(kind), file=file, line=line, function=function, initializer_of=owner,
               callee=callee, position=position, address=address, callee_writes=writes,
               callee_writes_through=through, callee_locks=locks, via=via, guarded=guarded, once=once,
               probe=probe)


def _pack_function(function: Function) -> Packed:
    return (function.key, function.file, function.line, function.calls, function.references,
            function.signal_handlers, function.once_calls, function.library_calls)


def _unpack_function(packed: Packed) -> Function:
    key, file, line, calls, references, handlers, once, library = packed
    return Function(key=key, file=file, line=line, calls=calls, references=references, signal_handlers=handlers,
                    once_calls=once, library_calls=library)


def stored_hashes(packed: Packed) -> tuple[tuple[str, str], ...]:
    """The (path, content hash) of every file a stored unit read."""
    hashes: tuple[tuple[str, str], ...] = packed[5]
    return hashes


def _pack_unit(unit: CachedUnit) -> Packed:
    result = unit.result
    diagnostics = tuple((d.code.slug, d.file, d.line, d.column, d.detail, d.unit) for d in result.diagnostics)
    return (result.unit, tuple(map(_pack_global, result.globals)), diagnostics, result.depends_on,
            result.failed, unit.file_hashes, tuple(map(_pack_use, result.uses)),
            tuple(map(_pack_function, result.functions)),
            tuple((i.target, i.functions) for i in result.initializers))


def _unpack_unit(packed: Packed, seen_functions: set[Any], seen_uses: set[Any],
                 focus: frozenset[str] | None) -> CachedUnit:
    unit, globals_, diagnostics, depends_on, failed, file_hashes, uses, functions, initializers = packed
    new_functions = [f for f in functions if f[0] not in seen_functions]
    seen_functions.update(f[0] for f in new_functions)
    if focus is not None:
        uses = [u for u in uses if u[0][0] in focus or not u[0][0]]
    new_uses = [u for u in uses if u not in seen_uses]
    seen_uses.update(new_uses)
    result = UnitResult(
        unit=unit, globals=tuple(map(_unpack_global, globals_)), depends_on=depends_on, failed=failed,
        diagnostics=tuple(Diagnostic(code=CODES[c], file=f, line=ln, column=col, detail=d, unit=u)
                          for c, f, ln, col, d, u in diagnostics),
        uses=tuple(map(_unpack_use, new_uses)), functions=tuple(map(_unpack_function, new_functions)),
        initializers=tuple(Initializer(target=t, functions=f) for t, f in initializers))
    return CachedUnit(result=result, file_hashes=file_hashes)


def _pack_name_use(use: NameUse) -> Packed:
    return (use.name, use.kind.value, use.file, use.line, use.callee, use.position, use.address, use.via,
            use.local_static, use.guarded, use.once_flags, use.probe)


def _unpack_name_use(packed: Packed) -> NameUse:
    name, kind, file, line, callee, position, address, via, local_static, guarded, once_flags, probe = packed
    return NameUse(name=name, kind=UseKind(kind), file=file, line=line, callee=callee, position=position,
                   address=address, via=via, local_static=local_static, guarded=guarded, once_flags=once_flags,
                   probe=probe)


def _pack_body(body: Body) -> Packed:
    return (body.name, body.file, body.line, body.function, body.static, body.calls,
            tuple(map(_pack_name_use, body.uses)), body.signal_handlers, body.once_calls)


def _unpack_body(packed: Packed) -> Body:
    name, file, line, function, static, calls, uses, handlers, once = packed
    return Body(name=name, file=file, line=line, function=function, static=static, calls=calls,
                uses=tuple(map(_unpack_name_use, uses)), signal_handlers=handlers, once_calls=once)


def pack_body(body: Body | None) -> Packed:
    return (_pack_body(body),) if body is not None else ()


def unpack_body(packed: Packed) -> Body | None:
    return _unpack_body(packed[0]) if packed else None


class LazyTable(dict[str, Any]):
    """Stored entries unpacked on first use: re-analyzing one unit touches a
    few hundred of the thousands of chunk summaries a tree has."""

    def __init__(self, packed: dict[str, Packed], unpack: Callable[[Packed], Any]) -> None:
        super().__init__()
        self._packed = packed
        self._unpack = unpack

    def __missing__(self, key: str) -> Any:
        value = self[key] = self._unpack(self._packed[key])
        return value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._packed


def pack_chunk(chunk: ChunkSummary) -> Packed:
    facts = chunk.facts
    return (chunk.typedefs_added, chunk.names_declared, chunk.function_types_added,
            tuple(map(_pack_global, facts.globals)), facts.variables, facts.watched, facts.arrays, facts.objects,
            tuple((name, p.writes, p.variadic) for name, p in facts.prototypes), facts.static_functions)


def unpack_chunk(packed: Packed) -> ChunkSummary:
    typedefs_added, names_declared, function_types_added, globals_, variables, watched, arrays, objects, \
        prototypes, statics = packed
    facts = ChunkFacts(globals=tuple(map(_unpack_global, globals_)),
                       variables=variables, watched=watched, arrays=arrays, objects=objects,
                       static_functions=statics,
                       prototypes=tuple((n, Prototype(writes=w, variadic=v)) for n, w, v in prototypes))
    return ChunkSummary(typedefs_added=typedefs_added, names_declared=names_declared,
                        function_types_added=function_types_added, facts=facts)
