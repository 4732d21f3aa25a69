"""Write a plan as a `git format-patch` series: one patch per source file,
made in a scratch git repository holding the files the series touches."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from .edits import EditError, apply_edits, include_edit, member_edit, move_edits, tokenize
from .plan import Move, Plan, Stay
from .regression import CLASS_NAME, TEST_MODULE, add_isolation_test

HEADER = "Include/internal/pycore_cglobals.h"
INTERP_HEADER = "Include/internal/pycore_interp.h"
MAKEFILE = "Makefile.pre.in"
_AUTHOR = {"GIT_AUTHOR_NAME": "cglobals", "GIT_AUTHOR_EMAIL": "cglobals@localhost",
           "GIT_COMMITTER_NAME": "cglobals", "GIT_COMMITTER_EMAIL": "cglobals@localhost",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    patches: tuple[str, ...]          # file names written, in order
    moved: tuple[Move, ...]
    stays: tuple[Stay, ...]           # the plan's, and moves whose edits failed


def write_series(tree_root: str, plan: Plan, use_functions: dict[tuple[str, str, str], frozenset[str]],
                 out_dir: str) -> Series:
    """use_functions: per global, the functions of its file where the analysis
    saw a use ("" for initializers of other globals)."""
    root = Path(tree_root)
    groups: dict[str, list[Move]] = {}
    for move in plan.moves:
        groups.setdefault(move.var.file, []).append(move)
    stays = list(plan.stays)
    edited: dict[str, str] = {}
    for path, moves in sorted(groups.items()):
        text = (root / path).read_text(encoding="utf-8")
        try:
            edited[path] = _edit_file(text, moves, use_functions)
        except EditError as exc:
            stays += [Stay(var=m.var, verdict=m.verdict, reason=f"not edited: {exc}") for m in moves]
            del groups[path]
    order = _order(sorted(groups))
    with tempfile.TemporaryDirectory(prefix="cglobals-series-") as scratch:
        _git(scratch, "init", "-q")
        test_module = root / TEST_MODULE
        regression = bool(order) and test_module.is_file()
        touched = [INTERP_HEADER, MAKEFILE, *order] + ([TEST_MODULE] if regression else [])
        for path in touched:
            (Path(scratch) / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / path, Path(scratch) / path)
        _git(scratch, "add", "-A")
        _git(scratch, "commit", "-q", "-m", "pristine")
        moved: list[Move] = []
        for index, path in enumerate(order):
            if index == 0:
                _add_infrastructure(Path(scratch))
            moved += groups[path]
            (Path(scratch) / path).write_text(edited[path], encoding="utf-8")
            (Path(scratch) / HEADER).write_text(render_header(moved), encoding="utf-8")
            _git(scratch, "add", "-A")
            _git(scratch, "commit", "-q", "-m", _message(path, groups[path], first=index == 0))
        if regression:
            module = Path(scratch) / TEST_MODULE
            module.write_text(add_isolation_test(module.read_text(encoding="utf-8")), encoding="utf-8")
            _git(scratch, "add", "-A")
            _git(scratch, "commit", "-q", "-m", _REGRESSION_MESSAGE)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.patch"):
            old.unlink()
        commits = len(order) + regression
        names = _git(scratch, "format-patch", "--no-signature", "--zero-commit", "-o", str(out.resolve()),
                     f"HEAD~{commits}").split() if commits else []
    patches = tuple(Path(name).name for name in names)
    (out / "series").write_text("".join(f"{name}\n" for name in patches), encoding="utf-8")
    return Series(patches=patches, moved=tuple(moved), stays=tuple(stays))


_REGRESSION_MESSAGE = f"""cglobals: test the moved state in several subinterpreters

{CLASS_NAME} in {TEST_MODULE} runs a workload through the
object protocols in four subinterpreters at once (threads), destroys them,
and runs it again in the main interpreter: the paths that read and write the
state this series moved into the interpreter.  Added with libcst.
"""


def _order(files: list[str]) -> list[str]:
    """The first file's patch also creates the state header and hangs it off
    struct _is; every other patch needs that."""
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(files)
    graph.add_edges_from((files[0], other) for other in files[1:])
    return list(nx.lexicographical_topological_sort(graph))


def _edit_file(text: str, moves: list[Move], use_functions: dict[tuple[str, str, str], frozenset[str]]) -> str:
    tokens = tokenize(text)
    edits = []
    for move in moves:
        replacement = f"_PyInterpreterState_GET()->cglobals.{move.state_key}.{move.field}"
        edits += move_edits(text, tokens, name=move.var.name, line=move.var.line, func=move.var.func,
                            replacement=replacement,
                            use_functions=use_functions.get(move.var.identity, frozenset()))
    include = include_edit(text, tokens, "pycore_pystate.h", "_PyInterpreterState_GET()")
    return apply_edits(text, edits + ([include] if include else []))


def _add_infrastructure(scratch: Path) -> None:
    interp = scratch / INTERP_HEADER
    text = interp.read_text(encoding="utf-8")
    tokens = tokenize(text)
    edits = [member_edit(tokens, "_is", "struct _cglobals_interp_state cglobals;  // pycore_cglobals.h")]
    include = include_edit(text, tokens, "pycore_cglobals.h", "struct _cglobals_interp_state")
    interp.write_text(apply_edits(text, edits + ([include] if include else [])), encoding="utf-8")
    makefile = scratch / MAKEFILE
    text = makefile.read_text(encoding="utf-8")
    anchor = "\t\t$(srcdir)/Include/internal/pycore_interp.h \\\n"
    if anchor in text:      # the headers every object depends on
        text = text.replace(anchor, "\t\t$(srcdir)/Include/internal/pycore_cglobals.h \\\n" + anchor, 1)
        makefile.write_text(text, encoding="utf-8")


def render_header(moved: list[Move]) -> str:
    by_file: dict[str, list[Move]] = {}
    for move in moved:
        by_file.setdefault(move.state_key, []).append(move)
    lines = ["#ifndef Py_INTERNAL_CGLOBALS_H", "#define Py_INTERNAL_CGLOBALS_H", "",
             "#ifndef Py_BUILD_CORE", '#  error "this header requires Py_BUILD_CORE define"', "#endif", "",
             "/* Per-interpreter state of what were static globals, one struct per source",
             "   file (written by cglobals; reached as _PyInterpreterState_GET()->cglobals). */", ""]
    for key, moves in sorted(by_file.items()):
        lines.append(f"struct _cglobals_{key}_state {{")
        for move in sorted(moves, key=lambda m: m.field):
            where = f"{move.var.func}() in {move.var.file}" if move.var.func else move.var.file
            lines.append(f"    {_declaration(move.var.type, move.field)};".ljust(48) + f"// was static in {where}")
        lines += ["};", ""]
    lines.append("struct _cglobals_interp_state {")
    lines += [f"    struct _cglobals_{key}_state {key};" for key in sorted(by_file)]
    lines += ["};", "", "#endif /* !Py_INTERNAL_CGLOBALS_H */", ""]
    return "\n".join(lines)


def _declaration(type_: str, name: str) -> str:
    return f"{type_}{name}" if type_.endswith("*") else f"{type_} {name}"


def _message(path: str, moves: list[Move], first: bool) -> str:
    noun = "global" if len(moves) == 1 else "globals"
    lines = [f"cglobals: move {len(moves)} {noun} of {path} into interpreter state", ""]
    key = moves[0].state_key
    lines += [f"Each becomes a member of struct _cglobals_{key}_state (pycore_cglobals.h),",
              f"reached as _PyInterpreterState_GET()->cglobals.{key}.", ""]
    if first:
        lines += ["This patch also adds pycore_cglobals.h and hangs its struct off", "struct _is as `cglobals`.", ""]
    for move in moves:
        var, verdict = move.var, move.verdict
        lines.append(f"- {var.qualified_name} ({var.type.strip()}, line {var.line}): {verdict.state_class.value}, "
                     f"rule {verdict.rule}")
        lines += [f"  {evidence}" for evidence in verdict.evidence]
    return "\n".join(lines) + "\n"


def _git(cwd: str, *argv: str) -> str:
    proc = subprocess.run(["git", "-c", "core.autocrlf=false", "-c", "commit.gpgsign=false", *argv], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, **_AUTHOR})
    if proc.returncode != 0:
        raise RuntimeError(f"git {argv[0]} failed: {proc.stderr.strip()}")
    return proc.stdout
