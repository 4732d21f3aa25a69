"""Get a pristine CPython tree: from Debian's source packages (checksum
verified, tarball cached), from a local tarball or checkout, or by git clone."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class FetchError(Exception):
    """The tree could not be obtained; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    version: str
    package: str          # Debian source package
    suites: tuple[str, ...]
    tarball: str          # the upstream ("orig") tarball inside the package
    sha256: str


RELEASES = {r.version: r for r in (
    Release(version="3.11.2", package="python3.11",
            suites=("bookworm", "bookworm-updates", "bookworm-security"),
            tarball="python3.11_3.11.2.orig.tar.gz",
            sha256="2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849"),
    Release(version="3.13.5", package="python3.13", suites=("trixie", "trixie-updates"),
            tarball="python3.13_3.13.5.orig.tar.xz",
            sha256="93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640"),
)}

DEFAULT_GIT_URL = "https://github.com/python/cpython.git"
_SOURCES_FILE = Path("/etc/apt/sources.list.d/cglobals-src.sources")
_DEBIAN_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")


def default_cache_dir() -> Path:
    base = os.environ.get("CGLOBALS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cglobals")
    return Path(base)


Log = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


def fetch(version: str, dest: str, *, source: str | None = None,
          cache_dir: Path | None = None, log: Log = _quiet) -> Path:
    """Return the path of the unpacked tree DEST/Python-VERSION (idempotent)."""
    target = Path(dest) / f"Python-{version}"
    if (target / "Include" / "patchlevel.h").is_file():
        log(f"{target}: already present")
        return target
    if source and Path(source).is_dir():
        log(f"copying checkout {source}")
        shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        return target
    if source and Path(source).is_file():
        _check_sum(Path(source), version)
        return _unpack(Path(source), Path(dest), target)
    if source:
        return _git_clone(source, version, target, log)
    tarball = _debian_tarball(version, cache_dir or default_cache_dir(), log)
    return _unpack(tarball, Path(dest), target)


def _check_sum(path: Path, version: str) -> None:
    release = RELEASES.get(version)
    if release is None:
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != release.sha256:
        raise FetchError(f"{path}: sha256 {digest} is not the expected {release.sha256}")


def _unpack(tarball: Path, dest: Path, target: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        try:
            with tarfile.open(tarball) as archive:
                archive.extractall(tmp, filter="tar")
        except (tarfile.TarError, OSError) as exc:
            raise FetchError(f"{tarball}: cannot unpack: {exc}") from None
        tops = [p for p in Path(tmp).iterdir() if p.is_dir()]
        if len(tops) != 1 or not (tops[0] / "Include").is_dir():
            raise FetchError(f"{tarball}: not a CPython source tarball")
        tops[0].rename(target)
    return target


def _git_clone(url: str, version: str, target: Path, log: Log) -> Path:
    log(f"cloning v{version} from {url}")
    proc = subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", f"v{version}",
                           url, str(target)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise FetchError(f"git clone of v{version} failed: {proc.stderr.strip()}")
    return target


def _debian_tarball(version: str, cache_dir: Path, log: Log) -> Path:
    release = RELEASES.get(version)
    if release is None:
        raise FetchError(f"no pinned source for {version} (known: {', '.join(RELEASES)}); "
                         "pass --source with a tarball, a checkout or a git URL")
    cached = cache_dir / release.tarball
    if cached.is_file():
        try:
            _check_sum(cached, version)
            log(f"{cached}: cached, checksum ok")
            return cached
        except FetchError:
            cached.unlink()
    if shutil.which("apt-get") is None:
        raise FetchError("apt-get is not available; pass --source with a tarball, a checkout or a git URL")
    _ensure_deb_src(release, log)
    with tempfile.TemporaryDirectory() as tmp:
        for revision in _source_revisions(release):
            log(f"apt-get source --download-only {release.package}={revision}")
            proc = subprocess.run(["apt-get", "source", "--download-only", "-qq",
                                   f"{release.package}={revision}"], cwd=tmp,
                                  capture_output=True, text=True)
            if proc.returncode == 0 and (Path(tmp) / release.tarball).is_file():
                break
        else:
            raise FetchError(f"apt-get could not download the {release.package} source package "
                             f"for {version}")
        downloaded = Path(tmp) / release.tarball
        _check_sum(downloaded, version)
        cache_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(downloaded, cached)
    return cached


def _ensure_deb_src(release: Release, log: Log) -> None:
    if _SOURCES_FILE.is_file() and release.suites[0] in _SOURCES_FILE.read_text():
        return
    uri = _debian_uri()
    suites = " ".join(sorted({s for r in RELEASES.values() for s in r.suites}))
    log(f"adding deb-src entries for {suites} beside the existing apt sources")
    _SOURCES_FILE.write_text(
        f"Types: deb-src\nURIs: {uri}\nSuites: {suites}\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    subprocess.run(["apt-get", "update", "-qq"], capture_output=True)


def _debian_uri() -> str:
    try:
        match = re.search(r"^URIs:\s*(\S+)", _DEBIAN_SOURCES.read_text(), re.M)
    except OSError:
        match = None
    if not match:
        raise FetchError(f"cannot find the Debian mirror in {_DEBIAN_SOURCES}")
    return match.group(1)


def _source_revisions(release: Release) -> list[str]:
    """Debian revisions of the package that carry this upstream version."""
    proc = subprocess.run(["apt-cache", "showsrc", release.package], capture_output=True, text=True)
    versions = re.findall(r"^Version:\s*(\S+)", proc.stdout, re.M)
    return [v for v in dict.fromkeys(versions) if v.startswith(release.version + "-")]
