"""Turn parsed chunks into GlobalVar records: every variable with static
storage duration that the tree itself defines."""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from pycparser import c_ast
from pycparser.c_generator import CGenerator

from ..cpython.families import BY_NAME, LOCK_NAME, LOCKS, SCALAR_NAMES, struct_family
from ..model import CType, Family, GlobalVar, Storage
from .parse import names_function_type

SourceLine = Callable[[str, int], str]
"""(relative path, line) -> that line of the original source, or ""."""

_THREAD_LOCAL = frozenset({"_Thread_local", "__thread", "thread_local"})
_MACRO_CALL_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*\(")


def is_const_object(node: c_ast.Node) -> bool:
    """Whether the object a declarator declares is read-only: decided by the
    outermost declarator (`char *const p` yes, `const char *p` no); an array is
    read-only when its elements are."""
    while isinstance(node, c_ast.ArrayDecl):
        node = node.type
    if isinstance(node, (c_ast.PtrDecl, c_ast.TypeDecl)):
        return "const" in node.quals
    return False


def points_to_const(node: c_ast.Node) -> bool | None:
    """For a pointer, or an array of pointers: whether what it points to is
    const (`const char *p` yes, `char *const p` no); None for other objects
    and for function pointers."""
    while isinstance(node, c_ast.ArrayDecl):
        node = node.type
    if not isinstance(node, c_ast.PtrDecl):
        return None
    target = node.type
    if isinstance(target, (c_ast.TypeDecl, c_ast.PtrDecl)):
        return "const" in target.quals
    return None


def type_family(node: c_ast.Node, function_types: frozenset[str] = frozenset()) -> Family:
    """The family of the object a declarator declares (see model.Family);
    function_types are the typedef names of function types in scope."""
    if isinstance(node, c_ast.ArrayDecl):
        element = type_family(node.type, function_types)
        if element in (Family.FUNCTION_POINTER, Family.API_TABLE, Family.STRING, Family.LOCK,
                       Family.OBJECT_POINTER, Family.STATIC_TYPE):
            return element
        return Family.STRING if _base_name(node.type) == "char" else Family.ARRAY
    if isinstance(node, c_ast.PtrDecl):
        target = node.type
        if isinstance(target, c_ast.FuncDecl):
            return Family.FUNCTION_POINTER
        name = _base_name(target) if isinstance(target, c_ast.TypeDecl) else None
        if name in function_types:
            return Family.FUNCTION_POINTER
        if name == "char":
            return Family.STRING
        if name in LOCKS:      # PyThread_type_lock is itself a pointer typedef; a pointer to one is not a lock
            return Family.POINTER
        if name is not None and (name.endswith("Object") or name in ("PyObject", "PyTypeObject")):
            return Family.OBJECT_POINTER
        return Family.POINTER
    if isinstance(node, c_ast.TypeDecl):
        inner = node.type
        if isinstance(inner, c_ast.Enum):
            return Family.SCALAR
        if isinstance(inner, (c_ast.Struct, c_ast.Union)):
            if inner.decls and any(d.name == "ob_base" for d in inner.decls):
                return Family.OBJECT     # an object laid out inline: Argument Clinic's static _kwtuple, ...
            return BY_NAME.get(inner.name or "", None) or struct_family(inner.name)
        name = _base_name(node)
        if name in BY_NAME:
            return BY_NAME[name]
        if name is not None and LOCK_NAME.search(name):
            return Family.LOCK       # a library's lock type: Tcl_Mutex, CRITICAL_SECTION, SRWLOCK
        if name in SCALAR_NAMES or (isinstance(inner, c_ast.IdentifierType) and len(inner.names) > 1):
            return Family.SCALAR
        if name is not None and name.endswith("Object"):
            return Family.OBJECT
        return Family.OTHER
    return Family.OTHER


def _base_name(node: c_ast.Node) -> str | None:
    """The last name of a plain type (`unsigned long` -> long), else None."""
    if isinstance(node, c_ast.TypeDecl) and isinstance(node.type, c_ast.IdentifierType):
        return str(node.type.names[-1])
    if isinstance(node, c_ast.TypeDecl) and isinstance(node.type, (c_ast.Struct, c_ast.Union)):
        return str(node.type.name) if node.type.name else None
    return None


class _TypeSpeller(CGenerator):
    def spell(self, node: c_ast.Node) -> str:
        return str(self._generate_type(node, emit_declname=False)).strip()

    def shape(self, node: c_ast.Node) -> CType:
        """The declarator's shape: dimensions, then pointer levels, then the base."""
        dims = []
        while isinstance(node, c_ast.ArrayDecl):
            dims.append(str(self.visit(node.dim)) if node.dim is not None else "")
            node = node.type
        pointers, qualified = 0, False
        while isinstance(node, c_ast.PtrDecl):
            pointers += 1
            qualified |= bool(node.quals)
            node = node.type
        if not isinstance(node, c_ast.TypeDecl):
            return CType(pointers=pointers, qualified_pointer=qualified, dims=tuple(dims),
                         function=isinstance(node, c_ast.FuncDecl), other=not isinstance(node, c_ast.FuncDecl))
        return CType(base=_specifier(node), pointers=pointers, qualified_pointer=qualified, dims=tuple(dims))


def declared_type(node: c_ast.Node) -> CType:
    """The shape of a declarator's type (`node` is a Decl's type)."""
    return _TypeSpeller().shape(node)


def _specifier(node: c_ast.TypeDecl) -> str:
    """`const unsigned long`, `struct tag`; "" for a struct, union or enum with a body."""
    inner = node.type
    if isinstance(inner, c_ast.IdentifierType):
        words = list(inner.names)
    elif isinstance(inner, (c_ast.Struct, c_ast.Union, c_ast.Enum)) and inner.name:
        if (inner.values if isinstance(inner, c_ast.Enum) else inner.decls) is not None:
            return ""
        words = [{c_ast.Struct: "struct", c_ast.Union: "union", c_ast.Enum: "enum"}[type(inner)], inner.name]
    else:
        return ""
    return " ".join([*node.quals, *words])


class GlobalsVisitor(c_ast.NodeVisitor):
    """Collects static-storage variables from one chunk's AST."""

    def __init__(self, relative: Callable[[str], str | None], function_macros: frozenset[str],
                 source_line: SourceLine, function_types: frozenset[str] = frozenset()) -> None:
        self._function_types = function_types
        self._relative = relative
        self._function_macros = function_macros
        self._source_line = source_line
        self._speller = _TypeSpeller()
        self._function: str | None = None
        self.found: list[GlobalVar] = []

    def visit_FileAST(self, node: c_ast.FileAST) -> None:
        for item in node.ext:
            if isinstance(item, c_ast.Decl):
                self._file_scope_decl(item)
            elif isinstance(item, c_ast.FuncDef):
                self._function = item.decl.name
                self.visit(item.body)
                self._function = None

    def visit_Decl(self, node: c_ast.Decl) -> None:
        # Only reached inside function bodies.
        if "static" in node.storage or _THREAD_LOCAL.intersection(node.storage):
            if "extern" not in node.storage and not self._is_function(node):
                self._record(node, Storage.STATIC)
        if node.init is not None:
            self.visit(node.init)

    def _is_function(self, node: c_ast.Decl) -> bool:
        """A function declaration, spelled out or through a function typedef."""
        return names_function_type(node.type, self._function_types)

    def _file_scope_decl(self, node: c_ast.Decl) -> None:
        if node.name is None or self._is_function(node):
            return
        if "extern" in node.storage and node.init is None:
            return
        storage = Storage.STATIC if "static" in node.storage else Storage.EXTERN
        self._record(node, storage)

    def _record(self, node: c_ast.Decl, storage: Storage) -> None:
        coord = node.coord
        path = self._relative(coord.file) if coord else None
        if path is None:
            return
        self.found.append(GlobalVar(
            file=path, func=self._function, name=node.name, line=coord.line,
            type=self._speller.spell(node.type), ctype=self._speller.shape(node.type), storage=storage,
            thread_local=bool(_THREAD_LOCAL.intersection(node.storage)),
            const=is_const_object(node.type), has_initializer=node.init is not None,
            macro=self._macro(path, coord.line), family=type_family(node.type, self._function_types),
            points_to_const=points_to_const(node.type),
            initializer=None if node.init is None or is_const_object(node.type)
            else initializer_text(self._source_line, path, coord.line, node.name)))

    def _macro(self, path: str, line: int) -> str | None:
        """The function-like macro whose invocation starts the declaration's line."""
        text = self._source_line(path, line)
        match = _MACRO_CALL_RE.match(text)
        if not match or match.group(1) not in self._function_macros:
            return None
        return match.group(1)


_INITIALIZER_LINES = 12
_ASSIGNED_RE = re.compile(r"\b(\w+)\s*(?:\[[^\]]*\]\s*)*=(?!=)\s*")
_CLOSING = {")": "(", "]": "[", "}": "{"}


def initializer_text(source_line: SourceLine, path: str, line: int, name: str) -> str | None:
    """The source text of `name`'s initializer in the declaration that starts
    at `line` (`= {0}`, `= NULL`, `= {1, 2,\n 3}`), up to the `;` or `,`
    that ends it, outside brackets, strings and comments; None when the
    declaration does not spell it there (a macro declares the variable) or
    it runs past a dozen lines.  A text over several lines is joined with
    single spaces."""
    first = source_line(path, line)
    start = next((m for m in _ASSIGNED_RE.finditer(first) if m.group(1) == name), None)
    if start is None:
        return None
    text, rest, depth, lines, comment = "", first[start.end():], [], 1, False
    while True:
        index, quote = 0, ""
        while index < len(rest):
            char = rest[index]
            if comment:
                if rest.startswith("*/", index):
                    comment, index = False, index + 1
            elif quote:
                if char == "\\":
                    index += 1
                elif char == quote:
                    quote = ""
            elif char in "\"'":
                quote = char
            elif rest.startswith("/*", index):
                comment, index = True, index + 1
            elif rest.startswith("//", index):
                break
            elif char in "([{":
                depth.append(char)
            elif char in _CLOSING:
                if not depth or depth.pop() != _CLOSING[char]:
                    return None
            elif char in ";," and not depth:
                found = text + rest[:index]
                return " ".join(found.split()) if lines > 1 else found.strip()
            index += 1
        if lines == _INITIALIZER_LINES:
            return None
        text += rest + "\n"
        rest = source_line(path, line + lines)
        lines += 1


def path_relativizer(root: str) -> Callable[[str], str | None]:
    """Map a line-marker path to a tree-relative POSIX path, or None outside the tree."""
    prefix = root.rstrip("/") + "/"
    memo: dict[str, str | None] = {}

    def relative(path: str) -> str | None:
        if path not in memo:
            name = _unescaped(path) if "\\" in path else path
            normal = os.path.normpath(name if os.path.isabs(name) else os.path.join(root, name))
            memo[path] = normal[len(prefix):] if normal.startswith(prefix) else None
        return memo[path]
    return relative


_MARKER_ESCAPE_RE = re.compile(rb"\\([0-7]{1,3}|.)", re.S)
_ESCAPED = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"a": b"\a", b"b": b"\b", b"f": b"\f", b"v": b"\v"}


def _unescaped(path: str) -> str:
    """A line marker's file name as the file system has it: gcc writes it as a
    C string (a newline in a name is `\\n`, a backslash `\\\\`)."""
    def byte(match: re.Match[bytes]) -> bytes:
        escape = match.group(1)
        if escape[:1].isdigit():
            return bytes([int(escape, 8) & 0xFF])
        return _ESCAPED.get(escape, escape)
    return _MARKER_ESCAPE_RE.sub(byte, path.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")


def extract_globals(ast: c_ast.FileAST, relative: Callable[[str], str | None],
                    function_macros: frozenset[str], source_line: SourceLine,
                    function_types: frozenset[str] = frozenset()) -> Iterator[GlobalVar]:
    visitor = GlobalsVisitor(relative, function_macros, source_line, function_types)
    visitor.visit(ast)
    yield from visitor.found
