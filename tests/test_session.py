"""The window's state without Qt: events fire, stale results are dropped."""
from __future__ import annotations

from profview.analysis.flame import build_tree
from profview.model.scope import Scope
from profview.loading.merge import load_graph
from profview.loading.scan import load_capture
from profview.app.session import ALL, Session


def test_session_events_and_stale_graphs(before):
    session = Session()
    seen = []
    for name in ("capture", "scope", "graph", "function", "options"):
        getattr(session.events, name).connect(lambda *a, n=name: seen.append(n))
    session.set_capture(load_capture([before], workers=1))
    assert seen == ["capture"] and len(session.endpoints) == 7
    roster = session.endpoint_named("GET /roster")
    assert session.endpoint_named("attendance").name == "GET /attendance/<int:student_id>"
    session.select_scope(Scope.of_endpoint(roster))
    assert session.requests_of() == roster.requests and session.graph is None
    graph, _ = load_graph(roster.requests)
    session.set_graph(ALL, graph)            # a late result for a scope no longer shown
    assert session.graph is None
    session.set_graph(Scope.of_endpoint(roster), graph)
    assert session.graph is graph and seen[-1] == "graph"
    func = next(f for f in graph.functions if f[2] == "roster")   # app code
    session.select_function(func)
    session.select_function(func)            # no event when nothing changes
    assert seen.count("function") == 1
    session.set_mode("exact")
    session.set_app_only(True)
    session.set_focus(func)
    assert seen.count("options") == 3
    request = session.tree_request()
    tree = build_tree(**request)
    assert tree.mode == "exact" and tree.funcs[1] == func
    session.select_scope(Scope.of_request(roster.requests[0]))
    assert session.focus is None and session.scope_label().startswith("GET /roster")
