"""What a removed declaration leaves behind: the comment above it, an
`#ifdef` around nothing, a doubled blank line.  A comment that heads
declarations which all go describes what went: it goes too (the member
that replaces a moved variable carries it), and so does a conditional
block left empty."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .edits import Edit

_OPENING = re.compile(r"[ \t]*#[ \t]*(?:if|ifdef|ifndef)\b")
_BRANCH = re.compile(r"[ \t]*#[ \t]*(?:else|elif)\b")
_CLOSING = re.compile(r"[ \t]*#[ \t]*endif\b")


@dataclass(frozen=True, slots=True)
class Tidied:
    edits: tuple[Edit, ...]                        # besides the removals
    comments: dict[tuple[int, int], tuple[str, ...]]   # removed lines (1-based, inclusive) -> the comment above


def tidy_removals(text: str, edits: list[Edit]) -> Tidied:
    """The edits that remove what `edits`' whole-line removals orphan, and
    the comments that headed them (to go with their members)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    line_of = {offset: number for number, offset in enumerate(starts)}
    removed: set[int] = set()      # 0-based line numbers
    for edit in edits:
        if edit.text == "" and edit.start in line_of and edit.end in line_of and edit.end > edit.start:
            removed.update(range(line_of[edit.start], line_of[edit.end]))
    extra: list[Edit] = []
    comments: dict[tuple[int, int], tuple[str, ...]] = {}
    gone = set(removed)
    for first, last in _groups(removed):
        after = last + 1
        if after < len(lines) and lines[after].strip() and not lines[after].lstrip().startswith("#"):
            continue              # declarations that stay follow: the comment is theirs too
        comment = _comment_above(lines, first)
        if comment is not None:
            comments[(first + 1, last + 1)] = tuple(line.rstrip("\n") for line in lines[comment:first])
            gone.update(range(comment, first))
    gone |= _empty_conditionals(lines, gone)
    gone |= _excess_blanks(lines, gone)
    for first, last in _groups(gone - removed):
        extra.append(Edit(start=starts[first], end=starts[last + 1], text=""))
    return Tidied(edits=tuple(extra), comments=comments)


def _groups(numbers: set[int]) -> list[tuple[int, int]]:
    groups: list[tuple[int, int]] = []
    for number in sorted(numbers):
        if groups and groups[-1][1] == number - 1:
            groups[-1] = (groups[-1][0], number)
        else:
            groups.append((number, number))
    return groups


def _comment_above(lines: list[str], first: int) -> int | None:
    """The first line of a comment that ends on the line above `first`
    and stands on lines of its own."""
    end = first - 1
    if end < 0 or not lines[end].rstrip().endswith("*/") and not lines[end].lstrip().startswith("//"):
        return None
    if lines[end].lstrip().startswith("//"):
        start = end
        while start > 0 and lines[start - 1].lstrip().startswith("//"):
            start -= 1
        return start
    start = end
    while start >= 0 and "/*" not in lines[start]:
        start -= 1
    if start < 0 or not lines[start].lstrip().startswith("/*") or lines[start].lstrip().startswith("/*[") \
            or any("*/" in lines[n] for n in range(start, end)):
        return None            # code before it, Argument Clinic's markers, or two comments
    return start


def _empty_conditionals(lines: list[str], gone: set[int]) -> set[int]:
    """The `#if`/`#endif` lines of blocks with no branch whose every line
    goes (or is blank), and what goes with them."""
    stack: list[tuple[int, bool]] = []     # (line of the #if, has an #else)
    found: set[int] = set()
    for number, line in enumerate(lines):
        if _OPENING.match(line):
            stack.append((number, False))
        elif _BRANCH.match(line) and stack:
            stack[-1] = (stack[-1][0], True)
        elif _CLOSING.match(line) and stack:
            opening, branched = stack.pop()
            inside = range(opening + 1, number)
            if not branched and len(inside) and any(n in gone for n in inside) \
                    and all(n in gone or n in found or not lines[n].strip() for n in inside):
                found.update(range(opening, number + 1))
    return found


def _excess_blanks(lines: list[str], gone: set[int]) -> set[int]:
    """The blank lines that would make a longer run of them than the file
    had where the lines went: the later ones."""
    excess: set[int] = set()
    number = 0
    while number < len(lines):
        if number not in gone and lines[number].strip():
            number += 1
            continue
        start = number
        while number < len(lines) and (number in gone or not lines[number].strip()):
            number += 1
        run = range(start, number)
        if any(n in gone for n in run):
            kept = [n for n in run if n not in gone]
            excess.update(kept[_longest_blank_run(lines, run):])
    return excess


def _longest_blank_run(lines: list[str], numbers: range) -> int:
    longest = current = 0
    for number in numbers:
        current = 0 if lines[number].strip() else current + 1
        longest = max(longest, current)
    return longest
