"""The call graph panel: drawn from the layout, linked both ways, re-pruned live, exported."""
from __future__ import annotations

import pytest

from profview.qt.main_window import MainWindow
from profview.qt.workers import wait_all

LOAD = 60_000


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, before):
    monkeypatch.setenv("PROFVIEW_SETTINGS", str(tmp_path / "settings.ini"))
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1300, 900)
    win.show()
    with qtbot.waitSignal(win.callgraph.laid_out, timeout=LOAD):
        win.open_paths([before])
    yield win
    win.close()
    wait_all()


def test_graph_drawn_and_selection_round_trips(qtbot, window):
    panel = window.callgraph
    spec, layout = panel.spec, panel.layout
    assert len(panel._nodes) == len(spec.nodes) > 20
    assert set(layout.nodes) == {n["id"] for n in spec.nodes}
    assert "laid out by" in panel.status.text()
    roster = next(f for f in panel._nodes if f[2] == "roster")
    panel._nodes[roster].mousePressEvent(_Event())
    assert window.session.function == roster
    assert window.flame.view.selected == roster                 # every view follows
    assert panel._nodes[roster].pen().width() == 3
    other = next(f for f in panel._nodes if f[2] == "_emit_lazyload")
    window.session.select_function(other)                      # and the graph follows them
    assert panel._nodes[other].pen().width() == 3 and panel._nodes[roster].pen().width() == 1


def test_thresholds_and_focus_reprune(qtbot, window):
    panel = window.callgraph
    before_nodes = len(panel.spec.nodes)
    with qtbot.waitSignal(panel.laid_out, timeout=LOAD):
        panel.node_slider.setValue(50)                          # 5%
    assert len(panel.spec.nodes) < before_nodes and panel.node_label.text() == "5.0%"
    roster = next(f for f in panel._nodes if f[2] == "roster")
    window.session.select_function(roster)
    with qtbot.waitSignal(panel.laid_out, timeout=LOAD):
        panel.focus.setChecked(True)
    assert "focused on roster" in panel.status.text()
    names = {f[2] for f in panel._nodes}
    # two calls up (dispatch_request, full_dispatch_request) and two down
    assert {"roster", "dispatch_request", "full_dispatch_request", "<listcomp>"} <= names
    assert "wsgi_app" not in names and len(names) < 10


def test_call_graph_exports(qtbot, window, tmp_path):
    from profview.qt import export

    dot = export.callgraph_dot(window, tmp_path / "g.dot")
    assert open(dot).read().startswith("digraph")
    assert "<svg" in open(export.callgraph_svg(window, tmp_path / "g.svg")).read()
    assert export.callgraph_png(window, tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 5000


class _Event:
    def accept(self):
        pass
