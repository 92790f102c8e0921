"""Repeated identical work: the same expensive, pure-looking function, with the same calls
and the same cost, in every request of an endpoint: a caching candidate.

"Pure-looking": an application function that (by its requests' call edges) never reaches
SQL, sockets, files or sleep, nor anything whose result depends on a secret (hashlib, hmac,
scrypt/bcrypt/argon2, passlib, werkzeug.security, secrets), the clock or randomness: caching
a password check is a security bug, and caching the time or a random value changes what the
code means.  pstats does not record arguments, so the finding
says the work *looks* identical; caching is right only if the inputs repeat too.
"""
from __future__ import annotations

from ..codeloc import is_app
from ..stats import format_ms
from .base import (Evidence, Finding, function_evidence, median, severity, slowest)
from .graphs import descendants, impure_ancestors

RULE = "repeated_work"
FIX = ("Compute it once and reuse it: functools.lru_cache (or cache) on a function of its "
       "inputs, a module-level value built at start-up, or Flask-Caching (@cache.memoize, or "
       "@cache.cached on the view) when the result can be a little stale.")


def check(ctx, settings) -> list:
    out = []
    for ep in ctx.endpoints:
        if len(ep.requests) >= settings.repeat_min_requests:
            finding = _endpoint(ctx, ep, settings)
            if finding:
                out.append(finding)
    return out


def _profiles(ctx, ep) -> list:
    """``[(request, graph)]`` of the sampled requests that could be read with their edges.

    The first one is read alone and the rest only if it has a candidate: most endpoints
    have none, and reading 50 profiles each of them made ``profview report`` 2.8x slower.
    """
    out = []
    # The first request's one-time work is cold_start's; it is read only when too few
    # requests are left without it (their costs must agree anyway, so a cold one fails).
    warm = ctx.warm_sample(ep)
    sample = warm if len(warm) >= ctx.settings.repeat_min_requests else ctx.sample(ep)
    for r in sample:
        data = ctx.request_data(r)
        if data is not None and hasattr(data, "callees"):
            out.append((r, data))
            if len(out) == 1 and not _candidates(out, ep, ctx.settings):
                return out
    return out


def _candidates(profiles, ep, settings) -> list:
    """``[(key, [cumtime ms per request])]`` that pass every test in every request."""
    first = profiles[0][1]
    impure = set().union(*(impure_ancestors(g) for _r, g in profiles))
    found = []
    for key, stats in first.functions.items():
        if not is_app(key[0]) or key in impure or key == ep.view or key[2].startswith("<"):
            continue
        costs, calls = [], set()
        for r, graph in profiles:
            s = graph.functions.get(key)
            whole = r.total_tt
            if s is None or not whole or s.cumtime / whole < settings.repeat_share:
                break
            costs.append(1000.0 * s.cumtime)
            calls.add(s.ncalls)
        else:
            mid = median(costs)
            # 0 calls: sampled stacks, which count none, so "the same calls" is unknown
            if (len(calls) == 1 and 0 not in calls and mid >= settings.repeat_min_ms
                    and (max(costs) - min(costs)) <= settings.repeat_spread * mid):
                found.append((key, costs))
    return sorted(found, key=lambda c: -median(c[1]))


def _innermost(graph, candidates) -> list:
    """Prefer a function to a caller of it that adds little (a wrapper around the work)."""
    kept = []
    for key, costs in candidates:
        below = descendants(graph, key)
        if not any(k in below and median(c) >= 0.8 * median(costs) for k, c in candidates):
            kept.append((key, costs))
    return kept


def _endpoint(ctx, ep, settings):
    profiles = _profiles(ctx, ep)
    if len(profiles) < settings.repeat_min_requests:
        return None
    candidates = _innermost(profiles[0][1], _candidates(profiles, ep, settings))
    if not candidates:
        return None
    key, costs = candidates[0]
    ms = median(costs)
    whole = median([1000.0 * r.total_tt for r, _g in profiles])
    calls = profiles[0][1].functions[key].ncalls
    evidence = [function_evidence(k, median(c), whole,
                                  extra=", the same in all %d requests read (%s–%s)" % (
                                      len(c), format_ms(min(c)), format_ms(max(c))))
                for k, c in candidates[:3]]
    evidence.append(Evidence("metric", "%d call%s per request in every request; by its call "
                             "edges it reaches no SQL, network, file, hashing/secret, clock "
                             "or random calls" % (
                                 calls, "" if calls == 1 else "s")))
    return Finding(
        rule=RULE, severity=severity(ms, ms / whole if whole else 0.0, settings),
        title="Repeated identical work in %s" % ep.name,
        summary="All %d requests of %s read spend %s (%.0f%%) in %s with the same "
                "calls and cost: a caching candidate if its inputs repeat." % (
                    len(profiles), ep.name, format_ms(ms), 100 * ms / whole if whole else 0,
                    key[2]),
        endpoints=(ep.name,), requests=slowest([r for r, _g in profiles],
                                               settings.max_listed_requests),
        evidence=tuple(evidence), fix=FIX, cost_ms=ms)
