"""What a daily user of the timeline asked for: outliers that open their request, the selected
endpoint standing out, a log scale when one request squashes the rest, no empty SQL plots,
and times that read like a clock.  Real captures only: sample_profiles/ or profiles written
here with known names (elapsed ms and time in the Werkzeug file name)."""
from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from profiles import profile_call
from profview.analysis.timeline import log_floor, request_time, tick_labels, wants_log_scale
from profview.app.session import Scope, Session
from profview.loading.scan import load_capture
from profview.qt.views.timeline import TimelinePanel
from profview.qt.views.timeline_series import DIMMED, NORMAL, SELECTED

LOAD = 60_000
T0 = 1700000000          # 2023-11-14 22:13:20 UTC


@pytest.fixture
def panel(qtbot):
    """A timeline panel on its own session, shown."""
    widget = TimelinePanel(Session())
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.show()
    return widget


@pytest.fixture
def utc(monkeypatch):
    """Local time is UTC for the test (clock labels are local times)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _show(qtbot, panel, *paths):
    with qtbot.waitSignal(panel.drawn, timeout=LOAD):
        panel.session.set_capture(load_capture(list(paths), workers=1))
    return panel.data.points


def _write_profiles(directory, elapsed_ms):
    """One real profile per elapsed time, named as Werkzeug names it: the elapsed ms and
    the end time (a second apart) are in the name."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, ms in enumerate(elapsed_ms):
        profile_call(directory / ("GET.a.%dms.%d.prof" % (ms, T0 + i)), sum, range(10))
    return directory


# --- 1. every point opens its request, outliers included ------------------------------------
def test_click_on_an_outlier_ring_opens_its_request(qtbot, panel, before):
    pts = _show(qtbot, panel, before)
    panel.threshold.setValue(50)
    with qtbot.waitSignal(panel.drawn, timeout=LOAD):
        panel._recompute()
    pts = panel.data.points
    rings = panel._outliers
    spots = rings.points()
    assert len(spots) == int((pts.y > 50).sum()) > 0
    for spot in spots:                      # the handler, as pyqtgraph calls it
        with qtbot.waitSignal(panel.request_clicked, timeout=LOAD) as hit:
            rings.sigClicked.emit(rings, [spot], None)
        assert hit.args[0] is pts.requests[int(spot.data())]
        assert hit.args[0].start == pytest.approx(spot.pos().x())       # the ringed point
        assert hit.args[0].elapsed_ms > 50
        assert panel.log.isChecked() and 10 ** spot.pos().y() == pytest.approx(
            hit.args[0].elapsed_ms)                                     # drawn on a log axis
    # and a real mouse click on the slowest request's ring (it lies over the point)
    slowest = int(np.argmax(pts.y))
    ring = next(s for s in spots if int(s.data()) == slowest)
    where = panel.plots.mapFromScene(rings.mapToScene(ring.pos()))
    with qtbot.waitSignal(panel.request_clicked, timeout=LOAD) as hit:
        qtbot.mouseClick(panel.plots.viewport(), Qt.LeftButton, pos=QPoint(where.x(),
                                                                           where.y()))
    assert hit.args[0] is pts.requests[slowest]


def test_highlighted_request_ring_opens_it_too(qtbot, panel, before):
    pts = _show(qtbot, panel, before)
    request = pts.requests[3]
    panel.highlight(request)
    spot = panel._mark.points()[0]
    with qtbot.waitSignal(panel.request_clicked, timeout=LOAD) as hit:
        panel._mark.sigClicked.emit(panel._mark, [spot], None)
    assert hit.args[0] is request


# --- 2. the selected endpoint stands out --------------------------------------------------
def _brush_alpha(series) -> int:
    return series.scatter.opts["brush"].color().alpha()


def _line_width(series) -> float:
    return series.p50.opts["pen"].widthF()


def test_selected_endpoint_stands_out_and_alone_has_lines_among_many(qtbot, panel, before):
    pts = _show(qtbot, panel, before)
    assert len(pts.groups) == 7                       # many: over MANY_SERIES
    series = panel._pool[:len(pts.groups)]
    # every request on show: nothing selected, no tangle of 14 lines
    assert all(s.look == NORMAL for s in series)
    assert not any(s.p50.isVisible() or s.p95.isVisible() for s in series)
    assert panel.lines_note.text().startswith("7 endpoints: rolling p50")
    roster_ep = panel.session.endpoint_named("GET /roster")
    panel.session.select_scope(Scope.of_endpoint(roster_ep))
    roster = pts.groups.index("GET /roster")
    others = [s for g, s in enumerate(series) if g != roster]
    assert series[roster].look == SELECTED and all(s.look == DIMMED for s in others)
    assert series[roster].p50.isVisible() and series[roster].p95.isVisible()
    assert not any(s.p50.isVisible() or s.p95.isVisible() for s in others)
    assert all(_brush_alpha(s) < _brush_alpha(series[roster]) for s in others)
    assert all(_line_width(s) < _line_width(series[roster]) for s in others)
    assert series[roster].scatter.zValue() > others[0].scatter.zValue()
    legend = [panel.legend.item(i) for i in range(panel.legend.count())]
    assert [i.font().bold() for i in legend] == [g == roster for g in range(7)]
    # a request of another endpoint: its series is the selected one now
    student = pts.groups.index("GET /student/<int:student_id>")
    request = pts.requests[int(np.nonzero(pts.group == student)[0][0])]
    panel.session.select_scope(Scope.of_request(request))
    assert series[student].look == SELECTED and series[roster].look == DIMMED
    # unticked in the legend, the selected series stays hidden, lines too
    panel.legend.item(student).setCheckState(Qt.Unchecked)
    assert not any(i.isVisible() for i in series[student].items())
    panel.session.select_scope(Scope.everything())
    assert all(s.look == NORMAL for s in series)


def test_few_endpoints_keep_every_line_but_dim_the_others(qtbot, panel, before, tmp_path):
    for pattern in ("GET.roster*", "GET.stats*", "GET.health*"):
        for f in before.glob(pattern):
            shutil.copy(f, tmp_path)
    pts = _show(qtbot, panel, tmp_path)
    assert len(pts.groups) == 3
    series = panel._pool[:3]
    assert all(s.p50.isVisible() for s in series)
    assert panel.lines_note.text() == ""
    panel.session.select_scope(Scope.of_endpoint(panel.session.endpoint_named("GET /stats")))
    stats = pts.groups.index("GET /stats")
    assert all(s.p50.isVisible() and s.p95.isVisible() for s in series)   # few: all lines
    assert all(_brush_alpha(s) < 255 for g, s in enumerate(series) if g != stats)
    assert _brush_alpha(series[stats]) == 255


# --- 3. one slow request: log scale by default -------------------------------------------
def test_one_slow_request_turns_the_log_scale_on(qtbot, panel, tmp_path):
    pts = _show(qtbot, panel, _write_profiles(tmp_path / "p", [5] * 9 + [500]))
    assert sorted(pts.y.tolist()) == [5.0] * 9 + [500.0]
    assert panel.log.isChecked() and panel.main.ctrl.logYCheck.isChecked()
    # the points follow the log axis (pyqtgraph's scatter alone stayed linear)
    heights = [spot.pos().y() for spot in panel._pool[0].scatter.points()]
    assert max(heights) == pytest.approx(np.log10(500)) and \
        min(heights) == pytest.approx(np.log10(5))
    assert max(panel._pool[0].scatter.getData()[1]) == 500      # the data stays in ms
    # the user turns it off: it stays off on the next redraw
    qtbot.mouseClick(panel.log, Qt.LeftButton)
    assert not panel.log.isChecked()
    assert max(s.pos().y() for s in panel._pool[0].scatter.points()) == pytest.approx(500)
    with qtbot.waitSignal(panel.drawn, timeout=LOAD):
        panel._recompute()
    assert not panel.log.isChecked()


def test_even_times_keep_the_linear_scale(qtbot, panel, tmp_path):
    pts = _show(qtbot, panel, _write_profiles(tmp_path / "p", [5, 6, 7, 8, 9, 30]))
    assert pts.y.max() == 30.0
    assert not panel.log.isChecked() and not panel.main.ctrl.logYCheck.isChecked()
    assert max(s.pos().y() for s in panel._pool[0].scatter.points()) == pytest.approx(30)


def test_log_scale_rule():
    assert wants_log_scale([5] * 9 + [500]) and not wants_log_scale([5, 6, 7, 8, 50])
    assert not wants_log_scale([]) and not wants_log_scale([0, 0])
    assert wants_log_scale([0, 1, 1, 1, 11])        # zeros left out: a log axis has none
    assert log_floor([0, 0, 4, 9]) == 2 and log_floor([0]) == 0.01


def test_log_axis_ticks_read_as_milliseconds(qtbot, panel):
    axis = panel.main.getAxis("left")
    exponents = np.log10([0.5, 1, 2, 3, 5, 20, 70, 100, 1000])
    assert axis.logTickStrings(exponents, 1.0, 1.0) == [
        "0.5", "1", "2", "", "5", "20", "", "100", "1000"]


def test_zero_ms_requests_sit_just_under_the_fastest_on_a_log_axis(qtbot, panel, plain):
    pts = _show(qtbot, panel, plain)
    assert panel.log.isChecked() and (pts.y == 0).sum() == 2
    health = panel._pool[pts.groups.index("GET /health")].scatter
    heights = sorted(s.pos().y() for s in health.points())
    fastest = pts.y[pts.y > 0].min()
    assert heights[0] == pytest.approx(np.log10(fastest / 2))


# --- 4. no empty SQL plots -----------------------------------------------------------------
def test_sql_plots_hidden_without_a_query_log_and_the_reason_said(qtbot, panel, plain):
    assert not list(plain.glob("*.jsonl")) and not list(plain.glob("*.log"))
    _show(qtbot, panel, plain)
    assert not panel.sql.isVisible() and not panel.sql_ms.isVisible()
    assert panel.sql_note.isVisible()
    assert panel.sql_note.text().startswith("No SQL log loaded") and \
        "queries.jsonl" in panel.sql_note.text()
    assert panel.main.getAxis("bottom").style["showValues"]   # the time labels moved up


def test_sql_plots_hidden_when_no_statement_is_tied(qtbot, panel, before, tmp_path):
    for f in before.glob("GET.health*.prof"):
        shutil.copy(f, tmp_path)
    lines = [{"statement": "SELECT %d" % i, "ts_start": T0 + i, "duration_ms": 1.0,
              "request_method": "GET", "request_path": "/elsewhere"} for i in range(3)]
    (tmp_path / "queries.jsonl").write_text("".join(json.dumps(o) + "\n" for o in lines))
    _show(qtbot, panel, tmp_path)
    capture = panel.session.capture
    assert capture.has_queries and len(capture.queries) == 3
    assert all(q.profile_file is None for q in capture.queries)
    assert not panel.sql.isVisible() and not panel.sql_ms.isVisible()
    assert panel.sql_note.isVisible()
    assert panel.sql_note.text().startswith("3 statements loaded, none tied to a request")


def test_sql_plots_hidden_when_the_log_has_no_statement(qtbot, panel, before, tmp_path):
    for f in before.glob("GET.health*.prof"):
        shutil.copy(f, tmp_path)
    (tmp_path / "queries.jsonl").write_text("GARBAGE\n")       # read, but not one statement
    _show(qtbot, panel, tmp_path)
    assert panel.session.capture.has_queries and not panel.session.capture.queries
    assert not panel.sql.isVisible() and panel.sql_note.isVisible()
    assert panel.sql_note.text() == "SQL log read, but no statement in it"


def test_sql_plots_shown_when_statements_are_tied(qtbot, panel, before):
    _show(qtbot, panel, before)
    assert panel.sql.isVisible() and panel.sql_ms.isVisible()
    assert not panel.sql_note.isVisible()
    # the time labels once, under the lowest plot: the memory lane (the sample has the
    # resident set of each request)
    assert panel.memory.isVisible() and panel.memory.getAxis("bottom").style["showValues"]
    for plot in (panel.main, panel.sql, panel.sql_ms):
        assert not plot.getAxis("bottom").style["showValues"]


# --- 5. times that read like a clock ---------------------------------------------------------
def _labels(axis, x0, x1, width=800) -> list:
    """The labels a time axis draws from *x0* to *x1* on *width* pixels, finest last."""
    return [axis.tickStrings(values, 1.0, spacing)
            for spacing, values in axis.tickValues(x0, x1, width) if values]


def test_time_axis_ticks_are_clock_times(qtbot, panel, utc):
    axis = panel.sql_ms.getAxis("bottom")
    panel.plots.grab()          # painted once: pyqtgraph measures tick text from that paint
    seconds = sum(_labels(axis, T0, T0 + 8), [])
    assert seconds and all(":" in s and "." not in s for s in seconds)
    assert "22:13:22" in seconds and "22:13:26" in seconds
    short = sum(_labels(axis, T0, T0 + 2, width=1000), [])
    assert "22:13:21" in short and any(s.startswith(".") for s in short)
    assert not any(s.endswith(".000") or s.endswith("0") and s.startswith(".") for s in short)
    hours = sum(_labels(axis, T0, T0 + 3 * 3600), [])
    assert "23:00" in hours and "Wed 15" in hours                       # midnight: the day
    assert all(s.count(":") <= 1 for s in hours)                        # no seconds
    assert tick_labels([T0 + 0.5, T0 + 1, T0 + 1.5], 0.001) == [".5", "22:13:21", ".5"]
    assert tick_labels([T0 + 0.5, T0 + 2.5], 0.001) == ["22:13:20.5", "22:13:22.5"]


def test_request_times_drop_empty_milliseconds(qtbot, panel, before, utc):
    assert request_time(T0, True) == "22:13:20"
    assert request_time(T0 + 0.25, True) == "22:13:20.25"
    assert request_time(T0 + 0.9999, True) == "22:13:21"
    assert request_time(T0 + 0.25, False) == "22:13:20"      # file-name times: seconds
    pts = _show(qtbot, panel, before)
    for i in range(len(pts)):
        tip = panel._tip(pts.x[i], pts.y[i], i)
        assert ".000" not in tip and "started " in tip and request_time(pts.x[i], True) in tip
    for row in range(panel.slow.count()):
        item = panel.slow.item(row)
        clock = item.text().split("  ")[-1]
        assert len(clock) == 8 and clock.count(":") == 2        # 22:13:20, no fraction
        assert ".000" not in item.toolTip()
