"""The files of a report directory: index.md, index.html, plots/*.png."""
from __future__ import annotations

from . import plots
from .html import render_html
from .markdown import render_markdown
from .page import Image, page
from .summary import Comparison, Summary


def render_report(summary: Summary, comparison: Comparison | None) -> dict[str, bytes]:
    """Relative path -> content."""
    blocks = page(summary, comparison)
    drawn = {"classes-by-directory": plots.classes_by_directory(summary), "top-files": plots.top_files(summary)}
    if comparison is not None:
        drawn["comparison"] = plots.comparison(comparison)
    assert {b.name for b in blocks if isinstance(b, Image)} <= set(drawn)
    files = {f"plots/{name}.png": png for name, png in drawn.items()}
    # Text from the tree may hold surrogates (bytes that are not UTF-8): written as escapes.
    files["index.md"] = render_markdown(blocks).encode("utf-8", "backslashreplace")
    files["index.html"] = render_html(blocks, drawn).encode("utf-8", "backslashreplace")
    return files
