"""Before/after comparison of two captures: per endpoint (with a significance test), per
function (normalised per request), and per SQL fingerprint.  Pure Python, no Qt.

The verdict on an endpoint needs both a significant difference between the two latency samples
(Mann–Whitney U, two-sided) and a minimum effect on the median: on a shared machine a 3% shift
can be significant and still mean nothing, and a 1 ms wobble on a dozen requests is noise.
"""
from __future__ import annotations

import math
from collections import Counter

from . import sql
from .endpoints import group
from .report import build as build_report
from .stats import p50

ALPHA, MIN_PCT, MIN_MS = 0.05, 5.0, 1.0
FASTER, SLOWER, UNCHANGED, NEW, GONE = "faster", "slower", "unchanged", "new", "gone"


def mann_whitney_p(a, b) -> float:
    """Two-sided p-value of the Mann–Whitney U test (normal approximation with tie and
    continuity corrections; written out because scipy is not a dependency)."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return math.nan
    values = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks = [0.0] * len(values)
    ties = 0.0
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1][0] == values[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2.0 + 1.0
        t = j - i + 1
        ties += t ** 3 - t
        i = j + 1
    r1 = sum(r for r, (_v, side) in zip(ranks, values) if side == 0)
    u1 = r1 - n1 * (n1 + 1) / 2.0
    mean = n1 * n2 / 2.0
    n = n1 + n2
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        return 1.0
    z = (abs(u1 - mean) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2.0)))


def verdict(before_ms, after_ms, alpha: float = ALPHA, min_pct: float = MIN_PCT,
            min_ms: float = MIN_MS) -> tuple:
    """``(verdict, p_value)`` for two latency samples (ms)."""
    if not before_ms:
        return NEW, math.nan
    if not after_ms:
        return GONE, math.nan
    p = mann_whitney_p(before_ms, after_ms)
    b, a = p50(before_ms), p50(after_ms)
    delta = a - b
    big = abs(delta) >= max(min_ms, min_pct / 100.0 * b)
    if p < alpha and big:
        return (SLOWER if delta > 0 else FASTER), p
    return UNCHANGED, p


def _per_request(functions: dict, n: int) -> dict:
    return {k: (s.tottime / n, s.cumtime / n, s.ncalls / n) for k, s in functions.items()}


def function_deltas(before_ep, after_ep, top: int = 10) -> list:
    """Functions of an endpoint before and after, per request, largest |Δ self| first."""
    b = _per_request(before_ep.functions, len(before_ep.requests)) if before_ep else {}
    a = _per_request(after_ep.functions, len(after_ep.requests)) if after_ep else {}
    rows = []
    for key in set(b) | set(a):
        bt, bc, bn = b.get(key, (0.0, 0.0, 0.0))
        at, ac, an = a.get(key, (0.0, 0.0, 0.0))
        rows.append({"function": "%s:%d(%s)" % key, "key": key,
                     "before_s_per_request": bt, "after_s_per_request": at,
                     "before_total_s": bc, "after_total_s": ac,
                     "calls_delta": an - bn,
                     "status": "new" if key not in b else "gone" if key not in a else ""})
    rows.sort(key=lambda r: (-abs(r["after_s_per_request"] - r["before_s_per_request"]),
                             r["function"]))
    return rows[:top] if top else rows


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
    return sorted(out, key=lambda c: -abs(c["after"] - c["before"]))


def compare(before, after, alpha: float = ALPHA, min_pct: float = MIN_PCT,
            min_ms: float = MIN_MS) -> dict:
    """The comparison of two Captures, JSON-ready (see the README for the contract)."""
    rb = {e["name"]: e for e in build_report(before)["endpoints"]}
    ra = {e["name"]: e for e in build_report(after)["endpoints"]}
    qb = sql.by_request(before.queries) if before.has_queries else {}
    qa = sql.by_request(after.queries) if after.has_queries else {}
    rows = []
    for b_ep, a_ep in match_endpoints(group(before), group(after)):
        name = (a_ep or b_ep).name
        kind, p = verdict(b_ep.elapsed_ms if b_ep else [], a_ep.elapsed_ms if a_ep else [],
                          alpha, min_pct, min_ms)
        row = {"name": name, "before_name": b_ep.name if b_ep else None,
               "after_name": a_ep.name if a_ep else None,
               "before": rb.get(b_ep.name) if b_ep else None,
               "after": ra.get(a_ep.name) if a_ep else None,
               "verdict": kind, "p_value": None if math.isnan(p) else p,
               "delta_p50_ms": None, "delta_p50_pct": None, "note": None,
               "function_deltas": [{k: v for k, v in d.items() if k != "key"}
                                   for d in function_deltas(b_ep, a_ep)],
               "sql_changes": sql_changes(b_ep, a_ep, qb, qa)}
        if b_ep and a_ep:
            b50, a50 = p50(b_ep.elapsed_ms), p50(a_ep.elapsed_ms)
            row["delta_p50_ms"] = a50 - b50
            row["delta_p50_pct"] = 100.0 * (a50 - b50) / b50 if b50 else None
            bq, aq = row["before"]["queries_per_request"], row["after"]["queries_per_request"]
            if kind == UNCHANGED and bq is not None and aq is not None and aq < bq:
                row["note"] = "fewer queries (%.1f → %.1f per request), no significant " \
                              "change in time" % (bq, aq)
        rows.append(row)
    order = {SLOWER: 0, FASTER: 1, NEW: 2, GONE: 3, UNCHANGED: 4}
    rows.sort(key=lambda r: (order[r["verdict"]], -abs(r["delta_p50_ms"] or 0.0), r["name"]))
    return {"before": {"requests": len(before.requests),
                       "problems": [p.as_dict() for p in before.problems]},
            "after": {"requests": len(after.requests),
                      "problems": [p.as_dict() for p in after.problems]},
            "settings": {"alpha": alpha, "min_pct": min_pct, "min_ms": min_ms},
            "endpoints": rows}


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


def node_deltas(tree, before_graph, after_graph) -> "list":
    """Per frame of *tree*: Δ of its function's total time per request (after − before), s.

    Frames are sized by one capture; the colour says how the function's time changed between
    the two, normalised per request so that captures of different sizes compare.
    """
    nb, na = max(1, before_graph.requests), max(1, after_graph.requests)
    out = []
    for func in tree.funcs:
        if func is None:
            out.append(0.0)
            continue
        b = before_graph.functions.get(func)
        a = after_graph.functions.get(func)
        out.append((a.cumtime / na if a else 0.0) - (b.cumtime / nb if b else 0.0))
    return out
