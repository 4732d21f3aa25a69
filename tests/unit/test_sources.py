"""The gate's input readers: git's diff whatever the file names, the words
of a file for stale entries, TSan logs, and the tree itself."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from analyzer.sources import (
    TreeError,
    find_tree,
    git_changes,
    member_names,
    read_logs,
    still_written,
    symbolize_objects,
)
from tests.conftest import FIXTURES, make_tree

_GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
NAMES = ("plain.c", "sp ace.c", "tab\tin.c", 'quote".c', "back\\slash.c", "ünïcödé.c", "new\nline.c")


def git(root: Path, *argv: str) -> None:
    subprocess.run([*_GIT, *argv], cwd=root, check=True, capture_output=True)


@pytest.fixture()
def repo(tmp_path):
    root = tmp_path / "a repo: ü"
    (root / "Objects").mkdir(parents=True)
    for name in NAMES:
        (root / "Objects" / name).write_text("one\ntwo\n")
    (root / "Objects" / "gone.c").write_text("x\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def test_changed_lines_whatever_the_file_names(repo):
    """git quotes names with a tab, a quote, a backslash or a newline, and
    ends one with a space with a tab; the lines are the same for all."""
    for name in NAMES:
        (repo / "Objects" / name).write_text("one\nadded\ntwo\n")
    (repo / "Objects" / "gone.c").unlink()
    (repo / "Objects" / "new file ü.c").write_text("a\nb\n")
    change = git_changes(str(repo), "HEAD")
    assert dict(change.lines) == {**{f"Objects/{name}": frozenset({2}) for name in NAMES},
                                  "Objects/new file ü.c": frozenset({1, 2, 3})}
    assert change.deleted == frozenset({"Objects/gone.c"})


def test_content_lines_that_look_like_file_headers_are_content(repo):
    """With --unified=0 a removed line `-- a/x` reads `--- a/x`, an added
    `++ b/y` reads `+++ b/y`: the hunk's counts say they are content."""
    path = repo / "Objects" / "plain.c"
    path.write_text("-- a/Objects/gone.c\none\n")
    git(repo, "commit", "-q", "-am", "odd lines")
    path.write_text("one\n++ b/Objects/other.c\n@@ -1 +1 @@\n")
    change = git_changes(str(repo), "HEAD")
    assert dict(change.lines) == {"Objects/plain.c": frozenset({2, 3})}
    assert change.deleted == frozenset()


@pytest.mark.parametrize(("base", "message"), [
    ("no-such-rev", "'no-such-rev' is not a commit of the checkout at {root}"),
    ("--output=/tmp/x", "'--output=/tmp/x' is not a revision"),
    ("HEAD:Objects", "'HEAD:Objects' is not a commit of the checkout at {root}"),
])
def test_a_revision_that_is_not_a_commit(repo, base, message):
    with pytest.raises(TreeError) as caught:
        git_changes(str(repo), base)
    assert str(caught.value) == message.format(root=repo)


def test_a_tree_that_is_not_a_git_checkout(tmp_path):
    with pytest.raises(TreeError) as caught:
        git_changes(str(tmp_path), "HEAD")
    assert str(caught.value) == f"{tmp_path} is not a git checkout (--diff compares one with a commit)"


def test_still_written_finds_words_outside_comments(tmp_path):
    (tmp_path / "Objects").mkdir()
    (tmp_path / "Objects" / "a.c").write_text("#ifdef MS_WINDOWS\nstatic int win_only;\n#endif\n"
                                              "/* old_name */ int prefix_name_suffix; // also_gone\n")
    identities = {("Objects/a.c", "", name) for name in ("win_only", "old_name", "also_gone", "name", "prefix")}
    identities |= {("Objects/missing.c", "", "win_only"), ("Objects/nul\0.c", "", "x"), ("Objects/a.c", "", "a b")}
    assert still_written(str(tmp_path), identities) == {("Objects/a.c", "", "win_only")}


def test_still_written_costs_one_read_per_file_not_one_search_per_entry():
    """Thousands of stale entries naming a big file: each entry is a set
    lookup (a regex search over the file per entry took minutes)."""
    root = Path(__file__).resolve().parents[2]
    names = [("analyzer/cli.py", "", f"gone_{n}") for n in range(50_000)] + [("analyzer/cli.py", "", "main")]
    start = time.perf_counter()
    assert still_written(str(root), names) == {("analyzer/cli.py", "", "main")}
    assert time.perf_counter() - start < 5


def test_logs_that_cannot_be_read_or_are_not_tsan_logs(tmp_path):
    good = tmp_path / "tsan.1"
    good.write_text("==================\nWARNING: ThreadSanitizer: data race (pid=1)\n")
    garbage = tmp_path / "tsan.2"
    garbage.write_bytes(os.urandom(64).replace(b"T", b"t"))
    empty = tmp_path / "tsan.3"
    empty.write_text("")
    texts, unreadable = read_logs([str(good), str(garbage), str(empty), str(tmp_path), str(tmp_path / "nope")])
    assert [path for path, _ in texts] == [str(good)]
    assert unreadable == ((str(garbage), "not a ThreadSanitizer log (no report in it)"),
                          (str(empty), "not a ThreadSanitizer log (no report in it)"),
                          (str(tmp_path), "Is a directory"), (str(tmp_path / "nope"), "No such file or directory"))


def test_objects_stay_unnamed_without_binutils_or_gdb(tmp_path, monkeypatch):
    (tmp_path / "python").write_bytes(b"\x7fELF")
    monkeypatch.setenv("PATH", str(tmp_path / "no tools"))
    assert symbolize_objects(str(tmp_path), {"python": (frozenset({16}), frozenset({32}))}) == ({}, {})
    assert member_names(str(tmp_path), {("python", "_PyRuntime"): frozenset({8})}) == {}


def test_find_tree_names_what_is_missing_or_unreadable(tmp_path):
    tree = make_tree(tmp_path / "tree", [FIXTURES / "empty.c"])
    (tree / "Makefile.pre.in").unlink()
    with pytest.raises(TreeError, match=r": not a CPython source tree \(no Makefile.pre.in\)$"):
        find_tree(str(tree))
    (tree / "Makefile.pre.in").write_text("")
    patchlevel = tree / "Include" / "patchlevel.h"
    patchlevel.unlink()
    patchlevel.symlink_to("/proc/self/mem")      # a file whose read fails, even for root
    with pytest.raises(TreeError) as caught:
        find_tree(str(tree))
    assert str(caught.value) == f"{patchlevel}: cannot read it: Input/output error"
