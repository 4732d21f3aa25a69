"""What a report says, as data: counts per class, directory, rule and file,
and for two releases what became of each class."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ..model import ScanResult, StateClass, Verdict

CLASSES = (StateClass.RUNTIME, StateClass.INTERPRETER, StateClass.IMMUTABLE)
MUTABLE = (StateClass.RUNTIME, StateClass.INTERPRETER)
TOP_FILES = 20

Counts = tuple[int, int, int]
"""Globals per class, in CLASSES order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    version: str
    units: int
    failed_units: int
    total: int
    by_class: Counts
    by_directory: tuple[tuple[str, Counts], ...]          # top-level directory, largest first
    by_rule: tuple[tuple[str, StateClass, int], ...]      # in rule-table order of first use
    top_files: tuple[tuple[str, Counts], ...]             # most runtime + interpreter globals first
    low_confidence: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """What became of one class's globals between two releases."""
    state_class: StateClass
    before: int                # globals of this class in the older release
    remained: int              # same identity, same class in the newer release
    reclassified: int          # same identity, another class now
    gone: int                  # no global of that identity in the newer release (moved into state, or removed)
    appeared: int              # globals of this class in the newer release with no older identity
    after: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    before: str
    after: str
    changes: tuple[Change, ...]


def _counts(counter: Counter[StateClass]) -> Counts:
    return (counter[StateClass.RUNTIME], counter[StateClass.INTERPRETER], counter[StateClass.IMMUTABLE])


def summarize(result: ScanResult, verdicts: tuple[Verdict, ...]) -> Summary:
    by_class: Counter[StateClass] = Counter()
    directories: dict[str, Counter[StateClass]] = {}
    files: dict[str, Counter[StateClass]] = {}
    rules: dict[str, tuple[StateClass, int]] = {}
    low = 0
    for var, verdict in zip(result.globals, verdicts, strict=True):
        state_class = verdict.state_class
        by_class[state_class] += 1
        directories.setdefault(var.file.split("/", 1)[0], Counter())[state_class] += 1
        files.setdefault(var.file, Counter())[state_class] += 1
        count = rules.get(verdict.rule, (state_class, 0))[1]
        rules[verdict.rule] = (state_class, count + 1)
        low += verdict.confidence.value == "low"
    ranked_files = sorted(files.items(), key=lambda item: (-sum(item[1][c] for c in MUTABLE), item[0]))
    return Summary(
        version=result.tree.version, units=len(result.units), failed_units=len(result.failed_units),
        total=len(result.globals), by_class=_counts(by_class),
        by_directory=tuple((d, _counts(c)) for d, c in sorted(directories.items(), key=lambda i: -sum(i[1].values()))),
        by_rule=tuple((rule, c, n) for rule, (c, n) in sorted(rules.items(), key=lambda i: (-i[1][1], i[0]))),
        top_files=tuple((f, _counts(c)) for f, c in ranked_files[:TOP_FILES] if sum(c[m] for m in MUTABLE)),
        low_confidence=low)


Classified = tuple[ScanResult, tuple[Verdict, ...]]


def compare(before: Classified, after: Classified) -> Comparison:
    old = {v.identity: v.state_class for v in before[1]}
    new = {v.identity: v.state_class for v in after[1]}
    changes = []
    for state_class in CLASSES:
        mine = [i for i, c in old.items() if c is state_class]
        changes.append(Change(
            state_class=state_class, before=len(mine),
            remained=sum(1 for i in mine if new.get(i) is state_class),
            reclassified=sum(1 for i in mine if i in new and new[i] is not state_class),
            gone=sum(1 for i in mine if i not in new),
            appeared=sum(1 for i, c in new.items() if c is state_class and i not in old),
            after=sum(1 for c in new.values() if c is state_class)))
    return Comparison(before=before[0].tree.version, after=after[0].tree.version, changes=tuple(changes))
