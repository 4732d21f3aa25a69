"""Racing plain stores guarded to store only a changed value; anything else
left with the reason."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from analyzer.config import RacingWrite
from analyzer.patch.edits import EditError, apply_edits, tokenize
from analyzer.patch.guards import guard_edit
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


def _write(line: int, function: str = "ready") -> RacingWrite:
    return RacingWrite(file="Objects/t.c", line=line, function=function, target="PyLong_Type.tp_flags", count=3)


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
    guard = guard_edit(SOURCE, tokens, _write(line))
    edited = apply_edits(SOURCE, [guard.edit])
    assert edited.splitlines(keepends=True)[line - 1] == expected
    assert edited.replace(expected, SOURCE.splitlines(keepends=True)[line - 1]) == SOURCE


@pytest.mark.parametrize("line, function, reason", [
    (7, "ready", "is not a plain expression statement"),
    (8, "ready", "calls, increments, assigns more"),
    (9, "ready", "is not a plain store"),
    (10, "ready", "is not a plain store"),
    (11, "ready", "is not a plain store"),
    (4, "other", r"no function other\(\) around line 4"),
])
def test_anything_else_is_left_with_the_reason(line, function, reason):
    with pytest.raises(EditError, match=reason):
        guard_edit(SOURCE, tokenize(SOURCE), _write(line, function))


def _races_json(path: Path, *, function: str, line: int, name: str, count: int) -> Path:
    """A `cglobals races --format json` document: one race on Objects/cache.c's
    `name`, written at `line` in `function`, read elsewhere."""
    frame = {"function": function, "file": "Objects/cache.c", "line": line, "object": "python"}
    path.write_text(json.dumps({"races": [{"count": count, "member": None, "global": {
        "file": "Objects/cache.c", "func": None, "name": name, "class": "interpreter"},
        "accesses": [{"kind": "write", "size": 4, "frames": [frame]}, {"kind": "read", "size": 4, "frames": []}]}]}))
    return path


def test_patch_takes_the_races_of_cglobals_races_and_rejects_other_files(tmp_path):
    tree = _patch_tree(tmp_path / "tree")
    races = _races_json(tmp_path / "races.json", function="fill_table", line=36, name="table", count=2)
    status, out, err = run("patch", str(tree), "-o", str(tmp_path / "series"), "--races", str(races), "--no-cache")
    assert (status, err) == (0, "") and "0 racing writes guarded" in out
    assert ("| Objects/cache.c:36 | fill_table() | table | 2 | no: its file also has moves or infrastructure edits"
            in (tmp_path / "series" / "README.md").read_text())
    races.write_text("[1, 2]")
    status, _, err = run("patch", str(tree), "-o", str(tmp_path / "series"), "--races", str(races), "--no-cache")
    assert status == 2 and "races.json:0: not a `cglobals races --format json` document" in err


def test_guards_alone_make_a_series_without_the_state_header(tmp_path):
    tree = _patch_tree(tmp_path / "tree")
    races = _races_json(tmp_path / "races.json", function="set_threshold", line=49, name="threshold", count=1)
    out = tmp_path / "series"
    status, stdout, err = run("patch", str(tree), "-o", str(out), "--races", str(races), "--only", "Objects/none.c",
                              "--no-cache")
    assert (status, err) == (0, "") and "1 patches" in stdout and "1 racing writes guarded" in stdout
    patch = next(out.glob("0001-*.patch"))
    assert "pycore_cglobals.h" not in patch.read_text()
    assert "+    if ((threshold) != (value)) { threshold = value; }" in patch.read_text()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pristine"], ["am", "-q", str(patch)]):
        subprocess.run(git + argv, cwd=tree, check=True, capture_output=True)
