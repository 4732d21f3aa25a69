"""Content hashes of the tree's files, for the scan cache: a file is read
again only when its stamp changed."""
from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from ..frontend.checkout import MAX_SOURCE_BYTES, read_source

FileStamp = tuple[int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode): a file with the same stamp has the same content."""


class FileHashes:
    """Content hashes of tree files, read once per run; a file whose stamp is
    the one recorded with its hash is not read again (as make and git do;
    ctime and inode catch what a restored mtime would hide)."""

    def __init__(self, root: str, known: dict[str, tuple[FileStamp, str]]) -> None:
        self._root = Path(root)
        self.known = known            # path -> (stamp, hash), updated as files are read
        self.changed = False
        self._memo: dict[str, str | None] = {}

    def __call__(self, path: str) -> str | None:
        if path in self._memo:
            return self._memo[path]
        full = self._root / path
        try:
            info = full.stat()
        except OSError:
            self._memo[path] = None
            return None
        stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        recorded = self.known.get(path)
        if recorded is not None and recorded[0] == stamp:
            digest: str | None = recorded[1]
        else:
            digest = content_hash(full)
            if digest is not None:
                self.known[path] = (stamp, digest)
                self.changed = True
        self._memo[path] = digest
        return digest


def content_hash(path: Path) -> str | None:
    """None for what is not a regular file, or cannot be read; the hash of a
    larger file than read_source reads covers its first MAX_SOURCE_BYTES and
    its size (gcc, not the analyzer, reads the rest)."""
    data = read_source(path)
    if data is None:
        return None
    digest = hashlib.blake2b(data, digest_size=16)
    if len(data) == MAX_SOURCE_BYTES:
        with contextlib.suppress(OSError):
            digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()
