"""Timeline and statistics panels, linked to the rest of the window."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from profview.loading.names import name_points
from profview.qt.views.stats import StatsModel
from profview.qt.views.timeline import TimelinePanel

LOAD = 60_000




def _load(qtbot, win, path):
    with qtbot.waitSignal(win.ready, timeout=LOAD):
        win.open_paths([path])
    qtbot.waitUntil(lambda: win.timeline.data is not None and
                    bool(win.timeline.data.points.requests), timeout=LOAD)


def test_timeline_points_legend_and_clicks(qtbot, window, before):
    _load(qtbot, window, before)
    panel = window.timeline
    pts = panel.data.points
    assert len(pts) == 29 and pts.exact_time
    assert panel.legend.count() == 7 and panel.sql.isVisible() and panel.sql_ms.isVisible()
    roster = pts.groups.index("GET /roster")
    sql_items = [i for i in panel._series[roster] if i.getViewBox() is panel.sql_ms.getViewBox()]
    assert len(sql_items) == 1 and max(sql_items[0].getData()[1]) > 1.0   # SQL ms
    assert "29 requests" in panel.info.text()
    # untick an endpoint: its points and lines disappear
    item = panel.legend.item(0)
    item.setCheckState(Qt.Unchecked)
    assert not any(i.isVisible() for i in panel._series[0])
    assert 0 not in panel.visible_groups()
    item.setCheckState(Qt.Checked)
    # click a point: that request is on show everywhere
    scatter = panel._series[1][0]
    spot = scatter.points()[0]
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        scatter.sigClicked.emit(scatter, [spot], None)
    scope = window.session.scope
    assert scope.kind == "request" and scope.request is pts.requests[int(spot.data())]
    assert window.session.graph.requests == 1
    assert window.endpoints.view.currentIndex().data(Qt.UserRole + 2) == scope
    tip = panel._tip(spot.pos().x(), spot.pos().y(), spot.data())
    assert scope.request.url_path in tip and "elapsed" in tip


def test_slowest_list_and_range_selection(qtbot, window, before):
    _load(qtbot, window, before)
    panel = window.timeline
    pts = panel.data.points
    first = panel.slow.item(0)
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        panel.slow.itemClicked.emit(first)
    assert window.session.scope.request.elapsed_ms == pts.y.max()
    panel.select_range.setChecked(True)
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        panel.region.setRegion((pts.x.min() - 1, pts.x.max() + 1))
        panel._on_region()
    scope = window.session.scope
    assert scope.kind == "set" and len(scope.requests) == 29
    assert window.session.graph.requests == 29
    assert window.session.scope_label().startswith("29 requests")


def test_preview_from_file_names(qtbot, session_panel, plain):
    panel = session_panel
    points = name_points([plain])
    panel.set_preview(points)
    assert len(points) == 12
    x, y = panel.preview.getData()
    assert sorted(y.tolist()) == sorted(points.y.tolist())
    assert panel.preview.scene() is not None
    assert "12 requests" in panel.info.text() and "file names" in panel.info.text()
    assert not panel.sql.isVisible() and not panel.sql_ms.isVisible()


@pytest.fixture
def session_panel(qtbot):
    from profview.app.session import Session
    panel = TimelinePanel(Session())
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_threshold_marks_outliers(qtbot, window, before):
    _load(qtbot, window, before)
    panel = window.timeline
    panel.threshold.setValue(50)
    panel._recompute()
    qtbot.waitUntil(lambda: "outliers" in panel.info.text() and
                    int(panel.info.text().split("; ")[1].split()[0]) > 0, timeout=LOAD)
    expected = int((panel.data.points.y > 50).sum())
    assert panel.info.text().endswith("%d outliers" % expected)


def test_stats_model_and_histogram(qtbot, qtmodeltester, window, before):
    _load(qtbot, window, before)
    model = window.stats.model
    qtbot.waitUntil(lambda: model.rowCount() == 7, timeout=LOAD)   # rows come from a worker
    qtmodeltester.check(model)
    assert model.rowCount() == 7
    names = [model.index(r, 0).data() for r in range(7)]
    assert names[0] == "GET /roster"          # sorted by share
    model.sort(2, Qt.AscendingOrder)
    p50s = [model.rows[r][1].p50_ms for r in range(7)]
    assert p50s == sorted(p50s)
    roster = next(e for e in window.session.endpoints if e.name == "GET /roster")
    window.stats.show_histogram(roster)
    assert window.stats.bars.sum() == 5
    assert isinstance(StatsModel.HEADERS, list) and "p99" in StatsModel.HEADERS
    assert np.isfinite(model.rows[0][1].p99_ms)


def test_sql_plots_of_a_log_with_no_statements_are_hidden_and_say_why(qtbot, session_panel,
                                                                     before, tmp_path):
    import shutil

    from profview.loading.scan import load_capture

    for f in before.glob("GET.health*.prof"):
        shutil.copy(f, tmp_path)
    (tmp_path / "queries.jsonl").write_text("GARBAGE\n")     # a log was read: 0 statements
    with qtbot.waitSignal(session_panel.drawn, timeout=LOAD):
        session_panel.session.set_capture(load_capture([tmp_path], workers=1))
    # a log was read but held no statement: no empty plots, and the reason in words
    assert not session_panel.sql.isVisible()
    assert session_panel.sql_note.text() == "SQL log read, but no statement in it"
