"""The compare panel as a daily user reads it: the verdicts that matter first, room for the
verdict table and the differential flame graph, function names first."""
from __future__ import annotations

from PySide6.QtCore import Qt

from profview.qt.models import ITEM_ROLE
from profview.qt.views.compare_panel import ComparePanel, FunctionDeltaModel, importance

LOAD = 60_000


def _compare(qtbot, window, before, after):
    with qtbot.waitSignal(window.compared, timeout=LOAD):
        window.open_paths([before])
        window.compare_with([after])
    return window.compare


def test_verdicts_ordered_by_what_matters(qtbot, qtmodeltester, window, before, after):
    panel = _compare(qtbot, window, before, after)
    model = panel.endpoints
    rows = model.rows
    assert rows[0]["verdict"] in ("faster", "slower") and rows[0]["significant"]
    ranks = [importance(r) for r in rows]
    assert ranks == sorted(ranks)
    groups = [rank[0] for rank in ranks]
    assert groups == sorted(groups) and groups[-1] > 0     # changes first, the rest after
    changed = [abs(r["delta_p50_ms"]) for r in rows if r["verdict"] in ("faster", "slower")]
    assert changed == sorted(changed, reverse=True)
    header = panel.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (1, Qt.AscendingOrder)
    # the first row is picked, as before: its flame graph and function deltas follow
    assert panel.table.currentIndex().row() == 0
    qtbot.waitUntil(lambda: panel.flame.tree is not None and panel.functions.rowCount() > 0,
                    timeout=LOAD)
    # sorting by Δ ms keeps the picked endpoint current and puts unknown Δ last
    picked = panel.table.currentIndex().data(ITEM_ROLE)["name"]
    panel.table.sortByColumn(4, Qt.DescendingOrder)
    deltas = [r["delta_p50_ms"] for r in model.rows]
    known = [d for d in deltas if d is not None]
    assert known == sorted(known, reverse=True) and deltas[:len(known)] == known
    assert panel.table.currentIndex().data(ITEM_ROLE)["name"] == picked
    qtmodeltester.check(model)


def test_function_deltas_name_first(qtbot, qtmodeltester, window, before, after):
    panel = _compare(qtbot, window, before, after)
    qtbot.waitUntil(lambda: panel.functions.rowCount() > 10, timeout=LOAD)
    model = panel.functions
    assert model.headerData(0, Qt.Horizontal) == "function"
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [
        d["key"][2] for d in model.rows]
    loc = FunctionDeltaModel.LOCATION
    row = next(r for r, d in enumerate(model.rows) if d["key"][0].startswith("/"))
    key = model.rows[row]["key"]
    assert model.index(row, loc).data().endswith(":%d" % key[1])
    assert model.index(row, loc).data(Qt.ToolTipRole) == "%s:%d" % key[:2]
    given = list(model.rows)
    panel.function_table.sortByColumn(FunctionDeltaModel.DELTA, Qt.AscendingOrder)
    deltas = [d["after_s_per_request"] - d["before_s_per_request"] for d in model.rows]
    assert deltas == sorted(deltas)
    qtmodeltester.check(model)
    panel.function_table.sortByColumn(-1, Qt.AscendingOrder)    # the comparison's order
    assert model.rows == given


def test_panel_gives_table_and_flame_the_room(qtbot, window, before, after):
    shown = _compare(qtbot, window, before, after)
    panel = ComparePanel(window.session)
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    panel.show()
    panel.set_captures(shown.before, shown.after, shown.result)
    qtbot.waitUntil(lambda: panel.flame.tree is not None, timeout=LOAD)
    table = panel.table
    rows_in_view = table.viewport().height() // table.rowHeight(0)
    assert rows_in_view >= 6
    assert panel.flame.height() > table.height()
    assert panel.summary.text().startswith("29 requests before, 29 after.")
    assert "Mann–Whitney" in panel.summary.toolTip()


def test_picking_a_verdict_shows_that_endpoint_in_every_panel(qtbot, window, before, after):
    panel = _compare(qtbot, window, before, after)
    session = window.session
    rows = panel.endpoints.rows
    # the first row was picked with the comparison: the other panels show its endpoint
    qtbot.waitUntil(lambda: session.scope.kind == "endpoint"
                    and session.scope.endpoint.name == rows[0]["before_name"], timeout=LOAD)
    second = next(i for i, r in enumerate(rows) if i and r["before_name"])
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        panel.table.setCurrentIndex(panel.endpoints.index(second, 0))
    assert session.scope.endpoint.name == rows[second]["before_name"]
    assert session.graph.requests == len(session.scope.endpoint.requests)
    current = window.endpoints.view.currentIndex().data(ITEM_ROLE)
    assert current.kind == "endpoint" and current.endpoint.name == rows[second]["before_name"]
