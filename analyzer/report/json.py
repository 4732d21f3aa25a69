"""The stable JSON document (schema in README.md)."""
from __future__ import annotations

import json

from .. import __version__
from ..codes import CODES
from ..model import Diagnostic, GlobalVar, ScanResult


def global_record(var: GlobalVar) -> dict[str, object]:
    return {"file": var.file, "func": var.func, "name": var.name, "line": var.line,
            "type": var.type, "storage": var.storage.value, "thread_local": var.thread_local,
            "const": var.const, "has_initializer": var.has_initializer, "macro": var.macro}


def diagnostic_record(diag: Diagnostic) -> dict[str, object]:
    code = CODES[diag.code]
    return {"file": diag.file, "line": diag.line, "column": diag.column, "code": diag.code,
            "id": code.code, "severity": code.severity.value,
            "message": f"{code.summary}: {diag.detail}"}


def render_json(result: ScanResult) -> str:
    document = {
        "tool": "cglobals",
        "tool_version": __version__,
        "tree": result.tree.root,
        "cpython_version": result.tree.version,
        "units": len(result.units),
        "failed_units": list(result.failed_units),
        "globals": [global_record(g) for g in result.globals],
        "diagnostics": [diagnostic_record(d) for d in result.diagnostics],
    }
    return json.dumps(document, indent=1, sort_keys=False) + "\n"
