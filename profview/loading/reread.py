"""Profiles read again after loading, for what the loaded capture does not keep: each
request's own function times (a comparison tests them per request) and each request's call
graph (the findings look inside a few requests).  The files were validated at load time."""
from __future__ import annotations

import numpy as np

from ..analysis.compare_functions import function_keys
from ..importers import pstats_file
from ..model.callgraph import CallGraph
from .pool import PARALLEL_FROM, make_pool


def request_graph(request) -> CallGraph:
    """The request's call graph, read from its profile (ProfileError or OSError if it no
    longer reads)."""
    return pstats_file.load(request.file)


def request_matrix(files, keys) -> np.ndarray:
    """``(2, len(keys), readable files)``: each function's self and total time (s) in each
    request profile of *files*, 0 where it did not run; a profile that no longer reads is
    left out."""
    index = {k: i for i, k in enumerate(keys)}
    cols = []
    for path in files:
        try:
            stats = pstats_file.read(path).stats
        except (pstats_file.ProfileError, OSError):
            continue
        col = np.zeros((2, len(keys)))
        for k, v in stats.items():
            i = index.get(k)
            if i is not None:
                col[0, i], col[1, i] = v[2], v[3]
        cols.append(col)
    return np.stack(cols, axis=2) if cols else np.zeros((2, len(keys), 0))


def pair_matrices(before_ep, after_ep):
    """``(before, after)`` request matrices of one endpoint pair's functions, read here;
    None when a side is missing or empty."""
    if not (before_ep and after_ep and before_ep.requests and after_ep.requests):
        return None
    keys = function_keys(before_ep, after_ep)
    return tuple(request_matrix([r.file for r in ep.requests], keys)
                 for ep in (before_ep, after_ep))


def read_matrices(pairs, workers: int) -> list:
    """Per pair: ``pair_matrices``, or None when the pair is not tested.  Re-reading is
    pstats parsing, pure Python: with enough requests the profiles are read in worker
    processes, every endpoint's side one task."""
    jobs = [(i, side, [r.file for r in ep.requests], function_keys(b, a))
            for i, (b, a) in enumerate(pairs) if b and a and b.requests and a.requests
            for side, ep in ((0, b), (1, a))]
    out: list = [None] * len(pairs)
    if not jobs:
        return out
    files, keys = [j[2] for j in jobs], [j[3] for j in jobs]
    if workers > 1 and sum(map(len, files)) >= PARALLEL_FROM:
        with make_pool(workers) as pool:
            results = list(pool.map(request_matrix, files, keys, chunksize=2))
    else:
        results = [request_matrix(f, k) for f, k in zip(files, keys)]
    for (i, side, _f, _k), m in zip(jobs, results):
        out[i] = (out[i] or [None, None])
        out[i][side] = m
    return [tuple(m) if m else None for m in out]
