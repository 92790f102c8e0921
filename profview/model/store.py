"""What a loaded capture keeps of its profiles: function and edge totals per bucket, in arrays.

Every view of a scope (flame graph, tables, call graph) is a function of the scope's
caller→callee graph, and the graph of a set of buckets is the sum of theirs.  So the loader
keeps, per bucket (requests sure to share an endpoint), the summed stats of each function
and each caller→callee edge, in numpy arrays indexed by capture-wide ids: merging a scope is
a few ``np.bincount`` calls instead of re-reading its profiles from disk.  Memory grows with
distinct functions and edges per bucket, not with requests.

Written here rather than taken from a library: pstats and gprof2dot keep one dict per profile
and merge by walking them in Python, which is what this replaces.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, NamedTuple

import numpy as np

from .callgraph import CallGraph
from .kept import Kept
from .kept_graph import KeptGraph, _stats

# ncalls, primcalls, tottime, cumtime, and in how many requests the entry appears: that
# count is exact under subtraction, so it says whether an entry is still there
_COLS = 5


_LOW = (1 << 32) - 1


def edge_codes(callers: np.ndarray, callees: np.ndarray) -> np.ndarray:
    """One int64 per edge: caller id in the high half, callee id in the low."""
    return (callers.astype(np.int64) << 32) | callees.astype(np.int64)


class Index:
    """Capture-wide ids: function id → FuncKey, edge id → (caller id, callee id).

    Grows only by ``absorb`` (a new object), which appends: ids never change meaning.
    """

    __slots__ = ("funcs", "codes", "_fid", "_eid", "_masks")

    def __init__(self, funcs: tuple, codes: np.ndarray, fid: dict = None):
        self.funcs = funcs            # tuple[FuncKey]
        self.codes = codes            # int64 per edge id (``edge_codes``)
        self.codes.setflags(write=False)
        self._fid = fid if fid is not None else {k: i for i, k in enumerate(funcs)}
        self._eid = None              # code → edge id, made on first use
        self._masks: dict = {}        # predicate → bool per id (``mask``)

    def id_of(self, key):
        """The id of FuncKey *key*, or None."""
        return self._fid.get(key)

    def mask(self, predicate) -> np.ndarray:
        """``predicate(key)`` for every id, as a bool array (cached: the rules ask the same
        questions of the same keys in every request)."""
        out = self._masks.get(predicate)
        if out is None:
            out = self._masks[predicate] = np.fromiter(map(predicate, self.funcs), bool,
                                                       len(self.funcs))
        return out

    def _edge_ids(self) -> dict:
        if self._eid is None:
            self._eid = dict(zip(self.codes.tolist(), range(len(self.codes))))
        return self._eid

    def absorb(self, keys: list, part: tuple) -> tuple:
        """``(index, sums)``: *part* (``part_of``, in the ids *keys* names) in this index's
        ids; the index is this one, or a new one extended by what it did not know."""
        fid, eid = self._fid, self._edge_ids()
        remap = np.fromiter(map(fid.get, keys, [-1] * len(keys)), np.int64, len(keys))
        f_ids, f_val, codes, e_val, n = part
        index = self
        if (remap[f_ids] < 0).any() or len(codes) and (
                remap[codes >> 32] < 0).any() or len(codes) and (remap[codes & _LOW] < 0).any():
            index = self._with_keys(keys)
            fid, eid = index._fid, index._edge_ids()
            remap = np.fromiter(map(fid.get, keys), np.int64, len(keys))
        codes = (remap[codes >> 32] << 32) | remap[codes & _LOW]
        missing = [c for c in codes.tolist() if c not in eid]
        if missing:
            index = Index(index.funcs, np.concatenate([index.codes, np.array(missing, np.int64)]),
                          index._fid)
            eid = index._edge_ids()
        e_ids = np.fromiter(map(eid.__getitem__, codes.tolist()), np.int32, len(codes))
        return index, Sums(remap[f_ids].astype(np.int32), f_val, e_ids, e_val, n)

    def _with_keys(self, keys) -> "Index":
        fid, funcs = dict(self._fid), list(self.funcs)
        for key in keys:
            if key not in fid:
                fid[key] = len(funcs)
                funcs.append(key)
        return Index(tuple(funcs), self.codes, fid)


def sum_rows(ids: list, vals: list) -> tuple:
    """``(unique ids, summed rows)`` of several ``(ids, rows)`` parts (rows of five numbers).
    Rows of four numbers (one request's) count as one request each."""
    flat = np.concatenate(ids)
    rows = np.concatenate([v if v.shape[1] == _COLS else
                           np.column_stack([v, np.ones(len(v))]) for v in vals]
                          ).astype(np.float64, copy=False)
    size = int(flat.max()) + 1 if len(flat) else 0
    if size > 4 * len(flat) + 4096:     # sparse codes (edges as from·n + to): sort them
        unique, inverse = np.unique(flat, return_inverse=True)
        flat, size, pick = inverse.ravel(), len(unique), slice(None)
    else:
        # ids of one index (small ints): binned directly, summed in the same order as
        # through np.unique, without its sort (a third of a time-range scope's merge)
        pick = unique = np.flatnonzero(np.bincount(flat, minlength=size))
    out = np.empty((len(unique), _COLS))
    for c in range(_COLS):
        out[:, c] = np.bincount(flat, weights=rows[:, c], minlength=size)[pick]
    return unique, out


class Sums:
    """The summed stats of some requests: function ids with their five numbers (``_COLS``),
    edge ids with theirs, and how many requests were summed.  Immutable by convention (the arrays
    are set read-only)."""

    __slots__ = ("f_ids", "f_val", "e_ids", "e_val", "requests")

    def __init__(self, f_ids, f_val, e_ids, e_val, requests: int):
        for a in (f_ids, f_val, e_ids, e_val):
            a.setflags(write=False)
        self.f_ids, self.f_val, self.e_ids, self.e_val = f_ids, f_val, e_ids, e_val
        self.requests = requests

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.f_ids, self.f_val, self.e_ids, self.e_val))


def add(parts: list, index: Index, minus: list = ()) -> Sums:
    """The sum of *parts* less the sum of *minus* (Sums over the same index).

    Sums are added by ``np.bincount`` over dense ids: linear in the entries, no sorting.
    Subtracting leaves float residue where a function ran only in the requests taken away:
    an entry that appears in no request left is dropped, and times are clipped at zero.
    """
    nf, ne = len(index.funcs), len(index.codes)
    f = _dense([p.f_ids for p in parts], [p.f_val for p in parts], nf)
    e = _dense([p.e_ids for p in parts], [p.e_val for p in parts], ne)
    requests = sum(p.requests for p in parts)
    if minus:
        f -= _dense([p.f_ids for p in minus], [p.f_val for p in minus], nf)
        e -= _dense([p.e_ids for p in minus], [p.e_val for p in minus], ne)
        requests -= sum(p.requests for p in minus)
        np.clip(f, 0.0, None, out=f)
        np.clip(e, 0.0, None, out=e)
    f_ids = np.flatnonzero(f[:, 4] > 0.5).astype(np.int32)
    e_ids = np.flatnonzero(e[:, 4] > 0.5).astype(np.int32)
    return Sums(f_ids, f[f_ids], e_ids, e[e_ids], requests)


def _dense(ids: list, vals: list, n: int) -> np.ndarray:
    out = np.zeros((n, _COLS))
    if not ids:
        return out
    flat = np.concatenate(ids)
    stacked = np.concatenate(vals)
    for c in range(_COLS):
        out[:, c] = np.bincount(flat, weights=stacked[:, c], minlength=n)
    return out


def to_graph(sums: Sums, index: Index) -> CallGraph:
    """The CallGraph of *sums* (call counts as ints, as pstats has them)."""
    keys = index.funcs
    codes = index.codes[sums.e_ids]
    pairs = zip(map(keys.__getitem__, (codes >> 32).tolist()),
                map(keys.__getitem__, (codes & _LOW).tolist()))
    return CallGraph(function_stats(sums, index), dict(zip(pairs, _stats(sums.e_val))),
                     requests=sums.requests)


def function_stats(sums: Sums, index: Index) -> dict:
    """``{FuncKey: Stats}`` of *sums*' functions."""
    return dict(zip(map(index.funcs.__getitem__, sums.f_ids.tolist()), _stats(sums.f_val)))


def part_of(profiles: list) -> tuple:
    """``(f ids, f rows, edge codes, e rows, requests)``: *profiles* (``pstats_arrays.Arrays``,
    with ids that do not repeat) summed, in their own ids.  A worker sends this back."""
    f_ids, f_val = sum_rows([p.ids for p in profiles], [p.vals for p in profiles])
    with_edges = [p for p in profiles if len(p.callers)]
    if with_edges:
        codes, e_val = sum_rows([edge_codes(p.callers, p.callees) for p in with_edges],
                                [p.evals for p in with_edges])
    else:
        codes, e_val = np.zeros(0, np.int64), np.zeros((0, _COLS))
    return f_ids.astype(np.int64), f_val, codes, e_val, len(profiles)


class News(NamedTuple):
    """Keys an interner numbered since it last sent some: ids *start* on, named *token*."""

    token: str
    start: int
    keys: list


class Builder:
    """Puts a Store together from the loader's per-chunk parts, each numbered by ids of its
    own (``importers.pstats_arrays.Interner``): parts are mapped to capture-wide ids as they
    come, and summed per bucket at the end."""

    def __init__(self):
        self._fid: dict = {}
        self._funcs: list = []
        self._parts: dict = {}    # bucket → [(f ids, f rows, edge codes, e rows, n)]
        self._kept: list = []     # (file, f ids, f rows, edge codes, e rows) per request
        self._remaps: dict = {}   # an interner's token → its ids in capture-wide ids

    def add(self, keys, buckets: Mapping, kept=()) -> None:
        """*keys*: the chunk's id → FuncKey, or News from an interner that numbered earlier
        chunks too (``Interner.news``: their keys were sent then);
        *buckets*: ``{bucket: (f ids, f rows, edge codes, e rows, requests)}`` in those ids;
        *kept*: ``(file, Arrays)`` of requests whose own numbers are kept too (``Kept``)."""
        if isinstance(keys, News):
            token, start, keys = keys
        else:
            token, start = None, 0
        fid, funcs = self._fid, self._funcs
        fresh = np.empty(len(keys), np.int64)
        for i, key in enumerate(keys):
            g = fid.get(key)
            if g is None:
                g = fid[key] = len(funcs)
                funcs.append(key)
            fresh[i] = g
        remap = fresh
        if token is not None:
            known = self._remaps.get(token, np.zeros(0, np.int64))
            if start != len(known):   # chunks of one interner must come in its order
                raise ValueError("a chunk's ids start at %d, %d were known" % (start,
                                                                             len(known)))
            remap = self._remaps[token] = np.concatenate([known, fresh])
        for bucket, (f_ids, f_val, codes, e_val, n) in buckets.items():
            codes = (remap[codes >> 32] << 32) | remap[codes & _LOW]
            self._parts.setdefault(bucket, []).append((remap[f_ids], f_val, codes, e_val, n))
        for file, a in kept:
            codes = (remap[a.callers] << 32) | remap[a.callees]
            # float32: half the memory; sums are made in float64 (``sum_rows``), and a
            # request's own times and call counts (below 2**24) keep their digits
            self._kept.append((file, remap[a.ids].astype(np.int32),
                               a.vals.astype(np.float32, copy=False), codes,
                               a.evals.astype(np.float32, copy=False)))

    def add_store(self, store: "Store") -> None:
        """Everything of *store* (a live capture's earlier state)."""
        index = store.index
        keys = list(index.funcs)
        self.add(keys, {b: (s.f_ids.astype(np.int64), s.f_val, index.codes[s.e_ids], s.e_val,
                            s.requests) for b, s in store.buckets.items()})
        k = store.kept
        for file, i in k.rows.items():
            fs, es = slice(k.f_at[i], k.f_at[i + 1]), slice(k.e_at[i], k.e_at[i + 1])
            self._kept.append((file, k.f_ids[fs], k.f_val[fs], index.codes[k.e_ids[es]],
                               k.e_val[es]))

    def finish(self) -> "Store":
        summed = {}
        for bucket, parts in self._parts.items():
            f_ids, f_val = sum_rows([p[0] for p in parts], [p[1] for p in parts])
            if any(len(p[2]) for p in parts):
                codes, e_val = sum_rows([p[2] for p in parts], [p[3] for p in parts])
            else:
                codes, e_val = np.zeros(0, np.int64), np.zeros((0, _COLS))
            summed[bucket] = (f_ids, f_val, codes, e_val, sum(p[4] for p in parts))
        every = [v[2] for v in summed.values()]
        all_codes = np.unique(np.concatenate(every)) if every else np.zeros(0, np.int64)
        index = Index(tuple(self._funcs), all_codes, self._fid)
        buckets = {b: Sums(f.astype(np.int32), fv,
                           np.searchsorted(all_codes, c).astype(np.int32), ev, n)
                   for b, (f, fv, c, ev, n) in summed.items()}
        return Store(index, buckets, Kept.of(self._kept, all_codes))


class Store:
    """The index and the Sums of every bucket of a capture."""

    __slots__ = ("index", "buckets", "kept")

    def __init__(self, index: Index, buckets: Mapping, kept: "Kept" = None):
        self.index = index
        self.buckets = MappingProxyType(dict(buckets))   # bucket → Sums
        self.kept = kept if kept is not None else Kept.of([], np.zeros(0, np.int64))

    def functions(self, bucket) -> dict:
        """``{FuncKey: Stats}`` of one bucket ({} for an unknown one)."""
        sums = self.buckets.get(bucket)
        return {} if sums is None else function_stats(sums, self.index)

    def functions_of(self, buckets) -> dict:
        """``{FuncKey: Stats}`` summed over *buckets* (in their order: float sums in another
        order differ in their last digits)."""
        parts = [self.buckets[b] for b in buckets if b in self.buckets]
        if len(parts) == 1:
            return function_stats(parts[0], self.index)
        return function_stats(add(parts, self.index), self.index) if parts else {}

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays (the index's dicts and keys not counted)."""
        return (sum(s.nbytes for s in self.buckets.values()) + self.index.codes.nbytes
                + self.kept.nbytes)

    def graph(self, files):
        """The CallGraph of kept requests *files*."""
        return to_graph(self.kept.sums(files), self.index)

    def request_graph(self, file) -> KeptGraph:
        """The graph of one kept request, made lazily from its arrays."""
        k = self.kept
        i = k.rows[str(file)]
        fs, es = slice(k.f_at[i], k.f_at[i + 1]), slice(k.e_at[i], k.e_at[i + 1])
        return KeptGraph(self.index, k.f_ids[fs], k.f_val[fs], k.e_ids[es], k.e_val[es])
