"""Command line: parse arguments, call one library function, render, return a status."""
from __future__ import annotations

import argparse
import io
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn, TextIO

from . import __version__
from .classify.rules import render_rules
from .datafiles import ConfigError
from .fetch import FetchError, default_cache_dir, fetch
from .frontend.checkout import TreeError
from .frontend.preprocess import DEFAULT_TIMEOUT
from .gate.baseline import load_baselines, render_baseline
from .jobs import OptionError, Progress, ScanOptions, check, classify, patch, races, report, scan
from .model import ScanResult
from .output import OutputError, check_output_dir, check_output_file, write_text, writing
from .report.findings import render_gate_github, render_gate_json, render_gate_text
from .report.json import render_json
from .report.races import render_races_json, render_races_text
from .report.sarif import render_gate_sarif
from .report.text import one_line, render_diagnostic, render_text
from .report.tsv import render_tsv

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

Handler = Callable[[argparse.Namespace, TextIO, TextIO], int]
"""A command: its arguments, standard output and error -> the exit status."""


_RENDERERS = {"text": render_text, "json": render_json, "tsv": render_tsv}
_GATE_RENDERERS = {"text": render_gate_text, "json": render_gate_json, "github": render_gate_github}


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
    fetch_cmd.set_defaults(func=_fetch)
    fetch_cmd.add_argument("version", help="e.g. 3.13.5 or 3.11.2")
    fetch_cmd.add_argument("dest", type=_path, help="directory to unpack into (the tree is DEST/Python-VERSION)")
    fetch_cmd.add_argument("--source", type=_path, help="a tarball, an existing checkout, or a git URL to clone")

    scan_cmd = commands.add_parser("scan", help="list and classify every variable with static storage duration")
    scan_cmd.set_defaults(func=_scan)
    scan_cmd.add_argument("tree", type=_path, help="a CPython source tree (configured or not)")
    scan_cmd.add_argument("--format", choices=sorted(_RENDERERS), default="text")
    scan_cmd.add_argument("-o", "--output", type=_path, help="write the result here instead of stdout")
    _add_scan_options(scan_cmd)
    scan_cmd.add_argument("--only", nargs="+", type=_path, default=(), metavar="PATH",
                          help="analyze only these translation units (tree-relative paths)")

    report_cmd = commands.add_parser("report", help="write a Markdown and HTML report with plots")
    report_cmd.set_defaults(func=_report)
    report_cmd.add_argument("tree", type=_path, help="a CPython source tree")
    report_cmd.add_argument("--compare", type=_path, metavar="OTHER_TREE",
                            help="another release: also show what became of each class between the two")
    report_cmd.add_argument("-o", "--output", type=_path, required=True, metavar="DIR", help="directory to write into")
    _add_scan_options(report_cmd)

    baseline_cmd = commands.add_parser("baseline", help="write a baseline of the tree's mutable globals")
    baseline_cmd.set_defaults(func=_baseline)
    baseline_cmd.add_argument("tree", type=_path, help="a CPython source tree")
    baseline_cmd.add_argument("-o", "--output", type=_path, required=True, metavar="FILE")
    baseline_cmd.add_argument("--except", dest="listed", type=_path, action="append", default=[], metavar="FILE",
                              help="leave out the globals this baseline (ours or upstream's) lists (repeatable)")
    _add_scan_options(baseline_cmd)

    check_cmd = commands.add_parser("check", help="fail on mutable globals the baseline does not list")
    check_cmd.set_defaults(func=_check)
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
    patch_cmd.set_defaults(func=_patch)
    patch_cmd.add_argument("tree", type=_path, help="a pristine CPython source tree")
    patch_cmd.add_argument("-o", "--output", type=_path, required=True, metavar="DIR")
    patch_cmd.add_argument("--only", nargs="+", type=_path, dest="plan_only", metavar="PATH",
                           help="move only globals of these source files")
    patch_cmd.add_argument("--modules", nargs="+", metavar="NAME",
                           help="convert only these extension modules (import names, e.g. _socket array)")
    patch_cmd.add_argument("--races", type=_path, metavar="JSON", help="guard the racing statements of this "
                                                           "`cglobals races --format json` document")
    _add_scan_options(patch_cmd)

    races_cmd = commands.add_parser("races", help="de-duplicate ThreadSanitizer data races and attribute them "
                                                  "to globals")
    races_cmd.set_defaults(func=_races)
    races_cmd.add_argument("tree", type=_path, help="the CPython tree the reports come from")
    races_cmd.add_argument("logs", nargs="+", type=_path, metavar="LOG", help="TSan logs (log_path= files)")
    races_cmd.add_argument("--format", choices=("text", "json"), default="text")
    races_cmd.add_argument("-o", "--output", type=_path, metavar="FILE", help="write here instead of stdout")
    _add_scan_options(races_cmd)

    rules_cmd = commands.add_parser("rules", help="print the classification rules (docs/rules.md)")
    rules_cmd.set_defaults(func=_rules)
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
    handler: Handler = args.func
    try:
        return handler(args, out, err)
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


def _rules(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    out.write(render_rules())
    return EXIT_OK


def _fetch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    def log(message: str) -> None:
        err.write(f"cglobals: {message}\n")

    check_output_dir(args.dest)
    path = fetch(args.version, args.dest, source=args.source, log=log)
    out.write(f"{path}\n")
    return EXIT_OK


def _scan_options(args: argparse.Namespace) -> ScanOptions:
    cache_dir = None if args.no_cache else (args.cache_dir or str(default_cache_dir()))
    return ScanOptions(jobs=args.jobs or 0, cache_dir=cache_dir, only=tuple(getattr(args, "only", ())),
                       unit_timeout=max(0.0, args.unit_timeout))


def _report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _progress(err) as progress:
        made = report(args.tree, args.compare, options=_scan_options(args), progress=progress,
                      ready=lambda: check_output_dir(args.output))
    for relative, content in made.files:
        path = Path(args.output) / relative
        with writing(path, Path(args.output)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    out.write(f"{Path(args.output) / 'index.html'}\n")
    for result in made.results:
        _write_diagnostics(result, err)
    return max(_scan_status(result) for result in made.results)


def _baseline(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    listed = {entry.identity for entry in load_baselines(tuple(args.listed))}
    check_output_file(args.output)
    with _progress(err) as progress:
        result = scan(args.tree, _scan_options(args), progress)
    pairs = [(var, verdict) for var, verdict in zip(result.globals, classify(result), strict=True)
             if var.identity not in listed]
    _write(args.output, render_baseline(tuple(v for v, _ in pairs), tuple(v for _, v in pairs)), out)
    _write_diagnostics(result, err)
    return _scan_status(result)


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _progress(err) as progress:
        checked = check(args.tree, args.baseline, diff=args.diff, strict=args.strict, options=_scan_options(args),
                        progress=progress, ready=lambda: check_output_file(args.output))
    gated, result = checked.report, checked.result
    if args.format == "sarif":
        _write(args.output, render_gate_sarif(gated, result.tree.root), out)
    else:
        _write(args.output, _GATE_RENDERERS[args.format](gated), out)
    _write_diagnostics(result, err)
    if result.failed_units:
        return EXIT_PARTIAL          # fails closed: a unit that was not analyzed may hide a new global
    return EXIT_FINDINGS if gated.outcome.failed or (args.fail_stale and gated.outcome.stale) else EXIT_OK


def _patch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _progress(err) as progress:
        patched = patch(args.tree, args.output, races=args.races, only=args.plan_only, modules=args.modules,
                        options=_scan_options(args), progress=progress)
    if patched.series is None:
        _write_diagnostics(patched.result, err)
        return EXIT_PARTIAL         # a plan from a partial scan could miss references
    series = patched.series
    guards = f", {len(series.guarded)} racing statements guarded" if args.races else ""
    modules = sum(len(c.moves) for c in series.conversions)
    into_modules = f", {modules} of extension modules into their module state" if modules else ""
    out.write(f"{len(series.patches)} patches in {args.output}: {len(series.moved)} globals moved"
              f"{into_modules}, {len(series.stays)} stay{guards} (README.md says why)\n")
    return EXIT_OK


def _races(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with _progress(err) as progress:
        found = races(args.tree, args.logs, options=_scan_options(args), progress=progress,
                      ready=lambda: check_output_file(args.output), warn=lambda problem: _error(err, problem))
    if not found.logs:
        return EXIT_USAGE            # nothing to analyze
    render = render_races_json if args.format == "json" else render_races_text
    _write(args.output, render(found.races, dict(found.verdicts), found.logs, found.reports), out)
    return EXIT_PARTIAL if found.problems else EXIT_OK     # the other logs' races are still reported


def _scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    check_output_file(args.output)
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


def _write(path: str | None, text: str, out: TextIO) -> None:
    """To the file `path`, or to standard output."""
    if path:
        write_text(path, text)
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
