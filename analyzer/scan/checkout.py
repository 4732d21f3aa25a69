"""A CPython tree opened once for the jobs: where it is, which release, the
translation units its build data names, and (made on first use, then kept)
the preprocessing environment.  Everything a scan reads about the tree
before it reads units comes from here."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from ..frontend.checkout import TreeError, find_tree, take_inventory
from ..frontend.preprocess import Environment, prepare_environment
from ..model import SourceUnit, Tree
from .discovery import generated_headers, list_units


@dataclass(slots=True)
class Checkout:
    tree: Tree
    units: tuple[SourceUnit, ...]
    _environments: dict[str, tuple[Environment, frozenset[str]]] = field(default_factory=dict, repr=False)

    def environment(self, work_dir: str) -> tuple[Environment, frozenset[str]]:
        """The preprocessing environment (stand-ins written under work_dir),
        and the names of the tree's function-like macros.  Not made until a
        unit is to be analyzed: a warm scan with nothing stale never needs it."""
        made = self._environments.get(work_dir)
        if made is None:
            env_dir = os.path.join(work_dir, "env", _tree_key(self.tree))
            inventory = take_inventory(self.tree, env_dir)
            env = prepare_environment(self.tree, generated_headers(self.tree), inventory.system_includes, env_dir)
            made = self._environments[work_dir] = (env, inventory.function_macros)
        return made


def open_checkout(path: str) -> Checkout:
    """Raises TreeError when `path` is not a usable CPython tree or its build
    data cannot be read."""
    tree = find_tree(path)
    try:
        units = list_units(tree)
    except OSError as exc:           # the build data (Makefile.pre.in, Modules/Setup*) is there but unreadable
        where = exc.filename if isinstance(exc.filename, str) else f"{tree.root}: the build data"
        raise TreeError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    return Checkout(tree=tree, units=units)


def _tree_key(tree: Tree) -> str:
    return hashlib.blake2b(tree.root.encode(), digest_size=8).hexdigest()
