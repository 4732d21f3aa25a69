"""The gate's output: text (one diagnostic line per finding) and JSON."""
from __future__ import annotations

import json

from ..codes import CODES
from ..config import BaselineEntry
from ..gate import Finding, GateResult


def _finding_line(finding: Finding) -> str:
    code = CODES["new-mutable-global"]
    var, verdict = finding.var, finding.verdict
    where = f"{var.func}()::" if var.func else ""
    return (f"{var.file}:{var.line}:0: {code.severity.value}: {code.summary}: {where}{var.name} is "
            f"{verdict.state_class.value} ({verdict.rule}) [{code.code} {code.slug}]")


def _stale_line(entry: BaselineEntry, baseline: str) -> str:
    code = CODES["stale-baseline-entry"]
    file, func, name = entry.identity
    return (f"{baseline}:{entry.line}:0: {code.severity.value}: {code.summary}: {file} {func or '-'} {name} "
            f"[{code.code} {code.slug}]")


def render_gate_text(result: GateResult, baseline: str) -> str:
    lines: list[str] = []
    for finding in result.new:
        lines.append(_finding_line(finding))
        lines += [f"    {evidence}" for evidence in finding.verdict.evidence]
        lines.append(f"    fix: {CODES['new-mutable-global'].fix}")
    lines += [_stale_line(entry, baseline) for entry in result.stale]
    lines.append(f"{len(result.new)} new mutable globals, {result.covered} covered by the baseline, "
                 f"{len(result.stale)} stale baseline entries")
    return "\n".join(lines) + "\n"


def render_gate_json(result: GateResult, baseline: str) -> str:
    new = [{"file": f.var.file, "line": f.var.line, "func": f.var.func, "name": f.var.name,
            "class": f.verdict.state_class.value, "rule": f.verdict.rule, "confidence": f.verdict.confidence.value,
            "evidence": list(f.verdict.evidence), "code": CODES["new-mutable-global"].code,
            "fix": CODES["new-mutable-global"].fix} for f in result.new]
    stale = [{"file": e.identity[0], "func": e.identity[1] or None, "name": e.identity[2],
              "baseline": baseline, "baseline_line": e.line, "code": CODES["stale-baseline-entry"].code}
             for e in result.stale]
    return json.dumps({"new": new, "stale": stale, "covered": result.covered}, indent=1) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_gate_github(result: GateResult, baseline: str) -> str:
    """GitHub Actions workflow commands: an annotation per finding."""
    new_code, stale_code = CODES["new-mutable-global"], CODES["stale-baseline-entry"]
    lines = []
    for finding in result.new:
        var, verdict = finding.var, finding.verdict
        title = f"{new_code.code} {var.name} is {verdict.state_class.value} ({verdict.rule})"
        message = "\n".join((new_code.summary, *verdict.evidence, f"fix: {new_code.fix}"))
        lines.append(f"::error file={_escape_property(var.file)},line={var.line},"
                     f"title={_escape_property(title)}::{_escape_data(message)}")
    for entry in result.stale:
        file, func, name = entry.identity
        message = f"{file} {func or '-'} {name}: {stale_code.fix}"
        lines.append(f"::warning file={_escape_property(baseline)},line={entry.line},"
                     f"title={_escape_property(stale_code.code + ' stale baseline entry')}::{_escape_data(message)}")
    return "".join(line + "\n" for line in lines)
