"""Call trees for flame/icicle views, rebuilt from the caller→callee graph, honestly.

pstats keeps edge totals, not stacks, so the time of a function with several callers cannot be
split exactly among the paths that reach it.  Two modes:

- ``EXACT``: expand a function only where all of its time is known to be under this node (it has
  a single caller and its parent is exact).  A callee with several callers is shown with the
  exact time of *this* edge, and what it calls is one "called from several places" block.
- ``ESTIMATED``: share a callee's time among its callers in proportion to edge time (what
  SnakeViz does, but marked): every node whose value is such an estimate carries ``ESTIMATED``.

Either way children stay within their parent, recursion is cut where a function reappears on
its own path, and nodes under ``threshold`` × root time are dropped so trees stay small at any
depth.  Where pstats' edge times do not fit inside their parent (under recursion a time is
counted at several depths), the children are shrunk to fit and marked ``SCALED``, with the
value pstats gave them kept in ``unscaled``: exact mode never draws a changed value as exact.  The tree is a set of numpy arrays in pre-order, ready for a flame layout.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.callgraph import CallGraph
from .codeloc import template_label

EXACT, ESTIMATED_MODE = "exact", "estimated"
ESTIMATED = 1      # the node's value is an estimate (its parent holds part of a function)
SHARED = 2         # the function has other callers: this node is part of its time
SEVERAL = 4        # synthetic block: "called from several places" (exact mode)
SCALED = 8         # shrunk to fit inside its parent: ``unscaled`` holds pstats' value
SEVERAL_LABEL = "(called from several places)"
ROOT_LABEL = "all"


@dataclass(frozen=True, eq=False)
class CallTree:
    """Nodes in pre-order; node 0 is a synthetic root holding the whole profile."""

    funcs: tuple            # FuncKey per node, None for the root and "several places" blocks
    parent: np.ndarray      # int32, -1 for the root
    depth: np.ndarray       # int32, 0 for the root
    total: np.ndarray       # float64 seconds, inclusive
    self_time: np.ndarray   # float64 seconds
    start: np.ndarray       # float64 seconds from the left edge (children left-aligned)
    flags: np.ndarray       # uint8: ESTIMATED | SHARED | SEVERAL | SCALED
    mode: str
    unscaled: np.ndarray = None   # float64 seconds: pstats' value of SCALED nodes (else total)

    def __post_init__(self):
        if self.unscaled is None:   # trees made without any shrinking
            object.__setattr__(self, "unscaled", self.total)

    def __len__(self) -> int:
        return len(self.funcs)

    def labels(self, marks: bool = False) -> list:
        """Display names; with *marks*, estimated values end in ``*``."""
        out = []
        for func, flag in zip(self.funcs, self.flags):
            if func is None:
                name = SEVERAL_LABEL if flag & SEVERAL else ROOT_LABEL
            else:
                name = template_label(func) or func[2]
            out.append(name + "*" if marks and flag & ESTIMATED else name)
        return out


def _on_path(funcs: list, parents: list, idx: int, func) -> bool:
    while idx > 0:
        if funcs[idx] == func:
            return True
        idx = parents[idx]
    return False


def build(graph: CallGraph, mode: str = ESTIMATED_MODE, threshold: float = 0.001,
          max_nodes: int = 200_000, roots=None) -> CallTree:
    """The call tree of *graph* (see the module docstring for the two modes).

    *roots* defaults to the functions nobody calls; give one function to focus on it (its
    whole time, from all its callers, as the root).
    """
    stats = graph.functions
    if roots is None:
        roots = graph.roots() or sorted(stats, key=lambda k: -stats[k].cumtime)[:1]
    root_total = sum(stats[r].cumtime for r in roots)
    cut = threshold * root_total
    funcs, parents, depths, totals, selfs, starts, flags = [None], [-1], [0], [root_total], \
        [0.0], [0.0], [0]
    unscaled = [root_total]
    # Stack items: (func, parent, depth, value, self, start, flags, full[, unscaled])
    stack = []
    offset = 0.0
    items = []
    for r in roots:
        s = stats[r]
        if s.cumtime >= cut and s.cumtime > 0:
            items.append((r, 0, 1, s.cumtime, min(s.tottime, s.cumtime), offset, 0, True))
            offset += s.cumtime
    stack.extend(reversed(items))
    while stack and len(funcs) < max_nodes:
        func, parent, depth, value, self_t, start, flag, full, *was = stack.pop()
        idx = len(funcs)
        for lst, v in ((funcs, func), (parents, parent), (depths, depth), (totals, value),
                       (selfs, self_t), (starts, start), (flags, flag),
                       (unscaled, was[0] if was else value)):
            lst.append(v)
        if func is None:
            continue
        if mode == EXACT and not full:
            rest = value - self_t
            if rest >= cut and rest > 0:
                stack.append((None, idx, depth + 1, rest, rest, start,
                              SEVERAL, False))
            continue
        stack.extend(reversed(_children(graph, funcs, parents, idx, func, value, self_t,
                                        start, depth, flag, full, cut)))
    return CallTree(tuple(funcs), np.asarray(parents, np.int32), np.asarray(depths, np.int32),
                    np.asarray(totals, np.float64), np.asarray(selfs, np.float64),
                    np.asarray(starts, np.float64), np.asarray(flags, np.uint8), mode,
                    np.asarray(unscaled, np.float64))


def _children(graph, funcs, parents, idx, func, value, self_t, start, depth, flag, full,
              cut) -> list:
    stats = graph.functions
    cum = stats[func].cumtime
    ratio = 1.0 if full else (value / cum if cum > 0 else 0.0)
    kids = []
    for callee, edge in graph.callees(func).items():
        v = edge.cumtime * ratio
        if v < cut or v <= 0:   # first: the cheaper test, and it drops most callees
            continue
        if _on_path(funcs, parents, idx, callee):
            continue  # recursion: that time is already inside the ancestor
        callee_full = full and edge.cumtime >= stats[callee].cumtime * (1 - 1e-9)
        kflag = (0 if full else ESTIMATED) | (0 if callee_full else SHARED)
        kids.append([callee, v, min(edge.tottime * ratio, v), kflag, callee_full])
    room = max(value - self_t, 0.0)
    total = sum(k[1] for k in kids)
    for k in kids:
        k.append(k[1])   # pstats' value, before any shrinking
    if total > room * (1 + 1e-6) and total > 0:
        # The edges do not fit inside their parent (under recursion pstats counts a time at
        # several depths; rounding): shrink them to fit, and say so on every one.
        scale = room / total
        for k in kids:
            k[1] *= scale
            k[2] *= scale
            k[3] |= SCALED
    kids.sort(key=lambda k: (-k[1], k[0]))
    out = []
    offset = start
    for callee, v, s, kflag, callee_full, was in kids:
        out.append((callee, idx, depth + 1, v, s, offset, kflag, callee_full, was))
        offset += v
    return out
