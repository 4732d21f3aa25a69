"""Lines an edit made longer than PEP 7's 79 columns, broken as a C
programmer breaks them: after the last comma that fits inside the first
parenthesis the line opens, the rest aligned one column past that
parenthesis (a continuation line of the same statement joins the rest
where it fits).  Only whitespace changes: a line with a comment, a
preprocessor line or one that ends inside a block comment is left alone."""
from __future__ import annotations

from .edits import tokenize
from .guard_layout import WIDTH

_COMPOUND = frozenset({"if", "while", "for", "switch", "} else if"})


def wrapped(before: str, after: str) -> str:
    """`after` with each line longer than WIDTH that `before` lacks broken."""
    pristine = set(before.splitlines())
    lines = after.splitlines(keepends=True)
    out: list[str] = []
    in_comment = False
    index = 0
    while index < len(lines):
        line = lines[index]
        body = line.rstrip("\n")
        breakable = not in_comment and len(body) > WIDTH and body not in pristine
        in_comment = _ends_in_comment(body, in_comment)
        broken = _broken(body) if breakable else None
        if broken is None:
            out.append(line)
            index += 1
            continue
        following = lines[index + 1].rstrip("\n") if index + 1 < len(lines) else ""
        if broken.open and _joinable(following):
            joined = f"{broken.lines[-1]} {following.strip()}"
            if len(joined) <= WIDTH:
                broken.lines[-1] = joined
                index += 1
        out += [text + "\n" for text in broken.lines]
        index += 1
    return "".join(out)


class _Broken:
    def __init__(self, lines: list[str], open_: bool) -> None:
        self.lines = lines
        self.open = open_            # the statement goes on past the last line


def _broken(line: str) -> _Broken | None:
    stripped = line.lstrip()
    if stripped.startswith("#") or line.endswith("\\"):
        return None
    tokens = tokenize(line)
    if any(t.kind == "comment" for t in tokens):
        return None
    opened: list[int] = []              # the columns of the parentheses open at a token
    commas: dict[int, list[int]] = {}    # per parenthesis: the ends of the commas directly inside it
    for token in tokens:
        if token.text in ("(", "["):
            opened.append(token.start if token.text == "(" else -1)
        elif token.text in (")", "]"):
            if opened:
                opened.pop()
        elif token.text == "," and opened and opened[-1] >= 0:
            commas.setdefault(opened[-1], []).append(token.end)
    depth = len(opened)
    if not commas:
        return None
    paren = min(commas)                  # the outermost parenthesis with commas of its own
    commas_of = commas[paren]
    indent = " " * (paren + 1)
    lines: list[str] = []
    start = 0                            # where the text still to place begins
    while True:
        rest = line[start:]
        skipped = start + len(rest) - len(rest.lstrip()) if lines else 0
        column = len(indent) - skipped if lines else 0      # output column = column + offset in `line`
        if column + len(line.rstrip()) <= WIDTH:
            break
        fits = [c for c in commas_of if c > skipped and column + c <= WIDTH]
        if not fits:
            break
        lines.append((indent if lines else "") + line[skipped:fits[-1]].rstrip())
        start = fits[-1]
    if not lines:
        return None
    last = indent + line[start:].strip()
    if stripped.split("(")[0].strip() in _COMPOUND and last.endswith(") {"):
        lines += [last[:-2], line[:len(line) - len(stripped)] + "{"]      # PEP 7: the brace on a line of its own
    else:
        lines.append(last)
    return _Broken(lines, depth > 0)


def _joinable(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#") and not line.endswith("\\") \
        and not any(t.kind == "comment" for t in tokenize(line))


def _ends_in_comment(line: str, inside: bool) -> bool:
    """Whether a block comment is open at the end of the line."""
    position = 0
    while True:
        if inside:
            end = line.find("*/", position)
            if end < 0:
                return True
            inside, position = False, end + 2
        else:
            start = line.find("/*", position)
            quote = line.find('"', position)
            if start < 0:
                return False
            if 0 <= quote < start:          # a string first: skip it
                close = line.find('"', quote + 1)
                while close > 0 and line[close - 1] == "\\":
                    close = line.find('"', close + 1)
                if close < 0:
                    return False
                position = close + 1
                continue
            inside, position = True, start + 2
