"""A capture with sampled stacks (sample_profiles/stacks, the demo app captured with
``stacks=True``): exact flame graphs whose totals are the samples', and each request in time
order with its SQL on the same axis, each statement inside the samples of the frame that
issued it."""
from __future__ import annotations

from pathlib import Path

import pytest

from profview.analysis import calltree, sql
from profview.importers import stacks_file
from profview.model.scope import Scope

LOAD = 60_000
STACKS = Path(__file__).resolve().parent.parent.parent / "sample_profiles" / "stacks"


def _open(qtbot, window):
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        window.open_paths([STACKS])


def test_flame_graph_of_an_endpoint_is_exact_and_sums_the_samples(qtbot, window):
    _open(qtbot, window)
    session, panel = window.session, window.flame
    tree = panel.view.tree
    requests = session.requests_of(session.scope)
    assert all(r.stacks is not None for r in requests)
    assert not (tree.flags & (calltree.ESTIMATED | calltree.SCALED | calltree.SHARED)).any()
    weights = sum(stacks_file.load(r.stacks).weights().sum() for r in requests)
    assert tree.total[0] == pytest.approx(weights)
    assert panel.source.isVisibleTo(panel) and "%d sampled" % len(requests) in \
        panel.source.text()
    assert not panel.mode.isEnabled()           # nothing to estimate
    assert panel.legend.hatch is None


def test_a_request_in_time_order_with_its_sql_inside_the_frames_that_ran_it(qtbot, window):
    _open(qtbot, window)
    session, timeline = window.session, window.request_timeline
    request = max((r for r in session.capture.requests if "roster" in r.name),
                  key=lambda r: r.elapsed_ms)
    with qtbot.waitSignal(timeline.ready, timeout=LOAD):
        session.select_scope(Scope.of_request(request))
    chart = timeline.chart
    profile = stacks_file.load(request.stacks)
    # the chart: time since the request began, the whole request at the root
    assert chart.tree.total[0] == pytest.approx(profile.end_ms / 1000.0)
    assert chart.tree.start.min() >= 0 and chart.samples == len(profile.sample_t)
    # the SQL lane: every tied statement at its real start and length, in order
    statements = [q for q in session.capture.queries if q.profile_file == sql.request_key(
        request)]
    assert len(chart.sql) == len(statements) > 50          # the N+1 of /roster
    starts = [s.start_s for s in chart.sql]
    assert starts == sorted(starts) and all(s.end_s >= s.start_s for s in chart.sql)
    # each statement with a sample inside its span ran under the DB-API execute path, and
    # that sample's time lies inside the statement's span
    placed = [s for s in chart.sql if s.frames is not None]
    assert len(placed) >= len(chart.sql) // 2
    for span in placed:
        assert any(f[2] in ("do_execute", "do_execute_no_params", "execute")
                   for f in span.frames), span.frames
        inside = [t for t in profile.sample_t / 1000.0 if span.start_s <= t <= span.end_s]
        assert inside
    # the lane and the chart share the axis: zooming the chart moves the lane
    timeline.view.zoom_by(0.5)
    assert (timeline.lane.x0, timeline.lane.x1) == (timeline.view._x0, timeline.view._x1)
    # a click on a statement opens it in the SQL panel
    with qtbot.waitSignal(timeline.lane.statement_clicked, timeout=LOAD) as got:
        timeline.lane.statement_clicked.emit(chart.sql[0].statement)
    assert got.args[0] == chart.sql[0].statement
    timeline.grab()


def test_a_request_without_stacks_says_how_to_get_them(qtbot, window, before):
    with qtbot.waitSignal(window.ready, timeout=LOAD):
        window.open_paths([before])
    request = window.session.capture.requests[0]
    window.session.select_scope(Scope.of_request(request))
    assert "stacks=True" in window.request_timeline.info.text()
    assert window.request_timeline.chart is None


def test_a_damaged_stacks_file_falls_back_to_pstats_and_says_so(qtbot, window, tmp_path):
    import shutil

    shutil.copytree(STACKS, tmp_path / "stacks")
    damaged = sorted((tmp_path / "stacks").glob("GET.roster.*.stacks"))[0]
    lines = damaged.read_text().splitlines()
    lines.insert(3, "GARBAGE <b>not json</b>")                # a bad line, not the last
    damaged.write_text("\n".join(lines) + "\n")
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        window.open_paths([tmp_path / "stacks"])
    panel, session = window.flame, window.session
    assert session.scope.endpoint.name == "GET /roster"
    assert panel.view.tree is not None and len(panel.view.tree) > 1
    assert not panel.source.isVisibleTo(panel) and panel.mode.isEnabled()
    # the request's own timeline names the file and the line, as text
    request = next(r for r in session.capture.requests if r.stacks == damaged)
    timeline = window.request_timeline
    session.select_scope(Scope.of_request(request))
    qtbot.waitUntil(lambda: "Could not read" in timeline.info.text(), timeout=LOAD)
    assert damaged.name in timeline.info.text() and "line 4" in timeline.info.text()


def test_stacks_only_requests_open_with_exact_flames_and_their_time_order(qtbot, window):
    """``sample_profiles/stacks-only`` (``profile=False``): no .prof at all, yet every request
    is listed; the flame graph is the samples' and a request's block gives its time order."""
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        window.open_paths([STACKS.parent / "stacks-only"])
    session, panel = window.session, window.flame
    requests = session.requests_of(session.scope)
    assert requests and all(r.sampled and r.stacks is not None for r in requests)
    assert not (panel.view.tree.flags & calltree.ESTIMATED).any()
    assert "%d sampled" % len(requests) in panel.source.text()
    timeline = window.request_timeline
    request = max(session.capture.requests, key=lambda r: r.elapsed_ms)
    with qtbot.waitSignal(timeline.ready, timeout=LOAD):
        session.select_scope(Scope.of_request(request))
    profile = stacks_file.load(request.stacks)
    assert timeline.chart.tree.total[0] == pytest.approx(profile.end_ms / 1000.0)
    assert len(timeline.chart.sql) == request.n_queries > 50
