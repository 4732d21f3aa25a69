"""TSan logs: parsed, de-duplicated, and attributed to the scan's globals."""
from __future__ import annotations

import json
from pathlib import Path

from analyzer.model import GlobalVar, Storage
from analyzer.races import attribute, parse_reports

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
    assert races[2].accesses[0].frames[0].label == "<null> (_datetime.cpython-313-x86_64-linux-gnu.so)"
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
    assert status == 2 and "missing.log: No such file or directory" in err     # the others still reported
    assert out.startswith("4 data race reports in 1 logs: 3 distinct, 1 attributed to 1 globals\n")
    assert ("   2  Objects/cache.c: cached_name (interpreter)\n"
            "        write 8: type_ready_set_new Objects/cache.c:7633") in out
    status, out, _ = run("races", str(tree), str(log), "--format", "json", "--no-cache")
    document = json.loads(out)
    assert status == 0 and (document["distinct"], document["attributed"], document["globals"]) == (3, 1, 1)
    assert document["races"][0]["global"] == {"file": "Objects/cache.c", "func": None, "name": "cached_name",
                                              "class": "interpreter"}
