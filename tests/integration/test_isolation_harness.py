"""The own-GIL stress and speed scripts (tests/isolation) run on a real 3.13.5
build: ci/tsan-races and the speed measurement depend on them.  Needs the
build ci/build-tree makes (CGLOBALS_BUILT); ci/test makes it."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ISOLATION = Path(__file__).resolve().parents[1] / "isolation"


@pytest.fixture(scope="module")
def python313() -> Path:
    root = os.environ.get("CGLOBALS_BUILT")
    python = Path(root) / "Python-3.13.5" / "python" if root else None
    if python is None or not python.is_file():
        reason = "no built 3.13.5: run ci/build-tree 3.13.5 and set CGLOBALS_BUILT (ci/test does both)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return python


@pytest.mark.parametrize("mode", [[], ["--threads"]])
def test_stress_runs_every_module_in_own_gil_interpreters_and_in_threads(python313, mode):
    proc = subprocess.run([str(python313), str(ISOLATION / "stress.py"), "--interpreters", "2", "--rounds", "1",
                           *mode], capture_output=True, text=True, timeout=600, cwd=python313.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    kind = "threads" if mode else "own-GIL interpreters"
    assert f"stress: 2 {kind}, 1 rounds," in proc.stdout and ", 0 failed" in proc.stdout
    assert "not importable here" not in proc.stdout


def test_speed_prints_the_three_ways_side_by_side(python313):
    proc = subprocess.run([str(python313), str(ISOLATION / "speed.py"), "--interpreters", "2", "--repeat", "1",
                           "--size", "20000"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "speed: K=2, job of 20,000 iterations, best of 1"
    assert [line.split(":")[1].strip() for line in lines[1:]] == ["sequential", "threads", "interpreters"]
    assert lines[1].endswith("speedup 1.00x")
