"""The report page as blocks, rendered by markdown.py and html.py alike."""
from __future__ import annotations

from dataclasses import dataclass

from .summary import CLASSES, Comparison, Summary


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Image:
    name: str          # plots/<name>.png
    alt: str


Block = Heading | Paragraph | Table | Image
PLOTS = ("classes-by-directory", "top-files", "comparison")


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def page(summary: Summary, comparison: Comparison | None) -> tuple[Block, ...]:
    total = summary.total
    blocks: list[Block] = [
        Heading(1, f"C globals of CPython {summary.version}"),
        Paragraph(f"{total} globals with static storage duration in {summary.units} translation units "
                  f"({summary.failed_units} could not be analyzed), classified by `cglobals` "
                  "(rules: docs/rules.md). `runtime`: process-wide state (belongs in `_PyRuntimeState`, "
                  "guarded); `interpreter`: state of one interpreter (`PyInterpreterState` or module state); "
                  "`immutable`: never written after static initialization. "
                  f"{summary.low_confidence} verdicts have low confidence."),
        Paragraph("To check the verdicts: `review.html` beside this page lists every mutable global with its "
                  "rule, evidence and write sites, linked to the source lines."),
        Table(("class", "globals", "share"),
              tuple((c.value, str(n), _percent(n, total)) for c, n in zip(CLASSES, summary.by_class, strict=True))),
        Heading(2, "Per top-level directory"),
        Image("classes-by-directory", "globals per class and top-level directory"),
        Table(("directory", *(c.value for c in CLASSES), "total"),
              tuple((d, *map(str, c), str(sum(c))) for d, c in summary.by_directory)),
        Heading(2, "Files with the most mutable globals"),
        Image("top-files", "files with the most runtime and interpreter globals"),
        Table(("file", "runtime", "interpreter", "immutable"),
              tuple((f, *map(str, c)) for f, c in summary.top_files)),
        Heading(2, "Rules that decided"),
        Table(("rule", "class", "globals"), tuple((r, c.value, str(n)) for r, c, n in summary.by_rule)),
    ]
    if comparison is not None:
        blocks += [
            Heading(2, f"From {comparison.before} to {comparison.after}"),
            Paragraph(f"Globals of each class in {comparison.before}: how many remained (same file, function "
                      f"and name, same class in {comparison.after}), were reclassified, are gone (moved into "
                      "interpreter, runtime or module state, or removed), and how many globals of the class "
                      f"appeared in {comparison.after}."),
            Image("comparison", f"what became of each class from {comparison.before} to {comparison.after}"),
            Table(("class", comparison.before, "remained", "reclassified", "gone", "appeared", comparison.after),
                  tuple((c.state_class.value, str(c.before), str(c.remained), str(c.reclassified), str(c.gone),
                         str(c.appeared), str(c.after)) for c in comparison.changes)),
        ]
    return tuple(blocks)
