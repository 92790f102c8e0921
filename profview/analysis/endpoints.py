"""Group a capture's requests into endpoints, the way the app routes them.

Flask requests are keyed by method + view function.  The view is the application function
that ``dispatch_request`` reaches (through decorator wrappers); the difficulty is that auth
callbacks (a user loader, a password verifier) and app-level decorator wrappers are also
application functions below ``dispatch_request``.  A view is specific to its route, a callback
or a wrapper shows up under many routes: so each candidate is scored by how many distinct
routes (templated paths) it appears under across the *whole* capture, and the most specific one
wins.  Requests without Flask frames fall back to URL templating.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from ..model.callgraph import sum_stats
from ..model.capture import Capture, Endpoint
from .codeloc import shorten
from .templating import infer_pattern, template_paths

VIEW, PATH, RULE = "view", "path", "rule"


def _route_signatures(requests) -> dict:
    """Request → (method, templated path): the fallback notion of 'the same route'."""
    by_method: dict = defaultdict(list)
    for r in requests:
        if r.url_path is not None:
            by_method[r.method].append(r.url_path)
    templates = {m: template_paths(paths) for m, paths in by_method.items()}
    return {id(r): (r.method, templates[r.method][r.url_path] if r.url_path is not None
                    else None) for r in requests}


def choose_view(candidates, routes: dict, cumtime: dict):
    """The view among a bucket's candidates (see the module docstring for the rule)."""
    def n(func):
        return len(routes.get(func, ()))

    frontier = [c for c in candidates if c.app_depth == 0]
    if not frontier:
        return None
    best = min(frontier, key=lambda c: (n(c.func), c.lib_hops, -cumtime.get(c.func, 0.0),
                                        c.func))
    view = best.func
    for _ in range(len(candidates)):
        # An app-level decorator: its wrapper is the frontier, the view one level below it.
        kids = [c for c in candidates if c.parent == view]
        if not kids:
            break
        kid = min(kids, key=lambda c: (n(c.func), -cumtime.get(c.func, 0.0), c.func))
        if n(kid.func) >= n(view):
            break
        view = kid.func
    return view


def _name(method, view, requests, pattern=None) -> str:
    paths = [r.url_path for r in requests if r.url_path is not None]
    if pattern is None and paths:
        pattern = infer_pattern(paths)
    if pattern is None:
        pattern = "%s()" % shorten(view[2], 60) if view else "(unknown request)"
    return "%s %s" % (method, pattern) if method else pattern


def group(capture: Capture) -> list:
    """The capture's endpoints, largest total time first.

    The capture's ``grouping`` decides: ``"view"`` (method + view function, else templated
    path) or ``"path"`` (raw paths).  Buckets are made at load time to fit the grouping, so
    switching grouping means loading again (which is fast).
    """
    grouping = capture.grouping
    signatures = _route_signatures(capture.requests)
    members: dict = defaultdict(list)      # endpoint key → requests
    parts: dict = defaultdict(dict)        # endpoint key → {bucket: stats}
    views: dict = {}                       # bucket → view function
    if grouping == VIEW:
        routes: dict = defaultdict(set)
        for r in capture.requests:
            if r.bucket[0] == VIEW:
                for c in r.bucket[2]:
                    routes[c.func].add(signatures[id(r)])
        for bucket, funcs in capture.buckets.items():
            if bucket[0] == VIEW:
                cum = {k: s.cumtime for k, s in funcs.items()}
                views[bucket] = choose_view(bucket[2], routes, cum)
    for r in capture.requests:
        view = views.get(r.bucket)
        if r.bucket[0] == RULE:
            key = r.bucket
        elif view is not None:
            key = (VIEW, r.method, view)
        elif grouping == VIEW:
            key = (PATH, r.method, signatures[id(r)][1])
        else:
            key = (PATH, r.method, r.url_path)
        members[key].append(r)
        parts[key][r.bucket] = capture.buckets.get(r.bucket, {})
    endpoints = []
    for key, reqs in members.items():
        view = key[2] if key[0] == VIEW else None
        pattern = None if key[0] == VIEW else key[2]
        endpoints.append(Endpoint(
            key=key, name=_name(key[1], view, reqs, pattern), method=key[1], view=view,
            requests=tuple(reqs), functions=sum_stats(parts[key].values())))
    endpoints.sort(key=lambda e: (-e.total_ms, e.name))
    return _disambiguate(endpoints)


def _disambiguate(endpoints: list) -> list:
    """Two views on one URL pattern (two apps, or a rule per method) get the view's name."""
    seen: dict = defaultdict(int)
    for ep in endpoints:
        seen[ep.name] += 1
    return [replace(ep, name="%s  (%s)" % (ep.name, shorten(ep.view[2], 40)))
            if seen[ep.name] > 1 and ep.view else ep for ep in endpoints]
