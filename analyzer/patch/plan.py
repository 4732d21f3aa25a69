"""Which globals a patch series moves into interpreter or runtime state, and
why each other mutable global stays (for now).

The policy moves only what is safe without facts the analysis does not have
yet (where a global's value is stored, whether a cached object is an owned
reference): static globals of the core (Objects/, Python/) whose type can be
declared outside their file (arithmetic types, object pointers, pointers to
structs, typedefs of the public headers, arrays of those), declared alone
and initialized to zero or to a constant (which moves into the INIT macros).

`runtime` globals go to _PyRuntimeState: the same single copy as before, so
any code may use them.  `interpreter` globals go to PyInterpreterState only
when every use runs in ordinary calls or module init, where a thread state,
and so the current interpreter, always exists.  Globals written by one
function are one piece of state: when they disagree, all of them take the
runtime's single copy, which is what the static was."""
from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .. import codes
from ..classify import Classified
from ..classify.facts import GlobalFacts
from ..classify.usage import Context
from ..codes import Code
from ..cpython.families import DECIDED_BY_TYPE
from ..cpython.layout import CORE_DIRECTORIES
from ..model import CType, Family, GlobalVar, ScanResult, StateClass, Storage, Verdict
from .inputs import PublicNames

_NOT_PARTNERS = DECIDED_BY_TYPE - {Family.LOCK}
_SAFE_CONTEXTS = frozenset({Context.ORDINARY, Context.MODULE_INIT})
_C_TYPE_WORDS = frozenset("char short int long signed unsigned float double _Bool void const volatile".split())
ZERO_RE = re.compile(r"^\s*(?:0[uUlL]*|NULL|\{\s*(?:0|NULL)?\s*\})\s*$")
NUMBER_RE = re.compile(r"^\s*\(?\s*[-+]?\s*(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*\)?\s*$")
"""An integer constant (`-1`, `0x10UL`): a value an exec function can store."""
_CONSTANT_TOKEN_RE = re.compile(r"\s*(?:(?P<number>\.?\d[\w.]*)|(?P<word>[A-Za-z_]\w*)|[-()+*/~|&<>^{},])")


class Home(enum.Enum):
    INTERPRETER = "interpreter"    # _PyInterpreterState_GET()->cglobals
    RUNTIME = "runtime"            # _PyRuntime.cglobals


@dataclass(frozen=True, slots=True, kw_only=True)
class Move:
    var: GlobalVar
    verdict: Verdict
    field: str                 # the member of the file's state struct
    state_key: str             # the file's struct in the cglobals state
    home: Home
    initializer: str | None    # a constant for the INIT macro (None: zero)
    note: str = ""             # why the home differs from the class


@dataclass(frozen=True, slots=True, kw_only=True)
class Stay:
    var: GlobalVar
    verdict: Verdict
    code: Code                 # why, as a constant of codes.py (CG3xx)
    reason: str                # the same, with this global's particulars


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    moves: tuple[Move, ...]
    stays: tuple[Stay, ...]
    modules: tuple[ModuleLeft, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ModuleLeft:
    """An extension module (Modules/) with mutable globals the series leaves."""
    module: str                # Modules/_io, Modules/posixmodule.c
    interpreter: int
    runtime: int


MODULE_REASON = ("not converted: the series does not generate module-state conversions (multi-phase init, "
                 "m_size, the state reached from each function) yet")


def state_key(path: str) -> str:
    """Objects/floatobject.c -> floatobject; Python/ceval_gil.c -> ceval_gil."""
    return re.sub(r"\W", "_", path.rsplit("/", 1)[-1].rsplit(".", 1)[0])


def make_plan(result: ScanResult, classified: Classified, initializers: dict[tuple[str, str, str], str],
              public: PublicNames, api_files: frozenset[str], only: frozenset[str] | None = None) -> Plan:
    """`classified`: the verdicts of every global of the scan, with their
    facts; `initializers`: the source text of each global's initializer;
    `public`: what the public headers declare; `api_files`: the files that
    include Python.h or a pycore_ header (patch/inputs.py reads all three)."""
    mutable = [(var, verdict) for var, verdict in zip(result.globals, classified.verdicts, strict=True)
               if verdict.state_class is not StateClass.IMMUTABLE and var.file.startswith(CORE_DIRECTORIES)
               and (only is None or var.file in only)]
    facts = {var.identity: classified.facts[var.identity] for var, _ in mutable}
    declarators: dict[tuple[str, int], int] = {}
    for var in result.globals:
        declarators[(var.file, var.line)] = declarators.get((var.file, var.line), 0) + 1
    elsewhere: dict[tuple[str, str, str], set[str]] = {}
    for use in result.uses:
        if use.file != use.target[0]:
            elsewhere.setdefault(use.target, set()).add(use.file)
    reasons = {var.identity: _reason_to_stay(var, declarators[(var.file, var.line)], initializers.get(var.identity),
                                             public) for var, _ in mutable}
    for var, _ in mutable:
        if reasons[var.identity] is None and var.file not in api_files:
            reasons[var.identity] = (codes.OUTSIDE_THE_C_API, codes.OUTSIDE_THE_C_API.summary)
    for identity, files in elsewhere.items():
        if identity in reasons and reasons[identity] is None:     # the series edits one file per global
            reasons[identity] = (codes.USED_IN_OTHER_FILES,
                                 f"used in {', '.join(sorted(files))} too (included there): not edited there yet")
    homes = {var.identity: Home.RUNTIME if verdict.state_class is StateClass.RUNTIME else Home.INTERPRETER
             for var, verdict in mutable}
    notes = _keep_together(facts, reasons, homes)
    # What stays in interpreter state must be used only where there is a current
    # interpreter; its partners (found again) stay with it.
    for identity, fact in facts.items():
        unsafe = fact.used_in - _SAFE_CONTEXTS
        if not reasons[identity] and homes[identity] is Home.INTERPRETER and unsafe:
            contexts = ", ".join(sorted(c.value for c in unsafe))
            reasons[identity] = (codes.NO_CURRENT_INTERPRETER, f"used by code that runs in {contexts}: the current "
                                 "interpreter may not be the right one, or none")
    notes.update(_keep_together(facts, reasons, homes))
    moves, stays = [], []
    for var, verdict in mutable:
        reason = reasons[var.identity]
        if reason:
            stays.append(Stay(var=var, verdict=verdict, code=reason[0], reason=reason[1]))
            continue
        initializer = initializers.get(var.identity) if var.has_initializer else None
        moves.append(Move(var=var, verdict=verdict, field=f"{var.func}_{var.name}" if var.func else var.name,
                          state_key=state_key(var.file), home=homes[var.identity],
                          initializer=None if initializer is None or ZERO_RE.match(initializer) else initializer,
                          note=notes.get(var.identity, "")))
    return Plan(moves=tuple(moves), stays=tuple(stays), modules=_modules_left(result, classified.verdicts))


def _modules_left(result: ScanResult, verdicts: tuple[Verdict, ...]) -> tuple[ModuleLeft, ...]:
    counts: dict[str, dict[StateClass, int]] = {}
    for var, verdict in zip(result.globals, verdicts, strict=True):
        if var.file.startswith("Modules/") and verdict.state_class is not StateClass.IMMUTABLE:
            parts = var.file.split("/")
            module = "/".join(parts[:2])        # a module's directory (Modules/_io) or file
            per_class = counts.setdefault(module, {})
            per_class[verdict.state_class] = per_class.get(verdict.state_class, 0) + 1
    return tuple(ModuleLeft(module=module, interpreter=c.get(StateClass.INTERPRETER, 0),
                            runtime=c.get(StateClass.RUNTIME, 0)) for module, c in sorted(counts.items()))


def _keep_together(facts: dict[tuple[str, str, str], GlobalFacts], reasons: dict[tuple[str, str, str], Reason | None],
                   homes: dict[tuple[str, str, str], Home]) -> dict[tuple[str, str, str], str]:
    """Globals written by the same function are one piece of state (a cache
    and its key, a table and its count): one that stays keeps the others, and
    one that goes to the runtime takes the others there (a lock and what it
    guards).  CPython's own machinery (the runtime state, argument parsers,
    identifiers, module definitions) is not such a partner.  Returns the
    notes of the globals whose home changed."""
    writers = {identity: {site.use.function for site in fact.writes} for identity, fact in facts.items()
               if fact.var.family not in _NOT_PARTNERS}
    notes: dict[tuple[str, str, str], str] = {}
    changed = True
    while changed:
        changed = False
        for identity in sorted(reasons):
            if reasons[identity] or identity not in writers:
                continue
            partners = sorted(other for other in writers if other != identity and writers[identity] & writers[other])
            staying = next((other for other in partners if reasons[other]), None)
            if staying is not None:
                reasons[identity] = (codes.PARTNER_STAYS,
                                     f"written together with {facts[staying].var.qualified_name}, which stays")
                changed = True
                continue
            runtime = next((other for other in partners if homes[other] is Home.RUNTIME), None)
            if homes[identity] is Home.INTERPRETER and runtime is not None:
                homes[identity] = Home.RUNTIME
                notes[identity] = f"runtime state: written together with {facts[runtime].var.qualified_name} (runtime)"
                changed = True
    return notes


Reason = tuple[Code, str]
"""Why a global stays: the code, and the sentence with its particulars."""


def _reason_to_stay(var: GlobalVar, declarators: int, initializer: str | None, public: PublicNames) -> Reason | None:
    if var.storage is not Storage.STATIC and var.name in public.exported:
        code = codes.EXPORTED_DATA
    elif var.storage is not Storage.STATIC:
        code = codes.NOT_STATIC
    elif "/clinic/" in var.file:
        code = codes.CLINIC_GENERATED
    elif not var.file.endswith(".c"):
        code = codes.DEFINED_IN_HEADER
    elif var.macro:
        return codes.MADE_BY_MACRO, "made by a macro"
    elif var.thread_local:
        code = codes.THREAD_LOCAL
    elif declaration(var.ctype, "x") is None or not declarable_elsewhere(var, public.types):
        return codes.TYPE_NOT_DECLARABLE, f"its type ({var.type}) is not one the state header can declare"
    elif declarators > 1:
        code = codes.DECLARED_WITH_OTHERS
    elif var.has_initializer and (initializer is None or not _is_constant(initializer, public.macros)):
        code = codes.NONCONSTANT_INITIALIZER
    else:
        return None
    return code, code.summary


def _is_constant(initializer: str, macros: frozenset[str]) -> bool:
    """Literals, operators, braces, casts to C types, NULL and the public
    headers' macros: an initializer the state header's INIT macros can hold."""
    position = 0
    for match in _CONSTANT_TOKEN_RE.finditer(initializer):
        word = match["word"]
        if match.start() != position or (word and word != "NULL" and word not in macros and word not in _C_TYPE_WORDS):
            return False
        position = match.end()
    return position == len(initializer.rstrip()) and position > 0


def declarable_elsewhere(var: GlobalVar, public_types: frozenset[str]) -> bool:
    """Arithmetic types, object pointers, pointers to structs (declared
    opaque), the public headers' typedefs, and arrays of those."""
    shape = var.ctype
    if not shape.simple:
        return False
    words = shape.base.split()
    if words[0] == "struct":
        return shape.pointers > 0 and len(words) == 2
    return all(word in _C_TYPE_WORDS or word.endswith("_t") or word in public_types for word in words)


def declaration(shape: CType, name: str) -> str | None:
    """`int [37]`, `struct arena_object *` -> a member declaration of `name`."""
    if not shape.simple:
        return None
    dims = "".join(f"[{dim}]" for dim in shape.dims).replace(" ", "")
    return f"{shape.base} {'*' * shape.pointers}{name}{dims}"


def opaque_structs(moves: Iterable[Move]) -> list[str]:
    """The struct tags the state header names without a definition."""
    return sorted({move.var.ctype.name for move in moves
                   if move.var.ctype.simple and move.var.ctype.base.startswith("struct")})

