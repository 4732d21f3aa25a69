"""Extension modules' interpreter globals moved into their module state:
the module's source read (PyModuleDef, state struct, getter, GC functions),
the way each function reaches the state, ownership, and the stays' codes."""
from __future__ import annotations

import re
import shutil

import pytest

from analyzer.codes import STAY_CODES
from analyzer.cpython.typeslots import type_layout
from analyzer.cpython.workloads import heap_type_check
from analyzer.patch.edits import Edit, EditError, apply_edits, own_line_statement, realigned, tokenize
from analyzer.patch.heap_types import _struct_reference, own_functions
from analyzer.patch.init_rewrite import line_map, rewrite_init
from analyzer.patch.macros import state_macros
from analyzer.patch.module_source import code_tokens, functions, read_module, state_expression
from analyzer.patch.orphans import tidy_removals
from analyzer.patch.own_gil import declares_own_gil, own_gil_expressible, own_gil_slot_edit
from analyzer.patch.regression import add_isolation_test
from analyzer.patch.unanalyzed import file_scope_variables, unanalyzed_stores
from tests.unit.test_cli import run
from tests.unit.test_patch import PATCH_FIXTURES, _git, _patch_tree

_MODULE = """
typedef struct {{ PyObject *error; }} mod_state;
static mod_state *get_mod_state(PyObject *module) {{ return (mod_state *)_PyModule_GetState(module); }}
static int mod_exec(PyObject *m) {{ return 0; }}
static int mod_traverse(PyObject *m, visitproc visit, void *arg) {{ return 0; }}
static PyModuleDef_Slot mod_slots[] = {{ {{Py_mod_exec, mod_exec}}, {{0, NULL}} }};
static PyMethodDef mod_methods[] = {{ {{"f", (PyCFunction)mod_f, METH_O, NULL}}, MOD_G_METHODDEF {{NULL}} }};
static struct PyModuleDef moddef = {{ {definition} }};
"""


@pytest.mark.parametrize("definition", [
    'PyModuleDef_HEAD_INIT, "mod", NULL, sizeof(mod_state), mod_methods, mod_slots, mod_traverse, NULL, NULL',
    '.m_base = PyModuleDef_HEAD_INIT, .m_name = "mod", .m_size = sizeof(mod_state), .m_methods = mod_methods, '
    '.m_slots = mod_slots, .m_traverse = mod_traverse',
])
def test_the_module_definition_is_read_positional_or_designated(definition):
    module = read_module(code_tokens(tokenize(_MODULE.format(definition=definition))))
    assert not isinstance(module, str)
    assert (module.name, module.definition, module.state_type, module.getter, module.traverse, module.clear) == (
        "mod", "moddef", "mod_state", "get_mod_state", "mod_traverse", None)
    assert module.entry_points == {"mod_f", "mod_exec"}


@pytest.mark.parametrize(("definition", "reason"), [
    ('PyModuleDef_HEAD_INIT, "mod", NULL, -1, mod_methods', "single-phase init without module state"),
    ('PyModuleDef_HEAD_INIT, "mod", NULL, sizeof(other_state)', "no function returning its other_state *"),
    ('PyModuleDef_HEAD_INIT, "mod", NULL, 0, mod_methods, mod_slots, NULL, NULL, mod_free',
     "multi-phase init without module state, and its PyModuleDef sets m_free (mod_free) already"),
    ('PyModuleDef_HEAD_INIT, "mod", NULL, 0, mod_methods, other_slots',
     "multi-phase init without module state, and no exec function to make it in"),
])
def test_a_module_without_state_to_extend_says_why(definition, reason):
    assert read_module(code_tokens(tokenize(_MODULE.format(definition=definition)))).startswith(reason)


def test_each_function_reaches_the_state_from_what_it_has():
    text = _MODULE.format(definition='0, "mod", NULL, sizeof(mod_state), mod_methods, mod_slots') + """
static PyObject *mod_f(PyObject *self, PyObject *arg) { return cache; }
static PyObject *mod_g_impl(PyObject *module) { return cache; }
static PyObject *helper(mod_state *st, int x) { return cache; }
static PyObject *late(PyObject *module) { x = cache; mod_state *st = get_mod_state(module); return NULL; }
static PyObject *method(PyObject *self) { mod_state *st = get_mod_state(self); return cache; }
static void callback(void *data) { use(cache); }
"""
    code = code_tokens(tokenize(text))
    module = read_module(code)
    assert not isinstance(module, str)
    found = {}
    for function in functions(code):
        uses = [i for i in range(function.start, function.end) if code[i].text == "cache"]
        if uses:
            found[function.name] = state_expression(code, function, module, uses[0])
    assert found == {"mod_f": "get_mod_state(self)->",      # in the method table
                     "mod_g_impl": "get_mod_state(module)->",  # Argument Clinic's module parameter
                     "helper": "st->", "late": "get_mod_state(module)->", "method": "st->", "callback": None}


def test_globals_move_into_the_module_state_and_the_others_stay_with_a_code(tmp_path):
    tree = _patch_tree(tmp_path / "tree", ("statemod", "singlemod"))
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    assert ", 2 of extension modules into their module state," in stdout
    names = _apply(tree, out)
    assert names[2] == "0003-cglobals-move-2-globals-of-Modules-statemod.c-into-i.patch"
    assert len(names) == 3                  # the fake tree has no subinterpreter tests to extend
    expected_source = (PATCH_FIXTURES / "modules" / "statemod.after.c").read_text()
    assert (tree / "Modules" / "statemod.c").read_text() == expected_source
    message = _git(tree, "log", "-1", "--format=%B", "--", "Modules/statemod.c")
    assert message.startswith("cglobals: move 2 globals of Modules/statemod.c into its module state\n\n"
                              "The statemod module keeps module state already (statemod_state: its\n")
    assert "  in statemod_lookup(): state->cached_attr (a new local: state = get_statemod_state(module))\n" in message
    assert "  owns its object (a new reference is stored): visited in m_traverse, cleared in m_clear\n" in message
    assert "  borrows its object (stored, never increfed): not visited, not cleared\n" in message
    readme = (out / "README.md").read_text()
    expected = {"events": "CG302 no-path-to-module-state: on_event()",
                "mystery": "CG303 ownership-undecided", "level": "CG304 nonzero-initializer: = 3",
                "left": "CG307 not-a-state-member: declared together with other variables",
                "pair_count": "CG310 partner-stays: written together with left",
                "setting": "CG312 held-by-library: library_setting = setting"}
    for name, why in expected.items():
        assert f"`{name}`: {why}" in readme
    assert "Modules/singlemod.c:4 `error`: CG301 single-phase-module: single-phase init" in readme
    assert "| Modules/statemod.c | `cached_attr` | `PyObject *` | interpreter (interpreter.module-state) | " \
           "`statemod_state` | yes |" in readme
    moved = (out / "moved.tsv").read_text()
    assert "Modules/statemod.c\t-\tcached_attr\tinterpreter\tstate->cached_attr\n" in moved
    for slug in ("single-phase-module", "no-path-to-module-state", "ownership-undecided", "nonzero-initializer",
                 "not-a-state-member", "partner-stays", "held-by-library"):
        assert STAY_CODES[slug].code in readme


def test_the_regression_test_uses_the_converted_modules_and_fails_on_errors_in_any_interpreter():
    source = "import threading\nfrom textwrap import dedent\nclass TestBase: pass\n"
    with_modules = add_isolation_test(source, "interpreters", ("array", "zlib"))
    compile(with_modules, "test.py", "exec")
    namespace: dict[str, object] = {}
    exec(compile(with_modules, "test.py", "exec"), namespace)
    tests = namespace["CGlobalsIsolationTests"]
    workload = tests.MODULES_WORKLOAD                        # type: ignore[attr-defined]
    assert "assert a.__reduce_ex__(3)[0] is array._array_reconstructor\n" in workload
    assert "import zlib\nassert dir(zlib)\n" in workload    # a module without a workload of its own
    assert "self.assertEqual(errors, [])" in with_modules
    assert "test_converted_modules" not in add_isolation_test(source, "interpreters")


def _apply(tree, out):
    """Commit the pristine tree and apply the series with git am."""
    names = (out / "series").read_text().split()
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-q", "-m", "pristine")
    _git(tree, "am", "-q", *(str(out / name) for name in names))
    return names


def _types_tree(root):
    tree = _patch_tree(root, ("typesmod",))
    (tree / "Include" / "cpython").mkdir()
    shutil.copyfile(PATCH_FIXTURES / "include" / "cpython" / "object.h", tree / "Include" / "cpython" / "object.h")
    shutil.copyfile(PATCH_FIXTURES / "include" / "typeslots.h", tree / "Include" / "typeslots.h")
    (tree / "Objects" / "listobject.c").write_text(
        '#include "Python.h"\n#include "cpython/object.h"\n#define Py_TPFLAGS_HAVE_GC (1UL << 14)\n'
        "static int list_traverse(PyObject *o, void *v, void *a) { return 0; }\n"
        "static int list_clear(PyObject *o) { return 0; }\n"
        'PyTypeObject PyList_Type = {\n    .tp_name = "list",\n    .tp_flags = Py_TPFLAGS_HAVE_GC,\n'
        "    .tp_traverse = list_traverse,\n    .tp_clear = list_clear,\n};\n")
    makefile = tree / "Makefile.pre.in"
    makefile.write_text(makefile.read_text().replace("OBJECT_OBJS= ", "OBJECT_OBJS= Objects/listobject.o "))
    return tree


def test_static_types_become_heap_types_in_a_state_the_module_gains(tmp_path):
    tree = _types_tree(tmp_path / "tree")
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    names = _apply(tree, out)
    assert names[-1] == "0003-cglobals-move-9-globals-of-Modules-typesmod.c-into-i.patch"
    after = (tree / "Modules" / "typesmod.c").read_text()
    assert after == (PATCH_FIXTURES / "modules" / "typesmod.after.c").read_text()
    message = _git(tree, "log", "-1", "--format=%B", "--", "Modules/typesmod.c")
    assert "The typesmod module uses multi-phase init but keeps no module state\n(m_size 0)." in message
    assert "  its instances are collected now (Py_TPFLAGS_HAVE_GC, Plain_traverse() visits the type): each " \
           "owns a reference to its type, which owns one to the module\n" in message
    assert "  its instances are collected now (Py_TPFLAGS_HAVE_GC, Closer_traverse() visits the type): each " \
           "owns a reference to its type, which owns one to the module\n" in message    # its tp_free: PyObject_Del
    assert "    if (PyObject_CallFinalizerFromDealloc(self) < 0)\n        return;\n    PyObject_GC_UnTrack(self);\n" \
        in after and "Py_tp_free" not in after and "Py_tp_alloc" not in after   # what object gives it
    assert "  a heap type made from Thing_spec in typesmod_exec(), typesmod_state->Thing_Type\n" in message
    assert "  thing_dealloc() drops the instance's reference to its type\n" in message
    assert "  its base PyList_Type has GC: the spec says Py_TPFLAGS_HAVE_GC, with Items_traverse() (visits the " \
           "type, then calls the base's) and Items_clear() (the base's)\n" in message
    assert "  in thing_add(): state->Thing_Type (a new local: state = get_typesmod_state_by_operands(a, b))\n" \
        in message
    assert "  in typesmod_make(): state->Made_Type (a new local: state = get_typesmod_state(module))\n" in message
    assert "  no tp_new: Py_TPFLAGS_DISALLOW_INSTANTIATION, as PyType_Ready gave the static type\n" in message
    readme = (out / "README.md").read_text()
    assert "`Callback_Type`: CG302 no-path-to-module-state: used in on_event(), which reach no module state" \
        in readme
    assert "  in make_helper(): state->Helper_Type (the state is a new first parameter)\n" in message
    assert "  in typesmod_helped(): passes its state to a helper (a new local: state = get_typesmod_state(module))\n" \
        in message
    assert "`Macro_Type`: CG305 static-type-in-module: named in a macro (line " in readme
    # a global that is not a type reaches the state as the types' functions and helpers do
    assert "  in thing_add(): state->adds (a new local: state = get_typesmod_state_by_operands(a, b))\n" in message
    assert "  in make_helper(): state->helped (the state is a new first parameter)\n" in message


def test_a_static_type_the_tree_cannot_describe_stays(tmp_path):
    tree = _types_tree(tmp_path / "tree")
    (tree / "Include" / "typeslots.h").unlink()
    out = tmp_path / "series"
    status, _, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    readme = (out / "README.md").read_text()
    assert "`Thing_Type`: CG305 static-type-in-module: the tree's headers give no PyTypeObject layout" in readme


def test_the_heap_type_check_fails_on_a_static_type_and_passes_on_a_heap_type():
    exec(heap_type_check("array", ("array.array", "array.not_exposed")), {})      # a heap type since 3.10
    with pytest.raises(AssertionError, match="int is not a heap type"):
        exec(heap_type_check("builtins", ("builtins.int",)), {})
    with pytest.raises(AssertionError, match="array"):
        exec(heap_type_check("array", ("elsewhere.array",)), {})                  # the wrong __module__
    with_types = add_isolation_test("class TestBase: pass\n", "interpreters", ("itertools",),
                                    {"itertools": ("itertools.count",)})
    assert "for qualified in ('itertools.count',):\n" in with_types
    compile(with_types, "test.py", "exec")


def test_a_dealloc_or_clear_does_not_reach_the_state_through_its_type():
    """During the interpreter's teardown the collector may clear the type
    (its MRO) before the instances: a state lookup through the type there
    would dereference NULL."""
    layout = type_layout((PATCH_FIXTURES / "include" / "cpython" / "object.h").read_text(),
                         (PATCH_FIXTURES / "include" / "typeslots.h").read_text())
    assert layout is not None
    text = ('static void t_dealloc(PyObject *self) { }\nstatic int t_clear(PyObject *o) { return 0; }\n'
            'static PyObject *t_iter(PyObject *it) { return it; }\n'
            'static PyTypeObject T = { .tp_name = "m.T", .tp_dealloc = t_dealloc, .tp_clear = t_clear, '
            '.tp_iter = t_iter };\n')
    code = code_tokens(tokenize(text))
    found = own_functions(code, functions(code), "T", layout)
    assert found == {"t_dealloc": "", "t_clear": "", "t_iter": "Py_TYPE(it)"}


_POSITIONAL = 'PyModuleDef_HEAD_INIT, "mod", NULL, sizeof(mod_state), mod_methods, mod_slots, mod_traverse'


@pytest.mark.parametrize(("extra", "bound"), [
    ("", {"mod_f", "mod_exec"}),
    # C code calls the method with a self that need not be the module
    ("static int mod_run(void) { return mod_f(NULL, NULL) != NULL; }", {"mod_exec"}),
    # the table is added to another module, whose object its functions get
    ("int add_to(PyObject *other) { return PyModule_AddFunctions(other, mod_methods); }", {"mod_exec"}),
])
def test_a_method_is_given_the_module_only_when_the_module_alone_calls_it(extra, bound):
    text = _MODULE.format(definition=_POSITIONAL) + \
        "static PyObject *\nmod_f(PyObject *self, PyObject *arg) { return NULL; }\n" + extra
    module = read_module(code_tokens(tokenize(text)))
    assert not isinstance(module, str)
    assert module.entry_points == bound


def test_an_index_of_a_table_that_stays_is_part_of_that_table():
    from analyzer.patch.modules import _indexed_table
    code = code_tokens(tokenize("static PyTypeObject types[4];\nstatic int used;\nstatic int other;\n"
                                "PyObject *get(void) { other++; return (PyObject *)&types[used++]; }\n"))
    assert _indexed_table(code, "used", {"types": None}) == "types"
    assert _indexed_table(code, "other", {"types": None}) is None
    assert _indexed_table(code, "used", {"names": None}) is None


def test_a_constant_initial_value_is_stored_by_the_exec_function(tmp_path):
    tree = _patch_tree(tmp_path / "tree", ("initmod",))
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    _apply(tree, out)
    assert (tree / "Modules" / "initmod.c").read_text() == \
        (PATCH_FIXTURES / "modules" / "initmod.after.c").read_text()
    message = _git(tree, "log", "-1", "--format=%B", "--", "Modules/initmod.c")
    assert "  was initialized to -1: module state starts zeroed, so the exec function stores it first\n" in message
    assert "  was initialized to HALF: module state starts zeroed, so the exec function stores it first\n" \
        in message
    assert "CG304" not in (out / "README.md").read_text()


def test_a_helper_only_a_staying_global_needs_is_left_as_it_is(tmp_path):
    tree = _patch_tree(tmp_path / "tree", ("helpermod",))
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    readme = (out / "README.md").read_text()
    assert "`bumps`: CG310 partner-stays: written together with left" in readme
    assert "| Modules/helpermod.c | `calls` | `long` |" in readme
    _apply(tree, out)
    after = (tree / "Modules" / "helpermod.c").read_text()
    assert "static long\nbump(void)\n" in after and "bump() + state->calls" in after


def test_a_single_phase_module_whose_globals_all_move_becomes_multi_phase(tmp_path):
    tree = _patch_tree(tmp_path / "tree", ("phasemod",))
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    assert ", 2 of extension modules into their module state," in stdout
    _apply(tree, out)
    assert (tree / "Modules" / "phasemod.c").read_text() == \
        (PATCH_FIXTURES / "modules" / "phasemod.after.c").read_text()
    message = _git(tree, "log", "-1", "--format=%B", "--", "Modules/phasemod.c")
    assert message.startswith("cglobals: move 2 globals of Modules/phasemod.c into its module state\n\n"
                              "The phasemod module used single-phase init: PyInit_phasemod() created\n")
    assert "  in phasemod_exec(): state->PhaseError (a new local: state = get_phasemod_state(m))\n" in message
    after = (tree / "Modules" / "phasemod.c").read_text()
    assert after.index("typedef struct {") > after.rindex("#endif", 0, after.index("typedef struct {")) \
        > after.index("windows_only")       # not in one branch of an #ifdef, nor before a platform's function


_SINGLE_PHASE = """
#define PyMODINIT_FUNC PyObject *
static PyObject *error;
static struct PyModuleDef mod = {{ 0, "mod", 0, -1 }};
{before}
PyMODINIT_FUNC
PyInit_mod(void)
{{
    PyObject *m;
    m = PyModule_Create(&mod);
    if (m == NULL)
        return NULL;
    {body}
    return m;
}}
"""


@pytest.mark.parametrize(("before", "body", "reason"), [
    ("", "error = PyErr_NewException(\"mod.error\", NULL, NULL);", None),
    ("", "PyState_AddModule(m, &mod);", "the file calls PyState_AddModule()"),
    ("", "if (error == NULL) return error;", "PyInit_mod() returns error"),
    ("", "Py_INCREF(m);", "Py_INCREF(m) takes a reference"),
    ("", "if (error) Py_DECREF(m);", "Py_DECREF(m) is not a statement of its own"),
    ("", "m = PyImport_ImportModule(\"other\");", "m is assigned again"),
    ("#define CHECK(x) if (!(x)) return NULL;\nstatic int f(void) { CHECK(error); return 0; }", "CHECK(error);",
     "the macro CHECK returns NULL and is used outside PyInit_mod() too"),
    ("#define CHECK(x) if (!(x)) return x;", "CHECK(error);", "the macro CHECK returns what exec cannot"),
    ("static int mod_exec;", "", None),                  # mod_exec is taken: mod_module_exec
])
def test_single_phase_init_is_rewritten_only_when_exec_can_do_what_it_did(before, body, reason):
    text = _SINGLE_PHASE.format(before=before, body=body)
    code = code_tokens(tokenize(text))
    rewrite = rewrite_init(text, code, functions(code))
    if reason is not None:
        assert isinstance(rewrite, str) and reason in rewrite
        return
    assert not isinstance(rewrite, str)
    edited = apply_edits(text, rewrite.edits)
    exec_name = "mod_module_exec" if "mod_exec;" in before else "mod_exec"
    assert rewrite.exec_name == exec_name
    assert f"static int\n{exec_name}(PyObject *m)\n{{\n    {body}".rstrip() in edited
    assert "PyModule_Create" not in edited and "return 0;\n}" in edited
    assert "PyMODINIT_FUNC\nPyInit_mod(void)\n{\n    return PyModuleDef_Init(&mod);\n}\n" in edited
    module = read_module(code_tokens(tokenize(edited)))
    assert not isinstance(module, str) and module.new_state and module.exec_functions == (exec_name,)


def test_lines_keep_their_place_through_the_init_rewrite():
    text = "a\nb\nc\nd\n"
    edits = (Edit(start=2, end=2, text="x\ny\n"), Edit(start=4, end=6, text=""))   # 2 lines before b; c gone
    moved = line_map(text, edits)
    assert [moved(line) for line in (1, 2, 3, 4)] == [1, 4, None, 5]
    assert apply_edits(text, edits).splitlines()[moved(4) - 1] == "d"


def test_a_single_phase_module_stays_whole_when_a_global_stays_or_its_init_writes_process_wide_state(tmp_path):
    tree = _patch_tree(tmp_path / "tree", ("blockedmod", "lockmod"))
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    assert "of extension modules" not in stdout
    readme = (out / "README.md").read_text()
    single = "CG301 single-phase-module: single-phase init without module state (m_size is not sizeof a state struct)"
    blocked = f"{single}; it becomes multi-phase only when all its interpreter globals move, and seen stays " \
              "(CG302 no-path-to-module-state: on_event())"
    assert f"- Modules/blockedmod.c:10 `BlockedError`: {blocked}\n" in readme
    assert f"- Modules/blockedmod.c:11 `seen`: {blocked}\n" in readme
    assert f"- Modules/lockmod.c:11 `LockError`: {single}; its init writes lockmod_lock (in PyInit_lockmod()), " \
           "which stays process-wide: each interpreter's exec would repoint it\n" in readme


def test_continuation_lines_stay_aligned_with_their_parenthesis():
    text = ("    error = PyErr_NewException(\"m.error\",\n"
            "                               NULL, NULL);\n"
            "    call(error,\n"
            "         other);\n")
    code = code_tokens(tokenize(text))
    edits = [Edit(start=t.start, end=t.end, text="state->error") for t in code if t.text == "error"]
    assert apply_edits(text, edits + realigned(text, code, edits)) == (
        "    state->error = PyErr_NewException(\"m.error\",\n"
        "                                      NULL, NULL);\n"
        "    call(state->error,\n"
        "         other);\n")        # the edit is after the parenthesis: nothing moves


_WARNED = """
#define PyMODINIT_FUNC PyObject *
static struct PyModuleDef mod = {
    0, "mod", 0, 0,
};

PyMODINIT_FUNC
PyInit_mod(void)
{
    if (PyErr_WarnEx(PyExc_DeprecationWarning, "mod is deprecated", 7)) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&mod);
    if (m == NULL) {
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
    if (PyModule_AddIntConstant(m, "x", 1) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
"""


def test_the_rewrite_keeps_a_warning_in_init_and_turns_the_gil_call_into_a_slot():
    code = code_tokens(tokenize(_WARNED))
    rewrite = rewrite_init(_WARNED, code, functions(code), isolated=True)
    assert not isinstance(rewrite, str)
    assert (rewrite.shared_dict, rewrite.added_slots, rewrite.warnings_kept) == (
        False, ("Py_mod_multiple_interpreters", "Py_mod_gil"), True)
    edited = apply_edits(_WARNED, rewrite.edits)
    assert ("static PyModuleDef_Slot mod_slots[] = {\n    {Py_mod_exec, mod_exec},\n"
            "    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},\n"
            "    {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n    {0, NULL}\n};\n") in edited
    assert ("static int\nmod_exec(PyObject *m)\n{\n    if (PyModule_AddIntConstant(m, \"x\", 1) < 0) {\n"
            "        return -1;\n    }\n    return 0;\n}\n") in edited
    assert ("PyMODINIT_FUNC\nPyInit_mod(void)\n{\n    if (PyErr_WarnEx(PyExc_DeprecationWarning, "
            "\"mod is deprecated\", 7)) {\n        return NULL;\n    }\n\n"
            "    return PyModuleDef_Init(&mod);\n}\n") in edited
    assert "Py_GIL_DISABLED" not in edited and "Py_DECREF" not in edited


def test_modules_picks_the_extension_modules_to_convert_by_import_name(tmp_path):
    tree = _patch_tree(tmp_path / "tree", ("phasemod", "initmod"))
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache", "--modules", "initmod")
    assert (status, err) == (0, "")
    names = sorted(p.name for p in out.glob("*.patch"))
    assert any("Modules-initmod.c" in name for name in names)
    assert not any("phasemod" in name for name in names)
    assert "Modules/phasemod.c" not in (out / "moved.tsv").read_text()
    status, stdout, err = run("patch", str(tree), "-o", str(tmp_path / "other"), "--no-cache",
                              "--modules", "initmod", "nosuch")
    assert status == 2
    assert "--modules: no extension module named nosuch among the Modules/ files with globals (these are: " \
           "initmod, phasemod)" in err
    assert "Traceback" not in err


_EXEC = """
#ifdef OTHER_PLATFORM
static PyThread_type_lock lock;
static int probed = -1;
static long counter;
#endif
static PyObject *error;
{before}
static int
mod_exec(PyObject *m)
{{
    error = PyErr_NewException("mod.error", NULL, NULL);
#ifdef OTHER_PLATFORM
    {body}
#endif
    return 0;
}}
"""


@pytest.mark.parametrize(("before", "body", "refusal"), [
    ("", "lock = PyThread_allocate_lock();", None),
    ("", "if (probed == -1) {\n        probed = probe();\n    }", None),
    ("", "PyObject *error = NULL;\n    error = NULL;", None),       # a local of that name
    ("", "counter += 1;", "store into counter"),                        # not a pointer
    ("", "if (m) lock = PyThread_allocate_lock();", "store into lock"),  # not a statement of exec's own
    ("static void f(void) { lock = NULL; }", "lock = PyThread_allocate_lock();", "store into lock"),  # twice
    ("#ifdef OTHER_PLATFORM\nstatic void os_init(void) { counter++; }\n#else\nstatic void os_init(void) {}\n"
     "#endif", "os_init();", "`counter++;` in os_init() (under #ifdef OTHER_PLATFORM)"),
])
def test_exec_stores_into_a_global_the_analysis_did_not_see_once_or_not_at_all(before, body, refusal):
    text = _EXEC.format(before=before, body=body)
    code = code_tokens(tokenize(text))
    found = unanalyzed_stores(text, code, "mod_exec", frozenset({"error"}), shared_gil=True)
    if refusal is not None:
        assert isinstance(found, str) and refusal in found, found
        return
    assert not isinstance(found, str), found
    edited = apply_edits(text, found.guards)
    if body.startswith("lock"):
        assert found.guarded == ("lock (under `#ifdef OTHER_PLATFORM`)",)
        assert "#ifdef OTHER_PLATFORM\n    if (lock == NULL) {\n        lock = PyThread_allocate_lock();\n    }\n" \
               "#endif\n" in edited
    else:
        assert (found.guarded, edited) == ((), text)
    isolated = unanalyzed_stores(text, code, "mod_exec", frozenset({"error"}), shared_gil=False)
    assert isinstance(isolated, str) == ("error = NULL" not in body)


def test_file_scope_variables_are_read_in_every_branch_and_not_from_prototypes_or_typedefs():
    text = ("#ifdef A\nstatic int a, *b = NULL;\n#else\nstatic char c[4];\n#endif\n"
            "static int f(int p, int q);\ntypedef int t;\nstruct s { int member; } d;\n"
            "static int g(void) { int local; return 0; }\n")
    assert set(file_scope_variables(code_tokens(tokenize(text)))) == {"a", "b", "c", "d"}


def _tidied(text: str, removed: list[str]) -> tuple[str, dict[tuple[int, int], tuple[str, ...]]]:
    edits = []
    for line in removed:
        start = text.index(line + "\n")
        edits.append(Edit(start=start, end=start + len(line) + 1, text=""))
    tidied = tidy_removals(text, edits)
    return apply_edits(text, [*edits, *tidied.edits]), tidied.comments


def test_a_removed_declaration_takes_its_comment_its_empty_ifdef_and_the_extra_blank_lines_along():
    text = ("int a;\n\n/* The error type\n   of the module. */\nstatic PyObject *error;\nstatic PyObject *other;\n\n"
            "#ifdef X\n/* probed once */\nstatic int works = -1;\n#endif\n\n\nint b;\n")
    after, comments = _tidied(text, ["static PyObject *error;", "static PyObject *other;",
                                     "static int works = -1;"])
    assert after == "int a;\n\n\nint b;\n"      # the longest run of blank lines there was two
    assert comments == {(5, 6): ("/* The error type", "   of the module. */"), (10, 10): ("/* probed once */",)}


@pytest.mark.parametrize(("text", "removed"), [
    ("/* heads both */\nstatic int gone;\nstatic int stays;\n", ["static int gone;"]),
    ("/*[clinic end generated code: output=x]*/\nstatic int gone;\n", ["static int gone;"]),
    ("f(); /* a trailing comment */\nstatic int gone;\n", ["static int gone;"]),
    ("#ifdef X\nstatic int gone;\n#else\nstatic long gone;\n#endif\n", ["static int gone;"]),
])
def test_a_comment_or_conditional_that_still_heads_something_stays(text, removed):
    after, comments = _tidied(text, removed)
    assert comments == {} and after == text.replace(removed[0] + "\n", "", 1)


def test_a_macro_naming_a_moved_global_is_given_the_state_and_a_stolen_reference_is_kept(tmp_path):
    tree = _patch_tree(tmp_path / "tree", ("macromod",))
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--no-cache")
    assert (status, err) == (0, "")
    _apply(tree, out)
    after = (tree / "Modules" / "macromod.c").read_text()
    assert after == (PATCH_FIXTURES / "modules" / "macromod.after.c").read_text()
    assert "#define Item_Check(state, v) Py_IS_TYPE(v, (state)->Item_Type)\n" in after
    assert "if (!Item_Check(get_macromod_state(module), arg)) {" in after
    # PyModule_AddObject() takes the type's reference: an incref before it keeps one the state owns
    assert "    Py_INCREF(state->Item_Type);\n    if (PyModule_AddObject(m, \"Item\", state->Item_Type) < 0) {\n" \
           "        Py_DECREF(state->Item_Type);\n" in after
    assert "    Py_CLEAR(state->ErrorObject);\n    Py_CLEAR(state->Item_Type);\n" in after
    message = _git(tree, "log", "-1", "--format=%B", "--", "Modules/macromod.c")
    assert "  owns its object: PyModule_AddObject() takes the new reference stored in it, which left the static " \
           "a borrowed one, so an incref before that call keeps one for the state: visited in m_traverse, " \
           "cleared in m_clear\n" in message


@pytest.mark.parametrize(("macro", "use", "refusal"), [
    ("#define CHECK(v) ((v) == error)", "CHECK(arg)", None),
    ("#define CHECK() (error != NULL)", "CHECK()", None),
    ("#define ERROR error", "ERROR", "object-like macro ERROR"),
    ("#define CHECK(v) ((v) == error)\n#define TWICE(v) CHECK(v)", "TWICE(arg)", "used in another macro"),
    ("#define CHECK(v) ((v) == error)", "CHECK(other)", "used in g() (line 9), which has no way to the state"),
])
def test_state_macros_pass_the_state_their_callers_reach(macro, use, refusal):
    text = (f"static PyObject *error;\n{macro}\nstatic int f(PyObject *module, PyObject *arg)\n{{\n"
            f"    return {use};\n}}\nstatic int g(PyObject *other)\n{{\n    return 0;\n}}\n")
    if "other)" in use:
        text = text.replace("return 0;", f"return {use};")
    code = code_tokens(tokenize(text))
    reached = {"error": {"f": "get_state(module)->error"}}
    if refusal is not None:
        with pytest.raises(EditError, match=re.escape(refusal)):
            state_macros(code, {"error": "error"}, reached)
        return
    macros = state_macros(code, {"error": "error"}, reached)
    edited = apply_edits(text, macros.edits)
    assert macros.users == {"error": frozenset({"f"})} and macros.macros == {"CHECK"}
    if "()" in use:
        assert "#define CHECK(state) ((state)->error != NULL)" in edited and "CHECK(get_state(module))" in edited
    else:
        assert "#define CHECK(state, v) ((v) == (state)->error)" in edited
        assert "return CHECK(get_state(module), arg);" in edited


def test_the_per_interpreter_gil_slot_goes_after_exec_unless_the_limited_api_predates_it():
    text = ("static PyModuleDef_Slot mod_slots[] = {\n    {Py_mod_exec, mod_exec},\n"
            "    {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n    {0, NULL},\n};\n")
    code = code_tokens(tokenize(text))
    assert not declares_own_gil(code, "mod_slots")
    edited = apply_edits(text, [own_gil_slot_edit(text, code, "mod_slots")])
    assert "    {Py_mod_exec, mod_exec},\n    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},\n" \
           "    {Py_mod_gil" in edited
    assert declares_own_gil(code_tokens(tokenize(edited)), "mod_slots")
    other = text.replace("{Py_mod_gil, Py_MOD_GIL_NOT_USED}",
                         "{Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED}")
    with pytest.raises(EditError, match="says Py_mod_multiple_interpreters already"):
        own_gil_slot_edit(other, code_tokens(tokenize(other)), "mod_slots")
    assert own_gil_expressible(text) and own_gil_expressible("#define Py_LIMITED_API 0x030d0000\n")
    assert not own_gil_expressible("#ifndef Py_GIL_DISABLED\n#  define Py_LIMITED_API 0x03050000\n#endif\n")


@pytest.mark.parametrize(("releases", "expected"), [
    ("static void api_free(API *api)\n{\n    Py_DECREF(api->Type);\n    PyMem_Free(api);\n}\n", "api_free"),
    ("", None),                                                  # nothing releases it: left as it is
    ("static void a(API *p)\n{\n    Py_DECREF(p->Type);\n}\nstatic void b(API *p)\n{\n    Py_XDECREF(p->Type);\n}\n",
     None),                                                      # two releases: which one goes is not clear
])
def test_a_type_a_c_struct_holds_is_borrowed_there_when_one_statement_releases_it(releases, expected):
    text = (f"{releases}static API *\napi_new(void)\n{{\n    API *api = PyMem_Malloc(sizeof(API));\n"
            "    api->Type = (PyTypeObject *)Py_NewRef(&Sock_Type);\n    return api;\n}\n")
    code = code_tokens(tokenize(text))
    index = next(i for i, t in enumerate(code) if t.text == "Sock_Type")
    found = _struct_reference(code, index, "Sock_Type")
    assert (found[1] if found else None) == expected
    if found:
        assert found[0] == "Type" and code[found[2][0]].text == "Py_DECREF"


@pytest.mark.parametrize(("body", "first"), [
    ("    x = 1;\n#ifdef A\n    y = f();\n#endif\n", "y"),     # past the #if line, not onto it
    ("    x = 1; y = f();\n", None),                           # shares its line with another statement
    ("    if (x) {\n    }\n    else y = f();\n", None),         # an else branch
    ("    if (PyModule_AddObject(m, \"y\", y) < 0) {\n    }\n", "if"),
])
def test_a_statement_on_a_line_of_its_own_is_found_from_any_of_its_tokens(body, first):
    code = code_tokens(tokenize(f"static int f(void)\n{{\n{body}    return 0;\n}}\n"))
    index = max(i for i, t in enumerate(code) if t.text == "y" and t.directive is None)
    start = own_line_statement(code, index)
    assert (code[start].text if start is not None else None) == first
