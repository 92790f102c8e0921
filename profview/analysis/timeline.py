"""Timeline data and per-endpoint statistics: numpy arrays and numbers, no Qt.

Two sources: the file names alone (``preview_points``: before any profile is parsed, so the
timeline of a big capture appears at once) and a loaded capture (``capture_points``).  Both give
the same ``Points``: one entry per request, x = start time (epoch s), y = elapsed ms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .stats import format_clock, nearest_rank
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
    rss_mb: np.ndarray = None  # the process's resident set after each request, MB (NaN: unknown)
    process: np.ndarray = None  # int per request: which process (host, pid) it ran in

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
    rss = np.asarray([np.nan if r.rss_after is None else r.rss_after / 1e6 for r in reqs])
    procs: dict = {}
    process = np.asarray([procs.setdefault((r.host, r.pid), len(procs)) for r in reqs],
                         np.int32)
    return Points(x, y, np.asarray([index[id(r)] for r in reqs], np.int32),
                  tuple(ep.name for ep in endpoints), tuple(reqs), not inexact.any(), queries,
                  sql, tuple(r.name for r in reqs), rss, process)


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


# --- what the panel shows around the points --------------------------------------------------
LOG_RATIO = 10        # max elapsed over the median beyond which the log scale is the default
MANY_SERIES = 6       # over this, only the selected endpoint's rolling lines are drawn


def wants_log_scale(elapsed_ms) -> bool:
    """True when one slow request would squash the others on a linear axis: the slowest is
    more than ``LOG_RATIO`` times the median (of the positive times: a log axis has no 0)."""
    y = np.asarray(elapsed_ms, np.float64)
    y = y[np.isfinite(y) & (y > 0)]
    return bool(len(y)) and float(y.max()) > LOG_RATIO * float(np.median(y))


def log_floor(elapsed_ms, default: float = 0.01) -> float:
    """Where a 0 ms request is drawn on a log axis: half the fastest other request, so that
    a few zeros (times from file names, to the ms) do not stretch the axis down decades."""
    y = np.asarray(elapsed_ms, np.float64)
    y = y[np.isfinite(y) & (y > 0)]
    return float(y.min()) / 2 if len(y) else default


def selected_group(points: Points, scope) -> int | None:
    """The series a ``model.scope.Scope`` is about: its endpoint's, or the series of its
    request; None for every request or a set."""
    kind = getattr(scope, "kind", None)
    if kind == "endpoint" and scope.endpoint is not None:
        name = scope.endpoint.name
        return points.groups.index(name) if name in points.groups else None
    if kind == "request":
        for i, r in enumerate(points.requests):
            if r is scope.request:
                return int(points.group[i])
    return None


def sql_note(capture, points: Points) -> str:
    """Why the queries and SQL-time plots are not worth their height ("" when they are)."""
    if capture is None or not getattr(capture, "has_queries", False):
        return ("No SQL log loaded: put queries.jsonl or an SQLAlchemy echo log beside the "
                "profiles to see statements per request")
    queries = capture.queries
    if not queries:
        return "SQL log read, but no statement in it"
    tied = any(q.profile_file is not None for q in queries)
    if not tied or np.all(np.isnan(points.queries)):
        return "%d statement%s loaded, none tied to a request (see Problems)" % (
            len(queries), "" if len(queries) == 1 else "s")
    return ""


def request_time(epoch: float, exact: bool, fmt: str = "%H:%M:%S") -> str:
    """A request's clock time: milliseconds only when the time is exact and has them
    (``12:00:06.25``, never ``12:00:06.000``); a file-name time is whole seconds."""
    text = format_clock(epoch, fmt)
    if not exact or text == "?":
        return text
    millis = int(round((epoch % 1) * 1000))
    if millis in (0, 1000):       # 1000: rounds up to the next second, shown as it is
        return format_clock(round(epoch), fmt)
    return text + ("%.3f" % (millis / 1000.0))[1:].rstrip("0")


def log_tick_label(exponent: float) -> str:
    """The label of a log-axis tick at 10**exponent: ``20``, ``0.5``, ``100`` (not pyqtgraph's
    ``2·10¹``); ticks other than 1, 2 and 5 times a power of ten stay unlabelled."""
    power = 10.0 ** np.floor(exponent + 1e-9)
    mantissa = round(10.0 ** exponent / power, 6)
    return "%g" % (mantissa * power) if mantissa in (1, 2, 5) else ""


def tick_labels(values, spacing: float) -> list:
    """Time-axis labels of ticks under a minute apart: clock times (``12:00:06``); when the
    ticks are under a second apart, those between two seconds show their fraction alone
    (``.25``), short enough to fit between the whole-second labels."""
    values = [float(v) for v in values]
    step = min((b - a for a, b in zip(values, values[1:])), default=spacing)
    out = []
    for v in values:
        frac = round(v % 1, 3)
        whole = frac in (0.0, 1.0)
        fraction = "" if whole else ("%.3f" % frac)[1:].rstrip("0")
        if whole or step >= 1:
            out.append(format_clock(round(v) if whole else int(v)) + fraction)
        else:
            out.append(fraction)
    return out
