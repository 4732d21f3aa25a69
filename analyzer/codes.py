"""The diagnostic-code table: one entry per code, rendered only by report/."""
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
)

CODES: dict[str, Code] = {entry.slug: entry for entry in _TABLE}
