"""Command line: parse arguments, call one library function, render, return a status."""
from __future__ import annotations

import argparse
import io
import os
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import NoReturn, TextIO

from . import __version__
from .classify import classify
from .classify.rules import render_rules
from .config import ConfigError, load_baselines, load_racing_accesses
from .fetch import FetchError, default_cache_dir, fetch
from .frontend.checkout import TreeError, find_tree
from .frontend.preprocess import DEFAULT_TIMEOUT
from .gate.check import gate, render_baseline
from .gate.inputs import git_changes, read_suppressions, still_written
from .model import ScanResult, Verdict
from .patch.inputs import api_files, initializer_texts, public_names
from .races.binaries import member_names, symbolize_objects
from .races.logs import read_logs
from .report.findings import GateReport, render_gate_github, render_gate_json, render_gate_text
from .report.json import render_json
from .report.sarif import render_gate_sarif
from .report.text import one_line, render_diagnostic, render_text
from .report.tsv import render_tsv
from .scan.engine import OptionError, Progress, ScanOptions, scan

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

_RENDERERS = {"text": render_text, "json": render_json, "tsv": render_tsv}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # exit 2 with one line, as argparse does, but testable
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cglobals", description="Find and classify the C globals of a CPython tree.")
    parser.add_argument("--version", action="version", version=f"cglobals {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the full trace of an unexpected error")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    fetch_cmd = commands.add_parser("fetch", help="get a pristine CPython tree")
    fetch_cmd.add_argument("version", help="e.g. 3.13.5 or 3.11.2")
    fetch_cmd.add_argument("dest", type=_path, help="directory to unpack into (the tree is DEST/Python-VERSION)")
    fetch_cmd.add_argument("--source", type=_path, help="a tarball, an existing checkout, or a git URL to clone")

    scan_cmd = commands.add_parser("scan", help="list and classify every variable with static storage duration")
    scan_cmd.add_argument("tree", type=_path, help="a CPython source tree (configured or not)")
    scan_cmd.add_argument("--format", choices=sorted(_RENDERERS), default="text")
    scan_cmd.add_argument("-o", "--output", type=_path, help="write the result here instead of stdout")
    _add_scan_options(scan_cmd)
    scan_cmd.add_argument("--only", nargs="+", type=_path, default=(), metavar="PATH",
                          help="analyze only these translation units (tree-relative paths)")

    report_cmd = commands.add_parser("report", help="write a Markdown and HTML report with plots")
    report_cmd.add_argument("tree", type=_path, help="a CPython source tree")
    report_cmd.add_argument("--compare", type=_path, metavar="OTHER_TREE",
                            help="another release: also show what became of each class between the two")
    report_cmd.add_argument("-o", "--output", type=_path, required=True, metavar="DIR", help="directory to write into")
    _add_scan_options(report_cmd)

    baseline_cmd = commands.add_parser("baseline", help="write a baseline of the tree's mutable globals")
    baseline_cmd.add_argument("tree", type=_path, help="a CPython source tree")
    baseline_cmd.add_argument("-o", "--output", type=_path, required=True, metavar="FILE")
    baseline_cmd.add_argument("--except", dest="listed", type=_path, action="append", default=[], metavar="FILE",
                              help="leave out the globals this baseline (ours or upstream's) lists (repeatable)")
    _add_scan_options(baseline_cmd)

    check_cmd = commands.add_parser("check", help="fail on mutable globals the baseline does not list")
    check_cmd.add_argument("tree", type=_path, help="a CPython source tree")
    check_cmd.add_argument("--baseline", type=_path, action="append", default=[], metavar="FILE",
                           help="our baseline, or upstream's globals-to-fix.tsv / ignored.tsv (repeatable)")
    check_cmd.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text")
    check_cmd.add_argument("--diff", type=_path, metavar="REV",
                           help="only globals the change since REV introduced (the tree must be a git checkout)")
    check_cmd.add_argument("-o", "--output", type=_path, metavar="FILE", help="write the report here instead of stdout")
    check_cmd.add_argument("--strict", action="store_true", help="immutable globals must be listed too")
    check_cmd.add_argument("--fail-stale", action="store_true", help="stale baseline entries fail the gate")
    _add_scan_options(check_cmd)

    patch_cmd = commands.add_parser("patch", help="write a git format-patch series moving globals into "
                                                  "interpreter state")
    patch_cmd.add_argument("tree", type=_path, help="a pristine CPython source tree")
    patch_cmd.add_argument("-o", "--output", type=_path, required=True, metavar="DIR")
    patch_cmd.add_argument("--only", nargs="+", type=_path, dest="plan_only", metavar="PATH",
                           help="move only globals of these source files")
    patch_cmd.add_argument("--races", type=_path, metavar="JSON", help="guard the racing statements of this "
                                                           "`cglobals races --format json` document")
    _add_scan_options(patch_cmd)

    races_cmd = commands.add_parser("races", help="de-duplicate ThreadSanitizer data races and attribute them "
                                                  "to globals")
    races_cmd.add_argument("tree", type=_path, help="the CPython tree the reports come from")
    races_cmd.add_argument("logs", nargs="+", type=_path, metavar="LOG", help="TSan logs (log_path= files)")
    races_cmd.add_argument("--format", choices=("text", "json"), default="text")
    races_cmd.add_argument("-o", "--output", type=_path, metavar="FILE", help="write here instead of stdout")
    _add_scan_options(races_cmd)

    commands.add_parser("rules", help="print the classification rules (docs/rules.md)")
    return parser


def _add_scan_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("-j", "--jobs", type=_jobs, help="worker processes, 1 or more (default: one per CPU)")
    command.add_argument("--cache-dir", type=_path, help=f"persistent cache (default: {default_cache_dir()})")
    command.add_argument("--no-cache", action="store_true", help="analyze every unit afresh")
    command.add_argument("--unit-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                         help=f"time limit per translation unit, 0 for none (default: {DEFAULT_TIMEOUT:g}); "
                              "a unit past it fails with CG906")


def _path(text: str) -> str:
    """A path (or a revision) given on the command line: an empty one is a
    script's unset variable, not the current directory."""
    if not text:
        raise argparse.ArgumentTypeError("an empty string")
    return text


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


class OutputError(Exception):
    """An output path that cannot be written; the message names it and says why."""


_INPUT_ERRORS = (ConfigError, TreeError, OptionError, OutputError, FetchError)
"""What bad input raises: each is one line on stderr and exit 2, never a traceback."""


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    out = stdout or _tolerant(sys.stdout)
    err = stderr or sys.stderr
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        _error(err, str(exc))
        return EXIT_USAGE
    except SystemExit as exc:  # --help, --version
        return int(exc.code or 0)
    try:
        if args.command == "fetch":
            return _fetch(args, out, err)
        if args.command == "rules":
            out.write(render_rules())
            return EXIT_OK
        if args.command == "report":
            return _report(args, out, err)
        if args.command == "baseline":
            return _baseline(args, out, err)
        if args.command == "check":
            return _check(args, out, err)
        if args.command == "patch":
            return _patch(args, out, err)
        if args.command == "races":
            return _races(args, out, err)
        return _scan(args, out, err)
    except _INPUT_ERRORS as exc:
        _error(err, str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.write("cglobals: interrupted\n")
        return 130
    except BrokenPipeError:
        sys.stdout = None  # silence the flush at exit
        return EXIT_USAGE
    except Exception as exc:  # the one place that catches everything
        if args.traceback:
            traceback.print_exc(file=err)
        else:
            _error(err, f"{type(exc).__name__}: {exc} (rerun with --traceback)", "internal error")
        return EXIT_USAGE


def _error(err: TextIO, message: str, kind: str = "error") -> None:
    """One line, whatever the message holds (a path with a newline, bytes of the tree)."""
    err.write(f"cglobals: {kind}: {one_line(message)}\n")


def _tolerant(stream: TextIO) -> TextIO:
    """Standard output that writes what it cannot encode as escapes (text
    from the tree may hold bytes that are not UTF-8, kept as surrogates)."""
    if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
        stream.reconfigure(errors="backslashreplace")
    return stream


def _fetch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def log(message: str) -> None:
        err.write(f"cglobals: {message}\n")

    _check_output_dir(args.dest)
    path = fetch(args.version, args.dest, source=args.source, log=log)
    out.write(f"{path}\n")
    return EXIT_OK


def _scan_options(args: argparse.Namespace) -> ScanOptions:
    cache_dir = None if args.no_cache else (args.cache_dir or str(default_cache_dir()))
    return ScanOptions(jobs=args.jobs or 0, cache_dir=cache_dir, only=tuple(getattr(args, "only", ())),
                       unit_timeout=max(0.0, args.unit_timeout))


def _report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # matplotlib is imported only when a report is made.
    from .report.bundle import render_report
    from .report.review import render_review
    from .report.summary import compare, summarize
    trees = [tree for tree in (args.tree, args.compare) if tree]
    for tree in trees:               # both are trees before either is scanned
        find_tree(tree)
    _check_output_dir(args.output)
    with _progress(err) as progress:
        results = [scan(tree, _scan_options(args), progress) for tree in trees]
    classified = [(result, classify(result)) for result in results]
    oldest, newest = min(classified, key=_release), max(classified, key=_release)
    comparison = compare(oldest, newest) if len(classified) == 2 else None
    report = render_report(summarize(*classified[0]), comparison)
    report["review.html"] = render_review(*classified[0])
    for relative, content in sorted(report.items()):
        path = Path(args.output) / relative
        with _writing(path, Path(args.output)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    out.write(f"{Path(args.output) / 'index.html'}\n")
    for result in results:
        _write_diagnostics(result, err)
    return max(_scan_status(result) for result in results)


def _baseline(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    listed = {entry.identity for entry in load_baselines(tuple(args.listed))}
    _check_output_file(args.output)
    with _progress(err) as progress:
        result = scan(args.tree, _scan_options(args), progress)
    pairs = [(var, verdict) for var, verdict in zip(result.globals, classify(result), strict=True)
             if var.identity not in listed]
    _write(args.output, render_baseline(tuple(v for v, _ in pairs), tuple(v for _, v in pairs)), out)
    _write_diagnostics(result, err)
    return _scan_status(result)


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    tree = find_tree(args.tree)
    entries = load_baselines(tuple(args.baseline))
    shown = {path: _shown(path, tree.root) for path in {*args.baseline, *(entry.path for entry in entries)}}
    baseline = tuple(replace(entry, path=shown[entry.path]) for entry in entries)
    _check_output_file(args.output)
    change = git_changes(tree.root, args.diff) if args.diff is not None else None
    # In diff mode only the changed files' globals are classified and read for suppressions.
    files = change.files if change else None
    with _progress(err) as progress:
        result = scan(args.tree, replace(_scan_options(args), focus=files), progress)
    globals_ = tuple(var for var in result.globals if files is None or var.file in files)
    suppressions = read_suppressions(tree.root, files if files is not None else {var.file for var in globals_})
    present = {var.identity for var in result.globals}
    uncompiled = still_written(tree.root, {e.identity for e in baseline if e.identity not in present
                                           and (files is None or e.identity[0] in files)})
    outcome = gate(globals_, classify(result, files), baseline, suppressions, strict=args.strict, change=change,
                   uses=result.uses, uncompiled=uncompiled)
    report = GateReport(outcome=outcome, baselines=tuple(shown[path] for path in args.baseline),
                        diagnostics=result.diagnostics, diff_base=args.diff)
    if args.format == "sarif":
        text = render_gate_sarif(report, tree.root)
    else:
        text = {"json": render_gate_json, "github": render_gate_github}.get(args.format, render_gate_text)(report)
    _write(args.output, text, out)
    _write_diagnostics(result, err)
    if result.failed_units:
        return EXIT_PARTIAL          # fails closed: a unit that was not analyzed may hide a new global
    return EXIT_FINDINGS if outcome.failed or (args.fail_stale and outcome.stale) else EXIT_OK


def _patch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .cpython.state import INFRASTRUCTURE
    from .patch.plan import make_plan
    from .patch.series import write_series
    from .report.patches import render_moved_tsv, render_series_readme
    racing = load_racing_accesses(args.races) if args.races else ()
    root = Path(find_tree(args.tree).root)
    missing = [path for path in INFRASTRUCTURE if not (root / path).is_file()]
    if missing:
        raise TreeError(f"{args.tree}: no {', '.join(missing)}: not a tree `cglobals patch` can edit (the series "
                        "hangs its state off these)")
    _check_output_dir(args.output)
    with _progress(err) as progress:
        result = scan(args.tree, _scan_options(args), progress)
    if result.failed_units:
        _write_diagnostics(result, err)
        return EXIT_PARTIAL         # a plan from a partial scan could miss references
    initializers = initializer_texts(result.tree.root, ((var.identity, var.line) for var in result.globals
                                                        if var.has_initializer))
    public = public_names(result.tree.root)
    api = api_files(result.tree.root, [*(var.file for var in result.globals), *(a.file for a in racing)])
    plan = make_plan(result, classify(result), initializers, public, api,
                     frozenset(args.plan_only) if args.plan_only else None)
    _check_texts(root, {*INFRASTRUCTURE, *(move.var.file for move in plan.moves), *(a.file for a in racing)})
    use_functions: dict[tuple[str, str, str], set[str]] = {}
    for use in result.uses:
        if use.file == use.target[0]:
            use_functions.setdefault(use.target, set()).add(use.function[1] if use.function else "")
    known_functions: dict[str, set[str]] = {}
    for function in result.functions:
        known_functions.setdefault(function.file, set()).add(function.key[1])
    with _writing(Path(args.output)):
        series = write_series(result.tree.root, plan, {k: frozenset(v) for k, v in use_functions.items()},
                              {k: frozenset(v) for k, v in known_functions.items()}, args.output, racing, api,
                              "PyMutex" in public.types, public)
    _write(str(Path(args.output, "README.md")), render_series_readme(series, result.tree.version), out)
    _write(str(Path(args.output, "moved.tsv")), render_moved_tsv(series), out)
    guards = f", {len(series.guarded)} racing statements guarded" if args.races else ""
    out.write(f"{len(series.patches)} patches in {args.output}: {len(series.moved)} globals moved, "
              f"{len(series.stays)} stay{guards} (README.md says why)\n")
    return EXIT_OK


def _check_texts(root: Path, paths: set[str]) -> None:
    """The series edits these files as UTF-8 text: raises TreeError naming
    the first one that is not (files the tree lacks are the series' to skip)."""
    for path in sorted(paths):
        try:
            (root / path).read_bytes().decode("utf-8")
        except OSError:
            continue
        except UnicodeDecodeError as exc:
            raise TreeError(f"{root / path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                            f"{exc.start}): `cglobals patch` edits UTF-8 sources only") from None


def _races(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .races.reports import Race, attribute, members_wanted, name_members, parse_reports, symbolize, unresolved
    from .report.races import render_races_json, render_races_text
    find_tree(args.tree)
    logs, unreadable = read_logs(args.logs)
    for path, reason in unreadable:
        _error(err, f"{path}: {reason}")
    if not logs:
        return EXIT_USAGE            # nothing to analyze
    _check_output_file(args.output)
    with _progress(err) as progress:
        result = scan(args.tree, _scan_options(args), progress)
    races: list[Race] = []
    parsed = 0
    for path, text in logs:
        try:
            races += parse_reports(text, result.tree.root)
        except ValueError as exc:         # a line TSan does not write: a corrupt log
            _error(err, f"{path}: not a ThreadSanitizer log that can be read ({exc})")
            unreadable += ((path, str(exc)),)
            continue
        parsed += 1
    if not parsed:
        return EXIT_USAGE
    code, data = symbolize_objects(result.tree.root, unresolved(races))
    races = list(symbolize(races, code, data, result.tree.root))
    races = list(name_members(races, member_names(result.tree.root, members_wanted(races))))
    verdicts = dict(zip((var.identity for var in result.globals), classify(result), strict=True))
    found = attribute(races, result.globals)
    render = render_races_json if args.format == "json" else render_races_text
    _write(args.output, render(found, verdicts, parsed, len(races)), out)
    return EXIT_PARTIAL if unreadable else EXIT_OK     # the other logs' races are still reported


def _shown(path: str, root: str) -> str:
    """A baseline's path as output names it: relative to the tree when inside it."""
    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


def _release(classified: tuple[ScanResult, tuple[Verdict, ...]]) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", classified[0].tree.version)[:3])


def _scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _check_output_file(args.output)
    with _progress(err) as progress:
        result = scan(args.tree, _scan_options(args), progress)
    _write(args.output, _RENDERERS[args.format](result, classify(result)), out)
    _write_diagnostics(result, err)
    return _scan_status(result)


def _write_diagnostics(result: ScanResult, err: TextIO) -> None:
    for diagnostic in result.diagnostics:
        err.write(printable(render_diagnostic(diagnostic)) + "\n")


def _scan_status(result: ScanResult) -> int:
    return EXIT_PARTIAL if result.failed_units else EXIT_OK


def _check_output_file(path: str | None) -> None:
    """Before the work: raises OutputError unless `path` (None: stdout) can
    be written as a file."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{path}: is a directory, not a file")
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: {parent} is not a directory" if parent.exists() else
                          f"{path}: no such directory {parent}")
    if not os.access(parent, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise OutputError(f"{path}: not writable")


def _check_output_dir(path: str) -> None:
    """Before the work: raises OutputError unless `path` is a directory this
    process can write in, or can be made one."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{path}: not a directory")
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing != target and not existing.is_dir():
        raise OutputError(f"{path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: {existing} is not writable")


@contextmanager
def _writing(path: Path, output: Path | None = None) -> Iterator[None]:
    """Writing `path`, a file or directory of the output `output` (`path`
    itself by default): an OSError about the output becomes an OutputError
    naming the file (`path` when the error names none)."""
    try:
        yield
    except OSError as exc:
        filename = exc.filename if isinstance(exc.filename, str) else str(path)
        if not _under(Path(filename), output or path):
            raise
        raise OutputError(f"{filename}: cannot write it: {exc.strerror or exc}") from None


def _under(path: Path, directory: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(directory))
    except ValueError:
        return False
    return True


def _write(path: str | None, text: str, out: TextIO) -> None:
    """Surrogates (bytes of the tree that are not UTF-8) are written as escapes."""
    if path:
        with _writing(Path(path)):
            Path(path).write_text(text, encoding="utf-8", errors="backslashreplace")
    else:
        out.write(text)


def printable(text: str) -> str:
    """The text with what the file system gave undecoded (a tree path or file
    name that is not UTF-8: surrogate escapes) as U+FFFD, so that it can be
    written in UTF-8 to any stream."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:      # a surrogate no file name decodes to
        return text.encode("utf-8", "replace").decode("utf-8")


@contextmanager
def _progress(err: TextIO) -> Iterator[Progress | None]:
    """A progress bar on a terminal, nothing otherwise."""
    if not (hasattr(err, "isatty") and err.isatty()) or os.environ.get("CI"):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar
    with Bar("scanning", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             console=Console(file=err), transient=True) as bar:
        task = bar.add_task("scan", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
