"""The persistent scan cache, two pickles per tree: each unit's result with
the content hashes of every file it read (a unit is reused only when the
analyzer, the stand-in headers and all of those files are unchanged), and the
chunk summaries, so re-analyzing a unit parses only chunks whose text changed."""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .model import Diagnostic, Family, GlobalVar, Storage, UnitResult
from .parse import ChunkSummary

_FORMAT = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedUnit:
    result: UnitResult
    file_hashes: tuple[tuple[str, str], ...]   # (tree-relative path, content hash)


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheFile:
    path: Path
    stamp: str        # analyzer version + stand-in fingerprint + format

    @classmethod
    def for_tree(cls, cache_dir: str, tree_root: str, fingerprint: str) -> CacheFile:
        name = hashlib.blake2b(tree_root.encode(), digest_size=8).hexdigest()
        return cls(path=Path(cache_dir) / f"scan-{name}.pickle",
                   stamp=f"{__version__}:{fingerprint}:{_FORMAT}")

    def load(self) -> dict[str, CachedUnit]:
        return {path: _unpack_unit(packed) for path, packed in self._load(self.path).items()}

    @property
    def _chunks_path(self) -> Path:
        return self.path.with_suffix(".chunks.pickle")

    def save(self, units: dict[str, CachedUnit]) -> None:
        self._dump(self.path, {path: _pack_unit(unit) for path, unit in units.items()})

    def load_chunks(self) -> dict[str, Packed]:
        """Packed chunk summaries (see pack_chunk): read only when some unit
        must be analyzed again."""
        return self._load(self._chunks_path)

    def save_chunks(self, chunks: dict[str, Packed]) -> None:
        self._dump(self._chunks_path, chunks)

    def _load(self, path: Path) -> dict[str, Any]:
        try:
            with path.open("rb") as handle:
                stamp, content = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return {}
        return content if stamp == self.stamp and isinstance(content, dict) else {}

    def _dump(self, path: Path, content: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((self.stamp, content), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)


# Entries are stored as plain tuples: pickling slotted dataclasses one by one
# costs more than the rest of a warm run.

Packed = tuple[Any, ...]


def _pack_global(var: GlobalVar) -> Packed:
    return (var.file, var.func, var.name, var.line, var.type, var.storage.value, var.thread_local,
            var.const, var.has_initializer, var.macro, var.family.value)


def _unpack_global(packed: Packed) -> GlobalVar:
    file, func, name, line, type_, storage, thread_local, const, init, macro, family = packed
    return GlobalVar(file=file, func=func, name=name, line=line, type=type_, storage=Storage(storage),
                     thread_local=thread_local, const=const, has_initializer=init, macro=macro,
                     family=Family(family))


def _pack_unit(unit: CachedUnit) -> Packed:
    result = unit.result
    diagnostics = tuple((d.code, d.file, d.line, d.column, d.detail) for d in result.diagnostics)
    return (result.unit, tuple(map(_pack_global, result.globals)), diagnostics, result.depends_on,
            result.failed, unit.file_hashes)


def _unpack_unit(packed: Packed) -> CachedUnit:
    unit, globals_, diagnostics, depends_on, failed, file_hashes = packed
    result = UnitResult(
        unit=unit, globals=tuple(map(_unpack_global, globals_)), depends_on=depends_on, failed=failed,
        diagnostics=tuple(Diagnostic(code=c, file=f, line=ln, column=col, detail=d)
                          for c, f, ln, col, d in diagnostics))
    return CachedUnit(result=result, file_hashes=file_hashes)


def pack_chunk(chunk: ChunkSummary) -> Packed:
    return (chunk.typedefs_added, chunk.names_declared, chunk.function_types_added,
            tuple(map(_pack_global, chunk.globals)))


def unpack_chunk(packed: Packed) -> ChunkSummary:
    typedefs_added, names_declared, function_types_added, globals_ = packed
    return ChunkSummary(typedefs_added=typedefs_added, names_declared=names_declared,
                        function_types_added=function_types_added,
                        globals=tuple(map(_unpack_global, globals_)))
