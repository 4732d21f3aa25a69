"""Loading and validating data files: the gate's baseline, ours or upstream's."""
from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cpython.layout import UPSTREAM_COLUMNS
from .model import StateClass

BASELINE_SCHEMA = 1
BASELINE_COLUMNS = ("file", "func", "name", "class", "reason")
BASELINE_HEADER = (
    "# cglobals baseline: the mutable globals a tree may keep for now, one per line.\n"
    "# Keyed on (file, func, name): line moves change nothing. func is - at file scope.\n"
    "# Regenerate with: cglobals baseline TREE -o FILE\n")


class ConfigError(Exception):
    """A data file that cannot be used, with the file and line at fault
    (line 0: the file as a whole)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


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
    if not _inside(fields[0]):
        raise ConfigError(path, number, f"{fields[0]!r} is not a path inside the tree (relative, without ..)")
    return fields


@dataclass(frozen=True, slots=True, kw_only=True)
class RacingAccess:
    """A plain read or write a ThreadSanitizer race report shows on a global
    of the tree (atomic accesses are left out: they are not the problem)."""
    file: str
    line: int
    function: str
    target: str                 # the global (and member) it accesses, for the patch message
    count: int                  # reports of the race
    write: bool
    # the atomic operation of the race's other side (`_Py_atomic_add_int64`) and
    # where it is called (file, line), when that side is atomic
    atomic_partner: tuple[str, str, int] | None = None


def _atomic_partner(accesses: list[dict[str, Any]]) -> tuple[str, str, int] | None:
    """The first atomic side of a race that TSan shows inside one of
    pyatomic's functions, with the frame that called it."""
    for access in accesses:
        frames = access["frames"]
        if "atomic" in access["kind"] and len(frames) > 1 and str(frames[0]["function"]).startswith("_Py_atomic_") \
                and frames[1]["line"]:
            return str(frames[0]["function"]), str(frames[1]["file"]), int(frames[1]["line"])
    return None


def load_racing_accesses(path: str) -> tuple[RacingAccess, ...]:
    """The first frame of every plain access of the attributed races in a
    `cglobals races --format json` document, when it is in the tree (a frame
    in libc, an absolute path or one with .., names no file a patch may
    edit).  Raises ConfigError naming the line of a JSON syntax error, or the
    member at fault."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, 0, f"cannot read the races: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, 0, f"not a `cglobals races --format json` document (not UTF-8: {exc.reason} at "
                                   f"byte {exc.start})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(path, exc.lineno, f"not a `cglobals races --format json` document ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:       # a number too long to convert, nesting too deep
        raise ConfigError(path, 0, f"not a `cglobals races --format json` document ({exc})") from None
    try:
        accesses = []
        for number, race in enumerate(_member(document, "races", list, "")):
            where = f"races[{number}]"
            variable = _member(race, "global", (dict, type(None)), where)
            if variable is None:
                continue
            member = race.get("member")
            target = _member(variable, "name", str, f"{where}.global") + (f".{member}" if member else "")
            count = _member(race, "count", int, where)
            partner = _atomic_partner(race["accesses"])
            for index, access in enumerate(_member(race, "accesses", list, where)):
                at = f"{where}.accesses[{index}]"
                kind = _member(access, "kind", str, at)
                frames = _member(access, "frames", list, at)
                if "atomic" in kind or not frames:
                    continue
                top = f"{at}.frames[0]"
                line = _member(frames[0], "line", int, top)
                file = _member(frames[0], "file", str, top)
                function = _member(frames[0], "function", str, top)
                if line and _inside(file):
                    accesses.append(RacingAccess(file=file, line=line, function=function, target=target,
                                                 count=count, write="write" in kind, atomic_partner=partner))
    except _NotThere as exc:
        raise ConfigError(path, 0, f"not a `cglobals races --format json` document ({exc})") from None
    return tuple(sorted(set(accesses), key=lambda a: (a.file, a.line, not a.write, a.target, -a.count, a.function)))


def _inside(path: str) -> bool:
    """Whether a tree-relative path stays inside the tree."""
    return bool(path) and not path.startswith("/") and ".." not in path.split("/") and "\0" not in path


class _NotThere(Exception):
    pass


def _member(parent: object, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """parent[key], of the type a races document has there."""
    name = f"{where}.{key}" if where else key
    if not isinstance(parent, dict):
        raise _NotThere(f"{where or 'the document'} is not an object")
    if key not in parent:
        raise _NotThere(f"no {name}")
    value = parent[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _NotThere(f"{name} is {type(value).__name__}, not {_type_names(kind)}")
    return value


def _type_names(kind: type | tuple[type, ...]) -> str:
    names = {dict: "an object", list: "an array", str: "a string", int: "an integer", type(None): "null"}
    return " or ".join(names.get(k, k.__name__) for k in (kind if isinstance(kind, tuple) else (kind,)))
