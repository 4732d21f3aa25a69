"""Turn parsed chunks into GlobalVar records: every variable with static
storage duration that the tree itself defines."""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from pycparser import c_ast
from pycparser.c_generator import CGenerator

from .model import GlobalVar, Storage

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


class _TypeSpeller(CGenerator):
    def spell(self, node: c_ast.Node) -> str:
        return str(self._generate_type(node, emit_declname=False)).strip()


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
        kind = node.type
        if isinstance(kind, c_ast.FuncDecl):
            return True
        return (isinstance(kind, c_ast.TypeDecl) and isinstance(kind.type, c_ast.IdentifierType)
                and len(kind.type.names) == 1 and kind.type.names[0] in self._function_types)

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
            type=self._speller.spell(node.type), storage=storage,
            thread_local=bool(_THREAD_LOCAL.intersection(node.storage)),
            const=is_const_object(node.type), has_initializer=node.init is not None,
            macro=self._macro(path, coord.line)))

    def _macro(self, path: str, line: int) -> str | None:
        """The function-like macro whose invocation starts the declaration's line."""
        text = self._source_line(path, line)
        match = _MACRO_CALL_RE.match(text)
        if not match or match.group(1) not in self._function_macros:
            return None
        return match.group(1)


def path_relativizer(root: str) -> Callable[[str], str | None]:
    """Map a line-marker path to a tree-relative POSIX path, or None outside the tree."""
    prefix = root.rstrip("/") + "/"
    memo: dict[str, str | None] = {}

    def relative(path: str) -> str | None:
        if path not in memo:
            normal = os.path.normpath(path if os.path.isabs(path) else os.path.join(root, path))
            memo[path] = normal[len(prefix):] if normal.startswith(prefix) else None
        return memo[path]
    return relative


def extract_globals(ast: c_ast.FileAST, relative: Callable[[str], str | None],
                    function_macros: frozenset[str], source_line: SourceLine,
                    function_types: frozenset[str] = frozenset()) -> Iterator[GlobalVar]:
    visitor = GlobalsVisitor(relative, function_macros, source_line, function_types)
    visitor.visit(ast)
    yield from visitor.found
