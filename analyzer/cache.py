"""The persistent scan cache: one pickle per tree, holding each unit's result
with the content hashes of every file it read.  A unit is reused only when
the analyzer, the stand-in headers and all of those files are unchanged."""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .model import UnitResult

_FORMAT = 1


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
        try:
            with self.path.open("rb") as handle:
                stamp, units = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return {}
        return units if stamp == self.stamp else {}

    def save(self, units: dict[str, CachedUnit]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((self.stamp, units), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)
