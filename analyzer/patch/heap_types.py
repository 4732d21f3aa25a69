"""A module's static type becomes a heap type made from a spec in the
module's exec function (PEP 687, the "Isolating Extension Modules" HOWTO):
`static PyTypeObject T = {...};` turns into a slot table and a
PyType_Spec, a `PyTypeObject *T` member of the module state is created by
PyType_FromModuleAndSpec, its instances own a reference to it (the
dealloc drops it, the traverse visits it), and the exec function's uses of
`&T` read the member.  A type whose initializer, dealloc or uses do not fit
stays static, with the reason."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..cpython.api import DECREF_CALLS, GC_FREES, TYPE_FREE_CALLS
from ..cpython.typeslots import TypeLayout
from .edits import (
    STATEMENT_BOUNDARY,
    Edit,
    EditError,
    Token,
    closing_brace,
    closing_paren,
    function_bodies,
    indent_at,
    line_start,
    member_lists,
    names_member,
)
from .gc_protocol import collected
from .module_source import Function
from .type_specs import (
    GC_FLAG,
    INSTANCE_FIRST,
    NO_INSTANCES_FLAG,
    OPERANDS,
    TEARDOWN,
    TYPE_FIRST,
    BaseType,
    TypeDefinition,
    find_definition,
    members_edit,
    method_names,
    named_function,
    offset_members,
    render_spec,
    slot_table,
    source_text,
    spec_flags,
    table_values,
    type_functions,
)

_READY_CALL = "PyType_Ready"
_SET_TYPE_CALL = "Py_SET_TYPE"
_METATYPE = "PyType_Type"
_OBJECT_BASE = "PyBaseObject_Type"
_PICKLE_METHODS = frozenset({'"__reduce__"', '"__reduce_ex__"', '"__getstate__"'})
_COMMENTS_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


_NO_GC = BaseType(name="", gc=False, has_clear=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class HeapType:
    """How one static type becomes a heap type."""
    name: str                   # the static type's variable: the state member keeps the name
    spec: str                   # the PyType_Spec's variable
    base: str                   # the base type's variable, "" for object
    base_is_module_type: bool   # the base is another type of the module, converted too
    exec_function: str          # where it is made
    edits: tuple[Edit, ...]     # the definition turned spec, forward declarations, dealloc and traverse
    exec_spans: tuple[tuple[int, int], ...]   # token spans of exec statements the spec makes needless
    notes: tuple[str, ...]      # what the conversion did, for the commit message
    python_name: str = ""       # tp_name: "itertools.count", "collections.deque" (its __module__ and name)
    method_uses: tuple[tuple[str, str], ...] = ()     # (a function of a converted type using it, the type there)


def own_functions(code: list[Token], functions: list[Function], name: str, layout: TypeLayout) -> dict[str, str]:
    """The functions of the file the type `name` calls with an object of
    the type first, each with the expression of the type there:
    `Py_TYPE(self)` for an instance, `type` for tp_new's type."""
    definition = find_definition(code, name, layout)
    if isinstance(definition, str):
        return {}
    tables = {field: found for field, members in layout.tables
              if (found := table_values(code, definition.value(field), members)) is not None}
    named = {f.name: f for f in functions}
    expressions = {}
    for function, kind in type_functions(code, definition, {}, layout, tables).items():
        if function in named and named[function].parameters:
            parameters = named[function].parameters
            type_, parameter = parameters[0]
            if kind == OPERANDS and len(parameters) >= 2:
                expressions[function] = f"{OPERANDS}:{parameter}, {parameters[1][1]}"
            elif kind == TYPE_FIRST:
                expressions[function] = parameter if type_ == "PyTypeObject *" else f"(PyTypeObject *){parameter}"
            elif kind == INSTANCE_FIRST:
                expressions[function] = f"Py_TYPE({parameter})"
            elif kind == TEARDOWN:
                expressions[function] = ""        # the type's own, but no path to the state
    return expressions


def plan_heap_type(text: str, code: list[Token], functions: list[Function], name: str,
                   exec_functions: tuple[str, ...], uses: frozenset[str], layout: TypeLayout,
                   bases: dict[str, BaseType], module_types: frozenset[str],
                   reachable: dict[str, str], blocked: frozenset[str] = frozenset()) -> HeapType | str:
    """How the static type `name` becomes a heap type, or why it cannot
    yet.  `uses`: the functions where the analysis saw it used;
    `module_types`: the file's other static types that may convert;
    `bases`: types defined elsewhere in the tree, by name; `reachable`:
    the functions of converted types, with the expression of the type
    there (own_functions), which reach the module state through it;
    `blocked`: functions that types staying static use too."""
    if "" in uses:
        return "used in the initializer of another global"
    # What the configuration the analysis saw leaves out (an assert) names it too.
    uses = uses | {f.name for f in functions if any(
        code[i].text == name and code[i].kind == "id" and not names_member(code, i)
        for i in range(f.brace, f.end))}
    outside = sorted(uses - set(exec_functions) - set(reachable))
    if outside:
        return (f"used in {', '.join(f + '()' for f in outside[:3])}{', ...' if len(outside) > 3 else ''}, "
                "which reach no module state: a callback, a function of a type that stays static, or a helper "
                "with a caller that does not reach it")
    exec_uses = uses & set(exec_functions)
    if len(exec_uses) != 1:
        return "not made in one exec function: it is used in none, or in several"
    definition = find_definition(code, name, layout)
    if isinstance(definition, str):
        return definition
    exec_function = next(iter(exec_uses))
    method_uses = tuple(sorted((f, reachable[f]) for f in uses - exec_uses))
    named = {f.name: f for f in functions}
    function = named[exec_function]
    notes = []
    try:
        assigned, spans = exec_assignments(code, function, name, layout)
        spans += ready_statements(code, function, name) + metatype_statements(code, function, name)
        base = base_of(definition, assigned)
        taken = {t.text for t in code if t.kind == "id"}
        edits: list[Edit] = []
        tables: dict[str, dict[str, str]] = {}
        for field, members in layout.tables:
            value = assigned.get(field) or definition.value(field)
            if value:
                found = table_values(code, value, members)
                if found is not None:
                    tables[field] = found
                    edits += _unused_table(text, code, value)       # its slots are the spec's now
        extra_slots: list[tuple[str, str]] = []
        added_text = ""
        own_gc = GC_FLAG in definition.value("tp_flags")
        inherits_gc = not own_gc and bool(base) and base not in module_types and (bases.get(base) or _NO_GC).gc
        prefix = type_prefix(name, taken, inherits_gc)
        gc_added = False
        dealloc = named_function(definition.value("tp_dealloc"))
        traverse = named_function(definition.value("tp_traverse"))
        shared = sorted({dealloc, traverse} & blocked)
        if shared:
            raise EditError(f"{', '.join(f + '()' for f in shared)} serve a type that stays static too")
        if dealloc:
            if dealloc not in named:
                raise EditError(f"its tp_dealloc {dealloc}() is not defined in the file")
            edits += dealloc_edits(text, code, named[dealloc], base if base not in module_types else "")
            notes.append(f"{dealloc}() drops the instance's reference to its type")
        if own_gc:
            if traverse not in named:
                raise EditError(f"its tp_traverse {traverse}() is not defined in the file")
            edits += traverse_edit(text, code, named[traverse])
            notes.append(f"{traverse}() visits the type")
        elif traverse or definition.value("tp_clear"):
            raise EditError("a tp_traverse or tp_clear without Py_TPFLAGS_HAVE_GC")
        elif base and base not in module_types:
            known = bases.get(base)
            if known is None:
                raise EditError(f"its base {base} is not a type this can read")
            if known.gc:
                added_text, extra_slots = inherited_gc_functions(prefix, known)
                gc_added = True
                clear = f" and {prefix}_clear() (the base's)" if known.has_clear else ""
                notes.append(f"its base {base} has GC: the spec says {GC_FLAG}, with {prefix}_traverse() "
                             f"(visits the type, then calls the base's){clear}")
        elif base:
            raise EditError(f"its base {base} is a type of the module: a heap base is not generated yet")
        elif definition.value("tp_free") not in ("", *GC_FREES) \
                or definition.value("tp_alloc") not in ("", "PyType_GenericAlloc"):
            notes.append("its instances stay untracked by the garbage collector: it sets tp_alloc or tp_free")
        else:
            protocol = None
            try:
                protocol = collected(text, code, functions, name, prefix,
                                     named.get(dealloc) if dealloc else None, taken,
                                     bool(definition.value("tp_new")))
            except EditError as exc:
                notes.append(f"its instances stay untracked by the garbage collector: {exc}")
            if protocol is not None:
                if definition.value("tp_free"):      # PyType_GenericAlloc tracks what a type with GC allocates
                    assigned = {**assigned, "tp_free": GC_FREES[definition.value("tp_free")]}
                edits += protocol.edits
                added_text += protocol.traverse
                extra_slots.append(protocol.slot)
                gc_added = True
                notes.append(f"its instances are collected now ({GC_FLAG}, {protocol.slot[1]}() visits the type): "
                             "each owns a reference to its type, which owns one to the module")
        offsets = offset_members(definition, assigned, layout)
        if offsets:
            if layout.member_header and not any(t.directive == "include" and t.text == f'"{layout.member_header}"'
                                                for t in code):
                edits.append(_include_edit(text, code, layout.member_header))
            table = definition.value("tp_members")
            if table:
                edits.append(members_edit(text, code, named_function(table), offsets))
            else:
                added_text += "\n".join([f"static PyMemberDef {prefix}_members[] = {{",
                                         *(f"    {entry}" for entry in offsets), "    {NULL},", "};", "", ""])
                extra_slots.append(("Py_tp_members", f"{prefix}_members"))
            names = [entry.split('"')[1] for entry in offsets]
            notes.append(f"its offsets become the spec's {', '.join(names)} member{'s' if len(names) > 1 else ''}")
        flags = spec_flags(definition, base, gc_added)
        slots = slot_table(definition, assigned, layout, tables, extra_slots, base, GC_FLAG in flags.split(" | "))
        spec_text = added_text + render_spec(prefix, definition, slots, flags)
        start, end = _whole_lines(text, code[definition.start].start, code[definition.end].end)
        edits.append(Edit(start=start, end=end, text=spec_text + "\n"))
        forward = [Edit(start=start, end=end, text="") for start, end in
                   (_whole_lines(text, code[first].start, code[last].end)
                    for first, last in _forward_declarations(code, name))]
        edits += _without_blank_runs(text, forward)
    except EditError as exc:
        return str(exc)
    tp_name = definition.value("tp_name")
    python_name = tp_name.strip('"') if re.fullmatch(r'"[\w.]+"', tp_name) else ""
    heap = HeapType(name=name, spec=f"{prefix}_spec", base=base, base_is_module_type=base in module_types,
                    exec_function=exec_function, edits=tuple(edits), exec_spans=tuple(spans), notes=tuple(notes),
                    python_name=python_name, method_uses=method_uses)
    for start, end, user in function_bodies(code):
        for index in (i for i in range(start, end) if code[i].text == name):
            stored = _struct_reference(code, index, name)
            if stored is not None:
                notes.append(f"{user}() stores it in the member {stored[0]} of a C struct the garbage collector does "
                             f"not see, which {stored[1]}() releases: the struct borrows the type the module state "
                             "owns (a reference of its own would keep the module alive, a cycle the collector "
                             "cannot break)")
    try:
        for user in (exec_function, *(f for f, _ in method_uses)):
            _references(code, named[user], heap, "")
    except EditError as exc:
        return str(exc)
    allowed = [(definition.start, definition.end), *_forward_declarations(code, name), *member_lists(code),
               *((named[f].start, named[f].end) for f in (exec_function, *(f for f, _ in method_uses)))]
    stray = next((t for i, t in enumerate(code) if t.text == name and t.kind == "id"
                  and not names_member(code, i) and not any(a <= i <= b for a, b in allowed)), None)
    if stray is not None:
        where = "a macro" if stray.directive else "code outside its exec function"
        return f"named in {where} (line {stray.line})"
    if base and not method_names(code, definition) & _PICKLE_METHODS:
        notes.append(f"pickle protocols 0 and 1 refused the static subtype of {base}; copyreg pickles a heap "
                     "type as its base, without what the subtype adds")
    if not definition.value("tp_new") and not base:
        notes.append(f"no tp_new: {NO_INSTANCES_FLAG}, as PyType_Ready gave the static type")
    return replace(heap, notes=tuple(notes))


def exec_edits(text: str, code: list[Token], function: Function, heaps: list[HeapType],
               expression: str) -> list[Edit]:
    """In the exec function: the statements the specs make needless go, and
    `&T` reads the state member."""
    edits = []
    for first, last in sorted(span for heap in heaps for span in heap.exec_spans
                              if function.brace < span[0] < function.end):
        start, end = _whole_lines(text, code[first].start, code[last].end)
        previous = code[first - 1].end
        between = text[previous:start]
        if _READY_CALL in between and not _COMMENTS_RE.sub("", between).strip():
            start = line_start(text, previous + len(between) - len(between.lstrip()))   # its comment is stale
        edits.append(Edit(start=start, end=end, text=""))
    added, covered = _added_objects(text, code, function, heaps, expression)
    return _without_blank_runs(text, edits) + added + [
        edit for heap in heaps for edit in _references(code, function, heap, expression, text)
        if not any(a <= edit.start < b for a, b in covered)]


def _added_objects(text: str, code: list[Token], function: Function, heaps: list[HeapType],
                   expression: str) -> tuple[list[Edit], list[tuple[int, int]]]:
    """`Py_INCREF(&T);` then `PyModule_AddObject(m, "NAME", (PyObject *)&T)`
    under the name tp_name gives: PyModule_AddType(m, state->T), which
    adds it under that name and keeps its reference right on failure too.
    The edits, and the text spans whose references to T they replace."""
    edits, covered = [], []
    by_name = {heap.name: heap for heap in heaps}
    for index in range(function.brace + 1, function.end - 8):
        words = [t.text for t in code[index:index + 6]]
        if words[:3] != ["Py_INCREF", "(", "&"] or words[4:6] != [")", ";"] or words[3] not in by_name:
            continue
        heap = by_name[words[3]]
        call = next((i for i in range(index + 6, min(index + 12, function.end))
                     if code[i].text == "PyModule_AddObject" and code[i + 1].text == "("), None)
        if call is None or any(t.text == ";" for t in code[index + 6:call]):
            continue
        close = closing_paren(code, call + 1)
        arguments = [t.text for t in code[call + 2:close]]
        module = arguments[0] if arguments else ""
        if arguments[1:3] != [",", f'"{heap.python_name.rpartition(".")[2]}"'] or arguments[-2:] != ["&", heap.name]:
            continue
        start, end = _whole_lines(text, code[index].start, code[index + 5].end)
        edits += [Edit(start=start, end=end, text=""),
                  Edit(start=code[call].start, end=code[close].end,
                       text=f"PyModule_AddType({module}, {expression}{heap.name})")]
        covered += [(start, end), (code[call].start, code[close].end)]
    return edits, covered


def _without_blank_runs(text: str, deletions: list[Edit]) -> list[Edit]:
    """Deleted lines leave no run of blank lines: a deletion between two
    blank lines (or after the block's opening line) takes the one after."""
    merged: list[Edit] = []
    for edit in sorted(deletions, key=lambda e: e.start):
        if merged and merged[-1].end == edit.start:
            merged[-1] = Edit(start=merged[-1].start, end=edit.end, text="")
        else:
            merged.append(edit)
    result: list[Edit] = []
    for edit in merged:
        line = line_start(text, max(edit.start - 1, 0))
        while result and result[-1].start <= line < result[-1].end and line > 0:
            line = line_start(text, line - 1)        # the line before is deleted too: the one before it
        before = text[line:text.find("\n", line)].strip() if line < edit.start else ""
        after_end = text.find("\n", edit.end)
        after = text[edit.end:after_end if after_end >= 0 else len(text)]
        end = edit.end
        if not after.strip() and after_end >= 0 and (not before or before.endswith("{")):
            end = after_end + 1
        result.append(Edit(start=edit.start, end=end, text=""))
    return result


def _references(code: list[Token], function: Function, heap: HeapType, expression: str,
                text: str = "") -> list[Edit]:
    edits = []
    for index in range(function.brace, function.end):
        token = code[index]
        if token.text != heap.name or token.kind != "id" or names_member(code, index):
            continue
        if any(first <= index <= last for first, last in heap.exec_spans):
            continue
        stored = _struct_reference(code, index, heap.name)
        if stored is not None and text:
            release = stored[2]
            edits.append(Edit(start=code[index - 3].start, end=code[index + 1].end, text=f"{expression}{heap.name}"))
            start, end = _whole_lines(text, code[release[0]].start, code[release[1]].end)
            edits.append(Edit(start=start, end=end, text=""))
        elif code[index - 1].text == "&":
            edits.append(Edit(start=code[index - 1].start, end=token.end, text=f"{expression}{heap.name}"))
        elif code[index + 1].text == ".":
            edits.append(Edit(start=token.start, end=code[index + 1].end, text=f"{expression}{heap.name}->"))
        else:
            raise EditError(f"{heap.name} in {function.name}() (line {token.line}) is neither `&{heap.name}` nor "
                            f"`{heap.name}.member`")
    return edits


def _struct_reference(code: list[Token], index: int, name: str) -> tuple[str, str, tuple[int, int]] | None:
    """`p->member = (T *)Py_NewRef(&name);` at `index` (the name), where one
    statement of the file, `Py_DECREF(q->member);`, releases it: (the
    member, the function releasing it, the release's first and last
    tokens)."""
    if [t.text for t in code[index - 3:index]] not in (["Py_NewRef", "(", "&"], ["Py_XNewRef", "(", "&"]) \
            or code[index + 1].text != ")":
        return None
    before = index - 4
    if code[before].text == ")":             # a cast
        while before > 0 and code[before].text != "(":
            before -= 1
        before -= 1
    if code[before].text != "=" or code[before - 2].text != "->" or code[before - 1].kind != "id":
        return None
    member = code[before - 1].text
    releases = []
    for function in function_bodies(code):
        for i in range(function[0], function[1]):
            if code[i].text in DECREF_CALLS and code[i + 1].text == "(":
                close = closing_paren(code, i + 1)
                if [t.text for t in code[close - 2:close]] == ["->", member] and code[close + 1].text == ";":
                    releases.append((function[2], (i, close + 1)))
    if len(releases) != 1:
        return None
    return member, releases[0][0], releases[0][1]


def creation(heap: HeapType, module: str, expression: str, indent: str) -> list[str]:
    """The statements that make the type from its spec at the start of exec."""
    bases = f"(PyObject *){expression}{heap.base}" if heap.base_is_module_type else \
        f"(PyObject *)&{heap.base}" if heap.base else "NULL"
    target = f"{expression}{heap.name}"
    call = f"{target} = (PyTypeObject *)PyType_FromModuleAndSpec("
    arguments = f"{module}, &{heap.spec}, {bases});"
    lines = [f"{indent}{call}{arguments}"]
    if len(lines[0]) + 4 >= 80:           # the caller indents the lines one level
        lines = [f"{indent}{call}", f"{indent}    {arguments}"]
    return [*lines, f"{indent}if ({target} == NULL) {{", f"{indent}    return -1;", f"{indent}}}"]


def _forward_declarations(code: list[Token], name: str) -> list[tuple[int, int]]:
    found = []
    for index in range(1, len(code) - 2):
        if code[index].text == "PyTypeObject" and code[index + 1].text == name and code[index + 2].text == ";" \
                and code[index].depth == 0 and code[index].directive is None:
            found.append((index - 1 if code[index - 1].text == "static" else index, index + 2))
    return found


def _unused_table(text: str, code: list[Token], value: str) -> list[Edit]:
    """The definition of a `static PyNumberMethods NAME = {...};` that only
    the static type named (`&NAME`): unused once its slots are the spec's."""
    name = value.lstrip("&").strip()
    named = [i for i, t in enumerate(code) if t.text == name and t.kind == "id"]
    if len(named) != 2 or code[named[0] + 1].text != "=" or code[named[0]].depth != 0:
        return []
    start = named[0]
    while start > 0 and code[start - 1].text not in (";", "}") and code[start - 1].directive is None:
        start -= 1
    end = closing_brace(code, named[0] + 2) + 1
    if code[end].text != ";":
        return []
    first, last = _whole_lines(text, code[start].start, code[end].end)
    return _without_blank_runs(text, [Edit(start=first, end=last, text="")])


def _include_edit(text: str, code: list[Token], header: str) -> Edit:
    """`#include "HEADER"` on the line after the file's Python.h include."""
    python_h = next((t for t in code if t.directive == "include" and t.text == '"Python.h"'), None)
    if python_h is None:
        raise EditError(f"no Python.h include to put {header}'s after")
    after = text.find("\n", python_h.end) + 1
    return Edit(start=after, end=after, text=f'#include "{header}"\n')


def _whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    first = line_start(text, start)
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    rest = text[end:line_end].strip()
    if text[first:start].strip() or (rest and not (rest.startswith("/*") and rest.endswith("*/")
                                                        and rest.count("*/") == 1) and not rest.startswith("//")):
        raise EditError(f"code shares a line with the statement at offset {start}")
    return first, line_end + 1


def base_of(definition: TypeDefinition, assigned: dict[str, str]) -> str:
    """The base type's name: from the exec function's `T.tp_base = &X;`,
    else from the initializer's `&X` (a macro call there, such as
    DEFERRED_ADDRESS(&X), defers it to the exec function); "" for object;
    a message when neither says."""
    value = assigned.get("tp_base") or definition.value("tp_base")
    if not value:
        return ""
    match = re.fullmatch(r"&\s*(\w+)", value)
    if match is None:
        raise EditError(f"tp_base = {value}: not the address of a type")
    return "" if match[1] == _OBJECT_BASE else match[1]


def exec_assignments(code: list[Token], function: Function, name: str, layout: TypeLayout) -> tuple[
        dict[str, str], list[tuple[int, int]]]:
    """The statements `T.tp_xxx = VALUE;` in the exec function's outermost
    block: (member -> value, their token spans).  A value must be a name
    or the address of one: the spec is made before the rest of exec runs."""
    depth = code[function.brace].depth + 1
    found: dict[str, str] = {}
    spans = []
    for index in range(function.brace + 1, function.end - 4):
        if code[index].text != name or code[index].depth != depth or code[index - 1].text not in (";", "{", "}"):
            continue
        if code[index + 1].text != "." or code[index + 3].text != "=":
            continue
        field = code[index + 2].text
        end = index + 4
        while code[end].text != ";":
            end += 1
        value = source_text(code[index + 4:end])
        if not re.fullmatch(r"&?\s*\w+", value) or field not in layout.fields:
            raise EditError(f"{name}.{field} = {value} in {function.name}(): not a constant the spec can hold")
        found[field] = value
        spans.append((index, end))
    return found, spans


def ready_statements(code: list[Token], function: Function, name: str) -> list[tuple[int, int]]:
    """The spans of `if (PyType_Ready(&T) < 0) ...` statements (a block or
    one statement, no else) in the function: a heap type is ready."""
    spans = []
    for index in range(function.brace + 1, function.end - 6):
        if code[index].text != "if" or code[index + 1].text != "(":
            continue
        condition_end = closing_paren(code, index + 1)
        inside = [t.text for t in code[index + 2:condition_end]]
        if inside[:5] != [_READY_CALL, "(", "&", name, ")"] or inside[5:] not in ([], ["<", "0"], ["!=", "0"]):
            continue
        body = condition_end + 1
        if code[body].text == "{":
            end = closing_brace(code, body)
        else:
            end = body
            while code[end].text != ";":
                end += 1
        if end + 1 < len(code) and code[end + 1].text == "else":
            raise EditError(f"`if ({_READY_CALL}(&{name}))` in {function.name}() has an else")
        spans.append((index, end))
    return spans


def metatype_statements(code: list[Token], function: Function, name: str) -> list[tuple[int, int]]:
    """The spans of `Py_SET_TYPE(&T, &PyType_Type);` in the function: a
    static type's metatype set by hand, which a heap type has from the spec."""
    wanted = [_SET_TYPE_CALL, "(", "&", name, ",", "&", _METATYPE, ")", ";"]
    return [(index, index + len(wanted) - 1) for index in range(function.brace + 1, function.end - len(wanted))
            if [t.text for t in code[index:index + len(wanted)]] == wanted
            and (code[index - 1].text in STATEMENT_BOUNDARY or code[index - 1].directive is not None)]


def dealloc_edits(text: str, code: list[Token], function: Function, base: str = "") -> list[Edit]:
    """The dealloc of a heap type's instance drops the reference the
    instance holds to its type: `PyTypeObject *tp = Py_TYPE(self);` first,
    `Py_DECREF(tp);` after the free call that ends the body (or the call of
    the base's dealloc, `PyDict_Type.tp_dealloc(self);`, for a subtype of a
    builtin)."""
    if not function.parameters:
        raise EditError(f"{function.name}() has no parameter")
    parameter = function.parameters[0][1]
    body = [i for i in range(function.brace + 1, function.end) if code[i].depth == code[function.brace].depth + 1]
    if any(code[i].text == "Py_DECREF" and code[i + 2].text in ("tp", "type") for i in body):
        return []
    last = function.end - 1
    if code[last].text != ";":
        raise EditError(f"{function.name}() does not end with the free call")
    start = last - 1
    while start > function.brace and code[start - 1].text not in (";", "{", "}"):
        start -= 1
    statement = [t.text for t in code[start:last]]
    base_dealloc = bool(base) and statement[:4] == [base, ".", "tp_dealloc", "("]
    if not (base_dealloc or any(name in statement for name in TYPE_FREE_CALLS)) or "return" in statement:
        raise EditError(f"{function.name}() does not end with the free call (it ends with "
                        f"`{' '.join(statement)};`)")
    if any(code[i].text == "tp" for i in range(function.start, function.end)):
        raise EditError(f"{function.name}() has a name tp already")
    first = code[function.brace + 1]
    indent = indent_at(text, first.start)
    after = text.find("\n", code[last].end) + 1
    edits = [Edit(start=line_start(text, first.start), end=line_start(text, first.start),
                  text=f"{indent}PyTypeObject *tp = Py_TYPE({parameter});\n"),
             Edit(start=after, end=after, text=f"{indent_at(text, code[start].start)}Py_DECREF(tp);\n")]
    if statement[:6] == ["Py_TYPE", "(", parameter, ")", "->", "tp_free"]:
        edits.append(Edit(start=code[start].start, end=code[start + 5].end, text="tp->tp_free"))
    return edits


def traverse_edit(text: str, code: list[Token], function: Function) -> list[Edit]:
    """A heap type's traverse visits the type (its instances own it)."""
    if not function.parameters:
        raise EditError(f"{function.name}() has no parameter")
    parameter = function.parameters[0][1]
    names = [t.text for t in code[function.brace:function.end]]
    if "Py_TYPE" in names and "Py_VISIT" in names:
        return []
    first = code[function.brace + 1]
    start = line_start(text, first.start)
    return [Edit(start=start, end=start, text=f"{indent_at(text, first.start)}Py_VISIT(Py_TYPE({parameter}));\n")]


def inherited_gc_functions(prefix: str, base: BaseType) -> tuple[str, list[tuple[str, str]]]:
    """A type that inherits GC from a base defined elsewhere gets a traverse
    that also visits the type (and a clear calling the base's, since a
    type with its own traverse inherits neither)."""
    lines = ["static int", f"{prefix}_traverse(PyObject *self, visitproc visit, void *arg)", "{",
             "    Py_VISIT(Py_TYPE(self));", f"    return {base.name}.tp_traverse(self, visit, arg);", "}", ""]
    slots = [("Py_tp_traverse", f"{prefix}_traverse")]
    if base.has_clear:
        lines += ["/* A type with a traverse of its own inherits no tp_clear. */",
                  "static int", f"{prefix}_clear(PyObject *self)", "{",
                  f"    return {base.name}.tp_clear(self);", "}", ""]
        slots.append(("Py_tp_clear", f"{prefix}_clear"))
    return "\n".join(lines) + "\n", slots


def type_prefix(name: str, taken: set[str], gc_functions: bool) -> str:
    """`spamlist` for spamlist_type, `Xxo` for Xxo_Type; the name itself
    when the names it would add are taken."""
    short = re.sub(r"_?[Tt]ype$", "", name) or name
    for prefix in (short, name):
        added = {f"{prefix}_slots", f"{prefix}_spec"} | ({f"{prefix}_traverse", f"{prefix}_clear"}
                                                          if gc_functions else set())
        if not added & taken:
            return prefix
    raise EditError(f"the names {short}_spec and {name}_spec are taken")
