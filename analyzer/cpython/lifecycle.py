"""The entry points of CPython's lifecycle: where the runtime, an
interpreter or a module starts and ends, and the process-wide hooks."""
from __future__ import annotations

PRE_INIT_API = frozenset("""
    Py_SetProgramName Py_SetPythonHome Py_SetPath Py_SetStandardStreamEncoding _Py_SetProgramFullPath
    PySys_SetArgv PySys_SetArgvEx PySys_AddWarnOption PySys_AddWarnOptionUnicode PySys_ResetWarnOptions
    PySys_AddXOption PySys_HasWarnOptions PyImport_AppendInittab PyImport_ExtendInittab
    """.split())
"""What an embedder calls before Py_Initialize(): the legacy configuration API."""
RUNTIME_ENTRIES = frozenset("""
    main wmain
    Py_Initialize Py_InitializeEx Py_InitializeFromConfig _Py_InitializeMain Py_PreInitialize
    Py_PreInitializeFromArgs Py_PreInitializeFromBytesArgs _Py_PreInitializeFromConfig _Py_PreInitializeFromPyArgv
    _PyRuntime_Initialize _PyRuntimeState_Init _PyRuntime_Finalize _PyRuntimeState_Fini Py_Finalize Py_FinalizeEx
    _Py_Finalize PyOS_BeforeFork PyOS_AfterFork_Parent PyOS_AfterFork_Child _PyRuntimeState_ReInitThreads
    Py_Main Py_BytesMain Py_RunMain Py_Exit Py_FatalError _Py_FatalErrorFunc _Py_FatalErrorFormat
    """.split()) | PRE_INIT_API
"""The C program's main(), the pre-init API, runtime init and finalization,
fork hooks, the main program, fatal errors: once per process (a test
program's main() excepted)."""
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
ALLOCATOR_TABLES = ("PyMemAllocatorEx", "PyObjectArenaAllocator")
"""The types of the allocator tables; the functions a static one's initializer
names are the default allocator (pymalloc's, or mimalloc's)."""
HOOK_INSTALLERS = frozenset({"PySys_AddAuditHook", "PyFile_SetOpenCodeHook"})
"""Installing a process-wide hook: the runtime keeps one list of audit hooks
and one open_code hook, which every interpreter's events and opens call."""
CALLBACK_DEPTH = {"SIGNAL_HANDLER": 2, "OBJECT_ALLOCATOR": 4, "ALLOCATOR": 3, "PROCESS_HOOK": 2}
"""How far from a signal handler, the default allocator, an allocator hook or
a process-wide hook code still counts as running in it: they set flags or
record through a helper or a few; deeper calls are shared with ordinary code."""

MODULE_INIT_PREFIX = "PyInit_"
"""An extension module's single-phase init function: PyInit_<name>."""
MODULE_SLOT_TYPE = "PyModuleDef_Slot"
"""The type of a module's slot table: the functions it names are module init/exec entries."""
