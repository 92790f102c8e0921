"""Find the functions of one request profile that may be its Flask view.

In a Flask request the view is called by ``Flask.dispatch_request``, possibly through decorator
wrappers.  This module lists, per profile, the application functions reached from
``dispatch_request`` through library frames only (the *frontier*), and the application functions
those call directly (a few levels: app-level decorators wrap the view).  Which of them is the
view is decided later, with the whole capture in view (``endpoints.choose_view``): a view is
specific to its route, a callback or a wrapper shows up under many routes.
"""
from __future__ import annotations

from collections import deque

from ..model.request import ViewCandidate
from .codeloc import APP, BUILTIN, classify, is_flask_dispatch

MAX_APP_DEPTH = 3
# Called by dispatch_request itself on every request; never a view.
_FLASK_PLUMBING = {"ensure_sync", "raise_routing_exception", "make_default_options_response"}


def find_candidates(stats: dict, children: dict) -> tuple:
    """``(is_flask, candidates)`` for a validated pstats dict and its callee index."""
    dispatch = [k for k in stats if k[2] == "dispatch_request" and is_flask_dispatch(k)]
    if not dispatch:
        return False, frozenset()
    kinds = {}

    def kind(key):
        k = kinds.get(key[0])
        if k is None:
            k = kinds[key[0]] = classify(key[0])[0]
        return k

    # Breadth-first through library frames: the first app frame on each path is a candidate.
    hops: dict = {}
    seen = set(dispatch)
    queue = deque((d, 0) for d in dispatch)
    while queue:
        node, depth = queue.popleft()
        for child in children.get(node, ()):
            if kind(child) == APP:
                if child not in hops:
                    hops[child] = depth
            elif child not in seen:
                seen.add(child)
                queue.append((child, depth + 1))
    found = {ViewCandidate(f, h, 0) for f, h in hops.items()}
    if not found:
        # A view that is not app code (e.g. Flask's static files): its direct library callee.
        found = {ViewCandidate(c, 0, 0)
                 for d in dispatch for c in children.get(d, ())
                 if kind(c) != BUILTIN and c[2] not in _FLASK_PLUMBING}
    # Application functions called directly by candidates: the view behind an app decorator.
    level = {c.func for c in found}
    known = set(level)
    for depth in range(1, MAX_APP_DEPTH + 1):
        nxt = set()
        for parent in level:
            for child in children.get(parent, ()):
                if child not in known and kind(child) == APP:
                    found.add(ViewCandidate(child, hops.get(parent, 0), depth, parent))
                    nxt.add(child)
        known |= nxt
        level = nxt
    return True, frozenset(found)
