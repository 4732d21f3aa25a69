"""Upstream's globals-to-fix.tsv layout (plus class and rule), so the lists can be diffed."""
from __future__ import annotations

from ..model import ScanResult, Verdict
from .text import one_line


def render_tsv(result: ScanResult, verdicts: tuple[Verdict, ...]) -> str:
    """Upstream's four columns, then the class and rule."""
    lines = ["filename\tfuncname\tname\tkind\tclass\trule"]
    for var, verdict in zip(result.globals, verdicts, strict=True):
        lines.append("\t".join(map(one_line, (var.file, var.func or "-", var.name, var.storage.value,
                                               verdict.state_class.value, verdict.rule))))
    return "\n".join(lines) + "\n"
