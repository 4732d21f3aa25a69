"""Real pinned CPython trees, fetched and cached by `cglobals fetch`.

.ci/run fetches them and sets CGLOBALS_TREES; without it, a local run skips
this tier with the reason (under CI=true a missing tree is an error)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

VERSIONS = ("3.11.2", "3.13.5")


def tree_path(version: str) -> Path:
    root = os.environ.get("CGLOBALS_TREES")
    path = Path(root) / f"Python-{version}" if root else None
    if path is None or not (path / "Include" / "patchlevel.h").is_file():
        reason = (f"no CPython {version} tree: run `cglobals fetch {version} DIR` and set "
                  "CGLOBALS_TREES=DIR (.ci/run does both)")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def built_path(name: str) -> Path:
    """The -O0 build of the tree named `name` (Python-VERSION) that ci/build-tree made."""
    root = os.environ.get("CGLOBALS_BUILT")
    path = Path(root) / name if root else None
    if path is None or not (path / "python").exists():
        reason = f"no built {name}: run ci/build-tree and set CGLOBALS_BUILT (ci/test does both)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session", params=VERSIONS)
def real_tree(request) -> Path:
    return tree_path(request.param)


@pytest.fixture(scope="session")
def scan_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def real_scan(real_tree, scan_cache):
    from analyzer.scan.engine import ScanOptions, scan
    cold = scan(str(real_tree), ScanOptions(jobs=2, cache_dir=str(scan_cache)))
    warm = scan(str(real_tree), ScanOptions(jobs=2, cache_dir=str(scan_cache)))
    return cold, warm
