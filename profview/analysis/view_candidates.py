"""What one request profile says about its Flask view: the facts ``endpoints`` decides from.

Flask's ``dispatch_request`` calls ``view_functions[rule.endpoint](**view_args)``: the view,
or the outermost of the decorators wrapped around it.  From the profile's call edges this
module lists, per request:

- the application functions reached from ``dispatch_request`` through library frames only
  (decorators, class-based view dispatch, ``marshal_with``-style wrappers), each with the
  number of library frames on the shortest way there (``lib_hops``): the view is among them,
  and so are callbacks a library decorator makes into the app (a user loader, a token check)
  and hooks a serializer calls after the view returned; those are reached through more
  library frames;
- the application functions those call directly, a few levels deep (``app_depth``): the view
  behind a decorator written in the app;
- the library functions ``dispatch_request`` calls itself (``kind="library"``): a view that is
  library code (Flask's static files, an OpenAPI page), or a wrapper whose view never ran;
- markers: the routing failed (``kind="routing"``: 404, 405, a redirect), a static file was
  served (``kind="static"``).

Compiled templates (Jinja's ``root``, ``block_*``, ``<module>`` in ``templates/*.html``) are
app files but never views, and nothing below them is looked at.  Which candidate is the view is
decided with the whole capture in view (``endpoints.resolve``).
"""
from __future__ import annotations

from collections import deque

from ..model.request import ViewCandidate
from .codeloc import APP, BUILTIN, classify, is_flask_dispatch

MAX_APP_DEPTH = 3
# Called by dispatch_request itself on every request; never a view.
_FLASK_PLUMBING = {"ensure_sync", "raise_routing_exception", "make_default_options_response",
                   "__get__", "_get_current_object", "iscoroutinefunction"}
_CODE_SUFFIXES = (".py", ".pyw", ".pyx")


def is_code(filename: str) -> bool:
    """False for functions compiled from something other than a Python file: templates
    (``templates/index.html``, ``<template>``), which are never views."""
    name = filename.replace("\\", "/")
    return name.lower().endswith(_CODE_SUFFIXES) and "/templates/" not in name


_KINDS: dict = {}   # file name → its kind; the same few hundred files in every profile


def find_candidates(stats: dict, children) -> tuple:
    """``(is_flask, candidates)`` for a validated pstats dict and its callee index
    (``{caller: [callees]}``, or a function that makes it: called only for Flask)."""
    dispatch = [k for k in stats if k[2] == "dispatch_request" and is_flask_dispatch(k)]
    if not dispatch:
        return False, frozenset()
    if callable(children):
        children = children()
    kinds = _KINDS
    if len(kinds) > 100_000:   # a bound, for a process that reads many apps' profiles
        kinds.clear()

    def kind(key):
        k = kinds.get(key[0])
        if k is None:
            k = classify(key[0])[0]
            if k == APP and not is_code(key[0]):
                k = "template"
            kinds[key[0]] = k
        return k

    found = set()
    for d in dispatch:
        for child in children.get(d, ()):
            if child[2] == "raise_routing_exception":
                found.add(ViewCandidate(child, 0, 0, kind="routing"))
            elif kind(child) not in (APP, BUILTIN, "template") and (
                    child[2] not in _FLASK_PLUMBING):
                found.add(ViewCandidate(child, 0, 0, kind="library"))
    for key in stats:
        if key[2] == "send_static_file" and classify(key[0])[1] == "flask":
            found.add(ViewCandidate(key, 0, 0, kind="static"))
    hops = _frontier(dispatch, children, kind)
    found |= {ViewCandidate(f, h, 0) for f, h in hops.items()}
    found |= _below(hops, children, kind)
    return True, frozenset(found)


def _frontier(dispatch, children, kind) -> dict:
    """``{app function: library frames on the shortest way from dispatch_request}``:
    breadth-first through library frames; the first app frame on each path is kept."""
    hops: dict = {}
    seen = set(dispatch)
    queue = deque((d, 0) for d in dispatch)
    while queue:
        node, depth = queue.popleft()
        for child in children.get(node, ()):
            k = kind(child)
            if k == APP:
                if child not in hops:
                    hops[child] = depth
            elif k != "template" and child not in seen:
                seen.add(child)
                queue.append((child, depth + 1))
    return hops


def _below(hops: dict, children, kind) -> set:
    """Application functions the frontier calls directly, up to MAX_APP_DEPTH levels: the
    view behind a decorator written in the app is one of them."""
    found = set()
    level = set(hops)
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
    return found
