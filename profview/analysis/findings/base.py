"""What a finding is, the thresholds the rules use, and what the rules share.

A rule reads a ``Context`` (the capture, its endpoints, per-request profiles read on demand)
and returns ``Finding`` objects.  Findings carry their evidence as data (function keys, SQL,
request files) so the window can link them to its other views, and as text for the report.
"""
from __future__ import annotations

import functools

import statistics
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ...importers import pstats_file
from ...model.callgraph import FuncKey, format_func
from .. import sql
from ..codeloc import short_path, shorten
from ..stats import format_ms

SEVERITIES = ("high", "medium", "low", "info")


@dataclass(frozen=True)
class Evidence:
    """One line of evidence: a function, a statement, a number, or a request."""

    kind: str                            # "function" | "statement" | "metric" | "request"
    text: str                            # the line a person reads
    func: Optional[FuncKey] = None       # kind="function": the pstats key, for selection
    statement: Optional[str] = None      # kind="statement": the SQL
    request: Optional[str] = None        # kind="request": str(Request.file)

    def as_dict(self) -> dict:
        out = {"kind": self.kind, "text": self.text}
        if self.func is not None:
            out["function"] = format_func(self.func)
        if self.statement is not None:
            out["statement"] = self.statement
        if self.request is not None:
            out["request"] = self.request
        return out


@dataclass(frozen=True)
class Finding:
    """A performance problem a capture shows, with its evidence and the usual fix."""

    rule: str
    severity: str
    title: str
    summary: str
    endpoints: tuple
    requests: tuple
    evidence: tuple
    fix: str
    copy: Optional[str] = None
    cost_ms: float = 0.0                 # ms at stake per request
    stake_requests: int = 0              # requests it applies to (0: its endpoints' requests)

    @property
    def stake_ms(self) -> float:
        """Time at stake over the capture: ms per request × the requests it concerns."""
        return self.cost_ms * self.stake_requests

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "title": self.title,
                "endpoints": list(self.endpoints), "requests": list(self.requests),
                "summary": self.summary, "evidence": [e.as_dict() for e in self.evidence],
                "fix": self.fix, "copy": self.copy,
                "ms_per_request": round(self.cost_ms, 3),
                "requests_at_stake": self.stake_requests,
                "ms_at_stake": round(self.stake_ms, 3)}


@dataclass(frozen=True)
class Settings:
    """Every threshold the rules use.  Shares are of an endpoint's profiled time per request
    (the sum of self times in its profiles); milliseconds are per request."""

    # Severity: "high" from this many ms at stake per request, or from high_share of the
    # request with at least high_share_ms; "low" under low_ms.
    high_ms: float = 100.0
    high_share: float = 0.5
    high_share_ms: float = 20.0
    low_ms: float = 2.0
    # Per-request profiles read per endpoint by rules that compare requests (cold start,
    # repeated work): reading one takes well under a millisecond, a capture may hold 50,000.
    max_profiles: int = 50
    max_listed_requests: int = 20
    # N+1: one statement shape this many times in one request (the SQL panel's badge); "high"
    # from n_plus_one_high per request.  Without a query log, a DB-API execute() called
    # many_queries times per request is reported as a possible N+1.
    n_plus_one_min: int = sql.N_PLUS_ONE_MIN
    n_plus_one_high: float = 20.0
    many_queries: int = 30
    # Slow query: over slow_query_ms (the SQL panel's "slow"), or at least slow_query_share of
    # its request and slow_query_min_ms (sub-millisecond statements are not worth an index).
    slow_query_ms: float = sql.SLOW_MS
    slow_query_share: float = 0.3
    slow_query_min_ms: float = 1.0
    # Blocking I/O: time waiting in sleep, sockets, select/poll and child processes.
    blocking_share: float = 0.25
    blocking_min_ms: float = 5.0
    # Templates: Jinja2 rendering at least template_share of the request; a compile in every
    # request costing at least compile_min_ms.
    template_share: float = 0.3
    template_min_ms: float = 2.0
    compile_min_ms: float = 0.5
    # Repeated work: a pure-looking app function costing repeat_min_ms and repeat_share of
    # every request, with the same calls and a cost within repeat_spread of its median
    # (identical work measured on a busy machine varies by a quarter or more).
    repeat_min_ms: float = 5.0
    repeat_share: float = 0.15
    repeat_spread: float = 0.5
    repeat_min_requests: int = 2
    # Cold start: an endpoint's slowest request cold_factor times the median of the others
    # and cold_min_ms slower, among at least cold_min_requests requests.
    cold_factor: float = 3.0
    cold_min_ms: float = 20.0
    cold_min_requests: int = 3
    # Connection pool waits and session (cookie) serialisation.
    pool_share: float = 0.1
    pool_min_ms: float = 2.0
    session_share: float = 0.1
    session_min_ms: float = 3.0
    # Password hashing: at least this share of an endpoint.
    hashing_share: float = 0.3
    # Memory growth: among at least memory_min_requests requests of an endpoint (in one
    # process) that changed its resident set, growth in most, a one-sided Wilcoxon p under
    # memory_alpha, and memory_min_total_mb in all.
    memory_min_requests: int = 8
    memory_alpha: float = 0.01
    memory_min_total_mb: float = 1.0


def functions_of(data) -> dict:
    """Function stats from what ``read`` returned: a CallGraph or a {FuncKey: Stats}."""
    return getattr(data, "functions", data)


@dataclass
class Context:
    """What the rules read: the capture, its endpoints, and per-request profiles on demand."""

    capture: object
    endpoints: list
    settings: Settings
    read: Callable           # request -> its call graph (``loading.reread.request_graph``)
    # request -> whether ``read`` has it in memory: samples of big endpoints are drawn from
    # those (the loader keeps an even sample of a big capture's requests)
    kept: Optional[Callable] = None
    _cache: dict = field(default_factory=dict)
    _queries: Optional[dict] = None

    def request_data(self, request):
        """``read(request)`` once per request; None when the profile cannot be read now."""
        key = str(request.file)
        if key not in self._cache:
            try:
                self._cache[key] = self.read(request)
            except (pstats_file.ProfileError, OSError):
                self._cache[key] = None
        return self._cache[key]

    def picks(self, predicate) -> frozenset:
        """The capture's functions *predicate* (a module-level function of a key) picks,
        worked out once per predicate: the rules ask of every endpoint, and a predicate
        per function per endpoint per rule was a quarter of the findings' time."""
        key = ("picks", predicate)
        found = self._cache.get(key)
        if found is None:
            store = getattr(self.capture, "store", None)
            if store is not None:
                funcs = store.index.funcs
                found = frozenset(funcs[i] for i in
                                  np.flatnonzero(store.index.mask(predicate)).tolist())
            else:
                found = frozenset(k for ep in self.endpoints for k in ep.functions
                                  if predicate(k))
            self._cache[key] = found
        return found

    def request_functions(self, request) -> Optional[dict]:
        data = self.request_data(request)
        return None if data is None else functions_of(data)

    def sample(self, endpoint) -> list:
        """Up to ``max_profiles`` of the endpoint's requests: the first ones (cold starts
        are there) and the rest spread evenly over the capture."""
        reqs = list(endpoint.requests)
        cap = max(2, self.settings.max_profiles)
        if len(reqs) <= cap:
            return reqs
        head = reqs[:3]
        reqs = head + self._in_memory(reqs[3:], cap - 3)
        step = (len(reqs) - 3) / (cap - 3)
        return head + [reqs[3 + int(i * step)] for i in range(cap - 3)]

    def warm_sample(self, endpoint) -> list:
        """``sample`` without the endpoint's first request (imports, template compiles: the
        cold-start rule's evidence), unless it is the only one."""
        reqs = list(endpoint.requests)
        if len(reqs) < 2:
            return reqs
        rest = reqs[1:]
        cap = max(2, self.settings.max_profiles)
        if len(rest) <= cap:
            return rest
        rest = self._in_memory(rest, cap)
        step = len(rest) / cap
        return [rest[int(i * step)] for i in range(cap)]

    def _in_memory(self, reqs: list, cap: int) -> list:
        """*reqs*, or those of them in memory when there are at least *cap* (reading the
        others again would cost as much as loading them did)."""
        if self.kept is None:
            return reqs
        mine = [r for r in reqs if self.kept(r)]
        return mine if len(mine) >= cap else reqs

    def queries(self) -> dict:
        """``{request key: [Query]}`` (empty without a query log)."""
        if self._queries is None:
            has = getattr(self.capture, "has_queries", False)
            self._queries = sql.by_request(self.capture.queries) if has else {}
        return self._queries


def profile_ms(endpoint) -> float:
    """Profiled ms per request of an endpoint (sum of self times, as shares are taken of)."""
    return 1000.0 * sum(r.total_tt for r in endpoint.requests) / len(endpoint.requests)


def per_request_ms(endpoint, seconds: float) -> float:
    return 1000.0 * seconds / len(endpoint.requests)


def norm(filename: str) -> str:
    return filename.replace("\\", "/")


def in_module(key: FuncKey, *fragments: str) -> bool:
    """True when the function's file path contains one of *fragments* (``/``-separated)."""
    return _path_has(key[0], fragments)


@functools.lru_cache(maxsize=1 << 16)
def _path_has(filename: str, fragments: tuple) -> bool:
    # cached: the rules ask about the same few hundred files millions of times
    path = norm(filename)
    return any(f in path for f in fragments)


def label(key: FuncKey) -> str:
    """``name (package/file.py:line)``, or the bare name of a built-in."""
    filename, line, name = key
    if filename == "~" or filename.startswith("<built-in"):
        return shorten(name, 80)
    return "%s (%s:%d)" % (shorten(name, 60), short_path(filename, 50), line)


def severity(ms: float, share: float, settings: Settings) -> str:
    """How much a problem costs per request, graded by the settings' thresholds."""
    if ms >= settings.high_ms or (share >= settings.high_share
                                  and ms >= settings.high_share_ms):
        return "high"
    if ms < settings.low_ms:
        return "low"
    return "medium"


def pct(part: float, whole: float) -> str:
    return "%.0f%%" % (100.0 * part / whole) if whole else "–"


def function_evidence(key: FuncKey, ms: float, whole_ms: float, up_to: bool = False,
                      extra: str = "") -> Evidence:
    """``label — [up to ]N ms of M ms per request (P%)``."""
    text = "%s — %s%s of %s per request (%s)%s" % (
        label(key), "up to " if up_to else "", format_ms(ms), format_ms(whole_ms),
        pct(ms, whole_ms), extra)
    return Evidence("function", text, func=key)


def request_evidence(request, note: str = "") -> Evidence:
    text = "%s — %s%s" % (request.label, format_ms(request.elapsed_ms), note)
    return Evidence("request", text, request=str(request.file))


def slowest(requests, limit: int) -> tuple:
    """Request files, slowest first, at most *limit*."""
    ordered = sorted(requests, key=lambda r: -r.elapsed_ms)
    return tuple(str(r.file) for r in ordered[:limit])


def median(values) -> float:
    return float(statistics.median(values)) if values else 0.0


def calls_text(per_request: float) -> str:
    """``", 2.0 calls per request"``; sampled stacks count no calls (0): then it says so
    rather than claim none were made."""
    if not per_request:
        return ", calls unknown (sampled stacks count none)"
    return ", %.1f calls per request" % per_request
