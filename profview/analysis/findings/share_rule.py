"""The shape several rules share: some functions take a share of an endpoint's time."""
from __future__ import annotations

from ..stats import format_ms
from .base import Finding, function_evidence, per_request_ms, profile_ms, slowest


def cumtime(stats) -> float:
    """Time a function and what it called took (the *seconds* of ``measure``)."""
    return stats.cumtime


def measure(ep, matches, seconds) -> tuple:
    """``(ms per request, share, [(key, Stats)])`` of the functions *matches(key)* picks,
    timed by *seconds(stats)* (tottime or cumtime); the caller keeps them disjoint."""
    picked = sorted(((k, s) for k, s in ep.functions.items() if matches(k)),
                    key=lambda kv: -seconds(kv[1]))
    whole = profile_ms(ep)
    ms = per_request_ms(ep, sum(seconds(s) for _k, s in picked))
    return ms, (ms / whole if whole else 0.0), picked


def finding(rule, severity, title, what, ep, ms, picked, seconds, fix, settings,
            up_to=False, extra=()) -> Finding:
    """A finding whose summary is '<endpoint> spends N ms of M ms per request (P%) <what>'."""
    whole = profile_ms(ep)
    evidence = [function_evidence(k, per_request_ms(ep, seconds(s)), whole, up_to=up_to,
                                  extra=", %.1f calls per request" % (s.ncalls / len(ep.requests)))
                for k, s in picked[:4]]
    return Finding(
        rule=rule, severity=severity, title=title % ep.name,
        summary="%s spends %s%s of %s per request (%.0f%%) %s." % (
            ep.name, "up to " if up_to else "", format_ms(ms), format_ms(whole),
            100 * ms / whole if whole else 0, what),
        endpoints=(ep.name,), requests=slowest(ep.requests, settings.max_listed_requests),
        evidence=tuple(evidence) + tuple(extra), fix=fix, cost_ms=ms)
