"""Development server or debug mode: Werkzeug's development server, reloader or interactive
debugger running in the profiled requests.

Only what the profiles show counts: a dev server outside the profiler leaves no frames, so no
finding is not proof of a production server.
"""
from __future__ import annotations

from .base import Evidence, Finding, in_module, label

RULE = "dev_server"
DEBUGGER = ("werkzeug/debug/",)
SERVER = ("werkzeug/serving.py", "werkzeug/_reloader.py")
DEBUGGER_FIX = ("Never run the debugger outside development: it lets anyone who reaches it run "
                "code on the server. Serve with debug off (no FLASK_DEBUG, no "
                "app.run(debug=True), no DebuggedApplication).")
SERVER_FIX = ("Werkzeug's development server is meant for development: serve production "
              "traffic with a WSGI server such as Gunicorn, uWSGI or Waitress, behind a proxy.")


def _debugger(key) -> bool:
    return in_module(key, *DEBUGGER)


def _server(key) -> bool:
    return in_module(key, *SERVER)


def check(ctx, settings) -> list:
    out = []
    for kind, picks in (("debugger", _debugger), ("server", _server)):
        picked = ctx.picks(picks)
        hits = [(ep, k, ep.functions[k]) for ep in ctx.endpoints for k in ep.functions
                if k in picked]
        if hits:
            out.append(_finding(kind, hits, ctx, settings))
    return out


def _finding(kind, hits, ctx, settings) -> Finding:
    endpoints = []
    for ep, _k, _s in hits:
        if ep.name not in endpoints:
            endpoints.append(ep.name)
    eps = [ep for ep in ctx.endpoints if ep.name in endpoints]
    n_requests = sum(len(ep.requests) for ep in eps)
    # The outermost frames (most cumulative time) are the ones a person recognises.
    top = {}
    for _ep, k, s in hits:
        top[k] = top.get(k, 0.0) + s.cumtime
    frames = sorted(top, key=lambda k: -top[k])[:4]
    evidence = [Evidence("function", "%s — in the profiles" % label(k), func=k)
                for k in frames]
    evidence.append(Evidence("metric", "%d of %d requests, %d endpoint%s" % (
        n_requests, len(ctx.capture.requests), len(endpoints), "" if len(endpoints) == 1
        else "s")))
    requests = [r for ep in eps for r in ep.requests][:settings.max_listed_requests]
    debugger = kind == "debugger"
    return Finding(
        rule=RULE, severity="high" if debugger else "medium",
        title="Werkzeug debugger in the request path" if debugger
        else "Werkzeug development server",
        summary=("Werkzeug's interactive debugger (werkzeug.debug) runs in %s: the app is in "
                 "debug mode." if debugger else
                 "Werkzeug's development server frames appear in %s.")
        % ("1 profiled request" if n_requests == 1 else "%d profiled requests" % n_requests),
        endpoints=tuple(endpoints), requests=tuple(str(r.file) for r in requests),
        evidence=tuple(evidence), fix=DEBUGGER_FIX if debugger else SERVER_FIX)
