"""Lines the module conversions make longer than 79 columns are broken as
PEP 7 asks; nothing but whitespace changes, and lines the edits left as
they were stay as they are."""
from __future__ import annotations

import pytest

from analyzer.patch.wrapping import wrapped


@pytest.mark.parametrize(("after", "expected"), [
    ("new_sockobject(socket_state *state, SOCKET_T fd, int family, int type, int proto)\n",
     "new_sockobject(socket_state *state, SOCKET_T fd, int family, int type,\n"
     "               int proto)\n"),
    ('    state->socket_gaierror = PyErr_NewException("socket.gaierror", PyExc_OSError,\n'
     "        NULL);\n",
     '    state->socket_gaierror = PyErr_NewException("socket.gaierror",\n'
     "                                                PyExc_OSError, NULL);\n"),
    ("    if (setipaddr(state, name, (struct sockaddr *)&addrbuf, sizeof(addrbuf), AF_INET) < 0)\n",
     "    if (setipaddr(state, name, (struct sockaddr *)&addrbuf, sizeof(addrbuf),\n"
     "                  AF_INET) < 0)\n"),
    ('    if (PyModule_AddObjectRef(module, "a_long_enough_name", (PyObject *)state->sock_type) < 0) {\n'
     "        return -1;\n",
     '    if (PyModule_AddObjectRef(module, "a_long_enough_name",\n'
     "                              (PyObject *)state->sock_type) < 0)\n"
     "    {\n"
     "        return -1;\n"),
])
def test_a_long_line_is_broken_after_the_last_comma_that_fits(after, expected):
    assert wrapped("", after) == expected
    assert all(len(line) <= 79 for line in expected.splitlines())


@pytest.mark.parametrize("line", [
    "    x = f(a, /* a comment */ bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, c);\n",
    "#define CALL(x) f(x, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, b)\n",
    '    s = "a, string, that, has, commas, only, inside, it, and, is, long, enough, to, wrap";\n',
    "    x = ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff(a);\n",
])
def test_a_line_that_cannot_be_broken_safely_is_left(line):
    assert wrapped("", line) == line


def test_only_lines_the_edits_made_are_broken():
    long = "    call(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, ccccccccc);\n"
    assert wrapped(long, long) == long
    inside = "/* a comment that goes on\n" + long + "   and ends here */\n"
    assert wrapped("", inside) == inside
