"""cglobals fetch with --source: a local tarball, a checkout; bad input exits 2."""
from __future__ import annotations

import io
import tarfile

from analyzer import fetch as fetch_module
from tests.unit.test_cli import run


def tree_tarball(path, version="3.99.0"):
    with tarfile.open(path, "w:gz") as archive:
        for name, text in ((f"Python-{version}/Include/patchlevel.h", f'#define PY_VERSION "{version}"\n'),
                           (f"Python-{version}/Makefile.pre.in", "OBJECT_OBJS=\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_unpinned_version_from_a_tarball(tmp_path):
    tarball = tree_tarball(tmp_path / "src.tar.gz")
    status, out, err = run("fetch", "3.99.0", str(tmp_path / "trees"), "--source", str(tarball))
    assert (status, out) == (0, f"{tmp_path / 'trees' / 'Python-3.99.0'}\n")
    assert (tmp_path / "trees" / "Python-3.99.0" / "Include" / "patchlevel.h").is_file()
    again = run("fetch", "3.99.0", str(tmp_path / "trees"))
    assert again[0] == 0 and "already present" in again[2]


def test_pinned_version_from_a_tarball_with_the_wrong_checksum(tmp_path):
    tarball = tree_tarball(tmp_path / "src.tar.gz", version="3.13.5")
    status, out, err = run("fetch", "3.13.5", str(tmp_path / "trees"), "--source", str(tarball))
    assert (status, out) == (2, "")
    assert err.startswith(f"cglobals: error: {tarball}: sha256 ")
    assert fetch_module.RELEASES["3.13.5"].sha256 in err
    assert not (tmp_path / "trees" / "Python-3.13.5").exists()


def test_existing_checkout_is_copied_without_git(tmp_path):
    checkout = tmp_path / "cpython"
    (checkout / "Include").mkdir(parents=True)
    (checkout / "Include" / "patchlevel.h").write_text('#define PY_VERSION "3.99.0"\n')
    (checkout / ".git").mkdir()
    status, out, _ = run("fetch", "3.99.0", str(tmp_path / "trees"), "--source", str(checkout))
    assert status == 0
    assert (tmp_path / "trees" / "Python-3.99.0" / "Include" / "patchlevel.h").is_file()
    assert not (tmp_path / "trees" / "Python-3.99.0" / ".git").exists()


def test_a_tarball_that_is_not_a_cpython_tree(tmp_path):
    tarball = tmp_path / "other.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        info = tarfile.TarInfo("something/README")
        archive.addfile(info, io.BytesIO(b""))
    status, _, err = run("fetch", "3.99.0", str(tmp_path / "trees"), "--source", str(tarball))
    assert status == 2
    assert err == f"cglobals: error: {tarball}: not a CPython source tarball\n"


def test_a_file_that_is_not_a_tarball(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tarball")
    status, _, err = run("fetch", "3.99.0", str(tmp_path / "trees"), "--source", str(bogus))
    assert status == 2
    assert err.startswith(f"cglobals: error: {bogus}: cannot unpack: ")
