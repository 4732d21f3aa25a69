"""Compare a scan with upstream's Tools/c-analyzer/cpython/{globals-to-fix,ignored}.tsv,
and with the compiler's own symbol tables.

Upstream's lists are evaluation data only: the analyzer never reads them.
Their entries are (filename, funcname, name); funcname "-" means file scope.

Every listed entry that the scan does not report falls in one category:
  not-built          the file is not compiled by a default Linux build
  not-compiled       the compiler emits no variable of that name for the file
                     (for an included file: for any object) in a default -O0
                     build: #ifdef'd out (Windows, debug builds), a
                     declaration only, or gone from the file (a stale entry)
  defined-elsewhere  the scan reports that name in another file or function
                     (upstream lists the declaring header or an old location)
  missed             none of the above: the analyzer's miss
Recall is matched / (matched + missed).
"""
from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from analyzer.frontend.checkout import find_tree
from analyzer.frontend.extract import path_relativizer
from analyzer.frontend.parse import INCLUDE_MARKER_RE
from analyzer.frontend.preprocess import Preprocessed, preprocess
from analyzer.scan.discovery import list_units
from analyzer.scan.engine import environment

Identity = tuple[str, str, str]
# Where each release keeps its lists: 3.10 and later under cpython/, 3.9 (known.tsv: every
# global it knew of, `kind` variable) beside the tool.  The first place that has a list is read.
LIST_PLACES = (("cpython/globals-to-fix.tsv", "cpython/ignored.tsv"), ("known.tsv", "ignored.tsv"))


def load_upstream(tree: str) -> dict[Identity, str]:
    """Every listed variable, with the list it came from."""
    entries: dict[Identity, str] = {}
    base = Path(tree) / "Tools" / "c-analyzer"
    lists = next((p for p in LIST_PLACES if (base / p[0]).is_file()), ())
    for name in lists:
        path = base / name
        if not path.is_file():
            continue
        header: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if fields[0] == "filename":
                header = fields
                continue
            if "kind" in header and len(fields) > header.index("kind") and fields[header.index("kind")] != "variable":
                continue
            if len(fields) >= 3:
                filename, funcname, var = fields[:3]
                entries[(filename, "" if funcname == "-" else funcname, var)] = Path(name).name
    return entries


def built_files(tree_path: str, work_dir: str) -> set[str]:
    """Tree files that some unit of the default build compiles or includes."""
    tree = find_tree(tree_path)
    env, _ = environment(tree, work_dir)
    relative = path_relativizer(tree.root)
    units = list_units(tree)
    files = {unit.path for unit in units}

    def included(unit):
        result = preprocess(env, unit)
        return INCLUDE_MARKER_RE.findall(result.text) if isinstance(result, Preprocessed) else []

    with ThreadPoolExecutor(4) as pool:
        for paths in pool.map(included, units):
            files.update(p for p in map(relative, paths) if p)
    return files


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


def compare(found: set[Identity], upstream: dict[Identity, str], built: set[str],
            symbols: dict[str, set[str]]) -> Comparison:
    every_symbol = set().union(*symbols.values()) if symbols else set()
    places: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for file, func, name in found:
        places[name].add((file, func))
    categories: dict[str, list[Identity]] = defaultdict(list)
    matched = 0
    for entry in sorted(upstream):
        file, func, name = entry
        if entry in found:
            matched += 1
        elif file not in built:
            categories["not-built"].append(entry)
        elif name not in symbols.get(file, every_symbol):
            categories["not-compiled"].append(entry)
        elif places.get(name, set()) - {(file, func)}:
            categories["defined-elsewhere"].append(entry)
        else:
            categories["missed"].append(entry)
    return Comparison(listed=len(upstream), matched=matched,
                      categories={k: tuple(v) for k, v in sorted(categories.items())},
                      extras=tuple(sorted(found - set(upstream))))


@dataclass(frozen=True, slots=True, kw_only=True)
class CompilerCheck:
    symbols: int
    matched: int
    missing: tuple[tuple[str, str], ...]     # (source file, variable name)
    generated: int                           # variables defined by build-generated files, set apart

    @property
    def recall(self) -> float:
        return self.matched / self.symbols if self.symbols else 1.0


def check_against_compiler(found: set[Identity], symbols: dict[str, set[str]],
                           generated_files: set[str], generated_names: set[str]) -> CompilerCheck:
    """Every variable the compiler emitted for a unit must be in the scan,
    attributed to that unit or to a file that is not itself a unit (a header
    or an included .c file).  Variables that files generated by the build
    define (frozen modules, deepfreeze) cannot be in a pristine tree's scan and
    are counted apart."""
    units = set(symbols)
    by_name: dict[str, set[str]] = defaultdict(set)
    for file, _func, name in found:
        by_name[name].add(file)
    total, matched, missing, generated = 0, 0, [], 0
    for source, names in sorted(symbols.items()):
        for name in sorted(names):
            if source in generated_files or (name in generated_names and name not in by_name):
                generated += 1
                continue
            total += 1
            files = by_name.get(name, set())
            if source in files or files - units:
                matched += 1
            else:
                missing.append((source, name))
    return CompilerCheck(symbols=total, matched=matched, missing=tuple(missing), generated=generated)


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirmation:
    checked: int
    confirmed: int
    unconfirmed: tuple[Identity, ...]
    unit_not_compiled: int        # found in a unit this build did not compile

    @property
    def precision(self) -> float:
        return self.confirmed / self.checked if self.checked else 1.0


def confirm_found(found: set[Identity], units: set[str], symbols: dict[str, set[str]]) -> Confirmation:
    """Which reported globals the compiler emitted: for a unit, in its own
    object; for a header or included file, in any object."""
    every_symbol = set().union(*symbols.values()) if symbols else set()
    checked, confirmed, unconfirmed, skipped = 0, 0, [], 0
    for entry in sorted(found):
        file, _func, name = entry
        if file in units and file not in symbols:
            skipped += 1
            continue
        checked += 1
        if name in symbols.get(file, every_symbol):
            confirmed += 1
        else:
            unconfirmed.append(entry)
    return Confirmation(checked=checked, confirmed=confirmed, unconfirmed=tuple(unconfirmed),
                        unit_not_compiled=skipped)
