"""TSan logs: parsed, de-duplicated, and attributed to the scan's globals."""
from __future__ import annotations

import json
from pathlib import Path

from analyzer.model import GlobalVar, Storage
from analyzer.races.reports import attribute, parse_reports

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "tsan" / "sample.log"


def _var(file: str, func: str | None, name: str) -> GlobalVar:
    return GlobalVar(file=file, func=func, name=name, line=1, type="int", storage=Storage.STATIC,
                     thread_local=False, const=False, has_initializer=False, macro=None)


def test_reports_are_parsed_with_both_accesses_and_the_location():
    races = parse_reports(SAMPLE.read_text(), tree_root="/tree")
    assert len(races) == 4                    # the lock-order inversion is not a data race
    first = races[0]
    assert [a.kind for a in first.accesses] == ["write", "read"]
    assert [f.label for f in first.accesses[0].frames] == ["type_ready_set_new Objects/typeobject.c:7633",
                                                           "type_ready Objects/typeobject.c:7880"]
    assert (first.location, first.location_object) == ("PyLong_Type", "python")
    assert races[2].accesses[0].kind == "atomic write"
    assert races[2].accesses[0].frames[0].label == "<null> (_datetime.cpython-313-x86_64-linux-gnu.so+0x1234)"
    assert races[3].location is None


def test_the_same_race_seen_from_either_side_counts_once_and_is_attributed():
    variables = [_var("Objects/longobject.c", None, "PyLong_Type"), _var("Modules/cache.c", "get_cache", "cache"),
                 _var("Modules/other.c", "other", "cache"), _var("Objects/typeobject.c", None, "unrelated")]
    found = attribute(parse_reports(SAMPLE.read_text(), tree_root="/tree"), variables)
    assert [(a.count, a.variable.qualified_name if a.variable else None) for a in found] == [
        (2, "PyLong_Type"), (1, "get_cache()::cache"), (1, None)]
    assert found[0].evidence == "TSan's location is global 'PyLong_Type'"
    assert found[2].evidence == "no global location (heap or stack memory)"


def test_a_name_several_files_define_without_a_frame_to_choose_stays_unattributed():
    variables = [_var("Objects/a.c", None, "PyLong_Type"), _var("Objects/b.c", None, "PyLong_Type")]
    found = attribute(parse_reports(SAMPLE.read_text(), tree_root="/tree"), variables)
    assert found[0].variable is None
    assert "defined in several files (Objects/a.c, Objects/b.c)" in found[0].evidence
    unknown = attribute(parse_reports(SAMPLE.read_text(), tree_root="/tree"), [])
    assert "not one the analysis lists" in unknown[0].evidence


def test_races_command_attributes_to_the_scanned_tree(tmp_path):
    from tests.conftest import make_tree
    from tests.unit.test_cli import run
    tree = make_tree(tmp_path / "tree", [Path(__file__).resolve().parents[1] / "fixtures" / "patch" / "cache.c"])
    log = tmp_path / "tsan.123"
    log.write_text(SAMPLE.read_text().replace("PyLong_Type", "cached_name")
                   .replace("/tree/Objects/typeobject.c", f"{tree}/Objects/cache.c"))
    status, out, err = run("races", str(tree), str(log), str(tmp_path / "missing.log"), "--no-cache")
    assert (status, err) == (3, f"cglobals: error: {tmp_path / 'missing.log'}: No such file or directory\n")
    # partial results: the other logs' races are still reported
    assert out.startswith("4 data race reports in 1 logs: 3 distinct, 1 attributed to 1 globals\n")
    assert ("   2  Objects/cache.c: cached_name (interpreter)\n"
            "        write 8: type_ready_set_new Objects/cache.c:7633") in out
    status, out, _ = run("races", str(tree), str(log), "--format", "json", "--no-cache")
    document = json.loads(out)
    assert status == 0 and (document["distinct"], document["attributed"], document["globals"]) == (3, 1, 1)
    assert document["races"][0]["global"] == {"file": "Objects/cache.c", "func": None, "name": "cached_name",
                                              "class": "interpreter"}


def test_what_tsan_left_unsymbolized_is_named_from_the_built_objects(tmp_path):
    """gcc's libtsan prints `<null>` for frames and globals of extension
    modules: addr2line and nm name them from the module itself."""
    import shutil
    import subprocess

    import pytest

    from analyzer.races.binaries import symbolize_objects
    from analyzer.races.reports import UNKNOWN, symbolize, unresolved
    if not (shutil.which("gcc") and shutil.which("addr2line") and shutil.which("nm")):
        pytest.skip("needs gcc and binutils")
    source = tmp_path / "mod.c"
    source.write_text("static double table[8];\nvoid fill(void) { table[3] = 1.0; }\n")
    build = tmp_path / "build" / "lib.linux"
    build.mkdir(parents=True)
    so = build / "mod.so"
    subprocess.run(["gcc", "-g", "-O0", "-shared", "-fPIC", "-o", str(so), str(source)], check=True)
    symbols = {f[2]: int(f[0], 16) for f in (line.split() for line in subprocess.run(
        ["nm", str(so)], capture_output=True, text=True, check=True).stdout.splitlines()) if len(f) == 3}
    log = (f"==================\nWARNING: ThreadSanitizer: data race (pid=1)\n"
           f"  Write of size 8 at 0x7f00 by thread T1:\n    #0 <null> <null> (mod.so+{symbols['fill'] + 4:#x})\n\n"
           f"  Location is global '<null>' at 0x000000000000 (mod.so+{symbols['table'] + 24:#x})\n\n"
           "SUMMARY: ThreadSanitizer: data race\n==================\n")
    races = parse_reports(log)
    assert races[0].location == UNKNOWN
    code, data = symbolize_objects(str(tmp_path), unresolved(races))
    named = symbolize(races, code, data, str(tmp_path))
    frame = named[0].accesses[0].frames[0]
    assert (frame.function, frame.file, named[0].location) == ("fill", "mod.c", "table")
    assert frame.line in (2,)
    found = attribute(named, [_var("mod.c", None, "table")])
    assert found[0].variable is not None and found[0].variable.name == "table"


PTYPE = """type = struct pyruntimestate {
/*      0      |     584 */    _Py_DebugOffsets debug_offsets;
/*    584      |       4 */    int _initialized;
/* XXX  4-byte hole      */
/*   2144      |      16 */    struct _signals_runtime_state {
/*   2144      |       8 */        volatile int handlers_tripped;
/*   2152      |       4 */        int unhandled_keyboard_interrupt;
/* XXX  4-byte padding   */

                                   /* total size (bytes):   16 */
                               } signals;
/*   2160      |       8 */    struct {
/*   2160      |       4 */        uint32_t next_version_tag;
/*   2164      |       4 */        int flag : 1;
                               } types;
/*   2168      |      32 */    uint8_t characters[32];

                               /* total size (bytes): 2200 */
                             }
"""


def test_members_are_named_from_gdbs_ptype_offsets():
    from analyzer.races.binaries import _ptype_members
    members = _ptype_members(PTYPE)
    def at(offset):
        containing = [(start, size, name) for start, size, name in members if start <= offset < start + size]
        return min(containing, key=lambda m: (m[1], -len(m[2])))[2] if containing else None
    assert at(2152) == "signals.unhandled_keyboard_interrupt"
    assert at(2160) == "types.next_version_tag"
    assert at(2170) == "characters"
    assert at(590) is None                                 # the hole
    assert at(584) == "_initialized"
