"""Group a capture's requests into endpoints, the way the app routes them.

An endpoint's *key* is what the app routes by: the URL rule when the capture sidecar
recorded it, else method + view function (decided in ``view_choice``), else method +
templated path.  Its *name* is what a person reads: method + URL pattern, never a function
name unless two views really share one pattern.  Requests whose view never ran (a decorator
answered first) join the endpoint whose requests had their exact path, or else whose URL
pattern matches their path, when exactly one does; the endpoint says so in ``why``.
Requests whose routing failed (404, 405) and static files are endpoints of their own.
"""
from __future__ import annotations

import weakref
from collections import defaultdict
from dataclasses import replace

from ..model.capture import Capture, Endpoint
from . import view_choice as vc
from .codeloc import shorten
from .templating import VAR, infer_pattern, segments, template_paths

VIEW, PATH, RULE, ROUTING, STATIC = "view", "path", "rule", "routing", "static"


def _route_signatures(requests) -> dict:
    """Request → (method, templated path): the fallback notion of 'the same route'."""
    by_method: dict = defaultdict(list)
    for r in requests:
        if r.url_path is not None:
            by_method[r.method].append(r.url_path)
    templates = {m: template_paths(paths) for m, paths in by_method.items()}
    return {id(r): (r.method, templates[r.method][r.url_path] if r.url_path is not None
                    else None) for r in requests}


_GROUPED: dict = {}   # id(capture) -> (weak reference to it, its endpoints)


def group(capture: Capture) -> list:
    """The capture's endpoints, largest total time first.

    The capture's ``grouping`` decides: ``"view"`` (the rule above) or ``"path"`` (raw
    paths).  Buckets are made at load time to fit the grouping, so switching grouping means
    loading again (which is fast).  A Capture never changes, so its endpoints are computed
    once and shared (the report, the comparison, the findings and the panels all ask; the
    same Endpoint objects also keep scopes equal by identity).
    """
    key = id(capture)
    hit = _GROUPED.get(key)
    if hit is not None and hit[0]() is capture:
        return list(hit[1])
    found = _group(capture)
    _GROUPED[key] = (weakref.ref(capture, lambda _ref, k=key: _GROUPED.pop(k, None)),
                     tuple(found))
    return found


def _group(capture: Capture) -> list:
    signatures = _route_signatures(capture.requests)
    decisions = {}
    if capture.grouping == VIEW:
        flask: dict = defaultdict(list)
        for r in capture.requests:
            if r.bucket[:1] == (VIEW,):
                flask[r.bucket].append(r)
        cumtimes = {b: {k: s.cumtime for k, s in capture.buckets.get(b, {}).items()}
                    for b in flask}
        decisions = vc.decide(flask, signatures, cumtimes)
    members: dict = defaultdict(list)      # endpoint key → requests
    whys: dict = {}
    waiting = []                           # requests whose view never ran
    for r in capture.requests:
        key, why = _key(r, decisions.get(r.bucket), signatures, capture.grouping)
        if key is None:
            waiting.append(r)
            continue
        members[key].append(r)
        whys.setdefault(key, why)
    _split_by_rule_shape(members, whys)
    joined = _join_by_path(waiting, members)
    for key, reqs in joined.items():
        members[key].extend(reqs)
        members[key].sort(key=lambda r: (r.time, r.name))
    placed = {id(r) for reqs in joined.values() for r in reqs}
    leftover = [r for r in waiting if id(r) not in placed]
    templates = _route_signatures(leftover)
    for r in leftover:
        key = (PATH, r.method, templates[id(r)][1])
        members[key].append(r)
        whys.setdefault(key, decisions[r.bucket].why + " No endpoint whose view ran has "
                        "this path, so it is grouped by its templated path.")
    endpoints = [_endpoint(key, reqs, capture, whys[key], joined.get(key, ()))
                 for key, reqs in members.items()]
    endpoints.sort(key=lambda e: (-e.total_ms, e.name))
    return _disambiguate(endpoints)


def _key(r, decision, signatures, grouping) -> tuple:
    """``(endpoint key, why)``, or ``(None, None)`` when the request's view never ran."""
    if r.bucket[:1] == (RULE,):
        return r.bucket, "keyed by the URL rule the capture sidecar recorded."
    if decision is None:
        if grouping == VIEW:
            return (PATH, r.method, signatures[id(r)][1]), (
                "no Flask dispatch in the profile: grouped by templated path.")
        return (PATH, r.method, r.url_path), "grouped by raw path (--group path)."
    if decision.kind in (vc.VIEW, vc.LIBRARY):
        return (VIEW, r.method, decision.view), decision.why
    if decision.kind == vc.ROUTING:
        # The status tells 404 from 405 when the capture sidecar recorded it; a file name
        # alone cannot ('/store/' and '/store' are both named GET.store...).
        return (ROUTING, r.method, r.status), decision.why
    if decision.kind == vc.STATIC:
        first = segments(r.url_path or "")[:1]
        return (STATIC, r.method, "/%s/<path>" % first[0] if first else "/<path>"), decision.why
    return None, None


def _split_by_rule_shape(members, whys) -> None:
    """One view under URL rules of different shapes (``/`` and ``/index``, ``/`` and
    ``/page/<n>``) is one endpoint per rule, as Flask counts them: its paths are split by
    number of segments when each length starts with its own constant segment (or is ``/``).
    ``/files/a`` and ``/files/a/b`` (one ``<path:...>`` rule) stay together."""
    for key in [k for k in members if k[0] == VIEW and len(k) == 3]:
        by_len: dict = defaultdict(list)
        for r in members[key]:
            by_len[len(segments(r.url_path)) if r.url_path is not None else None].append(r)
        if len(by_len) < 2 or None in by_len:
            continue
        firsts = []
        for n, reqs in by_len.items():
            pattern = _patterns({r.url_path for r in reqs})
            firsts.append("" if n == 0 else (pattern[0][0] if pattern else VAR))
        if VAR in firsts or len(set(firsts)) != len(firsts):
            continue
        why = whys.pop(key)
        del members[key]
        for reqs in by_len.values():
            part = key + (_join_segments(_patterns({r.url_path for r in reqs})),)
            members[part] = reqs
            whys[part] = why + " Its paths have different shapes, so each is an endpoint " \
                               "(one view under several URL rules)."


def _join_segments(patterns) -> str:
    return "/" + "/".join(patterns[0]) if patterns else "/"


def _join_by_path(waiting, members) -> dict:
    """``{view endpoint key: [request]}`` for requests whose view never ran: the one view
    endpoint of the same method that had the exact path, else the one whose pattern matches."""
    exact: dict = defaultdict(set)
    patterns: dict = defaultdict(list)
    for key, reqs in members.items():
        if key[0] != VIEW:
            continue
        paths = {r.url_path for r in reqs if r.url_path is not None}
        for p in paths:
            exact[(key[1], p)].add(key)
        for pattern in set(_patterns(paths)):
            if any(s != VAR for s in pattern):   # '/<...>' would match anything
                patterns[(key[1], len(pattern))].append((pattern, key))
    joined: dict = defaultdict(list)
    for r in waiting:
        if r.url_path is None:
            continue
        owners = exact.get((r.method, r.url_path), set())
        if not owners:
            segs = segments(r.url_path)
            owners = {key for pattern, key in patterns.get((r.method, len(segs)), ())
                      if all(p == VAR or p == s for p, s in zip(pattern, segs))}
        if len(owners) == 1:
            joined[next(iter(owners))].append(r)
    return joined


def _patterns(paths) -> list:
    """The segment patterns ``infer_pattern`` would name *paths* by, one per length."""
    by_len: dict = defaultdict(set)
    for p in paths:
        by_len[len(segments(p))].add(segments(p))
    return [tuple(col[0] if len(set(col)) == 1 else VAR for col in zip(*group))
            for n, group in by_len.items() if n]


def _endpoint(key, reqs, capture, why, joined) -> Endpoint:
    kind, method, what = key[:3]
    # buckets in the order their first request came: a set's order follows string hashes,
    # and float sums in another order differ in their last digits from run to run
    buckets = list(dict.fromkeys(r.bucket for r in reqs))
    functions = capture.store.functions_of(buckets)
    view = what if kind == VIEW else None
    if joined:
        why += (" %d request%s never reached the view (a decorator answered first) and "
                "%s tied to it by %s path." % (len(joined), "" if len(joined) == 1 else "s",
                                                "is" if len(joined) == 1 else "are",
                                                "its" if len(joined) == 1 else "their"))
    return Endpoint(key=key, name=_name(kind, method, what, reqs), method=method,
                    view=view, requests=tuple(reqs), functions=functions, why=why,
                    keyed_by=kind)


def _name(kind, method, what, reqs) -> str:
    prefix = "%s " % method if method else ""
    if kind in (RULE, STATIC):
        return prefix + what
    if kind == ROUTING:
        return prefix + ("(%d: no URL rule matched)" % what if what is not None
                         else "(no URL rule matched: 404 or 405)")
    paths = [r.url_path for r in reqs if r.url_path is not None]
    if kind == PATH:
        pattern = what if what is not None else (infer_pattern(paths) if paths else None)
        if pattern is None:
            return prefix + "(unknown request)"
        return prefix + pattern
    if paths:
        return prefix + infer_pattern(paths)
    return prefix + "%s()" % shorten(what[2], 60)




def _disambiguate(endpoints: list) -> list:
    """Two views on one URL pattern (two apps, or a rule per method) get the view's name."""
    seen: dict = defaultdict(int)
    for ep in endpoints:
        seen[ep.name] += 1
    return [replace(ep, name="%s  (%s)" % (ep.name, shorten(ep.view[2], 40)))
            if seen[ep.name] > 1 and ep.view else ep for ep in endpoints]
