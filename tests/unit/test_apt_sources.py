"""The deb-src entries cglobals fetch writes, from fixture apt sources of each format."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer import fetch as fetch_module
from analyzer.apt_sources import find_archives, parse_deb822, parse_one_line
from analyzer.fetch import FetchError, deb_src_text, read_apt_sources

APT = Path(__file__).parent.parent / "fixtures" / "apt"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
HEADER = "# Written by cglobals fetch: the sources of the CPython releases it pins.\n"
MAIN_SUITES = "bookworm bookworm-updates bullseye bullseye-updates trixie trixie-updates"
SECURITY_SUITES = "bookworm-security bullseye-security trixie-security"


def stanza(uri, suites, keyring=KEYRING):
    text = f"Types: deb-src\nURIs: {uri}\nSuites: {suites}\nComponents: main\n"
    return text + (f"Signed-By: {keyring}\n" if keyring else "")


def written(apt_dir, keyring_exists=True):
    return deb_src_text(read_apt_sources(apt_dir), keyring_exists=lambda path: keyring_exists)


def test_deb822_security_suites_go_under_the_security_archive():
    assert written(APT / "deb822") == HEADER + stanza("http://deb.debian.org/debian", MAIN_SUITES) + "\n" + stanza(
        "http://deb.debian.org/debian-security", SECURITY_SUITES)


def test_classic_sources_list_of_a_stock_install():
    assert written(APT / "classic") == HEADER + stanza("http://ftp.fr.debian.org/debian", MAIN_SUITES) + "\n" + stanza(
        "http://security.debian.org/debian-security", SECURITY_SUITES)


def test_classic_without_the_archive_keyring_lets_apt_use_its_trusted_keys():
    assert "Signed-By" not in written(APT / "classic", keyring_exists=False)


def test_mixed_sources_skip_disabled_and_third_party_entries_and_keep_the_keyring():
    keyring = "/etc/apt/keyrings/mirror.gpg"
    assert written(APT / "mixed") == HEADER + stanza("http://mirror.example/debian", MAIN_SUITES, keyring) + "\n" + (
        stanza("http://mirror.example/debian-security", SECURITY_SUITES, keyring))


def test_without_a_security_archive_the_security_suites_are_left_out_and_said():
    entries = parse_one_line("deb http://deb.debian.org/debian bookworm main\n")
    said = []
    text = deb_src_text(entries, said.append, keyring_exists=lambda path: True)
    assert text == HEADER + stanza("http://deb.debian.org/debian", MAIN_SUITES)
    assert said == [f"no security archive in the apt sources: {SECURITY_SUITES} left out"]


def test_no_debian_archive_at_all_is_an_error_naming_both_formats(tmp_path):
    (tmp_path / "sources.list").write_text("deb http://packages.example/node nodistro main\n")
    with pytest.raises(FetchError, match=r"cannot find the Debian mirror: .*sources\.list\.d/\*\.list or \*\.sources"):
        deb_src_text(read_apt_sources(tmp_path))


def test_parsers_read_options_continuations_and_comments():
    [entry] = parse_one_line("deb [ arch=amd64 signed-by=/k.gpg ] http://m/debian bookworm main contrib # x\n")
    assert (entry.uris, entry.suites, entry.components, entry.signed_by) == (
        ("http://m/debian",), ("bookworm",), ("main", "contrib"), "/k.gpg")
    [stanza_entry] = parse_deb822("Types: deb deb-src\nURIs: http://a/debian\n http://b/debian\n"
                                  "Suites: trixie\n# c\nComponents: main\nSigned-By:\n -----BEGIN PGP\n")
    assert stanza_entry.uris == ("http://a/debian", "http://b/debian")
    assert stanza_entry.signed_by is None  # an inline key is not a keyring file
    assert find_archives([stanza_entry]).main == "http://a/debian"


class FakeApt:
    """apt-get and apt-cache as fetch runs them; records the calls."""

    def __init__(self, update_rc=0, update_err=""):
        self.calls = []
        self.update_rc, self.update_err = update_rc, update_err

    def __call__(self, argv, **kwargs):
        self.calls.append(argv[:2])
        if argv[:2] == ["apt-get", "update"]:
            return subprocess.CompletedProcess(argv, self.update_rc, "", self.update_err)
        return subprocess.CompletedProcess(argv, 0, "Version: 3.13.5-2+deb13u5\n", "")


def test_a_failed_apt_get_update_is_reported_with_apt_s_message(tmp_path, monkeypatch):
    shutil.copytree(APT / "deb822", tmp_path / "apt")
    apt = FakeApt(update_rc=100, update_err="E: The repository 'http://x bookworm-security Release' "
                                            "does not have a Release file.\n")
    monkeypatch.setattr(fetch_module.subprocess, "run", apt)
    with pytest.raises(FetchError) as caught:
        fetch_module._ensure_deb_src(fetch_module.RELEASES["3.13.5"], lambda m: None, tmp_path / "apt")
    assert str(caught.value) == ("apt-get update failed (exit 100): E: The repository 'http://x bookworm-security "
                                 "Release' does not have a Release file.")


def test_entries_written_once_then_apt_is_not_updated_again(tmp_path, monkeypatch):
    shutil.copytree(APT / "deb822", tmp_path / "apt")
    apt = FakeApt()
    monkeypatch.setattr(fetch_module.subprocess, "run", apt)
    release = fetch_module.RELEASES["3.13.5"]
    fetch_module._ensure_deb_src(release, lambda m: None, tmp_path / "apt")
    ours = tmp_path / "apt" / "sources.list.d" / "cglobals-src.sources"
    assert "debian-security\nSuites: bookworm-security bullseye-security trixie-security\n" in ours.read_text()
    assert apt.calls == [["apt-get", "update"]]
    fetch_module._ensure_deb_src(release, lambda m: None, tmp_path / "apt")
    assert apt.calls == [["apt-get", "update"], ["apt-cache", "showsrc"]]
    # our own file is never read back as a source of the machine's archives
    assert len(read_apt_sources(tmp_path / "apt")) == 2
