"""ci/fresh-machine's argument handling and safety logic, without debootstrap, mounts or chroot.

Every run of the script gets a fake `id` that says uid 1000, so that a case that
wrongly passes the argument checks stops at the root check instead of building a
machine."""
from __future__ import annotations

import configparser
import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "ci" / "fresh-machine"


@pytest.fixture
def not_root(tmp_path):
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    fake_id = bin_dir / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")
    fake_id.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def script(env, *argv):
    return subprocess.run(["bash", str(SCRIPT), *argv], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60)


def functions(code, *args, env=None, cwd=None):
    """CODE run by bash with the script's functions sourced (its main is not run)."""
    return subprocess.run(["bash", "-c", f'source "$1"; shift; {code}', "bash", str(SCRIPT), *args],
                          capture_output=True, text=True, env=env, cwd=cwd, stdin=subprocess.DEVNULL, timeout=60)


def test_help(not_root):
    proc = script(not_root, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: ci/fresh-machine")


@pytest.mark.parametrize("argv, message", [
    (["--sources", "deb"], "--sources takes deb822, classic or both, not deb"),
    (["--sources"], "--sources needs a value"),
    (["--logs", ""], "--logs needs a value"),
    (["--bogus"], "unknown argument: --bogus"),
    (["extra"], "unknown argument: extra"),
    (["--rev", "no-such-rev-anywhere"], "no-such-rev-anywhere is not a commit"),
    (["--workdir", "/nonexistent/fresh"], "is not a directory"),
])
def test_usage_errors(not_root, argv, message):
    proc = script(not_root, *argv)
    assert proc.returncode == 2
    assert message in proc.stderr and "usage: ci/fresh-machine" in proc.stderr


def test_not_a_repository(not_root, tmp_path):
    proc = script(not_root, "--repo", str(tmp_path))
    assert proc.returncode == 2 and "is not a commit of the git repository" in proc.stderr


def test_workdir_with_blanks(not_root, tmp_path):
    (tmp_path / "a b").mkdir()
    proc = script(not_root, "--workdir", str(tmp_path / "a b"))
    assert proc.returncode == 2 and "must not contain blanks" in proc.stderr


def test_valid_arguments_still_need_root(not_root, tmp_path):
    proc = script(not_root, "--sources", "classic", "--workdir", str(tmp_path), "--keep")
    assert proc.returncode == 2 and "must run as root" in proc.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "fake-bin"]


def apt_dir(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / "apt" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path / "apt")


def archives(tmp_path, files):
    proc = functions('host_archives "$1"', apt_dir(tmp_path, files))
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


KEYRING = "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"


def test_archives_from_deb822(tmp_path):
    files = {
        "sources.list.d/cglobals-src.sources": "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n"
                                               "Components: main\n",
        "sources.list.d/debian.sources": "Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
                                         "URIs: http://deb.example/debian/\nSuites: bookworm bookworm-updates\n"
                                         f"Components: main\n{KEYRING}\n"
                                         "Types: deb\nURIs: http://deb.example/debian-security\n"
                                         f"Suites: bookworm-security\nComponents: main\n{KEYRING}",
        "sources.list.d/node.sources.disabled": "Types: deb\nURIs: http://node.example\nSuites: bookworm\n",
    }
    assert archives(tmp_path, files) == (0, ["http://deb.example/debian", "http://deb.example/debian-security"], "")


def test_archives_from_classic_lines(tmp_path):
    files = {"sources.list": "# deb http://old.example/debian bookworm main\n"
                             "deb-src http://src.example/debian bookworm main\n"
                             "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://m.example/debian/ bookworm"
                             " main\n"
                             "deb http://s.example/debian-security bookworm-security main  # security\n"}
    assert archives(tmp_path, files) == (0, ["http://m.example/debian", "http://s.example/debian-security"], "")


def test_archives_prefer_bookworm_entries(tmp_path):
    files = {"sources.list.d/a.list": "deb http://node.example/node nodistro main\n",
             "sources.list.d/b.sources": "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\n"
                                         "Enabled: no\n\n"
                                         "Types: deb\nURIs: http://on.example/debian\nSuites: bookworm\n\n"
                                         "Types: deb\nURIs: http://on.example/debian-security\n"
                                         "Suites: bullseye-security\n\n"
                                         "Types: deb\nURIs: http://sec.example/debian-security\n"
                                         "Suites: bookworm-security\n"}
    assert archives(tmp_path, files)[:2] == (0, ["http://on.example/debian", "http://sec.example/debian-security"])


def test_archives_without_a_security_archive(tmp_path):
    status, out, err = archives(tmp_path, {"sources.list": "deb http://m.example/debian bookworm main\n"})
    assert status != 0 and "pass --mirror and --security" in err


@pytest.mark.parametrize("fmt, expected", [
    ("deb822", {"etc/apt/sources.list.d/debian.sources":
                "Types: deb\nURIs: http://m/debian\nSuites: bookworm bookworm-updates\nComponents: main\n"
                f"{KEYRING}\nTypes: deb\nURIs: http://s/debian-security\nSuites: bookworm-security\n"
                f"Components: main\n{KEYRING}"}),
    ("classic", {"etc/apt/sources.list": "deb http://m/debian bookworm main\n"
                                         "deb http://m/debian bookworm-updates main\n"
                                         "deb http://s/debian-security bookworm-security main\n"}),
])
def test_lay_sources(tmp_path, fmt, expected):
    root = tmp_path / "root"
    (root / "etc/apt/sources.list.d").mkdir(parents=True)
    (root / "etc/apt/sources.list").write_text("deb http://debootstrap/debian bookworm main\n")
    (root / "etc/apt/sources.list.d/old.list").write_text("deb http://old bookworm main\n")
    proc = functions('lay_sources "$@"', fmt, str(root), "http://m/debian", "http://s/debian-security")
    assert proc.returncode == 0, proc.stderr
    found = {str(p.relative_to(root)): p.read_text() for p in (root / "etc/apt").rglob("*") if p.is_file()}
    assert found == expected


def mountinfo(tmp_path, mount_points):
    path = tmp_path / "mountinfo"
    path.write_text("".join(f"{30 + i} 1 0:{i} / {mp} rw,relatime - tmpfs tmpfs rw\n"
                            for i, mp in enumerate(mount_points)))
    return str(path)


def under(box, info):
    return functions('MOUNTINFO=$2; mounts_under "$1"', box, info)


def test_mounts_under(tmp_path):
    info = mountinfo(tmp_path, ["/", "/var/tmp", "/var/tmp/boxy", "/var/tmp/box", "/var/tmp/box/root/proc",
                                r"/var/tmp/box/root/mnt/a\040b", "/var/tmp/box2/root"])
    proc = under("/var/tmp/box/", info)
    assert proc.stdout.splitlines() == ["/var/tmp/box", "/var/tmp/box/root/proc", "/var/tmp/box/root/mnt/a b"]
    assert under("/var/tmp/elsewhere", info).stdout == ""


def marked_box(tmp_path):
    box = tmp_path / "box"
    (box / "root/dev").mkdir(parents=True)
    (box / ".cglobals-fresh-machine").touch()
    return box


def remove(box, info, cwd=None):
    return functions('MOUNTINFO=$2; safe_remove "$1"', str(box), info, cwd=cwd)


def test_safe_remove(tmp_path):
    box = marked_box(tmp_path)
    proc = remove(box, mountinfo(tmp_path, ["/", f"{tmp_path}/boxes"]))
    assert proc.returncode == 0 and not box.exists()


def test_safe_remove_refuses_a_box_with_a_mount_under_it(tmp_path):
    box = marked_box(tmp_path)
    proc = remove(box, mountinfo(tmp_path, ["/", f"{box}/root/proc", f"{box}/root/dev"]))
    assert proc.returncode != 0 and (box / "root/dev").is_dir()
    assert "still mounted under it" in proc.stderr and f"{box}/root/dev" in proc.stderr


def test_safe_remove_refuses_an_unmarked_directory(tmp_path):
    box = marked_box(tmp_path)
    (box / ".cglobals-fresh-machine").unlink()
    proc = remove(box, mountinfo(tmp_path, ["/"]))
    assert proc.returncode != 0 and "not a root of ours" in proc.stderr and box.is_dir()


def test_safe_remove_refuses_a_relative_path(tmp_path):
    box = marked_box(tmp_path)
    proc = remove("box", mountinfo(tmp_path, ["/"]), cwd=tmp_path)
    assert proc.returncode != 0 and "not an absolute path" in proc.stderr and box.is_dir()


def pip_conf(path):
    conf = configparser.RawConfigParser()
    conf.read(path)
    return {f"{s}.{k}": v for s in conf.sections() for k, v in conf.items(s)}


def test_pip_environment_becomes_the_roots_user_config(tmp_path):
    home = tmp_path / "home"
    (home / ".config/pip").mkdir(parents=True)
    (home / ".config/pip/pip.conf").write_text("[global]\nfind-links = /old\nindex-url = https://idx/simple\n"
                                               "[install]\ndefault-timeout = 5\n")
    ca = tmp_path / "proxy-ca.pem"
    ca.write_text("CA\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "PIP_DEFAULT_TIMEOUT": "180", "PIP_FIND_LINKS": "/w",
           "PIP_CERT": str(ca), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    root = tmp_path / "root"
    root.mkdir()
    proc = functions('copy_pip_config "$1"', str(root), env=env)
    assert proc.returncode == 0, proc.stderr
    assert pip_conf(root / "root/.config/pip/pip.conf") == {
        "global.find-links": "/w", "global.index-url": "https://idx/simple", "global.default-timeout": "180",
        "global.cert": str(ca), "global.disable-pip-version-check": "1"}
    assert (root / str(ca).lstrip("/")).read_text() == "CA\n"


def test_pip_config_file_devnull_reads_no_files(tmp_path):
    home = tmp_path / "home"
    (home / ".config/pip").mkdir(parents=True)
    (home / ".config/pip/pip.conf").write_text("[global]\nfind-links = /old\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1"}
    root = tmp_path / "root"
    root.mkdir()
    proc = functions('copy_pip_config "$1"', str(root), env=env)
    assert proc.returncode == 0, proc.stderr
    assert pip_conf(root / "root/.config/pip/pip.conf") == {"global.no-input": "1"}
    assert not (root / "etc").exists()
