"""The racing accesses a `cglobals races --format json` document names,
for the patch series' guards."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..datafiles import ConfigError, inside_tree


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
                if line and inside_tree(file):
                    accesses.append(RacingAccess(file=file, line=line, function=function, target=target,
                                                 count=count, write="write" in kind, atomic_partner=partner))
    except _NotThere as exc:
        raise ConfigError(path, 0, f"not a `cglobals races --format json` document ({exc})") from None
    return tuple(sorted(set(accesses), key=lambda a: (a.file, a.line, not a.write, a.target, -a.count, a.function)))


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
