"""What keeps scope changes quick, by behaviour (no timings): the merge's worker builds the
flame tree too and the panel shows that very tree without another worker; full garbage
collections wait for a quiet moment."""
from __future__ import annotations

import gc

import pytest

from profview.analysis import flame
from profview.app import pipeline
from profview.app.session import Session
from profview.loading.scan import load_capture
from profview.model.scope import Scope
from profview.analysis.endpoints import group
from profview.qt import idle_gc
from profview.qt.views.flame_panel import FlamePanel
from profview.qt import workers


def test_the_merge_builds_the_tree_the_panel_shows(qtbot, before, monkeypatch):
    capture = load_capture([before], workers=1)
    endpoint = group(capture)[0]
    session = Session()
    session.set_capture(capture)
    panel = FlamePanel(session)
    qtbot.addWidget(panel)
    scope = Scope.of_endpoint(endpoint)
    session.select_scope(scope)
    graph, _problems = pipeline.scope_and_tree(capture, session.requests_of(scope),
                                               session.tree_options())
    built = flame.cached_tree(graph, **session.tree_options())
    assert built is not None and len(built) > 1
    started = []
    monkeypatch.setattr(workers.Task, "start", lambda self, *a, **k: started.append(self))
    with qtbot.waitSignal(panel.tree_ready, timeout=5000):
        session.set_graph(scope, graph)
    assert panel.view.tree is built and started == []
    # another option is another tree: built by a worker, not taken from the cache
    session.set_mode(flame.calltree.EXACT)
    assert len(started) == 1
    assert flame.cached_tree(graph, **session.tree_options()) is None


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_full_collections_wait_for_a_quiet_moment(qtbot, thresholds, monkeypatch):
    # No wall clock: the quiet moment is a minute away while the test clicks, so a busy
    # machine cannot make it come early; then the moment is made to come (timer fired).
    monkeypatch.setattr(idle_gc, "IDLE_MS", 60_000)
    session = Session()
    collector = idle_gc.IdleCollector(session)
    assert gc.get_threshold()[2] >= 100_000        # no automatic full collection
    seen = []
    gc.callbacks.append(lambda phase, info: seen.append(info["generation"])
                        if phase == "stop" else None)
    try:
        # containers that survive the young generations: a full collection is due
        keep = [[i] for i in range(50_000)]
        while gc.get_count()[2] == 0:
            keep.append([[] for _ in range(1000)])
        before = collector.collections
        for _ in range(5):                          # busy: every event postpones it
            collector._timer.stop()
            session.select_function(("app.py", len(keep), "f%d" % _))
            assert collector._timer.isActive()      # the wait starts again
            qtbot.wait(10)
        assert collector.collections == before and 2 not in seen
        collector._timer.timeout.emit()             # the window was left alone
        assert collector.collections == before + 1 and 2 in seen
    finally:
        gc.callbacks.pop()
    del keep


def test_no_full_collection_while_a_scope_is_on_its_way(qtbot, thresholds, monkeypatch):
    """A merge of thousands of requests can take seconds with no session event: the window
    is not idle then, and a full collection would only delay the graph the user waits for."""
    from pathlib import Path

    from profview.loading.scan import load_capture
    from profview.loading.scopes import scope_graph

    monkeypatch.setattr(idle_gc, "IDLE_MS", 30)
    capture = load_capture([Path(__file__).parent.parent / "data" / "smorest"], workers=1)
    session = Session()
    collector = idle_gc.IdleCollector(session)
    session.set_capture(capture)                    # its graph is not merged yet
    keep = [[i] for i in range(50_000)]
    while gc.get_count()[2] == 0:
        keep.append([[] for _ in range(1000)])
    before = collector.collections
    qtbot.wait(200)                                 # several idle periods go by
    assert collector.collections == before and collector.waiting()
    session.set_graph(session.scope, scope_graph(capture, capture.requests)[0])
    qtbot.waitUntil(lambda: collector.collections == before + 1, timeout=20_000)
    del keep
