"""Py_mod_multiple_interpreters (3.12+): a module that keeps nothing in C
globals says it may be imported by subinterpreters with their own GIL;
without the slot they refuse it.  The limited API has the slot from 3.12
only, so a file built against an older one cannot say it."""
from __future__ import annotations

import re

from ..cpython.api import PER_INTERPRETER_GIL_SLOT
from .edits import Edit, EditError, Token, indent_at
from .module_source import table_entries

_LIMITED_API = re.compile(r"^[ \t]*#[ \t]*define[ \t]+Py_LIMITED_API[ \t]+(0x[0-9A-Fa-f]+|\d+)?", re.M)
_SLOT_LIMITED_API = 0x030C0000


def own_gil_expressible(text: str) -> bool:
    """Whether the file may use the slot: it does not define Py_LIMITED_API
    as a version before 3.12."""
    for match in _LIMITED_API.finditer(text):
        value = match.group(1)
        if value is None or int(value, 0) < _SLOT_LIMITED_API:
            return False
    return True


def declares_own_gil(code: list[Token], table: str) -> bool:
    return any([t.text for t in entry.get("slot", [])] == [PER_INTERPRETER_GIL_SLOT[0]]
               and [t.text for t in entry.get("value", [])] == [PER_INTERPRETER_GIL_SLOT[1]]
               for entry in table_entries(code, table, ("slot", "value")))


def own_gil_slot_edit(text: str, code: list[Token], table: str) -> Edit:
    """The slot, on a line of its own after the table's Py_mod_exec entries."""
    entries = table_entries(code, table, ("slot", "value"))
    slots = [entry.get("slot", []) for entry in entries]
    if any([t.text for t in slot] == [PER_INTERPRETER_GIL_SLOT[0]] for slot in slots):
        raise EditError(f"{table} says Py_mod_multiple_interpreters already, not with "
                        f"{PER_INTERPRETER_GIL_SLOT[1]}")
    execs = [slot for slot in slots if [t.text for t in slot] == ["Py_mod_exec"]]
    if not execs:
        raise EditError(f"{table} has no Py_mod_exec entry")
    last = execs[-1][0]
    at = text.find("\n", last.end) + 1
    if not at or text[last.end:at].count("}") != 1:
        raise EditError(f"the Py_mod_exec entry of {table} does not end its line")
    entry = f"{indent_at(text, last.start)}{{{PER_INTERPRETER_GIL_SLOT[0]}, {PER_INTERPRETER_GIL_SLOT[1]}}},\n"
    return Edit(start=at, end=at, text=entry)
