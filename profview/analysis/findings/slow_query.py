"""Slow or unindexed queries: statements whose duration dominates their request.

With a query log each statement's duration is compared with its request's; a shape that is
slow in most of an endpoint's requests (or over the absolute "slow" limit in any) is reported
with a copyable EXPLAIN.  Without a log, a DB-API execute dominating the profile is reported
without a statement.  With the plans the capture asked for (``explain=True``), the finding
cites the database's own plan: a full scan of a filtered table names the missing index (its
``CREATE INDEX`` is what is copied), an index already used says the slowness is elsewhere.
"""
from __future__ import annotations

import re
from collections import defaultdict

from ..codeloc import shorten
from ..stats import format_ms
from .. import plans, sql
from .base import (calls_text, Evidence, Finding, function_evidence, median, per_request_ms, profile_ms,
                   request_evidence, severity, slowest)
from .n_plus_one import _is_execute

RULE = "slow_query"
FIX = ("Run the EXPLAIN (copied) in your database console: a full table scan on a filtered "
       "column wants an index on the columns of the WHERE clause%s; otherwise fetch fewer "
       "rows or cache the result.")
PROFILE_FIX = ("Load a query log (profview.capture, SQLALCHEMY_RECORD_QUERIES or "
               "SQLALCHEMY_ECHO) to see the statement, then run EXPLAIN on it: a full table "
               "scan on a filtered column wants an index on the columns of its WHERE clause.")
PLAN_FIX = ("Create the index (copied) in a migration, then capture again: the plan should "
            "read the table through it (SEARCH … USING INDEX, Index Scan, access type ref).")
USED_FIX = ("The plan already uses an index: fetch fewer rows (LIMIT, fewer columns), cache "
            "the result, or look at the database server's load.")
# "attendance.student_id = ?": a qualified column compared in a WHERE clause
_WHERE_COLUMN = re.compile(r"(\w+)\.(\w+)\s*(?:=|<=|>=|<|>|\bIN\b|\bLIKE\b)", re.IGNORECASE)


def check(ctx, settings) -> list:
    if not ctx.capture.has_queries:
        return [f for ep in ctx.endpoints for f in [_from_profile(ep, settings)] if f]
    out = []
    per_request = ctx.queries()
    for ep in ctx.endpoints:
        slow = defaultdict(list)     # fingerprint → [(query, request)]
        for r in ep.requests:
            for q in per_request.get(sql.request_key(r), ()):
                if _slow(q, r, settings):
                    slow[sql.fingerprint(q.statement)].append((q, r))
        for fp, hits in slow.items():
            finding = _finding(ep, fp, hits, settings, ctx.capture.plans)
            if finding:
                out.append(finding)
    return out


def _slow(q, r, settings) -> bool:
    ms = q.duration_ms or 0.0
    if ms > settings.slow_query_ms:
        return True
    return (ms >= settings.slow_query_min_ms and r.elapsed_ms > 0
            and ms / r.elapsed_ms >= settings.slow_query_share)


def _finding(ep, fp, hits, settings, captured=()):
    requests = {id(r): r for _q, r in hits}
    over_limit = any((q.duration_ms or 0.0) > settings.slow_query_ms for q, _r in hits)
    # One slow run among many fast ones is an outlier, not the statement's nature.
    if not over_limit and 2 * len(requests) < len(ep.requests):
        return None
    worst_q, worst_r = max(hits, key=lambda h: h[0].duration_ms or 0.0)
    ms = median([q.duration_ms or 0.0 for q, _r in hits])
    share = median([(q.duration_ms or 0.0) / r.elapsed_ms for q, r in hits if r.elapsed_ms])
    columns = sorted({"%s.%s" % m.groups() for m in _WHERE_COLUMN.finditer(
        worst_q.statement.partition("WHERE")[2] or "")})
    hint = " (here: %s)" % ", ".join(columns[:3]) if columns else ""
    evidence = [
        Evidence("statement", shorten(fp, 300), statement=worst_q.statement),
        Evidence("metric", "slow in %d of %d requests: median %s, %s of its request; slowest "
                 "%s%s" % (len(requests), len(ep.requests), format_ms(ms),
                           "%.0f%%" % (100 * share), format_ms(worst_q.duration_ms or 0.0),
                           " from %s" % worst_q.location if worst_q.location else "")),
        request_evidence(worst_r)]
    fix, copy = FIX % hint, sql.explain(worst_q.statement, worst_q.parameters)
    told = plans.advice(plans.plan_for(captured, worst_q.statement), worst_q.statement,
                        captured)
    if told is not None:           # the database's own plan, asked at capture time
        evidence.insert(1, Evidence("metric", told.text))
        if told.create_index:
            fix, copy = PLAN_FIX, told.create_index
        else:
            fix = USED_FIX
    return Finding(
        rule=RULE, severity=severity(ms, share, settings),
        title="Slow query in %s" % ep.name,
        summary="One statement takes %s (median), %.0f%% of its request, in %d of %d requests "
                "of %s." % (format_ms(ms), 100 * share, len(requests), len(ep.requests),
                            ep.name),
        endpoints=(ep.name,), requests=slowest(requests.values(), settings.max_listed_requests),
        evidence=tuple(evidence), fix=fix, copy=copy, cost_ms=ms)


def _from_profile(ep, settings):
    whole = profile_ms(ep)
    calls = [(k, s) for k, s in ep.functions.items() if _is_execute(k) and k[0] == "~"]
    if not calls or not whole:
        return None
    # A C driver's execute: its self time is the database working (exact).
    key, stats = max(calls, key=lambda c: c[1].tottime)
    ms = per_request_ms(ep, stats.tottime)
    if ms < settings.slow_query_min_ms or ms / whole < settings.slow_query_share:
        return None
    return Finding(
        rule=RULE, severity=severity(ms, ms / whole, settings),
        title="SQL execution dominates %s" % ep.name,
        summary="%s spends %s of %s per request inside the database driver's execute; load a "
                "query log to see which statement." % (ep.name, format_ms(ms), format_ms(whole)),
        endpoints=(ep.name,), requests=slowest(ep.requests, settings.max_listed_requests),
        evidence=(function_evidence(key, ms, whole, extra=calls_text(
            stats.ncalls / len(ep.requests))),),
        fix=PROFILE_FIX, cost_ms=ms)
