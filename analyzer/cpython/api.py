"""Calls and fields of CPython's C API (and of libc) that the analysis reacts to."""
from __future__ import annotations

import re

MUTATING_CALLS = frozenset("""
    PyType_Ready PyStructSequence_InitType PyStructSequence_InitType2 _PyStructSequence_InitType
    _PyStructSequence_InitBuiltin _PyStructSequence_InitBuiltinWithFlags _PyStaticType_InitBuiltin
    _PyStaticType_Dealloc _PyStaticType_FiniBuiltin _PyStructSequence_FiniBuiltin _PyStructSequence_FiniType
    PyModule_AddType PyType_Modified _PyType_Fini _PyTypes_InitTypes _PyStaticType_ClearWeakRefs
    """.split())
"""Generic API that writes into the type or object whose address it is given
(readying a static type, filling a struct sequence type)."""

MAIN_INTERPRETER_TESTS = frozenset({"_Py_IsMainInterpreter"})
"""Code under a test of these runs for the main interpreter only, so once per process."""

REFCOUNT_CALLS = frozenset("""
    Py_INCREF Py_DECREF Py_XINCREF Py_XDECREF _Py_INCREF _Py_DECREF _Py_XINCREF _Py_XDECREF Py_NewRef Py_XNewRef
    _Py_NewRef _Py_XNewRef Py_SET_REFCNT _Py_SET_REFCNT Py_REFCNT _Py_REFCNT Py_TYPE _Py_TYPE Py_SIZE _Py_SIZE
    Py_IS_TYPE _Py_IS_TYPE _Py_IsImmortal _Py_IncRef _Py_DecRef Py_IncRef Py_DecRef _Py_Dealloc _Py_DECREF_SPECIALIZED
    _Py_DECREF_NO_DEALLOC _Py_RefcntAdd _Py_NewReference
    """.split())
"""Reference counting: a write to the object header that immortal objects
(3.12+) make harmless; not a change of state."""


def is_refcount_call(name: str | None) -> bool:
    """One of REFCOUNT_CALLS, or a helper named as CPython names its own
    reference counting of other structures (`dictkeys_incref`, `..._decref`)."""
    return name is not None and (name in REFCOUNT_CALLS or _REFCOUNT_HELPER.search(name) is not None)


_REFCOUNT_HELPER = re.compile(r"_(?:inc|dec)ref$", re.I)

SIGNAL_STATE_CALLS = frozenset({"sigaction", "sigaltstack", "signal", "PyOS_setsig", "sigprocmask",
                                "pthread_sigmask"})
"""The process's signal disposition: what these get is process-wide."""

HANDLER_ARGUMENTS = {"signal": 1, "PyOS_setsig": 1, "sigset": 1}
"""Calls that install a function as a signal handler: callee -> the handler's argument position."""
HANDLER_FIELDS = frozenset({"sa_handler", "sa_sigaction"})
"""Members of struct sigaction that hold a handler."""
HANDLER_NAMES = frozenset(HANDLER_ARGUMENTS) | HANDLER_FIELDS
"""Every name whose mention may install a signal handler: a body that
mentions one is parsed in full, so that its handlers are recorded."""

ATOMIC_SUFFIXES = {"int": "int", "unsigned int": "uint", "unsigned": "uint", "long": "long",
                   "unsigned long": "ulong", "Py_ssize_t": "ssize", "intptr_t": "intptr", "uintptr_t": "uintptr",
                   **{f"{s}int{n}_t": f"{s}int{n}" for s in ("", "u") for n in (8, 16, 32, 64)}}
"""The suffix of pyatomic's functions for each scalar type (_Py_atomic_add_ssize for Py_ssize_t)."""

READ_ONLY_PARAMETERS = {name: 3 for name in ("PyArg_ParseTupleAndKeywords", "_PyArg_ParseTupleAndKeywords_SizeT",
                                             "PyArg_VaParseTupleAndKeywords", "_PyArg_VaParseTupleAndKeywords_SizeT")}
"""Parameters CPython declares without const but only reads: the keyword
list of the keyword-parsing API (3.13 declares it `char * const *`)."""

BUFFER_DESTINATIONS = {**dict.fromkeys("""
    memcpy memmove memset strcpy strncpy strcat strncat sprintf snprintf vsprintf vsnprintf PyOS_snprintf
    PyOS_vsnprintf fgets fread getcwd strftime wcscpy wcsncpy wcscat wcsncat wmemcpy wmemmove wmemset
    mbstowcs wcstombs
    """.split(), 0), **dict.fromkeys(("read", "recv", "recvfrom", "readlink"), 1)}
"""C library calls that write into a buffer they are given, with the
position of that argument: the variable given there is written
(`memcpy(&x, &v, sizeof x)`, which 3.13's Py_XSETREF expands to)."""
BUFFER_WRITING_CALLS = frozenset(BUFFER_DESTINATIONS)
"""A member of a parameter given to one (`memcpy(p->name, ...)`) is a
write through the parameter, where a member given to another call is a
read of its value."""

PROCESS_RESOURCE_CALLS = frozenset("""
    openlog closelog setlogmask setlocale setvbuf setbuf atexit on_exit pthread_atfork putenv setenv unsetenv
    tzset umask dup3 pipe2 accept4 ioctl getrandom getentropy sysconf confstr
    mpd_setminalloc Tcl_FindExecutable PyThread_start_new_thread PyThread_start_joinable_thread
    initscr newterm setupterm start_color
    """.split())
"""What exists once per process, whichever interpreter asks: the C library's
and the OS's process state (the syslog identity, the locale, stdio
buffering, exit handlers, the environment), probes of what the kernel
supports, libraries configured once per process (libmpdec's allocation
size, Tcl's executable), the terminal curses sets up, and watchdog
threads."""

LOCK_CALLS = frozenset("""
    PyThread_acquire_lock PyThread_acquire_lock_timed PyMutex_Lock _PyMutex_Lock _PyMutex_LockTimed
    _PyRawMutex_Lock PyMUTEX_LOCK pthread_mutex_lock pthread_rwlock_wrlock EnterCriticalSection AcquireSRWLockExclusive
    """.split())
"""Acquiring a lock: the data written while holding a process-wide lock is
shared on purpose."""

ATOMIC_WRITE = re.compile(r"_Py_atomic_(?:store|add|exchange|compare_exchange|or|and|fetch)")
"""pyatomic's read-modify-write and store operations: writes, though the
global's address is only passed (3.13 keeps many counters and pointers so)."""

PUBLIC_NAME = re.compile(r"_?Py[A-Z_]")
"""The prefix of the C API's names, public and private (Py_, Py[A-Z], _Py_, _Py[A-Z])."""

NEW_REFERENCE_CALLS = frozenset("""
    PyObject_GetAttr PyObject_GetAttrString _PyObject_GetAttrId PyObject_GetItem PyImport_Import
    PyImport_ImportModule PyImport_ImportModuleLevel PyImport_ImportModuleLevelObject _PyImport_GetModuleAttr
    _PyImport_GetModuleAttrString PyUnicode_FromString PyUnicode_InternFromString PyUnicode_FromFormat
    PyUnicode_FromStringAndSize PyUnicode_DecodeFSDefault PyBytes_FromString PyBytes_FromStringAndSize
    PyLong_FromLong PyLong_FromSsize_t PyLong_FromUnsignedLong PyLong_FromLongLong PyLong_FromString
    PyFloat_FromDouble PyTuple_New PyTuple_Pack PyList_New PyDict_New PySet_New PyFrozenSet_New Py_BuildValue
    PyObject_Call PyObject_CallObject PyObject_CallNoArgs PyObject_CallOneArg PyObject_CallFunction
    PyObject_CallFunctionObjArgs PyObject_CallMethod PyObject_CallMethodObjArgs PyObject_CallMethodNoArgs
    PyObject_CallMethodOneArg PyObject_Vectorcall PyObject_VectorcallMethod PyErr_NewException
    PyErr_NewExceptionWithDoc PyType_FromSpec PyType_FromSpecWithBases PyType_FromModuleAndSpec
    PyType_FromMetaclass PyStructSequence_NewType PyCapsule_New PyWeakref_NewRef PyDictProxy_New
    PyContextVar_New Py_NewRef Py_XNewRef _Py_NewRef _Py_XNewRef PyObject_Repr PyObject_Str
    """.split())
"""Calls that return a new (owned) reference: a global that stores one owns
what it points to."""

BORROWED_REFERENCE_CALLS = frozenset("""
    PyDict_GetItem PyDict_GetItemString PyDict_GetItemWithError _PyDict_GetItemWithError _PyDict_GetItemIdWithError
    _PyDict_GetItemStringWithError PyList_GetItem PyList_GET_ITEM PyTuple_GetItem PyTuple_GET_ITEM PyModule_GetDict
    PyModule_GetNameObject PySys_GetObject _PySys_GetAttr PyEval_GetBuiltins PyEval_GetGlobals PyEval_GetLocals
    PyImport_GetModuleDict PyImport_AddModule PyImport_AddModuleObject PyWeakref_GetObject PyWeakref_GET_OBJECT
    PyCell_GET PyErr_Occurred PyThreadState_GetDict
    """.split())
"""Calls that return a borrowed reference: a global that stores one owns
nothing unless the code increfs it."""

INCREF_CALLS = frozenset({"Py_INCREF", "Py_XINCREF", "_Py_INCREF", "_Py_XINCREF", "Py_IncRef"})
"""Taking a reference: a borrowed value stored and increfed is owned."""
DECREF_CALLS = frozenset({"Py_DECREF", "Py_XDECREF", "Py_CLEAR", "_Py_DECREF", "_Py_XDECREF"})
"""Releasing a reference."""
STEALING_CALLS = {"PyModule_AddObject": 2, "PyModule_Add": 2, "PyTuple_SET_ITEM": 2, "PyTuple_SetItem": 2,
                  "PyList_SET_ITEM": 2, "PyList_SetItem": 2, "PyStructSequence_SET_ITEM": 2,
                  "PyStructSequence_SetItem": 2}
"""Calls that steal the reference given as their argument at this index
(PyModule_AddObject() on success only)."""

SETREF_CALLS = frozenset({"Py_SETREF", "Py_XSETREF"})
"""Replace what a reference holds with a new reference, releasing the old."""

MODULE_STATE_CALLS = frozenset({"PyModule_GetState", "_PyModule_GetState"})
"""What a module's state getter calls: `get_array_state(module)`."""

MODULE_DEF_FIELDS = ("m_name", "m_doc", "m_size", "m_methods", "m_slots", "m_traverse", "m_clear", "m_free")
"""The members of PyModuleDef after its PyModuleDef_HEAD_INIT, in order (for
positional initializers)."""

MODULE_EXEC_SLOT = "Py_mod_exec"
"""The slot of a multi-phase module's exec function (PEP 489)."""
MODULE_CREATE_CALLS = frozenset({"PyModule_Create", "PyModule_Create2"})
"""How single-phase init creates its module object from its PyModuleDef."""
SINGLE_PHASE_LOOKUPS = frozenset({"PyState_FindModule", "PyState_AddModule", "PyState_RemoveModule"})
"""The per-interpreter registry of single-phase modules: a multi-phase
module is not in it (PyState_FindModule returns NULL for it)."""
PER_INTERPRETER_GIL_SLOT = ("Py_mod_multiple_interpreters", "Py_MOD_PER_INTERPRETER_GIL_SUPPORTED")
"""The slot a module that keeps no state in C globals declares (3.12+) to be
imported by subinterpreters with their own GIL."""
GIL_CALL, GIL_SLOT = "PyUnstable_Module_SetGIL", "Py_mod_gil"
"""How a single-phase module says whether it needs the GIL on a
free-threaded build (3.13+), and the slot a multi-phase one says it with."""
MODULE_INIT_TYPE = "PyMODINIT_FUNC"
"""The declared return type of `PyInit_NAME()`."""

GC_ALLOCATIONS = {"PyObject_New": "PyObject_GC_New", "PyObject_NEW": "PyObject_GC_New"}
"""Allocating an instance of a type without GC, and its collected twin."""
GC_FREES = {"PyObject_Free": "PyObject_GC_Del", "PyObject_Del": "PyObject_GC_Del",
            "PyObject_DEL": "PyObject_GC_Del", "PyObject_FREE": "PyObject_GC_Del"}
"""Freeing such an instance, and freeing a collected one."""
FINALIZER_FROM_DEALLOC = "PyObject_CallFinalizerFromDealloc"
"""Returns -1 when the finalizer resurrected the object the dealloc was given."""
TYPE_FREE_CALLS = frozenset({"tp_free", "PyObject_GC_Del", "PyObject_Del", "PyObject_Free", "PyObject_DEL",
                             "PyObject_FREE"})
"""What the last statement of an instance's dealloc calls to free it."""

ONCE_FLAG = ("pycore_lock.h", "_PyOnceFlag", "_PyOnceFlag_CallOnce")
"""Where the core's run-once primitive is declared (3.13+), its flag type
and its call: `_PyOnceFlag_CallOnce(&flag, fn, arg)` runs `int fn(void *)`
once per process, the other callers waiting until it has returned."""

_CORE_BUILD_RE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+Py_BUILD_CORE(?:_MODULE)?\b", re.M)


def sees_internal_api(path: str, text: str) -> bool:
    """Whether the file is compiled with Py_BUILD_CORE, so that it may
    include the internal headers (pycore_*.h): the core itself, or an
    extension module that defines Py_BUILD_CORE_MODULE."""
    return path.startswith(("Objects/", "Python/", "Parser/")) or _CORE_BUILD_RE.search(text) is not None


POINTER_TYPEDEFS = frozenset({"PyThread_type_lock"})
"""Typedefs of the C API that are pointers (pythread.h: `typedef void *PyThread_type_lock;`)."""
