"""ThreadSanitizer's logs, read from their files (log_path=)."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def read_logs(paths: Iterable[str]) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(path, text) of each ThreadSanitizer log, and (path, reason) of the
    others: unreadable, or not a log of ThreadSanitizer (it names itself in
    every report)."""
    texts, unreadable = [], []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            unreadable.append((path, exc.strerror or str(exc)))
            continue
        except ValueError as exc:         # a NUL in the path
            unreadable.append((path, str(exc)))
            continue
        if "ThreadSanitizer" not in text:
            unreadable.append((path, "not a ThreadSanitizer log (no report in it)"))
            continue
        texts.append((path, text))
    return tuple(texts), tuple(unreadable)
