"""The endpoint summary: one set of latency and SQL figures per endpoint (or any set of
requests), used by the Endpoints and Statistics panels, the report and the comparison, so
that they can never disagree.  No Qt.

Missing values follow one rule: a figure that needs every request's query count is unknown
(None) when any request's count is, and absent (None) without a query log; a mean that took
unknown counts as 0 would understate the SQL.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from ..model.callgraph import format_func
from . import sql
from .stats import nearest_rank, p50

TOP_FUNCTIONS = 10


@dataclass(frozen=True)
class Summary:
    """Figures of a set of requests (latencies in ms, from their file names or sidecars)."""

    name: str
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    total_ms: float
    share: float                     # of the total time of every request shown (NaN: none)
    queries_unknown: Optional[int]   # requests whose count is unknown; None without a log
    queries: Optional[float]         # statements per request; None: unknown or no log
    sql_ms: Optional[float]          # SQL ms per request (log durations); None likewise
    sql_share: Optional[float]       # SQL time / request time

    def as_stats(self) -> dict:
        """The Statistics panel's row (``name``, ``count``, ``p50_ms`` … ``sql_ms``)."""
        return {"name": self.name, "count": self.count, "p50_ms": self.p50_ms,
                "p95_ms": self.p95_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms,
                "mean_ms": self.mean_ms, "share": self.share, "queries": self.queries,
                "sql_ms": self.sql_ms}


def summarise(name: str, requests: Sequence, has_queries: bool,
              whole_ms: float = math.nan) -> Summary:
    """The Summary of *requests*; *whole_ms* is the time the share is of."""
    elapsed = [r.elapsed_ms for r in requests]
    n = len(elapsed)
    total = float(sum(elapsed))
    unknown = queries = sql_ms = sql_share = None
    if has_queries:
        unknown = sum(1 for r in requests if r.n_queries is None)
        if n and not unknown:
            queries = sum(r.n_queries for r in requests) / n
            sql_ms = sum(r.sql_ms or 0.0 for r in requests) / n
            sql_share = sql_ms * n / total if total else None
    return Summary(
        name=name, count=n, p50_ms=p50(elapsed) if n else math.nan,
        p95_ms=nearest_rank(elapsed, 95), p99_ms=nearest_rank(elapsed, 99),
        max_ms=float(max(elapsed)) if n else math.nan, mean_ms=total / n if n else math.nan,
        total_ms=total, share=total / whole_ms if whole_ms else math.nan,
        queries_unknown=unknown, queries=queries, sql_ms=sql_ms, sql_share=sql_share)


def endpoint_summaries(endpoints: Sequence, has_queries: bool) -> list:
    """``(endpoint, Summary)`` per endpoint; shares are of the endpoints' summed time."""
    whole = sum(e.total_ms for e in endpoints)
    return [(e, summarise(e.name, e.requests, has_queries, whole)) for e in endpoints]


def endpoint_rows(capture, grouped: Sequence) -> list:
    """The JSON form of the endpoint summaries (the report's ``"endpoints"``, a comparison's
    ``before``/``after``): one row per endpoint of *grouped* (``endpoints.group(capture)``)."""
    per_request = sql.by_request(capture.queries) if capture.has_queries else {}
    rows = []
    for ep, s in endpoint_summaries(grouped, capture.has_queries):
        rows.append({
            "name": ep.name,
            "method": ep.method,
            "requests": s.count,
            "p50_ms": s.p50_ms,
            "p95_ms": s.p95_ms,
            "max_ms": s.max_ms,
            "total_ms": s.total_ms,
            "view": format_func(ep.view) if ep.view else None,
            "rule": ep.key[2] if ep.key[0] == "rule" else None,
            "keyed_by": ep.keyed_by,
            "why": ep.why,
            "queries_per_request": s.queries,
            "queries_unknown": s.queries_unknown,
            "sql_ms_per_request": s.sql_ms,
            "sql_share": s.sql_share,
            "n_plus_one": sql.endpoint_n_plus_one(ep, per_request) if capture.has_queries
            else [],
            "top_functions": [
                {"function": format_func(key), "tottime_s": st.tottime,
                 "cumtime_s": st.cumtime, "ncalls": int(st.ncalls)}
                for key, st in _top(ep.functions)],
            "files": [r.name for r in ep.requests],
            "flame": flame_source(ep.requests),
        })
    return rows


def flame_source(requests) -> str:
    """Where a flame graph of *requests* comes from: ``"exact"`` when every one has its
    sampled stacks (``Request.stacks``), else ``"estimated"`` (pstats' caller→callee totals,
    which cannot say which caller a shared function's time belongs to)."""
    return "exact" if requests and all(r.stacks is not None for r in requests) else "estimated"


def _top(functions, n: int = TOP_FUNCTIONS) -> list:
    items = sorted(functions.items(), key=lambda kv: (-kv[1].tottime, kv[0]))
    return items[:n]
