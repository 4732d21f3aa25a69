"""The gate: compare a classified scan with a baseline."""
from __future__ import annotations

from dataclasses import dataclass

from .config import BASELINE_COLUMNS, BASELINE_HEADER, BASELINE_SCHEMA, BaselineEntry
from .model import GlobalVar, StateClass, Verdict

MUTABLE = frozenset({StateClass.RUNTIME, StateClass.INTERPRETER})


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    var: GlobalVar
    verdict: Verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    new: tuple[Finding, ...]              # mutable globals the baseline does not cover
    stale: tuple[BaselineEntry, ...]      # baseline entries with no such global any more
    covered: int


def gate(globals_: tuple[GlobalVar, ...], verdicts: tuple[Verdict, ...], baseline: tuple[BaselineEntry, ...],
         strict: bool = False) -> GateResult:
    """New globals: those the baseline does not list that are mutable (every
    global when strict)."""
    listed = {entry.identity for entry in baseline}
    present = {var.identity for var in globals_}
    new = tuple(Finding(var=var, verdict=verdict) for var, verdict in zip(globals_, verdicts, strict=True)
                if var.identity not in listed and (strict or verdict.state_class in MUTABLE))
    return GateResult(new=new, stale=tuple(e for e in baseline if e.identity not in present),
                      covered=sum(1 for var in globals_ if var.identity in listed))


def render_baseline(globals_: tuple[GlobalVar, ...], verdicts: tuple[Verdict, ...]) -> str:
    """Every mutable global, sorted: the same tree gives the same bytes."""
    rows = sorted((var.file, var.func or "-", var.name, verdict.state_class.value)
                  for var, verdict in zip(globals_, verdicts, strict=True) if verdict.state_class in MUTABLE)
    lines = [BASELINE_HEADER.rstrip("\n"), f"schema_version\t{BASELINE_SCHEMA}", "\t".join(BASELINE_COLUMNS)]
    lines += ["\t".join((*row, "")) for row in rows]
    return "\n".join(lines) + "\n"
