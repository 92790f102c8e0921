"""Profiles read again after loading, for what the loaded capture does not keep: each
request's own function times (a comparison tests them per request) and each request's call
graph (the findings look inside a few requests).  The files were validated at load time."""
from __future__ import annotations

import numpy as np

from ..analysis.compare_functions import function_keys
from ..importers import profiles, pstats_file
from ..model.callgraph import CallGraph
from .pool import PARALLEL_FROM, make_pool


def request_graph(request) -> CallGraph:
    """The request's call graph, read from its profile (ProfileError or OSError if it no
    longer reads)."""
    return profiles.load(request.file)


class Reader:
    """``reader(request)``: the request's call graph, from the numbers the capture kept when
    it has them, else read from its profile; ``reader.kept(request)`` says which."""

    def __init__(self, capture):
        self._store = capture.store

    def kept(self, request) -> bool:
        return request.file in self._store.kept

    def __call__(self, request):
        """A ``KeptGraph`` (what the rules read is made on demand) or a CallGraph."""
        if request.file in self._store.kept:
            return self._store.request_graph(request.file)
        return request_graph(request)


def request_matrix(files, keys, store=None) -> np.ndarray:
    """``(2, len(keys), readable files)``: each function's self and total time (s) in each
    request profile of *files*, 0 where it did not run; a profile that no longer reads is
    left out.  Requests whose numbers *store* (a ``model.store.Store``) kept are not read."""
    cols = {}
    if store is not None and len(store.kept):
        where = np.full(len(store.index.funcs) + 1, -1)
        fid = store.index.id_of
        for i, k in enumerate(keys):
            j = fid(k)
            if j is not None:
                where[j] = i
        for n, path in enumerate(files):
            if path in store.kept:
                ids, tt, ct = store.kept.times(path)
                col = np.zeros((2, len(keys)))
                at = where[ids]
                mine = at >= 0
                col[0, at[mine]] = tt[mine]
                col[1, at[mine]] = ct[mine]
                cols[n] = col
    index = {k: i for i, k in enumerate(keys)}
    for n, path in enumerate(files):
        if n in cols:
            continue
        try:
            stats = profiles.read(path).stats
        except (pstats_file.ProfileError, OSError):
            continue
        col = np.zeros((2, len(keys)))
        for k, v in stats.items():
            i = index.get(k)
            if i is not None:
                col[0, i], col[1, i] = v[2], v[3]
        cols[n] = col
    ordered = [cols[n] for n in sorted(cols)]
    return np.stack(ordered, axis=2) if ordered else np.zeros((2, len(keys), 0))


def pair_matrices(before_ep, after_ep, stores=(None, None)):
    """``(before, after)`` request matrices of one endpoint pair's functions, read here;
    None when a side is missing or empty.  *stores*: the two captures' stores."""
    if not (before_ep and after_ep and before_ep.requests and after_ep.requests):
        return None
    keys = function_keys(before_ep, after_ep)
    return tuple(request_matrix([r.file for r in ep.requests], keys, store)
                 for ep, store in zip((before_ep, after_ep), stores))


def read_matrices(pairs, workers: int, stores=(None, None)) -> list:
    """Per pair: ``pair_matrices``, or None when the pair is not tested.  The numbers the
    captures kept are used here; the profiles of the other requests are read again (pstats
    parsing, pure Python: in worker processes when there are many)."""
    jobs = [(i, side, [r.file for r in ep.requests], function_keys(b, a))
            for i, (b, a) in enumerate(pairs) if b and a and b.requests and a.requests
            for side, ep in ((0, b), (1, a))]
    out: list = [None] * len(pairs)
    if not jobs:
        return out
    unread = sum(1 for _i, side, files, _k in jobs for f in files
                 if stores[side] is None or f not in stores[side].kept)
    if workers > 1 and unread >= PARALLEL_FROM:
        # forkserver: this also runs in the window's worker threads, and forking a process
        # with threads (an import lock held by one of them) can hang the child
        with make_pool(workers, "forkserver") as pool:
            results = list(pool.map(request_matrix, [j[2] for j in jobs],
                                    [j[3] for j in jobs], chunksize=2))
    else:
        results = [request_matrix(f, k, stores[side]) for _i, side, f, k in jobs]
    for (i, side, _f, _k), m in zip(jobs, results):
        out[i] = (out[i] or [None, None])
        out[i][side] = m
    return [tuple(m) if m else None for m in out]
