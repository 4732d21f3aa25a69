"""The scan cache's fingerprint: what the cached unit results depend on
besides the tree's own files (which the cache hashes itself).

It is cut at package boundaries, not kept as a list of modules: the front
end, the CPython knowledge, the scan itself (unit discovery, the cache's
format), the stand-in headers and the records.  The stages after the scan
(classify, gate, patch, races, report, the CLI) are not part of it, so an
edit there keeps every cached scan; tests/unit/test_fingerprint.py checks
that what the scan imports stays inside these packages."""
from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from ..model import Tree

SCAN_INPUTS = ("frontend", "cpython", "scan", "stubs", "model.py", "codes.py")
"""What a scan's result depends on: packages and modules of the analyzer."""
PACKAGE = Path(str(resources.files("analyzer")))


def fingerprint(tree: Tree, package: Path = PACKAGE) -> str:
    """Identifies the scan's code, stand-ins and profile, and which
    pyconfig.h applies: a change to any of them invalidates cached results."""
    digest = hashlib.sha256()
    for path in scan_inputs(package):
        digest.update(path.relative_to(package).as_posix().encode() + path.read_bytes())
    digest.update(str(tree.configured).encode())
    return digest.hexdigest()[:16]


def scan_inputs(package: Path = PACKAGE) -> list[Path]:
    """The files of SCAN_INPUTS (Python modules, and the stand-in headers), sorted."""
    files = []
    for name in SCAN_INPUTS:
        entry = package / name
        if entry.is_dir():
            files += [path for path in entry.rglob("*") if path.suffix in (".py", ".h") and path.is_file()]
        else:
            files.append(entry)
    return sorted(files)
