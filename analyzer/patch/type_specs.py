"""A static type's definition read from its file (the initializer's
members, positional in the order of the tree's PyTypeObject or designated,
and the tp_as_* tables it names), and the slot table and PyType_Spec that
replace it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..cpython.typeslots import (
    BINARY_NUMBER_SLOTS,
    CLASS_METHOD_FLAG,
    GETSET_TABLE_FIELDS,
    HEAD_INIT_MACROS,
    MEMBER_OFFSETS,
    METHOD_TABLE_FIELDS,
    NOT_SELF_SLOTS,
    OBJECT_INHERITED,
    RUNTIME_FIELDS,
    SPEC_FIELDS,
    STATIC_METHOD_FLAG,
    TEARDOWN_SLOTS,
    TYPE_FIRST_SLOTS,
    TypeLayout,
)
from .edits import Edit, EditError, Token, closing_brace, closing_paren, indent_at, initializer_elements, line_start
from .module_source import table_entries

IMMUTABLE_FLAG = "Py_TPFLAGS_IMMUTABLETYPE"
NO_INSTANCES_FLAG = "Py_TPFLAGS_DISALLOW_INSTANTIATION"
GC_FLAG = "Py_TPFLAGS_HAVE_GC"


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeDefinition:
    """A `[static] PyTypeObject NAME = {...};` of a file's text."""
    name: str
    values: tuple[tuple[str, str], ...]     # (tp_ member, its value's text), nonzero members only
    start: int                              # token index of its first token (`static`)
    end: int                                # token index of its `;`

    def value(self, field: str) -> str:
        return next((text for name, text in self.values if name == field), "")


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseType:
    """What a heap type needs to know of a base type defined elsewhere."""
    name: str
    gc: bool
    has_clear: bool


def find_definition(code: list[Token], name: str, layout: TypeLayout) -> TypeDefinition | str:
    """The definition of the type `name` (a message when the file has none
    this can read)."""
    for index in range(len(code) - 4):
        token = code[index]
        if token.text != "PyTypeObject" or token.directive is not None or token.depth != 0:
            continue
        if code[index + 1].text != name or code[index + 2].text != "=" or code[index + 3].text != "{":
            continue
        brace = index + 3
        closing = closing_brace(code, brace)
        if closing + 1 >= len(code) or code[closing + 1].text != ";":
            return f"the initializer of {name} does not end its declaration"
        if any(t.directive is not None for t in code[brace:closing]):
            return f"the initializer of {name} has preprocessor conditionals"
        values = _values(code, brace, closing, layout)
        if isinstance(values, str):
            return values
        start = index - 1 if index and code[index - 1].text == "static" else index
        return TypeDefinition(name=name, values=values, start=start, end=closing + 1)
    return f"no definition `PyTypeObject {name} = {{...}};` in the file"


def _values(code: list[Token], brace: int, closing: int, layout: TypeLayout) -> tuple[tuple[str, str], ...] | str:
    index = brace
    if code[index + 1].text in HEAD_INIT_MACROS and code[index + 2].text == "(":
        index = closing_paren(code, index + 2)          # the macro's expansion ends in a comma
        if code[index + 1].text == ",":
            index += 1
    values = _nonzero_members(initializer_elements(code, index, closing), layout.fields)
    if values is None:
        return "an initializer this cannot read (a nested designator, or more values than PyTypeObject has)"
    return tuple(values.items())


def _nonzero_members(elements: list[list[Token]], positional: tuple[str, ...]) -> dict[str, str] | None:
    """The members the elements give a value other than 0 or NULL, each
    element named by its designator or its position."""
    found: dict[str, str] = {}
    position = 0
    for element in elements:
        if element[0].text == "." and len(element) > 3 and element[2].text == "=":
            field, element = element[1].text, element[3:]
        elif element[0].text == "." or position >= len(positional):
            return None
        else:
            field = positional[position]
            position += 1
        if " ".join(t.text for t in element) not in ("0", "NULL"):
            found[field] = source_text(element)
    return found


def source_text(tokens: list[Token]) -> str:
    """The value as the source writes it (tokens joined with the spaces
    of the original where they had some)."""
    pieces = [tokens[0].text]
    for before, token in zip(tokens, tokens[1:], strict=False):
        pieces.append((" " if token.start > before.end else "") + token.text)
    return "".join(pieces)


def read_base(code: list[Token], name: str, layout: TypeLayout) -> BaseType | None:
    found = find_definition(code, name, layout)
    if isinstance(found, str):
        return None
    return BaseType(name=name, gc=GC_FLAG in found.value("tp_flags"), has_clear=bool(found.value("tp_clear")))


def slot_table(definition: TypeDefinition, assigned: dict[str, str], layout: TypeLayout,
               tables: dict[str, dict[str, str]], extra: list[tuple[str, str]], base: str,
               gc: bool) -> list[tuple[str, str]]:
    """(slot id, value) of the spec's slots, in the order of the members of
    PyTypeObject, but those a type based on object inherits as they are;
    `tables`: the values of each tp_as_* table the type names (read by the
    caller); `extra`: slots the conversion adds; `gc`: the spec says
    Py_TPFLAGS_HAVE_GC."""
    values = dict(definition.values)
    values.update(assigned)
    inherited = {**OBJECT_INHERITED, "tp_free": "PyObject_GC_Del" if gc else "PyObject_Del"} if not base else {}
    slots: list[tuple[str, str]] = []
    for field in layout.fields:
        value = values.get(field, "")
        if not value or field in SPEC_FIELDS or field == "tp_base" or inherited.get(field) == value:
            continue
        if field in RUNTIME_FIELDS:
            raise EditError(f"{field} is set in the initializer: PyType_Ready fills it")
        if field in MEMBER_OFFSETS:
            continue                  # offset_members()
        if layout.table(field):
            table = tables.get(field)
            if not isinstance(table, dict):
                raise EditError(f"{field} = {value}: not a table of the file this can read")
            for member in layout.table(field):
                if table.get(member):
                    slots.append((_slot(member, layout), table[member]))
            continue
        if field == "tp_doc" and not value.startswith("PyDoc_STR"):
            value = f"(void *){value}"
        slots.append((_slot(field, layout), value))
    slots += extra
    return slots


def _slot(field: str, layout: TypeLayout) -> str:
    slot = f"Py_{field}"
    if slot not in layout.slots:
        raise EditError(f"{field} has no slot in this release's typeslots.h")
    return slot


def table_values(code: list[Token], value: str, struct_members: tuple[str, ...]) -> dict[str, str] | None:
    """The members of a `static PyNumberMethods NAME = {...};` that `&NAME`
    names, positional or designated."""
    match = re.fullmatch(r"&\s*(\w+)", value)
    if match is None:
        return None
    for index in range(len(code) - 3):
        if code[index].text == match[1] and code[index].depth == 0 and code[index + 1].text == "=" \
                and code[index + 2].text == "{" and code[index].directive is None:
            closing = closing_brace(code, index + 2)
            if any(t.directive is not None for t in code[index + 2:closing]):
                return None
            return _nonzero_members(initializer_elements(code, index + 2, closing), struct_members)
    return None


def render_spec(prefix: str, definition: TypeDefinition, slots: list[tuple[str, str]], flags: str) -> str:
    """The slot table and spec that replace the static definition."""
    lines = [f"static PyType_Slot {prefix}_slots[] = {{"]
    lines += [f"    {{{slot}, {value}}}," for slot, value in slots]
    lines += ["    {0, NULL},", "};", "", f"static PyType_Spec {prefix}_spec = {{",
              f"    .name = {definition.value('tp_name')},",
              f"    .basicsize = {definition.value('tp_basicsize') or '0'},"]
    if definition.value("tp_itemsize"):
        lines.append(f"    .itemsize = {definition.value('tp_itemsize')},")
    lines += [*_flag_lines(flags), f"    .slots = {prefix}_slots,", "};"]
    return "\n".join(lines)


def _flag_lines(flags: str) -> list[str]:
    names = [name.strip() for name in flags.split("|")]
    line = f"    .flags = ({' | '.join(names)}),"
    if len(line) < 80:
        return [line]
    lines = [f"    .flags = ({names[0]} |"]
    for name in names[1:-1]:
        lines.append(f"              {name} |")
    lines.append(f"              {names[-1]}),")
    return lines


def spec_flags(definition: TypeDefinition, base: str, gc: bool) -> str:
    flags = [name.strip() for name in definition.value("tp_flags").replace("(", " ").replace(")", " ").split("|")
             if name.strip()] or ["Py_TPFLAGS_DEFAULT"]
    if gc and GC_FLAG not in flags:
        flags.append(GC_FLAG)
    if not definition.value("tp_new") and not base and NO_INSTANCES_FLAG not in flags:
        flags.append(NO_INSTANCES_FLAG)     # a static type without tp_new and based on object has no instances
    if IMMUTABLE_FLAG not in flags:
        flags.append(IMMUTABLE_FLAG)
    return " | ".join(flags)




INSTANCE_FIRST = "instance"     # the function is given an instance of the type (or a subtype) first
TYPE_FIRST = "type"             # it is given the type itself (or a subtype)
OPERANDS = "operands"           # one of its first two arguments is an instance (a binary number slot)
TEARDOWN = "teardown"           # a dealloc, clear or traverse: no state lookup through the type there


def type_functions(code: list[Token], definition: TypeDefinition, assigned: dict[str, str], layout: TypeLayout,
                   tables: dict[str, dict[str, str]]) -> dict[str, str]:
    """The functions the type calls with an object of the type first (its
    slots, methods, getters and setters), each with what that object is:
    INSTANCE_FIRST or TYPE_FIRST.  A function the type gives something
    else (a binary number slot, a static method) is left out."""
    found: dict[str, str] = {}
    values = {**dict(definition.values), **assigned}

    def add(value: str, kind: str) -> None:
        name = named_function(value)
        if name and name != "?":
            found[name] = kind if found.get(name, kind) == kind else ""

    for field, value in values.items():
        if field == "tp_methods":
            for entry in table_entries(code, _table_name(value), METHOD_TABLE_FIELDS):
                flags = {t.text for t in entry.get("flags", [])}
                if STATIC_METHOD_FLAG not in flags:
                    add(source_text(entry.get("function", [])) if entry.get("function") else "",
                        TYPE_FIRST if CLASS_METHOD_FLAG in flags else INSTANCE_FIRST)
        elif field == "tp_getset":
            for entry in table_entries(code, _table_name(value), GETSET_TABLE_FIELDS):
                for member in ("get", "set"):
                    if entry.get(member):
                        add(source_text(entry[member]), INSTANCE_FIRST)
        elif layout.table(field):
            for member, slot_value in tables.get(field, {}).items():
                if member in BINARY_NUMBER_SLOTS:
                    add(slot_value, OPERANDS)
                elif member not in NOT_SELF_SLOTS:
                    add(slot_value, INSTANCE_FIRST)
        elif field in TYPE_FIRST_SLOTS:
            add(value, TYPE_FIRST)
        elif field in TEARDOWN_SLOTS:
            add(value, TEARDOWN)
        elif field not in NOT_SELF_SLOTS and field not in SPEC_FIELDS and field != "tp_doc":
            add(value, INSTANCE_FIRST)
    return {name: kind for name, kind in found.items() if kind}


def named_function(value: str) -> str:
    """`f` of `f`, `(destructor)f`; "?" for another expression, "" for none."""
    match = re.fullmatch(r"(?:\(\s*\w+\s*\*?\s*\)\s*)?(\w+)", value)
    return match[1] if match else ("?" if value else "")


def _table_name(value: str) -> str:
    match = re.fullmatch(r"(?:\(\s*\w+\s*\*\s*\)\s*)?&?\s*(\w+)", value)
    return match[1] if match else ""


def method_names(code: list[Token], definition: TypeDefinition) -> set[str]:
    """The names (string literals) of the type's tp_methods entries."""
    return {source_text(entry["name"]) for entry in table_entries(code, _table_name(definition.value("tp_methods")),
                                                                 METHOD_TABLE_FIELDS) if entry.get("name")}


def offset_members(definition: TypeDefinition, assigned: dict[str, str], layout: TypeLayout) -> list[str]:
    """The PyMemberDef entries that give a spec the offsets a static type
    sets (`{"__weaklistoffset__", T_PYSSIZET, offsetof(...), READONLY},`)."""
    values = {**dict(definition.values), **assigned}
    kind, flag = layout.member_flags
    return [f'{{"{name}", {kind}, {values[field]}, {flag}}},' for field, name in MEMBER_OFFSETS.items()
            if values.get(field)]


def members_edit(text: str, code: list[Token], table: str, entries: list[str]) -> Edit:
    """The entries put before the sentinel of `static PyMemberDef table[]`,
    a table no other type names."""
    named = [i for i, t in enumerate(code) if t.text == table and t.kind == "id"]
    if len(named) != 2:
        raise EditError(f"{table} is named {len(named)} times: shared with another type, or not a table")
    index = named[0]
    brace = next((i for i in range(index, min(index + 6, len(code))) if code[i].text == "{"), None)
    if brace is None:
        raise EditError(f"{table} is not defined before its type")
    closing = closing_brace(code, brace)
    depth = code[brace].depth + 1
    entries_at = [i for i in range(brace + 1, closing) if code[i].text == "{" and code[i].depth == depth]
    if not entries_at or code[entries_at[-1] + 1].text not in ("NULL", "0", "}"):
        raise EditError(f"{table} has no sentinel entry last")
    sentinel = code[entries_at[-1]]
    start = line_start(text, sentinel.start)
    indent = indent_at(text, sentinel.start)
    return Edit(start=start, end=start, text="".join(f"{indent}{entry}\n" for entry in entries))
