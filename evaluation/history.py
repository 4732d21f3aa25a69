"""A labelled set from history: what happened to each 3.11.2 global by 3.13.5.

Evaluation only; the classifier never reads any of this.  Labels:
  interpreter  gone from its place in 3.13.5, and the 3.13.5 version of its
               file accesses a member of the same name (`->name`, `.name`)
               that is a field of PyInterpreterState (struct _is, with every
               struct it holds by value) or of the module state struct
               defined beside the file (a struct whose name says "state")
  runtime      the same, with a field of _PyRuntimeState (struct
               pyruntimestate and what it holds by value)
  immutable    still there in 3.13.5 and const, a static type or another
               statically allocated object; or an _Py_IDENTIFIER whose string
               the 3.13.5 file names with _Py_ID() (a build-time string).
               Not static types of extension modules still there: those are
               unresolved (upstream's 3.13 globals-to-fix.tsv lists them)
  unlabelled   anything else: still there and mutable (unresolved), gone
               without a matching field (deleted, renamed), a field name in
               both structs with no telling access, or a file gone in 3.13.5
The rules that decide each label are in `label` below; every label carries
the reason, so a reviewer can check any row.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pycparser import c_ast

from analyzer import declarations
from analyzer.cpython.layout import is_extension
from analyzer.model import Family, GlobalVar, ScanResult, StateClass, Verdict

Identity = tuple[str, str, str]
_STATE_ROOTS = {"_is": StateClass.INTERPRETER, "pyruntimestate": StateClass.RUNTIME}
_OBJECTS = frozenset({Family.STATIC_TYPE, Family.OBJECT})


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    state_class: StateClass | None
    reason: str


def state_fields(tree_path: str, work_dir: str | None = None) -> dict[StateClass, frozenset[str]]:
    """Field names of PyInterpreterState and _PyRuntimeState, with the fields
    of every struct they hold by value (arrays included), in a tree."""
    structs: dict[str, c_ast.Struct] = {}
    typedefs: dict[str, c_ast.Node] = {}
    for ast in declarations(tree_path, "Python/pystate.c", cache_dir=work_dir):
        for node in _walk(ast):
            if isinstance(node, c_ast.Struct) and node.decls is not None and node.name:
                structs[node.name] = node
            elif isinstance(node, c_ast.Typedef):
                typedefs[node.name] = node.type
    found: dict[StateClass, frozenset[str]] = {}
    for root, state_class in _STATE_ROOTS.items():
        names: set[str] = set()
        _fields(structs[root], structs, typedefs, names, set())
        found[state_class] = frozenset(names)
    return found


def _walk(node: c_ast.Node) -> Iterator[c_ast.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for _, child in current.children())


def _fields(struct: c_ast.Struct, structs: dict[str, c_ast.Struct], typedefs: dict[str, c_ast.Node],
            names: set[str], seen: set[int]) -> None:
    if id(struct) in seen:
        return
    seen.add(id(struct))
    for decl in struct.decls or ():
        if decl.name:
            names.add(decl.name)
        inner = _held_struct(decl.type, structs, typedefs)
        if inner is not None:
            _fields(inner, structs, typedefs, names, seen)


def _held_struct(node: c_ast.Node, structs: dict[str, c_ast.Struct],
                 typedefs: dict[str, c_ast.Node]) -> c_ast.Struct | None:
    """The struct a member holds by value (through arrays and typedefs)."""
    while isinstance(node, c_ast.ArrayDecl):
        node = node.type
    if not isinstance(node, c_ast.TypeDecl):
        return None
    inner = node.type
    if isinstance(inner, (c_ast.Struct, c_ast.Union)):
        if inner.decls is not None:
            return inner
        return structs.get(inner.name) if inner.name else None
    if isinstance(inner, c_ast.IdentifierType) and len(inner.names) == 1 and inner.names[0] in typedefs:
        return _held_struct(typedefs[inner.names[0]], structs, typedefs)
    return None


_STRUCT_RE = re.compile(r"\b(?:typedef\s+)?struct\s*(\w*)\s*\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\s*(\w*)\s*;", re.S)
_MEMBER_RE = re.compile(r"(\w+)\s*(?:\[[^\]]*\]\s*)*(?=[;,])")
_COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def module_state_fields(root: Path, path: str) -> frozenset[str]:
    """Member names of the structs named like module state ('state' in the
    tag or typedef name) in the file and the headers of its directory."""
    directory = (root / path).parent
    files = [root / path, *sorted(directory.glob("*.h"))]
    names: set[str] = set()
    for file in files:
        if not file.is_file():
            continue
        text = _COMMENT_RE.sub("", file.read_text(encoding="utf-8", errors="replace"))
        for match in _STRUCT_RE.finditer(text):
            tag, body, typedef = match.groups()
            if "state" in (tag + " " + typedef).lower():
                names.update(_MEMBER_RE.findall(body))
    return frozenset(names)


_ALIAS_RE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(.*)$", re.M)


def _alias_class(expansion: str) -> StateClass | None:
    """The state an object-like macro's expansion reaches into."""
    if re.search(r"\b_PyRuntime\b|\bruntime->", expansion):
        return StateClass.RUNTIME
    if re.search(r"^\(?\s*&?\(?\s*(?:\w*interp\w*|_PyInterpreterState_GET\(\)|state|st)\s*->", expansion):
        return StateClass.INTERPRETER
    return None


def macro_aliases(root: Path) -> dict[str, list[tuple[str, StateClass]]]:
    """Object-like macros of a tree that stand for a field of runtime or
    interpreter state, by name: `#define _PyMem (_PyRuntime.allocators.standard.mem)`,
    `#define usedpools (state->pools.used)`; with the defining file."""
    found: dict[str, list[tuple[str, StateClass]]] = defaultdict(list)
    for path in sorted([*root.glob("**/*.c"), *root.glob("**/*.h")]):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "#" not in text:
            continue
        for match in _ALIAS_RE.finditer(text):
            state_class = _alias_class(match.group(2))
            if state_class is not None:
                found[match.group(1)].append((path.relative_to(root).as_posix(), state_class))
    return dict(found)


def label(old: ScanResult, new: ScanResult, new_root: Path,
          fields: dict[StateClass, frozenset[str]]) -> dict[Identity, Label]:
    present = {var.identity: var for var in new.globals}
    aliases = macro_aliases(new_root)
    unit_kinds = dict(new.unit_kinds)
    by_basename: dict[str, list[str]] = defaultdict(list)
    for path in {var.file for var in new.globals} | set(unit_kinds):
        by_basename[path.rsplit("/", 1)[-1]].append(path)
    texts: dict[str, str | None] = {}
    module_fields: dict[str, frozenset[str]] = {}
    labels = {}
    for var in old.globals:
        then = present.get(var.identity)
        if then is not None:
            labels[var.identity] = _still_there(then, is_extension(then.file, unit_kinds))
            continue
        if var.file not in texts:
            file = new_root / var.file
            if not file.is_file():       # moved: a file of the same name elsewhere (Modules/_sre.c -> _sre/sre.c)
                moved = by_basename.get(var.file.rsplit("/", 1)[-1], [])
                file = new_root / moved[0] if len(moved) == 1 else file
            texts[var.file] = _COMMENT_RE.sub("", file.read_text(encoding="utf-8", errors="replace")) \
                if file.is_file() else None
        text = texts[var.file]
        elsewhere = not var.func and (text is None or re.search(rf"\b{re.escape(var.name)}\b", text) is None)
        alias = _alias_label(var.name, var.file, aliases, elsewhere)
        if alias is not None:
            labels[var.identity] = alias
            continue
        if text is None:
            labels[var.identity] = Label(state_class=None, reason="file gone in 3.13.5")
            continue
        if var.macro == "_Py_IDENTIFIER" and var.name.startswith("PyId_") and \
                re.search(rf"_Py_ID\(\s*{re.escape(var.name[5:])}\s*\)", text):
            labels[var.identity] = Label(state_class=StateClass.IMMUTABLE,
                                         reason=f"became the build-time string _Py_ID({var.name[5:]})")
            continue
        if var.file not in module_fields:
            module_fields[var.file] = module_state_fields(new_root, var.file)
        labels[var.identity] = _moved(var.name, text, fields, module_fields[var.file])
    return labels


def _alias_label(name: str, file: str, aliases: dict[str, list[tuple[str, StateClass]]],
                 elsewhere: bool) -> Label | None:
    """A macro of the old name now stands for a state field: in the same
    file, or (for a file-scope variable its file no longer names, the code
    having moved) in the one file of the new tree that defines it."""
    places = aliases.get(name, [])
    here = [c for f, c in places if f == file]
    chosen = here[:1] if here else ([c for _, c in places] if len(places) == 1 and elsewhere else [])
    if not chosen:
        return None
    where = file if here else places[0][0]
    return Label(state_class=chosen[0], reason=f"now a macro for a field of {chosen[0].value} state ({where})")


def _still_there(var: GlobalVar, extension: bool) -> Label:
    if var.const:
        return Label(state_class=StateClass.IMMUTABLE, reason="still there, const")
    if var.family is Family.STATIC_TYPE and extension:
        # Not resolved: upstream's 3.13 globals-to-fix.tsv lists these under
        # "static types" of extension modules.
        return Label(state_class=None, reason="still there, a static type of an extension module: unresolved")
    if var.family in _OBJECTS:
        return Label(state_class=StateClass.IMMUTABLE, reason=f"still there, a statically allocated {var.type}")
    return Label(state_class=None, reason="still there and mutable: unresolved")


def _candidates(name: str) -> list[str]:
    """The name, without leading underscores, and without its first word
    (tracemalloc_traces -> traces, _Py_ctype_table -> ctype_table)."""
    bare = name.lstrip("_")
    found = [name, bare]
    if "_" in bare:
        found.append(bare.split("_", 1)[1].lstrip("_"))
    return [c for c in dict.fromkeys(found) if len(c) > 3]


def _moved(name: str, text: str, fields: dict[StateClass, frozenset[str]], module: frozenset[str]) -> Label:
    for candidate in _candidates(name):
        accesses = [m for m in re.finditer(rf"(?:->|\.)\s*{re.escape(candidate)}\b", text)]
        if not accesses:
            continue
        interp = candidate in fields[StateClass.INTERPRETER] or candidate in module
        runtime = candidate in fields[StateClass.RUNTIME]
        where = "module state" if candidate in module else "PyInterpreterState"
        if interp and not runtime:
            return Label(state_class=StateClass.INTERPRETER, reason=f"now a field of {where}: .{candidate}")
        if runtime and not interp:
            return Label(state_class=StateClass.RUNTIME, reason=f"now a field of _PyRuntimeState: .{candidate}")
        if interp and runtime:
            lines = [text[text.rfind("\n", 0, m.start()) + 1:text.find("\n", m.end())] for m in accesses]
            says_runtime = any("runtime" in line.lower() for line in lines)
            says_interp = any(re.search(r"\binterp\b|state|\bst\b", line) for line in lines)
            if says_runtime != says_interp:
                state_class = StateClass.RUNTIME if says_runtime else StateClass.INTERPRETER
                return Label(state_class=state_class,
                             reason=f"now .{candidate}, accessed through {state_class.value} state")
            return Label(state_class=None, reason=f".{candidate} is a field of both states")
    return Label(state_class=None, reason="gone, no field of that name: deleted or renamed")


# -- metrics ----------------------------------------------------------------

CLASSES = (StateClass.RUNTIME, StateClass.INTERPRETER, StateClass.IMMUTABLE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scores:
    total: int
    correct: int
    confusion: dict[tuple[StateClass, StateClass], int]     # (label, predicted) -> count

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def precision(self, state_class: StateClass) -> float:
        predicted = sum(n for (_, p), n in self.confusion.items() if p is state_class)
        return self.confusion.get((state_class, state_class), 0) / predicted if predicted else 0.0

    def recall(self, state_class: StateClass) -> float:
        actual = sum(n for (a, _), n in self.confusion.items() if a is state_class)
        return self.confusion.get((state_class, state_class), 0) / actual if actual else 0.0

    def support(self, state_class: StateClass) -> int:
        return sum(n for (a, _), n in self.confusion.items() if a is state_class)


def score(labels: Mapping[Identity, StateClass | None], verdicts: dict[Identity, Verdict]) -> Scores:
    confusion: Counter[tuple[StateClass, StateClass]] = Counter()
    for identity, expected in labels.items():
        if expected is None or identity not in verdicts:
            continue
        confusion[(expected, verdicts[identity].state_class)] += 1
    total = sum(confusion.values())
    correct = sum(n for (a, p), n in confusion.items() if a is p)
    return Scores(total=total, correct=correct, confusion=dict(confusion))


# -- upstream's sections ----------------------------------------------------

_IGNORED_TOP = {
    "process-global values - set once": StateClass.RUNTIME,
    "state tied to Py_Main()": StateClass.RUNTIME,
    "runtime-global values - set once with each init": StateClass.RUNTIME,
    "runtime-global state": StateClass.RUNTIME,
}
_IGNORED_SUB = {
    "thread-local variables": StateClass.RUNTIME,
    "should be const": StateClass.IMMUTABLE,
}
_TO_FIX_TOP = {
    "global objects to fix in core code": StateClass.IMMUTABLE,
    "global non-objects to fix in core code": StateClass.INTERPRETER,
    "global objects to fix in builtin modules": StateClass.INTERPRETER,
    "global non-objects to fix in builtin modules": StateClass.INTERPRETER,
    "global objects to fix in extension modules": StateClass.INTERPRETER,
    "global non-objects to fix in extension modules": StateClass.INTERPRETER,
}


_UNDECIDED_GROUPS = frozenset({("global non-objects to fix in extension modules", "initialized once")})
"""(heading, group) whose entries imply no class: values set once that are
not objects (a page size, C-API capsule pointers, library probes, a terminal's
set-up flags) listed to fix, apart from the module `state` group: set once
per process by what they hold, yet to be fixed by upstream's reckoning."""


def upstream_sections(tree: Path) -> dict[Identity, tuple[StateClass, str]]:
    """The class each section of upstream's lists implies for its entries
    (see docs/classification.md); entries of sections that imply none (test
    code, unused, analyzer workarounds, _UNDECIDED_GROUPS) are left out."""
    implied: dict[Identity, tuple[StateClass, str]] = {}
    for name, top_map, sub_map in (("ignored.tsv", _IGNORED_TOP, _IGNORED_SUB),
                                   ("globals-to-fix.tsv", _TO_FIX_TOP, {})):
        top = group = sub = ""
        after_rule = after_divider = False
        for line in (tree / "Tools" / "c-analyzer" / "cpython" / name).read_text().splitlines():
            if line.startswith("####"):
                after_rule, group, sub = True, "", ""
                continue
            if line.startswith("##-"):
                after_divider, group, sub = True, "", ""
                continue
            if line.startswith("## "):
                heading = line[3:].strip()
                if after_rule:
                    top, after_rule = heading, False
                elif after_divider:
                    group = sub = heading      # `##---` then `## initialized once`: a group of subsections
                    after_divider = False
                else:
                    sub = heading
                continue
            if not line.strip() or line.startswith("#") or line.startswith("filename\t"):
                continue
            file, func, var = line.split("\t")[:3]
            if (top, group) in _UNDECIDED_GROUPS:
                continue
            state_class = sub_map.get(sub) or top_map.get(top)
            if state_class is not None:
                section = f"{name}: {top}" + (f" / {sub}" if sub else "")
                implied[(file, "" if func == "-" else func, var)] = (state_class, section)
    return implied


def with_upstream_sections(labels: dict[Identity, Label],
                           implied: dict[Identity, tuple[StateClass, str]]) -> dict[Identity, Label]:
    """History's labels, and for the globals history leaves unlabelled (still
    there and mutable, deleted, renamed) the class the section of the newer
    tree's upstream lists implies for the same identity, when it implies one."""
    merged = dict(labels)
    for identity, found in labels.items():
        if found.state_class is None and identity in implied:
            state_class, section = implied[identity]
            merged[identity] = Label(state_class=state_class, reason=f"upstream's {section}")
    return merged


def agreement(implied: dict[Identity, tuple[StateClass, str]],
              verdicts: dict[Identity, Verdict]) -> tuple[Scores, dict[str, Counter[StateClass]]]:
    labels = {identity: state_class for identity, (state_class, _) in implied.items()}
    by_section: dict[str, Counter[StateClass]] = defaultdict(Counter)
    for identity, (_, section) in implied.items():
        if identity in verdicts:
            by_section[section][verdicts[identity].state_class] += 1
    return score(labels, verdicts), dict(by_section)
