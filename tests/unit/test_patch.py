"""cglobals patch on a fixture tree: the series applies with git am, the
edited file is the expected one, the state header declares what moved, and
what stays is listed with its reason."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer.patch.edits import EditError, apply_edits, move_edits, tokenize
from tests.conftest import make_tree
from tests.unit.test_cli import run

PATCH_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "patch"


def _git(cwd: Path, *argv: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *argv],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout


def _patch_tree(root: Path) -> Path:
    tree = make_tree(root, [PATCH_FIXTURES / "cache.c"])
    (tree / "Include" / "internal").mkdir()
    shutil.copyfile(PATCH_FIXTURES / "pycore_interp.h", tree / "Include" / "internal" / "pycore_interp.h")
    makefile = tree / "Makefile.pre.in"
    makefile.write_text(makefile.read_text() + "PYTHON_HEADERS= \\\n"
                        "\t\t$(srcdir)/Include/internal/pycore_interp.h \\\n\t\t$(srcdir)/Include/object.h\n")
    return tree


def test_series_applies_and_moves_what_the_policy_allows(tmp_path):
    tree = _patch_tree(tmp_path / "tree")
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    assert stdout == f"1 patches in {out}: 2 globals moved, 3 stay (README.md says why)\n"
    assert (out / "series").read_text() == "0001-cglobals-move-2-globals-of-Objects-cache.c-into-inte.patch\n"
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-q", "-m", "pristine")
    _git(tree, "am", "-q", str(out / "0001-cglobals-move-2-globals-of-Objects-cache.c-into-inte.patch"))
    assert (tree / "Objects" / "cache.c").read_text() == (PATCH_FIXTURES / "cache.after.c").read_text()
    header = (tree / "Include" / "internal" / "pycore_cglobals.h").read_text()
    assert "struct _cglobals_cache_state {\n    PyObject *cached_name;" in header
    assert "    int count_calls_calls;" in header
    assert "struct _cglobals_interp_state {\n    struct _cglobals_cache_state cache;\n};" in header
    interp = (tree / "Include" / "internal" / "pycore_interp.h").read_text()
    assert '#include "pycore_gc.h"            // struct _gc_runtime_state\n#include "pycore_cglobals.h"' in interp
    assert "    int id;\n\n    struct _cglobals_interp_state cglobals;  // pycore_cglobals.h\n};" in interp
    assert "$(srcdir)/Include/internal/pycore_cglobals.h \\\n" in (tree / "Makefile.pre.in").read_text()
    readme = (out / "README.md").read_text()
    for line in ("`table` (interpreter): its type (int [4]) is not one the state header can declare",
                 "`key_a` (interpreter): declared together with other variables",
                 "`key_b` (interpreter): declared together with other variables"):
        assert line in readme
    message = _git(tree, "log", "-1", "--format=%B")
    assert message.startswith("cglobals: move 2 globals of Objects/cache.c into interpreter state\n")
    assert "- get_name" not in message and "- cached_name (PyObject *, line 4): interpreter" in message


def test_references_are_rewritten_only_where_the_analysis_saw_uses():
    text = "static int n;\nint f(void) { return n; }\nint g(int n) { return n; }\n#define N (n + 1)\n"
    edits = move_edits(text, tokenize(text), name="n", line=1, func=None, replacement="X",
                       use_functions=frozenset({"f"}))
    assert apply_edits(text, edits) == "int f(void) { return X; }\nint g(int n) { return n; }\n#define N (X + 1)\n"


def test_a_function_the_analysis_saw_using_the_global_must_have_a_reference():
    text = "static int n;\nint f(void) { return 0; }\n"
    with pytest.raises(EditError, match="no reference found where the analysis saw its uses"):
        move_edits(text, tokenize(text), name="n", line=1, func=None, replacement="X",
                   use_functions=frozenset({"f"}))


def test_regression_test_is_added_with_libcst_before_the_main_block():
    from analyzer.patch.regression import add_isolation_test
    source = ("import unittest\n\n\nclass TestBase(unittest.TestCase):\n    pass\n\n\n"
              "if __name__ == '__main__':\n    unittest.main()\n")
    edited = add_isolation_test(source)
    assert edited.startswith(source.split("if __name__")[0])
    assert edited.index("class CGlobalsIsolationTests(TestBase):") < edited.index("if __name__ == '__main__':")
    assert "\n\n\nclass CGlobalsIsolationTests" in edited and "\n\n\nif __name__" in edited
    compile(edited, "test.py", "exec")
    assert add_isolation_test(edited) == edited
