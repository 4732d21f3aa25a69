"""Single-phase init rewritten as multi-phase (PEP 489), the first step of a
single-phase module's conversion: `PyInit_NAME()`, which creates its module
with PyModule_Create(), becomes `NAME_exec(PyObject *m)`, the Py_mod_exec
slot of a new slot table, and a new `PyInit_NAME()` returns
`PyModuleDef_Init(&def)`.  The module-state edits are then planned on the
rewritten text, and the patch is the difference from the pristine one."""
from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from ..cpython.api import (
    DECREF_CALLS,
    GIL_CALL,
    GIL_SLOT,
    MODULE_CREATE_CALLS,
    MODULE_INIT_TYPE,
    PER_INTERPRETER_GIL_SLOT,
    SINGLE_PHASE_LOOKUPS,
)
from ..cpython.lifecycle import MODULE_INIT_PREFIX
from .edits import (
    STATEMENT_BOUNDARY,
    Edit,
    EditError,
    Token,
    closing_brace,
    closing_paren,
    line_start,
    macro_definitions,
    names_member,
    null_test,
)
from .module_edits import module_def_edits
from .module_source import Function, module_definition


@dataclass(frozen=True, slots=True)
class InitRewrite:
    init: str                  # PyInit_NAME
    exec_name: str             # NAME_exec: what PyInit_NAME() did after creating the module
    slots: str                 # NAME_slots: the new PyModuleDef_Slot table
    module_variable: str       # the module object, the exec function's parameter
    edits: tuple[Edit, ...]    # of the pristine text
    shared_dict: bool = False  # m_size was -1: other interpreters got a copy of the first module's dict
    added_slots: tuple[str, ...] = ()   # besides Py_mod_exec
    warnings_kept: bool = False         # PyInit_NAME() still warns before PyModuleDef_Init()


def rewrite_init(text: str, code: list[Token], all_functions: list[Function],
                 isolated: bool = False) -> InitRewrite | str:
    """The edits that make the file's single-phase init multi-phase, or why
    they cannot be made safely; `isolated`: the slot table also declares
    that the module supports a per-interpreter GIL."""
    found = module_definition(code)
    if isinstance(found, str):
        return found
    index, fields = found
    definition = code[index + 1].text
    for field in ("m_slots", "m_traverse", "m_clear", "m_free"):
        if [t.text for t in fields.get(field, [])] not in ([], ["NULL"], ["0"]):
            return f"single-phase init whose PyModuleDef sets {field} already"
    if "".join(t.text for t in fields.get("m_size", [])) not in ("", "0", "-1"):
        return "single-phase init whose m_size is not -1 or 0"
    inits = [f for f in all_functions if f.name.startswith(MODULE_INIT_PREFIX)]
    if len(inits) != 1:
        return f"single-phase init in {len(inits)} PyInit_ functions"
    init = inits[0]
    if init.parameters or code[init.start - 1].text != MODULE_INIT_TYPE:
        return f"{init.name}() is not declared `{MODULE_INIT_TYPE} {init.name}(void)`"
    lookups = sorted({t.text for t in code if t.text in SINGLE_PHASE_LOOKUPS and t.kind == "id"})
    if lookups:
        return f"single-phase init, and the file calls {', '.join(lookups)}(), which finds no multi-phase module"
    suffix = init.name[len(MODULE_INIT_PREFIX):].lstrip("_")   # a leading underscore is reserved at file scope
    taken = {t.text for t in code if t.kind == "id"}
    names = next(((f"{suffix}{infix}_exec", f"{suffix}{infix}_slots") for infix in ("", "_module", "_init")
                  if not {f"{suffix}{infix}_exec", f"{suffix}{infix}_slots"} & taken), None)
    if names is None:
        return f"single-phase init, and the names the rewrite would add ({suffix}_exec, {suffix}_slots) are taken"
    exec_name, slots = names
    creation = _creation(code, init, definition)
    if isinstance(creation, str):
        return creation
    first, last, variable = creation
    warnings = _warnings(code, init, first)
    gil = _gil_statement(text, code, init, variable)
    kept = [*warnings, *([gil[:2]] if gil else [])]
    body = _body_edits(text, code, init, variable, first, last, kept)
    if isinstance(body, str):
        return body
    body += [_statement_lines(text, code, start, end) for start, end in warnings]
    if gil:
        body.append(gil[2])
    macros = _macro_edits(code, init)
    if isinstance(macros, str):
        return macros
    start = index
    while start > 0 and code[start - 1].text in ("static", "struct") and code[start - 1].directive is None:
        start -= 1
    at = line_start(text, code[start].start)
    table = [f"static int {exec_name}(PyObject *{variable});", "",
             f"static PyModuleDef_Slot {slots}[] = {{", f"    {{Py_mod_exec, {exec_name}}},",
             *([f"    {{{PER_INTERPRETER_GIL_SLOT[0]}, {PER_INTERPRETER_GIL_SLOT[1]}}},"] if isolated else []),
             *([f"    {{{GIL_SLOT}, {gil[3]}}},"] if gil else []),
             "    {0, NULL}", "};", "", ""]
    closing = closing_paren(code, init.start + 1)
    after = text.find("\n", code[init.end].end) + 1 or len(text)
    # a warning's stack level counts the frames of the import that calls
    # PyInit_NAME(), not those of exec: it is given there still
    warned = [text[line_start(text, code[start].start):text.find("\n", code[end].end)] for start, end in warnings]
    new_init = ["", MODULE_INIT_TYPE, f"{init.name}(void)", "{", *warned, *([""] if warned else []),
                f"    return PyModuleDef_Init(&{definition});", "}"]
    try:
        definition_edits = module_def_edits(text, code, index + 1, {"m_size": "0", "m_slots": slots}, pad=True)
    except EditError as exc:
        return str(exc)
    edits = [Edit(start=at, end=at, text="\n".join(table)),
             *definition_edits,
             Edit(start=code[init.start - 1].start, end=code[init.start - 1].end, text="static int"),
             Edit(start=code[init.start].start, end=code[closing].end, text=f"{exec_name}(PyObject *{variable})"),
             *body, *macros, Edit(start=after, end=after, text="\n".join(new_init) + "\n")]
    return InitRewrite(init=init.name, exec_name=exec_name, slots=slots, module_variable=variable,
                       edits=tuple(edits), shared_dict="".join(t.text for t in fields.get("m_size", [])) == "-1",
                       added_slots=tuple(slot for slot, wanted in ((PER_INTERPRETER_GIL_SLOT[0], isolated),
                                                                    (GIL_SLOT, bool(gil))) if wanted),
                       warnings_kept=bool(warnings))


def _creation(code: list[Token], init: Function, definition: str) -> tuple[int, int, str] | str:
    """(first token, `;`) of the statement creating the module at the top
    level of the init body (`m = PyModule_Create(&def);` or a declaration
    with it), and the module variable."""
    calls = [i for i, t in enumerate(code) if t.text in MODULE_CREATE_CALLS and t.directive is None]
    inside = [i for i in calls if init.brace < i < init.end]
    if len(calls) != 1 or len(inside) != 1:
        return f"{init.name}() does not create its module with one {'/'.join(sorted(MODULE_CREATE_CALLS))}() call"
    call = inside[0]
    if [t.text for t in code[call + 1:call + 4]] != ["(", "&", definition] \
            or code[call].depth != code[init.brace].depth + 1 or code[call - 1].text != "=" \
            or code[call - 2].kind != "id":
        return f"{init.name}() does not create its module as `m = PyModule_Create(&{definition});` in its body"
    variable = code[call - 2].text
    first = call - 2
    if [t.text for t in code[call - 4:call - 2]] == ["PyObject", "*"]:
        first = call - 4
    end = closing_paren(code, call + 1) + 1
    if code[end].text != ";" or code[first - 1].text not in STATEMENT_BOUNDARY:
        return f"{init.name}() creates its module inside a larger statement"
    return first, end, variable


def _warnings(code: list[Token], init: Function, before: int) -> list[tuple[int, int]]:
    """(first, last token) of each `if (PyErr_WarnEx(...)) return NULL;`
    at the top of the init body before the module is created, naming no
    global: it stays in PyInit_NAME()."""
    found = []
    depth = code[init.brace].depth + 1
    for index in range(init.brace + 1, before):
        token = code[index]
        if token.text != "if" or token.depth != depth or token.directive is not None \
                or code[index - 1].text not in STATEMENT_BOUNDARY or code[index + 1].text != "(":
            continue
        close = closing_paren(code, index + 1)
        names = {t.text for t in code[index + 2:close] if t.kind == "id"}
        if not any(n.startswith("PyErr_Warn") for n in names) \
                or not all(n.startswith(("PyErr_Warn", "PyExc_")) for n in names):
            continue
        braced = code[close + 1].text == "{"
        end = closing_brace(code, close + 1) if braced else \
            next(i for i in range(close, init.end) if code[i].text == ";")
        statement = [t.text for t in code[close + 1:end + 1]]
        if statement in (["return", "NULL", ";"], ["{", "return", "NULL", ";", "}"]):
            found.append((index, end))
    return found


def _gil_statement(text: str, code: list[Token], init: Function, variable: str) -> tuple[int, int, Edit, str] | None:
    """`PyUnstable_Module_SetGIL(m, VALUE);` in the init body (and the
    `#ifdef Py_GIL_DISABLED` around it): a multi-phase module says VALUE
    in its Py_mod_gil slot instead, read before exec runs."""
    for index in range(init.brace + 1, init.end - 6):
        if code[index].text != GIL_CALL or code[index].directive is not None:
            continue
        if [t.text for t in code[index + 1:index + 4]] != ["(", variable, ","] or code[index + 4].kind != "id" \
                or [t.text for t in code[index + 5:index + 7]] != [")", ";"]:
            return None
        edit = _statement_lines(text, code, index, index + 6)
        begin = line_start(text, code[index].start)
        end = text.find("\n", code[index + 6].end) + 1
        previous = line_start(text, max(begin - 1, 0))
        following = text.find("\n", end)
        guard = text[previous:begin].split()
        if guard in (["#ifdef", "Py_GIL_DISABLED"], ["#if", "defined(Py_GIL_DISABLED)"]) and end > 0 \
                and following >= 0 and text[end:following].strip() == "#endif":
            edit = Edit(start=previous, end=following + 1, text="")
        return index, index + 6, edit, code[index + 4].text
    return None


def _body_edits(text: str, code: list[Token], init: Function, variable: str, first: int,
                last: int, kept: list[tuple[int, int]]) -> list[Edit] | str:
    """Drop the creation, its NULL test and the module variable's
    declaration; `return NULL;` becomes `return -1;`, `return m;` `return
    0;`; the module's decrefs go (exec borrows the module object).  The
    statements `kept` (first, last token) are left to the caller."""
    test = null_test(code, last + 1, variable)
    test_end = test if test is not None else last
    edits = [_statement_lines(text, code, first, test_end)]
    if code[first].text != "PyObject":
        declaration = _declaration(text, code, init, variable, first)
        if isinstance(declaration, str):
            return declaration
        edits.append(declaration)
    for index in range(init.brace + 1, init.end):
        token = code[index]
        if token.directive is not None or first <= index <= test_end or any(a <= index <= b for a, b in kept):
            continue
        if token.text == "return":
            end = next(i for i in range(index, init.end) if code[i].text == ";" and code[i].directive is None)
            value = [t.text for t in code[index + 1:end]]
            if value not in (["NULL"], [variable]):
                return f"{init.name}() returns {' '.join(value)}: only NULL and its module become exec's -1 and 0"
            edits.append(Edit(start=code[index + 1].start, end=code[end - 1].end,
                              text="-1" if value == ["NULL"] else "0"))
        elif token.text == variable and token.kind == "id" and not names_member(code, index):
            problem = _module_use(code, index, variable)
            if isinstance(problem, str):
                return f"{init.name}(): {problem}"
            if problem is not None:
                edits.append(_statement_lines(text, code, *problem))
    return edits


def _module_use(code: list[Token], index: int, variable: str) -> tuple[int, int] | str | None:
    """A use of the module variable: None when exec can keep it, the
    statement to drop for `Py_DECREF(m);`, or why the rewrite cannot keep it."""
    if code[index + 1].text == "=" and code[index + 2].text != "=":
        return f"{variable} is assigned again"
    if code[index - 1].text == "&":
        return f"the address of {variable} is taken"
    if code[index - 1].text == "(" and code[index + 1].text == ")":
        call = code[index - 2].text
        if call in DECREF_CALLS:
            if code[index + 2].text != ";" or code[index - 3].text not in (*STATEMENT_BOUNDARY, ":"):
                return f"{call}({variable}) is not a statement of its own"
            return index - 2, index + 2
        if call in ("Py_INCREF", "Py_XINCREF", "Py_NewRef", "Py_XNewRef"):
            return f"{call}({variable}) takes a reference exec would not own"
    return None


def _declaration(text: str, code: list[Token], init: Function, variable: str, before: int) -> Edit | str:
    """The edit that drops the module variable's declaration, alone
    (`PyObject *m;`) or from a list (`PyObject *m, *d;`)."""
    depth = code[init.brace].depth + 1
    for index in range(init.brace + 1, before):
        if code[index].depth != depth or code[index].text != "PyObject" or code[index - 1].text not in "{;}":
            continue
        end = next(i for i in range(index, before) if code[i].text == ";")
        for star in range(index + 1, end):
            if code[star].text != "*" or code[star + 1].text != variable \
                    or code[star - 1].text not in ("PyObject", ","):
                continue
            last = star + 1
            if code[last + 1].text == "=" and code[last + 2].text == "NULL":
                last += 2
            if code[star - 1].text == "PyObject" and code[last + 1].text == ";":
                return _statement_lines(text, code, index, last + 1)
            if code[last + 1].text == ",":
                return Edit(start=code[star].start, end=code[last + 2].start, text="")
            if code[last + 1].text == ";":
                return Edit(start=code[star - 1].start, end=code[last].end, text="")
            return f"{init.name}() declares {variable} in a way the rewrite does not follow"
    return f"{init.name}() does not declare {variable} as `PyObject *{variable};` before creating it"


def _macro_edits(code: list[Token], init: Function) -> list[Edit] | str:
    """A macro of the file that returns from the init body returns exec's
    -1 instead of NULL, when only the init body uses it."""
    edits = []
    used = {t.text for t in code[init.brace:init.end] if t.kind == "id" and t.directive is None}
    for name, (index, end) in ((n, d) for n, found in macro_definitions(code).items() for d in found):
        if name not in used:
            continue
        returns = [i for i in range(index + 1, end) if code[i].text == "return"]
        if not returns:
            continue
        if any(code[i + 1].text != "NULL" for i in returns):
            return f"the macro {name} returns what exec cannot"
        outside = [t for i, t in enumerate(code) if t.text == name and t.directive is None
                   and not init.brace < i < init.end]
        if outside:
            return f"the macro {name} returns NULL and is used outside {init.name}() too"
        edits += [Edit(start=code[i + 1].start, end=code[i + 1].end, text="-1") for i in returns]
    return edits


def _statement_lines(text: str, code: list[Token], first: int, last: int) -> Edit:
    """The statement from token `first` to `last`, with its lines when
    nothing else stands on them."""
    start, end = code[first].start, code[last].end
    begin = line_start(text, start)
    stop = text.find("\n", end)
    stop = len(text) if stop < 0 else stop
    if text[begin:start].strip() or text[end:stop].strip():
        return Edit(start=start, end=end, text="")
    stop = min(stop + 1, len(text))
    before = text[line_start(text, max(begin - 1, 0)):begin].strip()
    following = text.find("\n", stop)
    if (not before or before.endswith("{")) and following >= 0 and not text[stop:following].strip():
        stop = following + 1          # no blank line left where the statement stood
    return Edit(start=begin, end=stop, text="")


def line_map(text: str, edits: tuple[Edit, ...]) -> Callable[[int], int | None]:
    """Where each line of `text` is once `edits` are applied: None for a
    line an edit replaced."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    ordered = sorted(edits, key=lambda e: e.start)

    def moved(line: int) -> int | None:
        offset = starts[line - 1] if line - 1 < len(starts) else len(text)
        shift = 0
        for edit in ordered:
            if edit.start <= offset < edit.end:
                return None
            if edit.end <= offset:
                shift += edit.text.count("\n") - text.count("\n", edit.start, edit.end)
        return line + shift
    return moved


def difference_edits(before: str, after: str) -> list[Edit]:
    """Line edits that turn `before` into `after`."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    offsets = [0]
    for line in old:
        offsets.append(offsets[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return [Edit(start=offsets[i1], end=offsets[i2], text="".join(new[j1:j2]))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]
