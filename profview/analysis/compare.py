"""Before/after comparison of two captures: per endpoint (with a significance test), per
function (normalised per request, with a test too), and per SQL fingerprint.  No Qt.

The verdict on an endpoint needs both a significant difference between the two latency samples
and a minimum effect on the median: on a shared machine a 3% shift can be significant and
still mean nothing, and a 1 ms wobble on a dozen requests is noise.

- The test is Mann–Whitney U, two-sided (``scipy.stats.mannwhitneyu``): exact for small
  samples without ties (scipy's ``method="auto"``); with ties (whole-ms latencies from
  Werkzeug's file names tie often) the exact *conditional* permutation distribution of U,
  enumerated, while it has at most ``EXACT_LIMIT`` arrangements; otherwise the normal
  approximation with tie and continuity corrections.
- Many endpoints are tested at once, so the significance is a Benjamini–Hochberg q-value
  across the endpoints: the false discovery rate is controlled at ``alpha``.  An endpoint
  whose samples are too small to ever reach p ≤ alpha (3 requests against 3: the smallest
  two-sided p is 0.1) is left out of the family (Tarone's trick, as Gilbert 2005 uses it with
  BH for discrete tests): it could never be a discovery, and counting it only costs power.
- The minimum effect on the median is ``min_pct`` of the before median and ``min_ms``, and
  it must exceed the timing resolution: latencies from Werkzeug's names are whole ms, so a
  1 ms change of a median is within rounding.
- Per-function changes (self and total time per request, one value per request profile) are
  tested the same way, with BH across the functions of the endpoint.
"""
from __future__ import annotations

import math
from typing import NamedTuple
from collections import Counter

from . import sql
from .summary import endpoint_rows
from .compare_functions import function_deltas
from .significance import ALPHA, mann_whitney, mann_whitney_p, resolution_ms
from .stats import bh_adjust, p50

MIN_PCT, MIN_MS = 5.0, 1.0
FASTER, SLOWER, UNCHANGED, NEW, GONE = "faster", "slower", "unchanged", "new", "gone"


def big_enough(before_ms, after_ms, min_pct: float = MIN_PCT, min_ms: float = MIN_MS) -> bool:
    """Whether the change of the median reaches the minimum effect and exceeds the
    resolution."""
    b, a = p50(before_ms), p50(after_ms)
    delta = abs(a - b)
    return delta >= max(min_ms, min_pct / 100.0 * b) and delta > resolution_ms(
        before_ms, after_ms)


def effect_reachable(before_ms, after_ms, min_pct: float = MIN_PCT,
                     min_ms: float = MIN_MS) -> bool:
    """Whether *some* split of the pooled latencies into samples of these sizes would give a
    median change big enough for a verdict (``big_enough``).

    The extreme splits decide it: the smallest values before and the largest after (or the
    reverse) give the largest change and, for a slow-down, the smallest threshold; for a
    speed-up the smallest ratio after/before.  The answer depends only on the pooled values
    and the two sizes, so under "no change" it says nothing about the observed split: like
    the smallest reachable p, it may decide who is in the family without biasing the test.
    """
    n1 = len(before_ms)
    pooled = sorted(list(before_ms) + list(after_ms))
    if not n1 or n1 == len(pooled):
        return False
    low_first = big_enough(pooled[:n1], pooled[n1:], min_pct, min_ms)
    high_first = big_enough(pooled[-n1:], pooled[:-n1], min_pct, min_ms)
    return low_first or high_first


def verdict(before_ms, after_ms, alpha: float = ALPHA, min_pct: float = MIN_PCT,
            min_ms: float = MIN_MS, q_value=None) -> tuple:
    """``(verdict, p_value)`` for two latency samples (ms).

    Significance is ``q_value < alpha`` when the q-value (across endpoints) is given, else
    ``p < alpha`` (one test on its own).
    """
    if not before_ms:
        return NEW, math.nan
    if not after_ms:
        return GONE, math.nan
    p = mann_whitney_p(before_ms, after_ms)
    sig = (q_value if q_value is not None else p) < alpha
    if sig and big_enough(before_ms, after_ms, min_pct, min_ms):
        return (SLOWER if p50(after_ms) > p50(before_ms) else FASTER), p
    return UNCHANGED, p


def sql_changes(before_ep, after_ep, before_q: dict, after_q: dict) -> list:
    """Fingerprints whose count per request changed: ``{"statement", "before", "after"}``,
    per request whose statements are known (none when one side knows none of them)."""
    def counts(ep, per_request):
        if ep is None:
            return Counter(), 1
        known = sql.known_requests(ep.requests)
        if per_request and not known:
            return None, 0       # a query log, but no request of it whose count is sure
        c = Counter()
        for r in known or ep.requests:
            for q in per_request.get(sql.request_key(r), ()):
                c[sql.fingerprint(q.statement)] += 1
        return c, len(known or ep.requests)

    cb, nb = counts(before_ep, before_q)
    ca, na = counts(after_ep, after_q)
    if cb is None or ca is None:
        return []
    out = []
    for fp in set(cb) | set(ca):
        b, a = cb[fp] / nb, ca[fp] / na
        if abs(a - b) > 1e-9:
            out.append({"statement": fp, "before": b, "after": a})
    return sorted(out, key=lambda c: (-abs(c["after"] - c["before"]), c["statement"]))


def result(before, after, pairs, matrices, alpha: float = ALPHA, min_pct: float = MIN_PCT,
           min_ms: float = MIN_MS) -> dict:
    """The comparison of two Captures, JSON-ready (see the README for the contract), from
    their matched endpoints (*pairs*, ``match_endpoints``) and, per pair, the request
    matrices of its functions (None: the functions are not tested).  The front door that
    reads the matrices is ``app.comparison.compare``."""
    rb = {e["name"]: e for e in endpoint_rows(before, [b for b, _a in pairs if b])}
    ra = {e["name"]: e for e in endpoint_rows(after, [a for _b, a in pairs if a])}
    qb = sql.by_request(before.queries) if before.has_queries else {}
    qa = sql.by_request(after.queries) if after.has_queries else {}
    judged = judge([(b.elapsed_ms if b else [], a.elapsed_ms if a else []) for b, a in pairs],
                   alpha, min_pct, min_ms)
    rows = [_row(b_ep, a_ep, j, rb, ra, qb, qa, alpha, min_pct, min_ms, m)
            for (b_ep, a_ep), j, m in zip(pairs, judged, matrices)]
    order = {SLOWER: 0, FASTER: 1, NEW: 2, GONE: 3, UNCHANGED: 4}
    rows.sort(key=lambda r: (order[r["verdict"]], -abs(r["delta_p50_ms"] or 0.0), r["name"]))
    return {"before": {"requests": len(before.requests),
                       "problems": [p.as_dict() for p in before.problems]},
            "after": {"requests": len(after.requests),
                      "problems": [p.as_dict() for p in after.problems]},
            "settings": {"alpha": alpha, "min_pct": min_pct, "min_ms": min_ms,
                         "correction": "benjamini-hochberg", "test": "mann-whitney-u"},
            "endpoints": rows}


def judge(samples, alpha: float = ALPHA, min_pct: float = MIN_PCT,
          min_ms: float = MIN_MS) -> list:
    """The verdicts on many endpoints at once, one ``Judged`` per ``(before ms, after ms)``
    pair of latency samples: Mann–Whitney p-values, Benjamini–Hochberg q-values across the
    family, and the verdict (see the module docstring)."""
    tests = [mann_whitney(b, a) if b and a else (math.nan, math.nan) for b, a in samples]
    # The family: endpoints that some split of their own latencies could call changed (a
    # small enough p, and a big enough median change).  The others can never be discoveries.
    reach = [bool(b and a) and effect_reachable(b, a, min_pct, min_ms) for b, a in samples]
    qvalues = bh_adjust([p if low <= alpha and ok else None
                         for (p, low), ok in zip(tests, reach)])
    out = []
    for (b, a), (p, low), ok, q in zip(samples, tests, reach, qvalues):
        kind, _p = verdict(b, a, alpha, min_pct, min_ms, q_value=1.0 if q is None else q)
        out.append(Judged(kind, p, low, ok, q))
    return out


class Judged(NamedTuple):
    """One endpoint's verdict (see ``judge``)."""

    verdict: str
    p: float             # NaN when a side is empty
    smallest_p: float    # the smallest p any split of these samples could give
    reachable: bool      # some split would move the median by the minimum effect
    q: float | None      # None outside the family


def _row(b_ep, a_ep, j: Judged, rb, ra, qb, qa, alpha, min_pct, min_ms, matrices) -> dict:
    """One endpoint's row of the comparison (see ``compare``)."""
    name = (a_ep or b_ep).name
    kind, p, low, reach, q = j
    row = {"name": name, "before_name": b_ep.name if b_ep else None,
           "after_name": a_ep.name if a_ep else None,
           "before": rb.get(b_ep.name) if b_ep else None,
           "after": ra.get(a_ep.name) if a_ep else None,
           "verdict": kind, "p_value": None if math.isnan(p) else p,
           "q_value": q, "significant": q is not None and q < alpha,
           "testable": bool(b_ep and a_ep) and low <= alpha and reach,
           "resolution_ms": resolution_ms(b_ep.elapsed_ms, a_ep.elapsed_ms)
           if b_ep and a_ep else None,
           "delta_p50_ms": None, "delta_p50_pct": None, "note": None,
           "function_deltas": [{k: v for k, v in d.items() if k != "key"}
                               for d in function_deltas(b_ep, a_ep, alpha=alpha,
                                                        matrices=matrices)],
           "sql_changes": sql_changes(b_ep, a_ep, qb, qa)}
    if b_ep and a_ep:
        b50, a50 = p50(b_ep.elapsed_ms), p50(a_ep.elapsed_ms)
        row["delta_p50_ms"] = a50 - b50
        row["delta_p50_pct"] = 100.0 * (a50 - b50) / b50 if b50 else None
        bq, aq = row["before"]["queries_per_request"], row["after"]["queries_per_request"]
        if kind == UNCHANGED and bq is not None and aq is not None and aq < bq:
            row["note"] = "fewer queries (%.1f → %.1f per request), no significant " \
                          "change in time" % (bq, aq)
        elif not low <= alpha:
            row["note"] = "too few requests to test (%d before, %d after)" % (
                len(b_ep.requests), len(a_ep.requests))
        elif not reach:
            row["note"] = "not tested: no split of these latencies moves the median by the " \
                          "minimum effect (%g%%, %g ms, beyond the %g ms resolution)" % (
                              min_pct, min_ms, row["resolution_ms"])
    return row


def match_endpoints(before: list, after: list) -> list:
    """``[(before endpoint | None, after endpoint | None)]``: the same endpoint on both sides.

    By key first (the URL rule, or method + view function); then, for views, by method,
    file and function name without the line (a fix that edits the view's file moves it); then
    by display name.  Each endpoint is matched at most once.
    """
    pairs, left, right = [], list(before), list(after)
    for same in (lambda e: e.key, _view_without_line, lambda e: e.name):
        index: dict = {}
        for e in right:
            index.setdefault(same(e), []).append(e)
        rest = []
        for e in left:
            hits = index.get(same(e))
            if same(e) is not None and hits and len(hits) == 1 and sum(
                    1 for o in left if same(o) == same(e)) == 1:
                pairs.append((e, hits[0]))
                right.remove(hits[0])
            else:
                rest.append(e)
        left = rest
    pairs += [(e, None) for e in left] + [(None, e) for e in right]
    return pairs


def _view_without_line(ep):
    if ep.key[0] != "view" or ep.view is None:
        return None
    tail = "/".join(ep.view[0].replace("\\", "/").split("/")[-2:])
    return (ep.method, tail, ep.view[2])


def regressions(result: dict, pct: float) -> list:
    """Endpoints significantly slower by more than *pct* percent (the CI gate)."""
    return [r for r in result["endpoints"] if r["verdict"] == SLOWER
            and (r["delta_p50_pct"] or 0.0) > pct]
