"""Where function bodies and initializers use file-scope names: the read and
write sites of variables, the calls between functions, and the functions used
as values.

Collected per chunk and by name: what a name denotes (a static of this unit,
an external variable, a function, an enum constant) is settled per unit by
resolve.py, which knows every declaration the unit saw.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from pycparser import c_ast

from ..cpython.api import HANDLER_ARGUMENTS, HANDLER_FIELDS, MAIN_INTERPRETER_TESTS
from ..cpython.families import watch_kind
from ..model import ELEMENT_FLAG, Body, NameUse, Prototype, UseKind
from .bodies import BodyTokens, addressed_names, static_names, write_contexts
from .extract import is_const_object, type_family

_UPDATES = frozenset({"++", "--", "p++", "p--"})
_COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">="})


@dataclass(frozen=True, slots=True)
class _Alias:
    """A local pointer that holds a variable's address (or, for a pointer
    variable, its value): writes through the local write the variable."""
    target: str
    address: bool
    local_static: bool


@dataclass
class _Scope:
    names: dict[str, _Alias | None | str] = field(default_factory=dict)
    # value: None for a plain local, "pointer" for a local pointer, "static"
    # for a function-local static, an _Alias for a local pointer known to
    # point into a variable.


class SitesVisitor(c_ast.NodeVisitor):
    """Collects one Body per function definition and per file-scope
    initializer that names anything, plus the declarations of the chunk."""

    def __init__(self, relative: Callable[[str], str | None]) -> None:
        self._relative = relative
        self.bodies: list[Body] = []
        self.variables: set[str] = set()
        self.watched: set[str] = set()     # writable variables, but for these two kinds:
        self.arrays: set[str] = set()      # writable arrays
        self.objects: set[str] = set()     # writable static types and other statically allocated objects
        self.prototypes: dict[str, Prototype] = {}
        self.static_functions: set[str] = set()
        self._reset(None, "", 0)

    def _reset(self, name: str | None, file: str, line: int) -> None:
        self._name = name
        self._file = file
        self._scopes: list[_Scope] = []
        self._uses: dict[tuple[object, ...], NameUse] = {}
        self._calls: set[str] = set()
        self._handlers: set[str] = set()
        self._tested: set[str] = set()
        self._consumed: set[int] = set()      # ids of '&' nodes already recorded as arguments
        self._line = line
        # Once regions: code under a _Py_IsMainInterpreter() test (flag "") or
        # under a test of a static that the region then sets (a once-flag).
        self._once: list[str] = []
        self._rest_once: str | None = None    # the rest of the block is a once region (after an early return)
        self._main_locals: set[str] = set()   # locals holding a _Py_IsMainInterpreter() result
        self._once_calls: dict[str, tuple[str, ...]] = {}
        self._other_calls: set[str] = set()
        # Probes: names assigned a constant in each branch of one if, and never anything but constants.
        self._probed: set[str] = set()
        self._assigned_otherwise: set[str] = set()

    # -- file scope -------------------------------------------------------

    def visit_FileAST(self, node: c_ast.FileAST) -> None:
        for item in node.ext:
            if isinstance(item, c_ast.FuncDef):
                self._function(item)
            elif isinstance(item, c_ast.Decl):
                self._file_scope_decl(item)

    def _file_scope_decl(self, node: c_ast.Decl) -> None:
        if node.name is None:
            return
        function = _function_type(node.type)
        if function is not None:
            self.prototypes.setdefault(node.name, _prototype(function))
            if "static" in node.storage:
                self.static_functions.add(node.name)
            return
        self.variables.add(node.name)
        kind = watch_kind(const=is_const_object(node.type), family=type_family(node.type),
                          array=isinstance(node.type, c_ast.ArrayDecl))
        if kind is not None:
            getattr(self, kind).add(node.name)
        if node.init is None or node.coord is None:
            return
        file = self._relative(node.coord.file)
        if file is None:
            return
        self._reset(node.name, file, node.coord.line)
        self._scopes.append(_Scope())
        self.visit(node.init)
        self._finish(function=False, static="static" in node.storage)

    def _function(self, node: c_ast.FuncDef) -> None:
        decl = node.decl
        function = _function_type(decl.type)
        if function is not None:
            self.prototypes[decl.name] = _prototype(function)
        if "static" in decl.storage:
            self.static_functions.add(decl.name)
        file = self._relative(decl.coord.file) if decl.coord else None
        if file is None:
            return
        self._reset(decl.name, file, decl.coord.line)
        scope = _Scope()
        # A K&R definition (`int f(a) int *a; {`) declares its parameters after the list.
        params = function.args.params if function is not None and function.args is not None else []
        for param in [*params, *(node.param_decls or ())]:
            if isinstance(param, c_ast.Decl) and param.name:
                scope.names[param.name] = _local_kind(param.type)
        self._scopes.append(scope)
        self.visit(node.body)
        self._finish(function=True, static="static" in decl.storage)

    def _finish(self, *, function: bool, static: bool) -> None:
        uses = []
        for use in self._uses.values():
            if use.kind in (UseKind.ASSIGN, UseKind.MEMBER_WRITE) and use.name in self._tested and use.via is None:
                use = replace(use, guarded=True)
            if use.kind is UseKind.ASSIGN and use.name in self._probed - self._assigned_otherwise \
                    and use.via is None:
                use = replace(use, probe=True)
            uses.append(use)
        if function or uses:
            assert self._name is not None
            self.bodies.append(Body(
                name=self._name, file=self._file, line=self._line, function=function, static=static,
                calls=frozenset(self._calls), uses=tuple(uses), signal_handlers=frozenset(self._handlers),
                once_calls=frozenset((c, f) for c, f in self._once_calls.items() if c not in self._other_calls)))

    # -- scopes -----------------------------------------------------------

    def _lookup(self, name: str) -> _Alias | None | str | bool:
        """False: not a local name (so a file-scope one)."""
        for scope in reversed(self._scopes):
            if name in scope.names:
                return scope.names[name]
        return False

    def visit_Compound(self, node: c_ast.Compound) -> None:
        self._scopes.append(_Scope())
        entered = 0
        items = node.block_items or []
        for index, item in enumerate(items):
            self.visit(item)
            flag = self._rest_once
            self._rest_once = None
            if flag is None and isinstance(item, c_ast.If) and _leaves(item.iftrue):
                tested = self._flag_test(item.cond)
                if tested is not None and tested[1] > 0 and _assigns(tested[0], items[index + 1:]):
                    flag = tested[0]          # if (initialized) return; ... initialized = 1;
            if flag is not None:
                self._once.append(flag)
                entered += 1
        del self._once[len(self._once) - entered:]
        self._scopes.pop()

    def visit_For(self, node: c_ast.For) -> None:
        self._scopes.append(_Scope())
        if node.cond is not None:
            self._test(node.cond)
        self.generic_visit(node)
        self._scopes.pop()

    def visit_Decl(self, node: c_ast.Decl) -> None:
        if not self._scopes or node.name is None:
            return
        scope = self._scopes[-1]
        if "extern" in node.storage or _function_type(node.type) is not None:
            scope.names.pop(node.name, None)      # names the file-scope entity
            return
        if "static" in node.storage:
            scope.names[node.name] = "static"
        else:
            scope.names[node.name] = _local_kind(node.type)
        if node.init is not None:
            if self._main_test(node.init) > 0:
                self._main_locals.add(node.name)
            alias = self._alias_of(node.init) if isinstance(node.type, (c_ast.PtrDecl, c_ast.ArrayDecl)) else None
            if alias is not None:
                scope.names[node.name] = alias
                self._consumed.add(id(_strip_casts(node.init)))
            self.visit(node.init)

    def visit_Typedef(self, node: c_ast.Typedef) -> None:
        if self._scopes:
            self._scopes[-1].names[node.name] = None

    def visit_Typename(self, node: c_ast.Typename) -> None:
        return None

    def visit_StructRef(self, node: c_ast.StructRef) -> None:
        self.visit(node.name)        # node.field names a member, not a variable

    def visit_FuncDef(self, node: c_ast.FuncDef) -> None:
        return None                  # nested functions: not C

    # -- conditions (the lazy-initialization idiom) -----------------------

    def _test(self, node: c_ast.Node) -> None:
        for name in _names_in(node):
            if self._lookup(name) in (False, "static"):
                self._tested.add(name)

    def visit_If(self, node: c_ast.If) -> None:
        self._test(node.cond)
        self.visit(node.cond)
        if node.iffalse is not None:
            first, second = _constant_stores(node.iftrue), _constant_stores(node.iffalse)
            self._probed.update(name for name, value in first.items()
                                if name in second and second[name] != value)
        polarity = self._main_test(node.cond)
        flag = ""
        if not polarity:
            tested = self._flag_test(node.cond)
            if tested is not None and tested[1] < 0 and _assigns(tested[0], [node.iftrue]):
                polarity, flag = -1, tested[0]       # if (!initialized) { ...; initialized = 1; }
        for branch, once in ((node.iftrue, polarity > 0 or bool(flag)), (node.iffalse, polarity < 0 and not flag)):
            if branch is None:
                continue
            if once:
                self._once.append(flag)
            self.visit(branch)
            if once:
                self._once.pop()
        if polarity < 0 and not flag and _leaves(node.iftrue):
            self._rest_once = ""

    def _flag_test(self, cond: c_ast.Node) -> tuple[str, int] | None:
        """(name, +1) for `if (x)` or `if (x != 0)`, (name, -1) for `if (!x)` or
        `if (x == 0)`, where x is a static or a file-scope name; the same with
        `name[]` for an element `x[i]` (a table filled lazily, entry by entry)."""
        polarity = 1
        if isinstance(cond, c_ast.UnaryOp) and cond.op == "!":
            cond, polarity = cond.expr, -1
        elif isinstance(cond, c_ast.BinaryOp) and cond.op in ("==", "!=") and _is_zero(cond.right):
            cond, polarity = cond.left, (-1 if cond.op == "==" else 1)
        suffix = ""
        if isinstance(cond, c_ast.ArrayRef):
            cond, suffix = cond.name, ELEMENT_FLAG
        if isinstance(cond, c_ast.ID) and self._lookup(cond.name) in (False, "static"):
            return cond.name + suffix, polarity
        return None

    def _main_test(self, cond: c_ast.Node) -> int:
        """+1 when a condition holds for the main interpreter only, -1 when
        it holds for the others only, else 0."""
        negated = isinstance(cond, c_ast.UnaryOp) and cond.op == "!"
        inner = cond.expr if negated else cond
        if any(isinstance(n, c_ast.FuncCall) and isinstance(n.name, c_ast.ID)
               and n.name.name in MAIN_INTERPRETER_TESTS for n in _nodes(inner)) \
                or any(name in self._main_locals for name in _names_in(inner)):
            return -1 if negated else 1
        return 0

    def visit_While(self, node: c_ast.While) -> None:
        self._test(node.cond)
        self.generic_visit(node)

    def visit_DoWhile(self, node: c_ast.DoWhile) -> None:
        self._test(node.cond)
        self.generic_visit(node)

    def visit_TernaryOp(self, node: c_ast.TernaryOp) -> None:
        self._test(node.cond)
        self.generic_visit(node)

    # -- uses -------------------------------------------------------------

    def _use(self, name: str, kind: UseKind, node: c_ast.Node, *, via: str | None = None,
             callee: str | None = None, position: int = -1, address: bool = False) -> None:
        meaning = self._lookup(name)
        if isinstance(meaning, _Alias):
            if kind is UseKind.READ:
                return
            via, name = name, meaning.target
            local_static = meaning.local_static
            if kind in (UseKind.ASSIGN, UseKind.UPDATE):
                return                # re-pointing the local writes nothing
            address = address or meaning.address
        elif meaning is False:
            local_static = False
        elif meaning == "static":
            local_static = True
        else:
            return                    # a plain local
        line = node.coord.line if node.coord is not None else self._line
        key = (name, kind, callee, position, via) if kind is not UseKind.READ else (name, kind)
        if key not in self._uses:
            self._uses[key] = NameUse(name=name, kind=kind, file=self._file, line=line, callee=callee,
                                      position=position, address=address, via=via, local_static=local_static,
                                      once_flags=tuple(self._once))

    def visit_ID(self, node: c_ast.ID) -> None:
        self._use(node.name, UseKind.READ, node)

    def visit_Assignment(self, node: c_ast.Assignment) -> None:
        kind = UseKind.ASSIGN if node.op == "=" else UseKind.UPDATE
        self._write(node.lvalue, kind)
        target = node.lvalue
        if isinstance(target, c_ast.ID) and (node.op != "=" or _constant(node.rvalue) is None):
            self._assigned_otherwise.add(target.name)
        if isinstance(target, c_ast.ID) and node.op == "=":
            meaning = self._lookup(target.name)
            if meaning == "pointer" or isinstance(meaning, _Alias):
                alias = self._alias_of(node.rvalue)
                if alias is not None:
                    self._set_alias(target.name, alias)
                    self._consumed.add(id(_strip_casts(node.rvalue)))
        if isinstance(target, c_ast.StructRef) and target.field.name in HANDLER_FIELDS:
            handler = _strip_casts(node.rvalue)
            if isinstance(handler, c_ast.ID):
                self._handlers.add(handler.name)
        self.visit(node.lvalue)
        self.visit(node.rvalue)

    def visit_UnaryOp(self, node: c_ast.UnaryOp) -> None:
        if node.op in _UPDATES:
            self._write(node.expr, UseKind.UPDATE)
        elif node.op == "&" and id(node) not in self._consumed:
            name = _root_name(node.expr)
            if name is not None:
                self._use(name, UseKind.ADDRESS, node)
        elif node.op == "sizeof":
            return
        self.visit(node.expr)

    def visit_BinaryOp(self, node: c_ast.BinaryOp) -> None:
        # `p == &x`: comparing an address keeps nothing; it reads x's identity.
        if node.op in _COMPARISONS:
            for operand in (node.left, node.right):
                operand = _strip_casts(operand)
                if isinstance(operand, c_ast.UnaryOp) and operand.op == "&":
                    self._consumed.add(id(operand))
        self.generic_visit(node)

    def visit_Return(self, node: c_ast.Return) -> None:
        # Returning an array or an alias lets the caller write into it.
        value = _strip_casts(node.expr) if node.expr is not None else None
        if isinstance(value, c_ast.ID) and isinstance(self._lookup(value.name), _Alias):
            self._use(value.name, UseKind.ADDRESS, value)
        self.generic_visit(node)

    def _write(self, target: c_ast.Node, kind: UseKind) -> None:
        target = _strip_casts(target)
        if isinstance(target, c_ast.ID):
            self._use(target.name, kind, target)
            return
        name = _root_name(target)
        if name is not None:
            self._use(name, UseKind.MEMBER_WRITE, target)

    def visit_FuncCall(self, node: c_ast.FuncCall) -> None:
        callee = node.name.name if isinstance(node.name, c_ast.ID) else None
        if callee is not None and self._lookup(callee) is False:
            self._calls.add(callee)
            if self._once:
                self._once_calls.setdefault(callee, tuple(self._once))
            else:
                self._other_calls.add(callee)
            self._use(callee, UseKind.READ, node.name)
        else:
            callee = None
            self.visit(node.name)
        arguments = node.args.exprs if node.args is not None else []
        for position, argument in enumerate(arguments):
            value = _strip_casts(argument)
            if isinstance(value, c_ast.UnaryOp) and value.op == "&":
                name = _root_name(value.expr)
                if name is not None:
                    self._consumed.add(id(value))
                    self._use(name, UseKind.ARGUMENT, value, callee=callee, position=position, address=True)
            elif isinstance(value, c_ast.ID):
                self._use(value.name, UseKind.ARGUMENT, value, callee=callee, position=position)
                if callee is not None and HANDLER_ARGUMENTS.get(callee) == position:
                    self._handlers.add(value.name)
            self.visit(argument)

    # -- aliases ----------------------------------------------------------

    def _alias_of(self, value: c_ast.Node) -> _Alias | None:
        value = _strip_casts(value)
        if isinstance(value, c_ast.BinaryOp) and value.op in ("+", "-"):
            # pointer arithmetic: `table + i`, `i + table`, `table - 1`
            return self._alias_of(value.left) or (self._alias_of(value.right) if value.op == "+" else None)
        address = False
        if isinstance(value, c_ast.UnaryOp) and value.op == "&":
            address, value = True, value.expr
            name = _root_name(value)
        elif isinstance(value, (c_ast.ID, c_ast.ArrayRef, c_ast.StructRef)):
            name = _root_name(value)
        else:
            return None
        if name is None:
            return None
        meaning = self._lookup(name)
        if isinstance(meaning, _Alias):
            return meaning
        if meaning is False or meaning == "static":
            return _Alias(target=name, address=address, local_static=meaning == "static")
        return None

    def _set_alias(self, local: str, alias: _Alias) -> None:
        for scope in reversed(self._scopes):
            if local in scope.names:
                scope.names[local] = alias
                return


def _local_kind(node: c_ast.Node) -> str | None:
    return "pointer" if isinstance(node, (c_ast.PtrDecl, c_ast.ArrayDecl)) else None


def _strip_casts(node: c_ast.Node) -> c_ast.Node:
    while isinstance(node, c_ast.Cast):
        node = node.expr
    return node


def _root_name(node: c_ast.Node) -> str | None:
    """The variable an lvalue expression is part of: x for x, x.f, x[i],
    x->f, *x, (T *)x ..."""
    while True:
        node = _strip_casts(node)
        if isinstance(node, c_ast.ID):
            return str(node.name)
        if isinstance(node, c_ast.StructRef):
            node = node.name
        elif isinstance(node, c_ast.ArrayRef):
            node = node.name
        elif isinstance(node, c_ast.UnaryOp) and node.op == "*":
            node = node.expr
        else:
            return None


def _nodes(node: c_ast.Node) -> Iterator[c_ast.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for _, child in current.children())


def _assigns(flag: str, nodes: list[c_ast.Node]) -> bool:
    """Whether the statements assign the flag itself (`name = ...`, or for
    `name[]` an element, `name[j] = ...`)."""
    name = flag.removesuffix(ELEMENT_FLAG)
    element = flag.endswith(ELEMENT_FLAG)
    for node in nodes:
        for n in _nodes(node):
            if not isinstance(n, c_ast.Assignment):
                continue
            target = n.lvalue.name if element and isinstance(n.lvalue, c_ast.ArrayRef) else n.lvalue
            if isinstance(target, c_ast.ID) and target.name == name:
                return True
    return False


def _constant(node: c_ast.Node) -> str | None:
    """The text of a constant (`1`, `-1`, `(int)0`, `'x'`), else None."""
    node = _strip_casts(node)
    if isinstance(node, c_ast.UnaryOp) and node.op == "-":
        negated = _strip_casts(node.expr)
        return "-" + str(negated.value) if isinstance(negated, c_ast.Constant) else None
    return str(node.value) if isinstance(node, c_ast.Constant) and node.type != "string" else None


def _constant_stores(branch: c_ast.Node) -> dict[str, str]:
    """The names a branch's own statements (not nested ones) assign a constant."""
    statements = (branch.block_items or []) if isinstance(branch, c_ast.Compound) else [branch]
    found = {}
    for statement in statements:
        if isinstance(statement, c_ast.Assignment) and statement.op == "=" and isinstance(statement.lvalue, c_ast.ID):
            value = _constant(statement.rvalue)
            if value is not None:
                found[statement.lvalue.name] = value
    return found


def _is_zero(node: c_ast.Node) -> bool:
    node = _strip_casts(node)
    if not isinstance(node, c_ast.Constant):
        return False
    value = node.value.lower().rstrip("ulf")
    return value == "0" or node.type in ("float", "double") and value.strip("0.") in ("", "e", "e+", "e-")


def _leaves(node: c_ast.Node) -> bool:
    """Whether a statement always leaves the block (return, goto, break, continue)."""
    if isinstance(node, (c_ast.Return, c_ast.Goto, c_ast.Break, c_ast.Continue)):
        return True
    if isinstance(node, c_ast.Compound) and node.block_items:
        return _leaves(node.block_items[-1])
    return False


def _names_in(node: c_ast.Node) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, c_ast.ID):
            yield current.name
        elif isinstance(current, c_ast.StructRef):
            stack.append(current.name)
        else:
            stack.extend(child for _, child in current.children())


def _function_type(node: c_ast.Node) -> c_ast.FuncDecl | None:
    return node if isinstance(node, c_ast.FuncDecl) else None


def _prototype(function: c_ast.FuncDecl) -> Prototype:
    """Which parameters let the callee write into what the argument points to."""
    writes: list[bool] = []
    if function.args is None or any(isinstance(param, c_ast.ID) for param in function.args.params):
        # `f()` or a K&R identifier list `f(a, b)`: no prototype, the parameters are unknown.
        return Prototype(writes=(), variadic=True)
    variadic = False
    for param in function.args.params:
        if isinstance(param, c_ast.EllipsisParam):
            variadic = True
            continue
        kind = param.type
        if isinstance(kind, c_ast.TypeDecl) and isinstance(kind.type, c_ast.IdentifierType) \
                and kind.type.names == ["void"]:
            continue
        writes.append(_writable_pointer(kind))
    return Prototype(writes=tuple(writes), variadic=variadic)


def _writable_pointer(node: c_ast.Node) -> bool:
    if isinstance(node, (c_ast.PtrDecl, c_ast.ArrayDecl)):
        target = node.type
        if isinstance(target, c_ast.TypeDecl):
            return "const" not in target.quals
        if isinstance(target, c_ast.PtrDecl):
            return "const" not in target.quals
        return not isinstance(target, c_ast.FuncDecl)
    return False   # by value (a pointer typedef such as PyThread_type_lock is a value here)


def collect_sites(ast: c_ast.FileAST, relative: Callable[[str], str | None]) -> SitesVisitor:
    visitor = SitesVisitor(relative)
    visitor.visit(ast)
    return visitor


def function_sites(ast: c_ast.FileAST, relative: Callable[[str], str | None]) -> Body | None:
    """The Body of the one function definition a fully parsed snippet holds."""
    functions = [body for body in collect_sites(ast, relative).bodies if body.function]
    return functions[0] if functions else None


def token_sites(tokens: BodyTokens, relative: Callable[[str], str | None]) -> Body | None:
    """The Body of a function that was not parsed (nothing in it can write a
    global: its calls and reads), or of an initializer (its reads and the
    addresses it takes)."""
    file = relative(tokens.origin)
    if file is None or tokens.name is None:
        return None
    names = sorted(tokens.names | tokens.calls)
    if tokens.function:
        # Reads, and of the function's own statics also the addresses taken
        # (Argument Clinic's `.kwtuple = &_kwtuple...` in _parser's initializer).
        statics = static_names(tokens.code) if tokens.has_statics else frozenset()
        kept = addressed_names(tokens.code) & statics if statics else frozenset()
        uses = [NameUse(name=name, kind=UseKind.READ, file=file, line=tokens.line, local_static=name in statics)
                for name in names]
        uses += [NameUse(name=name, kind=UseKind.ADDRESS, file=file, line=tokens.line, local_static=True)
                 for name in sorted(kept)]
    else:
        addressed = write_contexts(tokens).addressed
        uses = [NameUse(name=name, kind=UseKind.ADDRESS if name in addressed else UseKind.READ, file=file,
                        line=tokens.line)
                for name in names]
    return Body(name=tokens.name, file=file, line=tokens.line, function=tokens.function, static=tokens.static,
                calls=tokens.calls if tokens.function else frozenset(), uses=tuple(uses),
                signal_handlers=frozenset())
