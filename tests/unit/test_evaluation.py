"""The evaluation's bookkeeping: how each upstream entry and compiler symbol is counted."""
from __future__ import annotations

from evaluation.upstream import check_against_compiler, compare, confirm_found

FOUND = {("Objects/a.c", "", "cache"), ("Objects/a.c", "f", "calls"), ("Include/h.h", "", "shared"),
         ("Objects/b.c", "", "moved_here")}
SYMBOLS = {"Objects/a.c": {"cache", "calls", "shared"}, "Objects/b.c": {"moved_here", "shared", "orphan"}}


def test_upstream_categories():
    upstream = {
        ("Objects/a.c", "", "cache"): "ignored.tsv",              # matched
        ("PC/winreg.c", "", "key"): "ignored.tsv",                # not built
        ("Objects/a.c", "", "debug_total"): "ignored.tsv",        # no such variable in a.o
        ("Objects/b.c", "", "shared"): "globals-to-fix.tsv",      # found in the header it comes from
        ("Objects/b.c", "", "orphan"): "globals-to-fix.tsv",      # in b.o, not found: missed
    }
    result = compare(FOUND, upstream, {"Objects/a.c", "Objects/b.c", "Include/h.h"}, SYMBOLS)
    assert result.matched == 1
    assert {k: [e[2] for e in v] for k, v in result.categories.items()} == {
        "defined-elsewhere": ["shared"], "missed": ["orphan"],
        "not-built": ["key"], "not-compiled": ["debug_total"]}
    assert result.recall == 0.5


def test_compiler_symbols_must_be_found_in_their_unit_or_a_header():
    symbols = {**SYMBOLS, "Objects/c.c": {"lost", "_Py_M__frozen"}}
    check = check_against_compiler(FOUND, symbols, set(), {"_Py_M__frozen"})
    assert (check.symbols, check.matched, check.generated) == (7, 5, 1)
    assert check.missing == (("Objects/b.c", "orphan"), ("Objects/c.c", "lost"))


def test_confirmation_of_reported_globals():
    found = FOUND | {("Objects/a.c", "", "phantom"), ("Objects/z.c", "", "elsewhere")}
    confirmation = confirm_found(found, {"Objects/a.c", "Objects/b.c", "Objects/z.c"}, SYMBOLS)
    assert confirmation.unconfirmed == (("Objects/a.c", "", "phantom"),)
    assert (confirmation.checked, confirmation.unit_not_compiled) == (5, 1)
