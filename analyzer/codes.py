"""The diagnostic-code table: one entry per code.  Records carry the codes
as these values (the constants below); report/ only renders them."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True, kw_only=True)
class Code:
    code: str
    slug: str
    severity: Severity
    summary: str
    fix: str


_TABLE = (
    Code(code="CG101", slug="new-mutable-global", severity=Severity.ERROR,
         summary="a mutable global that the baseline does not list",
         fix="move it into interpreter state (PyInterpreterState or module state) or runtime state "
             "(_PyRuntimeState), make it const, or add it to the baseline with a reason"),
    Code(code="CG102", slug="stale-baseline-entry", severity=Severity.WARNING,
         summary="a baseline entry for a global that no longer exists",
         fix="remove the line from the baseline (cglobals baseline regenerates it)"),
    Code(code="CG103", slug="suppression-without-reason", severity=Severity.ERROR,
         summary="a cglobals: ignore[...] comment without a reason waives nothing",
         fix="say why the global may stay, after the brackets: /* cglobals: ignore[interpreter] why */"),
    Code(code="CG104", slug="unused-suppression", severity=Severity.WARNING,
         summary="a cglobals: ignore[...] comment that covers no global of its class",
         fix="put it on or just above the declaration, with the class the gate reports (runtime, interpreter "
             "or immutable), or remove it"),
    Code(code="CG901", slug="preprocess-error", severity=Severity.ERROR,
         summary="the file could not be preprocessed",
         fix="check the include paths and macros the file needs; the detail quotes the preprocessor"),
    Code(code="CG902", slug="missing-header", severity=Severity.ERROR,
         summary="a header the file includes does not exist in the tree",
         fix="restore the header, or fix the #include"),
    Code(code="CG903", slug="parse-error", severity=Severity.ERROR,
         summary="the preprocessed file could not be parsed as C",
         fix="the detail names the token; a compiler extension may need a stand-in in analyzer/stubs"),
    Code(code="CG904", slug="body-parse-error", severity=Severity.ERROR,
         summary="a function body could not be parsed; its writes to globals are unknown",
         fix="the detail names the token; a macro or type may need a stand-in in analyzer/stubs"),
    Code(code="CG905", slug="internal-error", severity=Severity.ERROR,
         summary="the analyzer failed on this file",
         fix="report a bug with the file attached"),
    Code(code="CG906", slug="unit-timeout", severity=Severity.ERROR,
         summary="the file was not analyzed within the per-unit time limit",
         fix="the detail says which step ran out of time; raise --unit-timeout, or report the file"),
    Code(code="CG907", slug="worker-died", severity=Severity.ERROR,
         summary="the worker process analyzing the file died (killed, or out of memory)",
         fix="the detail gives the signal or exit status; rerun with -j 1 to see the failure, or report the file"),
    Code(code="CG908", slug="too-large", severity=Severity.ERROR,
         summary="the file or what it expands to is larger than the analyzer accepts",
         fix="the detail names the limit; a file this large is generated data, not code to analyze"),
    Code(code="CG909", slug="unreadable-file", severity=Severity.ERROR,
         summary="the file is not a regular file that can be read",
         fix="the detail says what is there instead (a directory, a FIFO, a device, a broken link)"),
    Code(code="CG910", slug="nesting-too-deep", severity=Severity.ERROR,
         summary="a declaration nests deeper than the parser handles; its globals are unknown",
         fix="the location is the declaration that was left out; the rest of the file was analyzed"),
)

CODES: dict[str, Code] = {entry.slug: entry for entry in _TABLE}

NEW_MUTABLE_GLOBAL = CODES["new-mutable-global"]
STALE_BASELINE_ENTRY = CODES["stale-baseline-entry"]
SUPPRESSION_WITHOUT_REASON = CODES["suppression-without-reason"]
UNUSED_SUPPRESSION = CODES["unused-suppression"]
PREPROCESS_ERROR = CODES["preprocess-error"]
MISSING_HEADER = CODES["missing-header"]
PARSE_ERROR = CODES["parse-error"]
BODY_PARSE_ERROR = CODES["body-parse-error"]
INTERNAL_ERROR = CODES["internal-error"]
UNIT_TIMEOUT = CODES["unit-timeout"]
WORKER_DIED = CODES["worker-died"]
TOO_LARGE = CODES["too-large"]
UNREADABLE_FILE = CODES["unreadable-file"]
NESTING_TOO_DEEP = CODES["nesting-too-deep"]

_STAYS = (
    Code(code="CG301", slug="single-phase-module", severity=Severity.NOTE,
         summary="its module has no module state yet and single-phase init (a multi-phase module without state "
                 "gets one)",
         fix="convert the module to multi-phase init with a state struct (PEP 489); the series does not generate "
             "that yet"),
    Code(code="CG302", slug="no-path-to-module-state", severity=Severity.NOTE,
         summary="a function that uses it has no way to its module's state: no state, module object or "
                 "defining class in hand",
         fix="give the function its module (a C callback's context argument, the defining class of a method, "
             "PyType_GetModuleByDef of the type that owns it), or keep the global process-wide and guard it"),
    Code(code="CG303", slug="ownership-undecided", severity=Severity.NOTE,
         summary="the code does not show whether the global owns the object it points to",
         fix="store a new reference (or incref what is stored) so that the state can own and clear it"),
    Code(code="CG304", slug="nonzero-initializer", severity=Severity.NOTE,
         summary="initialized to a value: module state starts zeroed",
         fix="set the value in the module's exec function"),
    Code(code="CG305", slug="static-type-in-module", severity=Severity.NOTE,
         summary="a static type that does not become a heap type from a spec yet (PEP 687): its definition, "
                 "dealloc or uses are not ones the series converts",
         fix="the detail says what; the series makes the heap type in the exec function with "
             "PyType_FromModuleAndSpec when the type is used there only"),
    Code(code="CG306", slug="outside-module-definition", severity=Severity.NOTE,
         summary="defined in a file of the module other than the one with its PyModuleDef",
         fix="the state struct of a multi-file module is in a header of its own; not edited yet"),
    Code(code="CG307", slug="not-a-state-member", severity=Severity.NOTE,
         summary="its declaration cannot become a member of the state struct as it is (type, macro, storage, "
                 "declared with others)",
         fix="the detail says what; declare it alone, static, with a type the state struct can hold"),
    Code(code="CG308", slug="not-edited", severity=Severity.NOTE,
         summary="the source is not as the analysis says: the edit could not be made",
         fix="the detail names the place; report it with the file"),
    Code(code="CG309", slug="no-gc-functions", severity=Severity.NOTE,
         summary="an owned object, and the module has no m_traverse and m_clear to visit and clear it",
         fix="add m_traverse and m_clear functions; the series does not generate them yet"),
    Code(code="CG310", slug="partner-stays", severity=Severity.NOTE,
         summary="written together with a global that stays: one piece of state",
         fix="the partner's code says why it stays"),
    Code(code="CG311", slug="process-wide-module-state", severity=Severity.NOTE,
         summary="process-wide (runtime class): it stays a static, guarded where it races",
         fix="nothing to move; the guard patches cover the racing accesses"),
    Code(code="CG312", slug="held-by-library", severity=Severity.NOTE,
         summary="its value is handed to a variable the tree does not declare: a C library's state, one per "
                 "process, holds it",
         fix="process-wide state: keep it a static and guard it"),
    Code(code="CG313", slug="exported-data", severity=Severity.NOTE,
         summary="exported with PyAPI_DATA: extensions and embedders link against the variable itself",
         fix="keep it until an accessor function replaces the exported variable"),
    Code(code="CG314", slug="not-static", severity=Severity.NOTE,
         summary="defined without static: other files name it; moves across files are not generated yet",
         fix="make it static behind an accessor, or move it by hand with its users"),
    Code(code="CG315", slug="clinic-generated", severity=Severity.NOTE,
         summary="generated by Argument Clinic: the generator must change, or `make clinic` undoes the edit",
         fix="change what Tools/clinic emits for it"),
    Code(code="CG316", slug="defined-in-header", severity=Severity.NOTE,
         summary="defined in a header: every includer has its own copy",
         fix="define it once in a .c file and declare it extern in the header"),
    Code(code="CG317", slug="made-by-macro", severity=Severity.NOTE,
         summary="declared by a macro: the edit would have to change the macro",
         fix="spell the declaration out, or change the macro"),
    Code(code="CG318", slug="thread-local", severity=Severity.NOTE,
         summary="thread-local: one copy per thread already",
         fix="nothing to move"),
    Code(code="CG319", slug="type-not-declarable", severity=Severity.NOTE,
         summary="its type is not one the state header can declare",
         fix="declare the type (or an opaque struct) in a header the state header includes"),
    Code(code="CG320", slug="declared-with-others", severity=Severity.NOTE,
         summary="declared together with other variables",
         fix="declare each variable on its own"),
    Code(code="CG321", slug="nonconstant-initializer", severity=Severity.NOTE,
         summary="initialized to a value that is not a constant: the initializer does not move yet",
         fix="set the value where the state is initialized"),
    Code(code="CG322", slug="outside-the-c-api", severity=Severity.NOTE,
         summary="its file includes neither Python.h nor a pycore_ header: a bundled library or helper the "
                 "state does not reach",
         fix="keep it process-wide and guarded, or give the library a context argument"),
    Code(code="CG323", slug="used-in-other-files", severity=Severity.NOTE,
         summary="used in other files too (included there): the series edits one file per global",
         fix="move it by hand with the files that include it"),
    Code(code="CG324", slug="no-current-interpreter", severity=Severity.NOTE,
         summary="used by code that runs where the current interpreter may not be the right one, or none",
         fix="pass the interpreter to that code, or keep the global process-wide and guard it"),
    Code(code="CG325", slug="state-not-added", severity=Severity.NOTE,
         summary="a multi-phase module without state that the series cannot give one: its PyModuleDef names "
                 "GC functions already, it has no exec function, or the names the state would add are taken",
         fix="the detail says which; add the state struct by hand, merging the module's own m_free"),
)

STAY_CODES: dict[str, Code] = {entry.slug: entry for entry in _STAYS}
"""Why the patch series leaves a mutable global where it is."""

SINGLE_PHASE_MODULE = STAY_CODES["single-phase-module"]
NO_PATH_TO_MODULE_STATE = STAY_CODES["no-path-to-module-state"]
OWNERSHIP_UNDECIDED = STAY_CODES["ownership-undecided"]
NONZERO_INITIALIZER = STAY_CODES["nonzero-initializer"]
STATIC_TYPE_IN_MODULE = STAY_CODES["static-type-in-module"]
OUTSIDE_MODULE_DEFINITION = STAY_CODES["outside-module-definition"]
NOT_A_STATE_MEMBER = STAY_CODES["not-a-state-member"]
NOT_EDITED = STAY_CODES["not-edited"]
NO_GC_FUNCTIONS = STAY_CODES["no-gc-functions"]
PARTNER_STAYS = STAY_CODES["partner-stays"]
PROCESS_WIDE_MODULE_STATE = STAY_CODES["process-wide-module-state"]
HELD_BY_LIBRARY = STAY_CODES["held-by-library"]
EXPORTED_DATA = STAY_CODES["exported-data"]
NOT_STATIC = STAY_CODES["not-static"]
CLINIC_GENERATED = STAY_CODES["clinic-generated"]
DEFINED_IN_HEADER = STAY_CODES["defined-in-header"]
MADE_BY_MACRO = STAY_CODES["made-by-macro"]
THREAD_LOCAL = STAY_CODES["thread-local"]
TYPE_NOT_DECLARABLE = STAY_CODES["type-not-declarable"]
DECLARED_WITH_OTHERS = STAY_CODES["declared-with-others"]
NONCONSTANT_INITIALIZER = STAY_CODES["nonconstant-initializer"]
OUTSIDE_THE_C_API = STAY_CODES["outside-the-c-api"]
USED_IN_OTHER_FILES = STAY_CODES["used-in-other-files"]
NO_CURRENT_INTERPRETER = STAY_CODES["no-current-interpreter"]
STATE_NOT_ADDED = STAY_CODES["state-not-added"]
