"""One kept request's call graph, straight from the capture's arrays (``store.Kept``).

The findings look inside up to 50 requests per endpoint, every one a few thousand functions
and edges.  Turning each into a ``CallGraph`` (two dicts of Stats and a callee/caller index)
was most of ``profview report``'s time, and the rules then read a few entries of it.  A
``KeptGraph`` answers the same questions (``functions``, ``edges``, ``callees``,
``callers``) but makes only what is asked for, and hands its arrays (``arrays``, ``mask``)
to rules that work on whole columns.
"""
from __future__ import annotations

from itertools import repeat
from typing import Iterator, Mapping

import numpy as np

from .callgraph import CallGraph, Stats

_LOW = (1 << 32) - 1


def _stats(vals: np.ndarray):
    """Stats tuples of rows ``[ncalls, primcalls, tottime, cumtime]``, made in C."""
    counts = np.rint(vals[:, :2]).astype(np.int64)
    return map(tuple.__new__, repeat(Stats),
               zip(counts[:, 0].tolist(), counts[:, 1].tolist(), vals[:, 2].tolist(),
                   vals[:, 3].tolist()))


class Functions(Mapping):
    """``{FuncKey: Stats}`` of one request, a Stats made only when it is read."""

    __slots__ = ("_graph",)

    def __init__(self, graph: "KeptGraph"):
        self._graph = graph

    def __len__(self) -> int:
        return len(self._graph.f_ids)

    def __iter__(self) -> Iterator:
        return map(self._graph.index.funcs.__getitem__, self._graph.f_ids.tolist())

    def _row(self, key):
        g = self._graph.index.id_of(key)
        return -1 if g is None else self._graph.row_of(g)

    def __contains__(self, key) -> bool:
        return self._row(key) >= 0

    def __getitem__(self, key) -> Stats:
        row = self._row(key)
        if row < 0:
            raise KeyError(key)
        return self._graph.stats_at(row)

    def get(self, key, default=None):
        row = self._row(key)
        return default if row < 0 else self._graph.stats_at(row)

    def items(self):
        return zip(iter(self), _stats(self._graph.f_val))

    def values(self):
        return _stats(self._graph.f_val)


class KeptGraph:
    """A request's caller→callee graph over capture-wide ids (``store.Index``).

    ``f_ids``/``f_val``: its functions and their ``[ncalls, primcalls, tottime, cumtime]``;
    ``src``/``dst``/``e_val``: its edges, caller and callee as rows of ``f_ids``.
    Immutable; what is derived is cached in ``memo`` (rules keep their own there too).
    """

    __slots__ = ("index", "f_ids", "f_val", "src", "dst", "e_val", "requests", "memo",
                 "_pos", "_functions", "_edges")

    def __init__(self, index, f_ids: np.ndarray, f_val: np.ndarray, e_ids: np.ndarray,
                 e_val: np.ndarray):
        self.index = index
        self.f_ids = f_ids.astype(np.int64)
        self.f_val = f_val.astype(np.float64)
        self.e_val = e_val.astype(np.float64)
        self.requests = 1
        self.memo: dict = {}
        self._pos = None
        self._functions = None
        self._edges = None
        codes = index.codes[e_ids]
        # row of each capture-wide id (-1: not in this request), one dense array for a
        # moment: ten times faster than sorting and searching per graph
        pos = np.full(len(index.funcs) + 1, -1, np.int64)
        pos[self.f_ids] = np.arange(len(self.f_ids))
        self.src = pos[codes >> 32]
        self.dst = pos[codes & _LOW]

    def row_of(self, gid: int) -> int:
        """The row of capture-wide function id *gid*, -1 when this request lacks it."""
        if self._pos is None:
            self._pos = dict(zip(self.f_ids.tolist(), range(len(self.f_ids))))
        return self._pos.get(gid, -1)

    def stats_at(self, row: int) -> Stats:
        """The Stats of one row (rules read a few; a one-row ``_stats`` cost 5 µs)."""
        calls, prim, tottime, cumtime = self.f_val[row].tolist()
        return Stats(round(calls), round(prim), tottime, cumtime)

    def keys_of(self, rows) -> list:
        """FuncKeys of rows."""
        funcs = self.index.funcs
        return [funcs[g] for g in self.f_ids[rows].tolist()]

    def mask(self, predicate) -> np.ndarray:
        """``predicate(key)`` per row, from the index's cached mask over every id."""
        return self.index.mask(predicate)[self.f_ids]

    @property
    def functions(self) -> Mapping:
        if self._functions is None:
            self._functions = Functions(self)
        return self._functions

    @property
    def edges(self) -> Mapping:
        """``{(caller, callee): Stats}``, made whole on first use."""
        if self._edges is None:
            keys = self.index.funcs
            f = self.f_ids.tolist()
            pairs = zip(map(keys.__getitem__, map(f.__getitem__, self.src.tolist())),
                        map(keys.__getitem__, map(f.__getitem__, self.dst.tolist())))
            self._edges = dict(zip(pairs, _stats(self.e_val)))
        return self._edges

    def _adjacent(self, key, mine: np.ndarray, theirs: np.ndarray) -> dict:
        g = self.index.id_of(key)
        row = -1 if g is None else self.row_of(g)
        if row < 0:
            return {}
        at = np.flatnonzero(mine == row)
        return dict(zip(self.keys_of(theirs[at]), _stats(self.e_val[at])))

    def callees(self, key) -> dict:
        """Functions called by *key*, with the stats of each edge."""
        return self._adjacent(key, self.src, self.dst)

    def callers(self, key) -> dict:
        """Functions that called *key*, with the stats of each edge."""
        return self._adjacent(key, self.dst, self.src)

    def to_callgraph(self) -> CallGraph:
        return CallGraph(dict(self.functions.items()), self.edges)

    def __repr__(self) -> str:
        return "KeptGraph(%d functions, %d edges)" % (len(self.f_ids), len(self.src))
