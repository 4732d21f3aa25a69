"""Link the units of a scan into one ScanResult: a header's globals and
functions, which many units see, are kept once; a use of an external
variable is settled by name to the unit that defines it."""
from __future__ import annotations

from dataclasses import replace

from ..model import Diagnostic, Function, GlobalVar, Initializer, ScanResult, SourceUnit, Tree, UnitResult, Use


def link_units(tree: Tree, units: tuple[SourceUnit, ...], results: dict[str, UnitResult],
               hits: int, focus: frozenset[str] | None) -> ScanResult:
    """Header globals and header functions come from many units: keep each
    identity once; settle uses of external variables by name."""
    globals_: dict[tuple[str, str, str], GlobalVar] = {}
    diagnostics: list[Diagnostic] = []
    uses: set[Use] = set()
    functions: dict[tuple[str, str], Function] = {}
    initializers: set[Initializer] = set()
    for unit in units:
        result = results[unit.path]
        diagnostics.extend(result.diagnostics)
        for var in result.globals:
            known = globals_.get(var.identity)
            globals_[var.identity] = var if known is None else _declared_once(known, var)
        uses.update(result.uses)
        for function in result.functions:
            functions.setdefault(function.key, function)
        initializers.update(result.initializers)
    externs = {var.name: var.identity for var in globals_.values() if var.storage.value == "extern"}
    settled = []
    for use in uses:
        if use.target[0] == "":
            identity = externs.get(use.target[2])
            if identity is None or (focus is not None and identity[0] not in focus):
                continue          # a variable outside the tree (errno, environ, ...), or out of focus
            use = replace(use, target=identity)
        if focus is None or use.target[0] in focus:
            settled.append(use)
    return ScanResult(
        tree=tree,
        units=tuple(u.path for u in units),
        globals=tuple(sorted(globals_.values(), key=lambda g: (g.file, g.line, g.func or "", g.name))),
        diagnostics=tuple(sorted(set(diagnostics), key=diagnostic_order)),
        uses=tuple(sorted(settled, key=_use_order)),
        functions=tuple(functions[k] for k in sorted(functions)),
        initializers=tuple(sorted(initializers, key=lambda i: i.target)),
        unit_kinds=tuple((u.path, u.kind) for u in units),
        failed_units=tuple(sorted(u.path for u in units if results[u.path].failed)),
        cache_hits=hits,
        files=frozenset(path for u in units for path in results[u.path].depends_on))


def _declared_once(one: GlobalVar, other: GlobalVar) -> GlobalVar:
    """One record of a variable declared twice (`static PyTypeObject T;`,
    then `static PyTypeObject T = {...};`): the first declaration, with the
    initializer of the one that has it, so the record does not say the
    variable starts zeroed."""
    first, second = (one, other) if one.line <= other.line else (other, one)
    if second.has_initializer and not first.has_initializer:
        return replace(first, has_initializer=True, initializer=second.initializer)
    return first


def diagnostic_order(diagnostic: Diagnostic) -> tuple[str, int, int, str, str]:
    return (diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.code.slug, diagnostic.unit)


def _use_order(use: Use) -> tuple[object, ...]:
    return (use.target, use.file, use.line, use.kind.value, use.function or ("", ""), use.callee or ("", ""),
            use.position, use.via or "", use.initializer_of or ("", "", ""))
