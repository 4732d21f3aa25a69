"""Loading and validating data files: the gate's baseline."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import StateClass

BASELINE_SCHEMA = 1
BASELINE_COLUMNS = ("file", "func", "name", "class", "reason")
BASELINE_HEADER = (
    "# cglobals baseline: the mutable globals a tree may keep for now, one per line.\n"
    "# Keyed on (file, func, name): line moves change nothing. func is - at file scope.\n"
    "# Regenerate with: cglobals baseline TREE -o FILE\n")


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
    state_class: StateClass
    reason: str
    line: int


def load_baseline(path: str) -> tuple[BaselineEntry, ...]:
    """Raises ConfigError naming the file and line of the first problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, 0, f"cannot read the baseline: {exc}") from None
    rows = [(number, line) for number, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.startswith("#")]
    if not rows or rows[0][1] != f"schema_version\t{BASELINE_SCHEMA}":
        number = rows[0][0] if rows else 1
        raise ConfigError(path, number, f"expected 'schema_version<TAB>{BASELINE_SCHEMA}' first")
    if len(rows) < 2 or tuple(rows[1][1].split("\t")) != BASELINE_COLUMNS:
        number = rows[1][0] if len(rows) > 1 else rows[0][0]
        raise ConfigError(path, number, f"expected the columns {' '.join(BASELINE_COLUMNS)} (tab-separated)")
    entries: dict[tuple[str, str, str], BaselineEntry] = {}
    classes = {c.value: c for c in StateClass}
    for number, line in rows[2:]:
        fields = line.split("\t")
        if len(fields) != len(BASELINE_COLUMNS):
            raise ConfigError(path, number, f"expected {len(BASELINE_COLUMNS)} tab-separated fields, "
                                            f"found {len(fields)}")
        if any(f != f.strip() for f in fields):
            raise ConfigError(path, number, "stray whitespace around a field")
        file, func, name, state_class, reason = fields
        if not file or not name or not func:
            raise ConfigError(path, number, "file, func (- at file scope) and name are required")
        if state_class not in classes:
            raise ConfigError(path, number, f"unknown class {state_class!r} (runtime, interpreter, immutable)")
        identity = (file, "" if func == "-" else func, name)
        if identity in entries:
            raise ConfigError(path, number, f"duplicate entry, first on line {entries[identity].line}")
        entries[identity] = BaselineEntry(identity=identity, state_class=classes[state_class], reason=reason,
                                          line=number)
    return tuple(entries.values())
