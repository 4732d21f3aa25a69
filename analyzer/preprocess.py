"""Run the C preprocessor on one translation unit, under our stand-in headers.

gcc runs with -undef -nostdinc: the host's headers and predefined macros never
enter the analysis.  System headers (<...> includes the tree does not provide)
resolve to stand-ins that include stubs/include/_cglobals_libc.h; headers the
build generates (frozen modules) resolve to empty stand-ins when the tree is
unbuilt; the tree's pyconfig.h is used when it is configured, our Linux
profile otherwise.
"""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .model import Diagnostic, SourceUnit, Tree

_STUBS = Path(str(resources.files("analyzer") / "stubs"))
STUB_INCLUDE = _STUBS / "include"
PROFILE_DIR = _STUBS / "profile"
PREDEF = STUB_INCLUDE / "_cglobals_predef.h"

_MISSING_RE = re.compile(
    r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): fatal error: (?P<hdr>[^:]+): No such file", re.M)
_ERROR_RE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)? (?:fatal )?error: (?P<msg>.*)$", re.M)


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """Everything preprocessing needs that is shared by all units of a tree."""
    tree: Tree
    overlay: str          # directory with generated stand-ins for this tree
    config_dir: str       # directory holding the pyconfig.h to use


# Stages after the scan: their code does not change what the cache holds.
_AFTER_SCAN = ("classify/", "report/", "patch/", "cli.py", "gate.py", "config.py", "fetch.py", "__main__.py")


def fingerprint(tree: Tree) -> str:
    """Identifies the scan's code, stand-ins and profile, and which
    pyconfig.h applies: a change to any of them invalidates cached results."""
    digest = hashlib.sha256()
    package = _STUBS.parent
    code = [p for p in package.rglob("*.py") if not p.relative_to(package).as_posix().startswith(_AFTER_SCAN)]
    for path in sorted([*_STUBS.rglob("*.h"), *code]):
        digest.update(path.relative_to(package).as_posix().encode() + path.read_bytes())
    digest.update(str(tree.configured).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True, kw_only=True)
class Preprocessed:
    unit: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PreprocessFailure:
    unit: str
    diagnostic: Diagnostic


def prepare_environment(tree: Tree, generated: tuple[str, ...], system_includes: frozenset[str],
                        work_dir: str) -> Environment:
    """Write the overlay of stand-in headers this tree needs into work_dir."""
    root = Path(tree.root)
    overlay = Path(work_dir) / "overlay"
    system = overlay / "system"
    for name in sorted(system_includes):
        if ".." in name or (STUB_INCLUDE / name).exists():
            continue
        _write_if_changed(system / name, '#include "_cglobals_libc.h"\n')
    for header in generated:
        _write_if_changed(overlay / "generated" / header,
                          "/* cglobals: stand-in for a header the build generates */\n")
    # Anchors for includes like "../Python/x.h" from a unit's directory: gcc
    # ignores include directories that do not exist.
    for directory in ("Include", "Objects", "Python", "Parser", "Modules", "Programs"):
        for sub in (root / directory).rglob("*"):
            if sub.is_dir():
                (overlay / "generated" / sub.relative_to(root)).mkdir(parents=True, exist_ok=True)
        (overlay / "generated" / directory).mkdir(parents=True, exist_ok=True)
    config_dir = tree.root if tree.configured else str(PROFILE_DIR)
    return Environment(tree=tree, overlay=str(overlay), config_dir=config_dir)


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def command(env: Environment, unit: SourceUnit) -> list[str]:
    root = Path(env.tree.root)
    unit_dir = (root / unit.path).parent
    generated = Path(env.overlay) / "generated"
    args = ["gcc", "-E", "-x", "c", "-std=c11", "-undef", "-nostdinc",
            "-include", str(PREDEF), "-I", env.config_dir]
    for include in ("Include", "Include/internal", *unit.include_dirs, "."):
        args += ["-I", str(root / include)]
    args += ["-idirafter", str(generated / unit_dir.relative_to(root)),
             "-idirafter", str(generated), "-idirafter", str(STUB_INCLUDE),
             "-idirafter", str(Path(env.overlay) / "system")]
    args += [f"-D{define}" for define in unit.defines]
    args.append(str(root / unit.path))
    return args


def preprocess(env: Environment, unit: SourceUnit) -> Preprocessed | PreprocessFailure:
    try:
        proc = subprocess.run(command(env, unit), capture_output=True, cwd=env.tree.root)
    except OSError as exc:
        return _failure(unit, "preprocess-error", unit.path, 0, 0, f"cannot run gcc: {exc}")
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        missing = _MISSING_RE.search(stderr)
        if missing:
            return _failure(unit, "missing-header", _relative(env, missing["file"]),
                            int(missing["line"]), int(missing["col"]),
                            f"{missing['hdr']}: no such file")
        error = _ERROR_RE.search(stderr)
        if error:
            return _failure(unit, "preprocess-error", _relative(env, error["file"]),
                            int(error["line"]), int(error["col"] or 0), error["msg"])
        return _failure(unit, "preprocess-error", unit.path, 0, 0,
                        stderr.strip().splitlines()[-1] if stderr.strip() else f"gcc exited {proc.returncode}")
    return Preprocessed(unit=unit.path, text=proc.stdout.decode("utf-8", "surrogateescape"))


def _relative(env: Environment, path: str) -> str:
    try:
        return Path(path).resolve().relative_to(env.tree.root).as_posix()
    except ValueError:
        return path


def _failure(unit: SourceUnit, code: str, path: str, line: int, column: int, detail: str) -> PreprocessFailure:
    return PreprocessFailure(unit=unit.path, diagnostic=Diagnostic(
        code=code, file=path, line=line, column=column, detail=detail))
