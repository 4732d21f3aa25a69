"""review.html: the reviewer's page.  Every mutable global (the immutable
ones behind a toggle) with its class, rule, confidence and evidence, the
rule's text, and the sites that write it, each a link to its line in the
tree (and on GitHub at the release tag when the tree is a pinned release).

One self-contained file: inline CSS and JS, the data embedded as JSON in a
<script type="application/json"> block.  Filters, sorting and paging run in
the browser and keep their state in the URL fragment
(`#class=runtime&rule=runtime.hook&dir=Modules&conf=low&q=word&immutable=1&sort=-writes`)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from importlib import resources
from urllib.parse import quote

from ..classify import Classified
from ..classify.facts import Site
from ..classify.rules import RULES, Rule
from ..classify.usage import Context
from ..fetch import RELEASES
from ..model import GlobalVar, ScanResult, StateClass, UseKind, Verdict

GITHUB_BLOB = "https://github.com/python/cpython/blob/"
_HOW = {UseKind.ASSIGN: "assigned", UseKind.UPDATE: "updated", UseKind.MEMBER_WRITE: "written through",
        UseKind.ADDRESS: "address kept"}


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteSite:
    """A use the rules count as a change of the global (GlobalFacts.changes)."""
    how: str                     # "assigned", "readied by PyType_Ready()", "address passed to f()", ...
    function: str
    file: str
    line: int
    contexts: tuple[str, ...]    # where the function runs, in Context order ("once per process" for once-guarded)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    var: GlobalVar
    verdict: Verdict
    sites: tuple[WriteSite, ...]   # by file and line


@dataclass(frozen=True, slots=True, kw_only=True)
class Review:
    version: str
    tree: str                  # the tree's root: links go to its files
    github: str | None         # blob URL at the release tag, for a pinned release only
    entries: tuple[Entry, ...]     # by file, line and name
    rules: tuple[Rule, ...]


def review(result: ScanResult, classified: Classified, pinned: frozenset[str] = frozenset(RELEASES)) -> Review:
    """The page's records: one entry per classified global, with its write
    sites as the rules count them (the facts classify_with_facts() read)."""
    by_identity = {verdict.identity: verdict for verdict in classified.verdicts}
    wanted = tuple(var for var in result.globals if var.identity in by_identity)
    facts = classified.facts
    entries = []
    for var in wanted:
        fact = facts[var.identity]
        readied = frozenset(fact.readied)
        sites = sorted({_write_site(site, site in readied) for site in fact.changes},
                       key=lambda s: (s.file, s.line, s.how, s.function))
        entries.append(Entry(var=var, verdict=by_identity[var.identity], sites=tuple(sites)))
    entries.sort(key=lambda e: (e.var.file, e.var.line, e.var.identity))
    version = result.tree.version
    return Review(version=version, tree=result.tree.root,
                  github=f"{GITHUB_BLOB}v{version}/" if version in pinned else None,
                  entries=tuple(entries), rules=RULES)


def _write_site(site: Site, readied: bool) -> WriteSite:
    use = site.use
    if use.kind is UseKind.ARGUMENT:
        callee = f"{use.callee[1]}()" if use.callee else "a call"
        how = f"readied by {callee}" if readied else f"address passed to {callee}"
    else:
        how = _HOW[use.kind]
    if use.via:
        how += f" (via local {use.via})"
    contexts = (("once per process",) if use.once
                else tuple(c.value for c in Context if c in site.reach.contexts))
    return WriteSite(how=how, function=use.function[1] if use.function else "", file=use.file, line=use.line,
                     contexts=contexts)


def render_review(result: ScanResult, classified: Classified) -> bytes:
    """review.html for a classified scan."""
    return render_review_page(review(result, classified))


def _url_path(path: str) -> str:
    """A path as a URL path: percent-encoded, bytes that are not UTF-8 as the bytes they were."""
    return quote(path, errors="surrogateescape")


def document(page: Review) -> dict[str, object]:
    """The embedded JSON: files and rules once, each global as a short-keyed object."""
    files: dict[str, int] = {}

    def file(path: str) -> int:
        return files.setdefault(path, len(files))

    rule_index = {rule.id: i for i, rule in enumerate(page.rules)}
    globals_ = [{"n": e.var.name, "fn": e.var.func or "", "f": file(e.var.file), "l": e.var.line,
                 "t": e.var.type, "fam": e.var.family.value, "c": e.verdict.state_class.value,
                 "r": rule_index[e.verdict.rule], "k": e.verdict.confidence.value, "e": list(e.verdict.evidence),
                 "w": [[s.how, s.function, file(s.file), s.line, ", ".join(s.contexts)] for s in e.sites]}
                for e in page.entries]
    return {"version": page.version, "tree": page.tree, "treeUrl": f"file://{_url_path(page.tree.rstrip('/'))}/",
            "github": page.github, "files": [[path, _url_path(path)] for path in files],
            "rules": [{"id": r.id, "c": r.state_class.value, "idiom": r.idiom, "example": r.example,
                       "fp": r.false_positives} for r in page.rules],
            "globals": globals_}


def embed_json(value: object) -> str:
    """JSON safe inside a <script> element: no `</`, `<!--` or `]]>` can end
    or change it, whatever the tree's names hold."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _rule_docs(page: Review) -> str:
    used: dict[str, int] = {}
    for entry in page.entries:
        used[entry.verdict.rule] = used.get(entry.verdict.rule, 0) + 1
    parts = []
    for rule in page.rules:
        count = used.get(rule.id, 0)
        parts.append(f'<section id="rule-{escape(rule.id)}"><h3><code>{escape(rule.id)}</code> → '
                     f'<span class="badge {rule.state_class.value}">{rule.state_class.value}</span> '
                     f'<small>{count} global{"s" if count != 1 else ""}</small></h3>'
                     f"<p><b>Idiom.</b> {escape(rule.idiom)}</p><p><b>Example.</b> <code>{escape(rule.example)}"
                     f"</code></p><p><b>Known false positives.</b> {escape(rule.false_positives)}</p></section>")
    return "\n".join(parts)


def render_review_page(page: Review) -> bytes:
    asset = resources.files(__package__)
    style = (asset / "review.css").read_text(encoding="utf-8")
    script = (asset / "review.js").read_text(encoding="utf-8")
    mutable = sum(1 for e in page.entries if e.verdict.state_class is not StateClass.IMMUTABLE)
    source = (f'links go to the files of <code id="tree-shown">{escape(page.tree)}</code> and to GitHub at '
              f'<code>v{escape(page.version)}</code>' if page.github else
              f'links go to the files of <code id="tree-shown">{escape(page.tree)}</code> (not a pinned '
              "release: no GitHub links)")
    html = f"""<!DOCTYPE html>
<html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width, initial-scale=1">
<title>CPython {escape(page.version)}: review the verdicts</title>
<style>{style}</style></head>
<body>
<header>
<h1>CPython {escape(page.version)}: review the verdicts</h1>
<p>{mutable} mutable globals of {len(page.entries)}, each with the rule that decided its class, the evidence and
the sites that write it; {source}. Rules: <a href="#rules">below</a> (docs/rules.md).
Keys: <kbd>/</kbd> search, <kbd>Esc</kbd> clear it.</p>
<form id="filters" role="search" onsubmit="return false">
<label>Search <input id="q" type="search" placeholder="name, file, type, evidence, function" size="34"></label>
<label>Class <select id="class"><option value="">any</option>
<option>runtime</option><option>interpreter</option><option>immutable</option></select></label>
<label>Rule <select id="rule"><option value="">any</option></select></label>
<label>Directory <select id="dir"><option value="">any</option></select></label>
<label>Confidence <select id="conf"><option value="">any</option>
<option>high</option><option>medium</option><option>low</option></select></label>
<label><input id="immutable" type="checkbox"> show immutable</label>
<label class="tree">Tree <input id="tree" type="text" size="30" title="where the tree is on this machine"></label>
</form>
<p id="count" aria-live="polite"></p>
</header>
<noscript><p>The table needs JavaScript; its data is the JSON block in this file, the rules are below.</p></noscript>
<main>
<table id="globals"><thead><tr>
<th data-sort="file" scope=col><button type=button>Global</button></th>
<th data-sort="class" scope=col><button type=button>Class</button></th>
<th data-sort="rule" scope=col><button type=button>Rule</button></th>
<th data-sort="conf" scope=col><button type=button>Confidence</button></th>
<th scope=col>Evidence</th>
<th data-sort="writes" scope=col><button type=button>Write sites</button></th>
</tr></thead><tbody></tbody></table>
<p><button id="more" type=button hidden>Show more</button> <button id="all" type=button hidden>Show all</button></p>
</main>
<section id="rules"><h2>Rules</h2>
<p>Tried in this order; the first that matches decides. Generated from <code>analyzer/classify/rules.py</code>,
as is docs/rules.md.</p>
{_rule_docs(page)}
</section>
<script id="data" type="application/json">{embed_json(document(page))}</script>
<script>{script}</script>
</body></html>
"""
    # Text from the tree may hold surrogates (bytes that are not UTF-8): written as escapes.
    return html.encode("utf-8", "backslashreplace")
