"""How guards are laid out as PEP 7 asks: one statement a line, at the
indentation of the statement replaced, conditions broken before 80
columns; guarded statements that follow each other in a function share
one lock (and, run once, one flag)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .edits import Edit

if TYPE_CHECKING:
    from .guards import Guard

LOCK_NAME = "init_lock"
DONE_NAME = "init_done"
INDENT = "    "
WIDTH = 79


def if_lines(test: tuple[str, str, str], column: int) -> list[str]:
    """`if (left op right) {`, or, past 79 columns, the condition broken
    before its operator and the brace on a line of its own (PEP 7)."""
    left, operator, right = test
    line = f"if ({left} {operator} {right}) {{"
    if column + len(line) <= WIDTH:
        return [line]
    return [f"if ({left}", f"{INDENT}{operator} {right})", "{"]


def fitted(first: str, rest: str, column: int) -> list[str]:
    """`first + rest` on one line, or broken after `first` with `rest`
    indented one level, past 79 columns."""
    if column + len(first) + len(rest) <= WIDTH:
        return [first + rest]
    return [first.rstrip(), INDENT + rest.lstrip()]


_TRAILING_COMMENT_RE = re.compile(r"[ \t]*(//[^\n]*|/\*[^\n]*?\*/)[ \t]*(?=\n)")


def comment_end(text: str, end: int) -> int:
    """Where the statement ending at `end` ends with the comment that
    follows it on its line, if one does (it goes inside the guard with it)."""
    match = _TRAILING_COMMENT_RE.match(text, end)
    return match.end(1) if match else end


def _joined(group: list[Guard], text: str) -> list[str]:
    """The guarded code of the group's statements, a blank line kept
    between two that had one."""
    lines: list[str] = []
    for index, guard in enumerate(group):
        if index and text.count("\n", group[index - 1].edit.end, guard.edit.start) > 1:
            lines.append("")
        lines += guard.guarded.split("\n")
    return lines


def render_group(group: list[Guard], once: bool, text: str = "") -> str:
    """The code replacing the statements of `group` (adjacent, in one
    function), laid out at the first one's indentation: one lock around
    them all when they are locked, one flag when they run once."""
    first = group[0]
    if first.locked:
        lines = ["{", f"{INDENT}static PyMutex {LOCK_NAME};"]
        if once:
            lines.append(f"{INDENT}static int {DONE_NAME} = 0;")
        lines.append(f"{INDENT}PyMutex_Lock(&{LOCK_NAME});")
        inner = _joined(group, text)
        if once:
            lines += [f"{INDENT}if (!{DONE_NAME}) {{", *indented(inner, 2),
                      f"{INDENT * 2}{DONE_NAME} = 1;", f"{INDENT}}}"]
        else:
            lines += indented(inner, 1)
        lines += [f"{INDENT}PyMutex_Unlock(&{LOCK_NAME});", "}"]
    else:
        lines = _joined(group, text)
    joint = " \\\n" if first.in_macro else "\n"
    return re.sub(r"[ \t]+\n", "\n", (joint + first.indent).join(lines))


def indented(lines: list[str], levels: int) -> list[str]:
    return [INDENT * levels + line if line.strip() else line for line in lines]


def grouped_edits(guards: list[Guard], text: str) -> list[Edit]:
    """The edits of one file's guards, those of statements that follow each
    other (nothing but blank space between) sharing one lock: runs of
    locked guards of the same kind (run once or not) in one function."""
    ordered = sorted(guards, key=lambda guard: guard.edit.start)
    edits: list[Edit] = []
    group: list[Guard] = []

    def flush() -> None:
        if group:
            once = group[0].form == "once"
            edits.append(Edit(start=group[0].edit.start, end=group[-1].edit.end,
                              text=render_group(group, once, text)))
            group.clear()

    for guard in ordered:
        if guard.form == "free-threaded" or not guard.locked or guard.in_macro:
            flush()
            edits.append(guard.edit)
            continue
        if group and (text[group[-1].edit.end:guard.edit.start].strip()
                      or group[-1].access.function != guard.access.function
                      or (group[-1].form == "once") != (guard.form == "once")):
            flush()
        group.append(guard)
    flush()
    return edits
