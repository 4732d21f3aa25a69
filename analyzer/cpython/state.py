"""Where CPython keeps interpreter and runtime state: the files, structs,
initializer macros and anchors a patch series edits to hang moved globals
off that state."""
from __future__ import annotations

INTERP_HEADER = "Include/internal/pycore_interp.h"
"""Declares struct _is (PyInterpreterState)."""
RUNTIME_HEADER = "Include/internal/pycore_runtime.h"
"""Declares struct pyruntimestate (_PyRuntimeState)."""
INIT_HEADER = "Include/internal/pycore_runtime_init.h"
"""Defines the static initializers of both states."""
RUNTIME_SOURCE = "Python/pystate.c"
"""Resets the runtime state (_PyRuntimeState_Init) when Py_Initialize() runs again."""
MAKEFILE = "Makefile.pre.in"
INFRASTRUCTURE = (INTERP_HEADER, RUNTIME_HEADER, INIT_HEADER, RUNTIME_SOURCE, MAKEFILE)
"""The files a series hangs its state off: a tree without them cannot be edited."""

INTERPRETER_STRUCT = "_is"
RUNTIME_STRUCT = "pyruntimestate"
INTERPRETER_INIT_MACRO = "_PyInterpreterState_INIT"
RUNTIME_INIT_MACRO = "_PyRuntimeState_INIT"

INTERPRETER_STATE = "_PyInterpreterState_GET()"
"""The current interpreter's state, in core code ..."""
INTERPRETER_STATE_HEADER = "pycore_pystate.h"
"""... and the header that declares it."""
RUNTIME_STATE = "_PyRuntime"
RUNTIME_STATE_HEADER = "pycore_runtime.h"


def makefile_header_line(header: str) -> str:
    """A line of the Makefile's list of the headers every object depends on
    (PYTHON_HEADERS); the one for INTERP_HEADER is the anchor a new header goes before."""
    return f"\t\t$(srcdir)/{header} \\\n"
