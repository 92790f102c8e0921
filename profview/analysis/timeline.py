"""Timeline data and per-endpoint statistics: numpy arrays and numbers, no Qt.

Two sources: the file names alone (``preview_points``: before any profile is parsed, so the
timeline of a big capture appears at once) and a loaded capture (``capture_points``).  Both give
the same ``Points``: one entry per request, x = start time (epoch s), y = elapsed ms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .stats import nearest_rank
from .templating import template_paths

ROLLING_WINDOW = 25


@dataclass(frozen=True, eq=False)
class Points:
    """Requests as parallel arrays; ``groups[i]`` names the series of point i."""

    x: np.ndarray             # start time, epoch seconds
    y: np.ndarray             # elapsed, ms
    group: np.ndarray         # int index into ``groups``
    groups: tuple             # series names (endpoints, or templated paths before parsing)
    requests: tuple           # Request objects (capture_points); empty for a preview
    exact_time: bool          # False: times come from whole-second file names
    queries: np.ndarray = None   # per request (NaN where unknown)
    sql_ms: np.ndarray = None
    names: tuple = ()         # the file name of each point

    def request(self, i: int):
        """The Request of point *i*, or None in a preview (made before parsing)."""
        return self.requests[i] if self.requests else None

    def __len__(self) -> int:
        return len(self.x)

    def in_range(self, x0: float, x1: float, groups=None) -> np.ndarray:
        """Indices of the points with x in [x0, x1] (and in *groups*, if given)."""
        mask = (self.x >= x0) & (self.x <= x1)
        if groups is not None:
            mask &= np.isin(self.group, list(groups))
        return np.nonzero(mask)[0]


def spread_seconds(seconds: np.ndarray, order_key=None) -> np.ndarray:
    """Whole-second times spread evenly inside their second, so points do not pile up.

    Werkzeug rounds the end time to the nearest second: a request named ``t`` ended in
    [t - 0.5, t + 0.5); k requests sharing ``t`` are placed at equal steps in that interval.
    """
    seconds = np.asarray(seconds, np.float64)
    keys = np.arange(len(seconds)) if order_key is None else np.asarray(order_key)
    order = np.lexsort((keys, seconds))
    out = seconds.copy()
    i = 0
    n = len(order)
    while i < n:
        j = i
        while j < n and seconds[order[j]] == seconds[order[i]]:
            j += 1
        k = j - i
        out[order[i:j]] = seconds[order[i]] - 0.5 + (np.arange(k) + 0.5) / k
        i = j
    return out


def preview_points(rows) -> Points:
    """The timeline before any profile is parsed, from ``(start, elapsed ms, method, path or
    rule, file name, exact)`` rows (``loading.names.name_points`` reads them)."""
    rows = list(rows)
    y = np.asarray([r[1] for r in rows], np.float64)
    exact = np.asarray([r[5] for r in rows], bool)
    x = _spread_inexact(np.asarray([r[0] for r in rows], np.float64), y, ~exact)
    return _build(x, y, _templated([(r[2], r[3]) for r in rows]), tuple(r[4] for r in rows),
                  bool(exact.all()))


def _spread_inexact(start: np.ndarray, elapsed_ms: np.ndarray, inexact: np.ndarray):
    """Start times with the whole-second (file name) ones spread inside their second."""
    if inexact.any():
        end = np.round(start[inexact] + elapsed_ms[inexact] / 1000.0)
        start = start.copy()
        start[inexact] = spread_seconds(end) - elapsed_ms[inexact] / 1000.0
    return start


def _templated(labels: list) -> list:
    """Series names before parsing: method + URL rule, or the path templated."""
    by_method: dict = {}
    for method, path in labels:
        by_method.setdefault(method, []).append(path)
    templates = {m: template_paths(p) for m, p in by_method.items()}
    return ["%s %s" % (m, templates[m][p]) for m, p in labels]


def capture_points(capture, endpoints) -> Points:
    """The timeline of a loaded capture, one series per endpoint."""
    index = {}
    for g, ep in enumerate(endpoints):
        for r in ep.requests:
            index[id(r)] = g
    reqs = [r for r in capture.requests if id(r) in index]
    # a request described by requests.jsonl has a query string ("" at least): exact times
    inexact = np.asarray([r.named and r.query is None for r in reqs], bool)
    y = np.asarray([r.elapsed_ms for r in reqs], np.float64)
    x = _spread_inexact(np.asarray([r.start for r in reqs], np.float64), y, inexact)
    queries = np.asarray([np.nan if r.n_queries is None else r.n_queries for r in reqs])
    sql = np.asarray([np.nan if r.sql_ms is None else r.sql_ms for r in reqs])
    return Points(x, y, np.asarray([index[id(r)] for r in reqs], np.int32),
                  tuple(ep.name for ep in endpoints), tuple(reqs), not inexact.any(), queries,
                  sql, tuple(r.name for r in reqs))


def _build(x, y, labels: list, names: tuple, exact: bool) -> Points:
    groups = sorted(set(labels))
    lookup = {g: i for i, g in enumerate(groups)}
    return Points(x, y, np.asarray([lookup[g] for g in labels], np.int32), tuple(groups),
                  (), exact, np.full(len(x), np.nan), np.full(len(x), np.nan), names)


def rolling(points: Points, group: int, pct: float, window: int = ROLLING_WINDOW) -> tuple:
    """``(x, y)``: the rolling *pct* percentile of one series over its last *window* points."""
    idx = np.nonzero(points.group == group)[0]
    idx = idx[np.argsort(points.x[idx], kind="stable")]
    ys = points.y[idx]
    out = np.empty(len(idx))
    for i in range(len(idx)):
        out[i] = nearest_rank(ys[max(0, i - window + 1):i + 1], pct)
    return points.x[idx], out


def outliers(points: Points, threshold_ms: float | None = None) -> np.ndarray:
    """Bool per point: beyond the p95 of its own series, or beyond *threshold_ms*."""
    mask = np.zeros(len(points), bool)
    for g in range(len(points.groups)):
        sel = points.group == g
        if sel.sum() >= 5:   # with fewer points the p95 is the maximum: nothing is beyond it
            mask |= sel & (points.y > nearest_rank(points.y[sel], 95))
    if threshold_ms is not None:
        mask |= points.y > threshold_ms
    return mask


def slowest(points: Points, n: int = 20) -> np.ndarray:
    """Indices of the *n* slowest requests, slowest first."""
    return np.argsort(-points.y, kind="stable")[:n]


def log_histogram(values, bins: int = 20) -> tuple:
    """``(edges, counts)`` of latencies on log-spaced bins (latency spans decades)."""
    values = np.asarray([v for v in values if v > 0], np.float64)
    if not len(values):
        return np.array([0.0, 1.0]), np.array([0])
    lo, hi = values.min(), values.max()
    if hi <= lo * 1.0001:
        lo, hi = lo * 0.9, hi * 1.1
    edges = np.geomspace(lo, hi, bins + 1)
    counts, _ = np.histogram(values, edges)
    return edges, counts


class Drawing(NamedTuple):
    """Everything the timeline panel draws, computed in a worker: the points, each series'
    rolling p50 and p95 lines, the outliers and the slowest requests."""

    points: Points
    lines: dict          # {series: (rolling p50, rolling p95)}
    outliers: np.ndarray
    slowest: np.ndarray


def prepare(points, threshold_ms=None, capture=None) -> Drawing:
    """The timeline's Drawing of *points* (or of ``capture=(capture, endpoints)``); requests
    over *threshold_ms* are outliers too."""
    if capture is not None:
        points = capture_points(*capture)
    lines = {g: (rolling(points, g, 50), rolling(points, g, 95))
             for g in range(len(points.groups))}
    return Drawing(points, lines, outliers(points, threshold_ms), slowest(points, 25))
