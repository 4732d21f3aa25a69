"""Racing accesses guarded by the form that fits (a changed value, a changed
text, a flag under a lock, a macro run once, a store in a macro's
definition, the free-threaded branch); anything else left with the reason."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from analyzer.config import RacingAccess
from analyzer.patch.edits import EditError, apply_edits, tokenize
from analyzer.patch.guards import guard_edit, guard_source
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
    (4, "    if ((type->tp_new) != (NULL)) { type->tp_new = NULL; }   // no instances\n"),
    (5, "    if (((type->tp_flags) & (Py_TPFLAGS_READY)) != (Py_TPFLAGS_READY)) "
        "{ type->tp_flags |= Py_TPFLAGS_READY; }\n"),
    (6, "    if ((type->tp_flags) & (Py_TPFLAGS_READYING)) { type->tp_flags &= ~Py_TPFLAGS_READYING; }\n"),
    (13, "    if ((x) != (1)) { x = 1; }\n"),
    (15, "    if ((type->tp_flags) != (type->tp_flags | Py_TPFLAGS_READY)) "
         "{ type->tp_flags = type->tp_flags | Py_TPFLAGS_READY; }\n"),
])
def test_plain_stores_are_guarded(line, expected):
    tokens = tokenize(SOURCE)
    guard = guard_edit(guard_source(SOURCE, tokens), _write(line))
    edited = apply_edits(SOURCE, [guard.edit])
    assert edited.splitlines(keepends=True)[line - 1] == expected
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


LOCKED = "{ static PyMutex cglobals_lock; PyMutex_Lock(&cglobals_lock); %s PyMutex_Unlock(&cglobals_lock); }"

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


def test_a_lock_orders_the_first_stores():
    form, edited = _guarded(SOURCE, _write(4))
    assert form == "store"
    assert _line(edited, 4) == "    " + LOCKED % "if ((type->tp_new) != (NULL)) { type->tp_new = NULL; }" \
        + "   // no instances"


def test_a_string_literal_is_compared_by_its_text():
    form, edited = _guarded(INIT, _write(18, "module_exec"), lock=False)
    assert form == "text"
    assert _line(edited, 18) == ('    if ((desc.name) == NULL || strcmp((desc.name), (MODNAME ".result")) != 0) '
                                 '{ desc.name = MODNAME ".result"; }')


@pytest.mark.parametrize("line, write", [(19, False), (21, True)])
def test_a_flag_is_tested_and_set_under_one_lock(line, write):
    form, edited = _guarded(INIT, _write(line, "module_exec", write=write))
    assert form == "flag"
    lines = edited.splitlines()
    assert lines[18] == "    { static PyMutex cglobals_lock; PyMutex_Lock(&cglobals_lock); if (!minalloc_is_set) {"
    assert lines[21] == "    } PyMutex_Unlock(&cglobals_lock); }"
    with pytest.raises(EditError, match="the flag form needs a lock"):
        _guarded(INIT, _write(line, "module_exec", write=write), lock=False)


def test_a_flag_whose_block_returns_is_not_locked():
    form, edited = _guarded(INIT, _write(32, "module_exec"), lock=False)   # the lock would stay taken
    assert (form, _line(edited, 32)) == ("store", "        if ((minalloc_is_set) != (1)) { minalloc_is_set = 1; }")


def test_a_macro_filling_a_table_with_constants_runs_once():
    form, edited = _guarded(INIT, _write(23, "module_exec"))
    assert form == "once"
    lines = edited.splitlines()
    assert lines[22] == ("    { static PyMutex cglobals_lock; static int cglobals_done; PyMutex_Lock(&cglobals_lock); "
                         "if (!cglobals_done) { FILL(table, {")
    assert lines[24] == "    }) cglobals_done = 1; } PyMutex_Unlock(&cglobals_lock); }"


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
    assert _line(edited, 7) == ("        if ((PyExc_ ## NAME) != (PyExc_ ## TYPE)) "
                                "{ PyExc_ ## NAME = PyExc_ ## TYPE; } \\")
    assert _line(edited, 26) == "    ALIAS(IOError, OSError);"


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
    assert "+    if ((table[1]) != (0)) { table[1] = 0; }" in guard.read_text()
    assert patches.index(guard) > next(i for i, p in enumerate(patches) if "move" in p.name)
    _git_am(tree, patches)
    assert "    if ((table[1]) != (0)) { table[1] = 0; }" in source.read_text()
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
    assert "+    if ((threshold) != (value)) { threshold = value; }" in patch.read_text()
    _git_am(tree, [patch])
