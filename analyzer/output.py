"""Where the jobs and the CLI write: that an output can be written, checked
before the work, and the OSError of writing it as an OutputError naming the
file."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputError(Exception):
    """An output path that cannot be written; the message names it and says why."""


def check_output_file(path: str | None) -> None:
    """Before the work: raises OutputError unless `path` (None: stdout) can
    be written as a file."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{path}: is a directory, not a file")
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: {parent} is not a directory" if parent.exists() else
                          f"{path}: no such directory {parent}")
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise OutputError(f"{path}: not writable")


def check_output_dir(path: str) -> None:
    """Before the work: raises OutputError unless `path` is a directory this
    process can write in, or can be made one."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{path}: not a directory")
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing != target and not existing.is_dir():
        raise OutputError(f"{path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: {existing} is not writable")


@contextmanager
def writing(path: Path, output: Path | None = None) -> Iterator[None]:
    """Writing `path`, a file or directory of the output `output` (`path`
    itself by default): an OSError about the output becomes an OutputError
    naming the file (`path` when the error names none)."""
    try:
        yield
    except OSError as exc:
        filename = exc.filename if isinstance(exc.filename, str) else str(path)
        if not _under(Path(filename), output or path):
            raise
        raise OutputError(f"{filename}: cannot write it: {exc.strerror or exc}") from None


def _under(path: Path, directory: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(directory))
    except ValueError:
        return False
    return True


def write_text(path: str, text: str) -> None:
    """Surrogates (bytes of the tree that are not UTF-8) are written as escapes."""
    with writing(Path(path)):
        Path(path).write_text(text, encoding="utf-8", errors="backslashreplace")
