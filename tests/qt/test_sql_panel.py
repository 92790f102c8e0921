"""The SQL panel and N+1 marks, on the sample capture."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication

from profview.qt.models import ITEM_ROLE
from profview.model.scope import Scope
from profview.qt.views.sql_panel import EMPTY

LOAD = 60_000




def _open(qtbot, win, path):
    with qtbot.waitSignal(win.ready, timeout=LOAD):
        win.open_paths([path])


def test_sql_of_the_roster_endpoint(qtbot, qtmodeltester, window, before):
    _open(qtbot, window, before)
    panel = window.sql
    qtbot.waitUntil(lambda: panel.statements.rowCount() > 0, timeout=LOAD)
    roster = window.session.scope.endpoint
    assert roster.name == "GET /roster"
    assert panel.statements.rowCount() == sum(r.n_queries for r in roster.requests)
    qtmodeltester.check(panel.statements)
    qtmodeltester.check(panel.groups)
    top = panel.groups.rows[0]
    assert top["n_plus_one"] and top["per_request"] > 100
    assert "N+1 pattern" in panel.summary.text()
    notes = [panel.statements.index(r, 2).data() for r in range(panel.statements.rowCount())]
    assert sum("N+1" in n for n in notes) > 500
    # the endpoint tree marks the N+1 endpoint once the worker is done
    qtbot.waitUntil(lambda: bool(window.endpoints.model.n_plus_one), timeout=LOAD)
    names = [window.endpoints.model.index(r, 0).data()
             for r in range(window.endpoints.model.rowCount())]
    assert "⚠ N+1  GET /roster" in names
    timeline = window.timeline
    qtbot.waitUntil(lambda: timeline.data is not None and bool(timeline.data.points.requests),
                    timeout=LOAD)
    qtbot.waitUntil(lambda: "⚠ N+1  GET /roster (5)" in [
        timeline.legend.item(i).text() for i in range(timeline.legend.count())], timeout=LOAD)
    # pick a statement: copy buttons work, the timeline rings its request
    index = panel.statements.index(1, 0)
    q, request = index.data(ITEM_ROLE)
    panel.table.setCurrentIndex(index)
    assert panel.copy_sql.isEnabled()
    panel.copy_sql.click()
    inlined = QGuiApplication.clipboard().text()
    assert inlined.startswith("SELECT") and q.parameters.strip("(,)") in inlined
    panel.copy_explain.click()
    explain = QGuiApplication.clipboard().text()
    assert explain.startswith("EXPLAIN SELECT") and "?" not in explain
    xs, ys = window.timeline._mark.getData()
    assert len(xs) == 1 and ys[0] == pytest.approx(request.elapsed_ms)


def test_empty_state_without_query_logs(qtbot, window, plain):
    _open(qtbot, window, plain)
    qtbot.waitUntil(lambda: window.sql.summary.text() == EMPTY, timeout=LOAD)
    assert window.sql.statements.rowCount() == 0


def test_request_scope_shows_its_queries_in_order(qtbot, window, before):
    _open(qtbot, window, before)
    request = next(r for r in window.session.capture.requests if r.rule == "/enroll")
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        window.session.select_scope(Scope.of_request(request))
    panel = window.sql
    qtbot.waitUntil(lambda: panel.statements.rowCount() == request.n_queries, timeout=LOAD)
    starts = [panel.statements.rows[r][0].start for r in range(panel.statements.rowCount())]
    assert starts == sorted(starts)
    statements = [panel.statements.rows[r][0].statement for r in range(len(starts))]
    assert any(s.startswith("INSERT INTO student_identifier") for s in statements)


def test_a_statement_shows_its_captured_plan(qtbot, window, before):
    _open(qtbot, window, before)
    session, panel = window.session, window.sql
    attendance = session.endpoint_named("GET /attendance/<int:student_id>")
    session.select_scope(Scope.of_endpoint(attendance))
    qtbot.waitUntil(lambda: panel.statements.rowCount() > 0 and any(
        "attendance.student_id" in q.statement for q, _r, _b in panel.statements.rows),
        timeout=LOAD)
    row = next(i for i, (q, _r, _b) in enumerate(panel.statements.rows)
               if "FROM attendance" in q.statement and "student_id" in q.statement)
    panel.table.setCurrentIndex(panel.statements.index(row, 3))
    assert panel.plan.isVisibleTo(panel)
    text = panel.plan.text()
    assert "SCAN attendance" in text and "no index on attendance(student_id)" in text
    assert "CREATE INDEX ix_attendance_student_id ON attendance (student_id);" in text


def test_the_memory_lane_and_column(qtbot, window):
    from pathlib import Path

    memory = Path(__file__).resolve().parent.parent.parent / "sample_profiles" / "memory"
    _open(qtbot, window, memory)
    timeline = window.timeline
    qtbot.waitUntil(lambda: timeline.data is not None and timeline.memory.isVisible(),
                    timeout=LOAD)
    pts = timeline.data.points
    assert not any(v != v for v in pts.rss_mb)          # every request has its RSS
    drawn = timeline._memory_items
    assert len(drawn) == 1 and len(drawn[0].xData) == len(pts)
    model = window.endpoints.model
    column = model.HEADERS.index("Δ memory")
    report = next(r for r in range(model.rowCount())
                  if "report" in (model.index(r, 0).data() or ""))
    assert model.index(report, column).data().startswith("+")
