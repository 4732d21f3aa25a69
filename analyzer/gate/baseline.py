"""The gate's baseline: the format, its loader (ours or upstream's lists)
and its writer."""
from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..cpython.layout import UPSTREAM_COLUMNS
from ..datafiles import ConfigError, inside_tree
from ..model import GlobalVar, StateClass, Verdict

BASELINE_SCHEMA = 1
BASELINE_COLUMNS = ("file", "func", "name", "class", "reason")
BASELINE_HEADER = (
    "# cglobals baseline: the mutable globals a tree may keep for now, one per line.\n"
    "# Keyed on (file, func, name): line moves change nothing. func is - at file scope.\n"
    "# Regenerate with: cglobals baseline TREE -o FILE\n")


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineEntry:
    identity: tuple[str, str, str]
    state_class: StateClass | None     # None: upstream's lists carry no class in their columns
    reason: str
    path: str                          # the baseline file, and the entry's line in it
    line: int


def load_baselines(paths: tuple[str, ...]) -> tuple[BaselineEntry, ...]:
    """Every entry of every file; one global may be listed by several files."""
    return tuple(entry for path in paths for entry in load_baseline(path))


def load_baseline(path: str) -> tuple[BaselineEntry, ...]:
    """Our format or upstream's, told apart by the first row.  Raises
    ConfigError naming the file and line of the first problem."""
    rows = _baseline_rows(path)
    first = next(rows, None)
    if first is not None and tuple(first[1].split("\t")) == UPSTREAM_COLUMNS:
        return _load_upstream(path, rows)
    if first is None or first[1] != f"schema_version\t{BASELINE_SCHEMA}":
        raise ConfigError(path, first[0] if first else 1, f"expected 'schema_version<TAB>{BASELINE_SCHEMA}' first "
                                                          f"(or upstream's header {' '.join(UPSTREAM_COLUMNS)})")
    second = next(rows, None)
    if second is None or tuple(second[1].split("\t")) != BASELINE_COLUMNS:
        raise ConfigError(path, second[0] if second else first[0],
                          f"expected the columns {' '.join(BASELINE_COLUMNS)} (tab-separated)")
    entries: dict[tuple[str, str, str], BaselineEntry] = {}
    classes = {c.value: c for c in StateClass}
    for number, line in rows:
        file, func, name, state_class, reason = _fields(path, number, line, len(BASELINE_COLUMNS))
        if state_class not in classes:
            raise ConfigError(path, number, f"unknown class {state_class!r} (runtime, interpreter, immutable)")
        identity = (file, "" if func == "-" else func, name)
        if identity in entries:
            raise ConfigError(path, number, f"duplicate entry, first on line {entries[identity].line}")
        entries[identity] = BaselineEntry(identity=identity, state_class=classes[state_class], reason=reason,
                                          path=path, line=number)
    return tuple(entries.values())


MAX_LINE = 1 << 20
"""Bytes: a longer line is no baseline's (and is not read whole into memory)."""
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")     # control characters but the tab


def _baseline_rows(path: str) -> Iterator[tuple[int, str]]:
    """The rows of a baseline file (neither blank nor a # comment) with their
    line numbers, read a line at a time: UTF-8, a byte order mark skipped,
    CRLF line ends read as LF.  Raises ConfigError at the first line that is
    not text (a NUL byte, bytes that are not UTF-8, a control character, a
    line longer than MAX_LINE)."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise ConfigError(path, 0, f"cannot read the baseline: {exc.strerror or exc}") from None
    with handle:
        number = 0
        while True:
            try:
                raw = handle.readline(MAX_LINE + 1)
            except OSError as exc:
                raise ConfigError(path, number + 1, f"cannot read the baseline: {exc.strerror or exc}") from None
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                raise ConfigError(path, number, f"a line longer than {MAX_LINE} bytes: not a baseline")
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            nul = raw.find(b"\0")
            if nul >= 0:
                raise ConfigError(path, number, f"a NUL byte at column {nul + 1}: a binary file, not a baseline")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                column = len(raw[:exc.start].decode("utf-8", "replace")) + 1
                raise ConfigError(path, number, f"byte {raw[exc.start]:#04x} at column {column} is not UTF-8 "
                                                "text") from None
            line = line[:-1] if line.endswith("\n") else line
            line = line[:-1] if line.endswith("\r") else line
            control = _CONTROL_RE.search(line)
            if control:
                raise ConfigError(path, number, f"control character {control.group()!r} at column "
                                                f"{control.start() + 1}")
            if line.strip() and not line.startswith("#"):
                yield number, line


def _load_upstream(path: str, rows: Iterator[tuple[int, str]]) -> tuple[BaselineEntry, ...]:
    """Upstream's lists as they are: the header may repeat, reason '-' means
    none, fields are stripped (3.13.5's globals-to-fix.tsv has a stray space)
    and a row repeated word for word counts once (its ignored.tsv has one).
    The class is not in the columns (upstream keeps it in comment headings),
    so it is left unknown."""
    entries: dict[tuple[str, str, str], BaselineEntry] = {}
    for number, line in rows:
        if tuple(line.split("\t")) == UPSTREAM_COLUMNS:
            continue
        file, func, name, reason = _fields(path, number, line, len(UPSTREAM_COLUMNS), strip=True)
        identity = (file, "" if func == "-" else func, name)
        reason = "" if reason == "-" else reason
        known = entries.get(identity)
        if known is not None:
            if known.reason != reason:
                raise ConfigError(path, number, f"duplicate entry with another reason, first on line {known.line}")
            continue
        entries[identity] = BaselineEntry(identity=identity, state_class=None, reason=reason, path=path,
                                          line=number)
    return tuple(entries.values())


def _fields(path: str, number: int, line: str, count: int, strip: bool = False) -> list[str]:
    fields = line.split("\t")
    if len(fields) != count:
        raise ConfigError(path, number, f"expected {count} tab-separated fields, found {len(fields)}")
    if strip:
        fields = [f.strip() for f in fields]
    elif any(f != f.strip() for f in fields):
        raise ConfigError(path, number, "stray whitespace around a field")
    if not fields[0] or not fields[1] or not fields[2]:
        raise ConfigError(path, number, "file, func (- at file scope) and name are required")
    if not inside_tree(fields[0]):
        raise ConfigError(path, number, f"{fields[0]!r} is not a path inside the tree (relative, without ..)")
    return fields


def render_baseline(globals_: tuple[GlobalVar, ...], verdicts: tuple[Verdict, ...]) -> str:
    """Every mutable global, sorted: the same tree gives the same bytes."""
    rows = sorted((var.file, var.func or "-", var.name, verdict.state_class.value)
                  for var, verdict in zip(globals_, verdicts, strict=True)
                  if verdict.state_class is not StateClass.IMMUTABLE)
    lines = [BASELINE_HEADER.rstrip("\n"), f"schema_version\t{BASELINE_SCHEMA}", "\t".join(BASELINE_COLUMNS)]
    lines += ["\t".join((*row, "")) for row in rows]
    return "\n".join(lines) + "\n"
