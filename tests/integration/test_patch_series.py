"""The committed 3.11.2 series is what `cglobals patch` writes for the
pristine tree, and it applies with git am.  (Building and testing the patched
tree is ci/verify-patches.)"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import tree_path
from tests.unit.test_cli import run

pytestmark = pytest.mark.realtree
COMMITTED = Path(__file__).resolve().parents[2] / "cpython-patches" / "3.11.2"


def test_committed_series_is_regenerated_byte_for_byte(tmp_path, scan_cache):
    out = tmp_path / "series"
    status, _, err = run("patch", str(tree_path("3.11.2")), "-o", str(out), "--cache-dir", str(scan_cache))
    assert (status, err) == (0, "")
    records = {"VERIFICATION.md", "FULL-SUITE.md"}          # written by ci/verify-patches and by hand
    written = sorted(p.name for p in COMMITTED.iterdir() if p.name not in records)
    assert sorted(p.name for p in out.iterdir()) == written
    for path in out.iterdir():
        assert path.read_bytes() == (COMMITTED / path.name).read_bytes(), path.name


def test_committed_series_applies_with_git_am(tmp_path):
    tree = tmp_path / "Python-3.11.2"
    shutil.copytree(tree_path("3.11.2"), tree, symlinks=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pristine"]):
        subprocess.run(git + argv, cwd=tree, check=True, capture_output=True)
    patches = [COMMITTED / name for name in (COMMITTED / "series").read_text().split()]
    assert patches
    subprocess.run(git + ["am", "-q", *map(str, patches)], cwd=tree, check=True, capture_output=True)
    for line in (COMMITTED / "moved.tsv").read_text().splitlines()[1:]:
        file, _, name, _, reference = line.split("\t")
        text = (tree / file).read_text()
        assert reference in text and f" *{name};" not in text
