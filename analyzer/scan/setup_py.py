"""The extensions a CPython setup.py builds, read without running it.

Up to 3.10, setup.py builds most extension modules (3.11: a few).  Its Extension(...) calls
name each module's sources, macros and include directories, often through
variables, loops, helper methods and branches on the platform or on what
configure found.  This module evaluates the script's syntax tree as a default
Linux build would run it: sys.platform is "linux", the environment is empty,
and sysconfig's variables are what a caller's `config` function says (the
analysis pyconfig.h, configure run without arguments).  What cannot be known
without building (a library found, a compiler probe, a Makefile variable) is
unknown: both branches of a test on it are taken and what they bind is merged
(lists are joined), so a module built when its library is found is listed, as
the analysis provides every library's headers.

Nothing of the script runs: calls reach only the script's own functions and a
few pure operations on known values (arithmetic, comparisons, str, list and
dict methods, os.path); anything else is unknown.  The framework's entry
points (distutils calls build_ext.build_extensions) are reached by evaluating,
after the module body, every function that no evaluated code called, unless
only skipped code (a branch of another platform) names it.
"""
from __future__ import annotations

import ast
import operator
import os
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Extension:
    """One Extension(...) the script creates, with its final attributes."""
    name: str
    sources: tuple[str, ...]          # as written: relative to Modules/, or absolute
    defines: tuple[str, ...]          # NAME or NAME=VALUE, define_macros then -D of extra_compile_args
    include_dirs: tuple[str, ...]     # include_dirs then -I of extra_compile_args, as written
    objects: tuple[str, ...] = ()     # extra_objects: objects the Makefile builds, linked in


class _Unknown:
    """What the script's value is cannot be known without building (one instance: UNKNOWN)."""
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

# What a default Linux build's interpreter says (the script's view of the platform).
_PLATFORM = {"sys.platform": "linux", "os.name": "posix", "os.sep": "/", "os.pathsep": ":",
             "os.curdir": ".", "sys.byteorder": "little", "sys.maxsize": 2**63 - 1}

_STEP_LIMIT = 2_000_000   # statements and expressions evaluated: a guard against runaway loops
_DEPTH_LIMIT = 40         # nested calls of the script's functions
_LOOP_LIMIT = 10_000      # iterations of one loop over a known sequence
_SIZE_LIMIT = 100_000     # items or characters of a value computed: larger ones are unknown


@dataclass(eq=False)
class _Namespace:
    """Something the script imports or the interpreter provides (os.path, sysconfig, Extension)."""
    name: str


@dataclass(eq=False)
class _Function:
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    scope: dict[str, Any]             # the globals it was defined in
    enclosing: tuple[dict[str, Any], ...]
    defaults: list[Any]
    kw_defaults: list[Any]
    owner: _Class | None = None


@dataclass(eq=False)
class _Class:
    name: str
    attrs: dict[str, Any]
    bases: list[Any]

    def lookup(self, name: str) -> Any:
        if name in self.attrs:
            return self.attrs[name]
        for base in self.bases:
            if isinstance(base, _Class):
                found = base.lookup(name)
                if found is not UNKNOWN:
                    return found
        return UNKNOWN


@dataclass(eq=False)
class _Instance:
    cls: _Class
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class _Bound:
    function: Any
    receiver: Any


@dataclass(eq=False)
class _ExtensionValue:
    attrs: dict[str, Any]


class _Signal(Exception):
    pass


class _Return(_Signal):
    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


class _Break(_Signal):
    pass


class _Continue(_Signal):
    pass


class _Raise(_Signal):
    pass


class _OutOfSteps(Exception):
    pass


@dataclass(eq=False)
class _Frame:
    locals: dict[str, Any]
    globals: dict[str, Any]
    enclosing: tuple[dict[str, Any], ...] = ()    # the locals of the functions it is nested in
    in_function: bool = False
    global_names: set[str] = field(default_factory=set)
    maybe_returned: bool = False
    maybe_value: Any = None


def _is_data(value: Any, depth: int = 0) -> bool:
    """A plain known value: operations on it may be computed."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if depth > 8:
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_is_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_is_data(k, depth + 1) and _is_data(v, depth + 1) for k, v in value.items())
    return False


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple, dict, set, frozenset)) else 0


_WIDE_FORMAT_RE = re.compile(r"%[-+ #0]*(?:\*|\d{6,})")


def _too_big(op: ast.operator, left: Any, right: Any) -> bool:
    """Whether computing `left op right` could make a value too large to hold."""
    numbers = [abs(v) for v in (left, right) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if isinstance(op, ast.Mult):
        sized = max(_size(left), _size(right))
        return sized > 0 and sized * max(numbers, default=1) > _SIZE_LIMIT
    if isinstance(op, ast.Add):
        return _size(left) + _size(right) > _SIZE_LIMIT
    if isinstance(op, ast.Mod) and isinstance(left, str):
        return bool(_WIDE_FORMAT_RE.search(left)) or _size(left) + _size(right) > _SIZE_LIMIT
    if isinstance(op, (ast.Pow, ast.LShift)):
        return isinstance(right, (int, float)) and abs(right) > 128 or any(n > 2**64 for n in numbers)
    return False


def _truth(value: Any) -> bool | None:
    if value is UNKNOWN:
        return None
    if _is_data(value):
        return bool(value)
    if isinstance(value, (list, tuple, dict)):
        return bool(value) if not value else True
    if isinstance(value, (_Function, _Class, _Instance, _Bound, _ExtensionValue, _Namespace)):
        return True
    return None


def _merge(a: Any, b: Any) -> Any:
    """The value a name has after two branches bound it to a and b."""
    if a is b:
        return a
    if isinstance(a, list) and isinstance(b, list):
        if len(a) + len(b) > _SIZE_LIMIT:
            return UNKNOWN
        if len(a) * len(b) > _SIZE_LIMIT:
            return a + b
        return a + [v for v in b if not any(_same(v, w) for w in a)]
    if _is_data(a) and _is_data(b) and type(a) is type(b) and a == b:
        return a
    return UNKNOWN


def _same(a: Any, b: Any) -> bool:
    return a is b or (_is_data(a) and _is_data(b) and type(a) is type(b) and a == b)


_STR_METHODS = frozenset({"split", "rsplit", "startswith", "endswith", "strip", "lstrip", "rstrip", "lower",
                          "upper", "replace", "join", "partition", "rpartition", "find", "splitlines", "count",
                          "index"})
_LIST_METHODS = frozenset({"append", "extend", "insert", "remove", "index", "count", "copy", "sort", "reverse"})
_DICT_METHODS = frozenset({"get", "keys", "values", "items", "update", "setdefault", "copy"})
_PURE_BUILTINS: dict[str, Callable[..., Any]] = {
    "len": len, "list": list, "tuple": tuple, "str": str, "int": int, "bool": bool, "sorted": sorted,
    "set": set, "frozenset": frozenset, "dict": dict, "any": any, "all": all, "min": min, "max": max,
    "abs": abs, "repr": repr, "reversed": lambda x: list(reversed(x)), "enumerate": lambda x: list(enumerate(x)),
    "zip": lambda *x: list(zip(*x, strict=False)),
}


_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge}
_OPERATIONS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv, ast.Div: operator.truediv, ast.Pow: operator.pow, ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_, ast.BitXor: operator.xor, ast.LShift: operator.lshift, ast.RShift: operator.rshift}


class _Evaluator:
    def __init__(self, root: str, config: Callable[[str], Any]) -> None:
        self.root = root
        self.config = config
        self.extensions: list[_ExtensionValue] = []
        self.invoked: set[int] = set()          # id() of function nodes called
        self.evaluated_names: set[str] = set()  # names and attributes that evaluated code read
        self.steps = 0
        self.active: list[ast.AST] = []         # the call stack of the script's functions

    # -- statements -------------------------------------------------------

    def run_block(self, body: list[ast.stmt], frame: _Frame) -> None:
        for stmt in body:
            self.run(stmt, frame)

    def run_maybe(self, body: list[ast.stmt], frame: _Frame) -> dict[str, Any]:
        """Run code that may or may not run: on a copy of the locals; signals end it quietly."""
        saved = frame.locals
        frame.locals = dict(saved)
        try:
            self.run_block(body, frame)
        except _Return as signal:
            frame.maybe_value = _merge(frame.maybe_value, signal.value) if frame.maybe_returned else signal.value
            frame.maybe_returned = True
        except _Signal:
            pass
        finally:
            branch, frame.locals = frame.locals, saved
        return branch

    def join(self, frame: _Frame, *branches: dict[str, Any]) -> None:
        """Merge the locals the branches ended with into the frame's, in place."""
        names = set().union(*(b.keys() for b in branches))
        for name in names:
            values = [b[name] for b in branches if name in b]
            merged = values[0]
            for value in values[1:]:
                merged = _merge(merged, value)
            frame.locals[name] = merged

    def run(self, stmt: ast.stmt, frame: _Frame) -> None:
        self.tick()
        if isinstance(stmt, ast.Expr):
            self.eval(stmt.value, frame)
        elif isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, frame)
            for target in stmt.targets:
                self.assign(target, value, frame)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, self.eval(stmt.value, frame), frame)
        elif isinstance(stmt, ast.AugAssign):
            self.augassign(stmt, frame)
        elif isinstance(stmt, ast.If):
            self.run_if(stmt, frame)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self.run_for(stmt, frame)
        elif isinstance(stmt, ast.While):
            test = _truth(self.eval(stmt.test, frame))
            if test is False:
                self.run_block(stmt.orelse, frame)
            else:
                self.join(frame, self.run_maybe(stmt.body, frame), self.run_maybe(stmt.orelse, frame))
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self.run_try(stmt, frame)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self.eval(item.context_expr, frame)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, UNKNOWN, frame)
            self.run_block(stmt.body, frame)
        elif isinstance(stmt, ast.Return):
            raise _Return(self.eval(stmt.value, frame) if stmt.value is not None else None)
        elif isinstance(stmt, ast.Break):
            raise _Break()
        elif isinstance(stmt, ast.Continue):
            raise _Continue()
        elif isinstance(stmt, ast.Raise):
            raise _Raise()
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.assign_name(stmt.name, self.make_function(stmt, frame), frame)
        elif isinstance(stmt, ast.ClassDef):
            self.assign_name(stmt.name, self.make_class(stmt, frame), frame)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.assign_name(alias.asname, _Namespace(alias.name), frame)
                else:
                    top = alias.name.split(".")[0]
                    self.assign_name(top, _Namespace(top), frame)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if alias.name != "*":
                    self.assign_name(alias.asname or alias.name, _Namespace(f"{stmt.module or ''}.{alias.name}"),
                                     frame)
        elif isinstance(stmt, ast.Global):
            frame.global_names.update(stmt.names)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    frame.locals.pop(target.id, None)
        elif isinstance(stmt, ast.Match):
            self.eval(stmt.subject, frame)
            self.join(frame, *(self.run_maybe(case.body, frame) for case in stmt.cases))
        # pass, assert, nonlocal: nothing to do

    def run_if(self, stmt: ast.If, frame: _Frame) -> None:
        test = _truth(self.eval(stmt.test, frame))
        if test is True:
            self.run_block(stmt.body, frame)
        elif test is False:
            self.run_block(stmt.orelse, frame)
        else:
            self.join(frame, self.run_maybe(stmt.body, frame), self.run_maybe(stmt.orelse, frame))

    def run_for(self, stmt: ast.For | ast.AsyncFor, frame: _Frame) -> None:
        items = self.iterate(self.eval(stmt.iter, frame))
        if items is None:
            self.assign(stmt.target, UNKNOWN, frame)
            self.join(frame, self.run_maybe(stmt.body, frame), self.run_maybe(stmt.orelse, frame))
            return
        for item in items:
            self.assign(stmt.target, item, frame)
            try:
                self.run_block(stmt.body, frame)
            except _Break:
                return
            except _Continue:
                continue
        self.run_block(stmt.orelse, frame)

    def run_try(self, stmt: Any, frame: _Frame) -> None:
        try:
            try:
                self.run_block(stmt.body, frame)
            except _Raise:
                pass
            branches = []
            for handler in stmt.handlers:
                if handler.name:
                    frame.locals[handler.name] = UNKNOWN
                branches.append(self.run_maybe(handler.body, frame))
            if branches:
                self.join(frame, dict(frame.locals), *branches)
            self.run_block(stmt.orelse, frame)
        finally:
            self.run_block(stmt.finalbody, frame)

    def iterate(self, value: Any) -> list[Any] | None:
        if isinstance(value, (list, tuple, str, set, frozenset, dict)) and len(value) <= _LOOP_LIMIT:
            if isinstance(value, (set, frozenset)) and not _is_data(value):
                return None
            return list(value)
        return None

    def assign(self, target: ast.expr, value: Any, frame: _Frame) -> None:
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value, frame)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.iterate(value) if not isinstance(value, (str, dict)) else None
            starred = any(isinstance(e, ast.Starred) for e in target.elts)
            if items is None or starred or len(items) != len(target.elts):
                items = [UNKNOWN] * len(target.elts)
            for element, item in zip(target.elts, items, strict=True):
                self.assign(element.value if isinstance(element, ast.Starred) else element, item, frame)
        elif isinstance(target, ast.Attribute):
            owner = self.eval(target.value, frame)
            if isinstance(owner, (_Instance, _ExtensionValue)):
                owner.attrs[target.attr] = value
            elif isinstance(owner, _Class):
                owner.attrs[target.attr] = value
        elif isinstance(target, ast.Subscript):
            owner = self.eval(target.value, frame)
            key = self.eval(target.slice, frame)
            if isinstance(owner, dict) and _is_data(key) and not isinstance(key, (list, dict, set)):
                owner[key] = value
            elif isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner):
                owner[key] = value
        elif isinstance(target, ast.Starred):
            self.assign(target.value, UNKNOWN, frame)

    def assign_name(self, name: str, value: Any, frame: _Frame) -> None:
        if name in frame.global_names:
            frame.globals[name] = value
        else:
            frame.locals[name] = value

    def augassign(self, stmt: ast.AugAssign, frame: _Frame) -> None:
        current = self.eval(stmt.target, frame) if not isinstance(stmt.target, ast.Name) \
            else self.lookup(stmt.target.id, frame)
        operand = self.eval(stmt.value, frame)
        if isinstance(current, list) and isinstance(stmt.op, ast.Add):
            items = self.iterate(operand)
            if items is not None and len(current) + len(items) <= _SIZE_LIMIT:
                current.extend(items)      # list += is in place: aliases see it
                return
            self.assign(stmt.target, UNKNOWN, frame)
            return
        self.assign(stmt.target, self.binop(stmt.op, current, operand), frame)

    def make_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, frame: _Frame) -> _Function:
        args = node.args
        enclosing = (frame.locals, *frame.enclosing) if frame.in_function else ()
        return _Function(node=node, scope=frame.globals, enclosing=enclosing,
                         defaults=[self.eval(d, frame) for d in args.defaults],
                         kw_defaults=[self.eval(d, frame) if d is not None else None for d in args.kw_defaults])

    def make_class(self, node: ast.ClassDef, frame: _Frame) -> _Class:
        bases = [self.eval(b, frame) for b in node.bases]
        body = _Frame(locals={}, globals=frame.globals)
        cls = _Class(name=node.name, attrs=body.locals, bases=bases)
        try:
            self.run_block(node.body, body)
        except _Signal:
            pass
        for value in cls.attrs.values():
            if isinstance(value, _Function):
                value.owner = cls
        return cls

    # -- expressions ------------------------------------------------------

    def tick(self) -> None:
        self.steps += 1
        if self.steps > _STEP_LIMIT:
            raise _OutOfSteps()

    def lookup(self, name: str, frame: _Frame) -> Any:
        self.evaluated_names.add(name)
        if name not in frame.global_names and name in frame.locals:
            return frame.locals[name]
        for scope in frame.enclosing:
            if name in scope:
                return scope[name]
        if name in frame.globals:
            return frame.globals[name]
        if name in _PURE_BUILTINS or name in ("print", "isinstance", "open", "getattr", "hasattr", "range"):
            return _Namespace(f"builtins.{name}")
        if name in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[name]
        if name == "__name__":
            return "__main__"
        return UNKNOWN

    def eval(self, node: ast.expr, frame: _Frame) -> Any:
        self.tick()
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.lookup(node.id, frame)
        if isinstance(node, ast.JoinedStr):
            parts = [self.eval(v, frame) for v in node.values]
            return "".join(parts) if all(isinstance(p, str) for p in parts) else UNKNOWN
        if isinstance(node, ast.FormattedValue):
            value = self.eval(node.value, frame)
            return format(value) if _is_data(value) and node.conversion == -1 and node.format_spec is None \
                else UNKNOWN
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items: list[Any] = []
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    spread = self.iterate(self.eval(element.value, frame))
                    if spread is None:
                        return UNKNOWN
                    items.extend(spread)
                else:
                    items.append(self.eval(element, frame))
            if isinstance(node, ast.List):
                return items
            if isinstance(node, ast.Tuple):
                return tuple(items)
            return set(items) if _is_data(items) else UNKNOWN
        if isinstance(node, ast.Dict):
            result: dict[Any, Any] = {}
            for key_node, value_node in zip(node.keys, node.values, strict=True):
                value = self.eval(value_node, frame)
                if key_node is None:
                    if isinstance(value, dict):
                        result.update(value)
                    else:
                        return UNKNOWN
                    continue
                key = self.eval(key_node, frame)
                if not _is_data(key) or isinstance(key, (list, dict, set)):
                    return UNKNOWN
                result[key] = value
            return result
        if isinstance(node, ast.Attribute):
            return self.attribute(self.eval(node.value, frame), node.attr)
        if isinstance(node, ast.Subscript):
            return self.subscript(self.eval(node.value, frame), self.eval(node.slice, frame))
        if isinstance(node, ast.Slice):
            parts = [self.eval(p, frame) if p is not None else None for p in (node.lower, node.upper, node.step)]
            return slice(*parts) if all(p is None or isinstance(p, int) for p in parts) else UNKNOWN
        if isinstance(node, ast.Call):
            return self.call(node, frame)
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.eval(node.left, frame), self.eval(node.right, frame))
        if isinstance(node, ast.UnaryOp):
            operand = self.eval(node.operand, frame)
            if isinstance(node.op, ast.Not):
                truth = _truth(operand)
                return UNKNOWN if truth is None else not truth
            if isinstance(node.op, ast.USub) and isinstance(operand, (int, float)):
                return -operand
            if isinstance(node.op, ast.UAdd) and isinstance(operand, (int, float)):
                return +operand
            if isinstance(node.op, ast.Invert) and isinstance(operand, int):
                return ~operand
            return UNKNOWN
        if isinstance(node, ast.BoolOp):
            return self.boolop(node, frame)
        if isinstance(node, ast.Compare):
            return self.compare(node, frame)
        if isinstance(node, ast.IfExp):
            test = _truth(self.eval(node.test, frame))
            if test is True:
                return self.eval(node.body, frame)
            if test is False:
                return self.eval(node.orelse, frame)
            return _merge(self.eval(node.body, frame), self.eval(node.orelse, frame))
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self.comprehension(node, frame)
        if isinstance(node, ast.Lambda):
            return self.make_function(node, frame)
        if isinstance(node, ast.NamedExpr):
            value = self.eval(node.value, frame)
            self.assign(node.target, value, frame)
            return value
        if isinstance(node, ast.Starred):
            return UNKNOWN
        return UNKNOWN

    def boolop(self, node: ast.BoolOp, frame: _Frame) -> Any:
        is_and = isinstance(node.op, ast.And)
        unknown = False
        value: Any = UNKNOWN
        for operand in node.values:
            value = self.eval(operand, frame)
            truth = _truth(value)
            if truth is None:
                unknown = True
            elif truth is not is_and:     # False for `and`, True for `or`: decides
                return value if not unknown else (False if is_and else True)
        return UNKNOWN if unknown else value

    def compare(self, node: ast.Compare, frame: _Frame) -> Any:
        left = self.eval(node.left, frame)
        result: Any = True
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node, frame)
            outcome = self.compare_one(op, left, right)
            if outcome is False:
                return False
            if outcome is UNKNOWN:
                result = UNKNOWN
            left = right
        return result

    def compare_one(self, op: ast.cmpop, left: Any, right: Any) -> Any:
        if isinstance(op, (ast.Is, ast.IsNot)):
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            if left is None or right is None or not (_is_data(left) and _is_data(right)):
                same = left is right
            else:
                same = _same(left, right)
            return same if isinstance(op, ast.Is) else not same
        if isinstance(op, (ast.In, ast.NotIn)):
            found = self.contains(right, left)
            if found is UNKNOWN:
                return UNKNOWN
            return found if isinstance(op, ast.In) else not found
        if not (_is_data(left) and _is_data(right)):
            if isinstance(op, (ast.Eq, ast.NotEq)) and left is not UNKNOWN and right is not UNKNOWN \
                    and not _is_data(left) and not _is_data(right):
                return (left is right) == isinstance(op, ast.Eq)
            return UNKNOWN
        comparison = _COMPARISONS.get(type(op))
        if comparison is None:
            return UNKNOWN
        try:
            return comparison(left, right)
        except TypeError:
            return UNKNOWN

    def contains(self, container: Any, item: Any) -> Any:
        if item is UNKNOWN or container is UNKNOWN:
            return UNKNOWN
        if isinstance(container, str):
            return item in container if isinstance(item, str) else UNKNOWN
        if isinstance(container, dict):
            return item in container if _is_data(item) else UNKNOWN
        if isinstance(container, (list, tuple, set, frozenset)):
            if any(_same(item, element) for element in container):
                return True
            if all(_is_data(element) for element in container) and _is_data(item):
                return False
            return UNKNOWN
        return UNKNOWN

    def binop(self, op: ast.operator, left: Any, right: Any) -> Any:
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if isinstance(op, ast.Add) and _size(left) + _size(right) > _SIZE_LIMIT:
            return UNKNOWN
        if isinstance(op, ast.Add) and isinstance(left, list) and isinstance(right, list):
            return left + right
        if isinstance(op, ast.Add) and isinstance(left, tuple) and isinstance(right, tuple):
            return left + right
        if not (_is_data(left) and _is_data(right)) or _too_big(op, left, right):
            return UNKNOWN
        operation = _OPERATIONS.get(type(op))
        if operation is None:
            return UNKNOWN
        try:
            return operation(left, right)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, KeyError, IndexError):
            return UNKNOWN

    def attribute(self, owner: Any, name: str) -> Any:
        self.evaluated_names.add(name)
        if isinstance(owner, _Namespace):
            dotted = f"{owner.name}.{name}"
            if dotted in _PLATFORM:
                return _PLATFORM[dotted]
            if dotted == "os.environ":
                return {}           # a default build's environment sets nothing the script reads
            return _Namespace(dotted)
        if isinstance(owner, _Instance):
            if name in owner.attrs:
                return owner.attrs[name]
            found = owner.cls.lookup(name)
            return _Bound(found, owner) if isinstance(found, _Function) else found
        if isinstance(owner, _Class):
            return owner.lookup(name)
        if isinstance(owner, _ExtensionValue):
            if name not in owner.attrs:
                owner.attrs[name] = []     # Extension's other attributes are lists, empty by default
            return owner.attrs[name]
        if isinstance(owner, str) and name in _STR_METHODS or isinstance(owner, list) and name in _LIST_METHODS \
                or isinstance(owner, dict) and name in _DICT_METHODS or isinstance(owner, tuple) and name in (
                    "index", "count"):
            return _Bound(name, owner)
        return UNKNOWN

    def subscript(self, owner: Any, key: Any) -> Any:
        if owner is UNKNOWN or key is UNKNOWN:
            return UNKNOWN
        if isinstance(owner, dict):
            if _is_data(key) and not isinstance(key, (list, dict, set)):
                return owner.get(key, UNKNOWN)
            return UNKNOWN
        if isinstance(owner, (list, tuple, str)) and isinstance(key, (int, slice)):
            try:
                return owner[key]
            except IndexError:
                return UNKNOWN
        return UNKNOWN

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
                      frame: _Frame) -> Any:
        inner = _Frame(locals=dict(frame.locals), globals=frame.globals, enclosing=frame.enclosing,
                       global_names=frame.global_names)
        results: list[Any] = []

        def produce(index: int) -> bool:
            if index == len(node.generators):
                if isinstance(node, ast.DictComp):
                    results.append((self.eval(node.key, inner), self.eval(node.value, inner)))
                else:
                    results.append(self.eval(node.elt, inner))
                return True
            generator = node.generators[index]
            items = self.iterate(self.eval(generator.iter, inner))
            if items is None:
                return False
            for item in items:
                self.assign(generator.target, item, inner)
                keep = True
                for condition in generator.ifs:
                    truth = _truth(self.eval(condition, inner))
                    if truth is None:
                        return False
                    keep = keep and truth
                if keep and not produce(index + 1):
                    return False
            return True

        if not produce(0):
            return UNKNOWN
        if isinstance(node, ast.DictComp):
            return dict(results) if all(_is_data(k) for k, _ in results) else UNKNOWN
        if isinstance(node, ast.SetComp):
            return set(results) if _is_data(results) else UNKNOWN
        return results

    # -- calls ------------------------------------------------------------

    def call(self, node: ast.Call, frame: _Frame) -> Any:
        callee = self.eval(node.func, frame)
        args: list[Any] = []
        starred = False
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                spread = self.iterate(self.eval(arg.value, frame))
                if spread is None:
                    starred = True
                else:
                    args.extend(spread)
            else:
                args.append(self.eval(arg, frame))
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            value = self.eval(keyword.value, frame)
            if keyword.arg is not None:
                kwargs[keyword.arg] = value
            elif isinstance(value, dict) and all(isinstance(k, str) for k in value):
                kwargs.update(value)
            else:
                starred = True
        if isinstance(callee, _Namespace) and callee.name.rsplit(".", 1)[-1] == "Extension":
            return self.create_extension(args, kwargs)
        if starred:
            return UNKNOWN
        if isinstance(callee, _Function):
            return self.invoke(callee, args, kwargs)
        if isinstance(callee, _Bound):
            if isinstance(callee.function, _Function):
                return self.invoke(callee.function, [callee.receiver, *args], kwargs)
            if isinstance(callee.function, str):
                return self.method(callee.receiver, callee.function, args, kwargs)
            return UNKNOWN
        if isinstance(callee, _Class):
            instance = _Instance(cls=callee)
            init = callee.lookup("__init__")
            if isinstance(init, _Function):
                self.invoke(init, [instance, *args], kwargs)
            return instance
        if isinstance(callee, _Namespace):
            return self.library(callee.name, args, kwargs)
        return UNKNOWN

    def invoke(self, function: _Function, args: list[Any], kwargs: dict[str, Any]) -> Any:
        node = function.node
        self.invoked.add(id(node))
        if node in self.active or len(self.active) >= _DEPTH_LIMIT:
            return UNKNOWN
        frame = _Frame(locals={}, globals=function.scope, enclosing=function.enclosing, in_function=True)
        params = node.args
        positional = [*params.posonlyargs, *params.args]
        for index, param in enumerate(positional):
            default_index = index - (len(positional) - len(function.defaults))
            if index < len(args):
                frame.locals[param.arg] = args[index]
            elif param.arg in kwargs:
                frame.locals[param.arg] = kwargs[param.arg]
            elif default_index >= 0:
                frame.locals[param.arg] = function.defaults[default_index]
            else:
                frame.locals[param.arg] = UNKNOWN
        for param, default in zip(params.kwonlyargs, function.kw_defaults, strict=True):
            frame.locals[param.arg] = kwargs.get(param.arg, default if default is not None else UNKNOWN)
        if params.vararg:
            frame.locals[params.vararg.arg] = tuple(args[len(positional):])
        if params.kwarg:
            known = {p.arg for p in positional} | {p.arg for p in params.kwonlyargs}
            frame.locals[params.kwarg.arg] = {k: v for k, v in kwargs.items() if k not in known}
        self.active.append(node)
        try:
            if isinstance(node, ast.Lambda):
                return self.eval(node.body, frame)
            try:
                self.run_block(node.body, frame)
            except _Return as signal:
                return _merge(frame.maybe_value, signal.value) if frame.maybe_returned else signal.value
            except _Signal:
                return UNKNOWN
            return _merge(frame.maybe_value, None) if frame.maybe_returned else None
        finally:
            self.active.pop()

    def create_extension(self, args: list[Any], kwargs: dict[str, Any]) -> _ExtensionValue:
        attrs = dict(kwargs)
        for name, value in zip(("name", "sources"), args, strict=False):
            attrs[name] = value
        extension = _ExtensionValue(attrs=attrs)
        self.extensions.append(extension)
        return extension

    def method(self, receiver: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if isinstance(receiver, list) and name in ("append", "extend", "insert", "remove", "sort", "reverse"):
            if name in ("append", "extend", "insert") and len(receiver) >= _SIZE_LIMIT:
                return None        # the list is not grown further: its value is only less complete
            if name == "append" and len(args) == 1:
                receiver.append(args[0])
            elif name == "extend" and len(args) == 1:
                items = self.iterate(args[0])
                if items is not None and len(receiver) + len(items) <= _SIZE_LIMIT:
                    receiver.extend(items)
            elif name == "insert" and len(args) == 2 and isinstance(args[0], int):
                receiver.insert(args[0], args[1])
            elif name == "remove" and len(args) == 1:
                matches = [i for i, v in enumerate(receiver) if _same(v, args[0])]
                if matches:
                    del receiver[matches[0]]
            elif name in ("sort", "reverse") and _is_data(receiver) and not kwargs:
                try:
                    getattr(receiver, name)()
                except TypeError:
                    pass
            return None
        if isinstance(receiver, list) and name == "copy":
            return list(receiver)
        if isinstance(receiver, dict):
            if name == "get" and args and _is_data(args[0]) and not isinstance(args[0], (list, dict, set)):
                return receiver.get(args[0], args[1] if len(args) > 1 else None)
            if name == "update" and len(args) == 1 and isinstance(args[0], dict):
                receiver.update(args[0])
                return None
            if name == "update" and not args:
                receiver.update(kwargs)
                return None
            if name == "setdefault" and args and _is_data(args[0]) and not isinstance(args[0], (list, dict, set)):
                return receiver.setdefault(args[0], args[1] if len(args) > 1 else None)
            if name == "copy":
                return dict(receiver)
            if name in ("keys", "values", "items"):
                return list(getattr(receiver, name)())
            return UNKNOWN
        if not (_is_data(receiver) and _is_data(args) and _is_data(kwargs)):
            return UNKNOWN
        if name in ("replace", "join") and _size(receiver) * (1 + max(map(_size, args), default=0)) + sum(
                map(_size, args)) > _SIZE_LIMIT:
            return UNKNOWN
        try:
            result = getattr(receiver, name)(*args, **kwargs)
        except (TypeError, ValueError, AttributeError, IndexError, KeyError):
            return UNKNOWN
        return list(result) if isinstance(result, Iterator) else result

    def library(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Calls outside the script: the few whose result is known without building."""
        if name.startswith("builtins."):
            builtin = name.split(".", 1)[1]
            if builtin == "range" and all(isinstance(a, int) for a in args) and not kwargs:
                values = range(*args)
                return list(values) if len(values) <= _LOOP_LIMIT else UNKNOWN
            function = _PURE_BUILTINS.get(builtin)
            if builtin == "print":
                return None
            if function is None or not (_is_data(args) and _is_data(kwargs)):
                return UNKNOWN
            try:
                return function(*args, **kwargs)
            except (TypeError, ValueError):
                return UNKNOWN
        if name == "sysconfig.get_config_var" and len(args) == 1 and isinstance(args[0], str):
            return self.config(args[0])
        if name == "sysconfig.get_config_vars" and args and all(isinstance(a, str) for a in args):
            return [self.config(a) for a in args]
        if name.startswith("os.path.") and all(isinstance(a, str) for a in args) and args and not kwargs:
            return self.os_path(name[len("os.path."):], args)
        if name == "os.getcwd" and not args:
            return self.root
        return UNKNOWN

    def os_path(self, function: str, args: list[str]) -> Any:
        if function == "join":
            return posixpath.join(*args)
        if function in ("dirname", "basename", "normpath", "splitext", "split", "isabs") and len(args) == 1:
            result = getattr(posixpath, function)(args[0])
            return list(result) if isinstance(result, tuple) else result
        if function == "abspath" and len(args) == 1:
            return posixpath.normpath(posixpath.join(self.root, args[0]))   # the build runs in the tree
        if function in ("exists", "isfile", "isdir") and len(args) == 1:
            path = posixpath.normpath(posixpath.join(self.root, args[0]))
            if path != self.root and not path.startswith(self.root + "/"):
                return UNKNOWN      # the build machine's files: unknown
            return bool(getattr(os.path, function)(path))
        return UNKNOWN


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _references(tree: ast.AST) -> Counter[str]:
    """How often each name is read, as a variable or an attribute."""
    return Counter(node.id if isinstance(node, ast.Name) else node.attr for node in ast.walk(tree)
                   if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) or isinstance(node, ast.Attribute))


def read_extensions(text: str, root: str, config: Callable[[str], Any]) -> tuple[Extension, ...]:
    """The Extension(...) calls a default Linux build of the script at root
    would make, in the order they are evaluated.  `config(NAME)` is
    sysconfig.get_config_var(NAME), or UNKNOWN."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    evaluator = _Evaluator(str(root).rstrip("/") or "/", config)
    module = _Frame(locals={}, globals={})
    module.locals = module.globals
    try:
        try:
            evaluator.run_block(tree.body, module)
        except _Signal:
            pass
        _run_entry_points(evaluator, tree, module)
    except (_OutOfSteps, RecursionError):
        pass
    return tuple(e for e in map(_extension, evaluator.extensions) if e.name)


def _run_entry_points(evaluator: _Evaluator, tree: ast.Module, module: _Frame) -> None:
    """Evaluate the functions nothing evaluated called (a framework calls
    them), except those that only skipped code names."""
    references = _references(tree)
    owners = _owners(module.globals)
    functions = _functions(tree)
    named_elsewhere = {id(node): references[node.name] > _references(node)[node.name] for node in functions}
    instances: dict[int, _Instance] = {}
    progress = True
    while progress:
        progress = False
        for node in functions:
            if id(node) in evaluator.invoked:
                continue
            if named_elsewhere[id(node)] and node.name not in evaluator.evaluated_names:
                continue
            function, cls = owners.get(id(node), (None, None))
            if function is None:
                evaluator.invoked.add(id(node))     # nested in a function: its caller defines it
                continue
            progress = True
            args: list[Any] = []
            if cls is not None:
                instance = instances.setdefault(id(cls), _Instance(cls=cls))
                args = [instance]
            evaluator.invoke(function, args, {})


def _owners(scope: dict[str, Any]) -> dict[int, tuple[_Function, _Class | None]]:
    """The module's functions and the classes' methods, by syntax node."""
    found: dict[int, tuple[_Function, _Class | None]] = {}
    for value in scope.values():
        if isinstance(value, _Function):
            found[id(value.node)] = (value, None)
        elif isinstance(value, _Class):
            for attr in value.attrs.values():
                if isinstance(attr, _Function):
                    found[id(attr.node)] = (attr, value)
    return found


def _extension(value: _ExtensionValue) -> Extension:
    attrs = value.attrs
    name = attrs.get("name")
    defines = []
    for macro in _strings_or_pairs(attrs.get("define_macros")):
        if isinstance(macro, tuple) and len(macro) == 2 and isinstance(macro[0], str):
            defines.append(macro[0] if macro[1] is None else f"{macro[0]}={macro[1]}")
    words = [w for w in _strings_or_pairs(attrs.get("extra_compile_args")) if isinstance(w, str)]
    defines += [w[2:] for w in words if w.startswith("-D") and len(w) > 2]
    includes = [d for d in _strings_or_pairs(attrs.get("include_dirs")) if isinstance(d, str)]
    includes += [w[2:] for w in words if w.startswith("-I") and len(w) > 2]
    return Extension(name=name if isinstance(name, str) else "",
                     sources=tuple(s for s in _strings_or_pairs(attrs.get("sources")) if isinstance(s, str)),
                     defines=tuple(dict.fromkeys(defines)), include_dirs=tuple(dict.fromkeys(includes)),
                     objects=tuple(o for o in _strings_or_pairs(attrs.get("extra_objects")) if isinstance(o, str)))


def _strings_or_pairs(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, dict):
        return list(value.items())
    return []
