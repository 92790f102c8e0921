"""Which function is each request's Flask view, decided with the whole capture in view.

The rule follows what Flask does: ``dispatch_request`` calls the registered view function,
directly or through the decorators around it.  So, per bucket of requests (requests with
the same view candidates, see ``views``):

1. **The first application function reached.**  Among the application functions reached
   from ``dispatch_request`` through library frames only, the view is the one with the
   fewest library frames on the way (decorators, ``MethodView.dispatch_request``, resource
   classes, ``marshal_with`` wrappers).  Ties go to the function seen under fewer routes
   (a view is specific to its route), then to the larger cumulative time.
2. **Callbacks are not views.**  A function that, in some request, was reached through
   *more* library frames than that request's view (a user loader, a token check, a
   serializer hook) is a callback; so is one first reached under several routes, behind
   the same library wrappers and through more library frames than any route-specific view
   those wrappers lead to (the error handler an auth decorator calls when it refuses, the
   locale selector a login redirect reaches), and one reached at the same depth as a
   callback of its request.  A request in which only callbacks ran never reached its
   view (a decorator answered first, e.g. with 401): its view is "not reached".
3. **Wrappers are not views.**  A library function ``dispatch_request`` calls, in requests
   whose view is found, is a wrapper (``View.as_view``'s closure, an auth decorator); a
   request with only such wrappers never reached its view either.  A library function that
   is never a wrapper is a view written in a library (Flask's static files, an OpenAPI page).
4. **Decorators written in the app.**  When the first application function serves several
   URL paths and, in each of its requests, calls an application function seen under that
   path only, it is a decorator's wrapper and the view is that function (repeated for
   stacked decorators).  A function the view itself calls is never the view: nothing else
   below the view is looked at.
5. Requests whose routing failed (404, 405) and static files are their own endpoints.

Each decision carries a sentence saying why, for the endpoint's tooltip and the JSON report.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Optional

from ..model.callgraph import FuncKey, format_func
from .codeloc import short_path

VIEW, LIBRARY, ROUTING, STATIC, NOT_REACHED = (
    "view", "library view", "routing failed", "static", "view not reached")
MAX_DECORATORS = 4


@dataclass(frozen=True)
class Decision:
    """What a bucket's requests ran: ``kind`` (one of the constants above), the view function
    when one is known, and why, in a sentence."""

    kind: str
    view: Optional[FuncKey]
    why: str


def where(func: FuncKey) -> str:
    """``name (file:line)`` with the file shortened, for explanations."""
    return "%s (%s:%d)" % (func[2], short_path(func[0], 50), func[1])


def decide(buckets: dict, signatures: dict, cumtimes: dict) -> dict:
    """``{bucket: Decision}`` for the Flask buckets ``("view", method, candidates)``.

    *buckets* maps each bucket to its requests, *signatures* maps ``id(request)`` to its
    ``(method, templated path)``, *cumtimes* maps a bucket to ``{FuncKey: cumtime}``.
    """
    routes: dict = defaultdict(set)
    for bucket, reqs in buckets.items():
        for c in _frontier(bucket):
            routes[c.func].update(signatures[id(r)] for r in reqs)
    tentative = {b: _first_reached(b, routes, cumtimes.get(b, {})) for b in buckets}
    callbacks = _callbacks(tentative)
    callbacks |= _tied_with_callbacks(tentative, callbacks)
    views = {b: (c.func if c is not None and c.func not in callbacks else None)
             for b, c in tentative.items()}
    callbacks |= _deeper_than_views(buckets, signatures, tentative, views)
    views = {b: (v if v not in callbacks else None) for b, v in views.items()}
    wrappers = {c.func for b, v in views.items() if v is not None
                for c in b[2] if c.kind == "library"}
    views, through = _see_through_decorators(buckets, views, signatures, cumtimes)
    return {b: _decision(b, views[b], tentative[b], callbacks, wrappers, through.get(b, ()))
            for b in buckets}


def _frontier(bucket) -> list:
    return [c for c in bucket[2] if c.kind == "app" and c.app_depth == 0]


def _first_reached(bucket, routes: dict, cumtime: dict):
    frontier = _frontier(bucket)
    if not frontier:
        return None
    return min(frontier, key=lambda c: (c.lib_hops, len(routes.get(c.func, ())),
                                        -cumtime.get(c.func, 0.0), c.func))


def _callbacks(tentative: dict) -> set:
    """Functions reached through more library frames than the view of their request."""
    found = set()
    for bucket, chosen in tentative.items():
        if chosen is not None:
            found.update(c.func for c in _frontier(bucket) if c.lib_hops > chosen.lib_hops)
    return found


def _tied_with_callbacks(tentative: dict, callbacks: set) -> set:
    """A function first reached at the same depth as a known callback of the same request
    is a callback too (an auth library's error handler beside its token check): a view is
    reached through fewer library frames than the callbacks around it."""
    return {chosen.func for b, chosen in tentative.items()
            if chosen is not None and chosen.func not in callbacks
            and any(c.func in callbacks and c.lib_hops == chosen.lib_hops
                    for c in _frontier(b))}


def _wrappers_of(bucket) -> frozenset:
    return frozenset(c.func for c in bucket[2] if c.kind == "library")


def _deeper_than_views(buckets, signatures, tentative: dict, views: dict) -> set:
    """Functions first reached under several routes, behind the same library wrappers and
    through more library frames than any route-specific view those wrappers lead to: what
    a decorator calls back into when it answers without the view (flask-login's redirect to
    the login page reaching the app's locale selector, an auth library's error handler)."""
    spread: dict = defaultdict(set)
    for b, v in views.items():
        if v is not None:
            spread[v].update(signatures[id(r)] for r in buckets[b])
    deepest: dict = {}
    for b, v in views.items():
        if v is not None and len(spread[v]) == 1:
            sig = _wrappers_of(b)
            deepest[sig] = max(deepest.get(sig, 0), tentative[b].lib_hops)
    found = set()
    for b, v in views.items():
        sig = _wrappers_of(b)
        if (v is not None and len(spread[v]) >= 2 and sig in deepest
                and tentative[b].lib_hops > deepest[sig]):
            found.add(v)
    return found


def _see_through_decorators(buckets, views, signatures, cumtimes) -> tuple:
    """Step 4 of the module docstring: ``(views, {bucket: (wrapper, ...)})``."""
    through: dict = defaultdict(tuple)
    for _ in range(MAX_DECORATORS):
        by_view: dict = defaultdict(list)
        for b, v in views.items():
            if v is not None:
                by_view[v].append(b)
        changed = False
        for wrapper, bs in by_view.items():
            inner = _inner_views(wrapper, bs, buckets, signatures, cumtimes)
            if inner:
                for b, v in inner.items():
                    views[b] = v
                    through[b] = through[b] + (wrapper,)
                changed = True
        if not changed:
            break
    return views, through


def _inner_views(wrapper, bs, buckets, signatures, cumtimes) -> dict:
    """``{bucket: view}`` when *wrapper* is a decorator's wrapper (it serves several paths
    and, in every request, calls an app function seen under that request's path only)."""
    children = {b: {c.func for c in b[2] if c.kind == "app" and c.parent == wrapper}
                for b in bs}
    paths = {b: {signatures[id(r)][1] for r in buckets[b]} for b in bs}
    if len(set().union(*paths.values())) < 2:
        return {}
    seen_under: dict = defaultdict(set)
    for b in bs:
        for child in children[b]:
            seen_under[child] |= paths[b]
    inner = {}
    for b in bs:
        specific = [c for c in children[b] if len(seen_under[c]) == 1]
        if not specific:
            return {}
        cum = cumtimes.get(b, {})
        inner[b] = max(specific, key=lambda c: (cum.get(c, 0.0), c))
    return inner


def _decision(bucket, view, chosen, callbacks, wrappers, through) -> Decision:
    marks = {c.kind: c for c in bucket[2] if c.kind in ("routing", "static")}
    if view is not None:
        hops = chosen.lib_hops
        why = ("view %s: the first application function Flask's dispatch_request reaches "
               "(through %d library frame%s)" % (where(view), hops, "" if hops == 1 else "s"))
        if through:
            why += ", seen through the app's decorator %s" % ", ".join(where(w) for w in through)
        skipped = sorted({c.func for c in _frontier(bucket) if c.func in callbacks})
        if skipped:
            why += "; not the view: %s, reached later through more library frames " \
                   "(callbacks)" % ", ".join(f[2] for f in skipped[:3])
        return Decision(VIEW, view, why + ".")
    if "routing" in marks:
        return Decision(ROUTING, None, "dispatch_request raised the routing exception: no URL "
                                       "rule matched the path for this method (404 or 405).")
    if "static" in marks:
        return Decision(STATIC, marks["static"].func,
                        "Flask's static file view (send_static_file).")
    library = sorted(c.func for c in bucket[2] if c.kind == "library" and c.func not in wrappers)
    if library:
        return Decision(LIBRARY, library[0], "view %s: library code dispatch_request calls "
                        "that never wraps an application view." % format_func(library[0]))
    # sorted: the candidates come from a set, and the text must not change between runs
    ran = [c.func[2] for c in sorted(_frontier(bucket),
                                     key=lambda c: (c.lib_hops, c.func))][:3]
    return Decision(NOT_REACHED, None, "the view never ran: a decorator or check answered "
                    "first (e.g. 401)%s." % (" after calling back into %s" % ", ".join(ran)
                                             if ran else ""))
