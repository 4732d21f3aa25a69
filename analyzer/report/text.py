"""A readable table of globals, then the diagnostics and a summary line."""
from __future__ import annotations

import re

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


_UNPRINTABLE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_NOT_ONE_LINE_RE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def printable(text: str) -> str:
    """The text with surrogates (bytes of the tree that are not UTF-8) and
    control characters but tab and newline escaped, as \\udcff, \\x1b: any
    stream or file can take it, and a terminal shows it as it is.  (Types
    keep their newlines: `struct {\\n ...\\n}` is how a scan spells them.)"""
    return _UNPRINTABLE_RE.sub(_escape, text)


def one_line(text: str) -> str:
    """printable(), with tabs and newlines escaped too (\\t, \\n): a line of
    output stays one line whatever a path or a message holds."""
    return _NOT_ONE_LINE_RE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x80 else f"\\u{ord(char):04x}")


def render_diagnostic(diag: Diagnostic) -> str:
    code = diag.code
    unit = f" (in unit {one_line(diag.unit)})" if diag.unit and diag.unit != diag.file else ""
    return (f"{one_line(diag.file)}:{diag.line}:{diag.column}: {code.severity.value}: "
            f"{code.summary}: {one_line(diag.detail)}{unit} [{code.code} {code.slug}]")


def render_text(result: ScanResult, verdicts: tuple[Verdict, ...]) -> str:
    rows = [(one_line(f"{g.file}:{g.line}"), *map(printable, (g.func or "-", g.name, g.type, v.state_class.value,
                                                               v.rule, _flags(g))))
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
