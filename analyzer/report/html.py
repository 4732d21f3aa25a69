"""index.html: the report page, self-contained (plots inlined as data URIs)."""
from __future__ import annotations

import base64
from html import escape

from .page import Block, Heading, Image, Paragraph, Table

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 960px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #e5e5e5; }
th { text-align: left; background: #f4f6f8; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; } code { background: #f4f6f8; padding: 0 0.2em; }
"""


def _inline(text: str) -> str:
    """Escape, then turn `code` spans into <code>."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def render_html(blocks: tuple[Block, ...], plots: dict[str, bytes]) -> str:
    title = next((b.text for b in blocks if isinstance(b, Heading)), "cglobals report")
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{_inline(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_inline(block.text)}</p>")
        elif isinstance(block, Image):
            data = base64.b64encode(plots[block.name]).decode("ascii")
            body.append(f'<p><img alt="{escape(block.alt)}" src="data:image/png;base64,{data}"></p>')
        elif isinstance(block, Table):
            head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
            rows = "".join("<tr>" + "".join(
                f'<td{" class=n" if i else ""}>{escape(c)}</td>' for i, c in enumerate(row)) + "</tr>"
                for row in block.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")
