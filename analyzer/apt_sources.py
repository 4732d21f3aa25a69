"""Debian apt sources, read and written as text: which archive serves which
suite, and the deb-src stanzas a pinned release needs.

Both formats apt reads are understood: deb822 (`*.sources`: `Types:`, `URIs:`,
`Suites:`, `Components:`, `Signed-By:` stanzas) and the classic one-line format
(`sources.list`, `sources.list.d/*.list`: `deb [options] URI SUITE COMPONENT...`).
A stock Debian serves its release and `-updates` suites from the main archive
and the `-security` suites from the security archive, under another URI; the
deb-src stanzas written here follow the same split, so that every suite is
asked of the archive that serves it."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


@dataclass(frozen=True, slots=True, kw_only=True)
class AptEntry:
    """One source of packages: a deb822 stanza or one line of sources.list."""
    types: tuple[str, ...]
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None
    enabled: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Archives:
    """The URIs the existing sources use for Debian's main and security archives."""
    main: str
    security: str | None
    signed_by: str | None


class SourcesError(Exception):
    """The existing apt sources do not say where Debian's archive is."""


# Debian's codenames and suite aliases: generic knowledge of the archive, so
# that a third-party repository (`nodistro`, `stable main` of a vendor) listed
# first is not taken for Debian's mirror.
DEBIAN_SUITES = frozenset((
    "buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid",
    "oldoldstable", "oldstable", "stable", "testing", "unstable", "experimental"))


def is_security_suite(suite: str) -> bool:
    return suite.endswith("-security") or suite.endswith("/updates")


def is_debian_suite(suite: str) -> bool:
    return suite.split("/")[0].split("-")[0] in DEBIAN_SUITES


def parse_deb822(text: str) -> list[AptEntry]:
    """The stanzas of a `*.sources` file; comments and continuation lines handled."""
    entries = []
    for stanza in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.split("\n"):
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key is not None:
                fields[key] += "\n" + line.strip()
                continue
            name, sep, value = line.partition(":")
            if not sep:
                continue
            key = name.strip().lower()
            fields[key] = value.strip()
        if "types" not in fields or "uris" not in fields:
            continue
        entries.append(AptEntry(
            types=tuple(fields["types"].split()), uris=tuple(fields["uris"].split()),
            suites=tuple(fields.get("suites", "").split()),
            components=tuple(fields.get("components", "").split()),
            signed_by=_keyring(fields.get("signed-by")),
            enabled=fields.get("enabled", "yes").lower() not in ("no", "false", "0")))
    return entries


def _keyring(value: str | None) -> str | None:
    """A Signed-By that names a keyring file; an inline armored key is not one."""
    if not value:
        return None
    first = value.split()[0]
    return first if first.startswith("/") else None


_OPTIONS_RE = re.compile(r"\[([^\]]*)\]")


def parse_one_line(text: str) -> list[AptEntry]:
    """The entries of a classic `sources.list` file."""
    entries = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        options: dict[str, str] = {}
        match = _OPTIONS_RE.search(line)
        if match:
            for option in match.group(1).split():
                name, _, value = option.partition("=")
                options[name.lower()] = value
            line = line[:match.start()] + line[match.end():]
        words = line.split()
        if len(words) < 3 or words[0] not in ("deb", "deb-src"):
            continue
        entries.append(AptEntry(types=(words[0],), uris=(words[1],), suites=(words[2],),
                                components=tuple(words[3:]), signed_by=_keyring(options.get("signed-by"))))
    return entries


def find_archives(entries: Iterable[AptEntry]) -> Archives:
    """Which URI serves the main archive and which the security archive.

    The main archive is the first enabled URI with a Debian suite that is not
    a security suite; the security archive the first with a Debian security
    suite. The keyring is the one the main archive's entry names, if any."""
    main = security = None
    signed_by = None
    for entry in entries:
        if not entry.enabled or not entry.uris or not any(t in ("deb", "deb-src") for t in entry.types):
            continue
        debian = [s for s in entry.suites if is_debian_suite(s)]
        if main is None and any(not is_security_suite(s) for s in debian):
            main, signed_by = entry.uris[0], entry.signed_by
        if security is None and any(is_security_suite(s) for s in debian):
            security = entry.uris[0]
    if main is None:
        raise SourcesError("no Debian archive in the apt sources")
    return Archives(main=main.rstrip("/"), security=security.rstrip("/") if security else None,
                    signed_by=signed_by)


def deb_src_stanzas(archives: Archives, suites: Iterable[str], keyring: str | None) -> tuple[str, list[str]]:
    """deb822 text for the deb-src entries of SUITES, each under its archive, and
    the suites left out (security suites when no security archive is known)."""
    wanted = sorted(set(suites))
    main = [s for s in wanted if not is_security_suite(s)]
    security = [s for s in wanted if is_security_suite(s)]
    left_out: list[str] = []
    stanzas = []
    if main:
        stanzas.append(_stanza(archives.main, main, keyring))
    if security and archives.security:
        stanzas.append(_stanza(archives.security, security, keyring))
    elif security:
        left_out = security
    return "\n".join(stanzas), left_out


def _stanza(uri: str, suites: list[str], keyring: str | None) -> str:
    lines = ["Types: deb-src", f"URIs: {uri}", f"Suites: {' '.join(suites)}", "Components: main"]
    if keyring:
        lines.append(f"Signed-By: {keyring}")
    return "\n".join(lines) + "\n"
