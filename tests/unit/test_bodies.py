"""What the token readers of bodies.py and parse.fold say about small pieces of C."""
from __future__ import annotations

import pytest

from analyzer.frontend.bodies import (
    Through,
    elide_bodies,
    parameter_names,
    read_tokens,
    static_names,
    through_parameter,
    without_static_declarations,
)
from analyzer.frontend.parse import ChunkCache, fold, split_chunks


def tokens(body: str):
    return read_tokens(body, "f", True, False, "x.c", 1, True)


def test_a_struct_typed_static_is_one_declaration():
    code = "static struct { int a; int b; } k = { .a = 1, .b = { 2 } }; f(&k); static int z = 3; z = 4;"
    assert without_static_declarations(code) == "; f(&k); ; z = 4;"
    assert static_names(code) == {"k", "z"}


def test_clinic_statics_are_named():
    code = ('static const char * const _keywords[] = {"a", 0}; '
            'static struct { int h; int item[1]; } _kwtuple = { .h = { {1}, 2 }, .item = { &q } }; '
            'static _PyArg_Parser _parser = { .keywords = _keywords, .kwtuple = &_kwtuple.h };')
    assert static_names(code) == {"_keywords", "_kwtuple", "_parser"}


@pytest.mark.parametrize(("declarator", "names"), [
    ("static void\nupdate_one_slot(PyTypeObject *type, slotdef *p)", ("type", "p")),
    ("int f(void)", ()),
    ("int f(int (*cb)(int), char buf[], ...)", (None, "buf")),
    ("int f(int, char *)", (None, None)),
])
def test_parameter_names(declarator, names):
    assert parameter_names(declarator) == names


def test_a_knr_definition_has_no_parameter_names():
    assert parameter_names("int f(a) int a;") is None


@pytest.mark.parametrize(("body", "through"), [
    ("x = p->a; if (p->b == 3) return p->c;", Through.READ),
    ("for (; p->name; p++) { h(p->name); }", Through.READ),
    ("find(type, p->name_strobj, &error); do { p++; } while ((++p)->offset == off);", Through.READ),
    ("if (p) return 0; if (!p) return 1; while (p && p->n) p = p->next;", Through.READ),
    ("x = *p;", Through.READ),
    ("p->a = 1;", Through.WRITTEN),
    ("p->a[3] = 1;", Through.WRITTEN),
    ("if (p != NULL) *p = 1;", Through.WRITTEN),
    ("(*p).a = 2;", Through.WRITTEN),
    ("++p->count;", Through.WRITTEN),
    ("(++p)->x = 1;", Through.WRITTEN),
    ("memcpy(p->name, s, 3);", Through.WRITTEN),
    ("f(p);", Through.PASSED),
    ("q = p;", Through.PASSED),
    ("return p;", Through.PASSED),
    ("g(&p->x);", Through.PASSED),
])
def test_what_a_body_does_through_a_parameter(body, through):
    assert through_parameter(tokens(body), "p") is through


def test_docstrings_and_local_static_initializers_are_emptied_keeping_lines():
    data = 'static const char d[] = "a\\"b" "--\\n"\n "x";\nchar *z = "q", *w = "r";\nint n = f("keep", 1);\n'
    folded = fold(data)
    assert folded == 'static const char d[] = ""\n;\nchar *z = "", *w = "";\nint n = f("keep", 1);\n'
    function = 'int f(void)\n{\n static const char * const kw[] = {"a",\n "b", 0};\n return g("x");\n}\n'
    elided = elide_bodies(function).text
    assert "kw[] = {0\n}" in elided and '"a"' not in elided and "return" not in elided


@pytest.mark.parametrize("body, installs", [
    ("{ act.sa_handler = h; }", True), ("{ p -> sa_sigaction = h; }", True), ("{ x.\n signal = 1; }", True),
    ("{ PyOS_setsig(SIGINT, h); }", True), ("{ signals++; }", False), ("{ f(\"signal\"); }", False),
])
def test_a_handler_is_a_whole_word_or_member(body, installs):
    assert tokens(body).installs_handlers is installs


def test_chunks_split_at_markers_whose_paths_have_escapes():
    text = ('# 1 "u.c"\nint a;\n# 1 "d\\\\x\\"y.h" 1\nint b;\n# 2 "u.c" 2\nint c;\n'
            '# 1 "p.h" 1 3 4\nint d;\n# 3 "u.c" 2\n')
    chunks, included = split_chunks(text, ChunkCache())
    assert [c.origin for c in chunks] == ["u.c", 'd\\\\x\\"y.h', "u.c", "p.h", "u.c"]
    assert included == {'d\\\\x\\"y.h', "p.h"}
