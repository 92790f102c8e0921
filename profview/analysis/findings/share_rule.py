"""The shape several rules share: some functions take a share of an endpoint's time.

Measured per request, over the endpoint's requests but its first (a cold start's one-time
work is the cold-start rule's evidence), and summarised by the median: one slow request
must not make a finding, nor hide one.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..stats import format_ms
from .base import calls_text, Finding, function_evidence, median, profile_ms, slowest


def cumtime(stats) -> float:
    """Time a function and what it called took (the *seconds* of ``measure``)."""
    return stats.cumtime


@dataclass
class Measure:
    """Medians over the requests read: the picked functions' ms, the request's ms, and each
    picked function's ms and calls; the picked functions most time first."""

    ms: float
    whole: float
    picked: list          # [(key, ms per request, calls per request)]
    requests: int

    @property
    def share(self) -> float:
        return self.ms / self.whole if self.whole else 0.0


def measure(ctx, ep, matches, seconds, gate_ms: float = 0.0):
    """A ``Measure`` of the functions *matches(key)* picks, timed by *seconds(stats)*
    (tottime or cumtime; the caller keeps them disjoint), or None when none ran.  The
    profiles are read only when the endpoint's summed stats reach half of *gate_ms*."""
    picked = ctx.picks(matches)
    keys = [k for k in ep.functions if k in picked]
    if not keys:
        return None
    mean = 1000.0 * sum(seconds(ep.functions[k]) for k in keys) / len(ep.requests)
    if mean < 0.5 * gate_ms:
        return None
    rows = []
    for r in ctx.warm_sample(ep):
        functions = ctx.request_functions(r)
        if functions is not None:
            found = [(k, functions.get(k)) for k in keys]
            rows.append((1000.0 * r.total_tt,
                         {k: (1000.0 * seconds(st), st.ncalls) for k, st in found
                          if st is not None}))
    if not rows:
        return None
    per_key = [(k, median([row[1].get(k, (0.0, 0))[0] for row in rows]),
                median([row[1].get(k, (0.0, 0))[1] for row in rows])) for k in keys]
    per_key.sort(key=lambda p: -p[1])
    return Measure(median([sum(v[0] for v in row[1].values()) for row in rows]),
                   median([row[0] for row in rows]), per_key, len(rows))


def finding(rule, severity, title, what, ep, m: Measure, fix, settings,
            up_to=False, extra=()) -> Finding:
    """A finding whose summary is '<endpoint> spends N ms of M ms per request (P%) <what>'."""
    evidence = [function_evidence(k, ms, m.whole, up_to=up_to,
                                  extra=calls_text(calls))
                for k, ms, calls in m.picked[:4] if ms > 0 or calls]
    return Finding(
        rule=rule, severity=severity, title=title % ep.name,
        summary="%s spends %s%s of %s per request (%.0f%%) %s (medians of %d request%s%s)." % (
            ep.name, "up to " if up_to else "", format_ms(m.ms), format_ms(m.whole),
            100 * m.share, what, m.requests, "" if m.requests == 1 else "s",
            " after the first" if len(ep.requests) > 1 else ""),
        endpoints=(ep.name,), requests=slowest(ep.requests, settings.max_listed_requests),
        evidence=tuple(evidence) + tuple(extra), fix=fix, cost_ms=m.ms,
        stake_requests=len(ep.requests))


__all__ = ["Measure", "cumtime", "finding", "measure", "profile_ms"]
