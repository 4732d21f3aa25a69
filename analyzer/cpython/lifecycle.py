"""The entry points of CPython's lifecycle: where the runtime, an
interpreter or a module starts and ends, and the process-wide hooks."""
from __future__ import annotations

RUNTIME_ENTRIES = frozenset("""
    Py_Initialize Py_InitializeEx Py_InitializeFromConfig _Py_InitializeMain Py_PreInitialize
    Py_PreInitializeFromArgs Py_PreInitializeFromBytesArgs _Py_PreInitializeFromConfig _Py_PreInitializeFromPyArgv
    _PyRuntime_Initialize _PyRuntimeState_Init _PyRuntime_Finalize _PyRuntimeState_Fini Py_Finalize Py_FinalizeEx
    _Py_Finalize PyOS_BeforeFork PyOS_AfterFork_Parent PyOS_AfterFork_Child _PyRuntimeState_ReInitThreads
    Py_Main Py_BytesMain Py_RunMain Py_Exit Py_FatalError _Py_FatalErrorFunc _Py_FatalErrorFormat
    """.split())
"""Runtime init and finalization, fork hooks, the main program, fatal errors: once per process."""
INTERPRETER_ENTRIES = frozenset("""
    Py_NewInterpreter Py_NewInterpreterFromConfig _Py_NewInterpreter _Py_NewInterpreterFromConfig
    Py_EndInterpreter PyInterpreterState_New _PyInterpreterState_New PyInterpreterState_Clear
    PyInterpreterState_Delete _PyInterpreterState_Clear
    """.split())
ALLOCATOR_API = frozenset("""
    PyMem_SetAllocator PyMem_GetAllocator PyObject_SetArenaAllocator PyObject_GetArenaAllocator
    PyMem_SetupDebugHooks _PyMem_SetupAllocators _PyMem_SetDefaultAllocator
    """.split())
"""The process-wide memory allocator tables, and installing hooks into them."""
INSTALLERS = frozenset({"PyMem_SetAllocator", "PyObject_SetArenaAllocator"})
CALLBACK_DEPTH = {"SIGNAL_HANDLER": 2, "ALLOCATOR": 3}
"""How far from a signal handler or an allocator hook code still counts as
running in it: they set flags or record through a helper or two; deeper calls
are shared with ordinary code."""

MODULE_INIT_PREFIX = "PyInit_"
"""An extension module's single-phase init function: PyInit_<name>."""
MODULE_SLOT_TYPE = "PyModuleDef_Slot"
"""The type of a module's slot table: the functions it names are module init/exec entries."""
