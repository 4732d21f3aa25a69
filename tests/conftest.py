"""Shared helpers: a tiny fake CPython tree built from tests/fixtures/c."""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "c"
EXPECT_RE = re.compile(r"expect:\s*(.*?)\s*\*/")

PYTHON_H = """\
#include "pyconfig.h"
#include <stddef.h>
typedef struct _object PyObject;
typedef struct _typeobject PyTypeObject;
typedef struct _longobject PyLongObject;
typedef struct PyMethodDef PyMethodDef;
typedef struct _Py_Identifier { const char *string; } _Py_Identifier;
typedef struct _PyArg_Parser { const char *format; struct _PyArg_Parser *next; } _PyArg_Parser;
typedef void *PyThread_type_lock;
typedef struct mystery mystery_t;
typedef struct _is PyInterpreterState;
typedef struct PyModuleDef_Slot { int slot; void *value; } PyModuleDef_Slot;
typedef struct PyModuleDef { int m_base; const char *m_name; PyModuleDef_Slot *m_slots; } PyModuleDef;
typedef void (*PyOS_sighandler_t)(int);
PyObject *PyLong_FromLong(long);
int PyType_Ready(PyTypeObject *);
PyObject *PyModuleDef_Init(PyModuleDef *);
int _Py_IsMainInterpreter(PyInterpreterState *);
PyOS_sighandler_t PyOS_setsig(int, PyOS_sighandler_t);
PyObject *_PyObject_GetAttrId(PyObject *, _Py_Identifier *);
int _PyArg_Parse(PyObject *, _PyArg_Parser *);
"""


LIBRARY = "libfixture"


def fixture_tree_path(fixture: Path) -> str:
    """Where a fixture file lives in the fake tree: include/ in Include/,
    modules/ in Modules/ (extension modules), the others in Objects/."""
    if fixture.parent.name == "include":
        return f"Include/{fixture.name}"
    if fixture.parent.name == "modules":
        return f"Modules/{fixture.name}"
    if fixture.parent.name == LIBRARY:
        return f"Modules/{LIBRARY}/{fixture.name}"      # a bundled library, included by a module
    return f"Objects/{fixture.name}"


def all_fixtures() -> list[Path]:
    return (sorted(FIXTURES.glob("*.c")) + sorted((FIXTURES / "include").glob("*.h"))
            + sorted((FIXTURES / "modules").glob("*.c")) + sorted((FIXTURES / "modules" / LIBRARY).glob("*.c")))


def make_tree(root: Path, sources: list[Path]) -> Path:
    (root / "Include").mkdir(parents=True)
    (root / "Objects").mkdir()
    (root / "Include" / "patchlevel.h").write_text('#define PY_VERSION "3.99.0"\n')
    (root / "Include" / "Python.h").write_text(PYTHON_H)
    (root / "Modules" / LIBRARY).mkdir(parents=True)
    objects = " ".join(f"Objects/{s.stem}.o" for s in sources
                       if s.suffix == ".c" and s.parent.name not in ("modules", LIBRARY))
    (root / "Makefile.pre.in").write_text(f"OBJECT_OBJS= {objects}\n")
    modules = "".join(f"{s.stem} {s.name}\n" for s in sources if s.parent.name == "modules")
    (root / "Modules" / "Setup.stdlib.in").write_text("*shared*\n" + modules)
    for source in sources:
        shutil.copyfile(source, root / fixture_tree_path(source))
    return root


@dataclass(frozen=True)
class Expected:
    file: str
    func: str | None
    name: str
    line: int
    storage: str = "static"
    const: bool = False
    thread_local: bool = False
    has_initializer: bool = False
    macro: str | None = None
    family: str = ""


def expectations(fixture: Path) -> set[Expected]:
    found = set()
    text = fixture.read_bytes().decode("utf-8", "replace")
    for number, line in enumerate(text.splitlines(), 1):
        match = EXPECT_RE.search(line)
        if not match:
            continue
        for item in match.group(1).split(";"):
            words = item.split()
            fields: dict[str, object] = {}
            for word in words[1:]:
                key, _, value = word.partition("=")
                if key in ("class", "rule"):
                    continue          # see class_expectations
                if key == "init":
                    fields["has_initializer"] = True
                elif key in ("const", "thread_local"):
                    fields[key] = True
                else:
                    fields[key] = value
            found.add(Expected(file=fixture_tree_path(fixture), name=words[0], line=number,
                               func=fields.pop("func", None), **fields))  # type: ignore[arg-type]
    return found


def class_expectations(fixture: Path) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(file, func, name) -> (class, rule), for the expectations that name them."""
    found = {}
    for line in fixture.read_bytes().decode("utf-8", "replace").splitlines():
        match = EXPECT_RE.search(line)
        if not match:
            continue
        for item in match.group(1).split(";"):
            words = item.split()
            fields = dict(word.partition("=")[::2] for word in words[1:])
            if "class" in fields:
                identity = (fixture_tree_path(fixture), fields.get("func", ""), words[0])
                found[identity] = (fields["class"], fields.get("rule", ""))
    return found


def as_expected(var) -> Expected:
    """Reduce a GlobalVar to the comparable tuple."""
    return Expected(file=var.file, func=var.func, name=var.name, line=var.line,
                    storage=var.storage.value, const=var.const, thread_local=var.thread_local,
                    has_initializer=var.has_initializer, macro=var.macro, family=var.family.value)


@pytest.fixture(scope="session")
def fixture_tree(tmp_path_factory) -> Path:
    return make_tree(tmp_path_factory.mktemp("tree"), all_fixtures())


@pytest.fixture(scope="session")
def fixture_scan(fixture_tree):
    from analyzer.scan.engine import ScanOptions, scan
    return scan(str(fixture_tree), ScanOptions(jobs=1))


@pytest.fixture(scope="session")
def fixture_verdicts(fixture_scan):
    from analyzer.classify import classify
    return {v.identity: v for v in classify(fixture_scan)}
