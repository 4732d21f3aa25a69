"""scan(): options that cannot be used are an OptionError, an unusable tree a
TreeError, both before any unit is analyzed."""
from __future__ import annotations

import pytest

from analyzer.frontend.checkout import TreeError
from analyzer.scan.engine import OptionError, ScanOptions, scan
from tests.conftest import FIXTURES, make_tree


@pytest.fixture()
def tree(tmp_path):
    return make_tree(tmp_path / "tree", [FIXTURES / "macros.c", FIXTURES / "empty.c"])


@pytest.mark.parametrize(("options", "message"), [
    (ScanOptions(only=("Objects/macros.c", "Objects/none.c", "empty.c")),
     "no translation unit of {tree} is Objects/none.c, empty.c (a unit is a tree-relative path of a .c file the "
     "default build compiles)"),
    (ScanOptions(jobs=-1), "-1 worker processes"),
    (ScanOptions(cache_dir="{tree}/Makefile.pre.in"), "{tree}/Makefile.pre.in: not a directory (the cache directory)"),
    (ScanOptions(cache_dir="{tree}/Makefile.pre.in/cache"),
     "{tree}/Makefile.pre.in/cache: cannot write in the cache directory: Not a directory"),
])
def test_options_that_cannot_be_used(tree, options, message):
    if options.cache_dir:
        options = ScanOptions(cache_dir=options.cache_dir.format(tree=tree))
    with pytest.raises(OptionError) as caught:
        scan(str(tree), options)
    assert str(caught.value) == message.format(tree=tree)


def test_only_units_that_exist(tree):
    result = scan(str(tree), ScanOptions(jobs=1, only=("Objects/macros.c",)))
    assert result.units == ("Objects/macros.c",)


def test_build_data_that_cannot_be_read_is_a_broken_tree(tree):
    (tree / "Makefile.pre.in").unlink()
    (tree / "Makefile.pre.in").symlink_to("/proc/self/mem")     # there, but a read fails (EIO), even for root
    with pytest.raises(TreeError) as caught:
        scan(str(tree))
    assert str(caught.value) == f"{tree}/Makefile.pre.in: cannot read it: Input/output error"


def test_a_cache_directory_is_made_when_missing(tree, tmp_path):
    scan(str(tree), ScanOptions(jobs=1, cache_dir=str(tmp_path / "new" / "cache")))
    assert (tmp_path / "new" / "cache").is_dir()
