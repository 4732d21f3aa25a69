"""The stable JSON document (schema in README.md)."""
from __future__ import annotations

import json
from collections.abc import Iterable

from .. import __version__
from ..model import Diagnostic, GlobalVar, ScanResult, Verdict


def global_record(var: GlobalVar, verdict: Verdict) -> dict[str, object]:
    return {"file": var.file, "func": var.func, "name": var.name, "line": var.line,
            "type": var.type, "storage": var.storage.value, "thread_local": var.thread_local,
            "const": var.const, "points_to_const": var.points_to_const,
            "has_initializer": var.has_initializer, "macro": var.macro,
            "family": var.family.value, "class": verdict.state_class.value, "rule": verdict.rule,
            "confidence": verdict.confidence.value, "evidence": list(verdict.evidence)}


def diagnostic_record(diag: Diagnostic) -> dict[str, object]:
    code = diag.code
    return {"file": diag.file, "line": diag.line, "column": diag.column, "code": code.slug,
            "id": code.code, "severity": code.severity.value,
            "message": f"{code.summary}: {diag.detail}", "unit": diag.unit}


def render_json(result: ScanResult, verdicts: tuple[Verdict, ...]) -> str:
    """One global or diagnostic per line: readable, diffable, and rendered by
    json's C encoder (indent= would use its slow pure-Python one)."""
    header = {"tool": "cglobals", "tool_version": __version__, "tree": result.tree.root,
              "cpython_version": result.tree.version, "units": len(result.units),
              "failed_units": list(result.failed_units), "classes": _counts(verdicts)}
    lines = ["{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in header.items()) + ","]
    lines.append(' "globals": [' + _rows(global_record(g, v) for g, v in zip(result.globals, verdicts, strict=True))
                 + "],")
    lines.append(' "diagnostics": [' + _rows(diagnostic_record(d) for d in result.diagnostics) + "]}")
    return "\n".join(lines) + "\n"


def _rows(records: Iterable[dict[str, object]]) -> str:
    rows = ",\n  ".join(json.dumps(r) for r in records)
    return f"\n  {rows}\n " if rows else ""


def _counts(verdicts: tuple[Verdict, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict.state_class.value] = counts.get(verdict.state_class.value, 0) + 1
    return dict(sorted(counts.items()))
