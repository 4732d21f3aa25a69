"""Racing accesses guarded by the form that fits (a changed value, a changed
text, a flag under a lock, a macro run once, a store in a macro's
definition, the free-threaded branch); anything else left with the reason."""
from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from analyzer.patch.edits import EditError, apply_edits, tokenize
from analyzer.patch.guard_layout import grouped_edits
from analyzer.patch.guards import guard_edit, guard_source
from analyzer.races.accesses import RacingAccess
from tests.unit.test_cli import run
from tests.unit.test_patch import _patch_tree

SOURCE = """\
static void
ready(PyTypeObject *type)
{
    type->tp_new = NULL;   // no instances
    type->tp_flags |= Py_TPFLAGS_READY;
    type->tp_flags &= ~Py_TPFLAGS_READYING;
    if (type->tp_base == NULL) type->tp_base = &PyBaseObject_Type;
    type->tp_dict = PyDict_New();
    count++;
    a = b = 1;
    type->tp_flags ^= 1;
#ifdef X
    x = 1;
#endif
    type->tp_flags = type->tp_flags | Py_TPFLAGS_READY;
}
"""


def _write(line: int, function: str = "ready", *, write: bool = True, file: str = "Objects/t.c") -> RacingAccess:
    return RacingAccess(file=file, line=line, function=function, target="PyLong_Type.tp_flags", count=3,
                        write=write)


@pytest.mark.parametrize("line, expected", [
    (4, "    if (type->tp_new != NULL) {\n        type->tp_new = NULL;   // no instances\n    }\n"),
    (5, "    if ((type->tp_flags & Py_TPFLAGS_READY) != Py_TPFLAGS_READY) {\n"
        "        type->tp_flags |= Py_TPFLAGS_READY;\n    }\n"),
    (6, "    if (type->tp_flags & Py_TPFLAGS_READYING) {\n        type->tp_flags &= ~Py_TPFLAGS_READYING;\n    }\n"),
    (13, "    if (x != 1) {\n        x = 1;\n    }\n"),
    (15, "    if (type->tp_flags != (type->tp_flags | Py_TPFLAGS_READY)) {\n"
         "        type->tp_flags = type->tp_flags | Py_TPFLAGS_READY;\n    }\n"),
])
def test_plain_stores_are_guarded(line, expected):
    tokens = tokenize(SOURCE)
    guard = guard_edit(guard_source(SOURCE, tokens), _write(line))
    edited = apply_edits(SOURCE, [guard.edit])
    assert "".join(edited.splitlines(keepends=True)[line - 1:line + 2]) == expected
    assert edited.replace(expected, SOURCE.splitlines(keepends=True)[line - 1]) == SOURCE


@pytest.mark.parametrize("line, function, reason", [
    (7, "ready", "is not a plain expression statement"),
    (8, "ready", "calls, increments or assigns more"),
    (9, "ready", "is not a plain store"),
    (10, "ready", "is not a plain store"),
    (11, "ready", "is not a plain store"),
    (4, "other", r"no function other\(\) around line 4"),
])
def test_anything_else_is_left_with_the_reason(line, function, reason):
    with pytest.raises(EditError, match=reason):
        guard_edit(guard_source(SOURCE, tokenize(SOURCE)), _write(line, function))


def locked(*lines: str, indent: str = "    ", once: bool = False) -> str:
    """Lines under one lock (run once), at `indent`, as the guards lay them out."""
    inner = [f"        {line}" for line in lines]
    if once:
        inner = ["        if (!init_done) {", *(f"    {line}" for line in inner), "            init_done = 1;",
                 "        }"]
    block = ["{", "    static PyMutex init_lock;", *(["    static int init_done = 0;"] if once else []),
             "    PyMutex_Lock(&init_lock);", *(line[4:] for line in inner), "    PyMutex_Unlock(&init_lock);", "}"]
    return "\n".join(indent + line for line in block)

INIT = """\
#define MODNAME "os"
#define INF Py_HUGE_VAL
#define C(RE, IM) p->real = RE; p->imag = IM; ++p;
#define FILL(NAME, BODY) { Py_complex *p = (Py_complex *)NAME; BODY }
#define ALIAS(NAME, TYPE) \\
    do { \\
        PyExc_ ## NAME = PyExc_ ## TYPE; \\
        if (PyDict_SetItemString(dict, # NAME, PyExc_ ## TYPE)) { \\
            return -1; \\
        } \\
    } while (0)
static Py_complex table[2];
static int minalloc_is_set;

static int
module_exec(PyObject *dict)
{
    desc.name = MODNAME ".result";
    if (!minalloc_is_set) {
        set_minalloc(28);
        minalloc_is_set = 1;
    }
    FILL(table, {
      C(INF, 0.) C(0., INF)
    })
    ALIAS(IOError, OSError);
    for (int i = 0; i < 2; i++) {
        FILL(table, { C(INF, 0.) })
    }
    FILL(table, { C(scale(2.), 0.) })
    if (!minalloc_is_set) {
        minalloc_is_set = 1;
        return 0;
    }
    return 0;
}
"""


def _guarded(source: str, access: RacingAccess, lock: bool = True) -> tuple[str, str]:
    """(the form, the edited source)."""
    guard = guard_edit(guard_source(source, tokenize(source), lock=lock), access)
    return guard.form, apply_edits(source, [guard.edit])


def _line(text: str, number: int) -> str:
    return text.splitlines()[number - 1]


def _lines(text: str, first: int, last: int) -> str:
    return "\n".join(text.splitlines()[first - 1:last])


def test_a_lock_orders_the_first_stores():
    form, edited = _guarded(SOURCE, _write(4))
    assert form == "store"
    assert _lines(edited, 4, 11) == locked("if (type->tp_new != NULL) {",
                                          "    type->tp_new = NULL;   // no instances", "}")


def test_statements_that_follow_each_other_share_one_lock():
    source = guard_source(SOURCE, tokenize(SOURCE), lock=True)
    guards = [guard_edit(source, _write(line)) for line in (5, 4, 6, 13)]
    edited = apply_edits(SOURCE, grouped_edits(guards, SOURCE))
    assert _lines(edited, 4, 17) == locked(
        "if (type->tp_new != NULL) {", "    type->tp_new = NULL;   // no instances", "}",
        "if ((type->tp_flags & Py_TPFLAGS_READY) != Py_TPFLAGS_READY) {", "    type->tp_flags |= Py_TPFLAGS_READY;",
        "}", "if (type->tp_flags & Py_TPFLAGS_READYING) {", "    type->tp_flags &= ~Py_TPFLAGS_READYING;", "}")
    assert edited.count("static PyMutex init_lock;") == 2       # line 13 is apart, behind #ifdef X
    assert "PyMutex_Lock(&init_lock);\n        if (x != 1) {" in edited


def test_a_string_literal_is_compared_by_its_text():
    form, edited = _guarded(INIT, _write(18, "module_exec"), lock=False)
    assert form == "text"
    assert _lines(edited, 18, 20) == ('    if (desc.name == NULL || strcmp(desc.name, MODNAME ".result") != 0) {\n'
                                      '        desc.name = MODNAME ".result";\n    }')


@pytest.mark.parametrize("line, write", [(19, False), (21, True)])
def test_a_flag_is_tested_and_set_under_one_lock(line, write):
    form, edited = _guarded(INIT, _write(line, "module_exec", write=write))
    assert form == "flag"
    assert _lines(edited, 19, 27) == locked("if (!minalloc_is_set) {", "    set_minalloc(28);",
                                           "    minalloc_is_set = 1;", "}")
    with pytest.raises(EditError, match="the flag form needs a lock"):
        _guarded(INIT, _write(line, "module_exec", write=write), lock=False)


def test_a_flag_whose_block_returns_is_not_locked():
    form, edited = _guarded(INIT, _write(32, "module_exec"), lock=False)   # the lock would stay taken
    assert (form, _lines(edited, 32, 34)) == ("store", "        if (minalloc_is_set != 1) {\n"
                                                       "            minalloc_is_set = 1;\n        }")


def test_a_macro_filling_a_table_with_constants_runs_once():
    form, edited = _guarded(INIT, _write(23, "module_exec"))
    assert form == "once"
    assert _lines(edited, 23, 34) == locked("FILL(table, {", "  C(INF, 0.) C(0., INF)", "})", once=True)


def test_with_the_trees_once_flag_what_runs_once_becomes_a_function_called_once():
    source = '#include "Python.h"\n' + INIT
    guard = guard_edit(guard_source(source, tokenize(source), lock=True), _write(24, "module_exec"))
    edited = apply_edits(source, grouped_edits([guard], source, once_flag=True))
    assert '#include "pycore_lock.h"          // _PyOnceFlag_CallOnce()\n' in edited
    assert "static int module_exec_once_init(void *arg);\n\nstatic int\nmodule_exec(PyObject *dict)\n" in edited
    assert ("    static _PyOnceFlag module_exec_once_init_once;\n"
            "    (void)_PyOnceFlag_CallOnce(&module_exec_once_init_once,\n"
            "                               module_exec_once_init, NULL);\n"
            "    ALIAS(IOError, OSError);\n") in edited
    assert edited.endswith("    return 0;\n}\n\n/* Run once per process: the values are the same for every "
                           "interpreter. */\nstatic int\nmodule_exec_once_init(void *Py_UNUSED(arg))\n{\n"
                           "    FILL(table, {\n      C(INF, 0.) C(0., INF)\n    })\n    return 0;\n}\n")


@pytest.mark.parametrize("line, reason", [
    (28, "sits in a loop"),
    (30, r"calls scale\(\)"),
])
def test_a_macro_runs_once_only_outside_loops_and_calls(line, reason):
    with pytest.raises(EditError, match=reason + ", and whose definition has 0 plain stores"):
        _guarded(INIT, _write(line, "module_exec"))


def test_the_store_in_a_macro_that_calls_is_guarded_in_its_definition():
    form, edited = _guarded(INIT, _write(26, "module_exec"), lock=False)
    assert form == "macro store"
    assert _lines(edited, 7, 9) == ("        if ((PyExc_ ## NAME) != (PyExc_ ## TYPE)) { \\\n"
                                    "            PyExc_ ## NAME = PyExc_ ## TYPE; \\\n"
                                    "        } \\")
    assert _line(edited, 28) == "    ALIAS(IOError, OSError);"


HASH = """\
static inline Py_hash_t
get_hash(PyBytesObject *a)
{
#ifdef Py_GIL_DISABLED
    return _Py_atomic_load_ssize_relaxed(&a->ob_shash);
#else
    return a->ob_shash;
#endif
}
"""


def test_an_access_with_a_free_threaded_branch_takes_it():
    form, edited = _guarded(HASH, _write(7, "get_hash", write=False))
    assert form == "free-threaded"
    assert edited == HASH.replace("#ifdef Py_GIL_DISABLED\n", "").split("#else")[0] + "}\n"
    with pytest.raises(EditError, match="reads: the guard goes where it is written"):
        _guarded(HASH, _write(7, "get_hash", write=False, file="Include/cpython/bytesobject.h"))


def _races_json(path: Path, *, function: str, line: int, name: str, count: int) -> Path:
    """A `cglobals races --format json` document: one race on Objects/cache.c's
    `name`, written at `line` in `function`, read elsewhere."""
    frame = {"function": function, "file": "Objects/cache.c", "line": line, "object": "python"}
    path.write_text(json.dumps({"races": [{"count": count, "member": None, "global": {
        "file": "Objects/cache.c", "func": None, "name": name, "class": "interpreter"},
        "accesses": [{"kind": "write", "size": 4, "frames": [frame]}, {"kind": "read", "size": 4, "frames": []}]}]}))
    return path


_GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]


def _git_am(tree: Path, patches: list[Path]) -> None:
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pristine"], ["am", "-q", *map(str, patches)]):
        subprocess.run(_GIT + argv, cwd=tree, check=True, capture_output=True)


def test_guards_go_on_top_of_the_moves_of_their_file_but_not_across_them(tmp_path):
    tree = _patch_tree(tmp_path / "tree")
    races = _races_json(tmp_path / "races.json", function="fill_table", line=33, name="table", count=2)
    status, out, err = run("patch", str(tree), "-o", str(tmp_path / "series"), "--races", str(races), "--no-cache")
    assert (status, err) == (0, "") and "0 racing statements guarded" in out      # threshold moves
    assert ("| Objects/cache.c:33 | fill_table() | writes table | 2 | no: a moved global's edit falls inside "
            "the guarded code |" in (tmp_path / "series" / "README.md").read_text())
    source = tree / "Objects" / "cache.c"
    lines = source.read_text().count("\n")
    source.write_text(source.read_text() + "\nvoid\nreset_table(void)\n{\n    table[1] = 0;\n}\n")
    races = _races_json(tmp_path / "races.json", function="reset_table", line=lines + 5, name="table", count=2)
    status, out, err = run("patch", str(tree), "-o", str(tmp_path / "series"), "--races", str(races), "--no-cache")
    assert (status, err) == (0, "") and "1 racing statements guarded" in out
    patches = sorted((tmp_path / "series").glob("*.patch"))
    guard = next(p for p in patches if "guard-1-racing-access-in-Objects-cache" in p.name)
    assert "+    if (table[1] != 0) {\n+        table[1] = 0;\n+    }\n" in guard.read_text()
    assert patches.index(guard) > next(i for i, p in enumerate(patches) if "move" in p.name)
    _git_am(tree, patches)
    assert "    if (table[1] != 0) {\n        table[1] = 0;\n    }\n" in source.read_text()
    assert "_PyInterpreterState_GET()->cglobals.cache.threshold" in source.read_text()


def test_a_document_not_of_cglobals_races_is_refused(tmp_path):
    tree = _patch_tree(tmp_path / "tree")
    races = tmp_path / "races.json"
    races.write_text("[1, 2]")
    status, _, err = run("patch", str(tree), "-o", str(tmp_path / "series"), "--races", str(races), "--no-cache")
    assert (status, err) == (2, f"cglobals: error: {races}: not a `cglobals races --format json` document "
                                "(the document is not an object)\n")


def test_guards_alone_make_a_series_without_the_state_header(tmp_path):
    tree = _patch_tree(tmp_path / "tree")
    races = _races_json(tmp_path / "races.json", function="set_threshold", line=49, name="threshold", count=1)
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--races", str(races), "--only", "Objects/none.c",
                              "--no-cache")
    assert (status, err) == (0, "") and "1 patches" in stdout and "1 racing statements guarded" in stdout
    patch = next(out.glob("0001-*.patch"))
    assert "pycore_cglobals.h" not in patch.read_text()
    assert "+    if (threshold != value) {\n+        threshold = value;\n+    }\n" in patch.read_text()
    _git_am(tree, [patch])


ATOMIC = """\
#define NEXT_TAG _PyRuntime.types.next_tag
#define MAX_TAG 255

static int
assign_tag(PyTypeObject *type)
{
    if (type->tp_flags & IMMUTABLE) {
        if (NEXT_TAG > MAX_TAG) {
            /* out of tags */
            return 0;
        }
        set_tag(type, NEXT_TAG++);
    }
    count_of(type->tp_name, NEXT_TAG++);
    return 1;
}

static void
lookup(size_t index, int64_t *count)
{
    int64_t here =
            _PyRuntime.types.states[index].count;
    *count = here;
}

static void
clear(size_t index)
{
    int64_t left = _Py_atomic_add_int64(
            &_PyRuntime.types.states[index].count, -1);
}

static int
module_exec(PyObject *module)
{
    PyCAPI_IMPORT;
    return PyCAPI == NULL ? -1 : 0;
}
"""
TYPING = {"atomics": frozenset(f"_Py_atomic_{op}_{t}" for op in ("add", "load", "compare_exchange", "load_uint")
                               for t in ("uint", "int64", "relaxed")),
          "member_types": {"next_tag": frozenset({"unsigned int"}), "count": frozenset({"int64_t"})},
          "public_macros": {"PyCAPI_IMPORT": "PyCAPI = (PyCAPI_t *)PyCapsule_Import(PyCAPI_NAME, 0)"}}


def _atomic(access: RacingAccess, lock: bool = True) -> tuple[str, str]:
    guard = guard_edit(guard_source(ATOMIC, tokenize(ATOMIC), lock=lock, **TYPING), access)
    return guard.form, apply_edits(ATOMIC, [guard.edit])


@pytest.mark.parametrize("line, write", [(8, False), (12, True)])
def test_an_increment_checked_against_its_bound_becomes_one_compare_and_exchange(line, write):
    form, edited = _atomic(_write(line, "assign_tag", write=write))
    assert form == "counter"
    assert _lines(edited, 8, 18) == """\
        unsigned int next_tag = _Py_atomic_load_uint_relaxed(&NEXT_TAG);
        do {
            if (next_tag > MAX_TAG) {
                /* out of tags */
                return 0;
            }
        } while (!_Py_atomic_compare_exchange_uint(&NEXT_TAG,
                                                   &next_tag,
                                                   next_tag + 1));
        set_tag(type, next_tag);
    }"""


def test_an_unchecked_increment_becomes_an_atomic_add():
    form, edited = _atomic(_write(14, "assign_tag"))
    assert (form, _line(edited, 14)) == ("counter", "    count_of(type->tp_name, _Py_atomic_add_uint(&NEXT_TAG, 1));")


def test_a_plain_read_of_what_is_written_atomically_reads_atomically():
    partner = ("_Py_atomic_add_int64", "Objects/t.c", 29)
    form, edited = _atomic(replace(_write(21, "lookup", write=False), atomic_partner=partner))
    assert (form, _line(edited, 22)) == (
        "atomic load", "            _Py_atomic_load_int64(&_PyRuntime.types.states[index].count);")
    with pytest.raises(EditError, match="reads: the guard goes where it is written"):
        _atomic(_write(21, "lookup", write=False))          # no atomic partner: nothing says which atomic


def test_a_c_api_macro_that_stores_an_import_is_expanded_and_the_import_made_outside_the_lock():
    form, edited = _atomic(_write(36, "module_exec"))
    assert form == "macro expanded"
    assert _lines(edited, 36, 44) == """\
    {
        static PyMutex init_lock;
        PyCAPI_t *value = (PyCAPI_t *)PyCapsule_Import(PyCAPI_NAME, 0);
        PyMutex_Lock(&init_lock);
        if (PyCAPI != value) {
            PyCAPI = value;
        }
        PyMutex_Unlock(&init_lock);
    }"""
