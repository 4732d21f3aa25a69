"""The gate's outcome as SARIF 2.1.0: one run, a rule per code, a result per
problem; findings an inline comment waives are results with an in-source
suppression; units the scan could not analyze are tool notifications."""
from __future__ import annotations

import json
import os
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..codes import CODES, Code, Severity
from ..gate.check import Problem, finding_problem
from .findings import GateReport

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_GATE_CODES = tuple(code for code in CODES.values() if code.code < "CG900")


def render_gate_sarif(report: GateReport, tree_root: str) -> str:
    index = {code.code: number for number, code in enumerate(_GATE_CODES)}
    results = [_result(problem, index) for problem in report.outcome.problems]
    for waived in report.outcome.suppressed:
        results.append({**_result(finding_problem(waived.finding), index),
                        "suppressions": [{"kind": "inSource", "justification": waived.suppression.reason}]})
    notifications = [{
        "level": "error", "message": {"text": f"{d.code.summary}: {d.detail}"},
        "descriptor": {"id": d.code.code},
        "locations": [_location(d.file, max(d.line, 1))]} for d in report.diagnostics]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "cglobals", "version": __version__, "semanticVersion": __version__,
            "rules": [_rule(code) for code in _GATE_CODES]}},
        "originalUriBaseIds": {"SRCROOT": {"uri": PurePosixPath(tree_root).as_uri() + "/"}},
        "invocations": [{"executionSuccessful": not report.diagnostics,
                         "toolExecutionNotifications": notifications}],
        "results": results,
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=1) + "\n"


def _rule(code: Code) -> dict[str, Any]:
    return {"id": code.code, "name": code.slug, "shortDescription": {"text": code.summary},
            "help": {"text": code.fix}, "defaultConfiguration": {"level": _LEVELS[code.severity]}}


def _result(problem: Problem, index: dict[str, int]) -> dict[str, Any]:
    text = "\n".join((f"{problem.title}: {problem.code.summary}", *problem.details))
    result: dict[str, Any] = {
        "ruleId": problem.code.code, "ruleIndex": index[problem.code.code], "level": _LEVELS[problem.code.severity],
        "message": {"text": text}, "locations": [_location(problem.file, problem.line)]}
    if problem.identity is not None:     # stable across line moves, as the baseline is
        result["partialFingerprints"] = {"cglobalsIdentity/v1": "/".join(problem.identity)}
    return result


def _location(path: str, line: int) -> dict[str, Any]:
    posix = PurePosixPath(path)
    # A relative reference, percent-encoded as a URI must be (spaces, a colon, bytes that are not UTF-8).
    artifact: dict[str, Any] = {"uri": posix.as_uri()} if posix.is_absolute() else {
        "uri": quote(os.fsencode(str(posix)), safe="/"), "uriBaseId": "SRCROOT"}
    return {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": line}}}
