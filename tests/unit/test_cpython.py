"""analyzer/cpython/: CPython knowledge as pure tables and predicates, each
table kept once and used by the machinery that needs it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import analyzer.cpython
from analyzer.cpython import api, build
from analyzer.frontend import bodies, sites

PACKAGE = Path(analyzer.cpython.__file__).parent
_PURE_IMPORTS = {"__future__", "re", "collections.abc", "dataclasses", "model"}


@pytest.mark.parametrize("module", sorted(p.name for p in PACKAGE.glob("*.py")))
def test_knowledge_does_no_io(module: str) -> None:
    """Only pure modules are imported (no os, subprocess, pathlib) and nothing is opened."""
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= _PURE_IMPORTS, imported - _PURE_IMPORTS
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert "open" not in calls


def test_one_table_of_signal_handler_installers() -> None:
    """The token pass (which bodies are parsed) and the AST pass (which handlers
    are recorded) read the same table."""
    assert api.HANDLER_NAMES == set(api.HANDLER_ARGUMENTS) | api.HANDLER_FIELDS
    for name in api.HANDLER_NAMES:
        tokens = bodies.read_tokens(f"{{ {name}; }}", "f", True, False, "a.c", 1, False)
        assert tokens.installs_handlers, name
    assert not bodies.read_tokens("{ sigaction_count++; }", "f", True, False, "a.c", 1, False).installs_handlers
    assert not hasattr(sites, "_HANDLER_ARGUMENTS") and not hasattr(sites, "_HANDLER_FIELDS")


def test_build_data_is_read_as_makesetup_and_configure_do() -> None:
    setup = "*static*\nposix posixmodule.c -DX=1\n*shared*\n@MODULE__SCPROXY_TRUE@_scproxy _scproxy.c\n_json _json.c\n"
    assert build.setup_modules(setup) == [("posix", ["posixmodule.c"], ["-DX=1"], True),
                                          ("_json", ["_json.c"], [], False)]
    assert build.configure_defines("Modules/_decimal/_decimal.c", ()) == ("CONFIG_64=1", "ANSI=1")
    assert build.configure_defines("Modules/_decimal/_decimal.c", ("CONFIG_64=1",)) == ()
    makefile = "CORE_OBJS= Objects/a.o \\\n\tPython/b.o\nMODOBJS= Modules/c.o\n"
    present = {"Objects/a.c", "Python/b.c.in", "Modules/c.c"}     # MODOBJS: not C compiled by default
    assert build.core_sources(makefile, present.__contains__) == ["Objects/a.c", "Python/b.c.in"]
