"""The gate: compare a classified scan with a baseline and the inline
suppressions; in diff mode, keep what the change introduced."""
from __future__ import annotations

from dataclasses import dataclass

from .. import codes
from ..codes import Code
from ..model import Change, GlobalVar, StateClass, Suppression, Use, UseKind, Verdict
from .baseline import BaselineEntry

MUTABLE = frozenset({StateClass.RUNTIME, StateClass.INTERPRETER})
_CHANGING = frozenset({UseKind.ASSIGN, UseKind.UPDATE, UseKind.MEMBER_WRITE, UseKind.ADDRESS, UseKind.ARGUMENT})


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    var: GlobalVar
    verdict: Verdict
    code: Code = codes.NEW_MUTABLE_GLOBAL


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing the gate reports, at a place, with its code: a new global, a
    stale entry, a suppression without a reason or without a global."""
    code: Code
    file: str
    line: int
    title: str                        # what it is about, short
    details: tuple[str, ...] = ()     # evidence
    identity: tuple[str, str, str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppressed:
    finding: Finding
    suppression: Suppression


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    new: tuple[Finding, ...]                # mutable globals neither listed nor suppressed
    stale: tuple[BaselineEntry, ...]        # baseline entries with no such global any more
    unjudged: int                           # absent entries whose name is still in the file (not compiled)
    covered: int                            # globals the baseline lists
    suppressed: tuple[Suppressed, ...]      # findings an inline comment with a reason waives
    unreasoned: tuple[Suppression, ...]     # suppressions without a reason (they waive nothing)
    unused: tuple[Suppression, ...]         # suppressions that cover no global of their class
    problems: tuple[Problem, ...] = ()      # all of the above that the gate reports, in that order

    @property
    def failed(self) -> bool:
        return bool(self.new or self.unreasoned)


def gate(globals_: tuple[GlobalVar, ...], verdicts: tuple[Verdict, ...], baseline: tuple[BaselineEntry, ...],
         suppressions: tuple[Suppression, ...] = (), *, strict: bool = False, change: Change | None = None,
         uses: tuple[Use, ...] = (), uncompiled: frozenset[tuple[str, str, str]] = frozenset()) -> GateResult:
    """New globals: those neither the baseline nor a suppression covers that
    are mutable (every global when strict).  With a change (diff mode), only
    the globals it introduced: declared on a changed line, or given a new
    write on one (from `uses`); stale entries only in the changed files.
    Entries in `uncompiled` (still in the source, not in the analyzed
    configuration) are not judged."""
    listed = {entry.identity for entry in baseline}
    by_line = {(s.file, s.covers): s for s in suppressions}
    pairs = tuple(zip(globals_, verdicts, strict=True))
    changed = dict(change.lines) if change is not None else {}
    if change is not None:
        pairs = _introduced(pairs, changed, uses)
    new, suppressed, used = [], [], set()
    for var, verdict in pairs:
        suppression = by_line.get((var.file, var.line))
        if suppression is not None and suppression.state_class is verdict.state_class:
            used.add(suppression)
            if suppression.reason:
                suppressed.append(Suppressed(finding=Finding(var=var, verdict=verdict), suppression=suppression))
                continue
        if var.identity not in listed and (strict or verdict.state_class in MUTABLE):
            new.append(Finding(var=var, verdict=verdict))
    present = {var.identity for var in globals_}
    absent = [e for e in baseline if e.identity not in present and (change is None or e.identity[0] in change.files)]
    stale = tuple(e for e in absent if e.identity not in uncompiled)
    if change is not None:       # the comments the change touched
        suppressions = tuple(s for s in suppressions if {s.line, s.covers} & changed.get(s.file, frozenset()))
    unreasoned = tuple(s for s in suppressions if not s.reason)
    unused = tuple(s for s in suppressions if s not in used and s.reason)
    problems = [finding_problem(finding) for finding in new]
    problems += [_suppression_problem(codes.SUPPRESSION_WITHOUT_REASON, s) for s in unreasoned]
    problems += [_suppression_problem(codes.UNUSED_SUPPRESSION, s) for s in unused]
    problems += [Problem(code=codes.STALE_BASELINE_ENTRY, file=e.path, line=e.line,
                         title=f"{e.identity[0]} {e.identity[1] or '-'} {e.identity[2]}", identity=e.identity)
                 for e in stale]
    return GateResult(new=tuple(new), stale=stale, unjudged=len(absent) - len(stale),
                      covered=sum(1 for var, _ in pairs if var.identity in listed),
                      suppressed=tuple(suppressed), unreasoned=unreasoned, unused=unused, problems=tuple(problems))


def finding_problem(finding: Finding) -> Problem:
    var, verdict = finding.var, finding.verdict
    return Problem(code=finding.code, file=var.file, line=var.line,
                   title=f"{var.qualified_name} is {verdict.state_class.value} ({verdict.rule})",
                   details=verdict.evidence, identity=var.identity)


def _suppression_problem(code: Code, suppression: Suppression) -> Problem:
    return Problem(code=code, file=suppression.file, line=suppression.line,
                   title=f"ignore[{suppression.label}] for line {suppression.covers}")


def _introduced(pairs: tuple[tuple[GlobalVar, Verdict], ...], changed: dict[str, frozenset[int]],
                uses: tuple[Use, ...]) -> tuple[tuple[GlobalVar, Verdict], ...]:
    written = {use.target for use in uses if use.kind in _CHANGING and use.line in changed.get(use.file, ())}
    return tuple((var, verdict) for var, verdict in pairs
                 if var.line in changed.get(var.file, ()) or var.identity in written)
