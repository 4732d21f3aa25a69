"""The committed series are what `cglobals patch` writes for the pristine
trees (3.13.5's with the TSan races it was given), and they apply with git
am.  (Building and testing the patched trees is ci/verify-patches.)"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import tree_path
from tests.unit.test_cli import run

pytestmark = pytest.mark.realtree
SERIES = Path(__file__).resolve().parents[2] / "cpython-patches"
RACES_INPUT = "races-input.json"      # 3.13.5: the `cglobals races` JSON the guards come from


@pytest.mark.parametrize("version", ["3.11.2", "3.13.5"])
def test_committed_series_is_regenerated_byte_for_byte(tmp_path, scan_cache, version):
    committed = SERIES / version
    out = tmp_path / "series"
    races = ["--races", str(committed / RACES_INPUT)] if (committed / RACES_INPUT).is_file() else []
    status, _, err = run("patch", str(tree_path(version)), "-o", str(out), "--cache-dir", str(scan_cache), *races)
    assert (status, err) == (0, "")
    records = {"VERIFICATION.md", "FULL-SUITE.md", "TSAN.md", "REFLEAKS.md", RACES_INPUT}   # by ci scripts, by hand
    written = sorted(p.name for p in committed.iterdir() if p.name not in records)
    assert sorted(p.name for p in out.iterdir()) == written
    for path in out.iterdir():
        assert path.read_bytes() == (committed / path.name).read_bytes(), path.name


@pytest.mark.parametrize("version", ["3.11.2", "3.13.5"])
def test_committed_series_applies_with_git_am(tmp_path, version):
    committed = SERIES / version
    tree = tmp_path / f"Python-{version}"
    shutil.copytree(tree_path(version), tree, symlinks=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "pristine"]):
        subprocess.run(git + argv, cwd=tree, check=True, capture_output=True)
    patches = [committed / name for name in (committed / "series").read_text().split()]
    assert patches
    subprocess.run(git + ["am", "-q", *map(str, patches)], cwd=tree, check=True, capture_output=True)
    for line in (committed / "moved.tsv").read_text().splitlines()[1:]:
        file, _, name, _, reference = line.split("\t")
        text = (tree / file).read_text()
        assert reference in text
        assert not re.search(rf"\bstatic\b[^;{{}}()]*\b{name}\b[^;{{}}()]*;", text), f"{file}: {name} still declared"
