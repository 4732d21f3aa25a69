"""main(argv): exit statuses, streams and formats."""
from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

from analyzer.cli import main
from tests.conftest import FIXTURES, class_expectations, make_tree


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def clean_tree(tmp_path):
    return make_tree(tmp_path / "tree", [FIXTURES / "macros.c", FIXTURES / "empty.c"])


def test_clean_tree_exits_0_with_text_table(tmp_path):
    status, out, err = run("scan", str(clean_tree(tmp_path)), "--no-cache", "-j", "1")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["LOCATION", "FUNCTION", "NAME", "TYPE", "CLASS", "RULE", "FLAGS"]
    assert lines[1].split() == ["Objects/macros.c:6", "-", "hits", "int", "immutable", "immutable.never-written",
                                "static,via", "DECLARE_COUNTER"]
    assert lines[-1] == "3 globals (0 runtime, 0 interpreter, 3 immutable) in 2 units; 0 units failed"


def test_json_document(tmp_path):
    status, out, _ = run("scan", str(clean_tree(tmp_path)), "--format", "json", "--no-cache")
    document = json.loads(out)
    assert status == 0
    assert {k: document[k] for k in ("tool", "cpython_version", "diagnostics")} == {
        "tool": "cglobals", "cpython_version": "3.99.0", "diagnostics": []}
    assert document["globals"][1] == {
        "file": "Objects/macros.c", "func": None, "name": "module_doc", "line": 7,
        "type": "const char []", "storage": "static", "thread_local": False, "const": True,
        "points_to_const": None,
        "has_initializer": True, "macro": "DOC", "family": "string", "class": "immutable",
        "rule": "immutable.const", "confidence": "high", "evidence": ["declared const: const char []"]}
    assert document["classes"] == {"immutable": 3}


def test_tsv_uses_upstream_columns(tmp_path):
    _, out, _ = run("scan", str(clean_tree(tmp_path)), "--format", "tsv", "--no-cache")
    assert out.splitlines() == ["filename\tfuncname\tname\tkind\tclass\trule",
                                "Objects/macros.c\t-\thits\tstatic\timmutable\timmutable.never-written",
                                "Objects/macros.c\t-\tmodule_doc\tstatic\timmutable\timmutable.const",
                                "Objects/macros.c\t-\tplain\tstatic\timmutable\timmutable.never-written"]


def test_partial_results_exit_3_and_still_report(tmp_path):
    tree = make_tree(tmp_path / "tree", [FIXTURES / "unparsable.c", FIXTURES / "macros.c"])
    status, out, err = run("scan", str(tree), "--format", "tsv", "--no-cache")
    assert status == 3
    assert "Objects/macros.c\t-\thits\tstatic\timmutable\timmutable.never-written" in out
    assert err == ("Objects/unparsable.c:3:0: error: the preprocessed file could not be parsed as C: "
                   "Invalid expression [CG903 parse-error]\n")


def test_not_a_tree_exits_2_with_one_line(tmp_path):
    status, out, err = run("scan", str(tmp_path))
    assert (status, out) == (2, "")
    assert err == (f"cglobals: error: {tmp_path}: not a CPython source tree "
                   "(no Include/patchlevel.h or Makefile.pre.in)\n")


def test_missing_path_exits_2(tmp_path):
    status, _, err = run("scan", str(tmp_path / "nope"))
    assert (status, err) == (2, f"cglobals: error: {tmp_path / 'nope'}: no such directory\n")


def test_usage_error_exits_2():
    status, _, err = run("scan")
    assert status == 2
    assert err.startswith("cglobals: error: the following arguments are required: tree")


def test_output_file(tmp_path):
    target = tmp_path / "out.tsv"
    status, out, _ = run("scan", str(clean_tree(tmp_path)), "--format", "tsv", "--no-cache", "-o", str(target))
    assert (status, out) == (0, "")
    assert target.read_text().startswith("filename\tfuncname\tname\tkind\tclass\trule\n")


def test_fetch_unknown_version_without_source_exits_2(tmp_path):
    status, _, err = run("fetch", "2.7.18", str(tmp_path))
    assert status == 2
    assert "no pinned source for 2.7.18" in err


def test_rules_command_prints_the_checked_in_docs():
    status, out, err = run("rules")
    assert (status, err) == (0, "")
    assert out == (Path(__file__).parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")


def test_report_writes_markdown_html_and_plots(tmp_path):
    tree = make_tree(tmp_path / "tree", [FIXTURES / "classes.c", FIXTURES / "macros.c"])
    status, out, err = run("report", str(tree), "-o", str(tmp_path / "report"), "--no-cache")
    assert (status, err) == (0, "")
    assert out == f"{tmp_path / 'report' / 'index.html'}\n"
    report = tmp_path / "report"
    files = sorted(p.relative_to(report).as_posix() for p in report.rglob("*") if p.is_file())
    assert files == ["index.html", "index.md", "plots/classes-by-directory.png", "plots/top-files.png", "review.html"]
    markdown = (tmp_path / "report" / "index.md").read_text()
    classes = Counter(c for c, _ in class_expectations(FIXTURES / "classes.c").values())
    row = [classes["runtime"], classes["interpreter"], classes["immutable"]]
    assert f"| Objects/classes.c | {row[0]} | {row[1]} | {row[2]} |" in markdown
    row[2] += 3                                                   # macros.c: three immutable globals
    assert f"| Objects | {row[0]} | {row[1]} | {row[2]} | {sum(row)} |" in markdown
    html = (tmp_path / "report" / "index.html").read_text()
    assert html.count('src="data:image/png;base64,') == 2 and "http" not in html   # self-contained
    assert (tmp_path / "report" / "plots" / "top-files.png").read_bytes().startswith(b"\x89PNG")


def test_report_compares_two_releases_oldest_first(tmp_path):
    old = make_tree(tmp_path / "old", [FIXTURES / "macros.c"])
    new = make_tree(tmp_path / "new", [FIXTURES / "macros.c", FIXTURES / "empty.c"])
    (old / "Include" / "patchlevel.h").write_text('#define PY_VERSION "3.9.1"\n')
    status, _, _ = run("report", str(old), "--compare", str(new), "-o", str(tmp_path / "r"), "--no-cache")
    assert status == 0
    markdown = (tmp_path / "r" / "index.md").read_text()
    assert "## From 3.9.1 to 3.99.0" in markdown
    assert "| immutable | 3 | 3 | 0 | 0 | 0 | 3 |" in markdown
    assert (tmp_path / "r" / "plots" / "comparison.png").is_file()
