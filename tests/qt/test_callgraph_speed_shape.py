"""The call graph panel's fast path, by behaviour (no timings): a new threshold re-prunes the
cached parse, a dragged slider runs one layout at a time and shows only the last, and
``drawn`` marks the latest request on screen, empty states included."""
from __future__ import annotations

import pytest

from profview.analysis import callgraph_view as cg
from profview.app.session import Session
from profview.model.callgraph import CallGraph
from profview.loading.merge import load_graph
from profview.loading.scan import load_capture
from profview.qt.views import callgraph as view
from profview.qt.workers import wait_all

LOAD = 60_000


@pytest.fixture
def panel(qtbot, before):
    graph, _ = load_graph(load_capture([before], workers=1).requests)
    session = Session()
    panel = view.CallGraphPanel(session)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    with qtbot.waitSignal(panel.drawn, timeout=LOAD):
        session.set_graph(session.scope, graph)
    yield panel
    wait_all()


def _apart(fn, *args, **_kwargs):
    return fn(*args)


def _parses_in_worker() -> int:
    return view.apart(cg.parse_count, mp_context="forkserver", background=True)


@pytest.mark.parametrize("where", ["worker process", "this process"])
def test_a_new_threshold_does_not_parse_again(qtbot, panel, monkeypatch, where):
    """The layout worker keeps the parse of the graph it was sent (by token); run here
    (no worker process to be had), the parse cache is this process's."""
    if where == "this process":
        monkeypatch.setattr(view, "apart", _apart)
        count = cg.parse_count
    else:
        count = _parses_in_worker
    with qtbot.waitSignal(panel.drawn, timeout=LOAD):
        panel.node_slider.setValue(25)               # parsed here, once, if it was not
    parses = count()
    assert parses >= 1
    for value in (20, 8, 3):
        with qtbot.waitSignal(panel.drawn, timeout=LOAD):
            panel.node_slider.setValue(value)
        assert panel.spec.dot == cg.build(panel.session.graph, value / 1000.0, 0.001).dot
    assert count() == parses
    assert len(panel._nodes) == len(panel.spec.nodes) > 0
    # another graph (here an equal copy: another scope) gets a token of its own: parsed
    g = panel.session.graph
    with qtbot.waitSignal(panel.drawn, timeout=LOAD):
        panel.session.set_graph(panel.session.scope,
                                CallGraph(dict(g.functions), dict(g.edges), g.requests))
    assert count() == parses + 1


def test_a_dragged_slider_runs_one_layout_at_a_time_and_shows_the_last(qtbot, panel,
                                                                      monkeypatch):
    calls = []
    running = []

    def counted(*args):
        running.append(1)
        assert len(running) == 1, "two layouts at once"
        try:
            calls.append(args[1])
            return original(*args)
        finally:
            running.pop()

    original = view.compute
    monkeypatch.setattr(view, "compute", counted)
    with qtbot.waitSignal(panel.drawn, timeout=LOAD):
        for value in range(10, 30):                  # twenty steps, as fast as Qt sends them
            panel.node_slider.setValue(value)
    assert len(calls) <= 2 and calls[-1] == pytest.approx(0.029)
    assert panel.node_label.text() == "2.9%"
    assert panel.spec.dot == cg.build(panel.session.graph, 0.029, 0.001).dot
    qtbot.wait(50)
    wait_all()
    assert len(calls) <= 2                           # nothing left running behind


def test_drawn_also_says_when_there_is_nothing_to_draw(qtbot, panel):
    with qtbot.waitSignal(panel.drawn, timeout=LOAD):
        panel.node_slider.setValue(100)              # 10%: still a few functions
    with qtbot.waitSignal(panel.drawn, timeout=LOAD):
        panel.session.set_graph(panel.session.scope, None)
    assert panel._nodes == {} and not panel.scene.items()
    assert panel.status.text() == view.EMPTY


def test_labels_are_items_that_let_clicks_through(qtbot, panel):
    labels = [i for i in panel.scene.items() if isinstance(i, view._Labels)]
    assert len(labels) == 2                          # node labels and edge labels
    roster = next(f for f in panel._nodes if f[2] == "roster")
    node = panel._nodes[roster]
    centre = node.sceneBoundingRect().center()
    under = [i for i in panel.scene.items(centre) if i.acceptedMouseButtons()]
    assert under[0] is node                          # the label above it takes no click
