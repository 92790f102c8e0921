"""Merged call graphs of a set of requests (an endpoint, a selection), read back from disk.

Files are read again here when what the capture keeps in memory does not give the answer
(see ``scopes``): part of a bucket, or a profile that is not in the capture.
"""
from __future__ import annotations

import os

from ..importers import profiles, pstats_file
from ..model.callgraph import CallGraph, Stats
from ..model.request import Problem
from .accumulate import add_edges, add_functions, add_totals
from .pool import PARALLEL_FROM, make_pool


def _accumulate(funcs: dict, edges: dict, stats: dict) -> None:
    add_functions(funcs, stats)
    add_edges(edges, stats)


def _merge_files(files) -> tuple:
    """``(funcs, edges, problems, merged)`` of *files*: plain dicts, cheap to send back from a
    worker process."""
    funcs: dict = {}
    edges: dict = {}
    problems, merged = [], 0
    for path in files:
        try:
            _accumulate(funcs, edges, profiles.read(path).stats)
            merged += 1
        except (pstats_file.ProfileError, OSError) as exc:
            problems.append(Problem(str(path), str(exc)))
    return funcs, edges, problems, merged


def parts(files, progress, workers, mp_context, background, work=None):
    """``work(chunk)`` of *files* in chunks (``_merge_files`` by default): in this thread for
    few files, else in worker processes.

    A worker thread merging 1,000 profiles holds the GIL for a second, and every paint of the
    window has to win it back thousands of times (the window stalled); processes leave the
    GIL to the GUI and use both cores.  Crash isolation is not the point here: these files
    were validated when the capture was loaded.
    """
    work = work or _merge_files
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(files) < PARALLEL_FROM:
        step = 50
        for start in range(0, len(files), step):
            yield work(files[start:start + step])
            if progress is not None:
                progress(min(start + step, len(files)), len(files))
        return
    size = len(files) // (workers * 2) + 1
    chunks = [files[i:i + size] for i in range(0, len(files), size)]
    with make_pool(workers, mp_context, background) as pool:
        done = 0
        for chunk, part in zip(chunks, pool.map(work, chunks)):
            done += len(chunk)
            if progress is not None:
                progress(done, len(files))
            yield part


def read_parts(files, progress=None, workers=None, mp_context=None,
               background: bool = False) -> tuple:
    """``(functions, edges, files merged, problems)``: *files* read and summed into the
    loader's ``{key: [5]}`` accumulators.  150 files or more are read in worker processes
    (*mp_context* and *background*: see ``pool.make_pool``)."""
    funcs: dict = {}
    edges: dict = {}
    problems, merged = [], 0
    for part_funcs, part_edges, part_problems, n in parts(
            list(files), progress, workers, mp_context, background):
        add_totals(funcs, part_funcs)
        add_totals(edges, part_edges)
        problems.extend(part_problems)
        merged += n
    return funcs, edges, merged, problems


def load_graph(requests, progress=None, workers=None, mp_context=None,
               background: bool = False) -> tuple:
    """``(graph, problems)``: the call graph summed over *requests*' profiles, every file
    read again (``scopes.scope_graph`` gives the same from what a capture keeps).

    A file that changed or vanished since loading becomes a problem; the others still merge.
    ``graph`` is None when none could be read.  *progress(done, total)* is called now and then.
    """
    funcs, edges, merged, problems = read_parts([r.file for r in requests], progress,
                                                workers, mp_context, background)
    if not merged:
        return None, problems
    graph = CallGraph({k: Stats(*v[:4]) for k, v in funcs.items()},
                      {k: Stats(*v[:4]) for k, v in edges.items()}, requests=merged)
    return graph, problems


def endpoint_graph(endpoint, average: bool = False) -> tuple:
    """``(graph, problems)`` for an endpoint: summed, or per request with *average*."""
    graph, problems = load_graph(endpoint.requests)
    if graph is not None and average:
        graph = graph.scaled(1.0 / graph.requests)
    return graph, problems
