"""ThreadSanitizer data-race reports: parsed from its logs, de-duplicated,
and attributed to the globals of a scan where the report's location or
stack points at one."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..model import GlobalVar

_FRAME_RE = re.compile(r"^\s+#\d+\s+(?P<func>\S+)\s+(?P<where>\S+)(?:\s+\((?P<object>[^)]*)\))?")
_ACCESS_RE = re.compile(r"^\s+(?:Previous\s+)?(?P<kind>[Rr]ead|[Ww]rite|[Aa]tomic \w+)\s+of size (?P<size>\d+)"
                        r" at (?P<address>0x[0-9a-f]+)")
_LOCATION_RE = re.compile(r"^\s+Location is global '(?P<name>[^']+)'(?: of size (?P<size>\d+))? "
                          r"at (?P<start>0x[0-9a-f]+) \((?P<object>[^+)]+)\+0x(?P<offset>[0-9a-f]+)\)")
UNKNOWN = "<null>"
_SOURCE_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::\d+)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    function: str              # <null> when the object is not symbolized
    file: str                  # as TSan prints it (made relative to the tree where it can)
    line: int                  # 0 when unknown
    object: str                # python, _datetime.cpython-313-x86_64-linux-gnu.so, ...
    offset: int = 0            # the code's offset in the object

    @property
    def label(self) -> str:
        if self.line:
            return f"{self.function} {self.file}:{self.line}"
        return f"{self.function} ({self.object}+{self.offset:#x})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Access:
    kind: str                  # read, write, atomic ...
    size: int
    frames: tuple[Frame, ...]
    address: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Race:
    accesses: tuple[Access, ...]      # the current access, then the previous one
    location: str | None              # the global TSan names (gcc's `name.N` for a function's static)
    location_object: str | None       # the binary or module holding it
    location_offset: int = 0          # the accessed address's offset in that object
    member_offset: int | None = None  # the accessed address's offset in a global bigger than the access
    member: str | None = None         # the member there (debug info), e.g. signals.unhandled_keyboard_interrupt

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two reports the same race: the location, and the
        accesses' first frames, unordered (TSan cannot always restore the
        previous access's stack: a race seen with and without it is one)."""
        tops = sorted({access.frames[0].label for access in self.accesses if access.frames})
        return (self.location or "", self.member or "", *tops)


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
        location_offset = 0
        member_offset = None
        for line in block.splitlines():
            access = _ACCESS_RE.match(line)
            if access:
                frames = []
                accesses.append(Access(kind=access["kind"].lower(), size=int(access["size"]), frames=(),
                                       address=int(access["address"], 16)))
                continue
            frame = _FRAME_RE.match(line)
            if frame and frames is not None:
                frames.append(_frame(frame, tree_root))
                accesses[-1] = replace(accesses[-1], frames=tuple(frames))
                continue
            if not line.strip():
                frames = None          # the end of an access's stack
            located = _LOCATION_RE.match(line)
            if located:
                location, location_object = located["name"], located["object"]
                location_offset = int(located["offset"], 16)
                start, size = int(located["start"], 16), int(located["size"] or 0)
                if accesses and start and size > accesses[0].size:
                    member_offset = accesses[0].address - start
        if accesses:
            races.append(Race(accesses=tuple(accesses), location=location, location_object=location_object,
                              location_offset=location_offset, member_offset=member_offset))
    return tuple(races)


def _frame(match: re.Match[str], tree_root: str) -> Frame:
    source = _SOURCE_RE.match(match["where"])
    file, line = (source["file"], int(source["line"])) if source else (match["where"], 0)
    object_, _, offset = (match["object"] or "").partition("+")
    return Frame(function=match["func"], file=_in_tree(file, tree_root), line=line, object=object_,
                 offset=int(offset, 16) if offset.startswith("0x") else 0)


def _in_tree(file: str, tree_root: str) -> str:
    """A source path relative to the tree, as the analysis names files."""
    root = tree_root.rstrip("/") + "/"
    if tree_root and file.startswith(root):
        file = file[len(root):]
    return file[2:] if file.startswith("./") else file


def unresolved(races: Iterable[Race]) -> dict[str, tuple[frozenset[int], frozenset[int]]]:
    """Per object, the code offsets of frames TSan left unsymbolized (gcc's
    libtsan does so in extension modules) and the data offsets of unnamed
    locations."""
    code: dict[str, set[int]] = {}
    data: dict[str, set[int]] = {}
    for race in races:
        for access in race.accesses:
            for frame in access.frames:
                if frame.function == UNKNOWN and frame.object:
                    code.setdefault(frame.object, set()).add(frame.offset)
        if race.location == UNKNOWN and race.location_object:
            data.setdefault(race.location_object, set()).add(race.location_offset)
    return {obj: (frozenset(code.get(obj, ())), frozenset(data.get(obj, ()))) for obj in sorted({*code, *data})}


def members_wanted(races: Iterable[Race]) -> dict[tuple[str, str], frozenset[int]]:
    """Per (object, global), the offsets accessed inside globals bigger than
    the access (a struct such as _PyRuntime)."""
    wanted: dict[tuple[str, str], set[int]] = {}
    for race in races:
        if race.location and race.location != UNKNOWN and race.location_object and race.member_offset is not None:
            wanted.setdefault((race.location_object, race.location), set()).add(race.member_offset)
    return {key: frozenset(offsets) for key, offsets in wanted.items()}


def symbolize(races: Iterable[Race], code: dict[tuple[str, int], tuple[str, str, int]],
              data: dict[tuple[str, int], tuple[str, int, int]], tree_root: str = "") -> tuple[Race, ...]:
    """The races with unsymbolized frames and locations named: `code` maps
    (object, offset) to (function, file, line), `data` to the symbol holding
    it (name, start, size) (binaries.symbolize_objects reads both)."""
    def frame(f: Frame) -> Frame:
        found = code.get((f.object, f.offset)) if f.function == UNKNOWN else None
        if found is None:
            return f
        return replace(f, function=found[0], file=_in_tree(found[1], tree_root), line=found[2])

    named = []
    for race in races:
        accesses = tuple(replace(a, frames=tuple(map(frame, a.frames))) for a in race.accesses)
        holder = data.get((race.location_object or "", race.location_offset)) if race.location == UNKNOWN else None
        if holder is None:
            named.append(replace(race, accesses=accesses))
            continue
        inside = bool(race.accesses) and holder[2] > race.accesses[0].size
        named.append(replace(race, accesses=accesses, location=holder[0],
                             member_offset=race.location_offset - holder[1] if inside else race.member_offset))
    return tuple(named)


def name_members(races: Iterable[Race], members: dict[tuple[str, str, int], str]) -> tuple[Race, ...]:
    """The races with the member they access inside a big global named:
    `members` maps (object, global, offset) to a dotted member name
    (binaries.member_names reads it for members_wanted)."""
    return tuple(replace(race, member=members.get((race.location_object, race.location, race.member_offset)))
                 if race.member_offset is not None and race.location and race.location_object else race
                 for race in races)


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
    if race.location == UNKNOWN:
        return None, f"a global of {race.location_object} that could not be named"
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
