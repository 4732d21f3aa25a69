"""The jobs of cglobals as library functions: what each `cglobals` command
runs, callable from Python.  `analyzer` re-exports them:

    from analyzer import classify, scan
    result = scan("Python-3.13.5")          # a ScanResult: globals, uses, functions, diagnostics
    verdicts = classify(result)             # one Verdict per result.globals, in its order

Each job reads its inputs at its edge, runs its stage and returns records;
nothing here prints.  Bad input raises an exception whose message names the
file at fault (TreeError, ConfigError, OptionError, OutputError); a unit the
scan could not analyze is a diagnostic in the result, not an exception.
`ready`, where a job takes it, is called once its inputs are read and
before the scan (minutes on a real tree): the CLI checks there that it can
write its output, so that no bad input is found after the work."""
from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .classify import classify, classify_with_facts
from .cpython.state import INFRASTRUCTURE
from .datafiles import ConfigError
from .frontend.checkout import TreeError
from .gate.baseline import load_baselines
from .gate.check import gate
from .gate.inputs import git_changes, read_suppressions, still_written
from .model import ScanResult, Verdict
from .output import OutputError, check_output_dir, write_text, writing
from .races.accesses import load_racing_accesses
from .races.reports import Attributed
from .report.findings import GateReport
from .scan.checkout import open_checkout
from .scan.engine import OptionError, Progress, ScanOptions, scan

if TYPE_CHECKING:
    from pycparser import c_ast

    from .patch.series import Series

__all__ = ["Checked", "ConfigError", "OptionError", "OutputError", "Patched", "Progress", "RaceReport", "Reported",
           "ScanOptions", "TreeError", "check", "classify", "declarations", "patch", "races", "report", "scan"]

Ready = Callable[[], None]
DEFAULT_OPTIONS = ScanOptions()
"""One worker per CPU, no persistent cache."""


def _call(ready: Ready | None) -> None:
    if ready is not None:
        ready()


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """What `check` found: the gate's report (rendered by report.findings and
    report.sarif), and the scan it judged."""
    report: GateReport
    result: ScanResult


def check(tree: str, baselines: Sequence[str] = (), *, diff: str | None = None, strict: bool = False,
          options: ScanOptions = DEFAULT_OPTIONS, progress: Progress | None = None,
          ready: Ready | None = None) -> Checked:
    """The gate (docs/gate.md): the tree's mutable globals (every global when
    `strict`) that no baseline file (ours or upstream's TSV) lists and no
    inline suppression waives, the stale baseline entries, the suppressions
    without a reason or without a global.  With `diff` (a revision of the
    tree's git checkout), only what the change since then introduced."""
    checkout = open_checkout(tree)
    found = checkout.tree
    entries = load_baselines(tuple(baselines))
    shown = {path: _shown(path, found.root) for path in {*baselines, *(entry.path for entry in entries)}}
    baseline = tuple(replace(entry, path=shown[entry.path]) for entry in entries)
    _call(ready)
    change = git_changes(found.root, diff) if diff is not None else None
    # In diff mode only the changed files' globals are classified and read for suppressions.
    files = change.files if change else None
    result = scan(checkout, replace(options, focus=files), progress)
    globals_ = tuple(var for var in result.globals if files is None or var.file in files)
    suppressions = read_suppressions(found.root, files if files is not None else {var.file for var in globals_})
    present = {var.identity for var in result.globals}
    uncompiled = still_written(found.root, {e.identity for e in baseline if e.identity not in present
                                            and (files is None or e.identity[0] in files)})
    outcome = gate(globals_, classify(result, files), baseline, suppressions, strict=strict, change=change,
                   uses=result.uses, uncompiled=uncompiled)
    return Checked(report=GateReport(outcome=outcome, baselines=tuple(shown[path] for path in baselines),
                                     diagnostics=result.diagnostics, diff_base=diff), result=result)


def declarations(tree: str, unit: str, *, cache_dir: str | None = None) -> tuple[c_ast.FileAST, ...]:
    """pycparser's ASTs of the file-scope declarations of one unit of the tree
    (`unit`: its tree-relative path, as ScanResult.units names it), one per
    chunk of the unit (a run of declarations from one file), function bodies
    elided: for what the records do not carry, such as the members of a
    struct.  The stand-in headers go under `cache_dir` (default: a
    temporary directory).  Raises TreeError when the tree or the unit cannot
    be used, parse.ChunkParseError when a chunk does not parse."""
    from .scan.engine import unit_declarations
    with contextlib.ExitStack() as stack:
        work_dir = cache_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="cglobals-"))
        return unit_declarations(tree, unit, work_dir)


def _shown(path: str, root: str) -> str:
    """A baseline's path as output names it: relative to the tree when inside it."""
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


@dataclass(frozen=True, slots=True, kw_only=True)
class Patched:
    """What `patch` did: the scan, and the series it wrote (None: the scan
    was partial, and a plan from it could miss references; nothing written)."""
    result: ScanResult
    series: Series | None


def patch(tree: str, output: str, *, races: str | None = None, only: Sequence[str] | None = None,
          modules: Sequence[str] | None = None, options: ScanOptions = DEFAULT_OPTIONS,
          progress: Progress | None = None) -> Patched:
    """Write a `git format-patch` series into the directory `output` that
    moves the tree's movable globals into interpreter or runtime state (only
    those of the files `only` names, when given), converts the extension
    modules (only those `modules` names by import name, when given), guards
    the racing statements of `races` (a `cglobals races --format json`
    document), and says in README.md and moved.tsv what moved and why the
    rest stays."""
    from .cpython.api import PER_INTERPRETER_GIL_SLOT
    from .patch.clinic import regenerate_clinic
    from .patch.inputs import api_files, check_texts, module_texts, public_names, type_inputs
    from .patch.modules import convert_modules, module_files
    from .patch.plan import make_plan
    from .patch.series import function_indexes, write_series
    from .report.patches import render_moved_tsv, render_series_readme
    racing = load_racing_accesses(races) if races else ()
    checkout = open_checkout(tree)
    root = Path(checkout.tree.root)
    missing = [path for path in INFRASTRUCTURE if not (root / path).is_file()]
    if missing:
        raise TreeError(f"{tree}: no {', '.join(missing)}: not a tree `cglobals patch` can edit (the series "
                        "hangs its state off these)")
    check_output_dir(output)
    result = scan(checkout, options, progress)
    if result.failed_units:
        return Patched(result=result, series=None)
    initializers = {var.identity: var.initializer for var in result.globals if var.initializer is not None}
    public = public_names(result.tree.root)
    api = api_files(result.tree.root, [*(var.file for var in result.globals), *(a.file for a in racing)])
    classified = classify_with_facts(result)
    chosen = frozenset(only) if only else None
    plan = make_plan(result, classified, initializers, public, api, chosen)
    check_texts(root, {*INFRASTRUCTURE, *(move.var.file for move in plan.moves), *(a.file for a in racing)})
    use_functions, known_functions = function_indexes(result)
    layout, bases = type_inputs(root, result)
    texts = module_texts(root, result)
    converted = chosen
    if modules:
        picked = module_files(texts, modules)
        if isinstance(picked, str):
            raise TreeError(f"{tree}: --modules: {picked}")
        converted = picked & chosen if chosen is not None else picked
    gil = PER_INTERPRETER_GIL_SLOT[1] in public.macros
    conversions, module_stays = convert_modules(result, classified, texts, initializers, public.types,
                                                use_functions, known_functions, converted, layout, bases,
                                                per_interpreter_gil=gil)
    conversions, failed = regenerate_clinic(root, conversions, texts)
    if failed:      # the types those files' clinic input names stay, the rest converts as before
        conversions, module_stays = convert_modules(result, classified, texts, initializers, public.types,
                                                    use_functions, known_functions, converted, layout, bases,
                                                    frozenset(failed), per_interpreter_gil=gil)
        conversions, _ = regenerate_clinic(root, conversions, texts)
    with writing(Path(output)):
        series = write_series(result.tree.root, plan, use_functions, known_functions, output, racing, api,
                              "PyMutex" in public.types, public, conversions, module_stays)
    write_text(str(Path(output, "README.md")), render_series_readme(series, result.tree.version))
    write_text(str(Path(output, "moved.tsv")), render_moved_tsv(series))
    return Patched(result=result, series=series)


@dataclass(frozen=True, slots=True, kw_only=True)
class RaceReport:
    """What `races` found in the logs: the races, attributed to globals where
    a report points at one, with the verdicts of those globals."""
    races: tuple[Attributed, ...]
    verdicts: tuple[tuple[tuple[str, str, str], Verdict], ...]     # (identity, verdict) of every global
    logs: int                        # logs read
    reports: int                     # race reports in them, de-duplicated
    problems: tuple[str, ...]        # a log that could not be read: why, one message each


def races(tree: str, logs: Sequence[str], *, options: ScanOptions = DEFAULT_OPTIONS,
          progress: Progress | None = None, ready: Ready | None = None,
          warn: Callable[[str], None] | None = None) -> RaceReport:
    """De-duplicate the data races of ThreadSanitizer logs (log_path= files)
    and attribute them to the tree's globals; what TSan left unsymbolized is
    named from the tree's built objects (binutils, gdb) where they are
    there.  A log that cannot be read is a problem, the others' races are
    still reported; when no log can be read, nothing is scanned (logs == 0).
    `warn` is called with each problem as it is found."""
    from .races.binaries import member_names, symbolize_objects
    from .races.logs import read_logs
    from .races.reports import Race, attribute, members_wanted, name_members, parse_reports, symbolize, unresolved
    checkout = open_checkout(tree)
    texts, unreadable = read_logs(logs)
    problems: list[str] = []

    def problem(message: str) -> None:
        problems.append(message)
        if warn is not None:
            warn(message)

    for path, reason in unreadable:
        problem(f"{path}: {reason}")
    if not texts:
        return RaceReport(races=(), verdicts=(), logs=0, reports=0, problems=tuple(problems))
    _call(ready)
    result = scan(checkout, options, progress)
    found: list[Race] = []
    parsed = 0
    for path, text in texts:
        try:
            found += parse_reports(text, result.tree.root)
        except ValueError as exc:         # a line TSan does not write: a corrupt log
            problem(f"{path}: not a ThreadSanitizer log that can be read ({exc})")
            continue
        parsed += 1
    if not parsed:
        return RaceReport(races=(), verdicts=(), logs=0, reports=0, problems=tuple(problems))
    code, data = symbolize_objects(result.tree.root, unresolved(found))
    found = list(symbolize(found, code, data, result.tree.root))
    found = list(name_members(found, member_names(result.tree.root, members_wanted(found))))
    verdicts = tuple(zip((var.identity for var in result.globals), classify(result), strict=True))
    return RaceReport(races=attribute(found, result.globals), verdicts=verdicts, logs=parsed, reports=len(found),
                      problems=tuple(problems))


@dataclass(frozen=True, slots=True, kw_only=True)
class Reported:
    """The report's files (path relative to the report's directory -> bytes)
    and the scans they were made from."""
    files: tuple[tuple[str, bytes], ...]
    results: tuple[ScanResult, ...]


def report(tree: str, compare: str | None = None, *, options: ScanOptions = DEFAULT_OPTIONS,
           progress: Progress | None = None, ready: Ready | None = None) -> Reported:
    """The Markdown and HTML report of a tree (index.md, index.html, plots,
    review.html); with `compare`, another release's tree, also what became
    of each class between the two."""
    # matplotlib is imported only when a report is made.
    from .report.bundle import render_report
    from .report.review import render_review
    from .report.summary import compare as compare_classes
    from .report.summary import summarize
    checkouts = [open_checkout(path) for path in (tree, compare) if path]   # both, before either is scanned
    _call(ready)
    results = [scan(checkout, options, progress) for checkout in checkouts]
    first = classify_with_facts(results[0])
    classified = [(results[0], first.verdicts), *((result, classify(result)) for result in results[1:])]
    oldest, newest = min(classified, key=_release), max(classified, key=_release)
    comparison = compare_classes(oldest, newest) if len(classified) == 2 else None
    files = render_report(summarize(*classified[0]), comparison)
    files["review.html"] = render_review(results[0], first)
    return Reported(files=tuple(sorted(files.items())), results=tuple(results))


def _release(classified: tuple[ScanResult, tuple[Verdict, ...]]) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", classified[0].tree.version)[:3])
