"""The README of a patch series: what moved, what stays and why."""
from __future__ import annotations

from collections import Counter

from ..patch.series import Series


def render_series_readme(series: Series, version: str) -> str:
    moved, stays = series.moved, series.stays
    lines = [f"# cglobals patch series for CPython {version}", "",
             "Written by `cglobals patch`; apply with `git am` on the pristine tree "
             "(`ci/verify-patches` applies, builds and tests it).", "",
             f"{len(series.patches)} patches; {len(moved)} of the {len(moved) + len(stays)} mutable globals of "
             "Objects/ and Python/ moved into interpreter state.", "",
             "| directory | class | moved | stay |", "|---|---|---:|---:|"]
    counts: Counter[tuple[str, str, bool]] = Counter()
    for move in moved:
        counts[(move.var.file.split("/")[0], move.verdict.state_class.value, True)] += 1
    for stay in stays:
        counts[(stay.var.file.split("/")[0], stay.verdict.state_class.value, False)] += 1
    for directory, state_class in sorted({(d, c) for d, c, _ in counts}):
        lines.append(f"| {directory}/ | {state_class} | {counts[(directory, state_class, True)]} | "
                     f"{counts[(directory, state_class, False)]} |")
    lines += ["", "## Patches", ""] + [f"- `{name}`" for name in series.patches]
    lines += ["", "## Moved", "", "| file | global | type | rule |", "|---|---|---|---|"]
    for move in moved:
        var = move.var
        lines.append(f"| {var.file} | `{var.qualified_name}` | `{var.type.strip()}` | {move.verdict.rule} |")
    lines += ["", "## Why the others stay", "", "| reason | globals |", "|---|---:|"]
    reasons = Counter(_reason_kind(stay.reason) for stay in stays)
    lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
    lines += ["", "Each one, with its reason:", ""]
    for stay in sorted(stays, key=lambda s: (s.var.file, s.var.line)):
        var = stay.var
        lines.append(f"- {var.file}:{var.line} `{var.qualified_name}` ({stay.verdict.state_class.value}): "
                     f"{stay.reason}")
    return "\n".join(lines) + "\n"


def render_moved_tsv(series: Series) -> str:
    """The moved globals, one per line: what ci/verify-patches checks the
    patched tree's scan against."""
    lines = ["file\tfunc\tname\tclass\tfield"]
    lines += [f"{m.var.file}\t{m.var.func or '-'}\t{m.var.name}\t{m.verdict.state_class.value}\t"
              f"cglobals.{m.state_key}.{m.field}" for m in series.moved]
    return "\n".join(lines) + "\n"


def _reason_kind(reason: str) -> str:
    """The reason without the part that names one global's details."""
    return reason.split(":")[0].split(" (")[0]
