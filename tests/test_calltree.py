"""Call trees from caller→callee graphs: written as folded stacks, compared as text."""
from __future__ import annotations

import numpy as np
import pytest

from profview.analysis.calltree import EXACT, SEVERAL, build
from profview.importers.folded import callgraph_from_folded, dump
from profview.loading.merge import load_graph
from profview.loading.scan import load_capture


def tree(text, mode="estimated", threshold=0.0):
    return build(callgraph_from_folded(text), mode=mode, threshold=threshold)


def test_tree_shaped_input_round_trips_in_both_modes():
    stacks = "A 1\nA;B 2\nA;B;C 5\nA;D;E 3"
    for mode in ("estimated", "exact"):
        assert dump(tree(stacks, mode)) == stacks


def test_shared_callee_estimated_and_marked():
    # C is called from B and from D; what C calls (E, F) cannot be attributed to B or D.
    stacks = "A;B;C;E 5\nA;D;C;F 5\nA;B 2\nA 1"
    assert dump(tree(stacks), "total") == "\n".join([
        "A 13", "A;B 7", "A;B;C 5", "A;B;C;E* 2.5", "A;B;C;F* 2.5",
        "A;D 5", "A;D;C 5", "A;D;C;E* 2.5", "A;D;C;F* 2.5"])


def test_shared_callee_exact_mode_is_one_block():
    stacks = "A;B;C;E 5\nA;D;C;F 5\nA;B 2\nA 1"
    t = tree(stacks, EXACT)
    assert dump(t, "total") == "\n".join([
        "A 13", "A;B 7", "A;B;C 5", "A;B;C;(called from several places) 5",
        "A;D 5", "A;D;C 5", "A;D;C;(called from several places) 5"])
    assert not any(t.flags & 1)  # nothing estimated in exact mode
    assert (t.flags & SEVERAL).astype(bool).sum() == 2


def test_recursion_survives_and_stays_inside():
    t = tree("A;B;A;B;C 4\nA;B 1\nA;X;X;X 2")
    assert dump(t, "total") == "A 7\nA;B 5\nA;B;C 4\nA;X 2"


def test_threshold_is_relative_to_the_root():
    stacks = "A;B 990\nA;C 9\nA;C;D 1"
    assert dump(tree(stacks, threshold=0.005), "total") == "A 1000\nA;B 990\nA;C 10"


def _check_invariants(t):
    assert t.parent[0] == -1
    for i in range(1, len(t)):
        p = t.parent[i]
        assert p < i and t.depth[i] == t.depth[p] + 1
        # inside its parent, in time and on the x axis
        assert t.start[i] >= t.start[p] - 1e-12
        assert t.start[i] + t.total[i] <= t.start[p] + t.total[p] + 1e-9
    children_sum = np.zeros(len(t))
    np.add.at(children_sum, t.parent[1:], t.total[1:])
    assert np.all(children_sum <= t.total - t.self_time + 1e-9)


@pytest.mark.parametrize("mode", ["estimated", "exact"])
def test_invariants_on_a_merged_real_capture(before, mode):
    capture = load_capture([before], workers=1)
    graph, problems = load_graph(capture.requests)
    assert not problems and graph.requests == len(capture.requests)
    t = build(graph, mode=mode, threshold=0.001)
    _check_invariants(t)
    assert 50 < len(t) < 5000
    # the root holds the whole capture: every request's profiled time
    assert t.total[0] == pytest.approx(sum(r.total_tt for r in capture.requests), rel=0.02)


def test_endpoint_graph_sums_and_averages(before):
    from profview.analysis.endpoints import group
    from profview.loading.merge import endpoint_graph

    ep = next(e for e in group(load_capture([before], workers=1)) if e.name == "GET /stats")
    total, problems = endpoint_graph(ep)
    mean, _ = endpoint_graph(ep, average=True)
    n = len(ep.requests)
    assert not problems and total.requests == n == 2
    # the loader's per-endpoint totals and the merged graph agree, function by function
    assert set(total.functions) == set(ep.functions)
    for key, s in total.functions.items():
        assert s.ncalls == ep.functions[key].ncalls
        assert s.tottime == pytest.approx(ep.functions[key].tottime)
        assert mean.functions[key].tottime == pytest.approx(s.tottime / n)
    view = next(k for k in total.functions if k[2] == "_class_statistics")
    assert mean.functions[view].ncalls == 1 and mean.functions[view].cumtime > 0.01
    assert all((view, callee) in total.edges for callee in total.callees(view))


def test_recursion_that_does_not_fit_is_shrunk_and_marked_never_exact():
    # A calls B, which calls A again, which calls C: pstats' edges A→B and A→C are 5 s each
    # inside A's 5 s (the inner A's time is counted at both depths).  The flame graph cannot
    # draw both at 5 s inside A: they are shrunk to fit, and marked with pstats' value.
    from profview.analysis.calltree import SCALED
    for mode in ("estimated", EXACT):
        t = tree("A;B;A;C 5", mode)
        shrunk = {t.funcs[i][2]: (t.total[i], t.unscaled[i]) for i in range(len(t))
                  if t.flags[i] & SCALED}
        assert shrunk == {"B": (2.5, 5.0), "C": (2.5, 5.0)}, mode
        a = next(i for i in range(len(t)) if t.funcs[i] and t.funcs[i][2] == "A")
        assert not t.flags[a] & SCALED and t.unscaled[a] == t.total[a] == 5.0
    # a tree whose edges fit is never marked
    assert not any(tree("A;B 2\nA;C 3", EXACT).flags & SCALED)
