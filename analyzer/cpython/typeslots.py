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

OBJECT_INHERITED = {"tp_alloc": "PyType_GenericAlloc", "tp_getattro": "PyObject_GenericGetAttr",
                    "tp_setattro": "PyObject_GenericSetAttr"}
"""Slots a type based on object inherits with these values: a spec need not
give them.  (tp_free too: PyObject_Del, or PyObject_GC_Del with GC.)"""

TYPE_FIRST_SLOTS = frozenset({"tp_new", "tp_alloc"})
"""Slots whose function is given the type (or a subtype) first."""

BINARY_NUMBER_SLOTS = frozenset({"nb_add", "nb_subtract", "nb_multiply", "nb_remainder", "nb_divmod", "nb_power",
                                 "nb_lshift", "nb_rshift", "nb_and", "nb_xor", "nb_or", "nb_floor_divide",
                                 "nb_true_divide", "nb_matrix_multiply"})
"""Number slots called for either operand: one of the first two is an
instance of the type (or a subtype), not always the first."""

TEARDOWN_SLOTS = frozenset({"tp_dealloc", "tp_clear", "tp_traverse", "tp_finalize", "tp_del"})
"""Slots the garbage collector and deallocation call, also while the
interpreter is torn down: by then the type itself may be cleared (its MRO
gone), so they must not look the module state up through the type."""

NOT_SELF_SLOTS = BINARY_NUMBER_SLOTS | {"tp_free"}
"""Slots whose function may be given something else first (tp_free: raw
memory); the other slots are given an instance of the type (or a subtype)
first."""

METHOD_TABLE_FIELDS = ("name", "function", "flags", "doc")
GETSET_TABLE_FIELDS = ("name", "get", "set", "doc", "closure")
CLASS_METHOD_FLAG = "METH_CLASS"
STATIC_METHOD_FLAG = "METH_STATIC"
"""A PyMethodDef entry's members; a METH_CLASS method is given the class,
a METH_STATIC one no object of the type."""

HEAD_INIT_MACROS = frozenset({"PyVarObject_HEAD_INIT", "PyObject_HEAD_INIT"})
"""The macro that opens a static type's initializer (it ends in a comma)."""


@dataclass(frozen=True, slots=True)
class TypeLayout:
    fields: tuple[str, ...]                           # PyTypeObject's members after its head, in order
    tables: tuple[tuple[str, tuple[str, ...]], ...]    # (tp_as_number, its members in order), ...
    slots: frozenset[str]                             # what Include/typeslots.h defines: Py_tp_init, ...
    member_flags: tuple[str, str] = ("T_PYSSIZET", "READONLY")    # a Py_ssize_t read-only PyMemberDef
    member_header: str = "structmember.h"             # the header that defines them, "" for Python.h

    def table(self, field: str) -> tuple[str, ...]:
        return next((members for name, members in self.tables if name == field), ())


def type_layout(object_h: str, typeslots_h: str, descrobject_h: str = "") -> TypeLayout | None:
    """The layout from the texts of Include/cpython/object.h,
    Include/typeslots.h and Include/descrobject.h (since 3.12 it spells
    the member types Py_T_*, without structmember.h); None when they do
    not define it."""
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
    if re.search(r"^[ \t]*#[ \t]*define[ \t]+Py_T_PYSSIZET\b", descrobject_h, flags=re.M):
        return TypeLayout(fields=fields, tables=tuple(tables), slots=slots,
                          member_flags=("Py_T_PYSSIZET", "Py_READONLY"), member_header="")
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
