"""cglobals patch on a fixture tree: the series applies with git am, the
edited file is the expected one, the state header declares what moved, and
what stays is listed with its code and reason."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer.patch.accessors import accessor_name, definition_lines
from analyzer.patch.edits import EditError, apply_edits, function_bodies, move_edits, tokenize
from analyzer.patch.plan import declaration
from analyzer.patch.series import HEADER
from tests.conftest import make_tree
from tests.unit.test_cli import run

PATCH_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "patch"


def _git(cwd: Path, *argv: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *argv],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout


def _patch_tree(root: Path, modules: tuple[str, ...] = ()) -> Path:
    """A fake tree with the infrastructure the series edits, Objects/cache.c
    and the modules (tests/fixtures/patch/modules/NAME.c)."""
    tree = make_tree(root, [PATCH_FIXTURES / "cache.c", *(PATCH_FIXTURES / "modules" / f"{m}.c" for m in modules)])
    (tree / "Include" / "internal").mkdir()
    for header in ("pycore_interp.h", "pycore_runtime.h", "pycore_runtime_init.h"):
        shutil.copyfile(PATCH_FIXTURES / header, tree / "Include" / "internal" / header)
    (tree / "Python").mkdir()
    shutil.copyfile(PATCH_FIXTURES / "pystate.c", tree / "Python" / "pystate.c")
    makefile = tree / "Makefile.pre.in"
    makefile.write_text(makefile.read_text() + "PYTHON_HEADERS= \\\n"
                        "\t\t$(srcdir)/Include/internal/pycore_interp.h \\\n\t\t$(srcdir)/Include/object.h\n")
    return tree


def test_series_applies_and_moves_what_the_policy_allows(tmp_path):
    tree = _patch_tree(tmp_path / "tree")
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    assert stdout == f"2 patches in {out}: 6 globals moved, 3 stay (README.md says why)\n"
    patches = ["0001-cglobals-add-the-state-that-static-globals-move-into.patch",
               "0002-cglobals-move-6-globals-of-Objects-cache.c-into-inte.patch"]
    assert (out / "series").read_text() == "".join(f"{name}\n" for name in patches)
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-q", "-m", "pristine")
    _git(tree, "am", "-q", str(out / patches[0]))
    assert "struct _cglobals_interp_state {\n    char _unused;" in (tree / HEADER).read_text()
    _git(tree, "am", "-q", str(out / patches[1]))
    assert (tree / "Objects" / "cache.c").read_text() == (PATCH_FIXTURES / "cache.after.c").read_text()
    header = (tree / HEADER).read_text()
    for expected in ("struct hidden;\n",
                     "struct _cglobals_cache_state {\n    PyObject *cached_name; ",
                     "\n    int count_calls_calls; ", "\n    int threshold; ",
                     "struct _cglobals_interp_state {\n    struct _cglobals_cache_state cache;\n};",
                     "struct _cglobals_cache_runtime_state {\n    PyThread_type_lock lock; ",
                     "\n    int lock_users; ", "\n    struct hidden *opaque; ",
                     "struct _cglobals_runtime_state {\n    struct _cglobals_cache_runtime_state cache;\n};",
                     "#define _PyCGlobals_INTERP_INIT \\\n    .cglobals = { \\\n        .cache = { \\\n"
                     "            .threshold = 10, \\\n        }, \\\n    },\n",
                     "#define _PyCGlobals_RUNTIME_INIT\n"):
        assert expected in header
    internal = tree / "Include" / "internal"
    interp = (internal / "pycore_interp.h").read_text()
    assert '#include "pycore_gc.h"            // struct _gc_runtime_state\n#include "pycore_cglobals.h"' in interp
    assert "    int id;\n\n    struct _cglobals_interp_state cglobals;  // pycore_cglobals.h\n};" in interp
    assert "    struct _cglobals_runtime_state cglobals;  // pycore_cglobals.h\n} _PyRuntimeState;" in (
        internal / "pycore_runtime.h").read_text()
    init = (internal / "pycore_runtime_init.h").read_text()
    assert "#define _PyRuntimeState_INIT \\\n    { \\\n        _PyCGlobals_RUNTIME_INIT \\\n" in init
    assert "#define _PyInterpreterState_INIT \\\n    { \\\n        _PyCGlobals_INTERP_INIT \\\n" in init
    assert ("        // cglobals: what were statics keep their values, as the statics did\n"
            "        struct _cglobals_runtime_state saved_cglobals = runtime->cglobals;\n"
            "        memcpy(runtime, &initial, sizeof(*runtime));\n"
            "        runtime->cglobals = saved_cglobals;\n") in (tree / "Python" / "pystate.c").read_text()
    assert "$(srcdir)/Include/internal/pycore_cglobals.h \\\n" in (tree / "Makefile.pre.in").read_text()
    cache = (tree / "Objects" / "cache.c").read_text()
    # each use through a macro defined where the global was declared; a function's static keeps its name there
    assert "/* a lazy object cache: moves */\n#define CACHED_NAME _PyInterpreterState_GET()->cglobals.cache." \
           "cached_name\n" in cache and "return CACHED_NAME;" in cache
    assert "    return ++calls + cached_name;\n#undef calls\n}" in cache    # the local cached_name untouched
    message = _git(tree, "log", "-1", "--format=%B")
    assert "cached_name: CACHED_NAME" in message and "count_calls()::calls: calls" in message
    readme = (out / "README.md").read_text()
    for line in ("`table` (interpreter): CG310 partner-stays: written together with key_a, which stays",
                 "`key_a` (interpreter): CG320 declared-with-others: declared together with other variables",
                 "`key_b` (interpreter): CG320 declared-with-others: declared together with other variables",
                 "| CG320 declared-with-others | declared together with other variables | 2 |",
                 "| Objects/cache.c | `lock_users` | `int` | interpreter (interpreter.mutable) | runtime "
                 "(runtime state: "
                 "written together with lock (runtime)) |  |",
                 "| Objects/cache.c | `threshold` | `int` | interpreter (interpreter.mutable) | interpreter | `10` |"):
        assert line in readme
    message = _git(tree, "log", "-1", "--format=%B")
    assert message.startswith("cglobals: move 6 globals of Objects/cache.c into interpreter and runtime state\n")
    assert "- get_name" not in message and "- cached_name (PyObject *, line 4): interpreter" in message
    assert "  its initializer (10) moves into _PyCGlobals_INTERP_INIT" in message


def test_without_the_runtime_reset_nothing_moves(tmp_path):
    tree = _patch_tree(tmp_path / "tree")
    (tree / "Python" / "pystate.c").write_text("int _PyRuntimeState_Init(void) { return 0; }\n")
    status, stdout, _ = run("patch", str(tree), "-o", str(tmp_path / "series"), "--no-cache")
    assert status == 0 and "0 globals moved, 9 stay" in stdout
    assert ("not edited: no `memcpy(runtime, &initial, ...)` reset of the runtime state"
            in (tmp_path / "series" / "README.md").read_text())


def test_references_are_rewritten_only_where_the_analysis_saw_uses():
    text = "static int n;\nint f(void) { return n; }\nint g(int n) { return n; }\n#define N (n + 1)\n"
    edits = move_edits(text, tokenize(text), name="n", line=1, func=None, replacement="X",
                       use_functions=frozenset({"f"}), known_functions=frozenset({"f", "g"}))
    assert apply_edits(text, edits) == "int f(void) { return X; }\nint g(int n) { return n; }\n#define N (X + 1)\n"


def test_a_function_the_analysis_saw_using_the_global_must_have_a_reference():
    text = "static int n;\nint f(void) { return 0; }\n"
    with pytest.raises(EditError, match="no reference found where the analysis saw its uses"):
        move_edits(text, tokenize(text), name="n", line=1, func=None, replacement="X",
                   use_functions=frozenset({"f"}), known_functions=frozenset({"f"}))


@pytest.mark.parametrize("text, where", [
    ("static int n;\n#ifdef MS_WINDOWS\nint w(void) { return n; }\n#endif\nint f(void) { return n; }\n", "w()"),
    ("#ifdef Py_DEBUG\nint n = 0;\n#else\nstatic int n;\n#endif\nint f(void) { return n; }\n", "file scope"),
])
def test_the_name_where_the_analysis_saw_no_use_blocks_the_edit(text, where):
    """Code of another configuration (not compiled here, so not analyzed)."""
    line = text.split("\n").index(next(s for s in text.split("\n") if s.startswith("static"))) + 1
    with pytest.raises(EditError, match=rf"n appears in {re.escape(where)}"):
        move_edits(text, tokenize(text), name="n", line=line, func=None, replacement="X",
                   use_functions=frozenset({"f"}), known_functions=frozenset({"f"}))


def test_function_bodies_survive_conditional_braces_extern_c_and_continued_macros():
    text = ('#ifdef __cplusplus\nextern "C" {\n#endif\n'
            "#define M(x) \\\n    if (x) { \\\n        x = 0; \\\n    }\n"
            "int f(int a)\n{\n#ifdef A\n    if (a) {\n#else\n    if (!a) {\n#endif\n        a++;\n    }\n"
            "    return a;\n}\n"
            "struct s { int n; };\n"
            "int g(void)\n{\n    return 1;\n}\n"
            '#ifdef __cplusplus\n}\n#endif\n')
    code = [t for t in tokenize(text) if t.kind != "comment"]
    assert [name for _, _, name in function_bodies(code)] == ["f", "g"]


def test_struct_members_of_the_same_name_are_not_references():
    text = "static int n;\nstruct s { int n; };\nint f(struct s *p) { return n + p->n; }\n"
    edits = move_edits(text, tokenize(text), name="n", line=1, func=None, replacement="X",
                       use_functions=frozenset({"f"}), known_functions=frozenset({"f"}))
    assert apply_edits(text, edits) == "struct s { int n; };\nint f(struct s *p) { return X + p->n; }\n"


@pytest.mark.parametrize("declared, expected", [
    ("int name[37];", "int name[37]"), ("struct arena_object *name[64 + 1];", "struct arena_object *name[64+1]"),
    ("PyObject *name;", "PyObject *name"), ("unsigned long long name;", "unsigned long long name"),
    ("const char *name;", "const char *name"), ("char *name[];", None), ("int (*name)(void);", None),
    ("char *const name;", None), ("int (*name)[3];", None), ("struct { int a; } name;", None),
])
def test_member_declarations(declared, expected):
    from pycparser import CParser

    from analyzer.frontend.extract import declared_type
    decl = CParser().parse("typedef struct _object PyObject;\n" + declared).ext[-1]
    assert declaration(declared_type(decl.type), "name") == expected


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


@pytest.mark.parametrize("source, name, expected", [
    ("static int x = 0;", "x", "0"),
    ("static PyObject *a = NULL, *b = NULL;", "a", "NULL"),
    ("static PyObject *a = NULL, *b = NULL;", "b", "NULL"),
    ("static int t[3] = {0};", "t", "{0}"),
    ("static int t[] = {\n    1, 2, /* two; */\n    3,\n};", "t", "{ 1, 2, /* two; */ 3, }"),
    ("static const char *s = \"a;b\";  // c", "s", "\"a;b\""),
    ("static Py_ssize_t n = g(1, 2) * 2;", "n", "g(1, 2) * 2"),
    ("DECLARE(x);", "x", None),
    ("static int t[] = {\n" + "  1,\n" * 20 + "};", "t", None),
])
def test_initializer_text_reads_the_declaration_up_to_its_end(source, name, expected):
    from analyzer.frontend.extract import initializer_text
    lines = source.split("\n")
    assert initializer_text(lambda path, line: lines[line - 1] if line <= len(lines) else "",
                            "x.c", 1, name) == expected


@pytest.mark.parametrize(("source", "func", "taken", "expected"), [
    ("static int counter;\n", None, set(), "COUNTER"),
    ("static int _Py_counter;\n", None, set(), "PY_COUNTER"),          # no reserved leading underscore
    ("static int counter;\n", None, {"COUNTER"}, None),                 # the capitals are taken
    ("static int f(void)\n{\n    static int n;\n    return ++n;\n}\n", "f", set(), "n"),
    ("static int f(S *s)\n{\n    static int n;\n    return s->n;\n}\n", "f", set(), None),   # a member too
    ("static int f(void)\n{\n    static int n;\n    { int n = 0; return n; }\n}\n", "f", set(), None),  # shadowed
    ("static int f(void)\n{\n    static int n; return ++n; }\n", "f", set(), None),   # no line for its #undef
])
def test_a_moved_global_is_reached_through_a_macro_named_after_it(source, func, taken, expected):
    code = [t for t in tokenize(source) if t.kind != "comment"]
    name = "n" if func else source.split()[2].rstrip(";")
    assert accessor_name(code, name, func, taken) == expected
    assert definition_lines("X", "_PyRuntime.cglobals.file.x", "/* why */") == \
        "#define X _PyRuntime.cglobals.file.x  /* why */\n"
    assert definition_lines("X", "_PyRuntime.cglobals." + "y" * 70) == \
        "#define X \\\n    _PyRuntime.cglobals." + "y" * 70 + "\n"
