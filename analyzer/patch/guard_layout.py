"""How guards are laid out as PEP 7 asks: one statement a line, at the
indentation of the statement replaced, conditions broken before 80
columns; guarded statements that follow each other in a function share
one lock (and, run once, one flag)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..cpython.api import ONCE_FLAG
from .edits import Edit, Token, function_bodies, include_edit, line_start, tokenize

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


def grouped_edits(guards: list[Guard], text: str, once_flag: bool = False) -> list[Edit]:
    """The edits of one file's guards, those of statements that follow each
    other (nothing but blank space between) sharing one lock: runs of
    locked guards of the same kind (run once or not) in one function.
    With `once_flag` (the tree has `_PyOnceFlag` and the file may use
    it), a group run once becomes a function of its own that
    `_PyOnceFlag_CallOnce()` calls."""
    ordered = sorted(guards, key=lambda guard: guard.edit.start)
    edits: list[Edit] = []
    group: list[Guard] = []
    helpers: list[str] = []

    def flush() -> None:
        if group:
            once = group[0].form == "once"
            if once and once_flag:
                edits.extend(once_call_edits(group, text, helpers))
            else:
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
    if helpers:
        include = include_edit(text, tokenize(text), ONCE_FLAG[0], f"{ONCE_FLAG[2]}()")
        edits += [include] if include else []
    return edits


def once_call_edits(group: list[Guard], text: str, taken: list[str]) -> list[Edit]:
    """The statements of a group run once moved into `static int NAME(void
    *arg)`, defined after their function and declared before it; in their
    place a static `_PyOnceFlag` and the call that runs NAME once.  The
    statements name only macros and globals of the file and do not jump
    (guards._once_refusal), so they mean the same in a function of their own."""
    code = [t for t in tokenize(text) if t.kind != "comment"]
    function = group[0].access.function
    name_index, closing = next((start, end) for start, end, name in function_bodies(code)
                               if name == function and code[start].start <= group[0].edit.start <= code[end].end)
    used = {t.text for t in code if t.kind == "id"} | set(taken)
    helper = _helper_name([guard.access.target for guard in group], function, used)
    taken.append(helper)
    flag = next(n for n in (f"{helper.removeprefix('init_')}_once", f"{helper}_once") if n not in used)
    call, kind = ONCE_FLAG[2], ONCE_FLAG[1]
    first = group[0]
    body = indented(_joined(group, text), 1)
    definition_start = _definition_start(text, code, name_index)
    after = text.find("\n", code[closing].end) + 1
    return [
        Edit(start=definition_start, end=definition_start, text=f"static int {helper}(void *arg);\n\n"),
        Edit(start=first.edit.start, end=group[-1].edit.end,
             text=f"static {kind} {flag};\n{first.indent}" + _call_lines(f"(void){call}(", f"&{flag},",
                                                                      f"{helper}, NULL);", first.indent)),
        Edit(start=after, end=after,
             text="\n".join(["", "/* Run once per process: the values are the same for every interpreter. */",
                             "static int", f"{helper}(void *Py_UNUSED(arg))", "{",
                             *(re.sub(r"[ \t]+$", "", line) for line in body), f"{INDENT}return 0;", "}", ""])),
    ]


def _call_lines(opening: str, first: str, rest: str, indent: str) -> str:
    """`opening first rest` on one line, or past 79 columns broken after
    `first`, the rest aligned one past the parenthesis (PEP 7)."""
    if len(indent) + len(opening) + len(first) + 1 + len(rest) <= WIDTH:
        return f"{opening}{first} {rest}"
    return f"{opening}{first}\n{indent}{' ' * len(opening)}{rest}"


def _helper_name(targets: list[str], function: str, used: set[str]) -> str:
    """`init_special_values` for tables named `acos_special_values`,
    `sinh_special_values`, ...: their common suffix; else FUNCTION_once_init."""
    names = [target.split(".")[0].split("::")[-1] for target in targets]
    suffix = names[0]
    for name in names[1:]:
        while not name.endswith(suffix):
            suffix = suffix[1:]
    suffix = suffix[suffix.find("_"):] if "_" in suffix else ""
    candidates = [f"init{suffix}"] if len(names) > 1 and len(suffix) > 4 else []
    candidates += [f"{function}_once_init", f"{function}_once_init_{len(used)}"]
    return next(name for name in candidates if name not in used)


def _definition_start(text: str, code: list[Token], name_index: int) -> int:
    """The start of the line where the function's definition begins (its
    return type and storage class, before its name)."""
    index = name_index
    while index > 0 and code[index - 1].text not in (";", "}", "{") and code[index - 1].directive is None:
        index -= 1
    return line_start(text, code[index].start)
