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

from .apt_sources import (
    DEFAULT_KEYRING,
    AptEntry,
    SourcesError,
    deb_src_stanzas,
    find_archives,
    parse_deb822,
    parse_one_line,
)


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
    Release(version="3.9.2", package="python3.9",
            suites=("bullseye", "bullseye-updates", "bullseye-security"),
            tarball="python3.9_3.9.2.orig.tar.xz",
            sha256="3c2034c54f811448f516668dce09d24008a0716c3a794dd8639b5388cbde247d"),
    Release(version="3.11.2", package="python3.11",
            suites=("bookworm", "bookworm-updates", "bookworm-security"),
            tarball="python3.11_3.11.2.orig.tar.gz",
            sha256="2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849"),
    Release(version="3.13.5", package="python3.13", suites=("trixie", "trixie-updates", "trixie-security"),
            tarball="python3.13_3.13.5.orig.tar.xz",
            sha256="93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640"),
)}

DEFAULT_GIT_URL = "https://github.com/python/cpython.git"
APT_DIR = Path("/etc/apt")
_SOURCES_NAME = "cglobals-src.sources"


def default_cache_dir() -> Path:
    base = os.environ.get("CGLOBALS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cglobals")
    return Path(base)


Log = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


_VERSION_RE = re.compile(r"\d+\.\d+(?:\.\d+)?(?:(?:a|b|rc)\d+)?")


def fetch(version: str, dest: str, *, source: str | None = None,
          cache_dir: Path | None = None, log: Log = _quiet) -> Path:
    """Return the path of the unpacked tree DEST/Python-VERSION (idempotent)."""
    if not _VERSION_RE.fullmatch(version):
        raise FetchError(f"{version!r} is not a CPython version (e.g. 3.13.5)")
    target = Path(dest) / f"Python-{version}"
    try:
        return _fetch(version, Path(dest), target, source, cache_dir, log)
    except OSError as exc:
        raise FetchError(f"{exc.filename or dest}: {exc.strerror or exc}") from None


def _fetch(version: str, dest: Path, target: Path, source: str | None, cache_dir: Path | None, log: Log) -> Path:
    if _is_tree(target):
        log(f"{target}: already present")
        return target
    if dest.exists() and not dest.is_dir():
        raise FetchError(f"{dest}: not a directory")
    if target.exists() or target.is_symlink():
        raise FetchError(f"{target}: exists and is not a CPython tree (remove it first)")
    if source and Path(source).is_dir():
        if not _is_tree(Path(source)):
            raise FetchError(f"{source}: not a CPython checkout (no Include/patchlevel.h)")
        log(f"copying checkout {source}")
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            copy = Path(tmp) / "tree"
            try:
                shutil.copytree(source, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
            except shutil.Error as exc:
                raise FetchError(f"{source}: cannot copy: {exc.args[0][0][2] if exc.args[0] else exc}") from None
            copy.rename(target)
        return target
    if source and Path(source).is_file():
        _check_sum(Path(source), version)
        return _unpack(Path(source), dest, target)
    if source and os.path.exists(source):
        raise FetchError(f"{source}: neither a tarball nor a directory")
    if source:
        return _git_clone(source, version, target, log)
    tarball = _debian_tarball(version, cache_dir or default_cache_dir(), log)
    return _unpack(tarball, dest, target)


def _is_tree(path: Path) -> bool:
    return (path / "Include" / "patchlevel.h").is_file()


def _check_sum(path: Path, version: str) -> None:
    release = RELEASES.get(version)
    if release is None:
        return
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != release.sha256:
        raise FetchError(f"{path}: sha256 {digest.hexdigest()} is not the expected {release.sha256}")


def _unpack(tarball: Path, dest: Path, target: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        try:
            with tarfile.open(tarball) as archive:
                members = archive.getmembers()
                unsafe = next((m for m in members if unsafe_member(m)), None)
                if unsafe is not None:
                    raise FetchError(f"{tarball}: refusing to unpack: {unsafe_member(unsafe)}")
                archive.extractall(tmp, members=members)
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            raise FetchError(f"{tarball}: cannot unpack: {exc}") from None
        tops = [p for p in Path(tmp).iterdir() if p.is_dir() and not p.is_symlink()]
        if len(tops) != 1 or not _is_tree(tops[0]):
            raise FetchError(f"{tarball}: not a CPython source tarball")
        tops[0].rename(target)
    return target


def unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why a tarball member may not be unpacked, or None. A source tarball holds
    files, directories and links that stay inside it; nothing else. (Checked by
    hand: tarfile's extraction filters exist only from Python 3.11.4 on.)"""
    name = member.name
    if name.startswith("/") or ".." in Path(name).parts:
        return f"{name}: a path outside the tarball"
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return f"{name}: neither a file, a directory nor a link"
    if member.issym() or member.islnk():
        link = member.linkname
        if link.startswith("/"):
            return f"{name}: a link to the absolute path {link}"
        base = Path(name).parent if member.issym() else Path()
        depth = 0
        for part in (base / link).parts:
            depth += -1 if part == ".." else (0 if part == "." else 1)
            if depth < 0:
                return f"{name}: a link to {link}, outside the tarball"
    return None


def _git_clone(url: str, version: str, target: Path, log: Log) -> Path:
    log(f"cloning v{version} from {url}")
    try:
        proc = subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", f"v{version}",
                               url, str(target)], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError:
        raise FetchError("git is not installed; pass --source with a tarball or a checkout") from None
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
    revisions = _source_revisions(release)
    if not revisions:
        raise FetchError(f"apt knows no {release.package} source package for {version} "
                         f"(suites {' '.join(release.suites)})")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # apt's download user must be able to write there
        problem = ""
        for revision in revisions:
            log(f"apt-get source --download-only {release.package}={revision}")
            proc = subprocess.run(["apt-get", "source", "--download-only", "-qq",
                                   f"{release.package}={revision}"], cwd=tmp,
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if proc.returncode == 0 and (Path(tmp) / release.tarball).is_file():
                break
            problem = " / ".join(line.strip() for line in proc.stderr.splitlines() if line.startswith("E:"))
        else:
            raise FetchError(f"apt-get could not download the {release.package} source package "
                             f"for {version}{': ' + problem if problem else ''}")
        downloaded = Path(tmp) / release.tarball
        _check_sum(downloaded, version)
        cache_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(downloaded, cached)
    return cached


def _ensure_deb_src(release: Release, log: Log, apt_dir: Path = APT_DIR) -> None:
    """deb-src entries for every pinned release's suites, each under the archive
    that serves it, then `apt-get update` when they changed or were never read."""
    text = deb_src_text(read_apt_sources(apt_dir), log)
    ours = apt_dir / "sources.list.d" / _SOURCES_NAME
    try:
        current = ours.read_text()
    except OSError:
        current = None
    if current != text:
        log(f"writing deb-src entries to {ours}")
        try:
            ours.write_text(text)
        except OSError as exc:
            raise FetchError(f"cannot write {ours}: {exc.strerror} (run as root, or pass --source)") from None
    elif _source_revisions(release):
        return
    log("apt-get update")
    proc = subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        message = " / ".join(line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip())
        raise FetchError(f"apt-get update failed (exit {proc.returncode}): {message or 'no message'}")


def read_apt_sources(apt_dir: Path = APT_DIR) -> list[AptEntry]:
    """Every entry of the machine's apt sources, both formats, our own file left out."""
    files = [apt_dir / "sources.list"]
    parts = apt_dir / "sources.list.d"
    try:
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources") and p.name != _SOURCES_NAME)
    except OSError:
        pass
    entries: list[AptEntry] = []
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        entries += parse_deb822(text) if path.suffix == ".sources" else parse_one_line(text)
    return entries


def deb_src_text(entries: list[AptEntry], log: Log = _quiet, keyring_exists: Callable[[str], bool] = os.path.isfile,
                 releases: dict[str, Release] | None = None) -> str:
    """The deb-src file cglobals writes for the pinned releases' suites."""
    try:
        archives = find_archives(entries)
    except SourcesError as exc:
        raise FetchError(f"cannot find the Debian mirror: {exc} ({APT_DIR}/sources.list, "
                         f"{APT_DIR}/sources.list.d/*.list or *.sources)") from None
    keyring = archives.signed_by or (DEFAULT_KEYRING if keyring_exists(DEFAULT_KEYRING) else None)
    suites = {s for r in (releases or RELEASES).values() for s in r.suites}
    text, left_out = deb_src_stanzas(archives, suites, keyring)
    if left_out:
        log(f"no security archive in the apt sources: {' '.join(left_out)} left out")
    return "# Written by cglobals fetch: the sources of the CPython releases it pins.\n" + text


def _source_revisions(release: Release) -> list[str]:
    """Debian revisions of the package that carry this upstream version."""
    proc = subprocess.run(["apt-cache", "showsrc", release.package], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    versions = re.findall(r"^Version:\s*(\S+)", proc.stdout, re.M)
    return [v for v in dict.fromkeys(versions) if v.startswith(release.version + "-")]
