"""cglobals fetch with --source: a local tarball, a checkout; bad input exits 2."""
from __future__ import annotations

import io
import os
import tarfile

import pytest

from analyzer import fetch as fetch_module
from tests.unit.test_cli import run


def tree_tarball(path, version="3.99.0", extra=()):
    with tarfile.open(path, "w:gz") as archive:
        for name, text in ((f"Python-{version}/Include/patchlevel.h", f'#define PY_VERSION "{version}"\n'),
                           (f"Python-{version}/Makefile.pre.in", "OBJECT_OBJS=\n")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for member in extra:
            archive.addfile(member, io.BytesIO(b""))
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


def symlink(name, target):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize("member, why", [
    (symlink("Python-3.99.0/evil", "/etc/passwd"), "Python-3.99.0/evil: a link to the absolute path /etc/passwd"),
    (symlink("Python-3.99.0/Lib/up", "../../.."), "Python-3.99.0/Lib/up: a link to ../../.., outside the tarball"),
    (tarfile.TarInfo("/abs/file"), "/abs/file: a path outside the tarball"),
    (tarfile.TarInfo("Python-3.99.0/../../x"), "Python-3.99.0/../../x: a path outside the tarball"),
])
def test_a_tarball_member_outside_the_tree_is_refused(tmp_path, member, why):
    tarball = tree_tarball(tmp_path / "bad.tar.gz", extra=[member])
    status, out, err = run("fetch", "3.99.0", str(tmp_path / "trees"), "--source", str(tarball))
    assert (status, out, err) == (2, "", f"cglobals: error: {tarball}: refusing to unpack: {why}\n")
    assert not (tmp_path / "trees" / "Python-3.99.0").exists()
    assert not list((tmp_path / "trees").iterdir())


def test_a_link_inside_the_tree_is_fine(tmp_path):
    tarball = tree_tarball(tmp_path / "ok.tar.gz", extra=[symlink("Python-3.99.0/Lib/here", "../Include/patchlevel.h")])
    assert run("fetch", "3.99.0", str(tmp_path / "trees"), "--source", str(tarball))[0] == 0


@pytest.mark.parametrize("version", ["", "latest", "3", "../3.13.5", "3.13.5/x", "3.13.5\x00", "3.13.5 "])
def test_a_bad_version_is_a_one_line_error(tmp_path, version):
    status, out, err = run("fetch", version, str(tmp_path))
    assert (status, out) == (2, "")
    assert err == f"cglobals: error: {version!r} is not a CPython version (e.g. 3.13.5)\n"


def test_an_empty_directory_is_not_a_checkout(tmp_path):
    (tmp_path / "empty").mkdir()
    status, _, err = run("fetch", "3.99.0", str(tmp_path / "trees"), "--source", str(tmp_path / "empty"))
    assert (status, err) == (2, f"cglobals: error: {tmp_path / 'empty'}: not a CPython checkout "
                                "(no Include/patchlevel.h)\n")


def test_a_destination_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    tarball = tree_tarball(tmp_path / "src.tar.gz")
    status, _, err = run("fetch", "3.99.0", str(tmp_path / "file"), "--source", str(tarball))
    assert (status, err) == (2, f"cglobals: error: {tmp_path / 'file'}: not a directory\n")


def test_a_half_made_target_is_not_taken_for_a_tree(tmp_path):
    (tmp_path / "Python-3.99.0" / "Lib").mkdir(parents=True)
    tarball = tree_tarball(tmp_path / "src.tar.gz")
    status, _, err = run("fetch", "3.99.0", str(tmp_path), "--source", str(tarball))
    assert (status, err) == (2, f"cglobals: error: {tmp_path / 'Python-3.99.0'}: exists and is not a CPython "
                                "tree (remove it first)\n")


def test_a_source_that_is_neither_file_nor_directory(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    status, _, err = run("fetch", "3.99.0", str(tmp_path / "trees"), "--source", str(tmp_path / "fifo"))
    assert (status, err) == (2, f"cglobals: error: {tmp_path / 'fifo'}: neither a tarball nor a directory\n")
