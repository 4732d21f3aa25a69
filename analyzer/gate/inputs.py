"""What the gate reads besides the scan: the suppression comments of the
tree's files, git's diff of a change, and whether the name of a baseline
entry is still a word of its file."""
from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from ..frontend.checkout import TreeError, read_source
from ..model import Change, Suppression

_COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


_WORD_RE = re.compile(r"\w+")


def still_written(root: str, identities: Iterable[tuple[str, str, str]]) -> frozenset[tuple[str, str, str]]:
    """The (file, func, name) whose name is still a word of its file: code the
    analyzed configuration does not compile (an #ifdef for another platform
    or build), not a global that is gone.  Each file is read once, its words
    put in a set: a baseline of any size costs a lookup per entry."""
    found = set()
    texts: dict[str, str] = {}
    words: dict[str, frozenset[str]] = {}
    for identity in identities:
        path, _, name = identity
        if path not in texts:
            data = read_source(Path(root) / path)      # None: gone, unreadable, not a file
            texts[path] = _COMMENT_RE.sub(" ", data.decode("utf-8", "replace") if data is not None else "")
            words[path] = frozenset(_WORD_RE.findall(texts[path]))
        if name in words[path] if _WORD_RE.fullmatch(name) else re.search(rf"\b{re.escape(name)}\b", texts[path]):
            found.add(identity)
    return frozenset(found)


_SUPPRESSION_RE = re.compile(r"(?:/\*|//)\s*cglobals:\s*ignore\[([^\]]*)\]\s*(.*?)\s*(?:\*/|$)")


def read_suppressions(root: str, files: Iterable[str]) -> tuple[Suppression, ...]:
    """The suppression comments in these tree files (unreadable ones have none)."""
    found = []
    for path in sorted(set(files)):
        data = read_source(Path(root) / path)
        if data is None or b"cglobals:" not in data:
            continue
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            match = _SUPPRESSION_RE.search(line)
            if match is None:
                continue
            alone = not line[:match.start()].strip()
            found.append(Suppression(file=path, line=number, covers=number + 1 if alone else number,
                                     label=match.group(1).strip(), reason=match.group(2)))
    return tuple(found)


_HUNK_RE = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def git_changes(root: str, base: str) -> Change:
    """What changed in the checkout at root since the commit `base`: the
    working tree against it, untracked files included.  Raises TreeError."""
    if base.startswith("-"):
        raise TreeError(f"{base!r} is not a revision")
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except TreeError as exc:
        if "not a git repository" in str(exc):
            raise TreeError(f"{root} is not a git checkout (--diff compares one with a commit)") from None
        raise TreeError(f"{base!r} is not a commit of the checkout at {root}") from None
    diff = _git(root, "diff", "--no-color", "--no-ext-diff", "--no-renames", "--unified=0", "--relative", base,
                "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    lines: dict[str, set[int]] = {}
    deleted: set[str] = set()
    old = current = None
    old_left = new_left = 0         # lines of the hunk still to come: they are content, whatever they look like
    for line in diff.split("\n"):
        if old_left > 0 or new_left > 0:
            if line.startswith(("-", " ")):
                old_left -= 1
            if line.startswith(("+", " ")):
                new_left -= 1
            continue
        if line.startswith("--- "):
            old = _diff_path(line[4:], "a/")
        elif line.startswith("+++ "):
            current = _diff_path(line[4:], "b/")
            if current is None and old is not None:
                deleted.add(old)
            elif current is not None:
                lines.setdefault(current, set())
        elif match := _HUNK_RE.match(line):
            old_left, start, new_left = int(match.group(1) or 1), int(match.group(2)), int(match.group(3) or 1)
            if current is not None:
                lines[current].update(range(start, start + new_left))
    for path in filter(None, untracked.split("\0")):
        count = _line_count(Path(root) / path)
        lines[path] = set(range(1, count + 1))
    return Change(base=base, lines=tuple(sorted((p, frozenset(n)) for p, n in lines.items())),
                  deleted=frozenset(deleted))


_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _diff_path(name: str, prefix: str) -> str | None:
    """The path a ---/+++ line names, without git's a/ or b/ (None for
    /dev/null): git quotes a name with special characters C-style, and ends
    one with a space with a tab."""
    name = name[:-1] if name.endswith("\t") else name
    if name.startswith('"') and name.endswith('"') and len(name) > 1:
        quoted, name, index = name[1:-1], "", 0
        raw = bytearray()
        while index < len(quoted):
            char = quoted[index]
            if char == "\\" and quoted[index + 1:index + 2] in _C_ESCAPES:
                raw.append(_C_ESCAPES[quoted[index + 1]])
                index += 2
            elif char == "\\" and re.fullmatch(r"[0-7]{3}", quoted[index + 1:index + 4]):
                raw.append(int(quoted[index + 1:index + 4], 8))
                index += 4
            else:
                raw += char.encode("utf-8", "surrogateescape")
                index += 1
        name = raw.decode("utf-8", "surrogateescape")
    return name[len(prefix):] if name.startswith(prefix) else None


def _git(root: str, *argv: str) -> str:
    """git's output, decoded as file names are (bytes that are not UTF-8 kept as surrogates)."""
    try:
        proc = subprocess.run(["git", "-c", "core.quotePath=false", *argv], cwd=root, capture_output=True,
                              encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise TreeError(f"cannot run git: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        message = proc.stderr.strip().splitlines()
        raise TreeError(f"git {argv[0]} failed in {root}: {message[-1] if message else proc.returncode}")
    return proc.stdout


def _line_count(path: Path) -> int:
    data = read_source(path)
    return data.count(b"\n") + 1 if data is not None else 0
