"""What the compiler says exists: the data symbols of a built tree's objects.

A tree built at -O0 (ci/build-tree) keeps every variable with static storage
in its object files: external ones as D/B/R/C symbols, internal ones as d/b/r,
function-local ones as `name.N`.  This is an oracle independent of our
parser: an upstream entry whose name is not among the symbols of the objects
compiled from its file (or, for a header, of any object) does not exist in the
default build."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

_DATA_TYPES = set("dDbBrRCgGsSvV")
_LOCAL_SUFFIX_RE = re.compile(r"\.\d+$")
_COMPILER_MADE = re.compile(
    r"^(__func__|__PRETTY_FUNCTION__|__FUNCTION__|__compound_literal|CSWTCH|\.L|_GLOBAL_OFFSET_TABLE_)")
_SOURCE_DIRS = ("Objects", "Python", "Parser", "Modules", "Programs")


_MAKESETUP_RULE_RE = re.compile(r"^(\S+\.o): \$\(srcdir\)/(\S+\.c);", re.M)


def object_sources(built: Path) -> dict[Path, str]:
    """Object file -> tree-relative source path, for the objects of the build
    (in place for make-built ones, named as the Makefile's rules name them:
    3.9's makesetup builds Modules/_io/_iomodule.c into Modules/_iomodule.o;
    under build/temp.* for setup.py's)."""
    mapping: dict[Path, str] = {}
    try:
        makefile = (built / "Makefile").read_text(errors="replace")
    except OSError:
        makefile = ""
    made = {built / obj: source for obj, source in _MAKESETUP_RULE_RE.findall(makefile)}
    for obj in built.rglob("*.o"):
        if obj in made and (built / made[obj]).is_file():
            mapping[obj] = made[obj]
            continue
        parts = obj.relative_to(built).parts
        for index, part in enumerate(parts):
            if part in _SOURCE_DIRS:
                stem = Path(*parts[index:]).with_suffix("")
                for suffix in (".c.in", ".c"):   # Modules/config.c is made from config.c.in
                    if (built / f"{stem}{suffix}").is_file():
                        mapping[obj] = f"{stem.as_posix()}{suffix}"
                        break
                break
    return mapping


def data_symbols(built: Path) -> dict[str, set[str]]:
    """Source path -> names of the variables its object defines (local
    statics without their .N suffix)."""
    mapping = object_sources(built)
    symbols: dict[str, set[str]] = {source: set() for source in mapping.values()}
    objects = sorted(mapping)
    for start in range(0, len(objects), 200):
        batch = objects[start:start + 200]
        out = subprocess.run(["nm", "--defined-only", "-A", *map(str, batch)],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            path, _, rest = line.partition(":")
            fields = rest.split()
            if len(fields) == 3 and fields[1] in _DATA_TYPES and not _COMPILER_MADE.match(fields[2]):
                symbols[mapping[Path(path)]].add(_LOCAL_SUFFIX_RE.sub("", fields[2]))
    return symbols


_DEFINITION_RE = re.compile(r"\b([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*=")


def generated_sources(built: Path, pristine: Path) -> tuple[set[str], set[str]]:
    """(sources the build generated, names those generated files define):
    files of the built tree's source directories that the pristine tree lacks,
    such as Python/deepfreeze/deepfreeze.c and Python/frozen_modules/*.h."""
    files: set[str] = set()
    names: set[str] = set()
    for directory in _SOURCE_DIRS:
        for path in (built / directory).rglob("*.[ch]"):
            relative = path.relative_to(built).as_posix()
            if not (pristine / relative).exists():
                files.add(relative)
                names.update(_DEFINITION_RE.findall(path.read_text(errors="replace")))
    return files, names
