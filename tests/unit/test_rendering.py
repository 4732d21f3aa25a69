"""Renderers given what a tree may hold: surrogates (bytes that are not
UTF-8), control characters, types spelled on several lines."""
from __future__ import annotations

from analyzer import codes
from analyzer.model import Diagnostic, GlobalVar, ScanResult, Storage, Tree
from analyzer.report.text import one_line, printable, render_diagnostic, render_text
from analyzer.report.tsv import render_tsv


def test_printable_and_one_line():
    assert printable("a\tb\nc\x1b[0m\udcff\x7fé") == "a\tb\nc\\x1b[0m\\udcff\\x7fé"
    assert one_line("a\tb\nc\r\x1b\udcff") == "a\\tb\\nc\\r\\x1b\\udcff"
    assert one_line("Objects/floatobject.c") == "Objects/floatobject.c"


def _scan(var: GlobalVar, diagnostic: Diagnostic) -> ScanResult:
    return ScanResult(tree=Tree(root="/t", version="3.99", configured=False), units=("Objects/a.c",),
                      globals=(var,), diagnostics=(diagnostic,))


def test_text_keeps_a_type_on_several_lines_and_escapes_the_rest():
    """A scan spells `static struct { ... } x;` with its newlines: the
    table keeps them, as it always did; a location or a diagnostic stays on
    one line; surrogates become escapes any stream can write."""
    from analyzer.classify import classify
    var = GlobalVar(file="Objects/\udcff.c", func=None, name="x", line=3, type="struct \n{\n  int a;\n}",
                    storage=Storage.STATIC, thread_local=False, const=False, has_initializer=False, macro=None)
    diagnostic = Diagnostic(code=codes.PARSE_ERROR, file="Objects/b\nc.c", line=1, column=2, detail="bad\ttoken\n")
    result = _scan(var, diagnostic)
    text = render_text(result, classify(result))
    assert "Objects/\\udcff.c:3" in text and "struct \n{\n  int a;\n}" in text
    assert render_diagnostic(diagnostic) == ("Objects/b\\nc.c:1:2: error: the preprocessed file could not be parsed "
                                             "as C: bad\\ttoken\\n [CG903 parse-error]")
    text.encode("utf-8")
    assert render_tsv(result, classify(result)).splitlines()[1].split("\t")[:3] == ["Objects/\\udcff.c", "-", "x"]


def test_sarif_locations_are_uris(tmp_path):
    from analyzer.report.sarif import _location
    assert _location("Objects/a b:c\udcff.c", 3)["physicalLocation"]["artifactLocation"] == {
        "uri": "Objects/a%20b%3Ac%FF.c", "uriBaseId": "SRCROOT"}
    assert _location("Objects/floatobject.c", 3)["physicalLocation"]["artifactLocation"] == {
        "uri": "Objects/floatobject.c", "uriBaseId": "SRCROOT"}


def test_plots_draw_labels_matplotlib_would_refuse():
    from analyzer.report import plots
    from analyzer.report.summary import Summary
    fields = {name: () for name in Summary.__dataclass_fields__}
    summary = Summary(**{**fields, "version": "3.99 $x^$", "total": 1, "units": 1, "failed_units": 0,
                         "low_confidence": 0, "by_class": (1, 0, 0),
                         "by_directory": (("Programs/\udcff\n$\\alpha", (1, 0, 0)),),
                         "top_files": (("Programs/\udcff.c $", (1, 0, 0)),)})
    assert plots.classes_by_directory(summary).startswith(b"\x89PNG")
    assert plots.top_files(summary).startswith(b"\x89PNG")
