"""The window on the sample captures: loading, linked views, search, zoom, export, drops."""
from __future__ import annotations

import marshal
import pstats
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from profview.analysis import calltree
from profview.analysis.codeloc import classify
from profview.qt.main_window import MainWindow
from profview.qt.models import ITEM_ROLE

LOAD_TIMEOUT = 60_000




def _open(qtbot, win, paths):
    with qtbot.waitSignal(win.ready, timeout=LOAD_TIMEOUT):
        win.open_paths(paths)


def _wait_tree(qtbot, win, action):
    with qtbot.waitSignal(win.flame.tree_ready, timeout=LOAD_TIMEOUT):
        action()


def test_empty_window_says_what_to_do(window):
    assert window.flame.view.tree is None
    assert "Open Directory" in window.flame.view.empty_text
    window.flame.view.grab()   # paints the empty state without error


def test_open_directory_shows_top_endpoint(qtbot, window, before):
    _open(qtbot, window, [before])
    session = window.session
    assert len(session.capture.requests) == 29
    model = window.endpoints.model
    assert model.rowCount() == 1 + len(session.endpoints) == 8
    assert session.scope.kind == "endpoint" and session.scope.endpoint.name == "GET /roster"
    tree = window.flame.view.tree
    assert tree is not None and session.graph.requests == 5
    assert tree.total[0] == pytest.approx(sum(r.total_tt for r in session.scope.endpoint.requests),
                                          rel=0.02)
    assert window.functions.model.rowCount() == len(session.graph.functions)
    assert "29 requests in 7 endpoints" in window.status.text()


def _select_endpoint(qtbot, win, name):
    proxy = win.endpoints.proxy
    for row in range(proxy.rowCount()):
        index = proxy.index(row, 0)
        item = index.data(ITEM_ROLE)
        if item.kind == "endpoint" and item.endpoint.name == name:
            _wait_tree(qtbot, win, lambda: win.endpoints.view.setCurrentIndex(index))
            return item.endpoint
    raise AssertionError(name)


def test_endpoint_and_request_selection(qtbot, window, before):
    _open(qtbot, window, [before])
    ep = _select_endpoint(qtbot, window, "GET /stats")
    assert window.session.graph.requests == len(ep.requests) == 2
    assert any(k[2] == "_class_statistics" for k in window.session.graph.functions)
    parent = window.endpoints.view.currentIndex()
    window.endpoints.view.expand(parent)
    child = window.endpoints.proxy.index(0, 0, parent)
    _wait_tree(qtbot, window, lambda: window.endpoints.view.setCurrentIndex(child))
    assert window.session.scope.kind == "request" and window.session.graph.requests == 1


def test_linked_selection_table_flame_callers(qtbot, window, before):
    _open(qtbot, window, [before])
    table = window.functions.table
    proxy = table.proxy
    row = next(r for r in range(proxy.rowCount())
               if proxy.index(r, 0).data() == "_emit_lazyload")
    table.clicked.emit(proxy.index(row, 0))
    func = window.session.function
    assert func[2] == "_emit_lazyload"
    assert window.flame.view.selected == func
    assert window.functions.callers_model.rowCount() >= 1
    assert window.functions.callees_model.rowCount() >= 1
    # a click on a frame in the flame graph selects its function in the table
    view = window.flame.view
    tree = view.tree
    node = next(i for i in range(len(tree)) if tree.funcs[i] and tree.funcs[i][2] == "roster")
    scale = view.width() / tree.total[0]
    pos = QPoint(int((tree.start[node] + tree.total[node] / 2) * scale),
                 int(tree.depth[node] * 18 + 9))
    qtbot.mouseClick(view, Qt.LeftButton, pos=pos)
    assert window.session.function[2] == "roster"
    current = table.currentIndex()
    assert proxy.index(current.row(), 0).data() == "roster"
    # and a click in the callees table follows it
    callees = window.functions.callees
    first = callees.proxy.index(0, 0).data(ITEM_ROLE)
    callees.clicked.emit(callees.proxy.index(0, 0))
    assert window.session.function == first
    assert window.flame.view.selected == first


def test_search_modes_and_focus(qtbot, window, before):
    _open(qtbot, window, [before])
    panel, view = window.flame, window.flame.view
    panel.search.setText("fetchall")
    assert view.mask is not None and view.mask.any()
    assert "% of time" in panel.match_label.text()
    panel.regex.setChecked(True)
    panel.search.setText("fetch(all|one)$")
    assert view.mask.any()
    panel.search.setText("(")
    assert "bad regex" in panel.match_label.text()
    panel.search.setText("")
    assert view.mask is None
    assert (view.tree.flags & calltree.ESTIMATED).any()
    _wait_tree(qtbot, window, lambda: panel.mode.setCurrentIndex(1))
    assert view.tree.mode == "exact" and not (view.tree.flags & calltree.ESTIMATED).any()
    _wait_tree(qtbot, window, lambda: panel.my_code.setChecked(True))
    assert all(f is None or classify(f[0])[0] == "app" for f in view.tree.funcs)
    _wait_tree(qtbot, window, lambda: panel.my_code.setChecked(False))
    roster = next(f for f in window.session.graph.functions if f[2] == "roster")
    _wait_tree(qtbot, window, lambda: window.session.set_focus(roster))
    assert view.tree.funcs[1] == roster and panel.unfocus.isVisibleTo(panel)


def test_zoom_pan_keys_and_breadcrumbs(qtbot, window, before):
    _open(qtbot, window, [before])
    view = window.flame.view
    tree = view.tree
    node = next(i for i in range(len(tree)) if tree.funcs[i] and tree.funcs[i][2] == "roster")
    view.zoom_to(node)
    assert "roster" in window.flame.breadcrumbs.text()
    assert view._x1 - view._x0 == pytest.approx(tree.total[node])
    qtbot.keyClick(view, Qt.Key_0)
    assert view._x0 == 0 and view._x1 == pytest.approx(tree.total[0])
    qtbot.keyClick(view, Qt.Key_Plus)
    assert view._x1 - view._x0 < tree.total[0]
    qtbot.keyClick(view, Qt.Key_D)
    x0 = view._x0
    qtbot.keyClick(view, Qt.Key_A)
    assert view._x0 < x0
    assert "total" in view.tooltip_text(node) and "roster" in view.tooltip_text(node)
    window.flame.orientation.setCurrentIndex(1)
    assert view.flame
    hit = view.node_at(QPointF(view.width() / 2, view.height() - 9))
    assert hit is not None and tree.depth[hit] == 0


def test_problems_panel_and_the_rest_loads(qtbot, window, plain, tmp_path):
    bad = tmp_path / "GET.broken.3ms.1795313503.prof"
    bad.write_bytes(b"\x80\x04pickled")
    _open(qtbot, window, [plain, bad])
    assert len(window.session.capture.requests) == 12
    assert window.problems.topLevelItemCount() == 1
    assert "pickle" in window.problems.topLevelItem(0).text(2)
    assert window.docks["Problems"].windowTitle() == "Problems (1)"


def test_nothing_loads_says_so(qtbot, window, tmp_path):
    (tmp_path / "x.prof").write_bytes(b"junk")
    _open(qtbot, window, [tmp_path])
    assert window.flame.view.tree is None
    assert "Problems" in window.flame.view.empty_text


def test_drop_opens_paths(qtbot, window, plain):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(plain))])
    event = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.ready, timeout=LOAD_TIMEOUT):
        window.dropEvent(event)
    assert window.paths == [str(plain)] and len(window.session.capture.requests) == 12


def test_exports(qtbot, window, before, tmp_path):
    from profview.qt import export

    _open(qtbot, window, [before])
    graph = window.session.graph
    prof = export.merged_prof(window, tmp_path / "merged.prof")
    stats = pstats.Stats(prof).stats   # the standard library reads what we wrote
    assert len(stats) == len(graph.functions)
    key = next(iter(graph.functions))
    assert stats[key][3] == pytest.approx(graph.functions[key].cumtime)
    assert marshal.loads((tmp_path / "merged.prof").read_bytes()).keys() == stats.keys()
    svg = export.flame_svg(window, tmp_path / "flame.svg")
    assert "<svg" in open(svg).read()
    png = export.flame_png(window, tmp_path / "flame.png")
    assert (tmp_path / "flame.png").stat().st_size > 1000 and png
    lines = open(export.functions_csv(window, tmp_path / "f.csv")).read().splitlines()
    assert lines[0].startswith("function,file,line") and len(lines) == len(graph.functions) + 1
    lines = open(export.endpoints_csv(window, tmp_path / "e.csv")).read().splitlines()
    assert len(lines) == 8 and lines[1].startswith("GET /roster")


def test_layout_and_recent_are_remembered(qtbot, tmp_path, monkeypatch, plain):
    monkeypatch.setenv("PROFVIEW_SETTINGS", str(tmp_path / "settings.ini"))
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    with qtbot.waitSignal(first.ready, timeout=LOAD_TIMEOUT):
        first.open_paths([plain])
    first.docks["Functions"].hide()
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    assert not second.docks["Functions"].isVisible()
    assert [a.text() for a in second.recent_menu.actions()] == [str(plain)]


def test_loading_never_writes_into_the_directory(qtbot, window, before):
    snapshot = {p: p.stat().st_mtime_ns for p in before.iterdir()}
    _open(qtbot, window, [before])
    assert {p: p.stat().st_mtime_ns for p in before.iterdir()} == snapshot


def test_many_frames_paint(qtbot, window):
    """50,000 frames: the culling and batched drawing hold up (and the Qt build does)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from trees import wide_tree

    tree = wide_tree(50_000)
    window.flame.view.set_tree(tree)
    image = window.flame.view.grab()
    assert not image.isNull()
    visible = window.flame.view.visible()
    assert 0 < len(visible) < len(tree)
    window.flame.view.zoom_to(int(np.argmax(tree.depth)))
    window.flame.view.grab()
