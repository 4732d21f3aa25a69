"""config.load_*: data files that load as they are (CRLF, a BOM, a huge
file read a line at a time), and data that is refused naming file and line."""
from __future__ import annotations

import json
import tracemalloc

import pytest

from analyzer.datafiles import ConfigError
from analyzer.gate.baseline import MAX_LINE, load_baseline
from analyzer.races.accesses import load_racing_accesses

HEADER = "schema_version\t1\nfile\tfunc\tname\tclass\treason\n"
ROWS = "Objects/a.c\t-\tx\truntime\t\nObjects/a.c\tf\ty\tinterpreter\ta reason\n"


def entries(path):
    return [(e.identity, e.state_class.value if e.state_class else None, e.reason, e.line)
            for e in load_baseline(str(path))]


def refusal(path) -> tuple[int, str]:
    with pytest.raises(ConfigError) as caught:
        load_baseline(str(path))
    assert str(caught.value) == (f"{path}:{caught.value.line}: {caught.value.message}" if caught.value.line
                                 else f"{path}: {caught.value.message}")
    return caught.value.line, caught.value.message


@pytest.mark.parametrize("encode", [
    lambda text: text.encode(),
    lambda text: text.replace("\n", "\r\n").encode(),                 # CRLF
    lambda text: b"\xef\xbb\xbf" + text.encode(),                       # a UTF-8 byte order mark
    lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
], ids=["lf", "crlf", "bom", "bom-crlf"])
def test_line_ends_and_a_bom_load_the_same_entries(tmp_path, encode):
    path = tmp_path / "b.tsv"
    path.write_bytes(encode("# comment\n" + HEADER + ROWS))
    assert entries(path) == [(("Objects/a.c", "", "x"), "runtime", "", 4),
                             (("Objects/a.c", "f", "y"), "interpreter", "a reason", 5)]
    upstream = tmp_path / "ignored.tsv"
    upstream.write_bytes(encode("filename\tfuncname\tname\treason\nObjects/a.c\t-\tx\t-\n"))
    assert entries(upstream) == [(("Objects/a.c", "", "x"), None, "", 2)]


@pytest.mark.parametrize(("data", "line", "message"), [
    (HEADER.encode() + b"Objects/a\0.c\t-\tx\truntime\t\n", 3,
     "a NUL byte at column 10: a binary file, not a baseline"),
    (b"\x7fELF\x02\x01\x01\0\0\0\n", 1, "a NUL byte at column 8: a binary file, not a baseline"),
    (HEADER.encode() + b"Objects/a.c\t-\tx\truntime\tcaf\xe9\n", 3, "byte 0xe9 at column 28 is not UTF-8 text"),
    (HEADER.encode() + b"Objects/a.c\t-\tx\truntime\tone\rtwo\n", 3, "control character '\\r' at column 28"),
    (HEADER.encode() + b"Objects/a.c\t-\tx\truntime\tpage\x0cbreak\n", 3, "control character '\\x0c' at column 29"),
    (HEADER.encode() + "Objects/a.c\t-\tx\truntime\tnext\x85line\n".encode(), 3,
     "control character '\\x85' at column 29"),
    (HEADER.encode() + b"/etc/passwd\t-\tx\truntime\t\n", 3,
     "'/etc/passwd' is not a path inside the tree (relative, without ..)"),
    (HEADER.encode() + b"Objects/../../x.c\t-\tx\truntime\t\n", 3,
     "'Objects/../../x.c' is not a path inside the tree (relative, without ..)"),
    (b"\xef\xbb\xbf\xef\xbb\xbfschema_version\t1\n", 1,
     "expected 'schema_version<TAB>1' first (or upstream's header filename funcname name reason)"),
    (b"", 1, "expected 'schema_version<TAB>1' first (or upstream's header filename funcname name reason)"),
], ids=["nul-in-field", "binary", "latin-1", "lone-cr", "form-feed", "c1-control", "absolute", "dotdot", "two-boms",
        "empty"])
def test_data_that_is_not_a_baseline_is_refused_naming_the_line(tmp_path, data, line, message):
    path = tmp_path / "b.tsv"
    path.write_bytes(data)
    assert refusal(path) == (line, message)


def test_a_file_that_cannot_be_read_is_named_without_a_line(tmp_path):
    assert refusal(tmp_path) == (0, "cannot read the baseline: Is a directory")
    assert refusal(tmp_path / "missing.tsv") == (0, "cannot read the baseline: No such file or directory")


def test_an_endless_line_is_refused_without_reading_it_whole(tmp_path):
    path = tmp_path / "b.tsv"
    with path.open("wb") as handle:
        handle.write(HEADER.encode())
        for _ in range(8):
            handle.write(b"x" * MAX_LINE)
    tracemalloc.start()
    try:
        assert refusal(path) == (3, f"a line longer than {MAX_LINE} bytes: not a baseline")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_LINE          # the file is 8 MiB


def test_a_huge_baseline_is_read_a_line_at_a_time(tmp_path):
    """Memory follows the entries, not the file: 40 MiB of comments cost nothing."""
    path = tmp_path / "b.tsv"
    comment = b"# " + b"c" * 10_000 + b"\n"
    with path.open("wb") as handle:
        handle.write(HEADER.encode())
        for _ in range(4_000):
            handle.write(comment)
        handle.write(ROWS.encode())
    tracemalloc.start()
    try:
        assert len(load_baseline(str(path))) == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def races(path, document) -> tuple[int, str] | list:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    try:
        return [(a.file, a.line, a.function, a.target, a.write) for a in load_racing_accesses(str(path))]
    except ConfigError as exc:
        return exc.line, exc.message


FRAME = {"function": "f", "file": "Objects/a.c", "line": 3, "object": "python"}
RACE = {"count": 2, "member": None, "global": {"file": "Objects/a.c", "func": None, "name": "x"},
        "accesses": [{"kind": "write", "size": 4, "frames": [FRAME]}]}


@pytest.mark.parametrize(("document", "expected"), [
    ({"races": [RACE]}, [("Objects/a.c", 3, "f", "x", True)]),
    ({"races": [{**RACE, "accesses": [{"kind": "write", "size": 4, "frames": [{**FRAME, "file": name}]}
                                      for name in ("/usr/include/x.h", "../sysdeps/memcpy.S", "Objects/b.c")]}]},
     [("Objects/b.c", 3, "f", "x", True)]),                   # frames outside the tree name nothing to edit
    ("{\n  \"races\": [,]\n}", (2, "not a `cglobals races --format json` document (Expecting value)")),
    ("[1, 2]", (0, "not a `cglobals races --format json` document (the document is not an object)")),
    ({"races": {}}, (0, "not a `cglobals races --format json` document (races is dict, not an array)")),
    ({"races": [{**RACE, "count": "2"}]},
     (0, "not a `cglobals races --format json` document (races[0].count is str, not an integer)")),
    ({"races": [{**RACE, "global": {"file": "Objects/a.c"}}]},
     (0, "not a `cglobals races --format json` document (no races[0].global.name)")),
    ({"races": [{**RACE, "accesses": [{"kind": "write", "frames": [{**FRAME, "file": ["Objects/a.c"]}]}]}]},
     (0, "not a `cglobals races --format json` document (races[0].accesses[0].frames[0].file is list, not a "
         "string)")),
    ({"races": [{**RACE, "accesses": [{"kind": "write", "frames": [{**FRAME, "line": True}]}]}]},
     (0, "not a `cglobals races --format json` document (races[0].accesses[0].frames[0].line is bool, not an "
         "integer)")),
    ("[" * 100_000 + "]" * 100_000,
     (0, "not a `cglobals races --format json` document (maximum recursion depth exceeded while decoding a JSON "
         "array from a unicode string)")),
], ids=["good", "outside-the-tree", "syntax", "array", "races-object", "count-string", "no-name", "file-list",
        "line-bool", "deep"])
def test_races_documents_are_checked_member_by_member(tmp_path, document, expected):
    assert races(tmp_path / "races.json", document) == expected


def test_a_races_file_that_is_not_text(tmp_path):
    path = tmp_path / "races.json"
    path.write_bytes(b'{"races": "\xff"}')
    with pytest.raises(ConfigError) as caught:
        load_racing_accesses(str(path))
    assert str(caught.value) == (f"{path}: not a `cglobals races --format json` document (not UTF-8: invalid start "
                                 "byte at byte 11)")
