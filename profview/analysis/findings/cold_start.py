"""Cold start: one request (usually the first) far slower than the rest of its endpoint
because it did one-time work: imports, or initialisation done lazily inside a request (a model
loaded on first use, a cache filled, a connection set up).

The outlier is compared with the endpoint's other requests: the functions it ran that none of
the others ran, and the import machinery's time, must explain most of the extra time, or it is
just a slow request and no finding is made.
"""
from __future__ import annotations

from ..codeloc import classify
from ..stats import format_ms
from .base import (Evidence, Finding, function_evidence, in_module, label, median,
                   request_evidence)

RULE = "cold_start"
FIX = ("Do the one-time work at start-up, not in a request: import at module level and load or "
       "initialise in create_app (or a warm-up request before the worker takes traffic), so "
       "no user pays for it; every new worker process pays it once.")
EXPLAINED = 0.5   # the new work must explain at least half of the extra time


def check(ctx, settings) -> list:
    out = []
    for ep in ctx.endpoints:
        if len(ep.requests) >= settings.cold_min_requests:
            finding = _endpoint(ctx, ep, settings)
            if finding:
                out.append(finding)
    return out


def _import_ms(functions) -> float:
    """Time in the import system: ``_find_and_load`` has one entry and cProfile does not
    count recursive calls twice in cumtime, so this is exact."""
    # keys first: a kept graph makes a Stats only for the entries read
    return 1000.0 * sum(functions[k].cumtime for k in functions
                        if k[2] == "_find_and_load" and in_module(k, "importlib"))


def _new_entries(outlier, others, graph) -> list:
    """``[(key, ms)]``: app or package functions only the outlier ran, called from functions
    the others ran too (the entry points of the one-time work), most time first."""
    seen = set().union(*(set(f) for f in others))
    new = {k for k in outlier if k not in seen}
    entries = []
    for key in new:
        if classify(key[0])[0] not in ("app", "package"):
            continue
        callers = set(graph.callers(key)) if hasattr(graph, "callers") else set()
        if callers and not (callers & new):
            entries.append((key, 1000.0 * outlier[key].cumtime))
    return sorted(entries, key=lambda e: -e[1])


def _where_it_goes(outlier, new: set, graph, extra: float) -> list:
    """The deepest new functions still holding half the extra time: where the one-time work
    actually happens (a model's constructor under the import that triggered it)."""
    big = {k for k in new if classify(k[0])[0] in ("app", "package")
           and 1000.0 * outlier[k].cumtime >= 0.5 * extra}
    callees = getattr(graph, "callees", lambda _k: ())
    deepest = [k for k in big if not (set(callees(k)) & big)]
    return sorted(((k, 1000.0 * outlier[k].cumtime) for k in deepest), key=lambda e: -e[1])


def _endpoint(ctx, ep, settings):
    reqs = list(ep.requests)
    worst = max(reqs, key=lambda r: r.elapsed_ms)
    rest = [r.elapsed_ms for r in reqs if r is not worst]
    typical = median(rest)
    extra = worst.elapsed_ms - typical
    if (typical <= 0 or worst.elapsed_ms < settings.cold_factor * typical
            or extra < settings.cold_min_ms):
        return None
    graph = ctx.request_data(worst)
    sample = [r for r in ctx.sample(ep) if r is not worst][:10]
    others = [f for f in (ctx.request_functions(r) for r in sample) if f is not None]
    if graph is None or not others:
        return None
    outlier = getattr(graph, "functions", graph)
    imports = _import_ms(outlier) - median([_import_ms(f) for f in others])
    entries = [e for e in _new_entries(outlier, others, graph) if e[1] >= 0.05 * extra]
    # Imports may sit inside the new entries (a lazy import in load_model): take the larger,
    # never the sum, so the explained time is a lower bound.
    explained = max(imports, entries[0][1] if entries else 0.0)
    if explained < EXPLAINED * extra:
        return None
    first = worst is reqs[0]
    which = "The first request" if first else "One request"
    evidence = [request_evidence(worst, " (%s)" % ("first of %d" % len(reqs) if first
                                                  else "%d of %d" % (reqs.index(worst) + 1,
                                                                     len(reqs)))),
                Evidence("metric", "the other %d requests: median %s" % (len(rest),
                                                                        format_ms(typical)))]
    if imports >= 0.05 * extra:
        evidence.append(Evidence("metric", "imports: %s more than in the other requests" %
                                 format_ms(imports)))
    shown = entries[:3]
    seen = set().union(*(set(f) for f in others))
    new = {k for k in outlier if k not in seen}
    shown += [e for e in _where_it_goes(outlier, new, graph, extra)[:2]
              if e[0] not in {k for k, _ms in shown}]
    evidence += [function_evidence(k, ms, worst.elapsed_ms, extra=", only in this request")
                 for k, ms in shown]
    what = "imports" if imports >= explained else label(entries[0][0])
    return Finding(
        rule=RULE, severity="medium" if extra >= settings.high_ms else "low",
        title="Cold start in %s" % ep.name,
        summary="%s of %s took %s, %.0fx the median of the other %d (%s); at least %s of the "
                "extra %s is one-time work (%s)." % (
                    which, ep.name, format_ms(worst.elapsed_ms), worst.elapsed_ms / typical,
                    len(rest), format_ms(typical), format_ms(explained), format_ms(extra), what),
        endpoints=(ep.name,), requests=(str(worst.file),), evidence=tuple(evidence), fix=FIX,
        cost_ms=extra, stake_requests=1)
