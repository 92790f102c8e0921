"""Folded stacks (``"A;B;C 5"``): the text form tests and exports use for call trees.

``callgraph_from_folded`` builds the caller→callee graph that cProfile would have recorded for
those stacks, with cProfile's own rules for recursion; ``dump`` writes a call tree back as
folded lines, so a test can state a tree in one line per stack and compare text.
"""
from __future__ import annotations

from collections import defaultdict

from ..model.callgraph import CallGraph, Stats

FOLDED_FILE = "folded"


def key_of(name: str) -> tuple:
    """The FuncKey a folded frame name stands for."""
    return (FOLDED_FILE, 0, name)


def parse_folded(text: str) -> list:
    """``[(frames, value), ...]`` from folded lines; blank lines and ``#`` comments skipped."""
    stacks = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        stack, _, value = line.rpartition(" ")
        if not stack:
            raise ValueError("line %d: expected 'A;B;C value', got %r" % (number, line))
        stacks.append((tuple(stack.split(";")), float(value)))
    return stacks


def callgraph_from_folded(text: str) -> CallGraph:
    """The graph cProfile records for these stacks, each line one call of its whole stack.

    cProfile adds a function's (and an edge's) cumulative time only at its outermost active
    call, so a recursive frame counts once per stack; self time always counts.
    """
    funcs: dict = defaultdict(lambda: [0, 0, 0.0, 0.0])
    edges: dict = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for frames, value in parse_folded(text):
        seen_funcs: set = set()
        seen_edges: set = set()
        for i, name in enumerate(frames):
            f = funcs[key_of(name)]
            f[0] += 1
            if name not in seen_funcs:
                f[1] += 1
                f[3] += value
                seen_funcs.add(name)
            if i:
                pair = (frames[i - 1], name)
                e = edges[(key_of(pair[0]), key_of(pair[1]))]
                e[0] += 1
                if pair not in seen_edges:
                    e[1] += 1
                    e[3] += value
                    seen_edges.add(pair)
        funcs[key_of(frames[-1])][2] += value
        if len(frames) > 1:
            edges[(key_of(frames[-2]), key_of(frames[-1]))][2] += value
    return CallGraph({k: Stats(*v) for k, v in funcs.items()},
                     {k: Stats(*v) for k, v in edges.items()})


def _num(value: float) -> str:
    return "%g" % round(value, 6)


def dump(tree, what: str = "self") -> str:
    """A call tree as sorted folded lines ``A;B;C value``.

    ``what="self"`` gives each frame's self time (lines with zero omitted), so a tree-shaped
    input comes back unchanged; ``what="total"`` gives every frame's inclusive time.  Frames
    whose value is an estimate end in ``*``.
    """
    labels = tree.labels(marks=True)
    paths: list = [None] * len(tree)
    lines = []
    for i in range(1, len(tree)):   # node 0 is the synthetic root
        parent = int(tree.parent[i])
        paths[i] = labels[i] if parent == 0 else paths[parent] + ";" + labels[i]
        value = tree.self_time[i] if what == "self" else tree.total[i]
        if what != "self" or value > 1e-12:
            lines.append("%s %s" % (paths[i], _num(value)))
    return "\n".join(sorted(lines))
