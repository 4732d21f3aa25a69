"""Data files the user hands in (a gate baseline, a races document): the
error that names the file and line at fault, and the check that a path
they name stays inside the tree."""
from __future__ import annotations


class ConfigError(Exception):
    """A data file that cannot be used, with the file and line at fault
    (line 0: the file as a whole)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


def inside_tree(path: str) -> bool:
    """Whether a tree-relative path stays inside the tree."""
    return bool(path) and not path.startswith("/") and ".." not in path.split("/") and "\0" not in path
