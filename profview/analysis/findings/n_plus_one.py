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
from .base import (calls_text, Evidence, Finding, function_evidence, in_module, label, median,
                   per_request_ms, profile_ms, request_evidence, slowest)
from .stack_evidence import statement_origin
from .graphs import db_entry_seconds, db_seconds_under, descendants, driver_seconds, loader_seconds

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


def measure(ctx, ep, shapes, settings) -> list:
    """Per request of *ep* running the repeated *shapes*, ``(request, repeated statements,
    all statements, SQL ms of the repeated ones (log durations), [queries])``."""
    per_request = ctx.queries()
    rows = []
    for r in sql.known_requests(ep.requests):
        every = per_request.get(sql.request_key(r), ())
        qs = [q for q in every if sql.fingerprint(q.statement) in shapes]
        counts = Counter(sql.fingerprint(q.statement) for q in qs)
        if counts and max(counts.values()) >= settings.n_plus_one_min:
            rows.append((r, len(qs), len(every), sum(q.duration_ms or 0.0 for q in qs), qs))
    return rows


def orm_estimate(graph, repeated: int, every: int, sql_ms: float) -> tuple:
    """``(ORM ms, how, render ms)`` of one request's profile, a bounded estimate of the ORM
    work around the repeated statements (*sql_ms* of SQL measured by the log):

    - ``"loader"``: SQLAlchemy's lazy loader ran (the usual N+1): its time (exact, one pstats
      entry) minus the SQL measured; at most the loader's time;
    - ``"share"``: otherwise the database layer's time outside the driver's C calls, times
      the repeated statements' share of the request's statements; at most that time.

    *render ms* is the database time below a template render (lazy loads in the template)."""
    loader = 1000.0 * loader_seconds(graph)
    if loader > sql_ms:
        orm, how = loader - sql_ms, ("loader", loader)
    else:
        outside = max(0.0, 1000.0 * (db_entry_seconds(graph) - driver_seconds(graph)))
        orm, how = outside * repeated / max(every, 1), ("share", outside)
    render = 0.0
    loaders = {k for k in graph.functions if k[2] == "_load_for_state"}
    for key in graph.functions:
        if key[2] == "render" and in_module(key, "jinja2/environment.py") and (
                loaders & descendants(graph, key)):
            render = max(render, 1000.0 * db_seconds_under(graph, key))
    return orm, how, render


def _from_log(ctx, ep: Endpoint, settings):
    per_request = ctx.queries()
    patterns = sql.endpoint_n_plus_one(ep, per_request, settings.n_plus_one_min)
    if not patterns:
        return None
    shapes = {p["statement"] for p in patterns}
    rows = measure(ctx, ep, shapes, settings)
    if not rows:
        return None
    known = sql.known_requests(ep.requests)
    hit = [r for r, *_x in rows]
    example = rows[0][4][0]
    # Medians over the requests after the endpoint's first (the cold start's evidence).
    first = ep.requests[0]
    warm = [row for row in rows if row[0] is not first] or rows
    sql_ms = median([row[3] for row in warm])
    reads = []
    for row in warm[:max(2, settings.max_profiles)]:
        graph = ctx.request_data(row[0])
        if graph is not None and hasattr(graph, "callees"):
            reads.append(orm_estimate(graph, row[1], row[2], row[3]))
    orm_ms = median([e[0] for e in reads]) if reads else 0.0
    render_db = median([e[2] for e in reads]) if reads else 0.0
    cost = sql_ms + orm_ms
    n = len(known)
    top = patterns[0]
    total_q = sum(r.n_queries or 0 for r in known) / n
    evidence = [Evidence("statement", "%.1f times per request%s: %s" % (
        p["per_request"], " from %s" % p["location"] if p["location"] else "",
        shorten(p["statement"], 200)), statement=p["statement"]) for p in patterns]
    evidence.append(Evidence("metric", "SQL measured: %s per request, the query log's "
                             "durations of the repeated statements (median of %d requests)"
                             % (format_ms(sql_ms), len(warm))))
    loaders = [e[1][1] for e in reads if e[1][0] == "loader"]
    shares = [e[1][1] for e in reads if e[1][0] == "share"]
    if reads:
        how = []
        if loaders:
            how.append("in %d: SQLAlchemy's lazy loader (LazyLoader._load_for_state, %s "
                       "median) minus the SQL measured" % (len(loaders),
                                                           format_ms(median(loaders))))
        if shares:
            how.append("in %d: SQLAlchemy's time outside the database driver (%s median) "
                       "× the repeated statements' share of the request's (%.1f of %.1f)" % (
                           len(shares), format_ms(median(shares)),
                           median([row[1] for row in warm]), median([row[2] for row in warm])))
        evidence.append(Evidence("metric", "ORM overhead around them, estimated from the "
                                 "profiles: %s per request (median of %d requests; %s)" % (
                                     format_ms(orm_ms), len(reads), "; ".join(how))))
    if render_db >= 0.05:
        evidence.append(Evidence("metric", "the lazy loads run inside the template render: "
                                 "%s per request of the render's time is database work "
                                 "(SQLAlchemy, driver, SQL; median), counted here and not as "
                                 "template cost" %
                                 format_ms(render_db)))
    evidence.append(Evidence("metric", "%.1f statements per request in all" % total_q))
    worst = max(hit, key=lambda r: r.elapsed_ms)
    evidence.append(request_evidence(worst, ", %d statements" % (worst.n_queries or 0)))
    sampled = next((r for r in sorted(hit, key=lambda r: -r.elapsed_ms) if r.stacks), None)
    origin = sampled and statement_origin(sampled, per_request.get(sql.request_key(sampled),
                                                                    ()), patterns[0]["statement"])
    if origin is not None:      # the loop and the lazy-load line, from true stacks
        evidence.append(origin)
    where = " from %s" % top["location"] if top["location"] else ""
    # The headline count is the median in the requests that repeat it: a mean over every
    # request read "1.2 times per request" for a statement run 5 times in 1 request of 4.
    times = median([sum(1 for q in row[4] if sql.fingerprint(q.statement) == top["statement"])
                    for row in rows])
    return Finding(
        rule=RULE, severity="high" if top["per_request"] >= settings.n_plus_one_high
        else "medium",
        title="N+1 queries in %s" % ep.name,
        summary="%s runs one statement %s times per request%s (median, in the %d of %d "
                "requests%s that repeat it)%s: %s of SQL measured per request, and about %s "
                "of ORM overhead around it (estimated)." % (
                    ep.name, "%g" % times, where, len(hit), n,
                    "" if n == len(ep.requests) else " whose statements are known, of %d"
                    % len(ep.requests),
                    ", inside the template render" if render_db >= 0.05 else "",
                    format_ms(sql_ms), format_ms(orm_ms)),
        endpoints=(ep.name,), requests=slowest(hit, settings.max_listed_requests),
        evidence=tuple(evidence), fix=sql.N_PLUS_ONE_FIX[0].upper() + sql.N_PLUS_ONE_FIX[1:]
        + ".", copy=sql.inline_parameters(example.statement, example.parameters)
        if example else None, cost_ms=cost, stake_requests=len(hit))


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
                           extra=calls_text(per_request))
    return Finding(
        rule=RULE, severity="medium",
        title="Many SQL statements per request in %s (possible N+1)" % ep.name,
        summary="%s calls %s %.1f times per request; %s the profile cannot tell whether "
                "one statement repeats." % (ep.name, label(key), per_request, (
                    "the query log's statements could not be tied to these requests, and"
                    if has_log else "without a query log")),
        endpoints=(ep.name,), requests=slowest(ep.requests, settings.max_listed_requests),
        evidence=(ev,), fix=PROFILE_FIX, cost_ms=per_request_ms(ep, stats.cumtime))
