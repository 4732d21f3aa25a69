"""Loading and validating data files: the gate's baseline, ours or upstream's."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import StateClass

BASELINE_SCHEMA = 1
BASELINE_COLUMNS = ("file", "func", "name", "class", "reason")
BASELINE_HEADER = (
    "# cglobals baseline: the mutable globals a tree may keep for now, one per line.\n"
    "# Keyed on (file, func, name): line moves change nothing. func is - at file scope.\n"
    "# Regenerate with: cglobals baseline TREE -o FILE\n")
UPSTREAM_COLUMNS = ("filename", "funcname", "name", "reason")
"""The header of Tools/c-analyzer/cpython/globals-to-fix.tsv and ignored.tsv."""


class ConfigError(Exception):
    """A data file that cannot be used, with the file and line at fault."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
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
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, 0, f"cannot read the baseline: {exc}") from None
    rows = [(number, line) for number, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.startswith("#")]
    if rows and tuple(rows[0][1].split("\t")) == UPSTREAM_COLUMNS:
        return _load_upstream(path, rows)
    if not rows or rows[0][1] != f"schema_version\t{BASELINE_SCHEMA}":
        number = rows[0][0] if rows else 1
        raise ConfigError(path, number, f"expected 'schema_version<TAB>{BASELINE_SCHEMA}' first (or upstream's "
                                        f"header {' '.join(UPSTREAM_COLUMNS)})")
    if len(rows) < 2 or tuple(rows[1][1].split("\t")) != BASELINE_COLUMNS:
        number = rows[1][0] if len(rows) > 1 else rows[0][0]
        raise ConfigError(path, number, f"expected the columns {' '.join(BASELINE_COLUMNS)} (tab-separated)")
    entries: dict[tuple[str, str, str], BaselineEntry] = {}
    classes = {c.value: c for c in StateClass}
    for number, line in rows[2:]:
        file, func, name, state_class, reason = _fields(path, number, line, len(BASELINE_COLUMNS))
        if state_class not in classes:
            raise ConfigError(path, number, f"unknown class {state_class!r} (runtime, interpreter, immutable)")
        identity = (file, "" if func == "-" else func, name)
        if identity in entries:
            raise ConfigError(path, number, f"duplicate entry, first on line {entries[identity].line}")
        entries[identity] = BaselineEntry(identity=identity, state_class=classes[state_class], reason=reason,
                                          path=path, line=number)
    return tuple(entries.values())


def _load_upstream(path: str, rows: list[tuple[int, str]]) -> tuple[BaselineEntry, ...]:
    """Upstream's lists as they are: the header may repeat, reason '-' means
    none, fields are stripped (3.13.5's globals-to-fix.tsv has a stray space)
    and a row repeated word for word counts once (its ignored.tsv has one).
    The class is not in the columns (upstream keeps it in comment headings),
    so it is left unknown."""
    entries: dict[tuple[str, str, str], BaselineEntry] = {}
    for number, line in rows[1:]:
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
    `cglobals races --format json` document."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        accesses = []
        for race in document["races"]:
            variable = race["global"]
            if variable is None:
                continue
            target = variable["name"] + (f".{race['member']}" if race.get("member") else "")
            partner = _atomic_partner(race["accesses"])
            for access in race["accesses"]:
                frames = access["frames"]
                if "atomic" not in access["kind"] and frames and frames[0]["line"]:
                    accesses.append(RacingAccess(file=frames[0]["file"], line=int(frames[0]["line"]),
                                                 function=frames[0]["function"], target=target,
                                                 count=int(race["count"]), write="write" in access["kind"],
                                                 atomic_partner=partner))
    except OSError as exc:
        raise ConfigError(path, 0, f"cannot read the races: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(path, 0, f"not a `cglobals races --format json` document ({exc!r})") from None
    return tuple(sorted(set(accesses), key=lambda a: (a.file, a.line, not a.write, a.target, -a.count, a.function)))
