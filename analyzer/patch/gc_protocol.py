"""The garbage collector's protocol for a heap type whose static type had
none.  A heap type's instances own a reference to their type, and the type
one to its module (PyType_FromModuleAndSpec): an instance kept in the
module's dict closes a cycle that only the collector can break, so the
isolation HOWTO asks that such instances be collected.  The spec says
Py_TPFLAGS_HAVE_GC, a traverse visits the type, instances the file
allocates itself come from PyObject_GC_New and are tracked at once (the
traverse reads nothing but the type), and the dealloc untracks them first
and frees them with PyObject_GC_Del."""
from __future__ import annotations

from dataclasses import dataclass

from ..cpython.api import FINALIZER_FROM_DEALLOC, GC_ALLOCATIONS, GC_FREES
from .edits import (
    STATEMENT_BOUNDARY,
    Edit,
    EditError,
    Token,
    closing_paren,
    if_statement_end,
    indent_at,
    line_start,
    null_test,
)
from .module_source import Function


@dataclass(frozen=True, slots=True)
class Collected:
    edits: tuple[Edit, ...]          # allocations, their tracking, the dealloc's untracking and free
    traverse: str                    # the new traverse function's definition
    slot: tuple[str, str]            # (Py_tp_traverse, its name)


def collected(text: str, code: list[Token], functions: list[Function], name: str, prefix: str,
              dealloc: Function | None, taken: set[str], instantiable: bool) -> Collected | None:
    """The edits that make the instances of type `name` collected; None
    when it has none (no tp_new, and the file allocates none); an
    EditError says why they cannot be made."""
    traverse = f"{prefix}_traverse"
    if traverse in taken:
        raise EditError(f"the name {traverse} is taken")
    edits: list[Edit] = []
    for function in functions:
        calls = [i for i in range(function.brace, function.end)
                 if code[i].text in GC_ALLOCATIONS and code[i + 1].text == "(" and code[i].directive is None
                 and _type_argument(code, i + 1) == ["&", name]]
        if not calls:
            continue
        if any(code[i].text in GC_FREES for i in range(function.brace, function.end)) and function is not dealloc:
            raise EditError(f"{function.name}() allocates an instance and frees memory itself")
        for call in calls:
            edits.append(Edit(start=code[call].start, end=code[call].end, text=GC_ALLOCATIONS[code[call].text]))
            edits.append(_tracking(text, code, function, call))
    if not edits and not instantiable:
        return None
    if dealloc is not None:
        edits += _untracking(text, code, dealloc)
    lines = ["static int", f"{traverse}(PyObject *self, visitproc visit, void *arg)", "{",
             "    Py_VISIT(Py_TYPE(self));", "    return 0;", "}", "", ""]
    return Collected(edits=tuple(edits), traverse="\n".join(lines), slot=("Py_tp_traverse", traverse))


def _type_argument(code: list[Token], paren: int) -> list[str]:
    """The tokens of the second argument of the call whose `(` is at `paren`."""
    close = closing_paren(code, paren)
    depth = 0
    arguments: list[list[str]] = [[]]
    for token in code[paren + 1:close]:
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if token.text == "," and depth == 0:
            arguments.append([])
        else:
            arguments[-1].append(token.text)
    return arguments[1] if len(arguments) == 2 else []


def _tracking(text: str, code: list[Token], function: Function, call: int) -> Edit:
    """`PyObject_GC_Track(v);` after the test of the allocation's result:
    `if ((v = PyObject_GC_New(...)) == NULL) {...}`, or `v = ...;` (or a
    declaration) followed by `if (v == NULL) ...` or `if (!v) ...`."""
    if code[call - 1].text != "=" or code[call - 2].kind != "id":
        raise EditError(f"{function.name}() allocates an instance without storing it in a variable")
    variable = code[call - 2].text
    test = _enclosing_if(code, function, call)
    if test is None:
        end = closing_paren(code, call + 1) + 1
        if code[end].text != ";":
            raise EditError(f"{function.name}() allocates an instance inside a larger expression")
        test = end + 1
        last = null_test(code, test, variable)
        if last is None:
            raise EditError(f"{function.name}() does not test the allocation right after it")
    else:
        last = if_statement_end(code, test)
        if last is None:
            raise EditError(f"{function.name}() tests the allocation in an if that does not end")
    if code[last + 1].text == "else":
        raise EditError(f"{function.name}() tests the allocation with an else branch")
    at = text.find("\n", code[last].end) + 1
    return Edit(start=at, end=at, text=f"{indent_at(text, code[test].start)}PyObject_GC_Track({variable});\n")


def _enclosing_if(code: list[Token], function: Function, call: int) -> int | None:
    """The `if` whose condition holds the call, when the call compares to
    NULL there (`if ((v = f(...)) == NULL)`)."""
    for index in range(call - 1, function.brace, -1):
        if code[index].text in STATEMENT_BOUNDARY:
            return None
        if code[index].text == "if" and code[index + 1].text == "(":
            close = closing_paren(code, index + 1)
            inner = closing_paren(code, call + 1)
            rest = "".join(t.text for t in code[inner + 1:close])
            return index if close > call and rest in (")==NULL", ")==0") else None
    return None


def _untracking(text: str, code: list[Token], dealloc: Function) -> list[Edit]:
    """`PyObject_GC_UnTrack(self);` first in the dealloc (after the call of
    the finalizer that may resurrect the instance, which must stay
    tracked then), and its free call PyObject_GC_Del."""
    if not dealloc.parameters:
        raise EditError(f"{dealloc.name}() has no parameter")
    parameter = dealloc.parameters[0][1]
    first = code[dealloc.brace + 1]
    if first.line == code[dealloc.brace].line:
        raise EditError(f"{dealloc.name}() has code on the line of its opening brace")
    if first.text == "if" and code[dealloc.brace + 3].text == FINALIZER_FROM_DEALLOC:
        last = if_statement_end(code, dealloc.brace + 1)
        if last is None or code[last + 1].text == "else":
            raise EditError(f"{dealloc.name}() calls its finalizer in an if this cannot follow")
        first = code[last + 1]
    at = line_start(text, first.start)
    edits = [Edit(start=at, end=at, text=f"{indent_at(text, first.start)}PyObject_GC_UnTrack({parameter});\n")]
    for index in range(dealloc.brace, dealloc.end):
        if code[index].text in GC_FREES and code[index + 1].text == "(":
            edits.append(Edit(start=code[index].start, end=code[index].end, text=GC_FREES[code[index].text]))
    return edits
