"""Which globals a patch series moves into interpreter state, and why each
other mutable global stays (for now).

This first policy moves only what is safe without facts the analysis does
not have yet (where a global's value is stored, whether a cached object is
an owned reference, whether code runs without a thread state): static
`interpreter` globals of the core (Objects/, Python/) whose type can be
declared outside their file (arithmetic types, object pointers), declared
alone and initialized to zero or not at all, and used only by code that runs
in ordinary calls or module init, where a thread state, and so the current
interpreter, always exists.  The rest are listed with the reason."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..classify.facts import GlobalFacts, gather
from ..classify.usage import Context
from ..model import DECIDED_BY_TYPE, Family, GlobalVar, ScanResult, StateClass, Storage, Verdict

CORE_DIRECTORIES = ("Objects/", "Python/")
_SAFE_CONTEXTS = frozenset({Context.ORDINARY, Context.MODULE_INIT})
_C_TYPE_WORDS = frozenset("char short int long signed unsigned float double _Bool".split())
_ZERO_RE = re.compile(r"^\s*(0|NULL|0[uUlL]*)\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Move:
    var: GlobalVar
    verdict: Verdict
    field: str                 # the member of the file's state struct
    state_key: str             # the file's struct in the interpreter's cglobals state


@dataclass(frozen=True, slots=True, kw_only=True)
class Stay:
    var: GlobalVar
    verdict: Verdict
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    moves: tuple[Move, ...]
    stays: tuple[Stay, ...]


def state_key(path: str) -> str:
    """Objects/floatobject.c -> floatobject; Python/ceval_gil.c -> ceval_gil."""
    return re.sub(r"\W", "_", path.rsplit("/", 1)[-1].rsplit(".", 1)[0])


def make_plan(result: ScanResult, verdicts: tuple[Verdict, ...], initializers: dict[tuple[str, str, str], str],
              only: frozenset[str] | None = None) -> Plan:
    """`initializers`: the source text of each global's initializer (sources.py reads them)."""
    mutable = [(var, verdict) for var, verdict in zip(result.globals, verdicts, strict=True)
               if verdict.state_class is not StateClass.IMMUTABLE and var.file.startswith(CORE_DIRECTORIES)
               and (only is None or var.file in only)]
    facts = gather(result, tuple(var for var, _ in mutable))
    declarators: dict[tuple[str, int], int] = {}
    for var in result.globals:
        declarators[(var.file, var.line)] = declarators.get((var.file, var.line), 0) + 1
    reasons = {var.identity: _reason_to_stay(var, verdict, facts[var.identity], declarators[(var.file, var.line)],
                                             initializers.get(var.identity)) for var, verdict in mutable}
    _keep_together(facts, reasons)
    moves, stays = [], []
    for var, verdict in mutable:
        reason = reasons[var.identity]
        if reason:
            stays.append(Stay(var=var, verdict=verdict, reason=reason))
        else:
            field = f"{var.func}_{var.name}" if var.func else var.name
            moves.append(Move(var=var, verdict=verdict, field=field, state_key=state_key(var.file)))
    return Plan(moves=tuple(moves), stays=tuple(stays))


def _keep_together(facts: dict[tuple[str, str, str], GlobalFacts],
                   reasons: dict[tuple[str, str, str], str | None]) -> None:
    """Globals written by the same function are one piece of state (a cache
    and its key, a table and its count): one that stays keeps the others.
    CPython's own machinery (the runtime state, locks, argument parsers,
    identifiers: families decided by type) is not such a partner."""
    writers = {identity: {site.use.function for site in fact.writes} for identity, fact in facts.items()
               if fact.var.family not in DECIDED_BY_TYPE}
    changed = True
    while changed:
        changed = False
        staying = {identity for identity, reason in reasons.items() if reason}
        for identity, reason in reasons.items():
            if reason:
                continue
            partner = next((other for other in sorted(staying & writers.keys())
                            if writers.get(identity, set()) & writers[other]), None)
            if partner is not None:
                reasons[identity] = (f"written together with {partner[1] + '()::' if partner[1] else ''}"
                                     f"{partner[2]}, which stays")
                changed = True


def _reason_to_stay(var: GlobalVar, verdict: Verdict, facts: GlobalFacts, declarators: int,
                    initializer: str | None) -> str | None:
    if verdict.state_class is StateClass.RUNTIME:
        return "runtime state: moving into _PyRuntimeState is not planned yet"
    if var.storage is not Storage.STATIC:
        return "defined without static: other files (or the C API) may name it"
    if not var.file.endswith(".c"):
        return "defined in a header: every includer has its own copy"
    if var.macro or var.thread_local:
        return "made by a macro" if var.macro else "thread-local"
    if not _declarable_elsewhere(var):
        return f"its type ({var.type}) is not one the state header can declare"
    if declarators > 1:
        return "declared together with other variables"
    if var.has_initializer and (initializer is None or not _ZERO_RE.match(initializer)):
        return "initialized to a value: the initializer does not move yet"
    unsafe = facts.used_in - _SAFE_CONTEXTS
    if unsafe:
        contexts = ", ".join(sorted(c.value for c in unsafe))
        return f"used by code that runs in {contexts}: the current interpreter may not be the right one, or none"
    return None


def _declarable_elsewhere(var: GlobalVar) -> bool:
    if var.family is Family.OBJECT_POINTER:
        return bool(re.fullmatch(r"Py\w*Object \*", var.type))
    if var.family is Family.SCALAR:
        words = re.findall(r"\w+", var.type)
        return all(word in _C_TYPE_WORDS or word.endswith("_t") for word in words)
    return False
