"""Settle what each name a unit's bodies use denotes: a global of the unit, an
external variable, a function, or something else (an enum constant, a macro
left over), and turn the unit's bodies into Use, Function and Initializer
records."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..model import Body, Family, Function, FunctionKey, GlobalVar, Initializer, Prototype, Use, UseKind


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


def resolve_unit(bodies: Iterable[Body], declarations: UnitDeclarations,
                 globals_: Iterable[GlobalVar]) -> ResolvedUnit:
    bodies = list(bodies)
    globals_ = list(globals_)
    file_scope = {var.name: var.identity for var in globals_ if var.func is None}
    scalars = {var.identity for var in globals_ if var.family is Family.SCALAR}

    def once(flags: tuple[str, ...], body: Body) -> bool:
        """Under a main-interpreter test, or a test of a scalar static of the unit."""
        return any(flag == "" or (body.file, body.name, flag) in scalars or file_scope.get(flag) in scalars
                   for flag in flags)
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
                callee_writes=_callee_writes(declarations.prototypes.get(use.callee), use.position)
                if use.callee is not None else None,
                via=use.via, guarded=use.guarded, once=once(use.once_flags, body)))
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
