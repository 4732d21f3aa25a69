"""The gate's output: text (one diagnostic line per problem), JSON, GitHub
Actions workflow commands.  SARIF is in sarif.py."""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..codes import STALE_BASELINE_ENTRY, Severity
from ..gate.check import GateResult
from ..model import Diagnostic, GlobalVar, Suppression, Verdict
from .text import one_line, printable


@dataclass(frozen=True, slots=True, kw_only=True)
class GateReport:
    """A gate outcome with what a renderer needs around it."""
    outcome: GateResult
    baselines: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]      # units the scan could not analyze (the gate fails closed)
    diff_base: str | None = None


def render_gate_text(report: GateReport) -> str:
    lines: list[str] = []
    for problem in report.outcome.problems:
        code = problem.code
        lines.append(f"{one_line(problem.file)}:{problem.line}:0: {code.severity.value}: {code.summary}: "
                     f"{printable(problem.title)} [{code.code} {code.slug}]")
        lines += [f"    {printable(evidence)}" for evidence in problem.details]
        if code.severity is Severity.ERROR:
            lines.append(f"    fix: {code.fix}")
    outcome = report.outcome
    scope = f" introduced since {report.diff_base}" if report.diff_base else ""
    unjudged = (f" ({outcome.unjudged} more entries name code the analyzed configuration does not compile)"
                if outcome.unjudged else "")
    lines.append(f"{len(outcome.new)} new mutable globals{scope}, {outcome.covered} covered by the baseline, "
                 f"{len(outcome.suppressed)} suppressed inline, {len(outcome.stale)} stale baseline entries{unjudged}")
    return "\n".join(lines) + "\n"


def render_gate_json(report: GateReport) -> str:
    """The format is documented in docs/gate.md."""
    outcome = report.outcome

    def finding(var: GlobalVar, verdict: Verdict) -> dict[str, object]:
        return {"file": var.file, "line": var.line, "func": var.func, "name": var.name,
                "class": verdict.state_class.value, "rule": verdict.rule, "confidence": verdict.confidence.value,
                "evidence": list(verdict.evidence)}

    def suppression(s: Suppression) -> dict[str, object]:
        return {"file": s.file, "line": s.line, "covers": s.covers, "label": s.label, "reason": s.reason}

    document = {
        "schema_version": 1,
        "baselines": list(report.baselines),
        "diff_base": report.diff_base,
        "new": [{**finding(f.var, f.verdict), "code": f.code.code, "fix": f.code.fix} for f in outcome.new],
        "suppressed": [{**finding(s.finding.var, s.finding.verdict), "suppression": suppression(s.suppression)}
                       for s in outcome.suppressed],
        "suppressions_without_reason": [suppression(s) for s in outcome.unreasoned],
        "unused_suppressions": [suppression(s) for s in outcome.unused],
        "stale": [{"file": p.identity[0], "func": p.identity[1] or None, "name": p.identity[2],
                   "baseline": p.file, "baseline_line": p.line, "code": p.code.code}
                  for p in outcome.problems if p.code is STALE_BASELINE_ENTRY and p.identity is not None],
        "covered": outcome.covered,
        "unjudged": outcome.unjudged,
        "tool_errors": [{"file": d.file, "line": d.line, "column": d.column, "code": d.code.code,
                         "slug": d.code.slug, "detail": d.detail, "unit": d.unit} for d in report.diagnostics],
    }
    return json.dumps(document, indent=1) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_lines(*parts: str) -> str:
    """An annotation's message: the parts, printable, one after the other."""
    return "\n".join(map(printable, parts))


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_gate_github(report: GateReport) -> str:
    """GitHub Actions workflow commands: an annotation per problem."""
    lines = []
    for problem in report.outcome.problems:
        code = problem.code
        command = "error" if code.severity is Severity.ERROR else "warning"
        message = _github_lines(code.summary, *problem.details, f"fix: {code.fix}")
        lines.append(f"::{command} file={_escape_property(one_line(problem.file))},line={problem.line},"
                     f"title={_escape_property(printable(f'{code.code} {problem.title}'))}::{_escape_data(message)}")
    for diag in report.diagnostics:
        code = diag.code
        lines.append(f"::error file={_escape_property(one_line(diag.file))},line={diag.line},"
                     f"title={_escape_property(f'{code.code} {code.summary}')}::{_escape_data(printable(diag.detail))}")
    return "".join(line + "\n" for line in lines)
