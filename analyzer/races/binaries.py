"""Names for what TSan left unsymbolized, read from the built objects of the
tree with binutils (addr2line, nm) and gdb."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path


def symbolize_objects(root: str, wanted: dict[str, tuple[frozenset[int], frozenset[int]]]) -> tuple[
        dict[tuple[str, int], tuple[str, str, int]], dict[tuple[str, int], tuple[str, int, int]]]:
    """Names for what TSan left unsymbolized, read from the built objects of
    the tree (`python`, extension modules under build/) with binutils:
    code offsets -> (function, file, line) by addr2line, data offsets -> the
    symbol holding them (name, start, size) by nm.  Objects not found or
    unreadable, or binutils not installed, stay unnamed."""
    code: dict[tuple[str, int], tuple[str, str, int]] = {}
    data: dict[tuple[str, int], tuple[str, int, int]] = {}
    for name, (code_offsets, data_offsets) in wanted.items():
        path = _built_object(root, name)
        if path is None:
            continue
        offsets = sorted(code_offsets)
        if offsets:
            status, output = _tool("addr2line", "-f", "-e", str(path), *(hex(o) for o in offsets))
            lines = output.splitlines() if status == 0 else []
            for offset, function, where in zip(offsets, lines[0::2], lines[1::2], strict=False):
                file, _, line = where.split(" ")[0].rpartition(":")
                if function != "??" and line.isdigit():
                    code[(name, offset)] = (function, file, int(line))
        if data_offsets:
            symbols = []
            for line in _tool("nm", "-S", "--defined-only", str(path))[1].splitlines():
                fields = line.split()
                if len(fields) == 4:
                    symbols.append((int(fields[0], 16), int(fields[1], 16), fields[3]))
            for offset in data_offsets:
                holder = next(((sym, start, size) for start, size, sym in symbols if start <= offset < start + size),
                              None)
                if holder is not None:
                    data[(name, offset)] = holder
    return code, data


def _tool(*argv: str) -> tuple[int | None, str]:
    """(status, output) of a binutils or gdb run; (None, "") when the tool is
    not installed: what it would have named stays unnamed."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", check=False)
    except OSError:
        return None, ""
    return proc.returncode, proc.stdout


def _built_object(root: str, name: str) -> Path | None:
    direct = Path(root) / name
    if direct.is_file():
        return direct
    return next((path for path in sorted(Path(root).glob(f"build/*/{name}")) if path.is_file()), None)


_PTYPE_RE = re.compile(r"^/\*\s*(?P<offset>\d+)(?::\s*\d+)?\s*\|\s*(?P<size>\d+) \*/\s*(?P<decl>.*)$")


def member_names(root: str, wanted: dict[tuple[str, str], frozenset[int]]) -> dict[tuple[str, str, int], str]:
    """The member of each global at each offset, from the object's debug
    information (`gdb -batch -ex 'ptype /o GLOBAL'`): `signals.unhandled_
    keyboard_interrupt` in _PyRuntime.  What gdb cannot say stays unnamed."""
    names: dict[tuple[str, str, int], str] = {}
    by_object: dict[str, dict[str, frozenset[int]]] = {}
    for (name, variable), offsets in wanted.items():
        if re.fullmatch(r"\w+", variable):
            by_object.setdefault(name, {})[variable] = offsets
    for name, variables in sorted(by_object.items()):
        path = _built_object(root, name)
        if path is None:
            continue
        commands = []
        for variable in sorted(variables):      # one gdb for all of an object's globals
            commands += ["-ex", f"echo @@cglobals {variable}\\n", "-ex", f"ptype /o {variable}"]
        for chunk in _tool("gdb", "-nx", "-batch", *commands, str(path))[1].split("@@cglobals ")[1:]:
            variable, _, text = chunk.partition("\n")
            members = _ptype_members(text)
            for offset in variables.get(variable, frozenset()):
                containing = [(start, size, dotted) for start, size, dotted in members
                              if start <= offset < start + size]
                if containing:
                    names[(name, variable, offset)] = min(containing, key=lambda m: (m[1], -len(m[2])))[2]
    return names


def _ptype_members(text: str) -> list[tuple[int, int, str]]:
    """(offset, size, dotted name) of every member gdb's ptype /o prints."""
    found: list[tuple[int, int, str]] = []
    stack: list[tuple[int, int, list[tuple[int, int, str]]]] = []
    for line in text.splitlines():
        match = _PTYPE_RE.match(line.strip())
        stripped = line.strip()
        if match and match["decl"].rstrip().endswith("{"):
            stack.append((int(match["offset"]), int(match["size"]), []))
        elif match:
            member = re.search(r"(\w+)\s*(?:\[[^\]]*\])*\s*(?::\s*\d+)?;$", match["decl"])
            if member:
                (stack[-1][2] if stack else found).append((int(match["offset"]), int(match["size"]), member[1]))
        elif stripped.startswith("}") and stack:
            start, size, inner = stack.pop()
            member = re.match(r"\}\s*(\w*)", stripped)
            prefix = member[1] if member and member[1] else ""
            members = [(start, size, prefix)] if prefix else []
            members += [(o, s, f"{prefix}.{n}" if prefix else n) for o, s, n in inner]
            (stack[-1][2] if stack else found).extend(members)
    return found
