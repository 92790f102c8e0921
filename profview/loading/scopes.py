"""The call graph of any set of a capture's requests, from the sums it keeps in memory.

An endpoint, *All requests*, or any set made of whole buckets is a sum of bucket Sums
(``model.store``): no file is read.  A set that takes part of a bucket (a time range, one
request) reads the files of that part again, or, when it takes most of the bucket, the
bucket's sum less the files it leaves out: so at most half a bucket is ever read.  Results
are cached per capture, so going back to a scope costs nothing.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict, defaultdict

from ..importers import profiles, pstats_file
from ..importers.pstats_arrays import Interner
from ..model import store as st
from ..model.request import Problem
from .merge import load_graph, parts

CACHED = 24          # merged scopes kept per capture (a graph is ~1 MB at 2,000 functions)
_CACHES: dict = {}   # id(capture) -> (weak reference, _Cache)
_LOCK = threading.Lock()


class _Cache:
    def __init__(self, capture):
        self.members = defaultdict(list)          # bucket -> its requests
        for r in capture.requests:
            self.members[r.bucket].append(r)
        self.graphs: OrderedDict = OrderedDict()  # key -> (graph, problems)
        self.lock = threading.Lock()


def _cache(capture) -> _Cache:
    key = id(capture)
    with _LOCK:
        hit = _CACHES.get(key)
        if hit is not None and hit[0]() is capture:
            return hit[1]
        cache = _Cache(capture)
        _CACHES[key] = (weakref.ref(capture, lambda _r, k=key: _CACHES.pop(k, None)), cache)
        return cache


def plan(capture, requests) -> tuple:
    """``(whole buckets, files to add, files to take away)`` that give *requests*' sum."""
    cache = _cache(capture)
    wanted: dict = defaultdict(list)
    for r in requests:
        wanted[r.bucket].append(r)
    whole, add, minus = [], [], []
    for bucket, chosen in wanted.items():    # dict order: the requests' order, deterministic
        members = cache.members.get(bucket, ())
        if bucket not in capture.store.buckets or len(chosen) > len(members):
            add += [r.file for r in chosen]      # not a request of this capture: read it
        elif len(chosen) == len(members):
            whole.append(bucket)
        elif 2 * len(chosen) <= len(members):
            add += [r.file for r in chosen]
        else:
            whole.append(bucket)
            ids = {id(r) for r in chosen}
            minus += [r.file for r in members if id(r) not in ids]
    return whole, add, minus


def scope_graph(capture, requests, progress=None, workers=None, mp_context=None,
                background: bool = False) -> tuple:
    """``(graph, problems)``: the summed call graph of *requests* (of *capture*), or
    ``(None, problems)`` when none of them can be had.  Same result as
    ``merge.load_graph``, which reads every file; files read here that no longer read become
    problems (a request taken away that no longer reads leaves its whole bucket out)."""
    cache = _cache(capture)
    key = tuple(map(id, requests))
    with cache.lock:
        hit = cache.graphs.get(key)
        if hit is not None:
            cache.graphs.move_to_end(key)
            return hit
    whole, add, minus = plan(capture, requests)
    store = capture.store
    index = store.index
    problems = []
    parts = [store.buckets[b] for b in whole]
    takeaway = []
    for files, into in ((add, parts), (minus, takeaway)):
        kept = [f for f in files if f in store.kept]
        if kept:
            into.append(store.kept.sums(kept))
        files = [f for f in files if f not in store.kept] if kept else files
        for keys, part, more in _read(files, progress, workers, mp_context, background):
            problems += more
            if part is not None:
                index, sums = index.absorb(keys, part)
                into.append(sums)
    if minus and sum(t.requests for t in takeaway) < len(minus):
        # a file to take away no longer reads: the sum would be wrong, so read the rest
        return _reread(capture, requests, progress, workers, mp_context, background, key)
    result = ((st.to_graph(st.add(parts, index, takeaway), index) if parts else None),
              problems)
    _keep(cache, key, result)
    return result


def read_files(files) -> tuple:
    """``(keys, part or None, problems)``: *files* read and summed (``store.part_of``)."""
    interner, arrays, problems = Interner(), [], []
    for path in files:
        try:
            arrays.append(profiles.read_arrays(path, interner)[1])
        except (pstats_file.ProfileError, OSError) as exc:
            problems.append(Problem(str(path), str(exc)))
    return interner.keys, (st.part_of(arrays) if arrays else None), problems


def _read(files, progress, workers, mp_context, background):
    """``read_files`` of *files*, in parts (``merge.parts``: worker processes for many)."""
    if files:
        yield from parts(files, progress, workers, mp_context, background, work=read_files)


def _reread(capture, requests, progress, workers, mp_context, background, key) -> tuple:
    result = load_graph(requests, progress, workers, mp_context, background)
    _keep(_cache(capture), key, result)
    return result


def _keep(cache: _Cache, key, result) -> None:
    with cache.lock:
        cache.graphs[key] = result
        while len(cache.graphs) > CACHED:
            cache.graphs.popitem(last=False)
