"""A readable table of globals, then the diagnostics and a summary line."""
from __future__ import annotations

from ..codes import CODES
from ..model import Diagnostic, GlobalVar, ScanResult, Verdict


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
    unit = f" (in unit {diag.unit})" if diag.unit and diag.unit != diag.file else ""
    return (f"{diag.file}:{diag.line}:{diag.column}: {code.severity.value}: "
            f"{code.summary}: {diag.detail}{unit} [{code.code} {code.slug}]")


def render_text(result: ScanResult, verdicts: tuple[Verdict, ...]) -> str:
    rows = [(f"{g.file}:{g.line}", g.func or "-", g.name, g.type, v.state_class.value, v.rule, _flags(g))
            for g, v in zip(result.globals, verdicts, strict=True)]
    header = ("LOCATION", "FUNCTION", "NAME", "TYPE", "CLASS", "RULE", "FLAGS")
    last = len(header) - 1
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(last)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)) + "  " + header[last]]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[last])
    lines.extend(render_diagnostic(d) for d in result.diagnostics)
    counts = {c: sum(1 for v in verdicts if v.state_class.value == c) for c in ("runtime", "interpreter", "immutable")}
    lines.append(f"{len(result.globals)} globals ({', '.join(f'{n} {c}' for c, n in counts.items())}) "
                 f"in {len(result.units)} units; {len(result.failed_units)} units failed")
    return "\n".join(lines) + "\n"
