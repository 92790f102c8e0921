"""Merged call graphs of a set of requests (an endpoint, a selection), read back from disk.

The loader keeps only per-bucket function totals; views that need edges (call tree, call
graph, callers/callees) re-read the request files here: ``marshal.loads`` of a request profile
takes well under a millisecond.
"""
from __future__ import annotations

from ..importers import pstats_file
from ..model.callgraph import CallGraph, merge
from ..model.request import Problem


def load_graph(requests) -> tuple:
    """``(graph, problems)``: the call graph summed over *requests*' profiles.

    A file that changed or vanished since loading becomes a problem; the others still merge.
    ``graph`` is None when none could be read.
    """
    graphs, problems = [], []
    for r in requests:
        try:
            graphs.append(pstats_file.load(r.file))
        except (pstats_file.ProfileError, OSError) as exc:
            problems.append(Problem(str(r.file), str(exc)))
    return (merge(graphs) if graphs else None), problems


def endpoint_graph(endpoint, average: bool = False) -> tuple:
    """``(graph, problems)`` for an endpoint: summed, or per request with *average*."""
    graph, problems = load_graph(endpoint.requests)
    if graph is not None and average:
        graph = graph.scaled(1.0 / graph.requests)
    return graph, problems
