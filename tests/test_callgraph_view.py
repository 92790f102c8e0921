"""The gprof2dot call graph: pruning, focus, and every installed layout backend."""
from __future__ import annotations

import pytest

from profview.analysis import callgraph_view as cg
from profview.importers.folded import callgraph_from_folded, key_of
from profview.loading.merge import load_graph
from profview.loading.scan import load_capture

STACKS = """
main;handler;query;execute 500
main;handler;render 300
main;handler;tiny 2
main;log 190
main;setup;rare 8
"""


def _names(spec):
    return {spec.funcs[n["id"]][2] for n in spec.nodes}


def test_prune_like_gprof2dot():
    graph = callgraph_from_folded(STACKS)
    spec = cg.build(graph)                       # 0.5% of 1000 = 5: "tiny" (2) goes
    assert _names(spec) == {"main", "handler", "query", "execute", "render", "log",
                            "setup", "rare"}
    assert {(spec.funcs[e["src"]][2], spec.funcs[e["dst"]][2]) for e in spec.edges} == {
        ("main", "handler"), ("handler", "query"), ("query", "execute"),
        ("handler", "render"), ("main", "log"), ("main", "setup"), ("setup", "rare")}
    root = next(n for n in spec.nodes if spec.funcs[n["id"]][2] == "main")
    assert root["total"] == pytest.approx(1.0) and root["calls"] == 5
    handler = next(n for n in spec.nodes if spec.funcs[n["id"]][2] == "handler")
    assert handler["total"] == pytest.approx(0.802)
    assert _names(cg.build(graph, node_thres=0.1)) == {"main", "handler", "query", "execute",
                                                        "render", "log"}
    assert "digraph" in spec.dot


def test_focus_keeps_callers_and_callees_n_deep():
    graph = callgraph_from_folded(STACKS)
    spec = cg.build(graph, focus=key_of("handler"), depth=1)
    assert _names(spec) == {"main", "handler", "query", "render"}
    assert "focused on handler" in spec.message
    assert _names(cg.build(graph, focus=key_of("handler"), depth=2)) == {
        "main", "handler", "query", "execute", "render"}


def test_node_cap_raises_the_threshold_and_says_so(before):
    graph, _ = load_graph(load_capture([before], workers=1).requests)
    spec = cg.build(graph, max_nodes=40)
    assert len(spec.nodes) <= 40 and "cut to" in spec.message


@pytest.mark.parametrize("backend", ["dot", "graphviz-pure", "grandalf"])
def test_each_installed_backend_places_every_node(backend, before):
    if backend not in cg.backends():
        pytest.skip("%s is not installed here" % backend)
    graph, _ = load_graph(load_capture([before], workers=1).requests[:5])
    spec = cg.build(graph)
    lay = cg.layout(spec, backend)
    assert lay.backend == backend
    assert set(lay.nodes) == {n["id"] for n in spec.nodes}
    width, height = lay.size
    for x, y, w, h in lay.nodes.values():
        assert 0 <= x <= width + 1 and 0 <= y <= height + 1 and w > 0 and h > 0
    assert {(e["src"], e["dst"]) for e in lay.edges} <= {(e["src"], e["dst"])
                                                         for e in spec.edges}
    assert len(lay.edges) >= len(spec.edges) - sum(e["src"] == e["dst"] for e in spec.edges)


def test_layout_backend_missing_is_a_clear_error():
    spec = cg.build(callgraph_from_folded(STACKS))
    with pytest.raises(RuntimeError, match="no layout backend worked"):
        cg.layout(spec, "no-such-program")


def _uncached_dot(graph, node_thres, edge_thres, max_nodes=cg.MAX_NODES):
    """gprof2dot the long way: parse the whole graph, prune it in place, write DOT."""
    import io

    import gprof2dot

    profile = cg._Parser(graph.to_pstats()).parse()
    profile.prune(node_thres, edge_thres, [], False)
    while len(profile.functions) > max_nodes:
        node_thres = max(node_thres * 2, 0.001)
        profile.prune(node_thres, edge_thres, [], False)
    buf = io.StringIO()
    gprof2dot.DotWriter(buf).graph(profile, gprof2dot.themes["color"])
    return buf.getvalue()


def test_a_new_threshold_prunes_the_cached_parse_and_gives_the_same_dot(before):
    graph, _ = load_graph(load_capture([before], workers=1).requests)
    cg.clear_cache()
    parses = cg.stats["parses"]
    for node, edge in ((0.005, 0.001), (0.02, 0.001), (0.001, 0.0002), (0.005, 0.001),
                       (0.0, 0.0), (0.1, 0.05)):
        spec = cg.build(graph, node, edge, max_nodes=120)
        assert spec.dot == _uncached_dot(graph, node, edge, max_nodes=120), (node, edge)
    assert cg.stats["parses"] == parses + 1          # parsed once, pruned six times
    assert cg.build(graph).dot == _uncached_dot(graph, cg.NODE_THRES, cg.EDGE_THRES)
    other = graph.scaled(1.0)                          # another CallGraph: parsed anew
    cg.build(other)
    assert cg.stats["parses"] == parses + 2


def test_focus_on_the_cached_parse_leaves_the_cache_whole():
    graph = callgraph_from_folded(STACKS)
    cg.clear_cache()
    assert _names(cg.build(graph, focus=key_of("handler"), depth=1)) == {
        "main", "handler", "query", "render"}
    assert _names(cg.build(graph)) == {"main", "handler", "query", "execute", "render",
                                       "log", "setup", "rare"}


def test_the_same_dot_is_laid_out_once():
    spec = cg.build(callgraph_from_folded(STACKS))
    if not cg.backends():
        pytest.skip("no layout backend here")
    cg.clear_cache()
    layouts = cg.stats["layouts"]
    first = cg.layout(spec)
    again = cg.layout(cg.build(callgraph_from_folded(STACKS)))   # same DOT text
    assert again is first and cg.stats["layouts"] == layouts + 1
