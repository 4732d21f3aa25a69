"""index.md: the report page in Markdown; plots are files beside it."""
from __future__ import annotations

from .page import Block, Heading, Image, Paragraph, Table
from .text import one_line, printable


def _cell(text: str) -> str:
    return one_line(text).replace("|", "\\|")


def render_markdown(blocks: tuple[Block, ...]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + one_line(block.text), ""]
        elif isinstance(block, Paragraph):
            lines += [printable(block.text), ""]
        elif isinstance(block, Image):
            lines += [f"![{block.alt}](plots/{block.name}.png)", ""]
        elif isinstance(block, Table):
            lines.append("| " + " | ".join(map(_cell, block.header)) + " |")
            lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(block.header))) + "|")
            lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in block.rows]
            lines.append("")
    return "\n".join(lines)
