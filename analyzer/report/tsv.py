"""Upstream's globals-to-fix.tsv layout, so the lists can be diffed."""
from __future__ import annotations

from ..model import ScanResult


def render_tsv(result: ScanResult) -> str:
    lines = ["filename\tfuncname\tname\tkind"]
    for var in result.globals:
        lines.append(f"{var.file}\t{var.func or '-'}\t{var.name}\t{var.storage.value}")
    return "\n".join(lines) + "\n"
