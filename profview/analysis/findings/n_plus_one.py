"""N+1 queries: one statement shape run many times in one request.

With a query log the statements are counted by fingerprint (``sql.n_plus_one``, the SQL
panel's badge).  Without one, a DB-API ``execute`` called very often per request is reported
as a *possible* N+1: the profile counts calls, it cannot say they share a shape.
"""
from __future__ import annotations

from collections import Counter

from ...model.capture import Endpoint
from ..codeloc import shorten
from ..stats import format_ms
from .. import sql
from .base import (Evidence, Finding, function_evidence, in_module, label, per_request_ms,
                   profile_ms, request_evidence, slowest)

RULE = "n_plus_one"
PROFILE_FIX = ("Load a query log (profview.capture or SQLALCHEMY_ECHO) to see the statements; "
               "if one shape repeats, " + sql.N_PLUS_ONE_FIX + ".")


def check(ctx, settings) -> list:
    return [f for ep in ctx.endpoints for f in [_endpoint(ctx, ep, settings)] if f]


def _endpoint(ctx, ep: Endpoint, settings):
    """From the query log when it holds the endpoint's statements; else from the profiles'
    execute() counts (no log, or one that lost those lines: a garbled or partial log must
    not hide an N+1 the profiles show)."""
    if ctx.capture.has_queries:
        per_request = ctx.queries()
        # only requests whose statements are all known: a partly tied one would understate
        if any(per_request.get(sql.request_key(r)) for r in sql.known_requests(ep.requests)):
            return _from_log(ctx, ep, settings)
    return _from_profile(ep, settings, ctx.capture.has_queries)


def _from_log(ctx, ep: Endpoint, settings):
    per_request = ctx.queries()
    patterns = sql.endpoint_n_plus_one(ep, per_request, settings.n_plus_one_min)
    if not patterns:
        return None
    shapes = {p["statement"] for p in patterns}
    hit, repeated_ms, example = [], 0.0, None
    known = sql.known_requests(ep.requests)
    for r in known:
        qs = [q for q in per_request.get(sql.request_key(r), ())
              if sql.fingerprint(q.statement) in shapes]
        counts = Counter(sql.fingerprint(q.statement) for q in qs)
        if counts and max(counts.values()) >= settings.n_plus_one_min:
            hit.append(r)
            repeated_ms += sum(q.duration_ms or 0.0 for q in qs)
            example = example or qs[0]
    n = len(known)
    top = patterns[0]
    total_q = sum(r.n_queries or 0 for r in known) / n
    mean_ms = sum(r.elapsed_ms for r in known) / n
    evidence = [Evidence("statement", "%.1f times per request%s: %s" % (
        p["per_request"], " from %s" % p["location"] if p["location"] else "",
        shorten(p["statement"], 200)), statement=p["statement"]) for p in patterns]
    evidence.append(Evidence("metric", "%.1f statements per request in all; the repeated ones "
                             "took %s of SQL per request, the request %s on average" % (
                                 total_q, format_ms(repeated_ms / n), format_ms(mean_ms))))
    worst = max(hit, key=lambda r: r.elapsed_ms)
    evidence.append(request_evidence(worst, ", %d statements" % (worst.n_queries or 0)))
    # The ORM work around each statement costs more than the SQL itself, and pstats cannot
    # separate it: the time at stake is the request's share of repeated statements, "up to".
    cost = mean_ms * min(1.0, sum(p["per_request"] for p in patterns) / max(total_q, 1.0))
    where = " from %s" % top["location"] if top["location"] else ""
    return Finding(
        rule=RULE, severity="high" if top["per_request"] >= settings.n_plus_one_high
        else "medium",
        title="N+1 queries in %s" % ep.name,
        summary="%s runs one statement %.1f times per request%s (%d of %d requests%s); "
                "up to %s of its %s per request is spent on them." % (
                    ep.name, top["per_request"], where, len(hit), n,
                    "" if n == len(ep.requests) else " whose statements are known, of %d"
                    % len(ep.requests), format_ms(cost), format_ms(mean_ms)),
        endpoints=(ep.name,), requests=slowest(hit, settings.max_listed_requests),
        evidence=tuple(evidence), fix=sql.N_PLUS_ONE_FIX[0].upper() + sql.N_PLUS_ONE_FIX[1:]
        + ".", copy=sql.inline_parameters(example.statement, example.parameters)
        if example else None, cost_ms=cost)


def _is_execute(key) -> bool:
    """A DB-API cursor's execute (C drivers) or SQLAlchemy's single funnel to it."""
    name = key[2]
    if key[0] == "~":
        return name.startswith("<method 'execute' of ") and "ursor" in name
    return in_module(key, "sqlalchemy/engine/default.py") and name == "do_execute"


def _from_profile(ep: Endpoint, settings, has_log: bool = False):
    n = len(ep.requests)
    calls = [(s.ncalls / n, k, s) for k, s in ep.functions.items() if _is_execute(k)]
    if not calls:
        return None
    per_request, key, stats = max(calls, key=lambda c: c[0])  # max, not sum: they nest
    if per_request < settings.many_queries:
        return None
    whole = profile_ms(ep)
    ev = function_evidence(key, per_request_ms(ep, stats.cumtime), whole,
                           extra=", %.1f calls per request" % per_request)
    return Finding(
        rule=RULE, severity="medium",
        title="Many SQL statements per request in %s (possible N+1)" % ep.name,
        summary="%s calls %s %.1f times per request; %s the profile cannot tell whether "
                "one statement repeats." % (ep.name, label(key), per_request, (
                    "the query log's statements could not be tied to these requests, and"
                    if has_log else "without a query log")),
        endpoints=(ep.name,), requests=slowest(ep.requests, settings.max_listed_requests),
        evidence=(ev,), fix=PROFILE_FIX, cost_ms=per_request_ms(ep, stats.cumtime))
