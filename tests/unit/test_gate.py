"""cglobals baseline / check on the fixture tree: exact on an unchanged tree,
one finding per new mutable global, bad baselines named by line."""
from __future__ import annotations

import json

import pytest

from analyzer.config import ConfigError, load_baseline
from tests.conftest import FIXTURES, make_tree
from tests.unit.test_cli import run


@pytest.fixture()
def tree_and_baseline(tmp_path):
    tree = make_tree(tmp_path / "tree", [FIXTURES / "classes.c", FIXTURES / "macros.c"])
    baseline = tmp_path / "baseline.tsv"
    status, out, err = run("baseline", str(tree), "-o", str(baseline), "--no-cache")
    assert (status, out, err) == (0, "", "")
    return tree, baseline


def check(tree, baseline, *options):
    return run("check", str(tree), "--baseline", str(baseline), "--no-cache", *options)


def test_unchanged_tree_passes(tree_and_baseline):
    tree, baseline = tree_and_baseline
    status, out, err = check(tree, baseline)
    assert (status, err) == (0, "")
    entries = load_baseline(str(baseline))
    assert out == f"0 new mutable globals, {len(entries)} covered by the baseline, 0 stale baseline entries\n"
    assert {e.state_class.value for e in entries} == {"runtime", "interpreter"}


def test_each_new_mutable_global_is_one_finding(tree_and_baseline):
    tree, baseline = tree_and_baseline
    source = tree / "Objects" / "macros.c"
    source.write_text(source.read_text() + "static int added_counter;\nvoid bump_added(void) { added_counter++; }\n"
                      "static const int added_table[] = {1};\n")
    status, out, _ = check(tree, baseline, "--format", "json")
    document = json.loads(out)
    assert status == 1
    assert [(f["file"], f["line"], f["name"], f["class"]) for f in document["new"]] == [
        ("Objects/macros.c", 9, "added_counter", "interpreter")]
    status, out, _ = check(tree, baseline, "--strict", "--format", "json")
    assert {f["name"] for f in json.loads(out)["new"]} >= {"added_counter", "added_table", "module_doc"}


def test_text_finding_names_place_class_rule_and_fix(tree_and_baseline):
    tree, baseline = tree_and_baseline
    source = tree / "Objects" / "macros.c"
    source.write_text(source.read_text() + "static int added_counter;\nvoid bump_added(void) { added_counter++; }\n")
    status, out, _ = check(tree, baseline)
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == ("Objects/macros.c:9:0: error: a mutable global that the baseline does not list: "
                        "added_counter is interpreter (interpreter.mutable) [CG101 new-mutable-global]")
    assert lines[-2].startswith("    fix: move it into interpreter state")


def test_line_moves_change_nothing(tree_and_baseline):
    tree, baseline = tree_and_baseline
    source = tree / "Objects" / "classes.c"
    source.write_text("\n\n/* moved */\n" + source.read_text())
    assert check(tree, baseline)[0] == 0


def test_deleted_global_is_stale(tree_and_baseline):
    tree, baseline = tree_and_baseline
    source = tree / "Objects" / "classes.c"
    text = source.read_text()
    declaration = next(line for line in text.splitlines() if line.startswith("static int under_ifdef_on;"))
    source.write_text(text.replace(declaration, "").replace("void feature(void) { under_ifdef_on = 1; }", ""))
    status, out, _ = check(tree, baseline)
    assert status == 0
    assert "stale-baseline-entry" in out and "Objects/classes.c - under_ifdef_on" in out
    assert check(tree, baseline, "--fail-stale")[0] == 1


@pytest.mark.parametrize(("text", "line", "message"), [
    ("garbage\n", 1, "expected 'schema_version<TAB>1' first"),
    ("schema_version\t1\nfile\tname\n", 2, "expected the columns"),
    ("schema_version\t1\nfile\tfunc\tname\tclass\treason\nObjects/a.c\t-\tx\tfrozen\t\n", 3, "unknown class"),
    ("schema_version\t1\nfile\tfunc\tname\tclass\treason\nObjects/a.c\t-\tx\n", 3, "expected 5 tab-separated"),
    ("schema_version\t1\nfile\tfunc\tname\tclass\treason\nObjects/a.c\t-\tx \truntime\t\n", 3, "stray whitespace"),
    ("# c\nschema_version\t1\nfile\tfunc\tname\tclass\treason\nA.c\t-\tx\truntime\t\nA.c\t-\tx\truntime\t\n", 5,
     "duplicate entry, first on line 4"),
])
def test_bad_baselines_name_the_line(tmp_path, text, line, message):
    path = tmp_path / "b.tsv"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_baseline(str(path))
    assert caught.value.line == line and message in caught.value.message


def test_bad_baseline_exits_2_with_one_line(tree_and_baseline, tmp_path):
    tree, _ = tree_and_baseline
    bad = tmp_path / "bad.tsv"
    bad.write_text("schema_version\t1\nfile\tfunc\tname\tclass\treason\nx\n")
    status, out, err = check(tree, bad)
    assert (status, out) == (2, "")
    assert err == f"cglobals: error: {bad}:3: expected 5 tab-separated fields, found 1\n"


def test_github_annotations(tree_and_baseline):
    tree, baseline = tree_and_baseline
    source = tree / "Objects" / "macros.c"
    source.write_text(source.read_text() + "static int added_counter;\nvoid bump_added(void) { added_counter++; }\n")
    status, out, _ = check(tree, baseline, "--format", "github")
    assert status == 1
    (line,) = out.splitlines()
    assert line.startswith("::error file=Objects/macros.c,line=9,title=CG101 added_counter is interpreter "
                           "(interpreter.mutable)::a mutable global that the baseline does not list%0A")
