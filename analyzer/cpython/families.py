"""What kind of data a global holds (model.Family), read from the names of
C's and CPython's types; which families the classifier decides from the type
alone."""
from __future__ import annotations

import re

from ..model import CType, Family

SCALAR_NAMES = frozenset("""
    char short int long signed unsigned float double _Bool bool __int128 _Complex
    size_t ssize_t ptrdiff_t intptr_t uintptr_t intmax_t uintmax_t wchar_t wint_t time_t clock_t pid_t
    uid_t gid_t off_t mode_t sig_atomic_t socklen_t int8_t int16_t int32_t int64_t uint8_t uint16_t
    uint32_t uint64_t u_char u_short u_int u_long Py_ssize_t Py_hash_t Py_uhash_t Py_UCS1 Py_UCS2 Py_UCS4
    Py_UNICODE digit sdigit twodigits stwodigits PyTime_t _PyTime_t uint_fast8_t uint_fast16_t
    uint_fast32_t uint_fast64_t int_fast8_t int_fast16_t int_fast32_t int_fast64_t
    """.split())
API_TABLES = frozenset("""
    PyMethodDef PyMemberDef PyGetSetDef PyType_Slot PyType_Spec PyModuleDef_Slot PyBufferProcs
    PyNumberMethods PySequenceMethods PyMappingMethods PyAsyncMethods PyStructSequence_Field
    PyStructSequence_Desc PyCapsule _PyArg_Parser_kwtuple
    """.split())
LOCKS = frozenset("""
    PyThread_type_lock PyThread_type_sema PyMutex PyMUTEX_T PyCOND_T PyRWMutex _PyOnceFlag _PyRecursiveMutex
    pthread_mutex_t pthread_cond_t pthread_once_t pthread_rwlock_t sem_t PyThread_type_key Py_tss_t
    """.split())
BY_NAME = {"PyTypeObject": Family.STATIC_TYPE, "PyModuleDef": Family.MODULE_DEF,
           "_PyRuntimeState": Family.RUNTIME_STATE, "pyruntimestate": Family.RUNTIME_STATE,
           "_PyArg_Parser": Family.ARG_PARSER, "_Py_Identifier": Family.IDENTIFIER,
           **dict.fromkeys(API_TABLES, Family.API_TABLE), **dict.fromkeys(LOCKS, Family.LOCK)}
"""The family of a type (a typedef name or a struct tag) known by its name."""
LOCK_NAME = re.compile(r"(?i)mutex|critical_section|srwlock|(?:^|_)lock(?:_t)?$")
"""A library's lock type, by its name: Tcl_Mutex, CRITICAL_SECTION, SRWLOCK."""


def pointee_family(shape: CType) -> Family | None:
    """The family, known by its name, of what a plain pointer points to
    (`struct _PyArg_Parser *`)."""
    if shape.pointers != 1 or shape.is_array or shape.function:
        return None
    return BY_NAME.get(shape.name)


def struct_family(tag: str | None) -> Family:
    """A struct named like an object's (`struct _longobject`, `struct _typeobject`):
    CPython's object structs are tagged so, as their typedefs end in Object."""
    if tag == "_typeobject":
        return Family.STATIC_TYPE
    return Family.OBJECT if tag is not None and tag.lower().endswith("object") else Family.STRUCT


DECIDED_BY_TYPE = frozenset({Family.LOCK, Family.RUNTIME_STATE, Family.IDENTIFIER, Family.ARG_PARSER,
                             Family.MODULE_DEF})
"""Families the classifier decides from the type alone (CPython's own
machinery writes them, the same way everywhere): their write sites are not
needed, so bodies are not parsed for their sake."""


def watch_kind(*, const: bool, family: Family, array: bool) -> str | None:
    """How a body can write a variable, for deciding which bodies to parse
    (parse.parse_unit): "objects" (static types and other static objects: by
    member writes and the mutating API), "arrays" (by any mention), "watched"
    (by a write context), or None (const, or a family decided by its type)."""
    if const or family in DECIDED_BY_TYPE:
        return None
    if family in (Family.STATIC_TYPE, Family.OBJECT):
        return "objects"
    return "arrays" if array else "watched"
