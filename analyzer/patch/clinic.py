"""Argument Clinic and heap types: a type its clinic input names (`class
mod.T "Tobject *" "&T_type"`, `subclass_of='&T_type'`) is named by the
generated `clinic/FILE.c.h` too.  The conversion names the state member in
the input instead (`clinic_state()->T_type`, the macro defined around the
include, as upstream does), and the tree's own Tools/clinic/clinic.py
regenerates the output and its checksums."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .edits import Edit, EditError, Token, apply_edits, line_start

if TYPE_CHECKING:
    from .modules import Conversion

CLINIC_STATE = "clinic_state"
_INPUT_BLOCK = re.compile(r"/\*\[clinic input\].*?\[clinic start generated code\]\*/", re.S)
_CLINIC_TIMEOUT = 120


def clinic_include(code: list[Token]) -> tuple[int, str] | None:
    """(token index, path relative to the file) of `#include "clinic/X.c.h"`."""
    for index, token in enumerate(code):
        if token.directive == "include" and token.kind == "string" and token.text.startswith('"clinic/'):
            return index, token.text.strip('"')
    return None


def input_edits(text: str, tokens: list[Token], name: str, member: str) -> list[Edit]:
    """`&NAME` inside the file's clinic input blocks becomes `MEMBER`."""
    edits = []
    for token in tokens:
        if token.kind != "comment":
            continue
        for block in _INPUT_BLOCK.finditer(token.text):
            for match in re.finditer(rf"&{re.escape(name)}\b", block.group()):
                start = token.start + block.start() + match.start()
                edits.append(Edit(start=start, end=start + len(match.group()), text=member))
    return edits


def named_in_input(tokens: list[Token], name: str) -> bool:
    return any(re.search(rf"&{re.escape(name)}\b", block.group())
               for token in tokens if token.kind == "comment" for block in _INPUT_BLOCK.finditer(token.text))


def macro_edits(text: str, code: list[Token], include: int, finder: str) -> list[Edit]:
    """`#define clinic_state() (FINDER(type))` before the include, `#undef`
    after it: the generated __new__ functions are given the type."""
    token = code[include]
    start = line_start(text, token.start)
    end = text.find("\n", token.end) + 1
    if not end:
        raise EditError("the clinic include ends the file")
    return [Edit(start=start, end=start, text=f"#define {CLINIC_STATE}() ({finder}(type))\n"),
            Edit(start=end, end=end, text=f"#undef {CLINIC_STATE}\n")]


def regenerate(root: Path, path: str, text: str, output_path: str, output: str) -> tuple[str, str] | str:
    """The file and its clinic output as the tree's Tools/clinic/clinic.py
    writes them from `text` (the edited file), or why it could not."""
    tool = root / "Tools" / "clinic" / "clinic.py"
    if not tool.is_file():
        return "the tree has no Tools/clinic/clinic.py"
    with tempfile.TemporaryDirectory(prefix="cglobals-clinic-") as scratch:
        work = Path(scratch)
        source, generated = work / path, work / output_path
        generated.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(text, encoding="utf-8")
        generated.write_text(output, encoding="utf-8")
        tools = work / "Tools"
        shutil.copytree(root / "Tools" / "clinic", tools / "clinic")
        try:
            run = subprocess.run([sys.executable, str(tools / "clinic" / "clinic.py"), str(source)], cwd=work,
                                 capture_output=True, text=True, timeout=_CLINIC_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"clinic.py did not run: {exc}"
        if run.returncode != 0:
            lines = (run.stderr or run.stdout).strip().splitlines()
            return f"clinic.py failed: {lines[-1] if lines else run.returncode}"
        return source.read_text(encoding="utf-8"), generated.read_text(encoding="utf-8")


def regenerate_clinic(root: Path, conversions: tuple[Conversion, ...],
                      texts: dict[str, str]) -> tuple[tuple[Conversion, ...], dict[str, str]]:
    """Each conversion whose clinic input changed, with the file and its
    clinic output as the tree's clinic.py writes them; the files it could
    not regenerate, with why (their conversions are left out)."""
    done, failed = [], {}
    for conversion in conversions:
        if not conversion.clinic_output:
            done.append(conversion)
            continue
        edited = apply_edits(texts[conversion.file], conversion.edits)
        found = regenerate(root, conversion.file, edited, conversion.clinic_output,
                           texts[conversion.clinic_output])
        if isinstance(found, str):
            failed[conversion.file] = found
            continue
        done.append(replace(conversion, texts=((conversion.file, found[0]), (conversion.clinic_output, found[1])),
                            clinic_before=texts[conversion.clinic_output]))
    return tuple(done), failed
