"""The tree's readers: units and their flags from a setup.py-era tree's build
files, and the gate's inputs: git's diff whatever the file names, the words
of a file for stale entries, TSan logs, and the tree itself."""
from __future__ import annotations

import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from analyzer.frontend.checkout import TreeError, find_tree, take_inventory
from analyzer.gate.inputs import git_changes, still_written
from analyzer.model import UnitKind
from analyzer.races.binaries import member_names, symbolize_objects
from analyzer.races.logs import read_logs
from analyzer.scan.discovery import list_units
from tests.conftest import FIXTURES
from tests.conftest import make_tree as make_fixture_tree

SETUP_PY = '''
import os, sys, sysconfig
from distutils.core import Extension
from distutils.command.build_ext import build_ext

MACOS = sys.platform == 'darwin'

class PyBuildExt(build_ext):
    def build_extensions(self):
        self.srcdir = os.path.abspath(sysconfig.get_config_var('srcdir'))
        shared_math = 'Modules/_math.o'
        self.add(Extension('_json', ['_json.c'], extra_compile_args=['-DPy_BUILD_CORE_MODULE']))
        self.add(Extension('math', ['mathmodule.c'], extra_objects=[shared_math]))
        self.add(Extension('posix', ['posixmodule.c']))
        self.add(Extension('binascii', ['binascii.c'], extra_compile_args=['-DUSE_ZLIB_CRC32']))
        if sysconfig.get_config_var('SIZEOF_SIZE_T') == 8:
            define_macros = [('CONFIG_64', '1'), ('ASM', '1')]
        else:
            define_macros = [('CONFIG_32', '1')]
        self.add(Extension('_decimal', define_macros=define_macros,
                           include_dirs=[os.path.join(self.srcdir, 'Modules', '_decimal', 'libmpdec'),
                                         '/usr/include/elsewhere'],
                           sources=['_decimal/_decimal.c', '_decimal/libmpdec/basearith.c']))
        if MACOS:
            self.add(Extension('_mac', ['_mac.c']))

    def add(self, ext):
        self.extensions.append(ext)
'''


def make_tree(root: Path) -> Path:
    files = {
        "Include/patchlevel.h": '#define PY_VERSION "3.9.2"\n',
        "Makefile.pre.in": """
            PY_CORE_CFLAGS=\t$(PY_STDMODULE_CFLAGS) -DPy_BUILD_CORE
            OBJECT_OBJS=\tObjects/abstract.o
            Modules/_math.o: Modules/_math.c Modules/_math.h
            \t$(CC) -c $(CCSHARED) $(PY_CORE_CFLAGS) -o $@ $<
            """,
        "pyconfig.h.in": "#undef SIZEOF_SIZE_T\n",
        "Modules/Setup": "posix -DPy_BUILD_CORE_BUILTIN -I$(srcdir)/Include/internal posixmodule.c\n",
        "setup.py": SETUP_PY,
        "Objects/abstract.c": "",
        "Modules/posixmodule.c": "",
        "Modules/_json.c": "",
        "Modules/mathmodule.c": "",
        "Modules/_math.c": "",
        "Modules/binascii.c": "",
        "Modules/_mac.c": "",
        "Modules/_decimal/_decimal.c": "",
        "Modules/_decimal/libmpdec/basearith.c":
            '#include "present.h"\n#include "setjmp.h"\n#include "absent.h"\n#include <stdio.h>\n',
        "Modules/_decimal/libmpdec/present.h": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_setup_py_extensions_are_units_with_their_own_flags(tmp_path):
    units = {u.path: u for u in list_units(find_tree(str(make_tree(tmp_path))))}
    assert sorted(units) == ["Modules/_decimal/_decimal.c", "Modules/_decimal/libmpdec/basearith.c",
                             "Modules/_json.c", "Modules/_math.c", "Modules/binascii.c", "Modules/mathmodule.c",
                             "Modules/posixmodule.c",
                             "Objects/abstract.c"]
    assert units["Modules/_json.c"].defines == ("Py_BUILD_CORE_MODULE",)
    assert units["Modules/_json.c"].kind is UnitKind.SHARED_MODULE
    # An object setup.py links in is made by its Makefile rule, whose variables hold its flags.
    assert units["Modules/_math.c"].defines == ("Py_BUILD_CORE",)
    # Setup's line wins over setup.py's Extension for the same module.
    assert units["Modules/posixmodule.c"].kind is UnitKind.BUILTIN_MODULE
    assert set(units["Modules/posixmodule.c"].defines) == {"Py_BUILD_CORE_BUILTIN"}
    # setup.py sets what configure sets in later releases: configure's flags are not added again.
    assert units["Modules/binascii.c"].defines == ("USE_ZLIB_CRC32",)
    assert units["Modules/_decimal/_decimal.c"].defines == ("CONFIG_64=1", "ASM=1")
    assert units["Modules/_decimal/_decimal.c"].include_dirs == ("Modules/_decimal/libmpdec",)


def test_a_quoted_include_of_a_c_library_header_the_tree_lacks_is_a_system_header(tmp_path):
    tree = find_tree(str(make_tree(tmp_path)))
    system = take_inventory(tree, str(tmp_path / "memo")).system_includes
    assert {"setjmp.h", "stdio.h"} <= system
    assert "present.h" not in system
    assert "absent.h" not in system     # a header the tree lacks stays missing (CG902)
    # the memo gives the same answer
    assert take_inventory(tree, str(tmp_path / "memo")).system_includes == system


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
    tree = make_fixture_tree(tmp_path / "tree", [FIXTURES / "empty.c"])
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


def test_directives_are_read_where_only_blanks_precede_them():
    from analyzer.frontend.checkout import _directives
    data = (b'#define F(x) x\n  #  define G(y)\n\t#include <a.h>\nint x; #define NOT(z)\n'
            b'/* #include <b.h> */\n# include "c.h"\n#include "d.c"\n#define H 1\n#define I (1)\n#include<e/f.h>')
    assert _directives(data) == ([b"F", b"G"], [b"a.h", b"e/f.h"], [b"c.h"])
