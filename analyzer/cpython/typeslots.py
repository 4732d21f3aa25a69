"""The layout a static type's initializer follows and the slots a type spec
can give, read from the tree's own headers (Include/cpython/object.h,
Include/typeslots.h), so each release's fields and slots are its own."""
from __future__ import annotations

import re
from dataclasses import dataclass

TYPE_STRUCT = "_typeobject"
"""The struct of PyTypeObject: `struct _typeobject { ... };`."""

SUBSTRUCTS = {"tp_as_async": "PyAsyncMethods", "tp_as_number": "PyNumberMethods",
              "tp_as_sequence": "PySequenceMethods", "tp_as_mapping": "PyMappingMethods",
              "tp_as_buffer": "PyBufferProcs"}
"""The members of PyTypeObject that point to a table of more slots."""

SPEC_FIELDS = {"tp_name": "name", "tp_basicsize": "basicsize", "tp_itemsize": "itemsize", "tp_flags": "flags"}
"""The members of PyTypeObject a PyType_Spec gives as its own fields."""

MEMBER_OFFSETS = {"tp_weaklistoffset": "__weaklistoffset__", "tp_dictoffset": "__dictoffset__",
                  "tp_vectorcall_offset": "__vectorcalloffset__"}
"""Offsets a spec gives as read-only Py_ssize_t members of tp_members."""

RUNTIME_FIELDS = frozenset({"tp_dict", "tp_bases", "tp_mro", "tp_cache", "tp_subclasses", "tp_weaklist",
                            "tp_version_tag", "tp_watched", "tp_versions_used"})
"""Members PyType_Ready fills in: a static initializer leaves them zero."""

OBJECT_DEFAULTS = {"tp_getattro": ("PyObject_GenericGetAttr",), "tp_setattro": ("PyObject_GenericSetAttr",),
                   "tp_alloc": ("PyType_GenericAlloc",), "tp_free": ("PyObject_GC_Del", "PyObject_Del",
                                                                     "PyObject_Free")}
"""Slot values a type based on object inherits anyway (tp_free: PyType_Ready
picks the GC or plain free by the type's flags)."""

HEAD_INIT_MACROS = frozenset({"PyVarObject_HEAD_INIT", "PyObject_HEAD_INIT"})
"""The macro that opens a static type's initializer (it ends in a comma)."""


@dataclass(frozen=True, slots=True)
class TypeLayout:
    fields: tuple[str, ...]                           # PyTypeObject's members after its head, in order
    tables: tuple[tuple[str, tuple[str, ...]], ...]    # (tp_as_number, its members in order), ...
    slots: frozenset[str]                             # what Include/typeslots.h defines: Py_tp_init, ...

    def table(self, field: str) -> tuple[str, ...]:
        return next((members for name, members in self.tables if name == field), ())


def type_layout(object_h: str, typeslots_h: str) -> TypeLayout | None:
    """The layout from the texts of Include/cpython/object.h and
    Include/typeslots.h; None when they do not define it."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", " ", object_h, flags=re.S)
    fields = _members(text, rf"struct\s+{TYPE_STRUCT}\s*\{{")
    if "tp_name" not in fields:
        return None
    fields = fields[fields.index("tp_name"):]          # after the object head, macro or spelled out
    tables = []
    for field, struct in SUBSTRUCTS.items():
        members = _typedef_members(text, struct)
        if not members:
            return None
        tables.append((field, members))
    slots = frozenset(re.findall(r"^[ \t]*#[ \t]*define[ \t]+(Py_(?:tp|nb|sq|mp|am|bf)_\w+)[ \t]+\d+", typeslots_h,
                                 flags=re.M))
    return TypeLayout(fields=fields, tables=tuple(tables), slots=slots)


def _typedef_members(text: str, name: str) -> tuple[str, ...]:
    for match in re.finditer(r"typedef\s+struct\s*\w*\s*\{", text):
        body_end = _closing(text, match.end() - 1)
        if body_end > 0 and re.match(rf"\s*{name}\s*;", text[body_end + 1:]):
            return _declared(text[match.end():body_end])
    return ()


def _members(text: str, opening: str) -> tuple[str, ...]:
    match = re.search(opening, text)
    if match is None:
        return ()
    end = _closing(text, match.end() - 1)
    return _declared(text[match.end():end]) if end > 0 else ()


def _declared(body: str) -> tuple[str, ...]:
    """The member names of a struct body, in order (`Py_ssize_t a, b;`
    declares two; a head macro without a semicolon is not one)."""
    body = re.sub(r"^[ \t]*#[^\n]*", " ", body, flags=re.M)
    names = []
    for declaration in body.split(";"):
        for declarator in declaration.split(","):
            found = re.findall(r"[A-Za-z_]\w*", declarator)
            if found:
                names.append(found[-1])
    return tuple(names)


def _closing(text: str, brace: int) -> int:
    depth = 0
    for index in range(brace, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return -1
