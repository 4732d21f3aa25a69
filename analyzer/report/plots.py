"""The report's plots, drawn with matplotlib (Agg) into PNG bytes."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .summary import CLASSES, Comparison, Summary  # noqa: E402
from .text import one_line  # noqa: E402

COLORS = {"runtime": "#d95f02", "interpreter": "#1b6ec2", "immutable": "#9aa5ad"}


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    # A fixed date keeps the PNG bytes the same from run to run.
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _text(text: str) -> str:
    """Text as matplotlib draws it literally: no surrogates (its fonts refuse
    them), no $ (mathtext)."""
    return one_line(text).replace("$", "\\$")


def _stacked_bars(labels: list[str], rows: list[tuple[int, int, int]], title: str, xlabel: str) -> bytes:
    labels, title = [_text(label) for label in labels], _text(title)
    figure, axes = plt.subplots(figsize=(8.5, 0.32 * len(labels) + 1.4))
    positions = range(len(labels))
    left = [0] * len(labels)
    for index, state_class in enumerate(CLASSES):
        values = [row[index] for row in rows]
        axes.barh(positions, values, left=left, color=COLORS[state_class.value], label=state_class.value)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    axes.legend(loc="lower right", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def classes_by_directory(summary: Summary) -> bytes:
    return _stacked_bars([d for d, _ in summary.by_directory], [c for _, c in summary.by_directory],
                         f"CPython {summary.version}: globals per class and top-level directory", "globals")


def top_files(summary: Summary) -> bytes:
    rows = [(r, i, 0) for _, (r, i, _) in summary.top_files]
    return _stacked_bars([f for f, _ in summary.top_files], rows,
                         f"CPython {summary.version}: files with the most mutable globals",
                         "runtime + interpreter globals")


def comparison(result: Comparison) -> bytes:
    kinds = ("remained", "reclassified", "gone", "appeared")
    shades = ("#4d4d4d", "#a6761d", "#1b9e77", "#e7298a")
    figure, axes = plt.subplots(figsize=(8.5, 3.8))
    width = 0.2
    for offset, (kind, shade) in enumerate(zip(kinds, shades, strict=True)):
        values = [getattr(change, kind) for change in result.changes]
        positions = [i + (offset - 1.5) * width for i in range(len(result.changes))]
        bars = axes.bar(positions, values, width, label=kind, color=shade)
        axes.bar_label(bars, fontsize=7, padding=1)
    axes.set_xticks(range(len(result.changes)), [c.state_class.value for c in result.changes])
    axes.set_ylabel("globals")
    axes.set_yscale("symlog", linthresh=10)
    axes.set_ylim(0, 4 * max((c.before for c in result.changes), default=1))   # room for the labels
    axes.set_title(_text(f"{result.before} → {result.after}: what became of each class's globals"))
    axes.legend(frameon=False, ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)
