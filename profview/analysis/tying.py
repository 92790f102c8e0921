"""SQL statements tied to the requests that ran them, or left untied with the reason.

A statement is tied only when that is certain:

- a log line that names its profile (or request id) is tied to it, if the capture has it;
- a line that names method and path is tied to the one request of that method and path
  running at its start, when exactly one is;
- an echo log statement is tied by time inside the one request whose exact span
  (``requests.jsonl``) holds it, or, with only Werkzeug's file names, by the profiles'
  execute() counts and the order the requests ran in (``alignment``).

Everything else stays untied with a reason (``model.query.UNTIED``), and the requests whose
statements may be among the untied ones get an unknown query count (None), never 0.
"""
from __future__ import annotations

import bisect
import os
from collections import Counter, defaultdict
from dataclasses import replace
from typing import NamedTuple

from ..model.query import NOT_OURS, UNTIED
from ..model.request import Problem
from . import alignment
from .sql import by_request, fingerprint, request_key, totals

TIME_SLACK = 0.001     # log clocks: milliseconds
SAME_LOG = 0.9         # an echo log this much alike an exact log records the same statements
ROUND = 0.0005         # Werkzeug names round elapsed to the millisecond
NAME_SLACK = 1.0       # a name's second may be taken late (a slow profile dump, a retry)


class Tied(NamedTuple):
    """The result of ``tie``."""

    queries: tuple      # every statement, tied (profile_file set) or with ``untied`` set
    requests: list      # with n_queries and sql_ms (None where unknown)
    problems: list      # one summary Problem per log with untied statements


def _untied(q, reason: str):
    return replace(q, profile_file=None, attribution=None, untied=reason)


def _path_key(path) -> str:
    # a Werkzeug name turns "/" into "." and cannot keep a dot: compare both ways alike
    path = (path or "").split("?", 1)[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path.strip("/").replace(".", "/")


class _Index:
    """The requests, looked up by profile path, file name, request id, method and path."""

    def __init__(self, requests):
        self.keys = {request_key(r): r for r in requests}
        self.names = defaultdict(list)
        self.ids = defaultdict(list)
        self.paths = defaultdict(list)
        for key, r in self.keys.items():
            self.names[os.path.basename(key)].append(key)
            if r.request_id:
                self.ids[r.request_id].append(key)
            self.paths[(r.method, _path_key(r.url_path))].append(r)
        self.counted = any(r.db_executes for r in requests)

    def by_name(self, q):
        if q.profile_file in self.keys:
            return replace(q, attribution="exact", untied=None)
        found = self.names.get(os.path.basename(q.profile_file), ())
        if len(found) == 1:       # the log sits elsewhere than the profiles: its name will do
            return replace(q, profile_file=found[0], attribution="exact", untied=None)
        return _untied(q, "several_profiles" if found else "unknown_profile")

    def by_id(self, q):
        found = self.ids.get(q.request, ())
        if len(found) == 1:
            return replace(q, profile_file=found[0], attribution="exact", untied=None)
        return _untied(q, "unknown_request")

    def by_path(self, q):
        found = [r for r in self.paths.get((q.method.upper(), _path_key(q.url_path)), ())
                 if (q.start is None or _running(r, q.start))
                 and not (self.counted and r.db_executes == 0)]
        if len(found) == 1:
            return replace(q, profile_file=request_key(found[0]), attribution="path",
                           untied=None)
        return _untied(q, "several_match" if found else "no_match")


def _running(r, when: float) -> bool:
    """Could request *r* have been running at *when*?  Exact with requests.jsonl; from a
    Werkzeug name, its end lies within half a second of the name's second (or a little
    earlier if the name was taken late)."""
    if r.exact_time:
        return r.start - TIME_SLACK <= when <= r.time + TIME_SLACK
    end_hi = r.time + 0.5
    return end_hi - 1.0 - NAME_SLACK - r.elapsed_ms / 1000.0 - ROUND - TIME_SLACK \
        <= when <= end_hi + TIME_SLACK


def tie_named(queries, index: _Index, requests=()) -> list:
    """Lines of logs that name their request (profile, request id, or method and path)."""
    out = []
    for q in queries:
        if q.untied:                       # the importer already knows (e.g. "outside")
            out.append(q)
        elif q.profile_file:
            tied = index.by_name(q)
            if tied.untied == "unknown_profile" and q.request:
                # the profile it names was never written (stacks only, profile=False) or
                # was removed by the size cap: its request id still names the request
                tied = index.by_id(q)
            out.append(tied)
        elif q.request:
            out.append(index.by_id(q))
        elif q.method and q.url_path:
            out.append(index.by_path(q))
        else:
            out.append(_untied(q, "no_request_field"))
    if index.counted:
        out = _by_path_order(out, requests)
    return out


def _by_path_order(queries, requests) -> list:
    """Method-and-path lines the direct match left untied, tied like an echo log by counts
    and order, each request owning only lines of its own method and path.  Only for logs
    that name no profile: their lines are then all of the requests' statements."""
    naming = {q.source for q in queries if q.profile or q.request}
    picked = [i for i, q in enumerate(queries) if q.method and q.url_path and
              q.start is not None and q.source not in naming and q.attribution != "exact"]
    if not any(queries[i].profile_file is None for i in picked):
        return queries
    picked.sort(key=lambda i: (queries[i].start, queries[i].source or "", queries[i].line or 0))
    reqs = sorted(requests, key=lambda r: (r.time, r.name))
    slots = [_slot(r)._replace(label=(r.method, _path_key(r.url_path))) for r in reqs]
    labels = [(queries[i].method.upper(), _path_key(queries[i].url_path)) for i in picked]
    found = alignment.align([queries[i].start for i in picked], slots, labels=labels)
    out = list(queries)
    for i, owner in zip(picked, found.owners):
        q = out[i]
        key = request_key(reqs[owner]) if owner >= 0 else None
        if q.profile_file is None and key:
            out[i] = replace(q, profile_file=key, attribution="order", untied=None)
        elif q.profile_file and key and q.profile_file != key:
            out[i] = _untied(q, "several_match")    # the two ways disagree: neither is sure
    return out


def tie_by_span(queries, requests, counted: bool = False) -> list:
    """Echo statements inside exactly one request's exact span (``attribution="time"``).

    With *counted* (the profiles count DB-API calls), a request whose profile shows none
    cannot own a statement, and a request given more statements than its profile counts
    gets none of them (the clocks disagree).
    """
    spans = sorted((r.start - TIME_SLACK, r.time + TIME_SLACK, request_key(r)) for r in requests
                   if not (counted and r.db_executes == 0))
    starts = [s[0] for s in spans]
    longest = max((e - s for s, e, _k in spans), default=0.0)
    out = []
    for q in queries:
        hi = bisect.bisect_right(starts, q.start)
        owners = [key for start, end, key in spans[bisect.bisect_left(
            starts, q.start - longest):hi] if start <= q.start <= end]
        if len(owners) == 1:
            out.append(replace(q, profile_file=owners[0], attribution="time", untied=None))
        else:
            out.append(_untied(q, "overlapping_requests" if owners else "outside_requests"))
    if counted:
        limit = {request_key(r): r.db_executes for r in requests}
        got = Counter(q.profile_file for q in out if q.profile_file)
        out = [_untied(q, "counts_do_not_fit") if q.profile_file and
               got[q.profile_file] > limit[q.profile_file] else q for q in out]
    return out


def _slot(r) -> alignment.Slot:
    elapsed = r.elapsed_ms / 1000.0
    if r.exact_time:
        low, high, latest = elapsed - TIME_SLACK, elapsed + TIME_SLACK, r.time + TIME_SLACK
    elif r.named:                  # Werkzeug's name: elapsed and end, rounded
        low, high, latest = elapsed - ROUND, elapsed + ROUND, round(r.time) + 0.5
    else:                          # a file's mtime, elapsed from the profile: a bound only
        low, high, latest = 0.0, float("inf"), r.time + TIME_SLACK
    return alignment.Slot(int(round(r.time)), r.db_executes or 0, low, high, latest)


def tie_by_order(queries, requests) -> list:
    """Echo statements tied by the profiles' execute() counts and the requests' order."""
    reqs = sorted(requests, key=lambda r: (r.time, r.name))
    stream = sorted(queries, key=lambda q: (q.start, q.source or "", q.line or 0))
    found = alignment.align([q.start for q in stream], [_slot(r) for r in reqs])
    reasons = {alignment.AMBIGUOUS: "ambiguous_order", alignment.DIRTY: "counts_do_not_fit",
               alignment.OUTSIDE: "outside_requests", alignment.FOREIGN: "outside_requests"}
    return [replace(q, profile_file=request_key(reqs[o]), attribution="order", untied=None)
            if o >= 0 else _untied(q, reasons[o]) for q, o in zip(stream, found.owners)]


def tie_echo(queries, requests, counted: bool) -> list:
    """Echo-log statements (clock time, no request): by span or by order, else untied."""
    timed = [q for q in queries if q.start is not None]
    out = [_untied(q, "no_time") for q in queries if q.start is None]
    if not timed:
        return out
    if requests and all(r.exact_time for r in requests):
        return out + tie_by_span(timed, requests, counted)
    if not counted:
        return out + [_untied(q, "no_execute_counts") for q in timed]
    return out + tie_by_order(timed, requests)


def with_totals(queries, requests) -> list:
    """Requests with n_queries and sql_ms: their tied statements, or None (unknown) when
    untied statements may be theirs and their profile's execute() count does not settle it."""
    per_request = by_request(queries)
    doubt = any(q.profile_file is None and q.untied not in NOT_OURS for q in queries)
    counted = any(r.db_executes for r in requests)
    out = []
    for r in requests:
        n, ms = totals(per_request.get(request_key(r), ()))
        if doubt and not (counted and r.db_executes == n):
            n = ms = None
        out.append(replace(r, n_queries=n, sql_ms=ms))
    return out


def untied_problems(queries) -> list:
    """One Problem per log: how many of its statements are untied, counted by reason."""
    loaded, untied = Counter(), defaultdict(Counter)
    for q in queries:
        loaded[q.source] += 1
        if q.profile_file is None:
            untied[q.source][q.untied or "no_request_field"] += 1
    problems = []
    for source in sorted(untied, key=str):
        reasons = untied[source]
        parts = ["%d %s" % (n, UNTIED.get(r, r)) for r, n in reasons.most_common()]
        problems.append(Problem(str(source), "%d of %d statements not tied to a request: %s"
                                % (sum(reasons.values()), loaded[source], "; ".join(parts)),
                                kind="untied"))
    return problems


def duplicate_echo_logs(tied_named, echo) -> tuple:
    """``(echo statements to tie, problems)``: echo logs that record the statements an exact
    log already ties are dropped, each with one problem that says so.

    An app often logs its SQL twice (``echo=True`` and a cursor listener).  Tying both would
    count every statement twice, and the echo log's untied lines would make the counts
    unknown.  A log is the same when at least ``SAME_LOG`` of its statements match, by
    fingerprint and count, statements of the named logs that were all tied exactly.
    """
    exact_sources = {q.source for q in tied_named} - {
        q.source for q in tied_named if q.profile_file is None}
    exact = Counter(fingerprint(q.statement) for q in tied_named if q.source in exact_sources)
    if not exact or not echo:
        return echo, []
    by_source: dict = defaultdict(list)
    for q in echo:
        by_source[q.source].append(q)
    keep, problems = [], []
    for source, queries in by_source.items():
        alike = sum((Counter(fingerprint(q.statement) for q in queries) & exact).values())
        if alike >= SAME_LOG * len(queries):
            problems.append(Problem(str(source), "not used: %d of its %d statements are the "
                                    "ones %s ties to their requests exactly (the same SQL "
                                    "logged twice)" % (alike, len(queries), ", ".join(
                                        sorted(os.path.basename(str(s))
                                               for s in exact_sources))),
                                    # recomputed with the ties on every live reload, as the
                                    # untied summaries are, so it is never shown twice
                                    kind="untied"))
        else:
            keep.extend(queries)
    return keep, problems


def tie(named, echo, requests, has_queries: bool) -> Tied:
    """Tie every statement read (*named*: logs that name requests; *echo*: echo logs)."""
    index = _Index(requests)
    tied_named = tie_named(named, index, requests)
    echo, duplicates = duplicate_echo_logs(tied_named, list(echo))
    queries = tuple(tied_named + tie_echo(echo, requests, index.counted))
    if has_queries:
        requests = with_totals(queries, requests)
    return Tied(queries, list(requests), duplicates + untied_problems(queries))
