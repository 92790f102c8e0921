"""Bottom-up ("inverted") and callers ("sandwich") trees, rebuilt from the caller→callee graph.

pstats keeps, per caller→callee edge, the totals of the calls made along that edge, not stacks.
So one step up from a function is known exactly (the edge's own numbers), but two steps up is
not: the part of a function's time that one particular node holds cannot be split among that
function's callers from edge totals.  As in ``calltree``, two modes:

- ``ESTIMATED``: share a node's time among its function's callers in proportion to their edges'
  cumulative time, and flag every such node ``ESTIMATED`` (and everything above it).
- ``EXACT``: stop where the split would be a guess and put one "called from several places"
  block (``SEVERAL``) holding the rest.

A split is exact where the node holds all of its function's time (the edges split it) or where
the function has one caller whose edge covers all of its time (the whole value passes up).
Recursion is cut (a function is not repeated on its own path), nodes under ``threshold`` × root
time are dropped, and callers whose times do not fit inside their node (recursion counts a time
at several depths) are shrunk to fit and flagged ``SCALED``, pstats' value kept in ``unscaled``.
A node's ``self_time`` is the part of its value shown under no caller: calls from nowhere (the
profile's entry points) and callers cut as recursion.
"""
from __future__ import annotations

from ..model.callgraph import CallGraph
from .calltree import (ESTIMATED, ESTIMATED_MODE, EXACT, SCALED, SEVERAL, CallTree,
                       _on_path)
from .flame import _relayout

_FULL = 1 - 1e-9   # an edge this close to its function's time covers all of it


def inverted_tree(graph: CallGraph, mode: str = ESTIMATED_MODE, threshold: float = 0.001,
                  max_nodes: int = 200_000) -> CallTree:
    """The bottom-up tree ("invert call stack"): where the self time is, and who caused it.

    The roots (depth 1) are the functions with self time, each holding its ``tottime``; node 0
    holds the sum of all self time.  A node's children are its function's callers.

    Exact: the roots, and their callers (level 1): pstats' caller entry for the edge c→f holds
    f's own time in calls from c, so child c of root f gets that edge's ``tottime``.
    Estimated (deeper): the time a node holds for function c is shared among c's callers b in
    proportion to edge(b→c).cumtime / c.cumtime, because pstats does not know which of c's
    callers the calls behind *this* part came from.  Such nodes are flagged ``ESTIMATED``; in
    ``EXACT`` mode a ``SEVERAL`` block takes their place.  Exceptions, exact in either mode:
    a function with one caller covering all its time passes the whole value up, and a node that
    holds all of its function's time is split by the edges themselves.
    """
    stats = graph.functions
    total = sum(max(s.tottime, 0.0) for s in stats.values())
    roots = [(f, s.tottime) for f, s in stats.items() if s.tottime > 0]
    return _grow(graph, mode, total, roots, True, threshold * total, max_nodes)


def callers_tree(graph: CallGraph, func, mode: str = ESTIMATED_MODE, threshold: float = 0.001,
                 max_nodes: int = 200_000) -> CallTree:
    """The upper half of a "sandwich" view: who calls *func*, and through which paths.

    Node 1 is *func* with its whole ``cumtime`` (node 0, the synthetic root, holds the same).
    Exact: its children, its callers, each with the ``cumtime`` of the edge caller→func, which
    pstats records.  Estimated (deeper): a caller's part is shared among *its* callers in
    proportion to their edges' cumulative time (pstats keeps edge totals, not stacks), and
    flagged ``ESTIMATED``; ``EXACT`` mode puts a ``SEVERAL`` block there instead.  The same
    exceptions as in ``inverted_tree`` keep single-caller chains and whole functions exact.
    The lower half is ``flame.focus_tree(graph, func)``.
    """
    cum = graph.functions[func].cumtime   # KeyError for a function not in the graph
    roots = [(func, cum)] if cum > 0 else []
    return _grow(graph, mode, max(cum, 0.0), roots, False, threshold * max(cum, 0.0),
                 max_nodes)


class _Nodes:
    """A tree under construction, as parent links (``_relayout`` orders and places it)."""

    def __init__(self, total: float, mode: str):
        self.funcs, self.parents, self.flags = [None], [-1], [0]
        self.totals, self.selfs, self.unscaled = [total], [0.0], [total]
        self.mode = mode

    def add(self, func, parent: int, value: float, flag: int, was: float) -> int:
        for lst, v in ((self.funcs, func), (self.parents, parent), (self.flags, flag),
                       (self.totals, value), (self.selfs, value if func is None else 0.0),
                       (self.unscaled, was)):
            lst.append(v)
        return len(self.funcs) - 1

    def tree(self) -> CallTree:
        return _relayout(self.funcs, self.parents, self.totals, self.selfs, self.flags,
                         self.mode, self.unscaled)


def _grow(graph, mode, total, roots, first, cut, max_nodes) -> CallTree:
    """Depth first from *roots* [(func, value)], the biggest callers first; *first* says the
    roots hold self time (their callers get the edges' ``tottime``)."""
    nodes = _Nodes(total, mode)
    kept = sorted(((f, v) for f, v in roots if v >= cut), key=lambda r: (-r[1], r[0]))
    stack = [(f, 0, v, 0, first, v) for f, v in reversed(kept)]
    while stack and len(nodes.funcs) < max_nodes:
        func, parent, value, flag, first_level, was = stack.pop()
        idx = nodes.add(func, parent, value, flag, was)
        if func is not None:
            kids = _callers(graph, nodes, idx, not flag & ESTIMATED, first_level, cut)
            stack.extend(reversed(kids))
    return nodes.tree()


def _shares(graph, func, value: float, exact: bool, first: bool) -> list:
    """``[(caller, value, known)]``: *value* of *func* shared among its callers."""
    callers = graph.callers(func)
    if first:   # value is all of func's self time: each caller edge holds its part
        return [(c, e.tottime, exact) for c, e in callers.items()]
    cum = graph.functions[func].cumtime
    if cum <= 0:
        return []
    if exact and value >= cum * _FULL:   # all of func: the edges split it exactly
        return [(c, e.cumtime, True) for c, e in callers.items()]
    if len(callers) == 1:
        (c, e), = callers.items()
        if e.cumtime >= cum * _FULL:     # one caller has all of func, so all of this part
            return [(c, value, exact)]
    return [(c, value * e.cumtime / cum, False) for c, e in callers.items()]


def _callers(graph, nodes: _Nodes, idx: int, exact: bool, first: bool, cut: float) -> list:
    """Stack items for the children of node *idx*, biggest first; sets the node's self time."""
    func, value = nodes.funcs[idx], nodes.totals[idx]
    shares = [s for s in _shares(graph, func, value, exact, first)
              if not _on_path(nodes.funcs, nodes.parents, idx, s[0])]
    if nodes.mode == EXACT and shares and not shares[0][2]:
        shares = [(None, value, True)]   # where it came from is not known: one block
    self_t = max(value - sum(s[1] for s in shares), 0.0)
    nodes.selfs[idx] = self_t
    kids = [[c, v, (SEVERAL if c is None else 0) | (0 if known else ESTIMATED), v]
            for c, v, known in shares if v >= cut and v > 0]
    room = value - self_t
    kept = sum(k[1] for k in kids)
    if kept > room * (1 + 1e-6) and kept > 0:
        # Edge times that do not fit (recursion counts a time at several depths): shrink
        # them to fit, and say so on every one.
        for k in kids:
            k[1] *= room / kept
            k[2] |= SCALED
    kids.sort(key=lambda k: (-k[1], str(k[0])))
    return [(c, idx, v, flag, False, was) for c, v, flag, was in kids]
