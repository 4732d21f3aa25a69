"""A readable table of globals, then the diagnostics and a summary line."""
from __future__ import annotations

from ..codes import CODES
from ..model import Diagnostic, GlobalVar, ScanResult


def _flags(var: GlobalVar) -> str:
    flags = [var.storage.value]
    if var.const:
        flags.append("const")
    if var.thread_local:
        flags.append("thread-local")
    if var.macro:
        flags.append(f"via {var.macro}")
    return ",".join(flags)


def render_diagnostic(diag: Diagnostic) -> str:
    code = CODES[diag.code]
    return (f"{diag.file}:{diag.line}:{diag.column}: {code.severity.value}: "
            f"{code.summary}: {diag.detail} [{code.code} {code.slug}]")


def render_text(result: ScanResult) -> str:
    rows = [(f"{g.file}:{g.line}", g.func or "-", g.name, g.type, _flags(g)) for g in result.globals]
    header = ("LOCATION", "FUNCTION", "NAME", "TYPE", "FLAGS")
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(4)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)) + "  " + header[4]]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[4])
    lines.extend(render_diagnostic(d) for d in result.diagnostics)
    mutable = sum(1 for g in result.globals if not g.const)
    lines.append(f"{len(result.globals)} globals ({mutable} not const) in {len(result.units)} units; "
                 f"{len(result.failed_units)} units failed")
    return "\n".join(lines) + "\n"
