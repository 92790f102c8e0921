"""Large synthetic call trees for paint tests and benchmarks."""
from __future__ import annotations

import numpy as np

from profview.analysis.calltree import CallTree


def wide_tree(n: int, fanout: int = 6, seed: int = 1) -> CallTree:
    """A random tree of *n* frames, laid out like calltree.build lays out real ones."""
    rng = np.random.default_rng(seed)
    parent = [-1]
    for i in range(1, n):
        parent.append(int(rng.integers(max(0, i - fanout * 50), i)))
    kids: dict = {}
    for i in range(1, n):
        kids.setdefault(parent[i], []).append(i)
    total = np.zeros(n)
    weights = rng.random(n) + 0.1
    order = []
    stack = [0]
    while stack:
        i = stack.pop()
        order.append(i)
        stack.extend(kids.get(i, []))
    for i in reversed(order):    # a frame is its own weight plus its children
        total[i] = weights[i] + sum(total[k] for k in kids.get(i, []))
    start, depth = np.zeros(n), np.zeros(n, np.int32)
    for i in order:
        x = start[i]
        for k in kids.get(i, []):
            start[k], depth[k] = x, depth[i] + 1
            x += total[k]
    funcs = [None] + [("/srv/app/m%d.py" % (i % 7), i, "f%d" % i) for i in range(1, n)]
    self_time = weights.copy()
    self_time[0] = 0
    return CallTree(tuple(funcs), np.asarray(parent, np.int32), depth, total, self_time, start,
                    np.zeros(n, np.uint8), "estimated")
