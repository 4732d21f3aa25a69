"""The reviewer's page (review.html): the data it embeds, its links and
escaping, and the page itself as headless Chromium runs it."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from analyzer.classify import Classified, classify_with_facts
from analyzer.classify.rules import RULES
from analyzer.model import ScanResult, StateClass, Verdict
from analyzer.report.review import GITHUB_BLOB, embed_json, render_review, review
from analyzer.scan.engine import ScanOptions, scan
from tests.conftest import FIXTURES, make_tree

HOSTILE = FIXTURES.parent / "review" / "hostile.c"
HOSTILE_PATH = "Programs/<img src=x onerror=alert(1)>.c"     # Programs/ units are found by listing the directory
MARKUP_TYPE = 'char [sizeof("</script><img src=x onerror=alert(1)>")]'

Scanned = tuple[ScanResult, Classified]


@pytest.fixture(scope="module")
def classified(tmp_path_factory) -> Scanned:
    tree = make_tree(tmp_path_factory.mktemp("review") / "tree", [FIXTURES / "classes.c"])
    (tree / "Programs").mkdir()
    shutil.copyfile(HOSTILE, tree / HOSTILE_PATH)
    result = scan(str(tree), ScanOptions(jobs=1, cache_dir=None))
    assert not result.diagnostics
    return result, classify_with_facts(result)


def page_data(html: bytes) -> dict:
    """The embedded JSON, after checking that nothing in it can end its <script> element."""
    match = re.search(rb'<script id="data" type="application/json">(.*?)</script>', html, re.S)
    assert match
    assert b"<" not in match.group(1)
    return json.loads(match.group(1))


def identities(data: dict, state_classes: set[str]) -> set[tuple[str, str, str]]:
    return {(data["files"][g["f"]][0], g["fn"], g["n"]) for g in data["globals"] if g["c"] in state_classes}


def by_name(data: dict, name: str) -> dict:
    (found,) = [g for g in data["globals"] if g["n"] == name]
    return found


def test_every_global_is_embedded_with_its_verdict(classified):
    result, found = classified
    verdicts = found.verdicts
    data = page_data(render_review(result, found))
    mutable = {v.identity for v in verdicts if v.state_class is not StateClass.IMMUTABLE}
    immutable = {v.identity for v in verdicts if v.state_class is StateClass.IMMUTABLE}
    assert mutable and immutable
    assert identities(data, {"runtime", "interpreter"}) == mutable
    assert identities(data, {"immutable"}) == immutable       # shown only under the toggle (see below)
    verdict = next(v for v in verdicts if v.identity == (HOSTILE_PATH, "", "counter"))
    counter = by_name(data, "counter")
    assert (counter["c"], data["rules"][counter["r"]]["id"], counter["k"], counter["e"]) == (
        verdict.state_class.value, verdict.rule, verdict.confidence.value, list(verdict.evidence))


def test_write_sites_link_to_their_lines_in_the_tree(classified):
    result, found = classified
    data = page_data(render_review(result, found))
    assert data["treeUrl"] == f"file://{quote(result.tree.root)}/"
    assert data["github"] is None                                # 3.99.0 is not a pinned release
    counter = by_name(data, "counter")
    sites = [(how, function, data["files"][f], line) for how, function, f, line, _ in counter["w"]]
    encoded = "Programs/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.c"
    # the front end keeps the first line of each kind of write in a function
    file = [HOSTILE_PATH, encoded]
    assert sites == [("updated", "poke", file, 13), ("assigned", "reset", file, 19)]
    assert by_name(data, "markup")["w"][0][:2] == ["written through", "poke"]
    assert by_name(data, "never_written")["w"] == []


def test_a_pinned_release_links_github_at_its_tag(classified):
    result, found = classified
    pinned = replace(result, tree=replace(result.tree, version="3.13.5"))
    assert review(pinned, found).github == f"{GITHUB_BLOB}v3.13.5/"
    assert page_data(render_review(pinned, found))["github"] == "https://github.com/python/cpython/blob/v3.13.5/"
    assert review(pinned, found, pinned=frozenset({"3.11.2"})).github is None


def test_text_from_the_tree_stays_text(classified):
    html = render_review(*classified)
    data = page_data(html)
    assert by_name(data, "markup")["t"] == MARKUP_TYPE
    assert data["files"][by_name(data, "markup")["f"]][0] == HOSTILE_PATH
    assert html.count(b"</script>") == 2 and b"<img" not in html


def test_embedded_json_cannot_end_its_script_element():
    text = embed_json({"name": "</script><!-- <script>", "amp": "&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><!-- <script>", "amp": "&"}


def test_every_rule_is_documented_on_the_page(classified):
    html = render_review(*classified).decode()
    data = page_data(html.encode())
    assert [r["id"] for r in data["rules"]] == [r.id for r in RULES]
    for rule in RULES:
        assert f'<section id="rule-{rule.id}">' in html
    assert all(rule["idiom"] and rule["example"] and rule["fp"] for rule in data["rules"])


# -- the page in headless Chromium ------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Dom(HTMLParser):
    """Rows (data-name, class), links (href) and the count line of a dumped page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self.matching = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        if tag == "tr" and "data-name" in values:
            self.rows.append(values["data-name"] or "")
        if tag == "a" and values.get("class") == "src":
            self.hrefs.append(values["href"] or "")
        if values.get("id") == "count":
            self.matching = values.get("data-matching") or ""


def dom(page: Path, fragment: str, profile: Path) -> _Dom:
    """The page's DOM after its script ran, with `fragment` as the filters."""
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           f"--user-data-dir={profile}", "--dump-dom", f"{page.as_uri()}#{fragment}"],
                          capture_output=True, text=True, timeout=120, check=True)
    parsed = _Dom()
    parsed.feed(done.stdout)
    return parsed


@pytest.fixture(scope="module")
def page(classified, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("page") / "review.html"
    path.write_bytes(render_review(*classified))
    return path


def _names(verdicts: tuple[Verdict, ...], keep) -> list[str]:
    return sorted(v.identity[2] if not v.identity[1] else f"{v.identity[1]}()::{v.identity[2]}"
                  for v in verdicts if keep(v))


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_chromium_shows_the_mutable_globals_and_the_immutable_ones_on_the_toggle(classified, page, tmp_path):
    verdicts = classified[1].verdicts
    shown = dom(page, "", tmp_path / "profile")
    assert sorted(shown.rows) == _names(verdicts, lambda v: v.state_class is not StateClass.IMMUTABLE)
    assert shown.matching == str(len(shown.rows))
    assert "img" not in shown.tags                                  # the file name's markup stayed text
    every = dom(page, "immutable=1", tmp_path / "profile")
    assert sorted(every.rows) == _names(verdicts, lambda v: True)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_chromium_filters_sorts_and_links_from_the_fragment(classified, page, tmp_path):
    result, verdicts = classified[0], classified[1].verdicts
    found = dom(page, "class=interpreter&dir=Programs&q=POKE&sort=-writes", tmp_path / "profile")
    assert found.rows == ["counter", "markup"]                      # two write sites before one
    root = f"file://{quote(result.tree.root)}/Programs/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.c"
    assert found.hrefs == [f"{root}#L6", f"{root}#L13", f"{root}#L19", f"{root}#L5", f"{root}#L12"]
    assert dom(page, "q=reset%20poke", tmp_path / "profile").rows == ["counter"]    # every word
    lifecycle = dom(page, "rule=runtime.lifecycle&conf=medium&dir=Objects", tmp_path / "profile")
    assert lifecycle.rows and sorted(lifecycle.rows) == _names(verdicts, lambda v: v.rule == "runtime.lifecycle"
                                            and v.confidence.value == "medium")
