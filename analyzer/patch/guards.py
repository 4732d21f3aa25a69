"""Racing accesses ThreadSanitizer saw on process-wide globals, made safe at
the statement.  Each interpreter's initialization (type readying, module
exec) stores into a global the value the first one stored; guarded, the
later stores become reads: the same final state, no data race.  The forms:

- store: `x = v;` (also `|=`, `&= ~`) -> `if ((x) != (v)) { x = v; }`;
- text: `x = "literal";` -> stored when strcmp() finds another text (two
  equal literals need not be one object: `!=` could not hold);
- flag: an `if` whose condition reads a global its body writes
  (`if (!done) { ...; done = 1; }`) runs under a lock;
- once: a statement that invokes a macro of the file and calls no function
  (a table filled with constants), outside loops, runs once per process;
- macro store: a plain store in the definition of the macro the racing line
  invokes is guarded there;
- free-threaded: an access in the `#else` of `#ifdef Py_GIL_DISABLED` whose
  first branch accesses atomically takes the free-threaded branch always
  (not in the public headers).

Where the tree has PyMutex (3.13+) and the file sees the full C API, every
guard but the free-threaded one runs under a lock: interpreters that start
together (the main one never ran that initialization) make their first
stores one at a time; the others' later reads come after them.  Guarded
statements that follow each other in a function share one lock (and, run
once, one flag): `guard_layout.grouped_edits`.  The code is laid out as PEP 7 asks, one
statement a line, at the indentation of the statement it replaces.
Anything else is left with the reason."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..cpython.api import ATOMIC_SUFFIXES
from ..cpython.layout import is_public_header
from ..races.accesses import RacingAccess
from .edits import Edit, EditError, Token, closing_brace, closing_paren, function_bodies, opening_paren
from .guard_layout import INDENT, LOCK_NAME, WIDTH, comment_end, fitted, if_lines, indented, render_group

_STATEMENT_KEYWORDS = frozenset("if else for while do switch case default return goto break continue".split())
_JUMPS = frozenset({"return", "goto", "break", "continue"})
_LOOPS = frozenset({"for", "while", "do"})
_SIMPLE = frozenset({".", "->", "[", "]", "(", ")", "*", "&", "|", "~", "+", "-", "<", ">", "^", ","})
_OPERAND = frozenset({".", "->", "[", "]"})
FORMS = {"counter": "increments atomically (a check of its bound folded into a compare-and-exchange)",
         "atomic load": "reads atomically what its partner writes atomically",
         "macro expanded": "expands the C API macro, stores only a changed value",
         "store": "stores only a changed value", "text": "stores only a changed text",
         "flag": "tests and sets its flag", "once": "runs once per process",
         "macro store": "stores only a changed value, in the macro's definition",
         "free-threaded": "accesses atomically, as the free-threaded build does"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Guard:
    access: RacingAccess
    edit: Edit                  # this guard alone, with its lock
    statement: str              # the code as it was
    form: str                   # a key of FORMS
    locked: bool
    guarded: str = ""           # the guarded code without the lock, its lines after the first relative
                                # to the statement's indentation ("" for the free-threaded form)
    indent: str = ""            # the indentation of the statement's line
    in_macro: bool = False      # in a #define: lines continue with a backslash


@dataclass(frozen=True, slots=True)
class GuardSource:
    """A file as the guards read it, made once for all its accesses."""
    text: str
    code: list[Token]                               # without comments
    bodies: list[tuple[int, int, str]]              # edits.function_bodies
    macros: dict[str, tuple[int, int]]              # function-like macro -> (first, last) token of its body
    names: frozenset[str]                           # every macro, and what is declared at file scope
    lock: bool
    atomics: frozenset[str] = frozenset()           # the tree's _Py_atomic_* functions
    member_types: dict[str, frozenset[str]] | None = None   # struct member -> its declared scalar types
    object_macros: dict[str, str] | None = None     # the file's and the public headers' object-like macros


_OBJECT_DEFINE_RE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+([^\n\\]+)$", re.M)


def guard_source(text: str, tokens: list[Token], *, lock: bool = False, atomics: frozenset[str] = frozenset(),
                 member_types: dict[str, frozenset[str]] | None = None,
                 public_macros: dict[str, str] | None = None) -> GuardSource:
    """With `lock`, the guards run under a PyMutex; `atomics`, `member_types`
    and `public_macros` (PublicNames) let the atomic forms type what they touch."""
    code = [t for t in tokens if t.kind != "comment"]
    names = {t.text for t in code if t.depth == 0 and t.directive is None and t.kind == "id"}
    names |= {code[i + 1].text for i in range(len(code) - 1) if code[i].directive == "define"
              and code[i].text == "define"}
    macros = dict(public_macros or {})
    macros.update((name, body.strip()) for name, body in _OBJECT_DEFINE_RE.findall(text))
    return GuardSource(text=text, code=code, bodies=function_bodies(code), macros=_function_macros(code),
                       names=frozenset(names), lock=lock, atomics=atomics, member_types=member_types or {},
                       object_macros=macros)


def guard_edit(source: GuardSource, access: RacingAccess) -> Guard:
    """The guarded code for the access TSan saw at access.line in
    access.function (EditError with the reason when no form fits)."""
    code = source.code
    guard = _free_threaded(source, access)
    if guard is not None:
        return guard
    body = next(((s, e) for s, e, name in source.bodies
                 if name == access.function and code[s].line <= access.line <= code[e].line), None)
    if body is None:
        raise EditError(f"no function {access.function}() around line {access.line}")
    on_line = [i for i in range(body[0], body[1]) if code[i].line == access.line and code[i].directive is None]
    if not on_line:
        raise EditError(f"no code on line {access.line}")
    flag = _flag_statement(source, body, on_line[0])
    if flag is not None:
        return _wrapped(source, access, flag, "flag")
    if code[on_line[0]].text in source.macros and code[on_line[0] + 1].text == "(":
        return _macro(source, access, body, on_line[0])
    start = on_line[0]
    while code[start - 1].text not in (";", "{", "}") and code[start - 1].directive is None:
        start -= 1
    counter = _counter(source, access, body, start)
    if counter is not None:
        return counter
    if not access.write:
        loaded = _atomic_load(source, access, body, start)
        if loaded is not None:
            return loaded
        raise EditError(f"line {access.line} reads: the guard goes where it is written")
    end = start
    while end < body[1] and code[end].text != ";":
        end += 1
    expanded = _expanded_macro(source, access, start, end)
    if expanded is not None:
        return expanded
    return _store(source, access, start, end, "store")


_ATOMIC_OP_RE = re.compile(r"_Py_atomic_(?:add|and|or|exchange|compare_exchange|store|load)_([a-z0-9]+?)"
                           r"(?:_relaxed|_release|_acquire)?")


def _statement_end(code: list[Token], start: int, last: int) -> int:
    depth = 0
    for index in range(start, last):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(code[index].text, 0)
        if code[index].text == ";" and depth == 0:
            return index
    return last


def _counter(source: GuardSource, access: RacingAccess, body: tuple[int, int], start: int) -> Guard | None:
    """`X++` in the racing statement becomes an atomic fetch-and-add; when an
    `if` just before it tests X and bails out (`if (X > MAX) { return 0; }`),
    the test and the increment become one compare-and-exchange loop, so that
    no interpreter passes the test with a value another one took. With the
    access in that test, the statement after the `if`. None when no `++` of
    a typed scalar is there."""
    code, text = source.code, source.text
    check: tuple[int, int] | None = None
    if code[start].text == "if" and code[start + 1].text == "(":
        close = closing_paren(code, start + 1)
        if close + 1 >= body[1] or code[close + 1].text != "{":
            return None
        check = (start, closing_brace(code, close + 1))
        start = check[1] + 1
    end = _statement_end(code, start, body[1])
    increments = [i for i in range(start + 1, end) if code[i].text == "+" and code[i + 1].text == "+"
                  and code[i + 1].start == code[i].end and (code[i - 1].kind == "id" or code[i - 1].text == "]")]
    if len(increments) != 1:
        return None
    plus = increments[0]
    first = _operand_start(code, plus - 1)
    target = text[code[first].start:code[plus - 1].end]
    suffix = ATOMIC_SUFFIXES.get(_scalar_type(source, target) or "")
    wanted = {f"_Py_atomic_{op}_{suffix}" for op in ("add", "load", "compare_exchange")} | {
        f"_Py_atomic_load_{suffix}_relaxed"}
    if suffix is None or not wanted <= source.atomics:
        return None
    if check is None and code[start - 1].text == "}":
        opening = _opening_brace(code, start - 1)
        if code[opening - 1].text == ")":
            condition = opening_paren(code, opening - 1)
            if code[condition - 1].text == "if":
                check = (condition - 1, start - 1)
    if check is not None:
        block = code[check[0]:check[1] + 1]
        condition_text = text[code[check[0]].start:code[closing_paren(code, check[0] + 1)].end]
        bails = any(t.text in ("return", "goto") for t in block)
        if not bails or not _mentions(condition_text, target) or (
                check[1] + 1 < len(code) and code[check[1] + 1].text == "else"):
            check = None
    type_ = next(iter(_types_of(source, target)))
    statement = text[code[start].start:code[end].end]
    before, after = text[code[start].start:code[first].start], text[code[plus + 1].end:code[end].end]
    if check is None:
        guarded = f"{before}_Py_atomic_add_{suffix}(&{target}, 1){after}"
        span = (code[start].start, code[end].end)
    else:
        local = _free_name(source, body, _last_name(source, target))
        indent = _indent_at(text, code[check[0]].start)
        test = _relative(text[code[check[0]].start:code[check[1]].end], indent)
        test = re.sub(rf"(?<![\w.>]){re.escape(target)}(?!\w)", local, test)
        column = len(indent)
        loop_end = f"}} while (!_Py_atomic_compare_exchange_{suffix}("
        arguments = [f"&{target},", f"&{local},", f"{local} + 1));"]
        if column + len(loop_end) + len(" ".join(arguments)) <= WIDTH:
            loop = [loop_end + " ".join(arguments)]
        else:
            loop = [loop_end + arguments[0], *(" " * len(loop_end) + a for a in arguments[1:])]
        guarded = "\n".join([*fitted(f"{type_} {local} = ", f"_Py_atomic_load_{suffix}_relaxed(&{target});", column),
                             "do {", *indented(test.split("\n"), 1), *loop, f"{before}{local}{after}"])
        span = (code[check[0]].start, code[end].end)
        statement = text[span[0]:span[1]]
    guard = _guard(source, access, span, guarded, "counter", locked=False, once=False)
    return replace(guard, statement=statement)


def _atomic_load(source: GuardSource, access: RacingAccess, body: tuple[int, int], start: int) -> Guard | None:
    """A plain read of what the race's other side changes atomically (TSan
    names pyatomic's function and its caller): the same expression read with
    that type's atomic load. None when the partner or the expression is not
    found in the statement."""
    partner = access.atomic_partner
    if partner is None or partner[1] != access.file:
        return None
    kind = _ATOMIC_OP_RE.fullmatch(partner[0])
    if kind is None or f"_Py_atomic_load_{kind.group(1)}" not in source.atomics:
        return None
    code, text = source.code, source.text
    call = next((i for i, t in enumerate(code) if t.line == partner[2] and t.text == partner[0]
                 and code[i + 1].text == "(" and code[i + 2].text == "&"), None)
    if call is None:
        return None
    last = call + 3
    depth = 0
    while last < len(code) and not (depth == 0 and code[last].text in (",", ")")):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(code[last].text, 0)
        last += 1
    wanted = [t.text for t in code[call + 3:last]]
    end = _statement_end(code, start, body[1])
    for index in range(start, end - len(wanted) + 1):
        if [t.text for t in code[index:index + len(wanted)]] == wanted and code[index - 1].text not in (".", "->", "&"):
            expression = text[code[index].start:code[index + len(wanted) - 1].end]
            span = (code[index].start, code[index + len(wanted) - 1].end)
            guard = _guard(source, access, span, f"_Py_atomic_load_{kind.group(1)}(&{expression})", "atomic load",
                           locked=False, once=False)
            return replace(guard, statement=text[code[start].start:code[end].end])
    return None


def _expanded_macro(source: GuardSource, access: RacingAccess, start: int, end: int) -> Guard | None:
    """`MACRO;` where MACRO is an object-like macro whose body stores a cast
    call's result (`PyDateTime_IMPORT`: `PyDateTimeAPI = (PyDateTime_CAPI
    *)PyCapsule_Import(...)`): the call made first, outside the lock, its
    result stored only when it changed. None for other statements."""
    code = source.code
    if end != start + 1 or code[start].kind != "id":
        return None
    body = (source.object_macros or {}).get(code[start].text)
    match = re.fullmatch(r"(\w+)\s*=\s*(\((\w+)\s*\*\)\s*\w+\s*\(.*\))", body or "")
    if match is None:
        return None
    target, value, type_ = match.groups()
    local = "value"
    store = [f"if ({target} != {local}) {{", f"{INDENT}{target} = {local};", "}"]
    if source.lock:
        lines = ["{", f"{INDENT}static PyMutex {LOCK_NAME};", f"{INDENT}{type_} *{local} = {value};",
                 f"{INDENT}PyMutex_Lock(&{LOCK_NAME});", *indented(store, 1),
                 f"{INDENT}PyMutex_Unlock(&{LOCK_NAME});", "}"]
    else:
        lines = ["{", f"{INDENT}{type_} *{local} = {value};", *indented(store, 1), "}"]
    span = (code[start].start, code[end].end)
    guard = _guard(source, access, span, "\n".join(lines), "macro expanded", locked=False, once=False)
    return replace(guard, locked=source.lock)


def _operand_start(code: list[Token], last: int) -> int:
    """The first token of the postfix expression ending at code[last] (names,
    `.`, `->` and subscripts)."""
    index = last
    while True:
        if code[index].text == "]":
            depth = 0
            while True:
                depth += {"]": 1, "[": -1}.get(code[index].text, 0)
                if depth == 0:
                    break
                index -= 1
            index -= 1
            continue
        if code[index].kind == "id" and code[index - 1].text in (".", "->"):
            index -= 2
            continue
        return index


def _types_of(source: GuardSource, target: str) -> frozenset[str]:
    return (source.member_types or {}).get(_last_name(source, target), frozenset())


def _scalar_type(source: GuardSource, target: str) -> str | None:
    """The one type every declaration of the member the target names has."""
    types = _types_of(source, target)
    return next(iter(types)) if len(types) == 1 else None


def _last_name(source: GuardSource, target: str) -> str:
    """The member (or variable) an lvalue ends in, through an object-like
    macro (`NEXT_GLOBAL_VERSION_TAG` -> next_version_tag)."""
    expansion = (source.object_macros or {}).get(target, target)
    names = re.findall(r"\w+", expansion)
    return names[-1] if names else target


def _mentions(text: str, target: str) -> bool:
    return re.search(rf"(?<![\w.>]){re.escape(target)}(?!\w)", text) is not None


def _free_name(source: GuardSource, body: tuple[int, int], name: str) -> str:
    used = {t.text for t in source.code[body[0]:body[1]]}
    while name in used:
        name += "_value"
    return name


def _indent_at(text: str, offset: int) -> str:
    line = text[text.rfind("\n", 0, offset) + 1:offset]
    return line[:len(line) - len(line.lstrip())]


def _opening_brace(code: list[Token], close: int) -> int:
    depth = 0
    for i in range(close, -1, -1):
        if code[i].directive is not None:
            continue
        depth += {"}": 1, "{": -1}.get(code[i].text, 0)
        if depth == 0:
            return i
    return 0


def _store(source: GuardSource, access: RacingAccess, start: int, end: int, form: str) -> Guard:
    """`LHS = RHS;` and the like, code[start:end] with code[end] its `;`."""
    code, text = source.code, source.text
    statement = code[start:end]
    shown = _shown(text, code[start].start, code[end].end) if statement else ""
    if not statement or statement[0].text in _STATEMENT_KEYWORDS \
            or any(t.directive != code[start].directive for t in statement):
        raise EditError(f"line {access.line} is not a plain expression statement: {shown!r}")
    assign = _assignment(statement)
    if assign is None:
        raise EditError(f"line {access.line} is not a plain store (`=`, `|=`, `&= ~`): {shown!r}")
    index, operator = assign
    lhs = statement[:index - (operator != "=")]
    rhs = statement[index + 1:]
    literal = operator == "=" and _literal(rhs)
    if _declares(lhs):
        raise EditError(f"line {access.line} declares a local: {shown!r}")
    if not lhs or not rhs or not _plain(lhs) or not (literal or _plain(rhs)):
        raise EditError(f"line {access.line} calls, increments or assigns more: {shown!r}")
    lhs_text = text[lhs[0].start:lhs[-1].end]
    rhs_text = text[rhs[0].start:rhs[-1].end]
    if literal:
        test = (f"{_operand(lhs, lhs_text)} == NULL", "||", f"strcmp({lhs_text}, {rhs_text}) != 0")
        form = "text" if form == "store" else form
    elif operator == "=":
        test = (_operand(lhs, lhs_text), "!=", _operand(rhs, rhs_text))
    elif operator == "|":
        test = (f"({lhs_text} & {_operand(rhs, rhs_text)})", "!=", _operand(rhs, rhs_text))
    elif rhs[0].text == "~":
        test = (lhs_text, "&", _operand(rhs[1:], text[rhs[1].start:rhs[-1].end]))
    else:
        raise EditError(f"line {access.line} clears bits other than by `&= ~`: {shown!r}")
    span_end = comment_end(text, code[end].end)
    was = text[code[start].start:span_end]
    width = len(_indent_at(text, code[start].start)) + len(INDENT) * source.lock
    guarded = "\n".join([*if_lines(test, width), f"{INDENT}{was}", "}"])
    return _guard(source, access, (code[start].start, span_end), guarded, form, locked=source.lock, once=False)


def _guard(source: GuardSource, access: RacingAccess, span: tuple[int, int], guarded: str, form: str, *,
           locked: bool, once: bool) -> Guard:
    text = source.text
    line_start = text.rfind("\n", 0, span[0]) + 1
    line = text[line_start:text.find("\n", span[0]) if "\n" in text[span[0]:] else len(text)]
    indent = line[:len(line) - len(line.lstrip())]
    in_macro = line.rstrip().endswith("\\")
    guard = Guard(access=access, edit=Edit(start=span[0], end=span[1], text=""), statement=text[span[0]:span[1]],
                  form=form, locked=locked, guarded=guarded, indent=indent, in_macro=in_macro)
    return _with_edit(guard, [guard], once)


def _with_edit(guard: Guard, group: list[Guard], once: bool) -> Guard:
    return replace(guard, edit=Edit(start=guard.edit.start, end=guard.edit.end, text=render_group(group, once)))


def _operand(tokens: list[Token], text: str) -> str:
    """The operand as written, in parentheses unless it is a name, a number,
    a member or element access, or the address or target of one."""
    body = tokens[1:] if tokens and tokens[0].text in ("&", "*") else tokens
    if body and all(t.kind in ("id", "number") or t.text in _OPERAND for t in body):
        return text
    return f"({text})"


def _relative(text: str, indent: str) -> str:
    """Code spanning lines, its later lines' `indent` taken off."""
    lines = text.split("\n")
    return "\n".join([lines[0], *(line[len(indent):] if line.startswith(indent) else line.lstrip()
                                   for line in lines[1:])])


def _wrapped(source: GuardSource, access: RacingAccess, span: tuple[int, int], form: str) -> Guard:
    """code[span[0]..span[1]] under the lock, run once for "once"."""
    code, text = source.code, source.text
    if not source.lock:
        raise EditError(f"line {access.line}: the {form} form needs a lock; the file cannot use PyMutex")
    first, last = code[span[0]], code[span[1]]
    line_start = text.rfind("\n", 0, first.start) + 1
    indent = text[line_start:first.start]
    indent = indent[:len(indent) - len(indent.lstrip())]
    was = text[first.start:last.end]
    return _guard(source, access, (first.start, last.end), _relative(was, indent), form, locked=True,
                  once=form == "once")


def _flag_statement(source: GuardSource, body: tuple[int, int], first: int) -> tuple[int, int] | None:
    """(`if`, its closing `}`) when the code at `first` is that if's
    condition, or a statement of its block, and the condition reads a name
    the block assigns; None when it is not."""
    code = source.code
    start = first
    if code[start].text != "if":
        opening = _enclosing_brace(code, body[0], first)
        if opening is None or code[opening - 1].text != ")":
            return None
        start = opening_paren(code, opening - 1) - 1
        if start < 0 or code[start].text != "if":
            return None
    if code[start + 1].text != "(":
        return None
    condition_end = closing_paren(code, start + 1)
    if condition_end + 1 >= len(code) or code[condition_end + 1].text != "{":
        return None
    block_end = closing_brace(code, condition_end + 1)
    if block_end >= len(code):
        return None
    if block_end + 1 < len(code) and code[block_end + 1].text == "else":
        return None
    block = code[condition_end + 2:block_end]
    if any(t.text in _JUMPS for t in block) or any(t.directive is not None for t in block):
        return None
    assigned = {block[i - 1].text for i in range(1, len(block) - 1) if block[i].text == "="
                and block[i - 1].kind == "id" and block[i + 1].text != "="
                and (i < 2 or block[i - 2].text in (";", "{", "}"))}
    read = {t.text for t in code[start + 2:condition_end] if t.kind == "id"}
    return (start, block_end) if assigned & read else None


def _macro(source: GuardSource, access: RacingAccess, body: tuple[int, int], name_index: int) -> Guard:
    """A statement invoking a function-like macro of the file: run once when
    nothing in it calls a function, else guard the store in its definition."""
    code = source.code
    end = closing_paren(code, name_index + 1)
    if end + 1 < len(code) and code[end + 1].text == ";":
        end += 1
    reason = _once_refusal(source, body, name_index, end)
    if reason is None:
        return _wrapped(source, access, (name_index, end), "once")
    first, last = source.macros[code[name_index].text]
    stores = []
    start = first
    for index in range(first, last + 1):
        if code[index].text in (";", "{", "}"):
            assign = _assignment(code[start:index]) if code[index].text == ";" else None
            if assign is not None and not _declares(code[start:start + assign[0]]):
                stores.append((start, index))
            start = index + 1
    if len(stores) != 1:
        raise EditError(f"line {access.line} invokes {code[name_index].text}, which {reason}, "
                        f"and whose definition has {len(stores)} plain stores, not one")
    return _store(source, access, *stores[0], "macro store")


def _once_refusal(source: GuardSource, body: tuple[int, int], first: int, last: int) -> str | None:
    """Why code[first..last] (a macro invocation) may not run just once: it
    or a macro it uses calls a function, names what is neither a macro nor a
    global of the file, jumps, or sits in a loop; None when it may."""
    code, macros = source.code, source.macros
    pending, seen = [(first, last, True)], set()
    while pending:
        start, end, in_function = pending.pop()
        for index in range(start, end + 1):
            token = code[index]
            following = code[index + 1].text if index + 1 < len(code) else ""
            if token.text in _JUMPS:
                return f"jumps ({token.text})"
            if token.kind != "id":
                continue
            if token.text in macros and following == "(":
                if token.text not in seen:
                    seen.add(token.text)
                    pending.append((*macros[token.text], False))
            elif following == "(":
                return f"calls {token.text}()"
            elif in_function and token.text not in source.names:
                return f"names {token.text}, not a macro or a global of the file"
    if _in_loop(code, body[0], first):
        return "sits in a loop"
    return None


def _free_threaded(source: GuardSource, access: RacingAccess) -> Guard | None:
    """The `#ifdef Py_GIL_DISABLED` ... `#else` ... `#endif` around the
    access's line, with the access in the `#else` branch and atomics in the
    first, replaced by its first branch.  Not in the public headers: what
    extensions compile against stays as it is."""
    if is_public_header(access.file):
        return None
    code, text = source.code, source.text
    stack: list[list[int]] = []       # per open conditional: its `#`, then its `#else`/`#elif`
    for index, token in enumerate(code[:-1]):
        if token.line > access.line:
            break
        if token.text != "#" or token.directive != "":
            continue
        name = code[index + 1].text
        if name in ("if", "ifdef", "ifndef"):
            stack.append([index])
        elif name in ("else", "elif") and stack:
            stack[-1].append(index)
        elif name == "endif" and stack:
            stack.pop()
    if not stack or len(stack[-1]) != 2:
        return None
    opening, branch = stack[-1]
    if [t.text for t in code[opening + 1:opening + 3]] != ["ifdef", "Py_GIL_DISABLED"] \
            or code[branch + 1].text != "else":
        return None
    depth = 0
    endif = None
    for index in range(branch + 1, len(code) - 1):
        if code[index].text == "#" and code[index].directive == "":
            directive = code[index + 1].text
            depth += 1 if directive in ("if", "ifdef", "ifndef") else -(directive == "endif")
            if depth < 0:
                endif = index
                break
    if endif is None:
        return None
    start = text.rfind("\n", 0, code[opening].start) + 1
    end = text.find("\n", code[endif].start) + 1 or len(text)
    first_branch = text[text.find("\n", code[opening].start) + 1:text.rfind("\n", 0, code[branch].start) + 1]
    if "_Py_atomic_" not in first_branch:
        return None
    return Guard(access=access, edit=Edit(start=start, end=end, text=first_branch),
                 statement=text[start:end], form="free-threaded", locked=False)


def _function_macros(code: list[Token]) -> dict[str, tuple[int, int]]:
    macros = {}
    for index in range(len(code) - 2):
        if code[index].text == "define" and code[index].directive == "define" and code[index + 2].text == "(" \
                and code[index + 2].start == code[index + 1].end:
            close = closing_paren(code, index + 2)
            last = close
            while last + 1 < len(code) and code[last + 1].directive == "define":
                last += 1
            macros[code[index + 1].text] = (close + 1, last)
    return macros


def _enclosing_brace(code: list[Token], floor: int, index: int) -> int | None:
    depth = 0
    for i in range(index - 1, floor, -1):
        if code[i].directive is not None:
            continue
        depth += {"}": 1, "{": -1}.get(code[i].text, 0)
        if depth < 0:
            return i
    return None


def _in_loop(code: list[Token], floor: int, index: int) -> bool:
    """Whether a for/while/do of the function holds code[index]."""
    while True:
        before = index - 1
        while code[before].directive is not None:
            before -= 1
        if code[before].text == "do":
            return True
        if code[before].text == ")":
            keyword = code[opening_paren(code, before) - 1].text
            if keyword in _LOOPS:
                return True
        opening = _enclosing_brace(code, floor, index)
        if opening is None:
            return False
        index = opening
        before = opening - 1
        if code[before].text == "do":
            return True
        if code[before].text == ")" and code[opening_paren(code, before) - 1].text in _LOOPS:
            return True


def _shown(text: str, start: int, end: int) -> str:
    shown = " ".join(text[start:end].split())
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _assignment(statement: list[Token]) -> tuple[int, str] | None:
    """(index of the `=`, "=" or the compound operator) of the statement's
    one top-level assignment."""
    depth = 0
    found = None
    for index, token in enumerate(statement):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(token.text, 0)
        if token.text != "=" or depth:
            continue
        before = statement[index - 1].text if index else ""
        after = statement[index + 1].text if index + 1 < len(statement) else ""
        if after == "=" or before in ("=", "!", "<", ">"):
            continue                  # ==, !=, <=, >=
        if found is not None:
            return None               # a second assignment
        if before in ("|", "&"):
            found = (index, before)
        elif before in ("+", "-", "*", "/", "%", "^"):
            return None
        else:
            found = (index, "=")
    return found


def _declares(lhs: list[Token]) -> bool:
    """`TYPE *name` before an `=`: a declaration, not a store."""
    return all(t.kind == "id" or t.text == "*" for t in lhs) and sum(t.kind == "id" for t in lhs) > 1


def _plain(tokens: list[Token]) -> bool:
    """Names, numbers, member and element access, casts and operators (and
    `##` in a macro's definition): no call (a name before `(`), no ++/--, no
    assignment, no string literal."""
    for index, token in enumerate(tokens):
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if token.kind == "id" and following == "(":
            return False
        if token.kind in ("number", "id") or (token.text == "#" and token.directive == "define"):
            continue
        if token.text not in _SIMPLE or (token.text in "+-" and following == token.text):
            return False
    return True


def _literal(tokens: list[Token]) -> bool:
    """String literals, maybe with macro names between (MODNAME ".x")."""
    return any(t.kind == "string" for t in tokens) and all(t.kind in ("string", "id") for t in tokens) \
        and not tokens[0].text.startswith("'")
