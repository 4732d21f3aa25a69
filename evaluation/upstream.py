"""Compare a scan with upstream's Tools/c-analyzer/cpython/{globals-to-fix,ignored}.tsv.

These lists are evaluation data only: the analyzer never reads them.  Their
entries are (filename, funcname, name); funcname "-" means file scope.

Every listed entry the scan does not report falls in one category:
  not-built          the file is not compiled by a default Linux build
  not-compiled       the name never occurs (outside member access) in that
                     file's preprocessed text: #ifdef'd out (Windows, debug
                     builds) or gone from the file (a stale entry)
  defined-elsewhere  the scan reports the same name in another file (upstream
                     lists the declaring header or an old location)
  missed             none of the above: the analyzer's miss
Recall is matched / (listed - not-built - not-compiled - defined-elsewhere).
"""
from __future__ import annotations

import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from analyzer.extract import path_relativizer
from analyzer.parse import _LINEMARKER_RE
from analyzer.preprocess import Preprocessed, prepare_environment, preprocess
from analyzer.sources import find_tree, generated_headers, list_units

Identity = tuple[str, str, str]
LISTS = ("globals-to-fix.tsv", "ignored.tsv")
_IDENTIFIER_RE = re.compile(r"(?<![.\w>])(?<!->)[A-Za-z_]\w*")


def load_upstream(tree: str) -> dict[Identity, str]:
    """Every listed variable, with the list it came from."""
    entries: dict[Identity, str] = {}
    for name in LISTS:
        path = Path(tree) / "Tools" / "c-analyzer" / "cpython" / name
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#") or line.startswith("filename\t"):
                continue
            fields = line.split("\t")
            if len(fields) >= 3:
                filename, funcname, var = fields[:3]
                entries[(filename, "" if funcname == "-" else funcname, var)] = name
    return entries


def compiled_identifiers(tree_path: str, work_dir: str) -> dict[str, set[str]]:
    """Per tree file, the identifiers its default-build preprocessed text
    contains (member names after . or -> excluded), over all units."""
    tree = find_tree(tree_path)
    env = prepare_environment(tree, generated_headers(tree), work_dir)
    relative = path_relativizer(tree.root)
    found: dict[str, set[str]] = defaultdict(set)

    def scan_unit(unit):
        result = preprocess(env, unit)
        return result.text if isinstance(result, Preprocessed) else ""

    with ThreadPoolExecutor(4) as pool:
        for text in pool.map(scan_unit, list_units(tree)):
            current = None
            position = 0
            for marker in _LINEMARKER_RE.finditer(text):
                if current:
                    found[current].update(_IDENTIFIER_RE.findall(text, position, marker.start()))
                current = relative(marker.group(2))
                position = marker.end()
            if current:
                found[current].update(_IDENTIFIER_RE.findall(text, position))
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    listed: int
    matched: int
    categories: dict[str, tuple[Identity, ...]]   # category -> unmatched entries
    extras: tuple[Identity, ...]

    @property
    def in_scope(self) -> int:
        return self.matched + len(self.categories.get("missed", ()))

    @property
    def recall(self) -> float:
        return self.matched / self.in_scope if self.in_scope else 1.0

    @property
    def raw_recall(self) -> float:
        return self.matched / self.listed if self.listed else 1.0


def compare(found: set[Identity], upstream: dict[Identity, str],
            compiled: dict[str, set[str]]) -> Comparison:
    names_found: dict[str, set[str]] = defaultdict(set)
    for file, _func, name in found:
        names_found[name].add(file)
    categories: dict[str, list[Identity]] = defaultdict(list)
    matched = 0
    for entry in sorted(upstream):
        file, _func, name = entry
        if entry in found:
            matched += 1
        elif file not in compiled:
            categories["not-built"].append(entry)
        elif name not in compiled[file]:
            categories["not-compiled"].append(entry)
        elif names_found.get(name, set()) - {file}:
            categories["defined-elsewhere"].append(entry)
        else:
            categories["missed"].append(entry)
    return Comparison(listed=len(upstream), matched=matched,
                      categories={k: tuple(v) for k, v in sorted(categories.items())},
                      extras=tuple(sorted(found - set(upstream))))
