"""ThreadSanitizer races, de-duplicated and attributed: as text and JSON."""
from __future__ import annotations

import json
from collections import Counter

from ..model import Verdict
from ..races.reports import Attributed
from .text import one_line

Verdicts = dict[tuple[str, str, str], Verdict]


def render_races_text(found: tuple[Attributed, ...], verdicts: Verdicts, logs: int, reports: int) -> str:
    attributed = [a for a in found if a.variable is not None]
    variables = {a.variable.identity for a in attributed if a.variable is not None}
    lines = [f"{reports} data race reports in {logs} logs: {len(found)} distinct, {len(attributed)} attributed to "
             f"{len(variables)} globals", ""]
    for item in found:
        var = item.variable
        if var is not None:
            verdict = verdicts.get(var.identity)
            member = f".{item.race.member}" if item.race.member else ""
            label = f"{var.file}: {var.qualified_name}{member} ({verdict.state_class.value if verdict else '?'})"
        else:
            label = f"unattributed: {item.evidence}"
        lines.append(f"{item.count:4}  {one_line(label)}")
        for access in item.race.accesses:
            top = access.frames[0].label if access.frames else "?"
            lines.append(f"        {access.kind} {access.size}: {one_line(top)}")
    per_class = Counter(verdicts[a.variable.identity].state_class.value for a in attributed
                        if a.variable is not None and a.variable.identity in verdicts)
    if per_class:
        lines += ["", "attributed races per class of their global: "
                  + ", ".join(f"{name} {count}" for name, count in sorted(per_class.items()))]
    return "\n".join(lines) + "\n"


def render_races_json(found: tuple[Attributed, ...], verdicts: Verdicts, logs: int, reports: int) -> str:
    races: list[dict[str, object]] = []
    for item in found:
        var = item.variable
        verdict = verdicts.get(var.identity) if var is not None else None
        races.append({
            "count": item.count,
            "location": item.race.location,
            "member": item.race.member,
            "global": None if var is None else {"file": var.file, "func": var.func, "name": var.name,
                                                 "class": verdict.state_class.value if verdict else None},
            "evidence": item.evidence,
            "accesses": [{"kind": a.kind, "size": a.size,
                          "frames": [{"function": f.function, "file": f.file, "line": f.line, "object": f.object}
                                     for f in a.frames[:4]]}
                         for a in item.race.accesses],
        })
    attributed = [item.variable.identity for item in found if item.variable is not None]
    document = {"logs": logs, "reports": reports, "distinct": len(races), "attributed": len(attributed),
                "globals": len(set(attributed)), "races": races}
    return json.dumps(document, indent=1) + "\n"
