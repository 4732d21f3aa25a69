"""Settle what each name a unit's bodies use denotes: a global of the unit, an
external variable, a function, or something else (an enum constant, a macro
left over), and turn the unit's bodies into Use, Function and Initializer
records."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..model import ELEMENT_FLAG, Body, Family, Function, FunctionKey, GlobalVar, Initializer, Prototype, Use, UseKind
from .bodies import BodyTokens, Through, locks_through, parameter_names, through_parameter


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitDeclarations:
    variables: frozenset[str]              # file-scope object names the unit declares
    prototypes: dict[str, Prototype]
    static_functions: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedUnit:
    uses: tuple[Use, ...]
    functions: tuple[Function, ...]
    initializers: tuple[Initializer, ...]


def resolve_unit(bodies: Iterable[Body], declarations: UnitDeclarations, globals_: Iterable[GlobalVar],
                 definitions: Mapping[str, BodyTokens] | None = None) -> ResolvedUnit:
    """`definitions`: the tokens of the unit's function bodies, by name: what
    a body does through a pointer parameter (bodies.through_parameter) says
    whether a caller's argument there is written."""
    bodies = list(bodies)
    globals_ = list(globals_)
    file_scope = {var.name: var.identity for var in globals_ if var.func is None}
    definitions = definitions or {}
    parameter_memo: dict[tuple[str, int], tuple[Through, bool] | None] = {}

    def parameter(callee: str, position: int) -> tuple[Through, bool] | None:
        """What the unit's body of `callee` does through its parameter at
        `position`, and whether it locks a member of it; None without that
        body or a name for the parameter."""
        if (callee, position) not in parameter_memo:
            tokens = definitions.get(callee)
            names = parameter_names(tokens.declarator) if tokens is not None else None
            name = names[position] if names is not None and position < len(names) else None
            parameter_memo[callee, position] = None if tokens is None or name is None else (
                through_parameter(tokens, name), locks_through(tokens, name))
        return parameter_memo[callee, position]

    def through(callee: str, position: int) -> Through | None:
        found = parameter(callee, position)
        return found[0] if found is not None else None

    def locks(callee: str, position: int) -> bool:
        found = parameter(callee, position)
        return found is not None and found[1]

    def callee_writes(callee: str, position: int) -> bool | None:
        writes = _callee_writes(declarations.prototypes.get(callee), position)
        return False if writes is not False and through(callee, position) is Through.READ else writes

    scalars = {var.identity for var in globals_ if var.family is Family.SCALAR}
    tables = {var.identity for var in globals_ if var.family is Family.ARRAY}

    def once(flags: tuple[str, ...], body: Body) -> bool:
        """Under a main-interpreter test, or a test of a scalar static of the
        unit, or of an entry of a table of plain values (not objects: a table
        of objects filled lazily is a cache of an interpreter's objects)."""
        for flag in flags:
            name = flag.removesuffix(ELEMENT_FLAG)
            flags_of = tables if flag.endswith(ELEMENT_FLAG) else scalars
            if flag == "" or (body.file, body.name, name) in flags_of or file_scope.get(name) in flags_of:
                return True
        return False
    defined = {b.name: b for b in bodies if b.function}

    def function_key(name: str) -> FunctionKey:
        body = defined.get(name)
        if name in declarations.static_functions or (body is not None and body.static):
            return (body.file if body is not None else "", name)
        return ("", name)

    def is_function(name: str) -> bool:
        return name in defined or name in declarations.prototypes or name in declarations.static_functions

    uses: list[Use] = []
    functions: list[Function] = []
    initializers: list[Initializer] = []
    for body in bodies:
        here: FunctionKey | None = (body.file if body.static else "", body.name) if body.function else None
        owner = file_scope.get(body.name) if not body.function else None
        references: set[FunctionKey] = set()
        for use in body.uses:
            if use.local_static:
                target = (use.file, body.name, use.name)
            elif use.name in file_scope:
                target = file_scope[use.name]
            elif use.name in declarations.variables:
                target = ("", "", use.name)
            else:
                # A called name is also read (it may be a function pointer variable).
                if is_function(use.name) and not (use.kind is UseKind.READ and use.name in body.calls):
                    references.add(function_key(use.name))
                continue
            callee = function_key(use.callee) if use.callee is not None else None
            uses.append(Use(
                target=target, kind=use.kind, file=use.file, line=use.line, function=here,
                initializer_of=owner, callee=callee, position=use.position, address=use.address,
                callee_writes=callee_writes(use.callee, use.position) if use.callee is not None else None,
                callee_writes_through=use.callee is not None and through(use.callee, use.position) is Through.WRITTEN,
                callee_locks=use.callee is not None and locks(use.callee, use.position),
                via=use.via, guarded=use.guarded, once=once(use.once_flags, body), probe=use.probe))
        if here is not None:
            functions.append(Function(
                key=here, file=body.file, line=body.line,
                calls=tuple(sorted(function_key(n) for n in body.calls if is_function(n))),
                references=tuple(sorted(references)),
                signal_handlers=tuple(sorted(function_key(n) for n in body.signal_handlers if is_function(n))),
                once_calls=tuple(sorted({function_key(n) for n, flags in body.once_calls
                                         if is_function(n) and once(flags, body)})),
                library_calls=tuple(sorted(n for n in body.calls
                                           if not is_function(n) and n not in declarations.variables))))
        elif owner is not None and references:
            initializers.append(Initializer(target=owner, functions=tuple(sorted(references))))
    return ResolvedUnit(uses=tuple(uses), functions=tuple(functions), initializers=tuple(initializers))


def _callee_writes(prototype: Prototype | None, position: int) -> bool | None:
    if prototype is None:
        return None
    if position < len(prototype.writes):
        return prototype.writes[position]
    return True if prototype.variadic else None
