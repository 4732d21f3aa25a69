"""The README of a patch series: what moved, what stays and why."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ..codes import Code
from ..patch.plan import MODULE_REASON, Home
from ..patch.series import Series, reference
from ..races.accesses import RacingAccess


def render_series_readme(series: Series, version: str) -> str:
    moved, stays = series.moved, series.stays
    lines = [f"# cglobals patch series for CPython {version}", "",
             "Written by `cglobals patch`; apply with `git am` on the pristine tree "
             "(`ci/verify-patches` applies, builds and tests it).", "",
             f"{len(series.patches)} patches; {len(moved)} of the {len(moved) + len(stays)} mutable globals of "
             "Objects/ and Python/ moved: "
             + ", ".join(f"{sum(m.home is home for m in moved)} into {home.value} state" for home in Home) + ".", "",
             "| directory | class | moved to interpreter | moved to runtime | stay |", "|---|---|---:|---:|---:|"]
    counts: Counter[tuple[str, str, str]] = Counter()
    for move in moved:
        counts[(move.var.file.split("/")[0], move.verdict.state_class.value, move.home.value)] += 1
    for stay in stays:
        counts[(stay.var.file.split("/")[0], stay.verdict.state_class.value, "")] += 1
    for directory, state_class in sorted({(d, c) for d, c, _ in counts}):
        row = [counts[(directory, state_class, where)] for where in ("interpreter", "runtime", "")]
        lines.append(f"| {directory}/ | {state_class} | " + " | ".join(map(str, row)) + " |")
    lines += ["", "## Patches", ""] + [f"- `{name}`" for name in series.patches]
    lines += ["", "## Moved", "", "| file | global | type | class (rule) | into | initializer |",
              "|---|---|---|---|---|---|"]
    for move in moved:
        var = move.var
        into = move.home.value + (f" ({move.note})" if move.note else "")
        lines.append(f"| {var.file} | `{var.qualified_name}` | `{var.type.strip()}` | "
                     f"{move.verdict.state_class.value} ({move.verdict.rule}) | {into} | "
                     f"{'`' + move.initializer + '`' if move.initializer else ''} |")
    lines += ["", "## Why the others stay", "", "By code (analyzer/codes.py):", ""]
    lines += _code_table(stay.code for stay in stays)
    lines += ["", "Each one, with its code and reason:", ""]
    for stay in sorted(stays, key=lambda s: (s.var.file, s.var.line)):
        var = stay.var
        lines.append(f"- {var.file}:{var.line} `{var.qualified_name}` ({stay.verdict.state_class.value}): "
                     f"{stay.code.code} {stay.code.slug}: {stay.reason}")
    if series.guarded or series.unguarded:
        lines += ["", "## Racing accesses (from ThreadSanitizer)", "",
                  "The plain accesses of the attributed races in the `cglobals races --format json` document "
                  "given with `--races`, guarded by the form that fits (analyzer/patch/guards.py); a read no "
                  "form fits is left to its write's guard.", "",
                  f"{len(series.guarded)} statements guarded, {len(series.unguarded)} writes left.", "",
                  "| file:line | function | access | reports | guarded |", "|---|---|---|---:|---|"]
        for guard in series.guarded:
            a = guard.access
            lock = ", locked" if guard.locked else ""
            lines.append(f"| {a.file}:{a.line} | {a.function}() | {_access(a)} | {a.count} | "
                         f"{guard.form}{lock} |")
        for a, reason in series.unguarded:
            lines.append(f"| {a.file}:{a.line} | {a.function}() | {_access(a)} | {a.count} | no: "
                         f"{reason.replace('|', chr(92) + '|')} |")
    if series.conversions or series.module_stays:
        lines += _modules_section(series)
    elif series.modules:
        lines += ["", "## Extension modules (Modules/)", "",
                  f"Each is {MODULE_REASON}.", "",
                  "| module | interpreter | runtime |", "|---|---:|---:|"]
        lines += [f"| {m.module} | {m.interpreter} | {m.runtime} |" for m in series.modules]
        lines.append(f"| all {len(series.modules)} | {sum(m.interpreter for m in series.modules)} | "
                     f"{sum(m.runtime for m in series.modules)} |")
    return "\n".join(lines) + "\n"


def _modules_section(series: Series) -> list[str]:
    moves = [(conversion, move) for conversion in series.conversions for move in conversion.moves]
    stays = series.module_stays
    lines = ["", "## Extension modules (Modules/)", "",
             f"{len(moves)} globals of {len(series.conversions)} module files moved into their module state "
             f"(one patch per file); {len(stays)} mutable globals of extension modules stay.  A module's "
             "interpreter globals move into the state struct its PyModuleDef gives (m_size = sizeof the "
             "struct), or one the patch adds to a multi-phase module without state, when every function that "
             "uses them reaches that state (a state local or parameter, the module object of a module-level "
             "or exec function, the type a function of a converted type is given, or a new state parameter "
             "of a helper); a static type becomes a heap type made from a spec in the exec function; the "
             "objects the state owns are visited by m_traverse and cleared by m_clear.", "",
             "| file | global | type | class (rule) | member of | owns its object |", "|---|---|---|---|---|---|"]
    for conversion, move in moves:
        var = move.var
        lines.append(f"| {var.file} | `{var.qualified_name}` | `{var.type.strip()}` | "
                     f"{move.verdict.state_class.value} ({move.verdict.rule}) | `{conversion.state_type}` | "
                     f"{'yes' if move.owned else 'no'} |")
    refused = [c for c in series.conversions if c.own_gil_problem]
    if refused or any(c.own_gil for c in series.conversions):
        lines += ["", "Converted modules that say they may be imported by subinterpreters with their own GIL "
                  "(Py_mod_multiple_interpreters = Py_MOD_PER_INTERPRETER_GIL_SUPPORTED): "
                  + (", ".join(c.module or c.file for c in series.conversions if c.own_gil) or "none")
                  + ". Those that may not, so the subinterpreter test leaves them out: "
                  + ("; ".join(f"{c.module or c.file} ({c.own_gil_problem})" for c in refused) or "none") + "."]
    lines += ["", "Why the others stay, by code (analyzer/codes.py):", ""]
    lines += _code_table(stay.code for stay in stays)
    per_module: dict[str, Counter[str]] = {}
    for _, move in moves:
        per_module.setdefault(_module_of(move.var.file), Counter())["moved"] += 1
    for stay in stays:
        per_module.setdefault(_module_of(stay.var.file), Counter())[stay.verdict.state_class.value] += 1
    lines += ["", "| module | moved | interpreter, left | runtime, left |", "|---|---:|---:|---:|"]
    lines += [f"| {module} | {c['moved']} | {c['interpreter']} | {c['runtime']} |"
              for module, c in sorted(per_module.items())]
    lines += ["", "Each interpreter global that stays, with its code:", ""]
    for stay in sorted(stays, key=lambda s: (s.var.file, s.var.line)):
        if stay.verdict.state_class.value == "interpreter":
            detail = f": {stay.detail}" if stay.detail else ""
            lines.append(f"- {stay.var.file}:{stay.var.line} `{stay.var.qualified_name}`: "
                         f"{stay.code.code} {stay.code.slug}{detail}")
    return lines


def _code_table(found: Iterable[Code]) -> list[str]:
    """How many globals stay for each code, most first."""
    counts = Counter(found)
    lines = ["| code | why | globals |", "|---|---|---:|"]
    lines += [f"| {code.code} {code.slug} | {code.summary} | {count} |"
              for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0].code))]
    return lines


def _module_of(path: str) -> str:
    """A module's directory (Modules/_io) or file."""
    return "/".join(path.split("/")[:2])


def _access(access: RacingAccess) -> str:
    return f"{'writes' if access.write else 'reads'} {access.target}"


def render_moved_tsv(series: Series) -> str:
    """The moved globals, one per line: what ci/verify-patches checks the
    patched tree's scan against."""
    lines = ["file\tfunc\tname\tclass\treference"]
    lines += [f"{m.var.file}\t{m.var.func or '-'}\t{m.var.name}\t{m.verdict.state_class.value}\t"
              f"{reference(m)}" for m in series.moved]
    lines += [f"{m.var.file}\t{m.var.func or '-'}\t{m.var.name}\t{m.verdict.state_class.value}\t"
              f"{m.paths[0][1]}{m.field}" for c in series.conversions for m in c.moves]   # as its first user has it
    return "\n".join(lines) + "\n"

