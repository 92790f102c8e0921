"""Memory that keeps growing with one endpoint's requests: a leak, or a cache without bound.

Per process (``pid``), each request's growth: tracemalloc's net allocation when the capture
had ``memory=True`` (exact), else the resident set's growth from ``requests.jsonl``'s
``rss_before``/``rss_after`` (every capture has them; it moves by whole pages and allocator
arenas, so most requests show 0 and a few a jump).  An endpoint is reported when its
requests grew memory more than the process's other requests did (a one-sided Mann-Whitney U
test, p under ``memory_alpha``; with too few other requests, a Wilcoxon signed-rank test
against no growth), over at least ``memory_min_requests`` of them, and by at least
``memory_min_total_mb`` in all: a trend over the capture, which one spike cannot make.
With tracemalloc's figures the finding also names the lines whose allocations stayed.

The resident set is the whole process's: requests served beside one another add to each
other's figures, which is why a trend over many requests is asked for.
"""
from __future__ import annotations

from collections import defaultdict

from .base import Evidence, Finding, median, slowest

RULE = "memory_growth"
FIX = ("Look for what outlives the request: module-level lists, dicts and caches that only "
       "grow (bound them: functools.lru_cache(maxsize=...), cachetools, or an external cache), "
       "sessions and connections that are never closed (use context managers; "
       "db.session.remove() at teardown), objects kept in the session or in globals, and "
       "results appended to a list for later.  Compare two tracemalloc snapshots "
       "(profview.capture(memory=True)) to see the lines whose allocations stay.")


def _mb(n: float) -> str:
    return "%.1f MB" % (n / 1e6) if abs(n) >= 1e5 else "%.0f KB" % (n / 1e3)


def check(ctx, settings) -> list:
    out = []
    processes = defaultdict(list)          # (host, pid) → every request measured there
    for r in ctx.capture.requests:
        if r.rss_delta is not None:
            processes[(r.host, r.pid)].append(r)
    for ep in ctx.endpoints:
        mine = {id(r) for r in ep.requests}
        for (_host, pid), requests in processes.items():
            own = [r for r in requests if id(r) in mine]
            others = [r for r in requests if id(r) not in mine]
            finding = _process(ep, pid, own, others, settings)
            if finding is not None:
                out.append(finding)
                break                # one finding per endpoint: its first process
    return out


def _measure(requests) -> tuple:
    """``(name, values)``: tracemalloc's net bytes when every request has them (exact, and
    not in whole pages), else the resident set's growth."""
    if requests and all(r.mem_net is not None for r in requests):
        return "tracemalloc's net allocation", [r.mem_net for r in requests]
    return "resident set growth", [r.rss_delta for r in requests]


def _process(ep, pid, requests, others, settings):
    """A finding when *requests* (of *ep*, in one process) grow memory more than *others*
    (the process's other requests) do, as a trend (see the module docstring)."""
    if len(requests) < settings.memory_min_requests:
        return None
    what, values = _measure(requests)
    _what, rest = _measure(others) if others else (what, [])
    if _what != what:
        what, values = "resident set growth", [r.rss_delta for r in requests]
        rest = [r.rss_delta for r in others]
    total = sum(values)
    if total < settings.memory_min_total_mb * 1e6:
        return None
    from scipy.stats import mannwhitneyu, wilcoxon

    if len(rest) >= settings.memory_min_requests:
        # more than the process's other requests: growth every request shares (caches
        # warming, the allocator's arenas) is not this endpoint's
        test = "one-sided Mann-Whitney U test against the process's other %d requests" % len(
            rest)
        p = float(mannwhitneyu(values, rest, alternative="greater").pvalue)
    else:
        moved = [v for v in values if v != 0]
        if len(moved) < settings.memory_min_requests:
            return None
        test = "one-sided Wilcoxon signed-rank test against no growth"
        p = float(wilcoxon(moved, alternative="greater").pvalue)
    if not p < settings.memory_alpha:
        return None
    grew = [v for v in values if v > 0]
    ordered = sorted(requests, key=lambda r: r.start)
    span = (ordered[-1].rss_after or 0) - (ordered[0].rss_before or 0)
    evidence = [Evidence("metric", "%s of the process%s: %s over %d requests of %s, %s in "
                         "%d of them (median); %s, p=%.2g"
                         % (what, " %d" % pid if pid else "", _mb(total), len(requests),
                            ep.name, _mb(median(grew)) if grew else "0", len(grew), test, p)),
                Evidence("metric", "its resident set went from %s before the first to %s "
                         "after the last (%s over the capture, other requests included)"
                         % (_mb(ordered[0].rss_before), _mb(ordered[-1].rss_after),
                            _mb(span)))]
    sites: dict = defaultdict(int)
    for r in requests:
        for where, size, _count in r.mem_sites:
            sites[where] += size
    for where, size in sorted(sites.items(), key=lambda kv: -kv[1])[:3]:
        evidence.append(Evidence("metric", "allocated and kept at %s: %s over these requests"
                                 % (where, _mb(size))))
    return Finding(
        rule=RULE, severity="high" if total >= 50e6 else "medium",
        title="Memory keeps growing with %s" % ep.name,
        summary="%s grows the process's memory request after request: %s over %d requests "
                "(%s), more than its other requests do: a trend, not a spike."
                % (ep.name, _mb(total), len(requests), what),
        endpoints=(ep.name,), requests=slowest(requests, settings.max_listed_requests),
        evidence=tuple(evidence), fix=FIX, cost_ms=0.0, stake_requests=len(requests))
