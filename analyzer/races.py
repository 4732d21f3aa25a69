"""ThreadSanitizer data-race reports: parsed from its logs, de-duplicated,
and attributed to the globals of a scan where the report's location or
stack points at one."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .model import GlobalVar

_FRAME_RE = re.compile(r"^\s+#\d+\s+(?P<func>\S+)\s+(?P<where>\S+)(?:\s+\((?P<object>[^)]*)\))?")
_ACCESS_RE = re.compile(r"^\s+(?:Previous\s+)?(?P<kind>[Rr]ead|[Ww]rite|[Aa]tomic \w+)\s+of size (?P<size>\d+)")
_LOCATION_RE = re.compile(r"^\s+Location is global '(?P<name>[^']+)' of size \d+ at \S+ \((?P<object>[^+)]+)")
_SOURCE_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::\d+)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    function: str              # <null> when the object is not symbolized
    file: str                  # as TSan prints it (made relative to the tree where it can)
    line: int                  # 0 when unknown
    object: str                # python, _datetime.cpython-313-x86_64-linux-gnu.so, ...

    @property
    def label(self) -> str:
        return f"{self.function} {self.file}:{self.line}" if self.line else f"{self.function} ({self.object})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Access:
    kind: str                  # read, write, atomic ...
    size: int
    frames: tuple[Frame, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Race:
    accesses: tuple[Access, ...]      # the current access, then the previous one
    location: str | None              # the global TSan names (gcc's `name.N` for a function's static)
    location_object: str | None       # the binary or module holding it

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two reports the same race: the location, and the two
        accesses' first frames, unordered."""
        tops = sorted(access.frames[0].label if access.frames else "?" for access in self.accesses)
        return (self.location or "", *tops)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attributed:
    race: Race
    count: int                        # reports of it
    variable: GlobalVar | None        # the global it is attributed to
    evidence: str                     # how: the location's name, or why not


def parse_reports(text: str, tree_root: str = "") -> tuple[Race, ...]:
    """Every data race in one TSan log (other warnings are skipped)."""
    races = []
    for block in re.split(r"^={10,}\s*$", text, flags=re.M):
        if "WARNING: ThreadSanitizer: data race" not in block:
            continue
        accesses: list[Access] = []
        frames: list[Frame] | None = None
        location = location_object = None
        for line in block.splitlines():
            access = _ACCESS_RE.match(line)
            if access:
                frames = []
                accesses.append(Access(kind=access["kind"].lower(), size=int(access["size"]), frames=()))
                continue
            frame = _FRAME_RE.match(line)
            if frame and frames is not None:
                frames.append(_frame(frame, tree_root))
                accesses[-1] = Access(kind=accesses[-1].kind, size=accesses[-1].size, frames=tuple(frames))
                continue
            if not line.strip():
                frames = None          # the end of an access's stack
            located = _LOCATION_RE.match(line)
            if located:
                location, location_object = located["name"], located["object"]
        if accesses:
            races.append(Race(accesses=tuple(accesses), location=location, location_object=location_object))
    return tuple(races)


def _frame(match: re.Match[str], tree_root: str) -> Frame:
    source = _SOURCE_RE.match(match["where"])
    file, line = (source["file"], int(source["line"])) if source else (match["where"], 0)
    if tree_root and file.startswith(tree_root.rstrip("/") + "/"):
        file = file[len(tree_root.rstrip("/")) + 1:]
    return Frame(function=match["func"], file=file, line=line, object=(match["object"] or "").split("+")[0])


def attribute(races: Iterable[Race], variables: Iterable[GlobalVar]) -> tuple[Attributed, ...]:
    """The distinct races, the most reported (then the attributed) first,
    each with its global: the one TSan's location names (a function's static
    as gcc names it, `name.N`), in the file of one of the accesses' frames
    when several files define that name."""
    by_name: dict[str, list[GlobalVar]] = {}
    for var in variables:
        by_name.setdefault(var.name, []).append(var)
    counts: dict[tuple[str, ...], int] = {}
    first: dict[tuple[str, ...], Race] = {}
    for race in races:
        counts[race.key] = counts.get(race.key, 0) + 1
        first.setdefault(race.key, race)
    found = []
    for key, race in first.items():
        variable, evidence = _variable(race, by_name)
        found.append(Attributed(race=race, count=counts[key], variable=variable, evidence=evidence))
    return tuple(sorted(found, key=lambda a: (-a.count, a.variable is None, a.race.key)))


def _variable(race: Race, by_name: dict[str, list[GlobalVar]]) -> tuple[GlobalVar | None, str]:
    if race.location is None:
        return None, "no global location (heap or stack memory)"
    name = re.sub(r"\.\d+$", "", race.location)
    candidates = by_name.get(name, [])
    if race.location != name:               # a function's static: gcc's name.N
        candidates = [var for var in candidates if var.func] or candidates
    files = {frame.file for access in race.accesses for frame in access.frames}
    near = [var for var in candidates if var.file in files]
    chosen = near or candidates
    if len(chosen) == 1:
        return chosen[0], f"TSan's location is global '{race.location}'"
    if not chosen:
        return None, f"global '{race.location}' is not one the analysis lists (libc or a linker symbol)"
    where = ", ".join(sorted({var.file for var in chosen}))
    return None, f"global '{race.location}' is defined in several files ({where}); no frame says which"
