"""Other profilers' files in the window: pyinstrument sessions per request, py-spy's
speedscope and folded files open with exact flame graphs; File › Export writes the scope for
speedscope (valid against its schema), and the Request tab says what an input cannot show."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from profview.analysis import calltree
from profview.model.scope import Scope
from profview.qt import export

LOAD = 60_000
DATA = Path(__file__).resolve().parent.parent / "data"
FOREIGN = DATA / "foreign"


def _open(qtbot, window, paths):
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        window.open_paths(paths)


def test_pyinstrument_sessions_open_as_endpoints_with_exact_flames(qtbot, window, tmp_path):
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    for path in FOREIGN.glob("*.pyisession"):
        (sessions / path.name).write_bytes(path.read_bytes())
    _open(qtbot, window, [sessions])
    session = window.session
    roster = session.endpoint_named("GET /roster")
    assert roster is not None and len(roster.requests) == 2
    if session.scope != Scope.of_endpoint(roster):       # the window may show it already
        with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
            session.select_scope(Scope.of_endpoint(roster))
    tree = window.flame.view.tree
    assert not (tree.flags & calltree.ESTIMATED).any()
    assert "2 sampled" in window.flame.source.text()
    # a session has its clock and its order: the Request tab shows it in time order
    timeline = window.request_timeline
    with qtbot.waitSignal(timeline.ready, timeout=LOAD):
        session.select_scope(Scope.of_request(roster.requests[0]))
    assert timeline.chart is not None and timeline.chart.samples > 0


def test_py_spy_files_open_and_folded_has_no_time_order(qtbot, window):
    _open(qtbot, window, [FOREIGN / "demo.speedscope.json", FOREIGN / "demo.folded"])
    session = window.session
    assert len(session.capture.requests) == 2
    notes = [p.message for p in session.capture.problems if p.kind == "note"]
    assert any("estimated" in n for n in notes)          # folded counts are not times
    folded = next(r for r in session.capture.requests if r.file.suffix == ".folded")
    timeline = window.request_timeline
    session.select_scope(Scope.of_request(folded))
    qtbot.waitUntil(lambda: "no time order" in timeline.info.text(), timeout=LOAD)


def test_file_export_writes_the_scope_for_speedscope(qtbot, window, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((DATA / "speedscope" / "file-format-schema.json").read_text())
    _open(qtbot, window, [Path(__file__).resolve().parent.parent.parent / "sample_profiles"
                          / "stacks"])
    out = tmp_path / "scope.speedscope.json"
    assert export.scope_export(window, "speedscope", out) == str(out)
    qtbot.waitUntil(lambda: "Wrote" in window.status.text(), timeout=LOAD)
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, schema)
    assert len(doc["profiles"]) == len(window.session.requests_of())


def test_dropping_other_profilers_files_opens_them(qtbot, window):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(FOREIGN / "demo.speedscope.json")),
                  QUrl.fromLocalFile(str(FOREIGN / "my_class.pyinstrument.json"))])
    event = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.ready, timeout=LOAD):
        window.dropEvent(event)
    assert len(window.session.capture.requests) == 2
    assert all(r.sampled for r in window.session.capture.requests)


def test_file_export_callgrind_folded_and_parquet(qtbot, window, tmp_path):
    import gprof2dot

    _open(qtbot, window, [Path(__file__).resolve().parent.parent.parent / "sample_profiles"
                          / "before"])
    grind, folded = tmp_path / "a.callgrind", tmp_path / "a.folded"
    for kind, path in (("callgrind", grind), ("folded", folded)):
        window.status.setText("")
        export.scope_export(window, kind, path)
        qtbot.waitUntil(lambda: "Wrote" in window.status.text(), timeout=LOAD)
    with open(grind, encoding="utf-8") as stream:
        assert gprof2dot.CallgrindParser(stream).parse().functions
    assert folded.read_text().startswith("# profview folded stacks")
    pytest.importorskip("pyarrow")
    window.status.setText("")
    export.parquet_tables(window, str(tmp_path / "pq"))
    qtbot.waitUntil(lambda: "Wrote" in window.status.text(), timeout=LOAD)
    assert {p.name for p in (tmp_path / "pq").iterdir()} == {"requests", "endpoints",
                                                               "functions", "queries"}
