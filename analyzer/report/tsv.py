"""Upstream's globals-to-fix.tsv layout (plus class and rule), so the lists can be diffed."""
from __future__ import annotations

from ..model import ScanResult, Verdict


def render_tsv(result: ScanResult, verdicts: tuple[Verdict, ...]) -> str:
    """Upstream's four columns, then the class and rule."""
    lines = ["filename\tfuncname\tname\tkind\tclass\trule"]
    for var, verdict in zip(result.globals, verdicts, strict=True):
        lines.append(f"{var.file}\t{var.func or '-'}\t{var.name}\t{var.storage.value}\t"
                     f"{verdict.state_class.value}\t{verdict.rule}")
    return "\n".join(lines) + "\n"
