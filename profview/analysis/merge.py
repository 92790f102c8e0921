"""Merged call graphs of a set of requests (an endpoint, a selection), read back from disk.

The loader keeps only per-bucket function totals; views that need edges (call tree, call
graph, callers/callees) re-read the request files here: ``marshal.loads`` of a request profile
takes well under a millisecond.
"""
from __future__ import annotations

from ..importers import pstats_file
from ..model.callgraph import CallGraph, Stats
from ..model.request import Problem


def add_functions(totals: dict, stats: dict) -> None:
    """Add a validated pstats dict's function stats to *totals* (``{key: [nc, cc, tt, ct]}``).

    Plain lists summed in place: building Stats tuples per file and adding them was 3x slower
    on a 1,000-request merge; this runs once per function of every file loaded.
    """
    get = totals.get
    for key, (cc, nc, tt, ct, _callers) in stats.items():
        acc = get(key)
        if acc is None:
            totals[key] = [nc, cc, tt, ct]
        else:
            acc[0] += nc
            acc[1] += cc
            acc[2] += tt
            acc[3] += ct


def _accumulate(funcs: dict, edges: dict, stats: dict) -> None:
    add_functions(funcs, stats)
    eget = edges.get
    for key, value in stats.items():
        for caller, e in value[4].items():
            if type(e) is not tuple:
                e = (e, e, 0.0, 0.0)
            pair = (caller, key)
            acc = eget(pair)
            if acc is None:
                edges[pair] = [e[0], e[1], e[2], e[3]]
            else:
                acc[0] += e[0]
                acc[1] += e[1]
                acc[2] += e[2]
                acc[3] += e[3]


def load_graph(requests, progress=None) -> tuple:
    """``(graph, problems)``: the call graph summed over *requests*' profiles.

    A file that changed or vanished since loading becomes a problem; the others still merge.
    ``graph`` is None when none could be read.  *progress(done, total)* is called now and then.
    """
    requests = list(requests)
    funcs: dict = {}
    edges: dict = {}
    problems, merged = [], 0
    for n, r in enumerate(requests, 1):
        try:
            _accumulate(funcs, edges, pstats_file.read(r.file).stats)
            merged += 1
        except (pstats_file.ProfileError, OSError) as exc:
            problems.append(Problem(str(r.file), str(exc)))
        if progress is not None and n % 50 == 0:
            progress(n, len(requests))
    if not merged:
        return None, problems
    graph = CallGraph({k: Stats(*v) for k, v in funcs.items()},
                      {k: Stats(*v) for k, v in edges.items()}, requests=merged)
    return graph, problems


def endpoint_graph(endpoint, average: bool = False) -> tuple:
    """``(graph, problems)`` for an endpoint: summed, or per request with *average*."""
    graph, problems = load_graph(endpoint.requests)
    if graph is not None and average:
        graph = graph.scaled(1.0 / graph.requests)
    return graph, problems
