"""One request in time order: its sampled stacks as a flame chart, its SQL on the same axis.

speedscope's "Time Order" and pyinstrument's timeline draw a request left to right as it ran;
no pstats viewer can (pstats has totals, not times).  With the request's sampled stacks
(``analysis.stacks``) this lays the chart out as a ``CallTree`` whose x axis is time since
the request started (seconds), so the flame view draws, zooms and hovers it as it does any
tree, and puts the request's statements and waits beside it, in the same seconds.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from . import stacks as stack_analysis
from .calltree import CallTree


class RequestChart(NamedTuple):
    """What the request timeline shows: the chart, the SQL spans and the waits."""

    tree: CallTree            # x = seconds since the request's start; node 0 = the request
    sql: list                 # [SqlSpan]: (statement index, start s, end s, statement, stack)
    gaps: list                # [(start s, end s, kind)] where the request waited
    end_s: float              # the request's length as sampled
    samples: int


class SqlSpan(NamedTuple):
    index: int                # in the request's statements, in the order they ran
    start_s: float
    end_s: float
    statement: str
    frames: Optional[tuple]   # the FuncKeys sampled as it ran (root first), or None


def chart_tree(chart, end_ms: float) -> CallTree:
    """The flame chart *chart* (``stacks.time_order``) as a CallTree in pre-order: each span a
    node under the span one level up that contains it, node 0 the whole request."""
    order = np.lexsort((chart.depth, chart.start_ms))      # by start, outer frames first
    depth = np.asarray(chart.depth, np.int64)[order]
    start = np.asarray(chart.start_ms, np.float64)[order] / 1000.0
    end = np.asarray(chart.end_ms, np.float64)[order] / 1000.0
    frame = np.asarray(chart.frame, np.int64)[order]
    n = len(order) + 1
    parents = np.full(n, -1, np.int32)
    base = int(depth.min()) if len(depth) else 0
    open_at: list = [0]      # the node open at each tree depth (the root at depth 0)
    for i, d in enumerate(depth.tolist(), 1):
        del open_at[d - base + 1:]          # spans ended at this depth and below
        parents[i] = open_at[-1]
        open_at.append(i)
    depths = np.zeros(n, np.int32)
    for i in range(1, n):
        depths[i] = depths[parents[i]] + 1
    totals = np.concatenate([[end_ms / 1000.0], end - start])
    starts = np.concatenate([[0.0], start])
    child_sum = np.zeros(n)
    np.add.at(child_sum, parents[1:], totals[1:])
    selfs = np.maximum(totals - child_sum, 0.0)
    funcs = (None,) + tuple(chart.funcs[f] for f in frame.tolist())
    return CallTree(funcs, parents, depths, totals, selfs, starts,
                    np.zeros(n, np.uint8), "exact")


def request_chart(profile, queries) -> RequestChart:
    """The chart of one request's StackProfile *profile* with its *queries* (``Query``
    objects tied to it; those without a start or duration are left out: they have no place
    on a time axis)."""
    end_ms = profile.end_ms if profile.end_ms is not None else (
        float(profile.sample_t[-1]) + profile.interval_ms if len(profile.sample_t) else 0.0)
    tree = chart_tree(stack_analysis.time_order(profile), end_ms)
    timed = [q for q in queries if q.start is not None and q.duration_ms is not None]
    spans = []
    for s in stack_analysis.sql_spans(profile, timed):
        frames = profile.path(s.sid) if s.sid is not None else None
        spans.append(SqlSpan(s.statement_index, s.start_ms / 1000.0, s.end_ms / 1000.0,
                             timed[s.statement_index].statement, frames))
    gaps = [(a / 1000.0, b / 1000.0, kind)
            for a, b, kind in stack_analysis.gaps(profile, 2 * profile.interval_ms)]
    return RequestChart(tree, spans, gaps, end_ms / 1000.0, len(profile.sample_t))
