"""Real captures for the findings tests: small Flask apps run through the test client under
Werkzeug's ProfilerMiddleware, then loaded as profview loads any directory.

The apps give the profiles their structure; their times come from the virtual clock of
``profiles`` (see there), so no finding depends on how busy the machine is."""
from __future__ import annotations

from pathlib import Path

from profiles import CLOCK, capture_flask
from profview.analysis.endpoints import group
from profview.analysis.findings import Settings, find
from profview.loading.reread import request_graph
from profview.loading.scan import load_capture


def run_app(out_dir: Path, app, requests, wrap=None, charges=None):
    """Send ``[path | (method, path)]`` through *app* (wrapped by *wrap* inside the
    profiler), give the built-ins named in *charges* their cost (``profiles.charge``) and
    return the loaded Capture."""
    if wrap is not None:
        app.wsgi_app = wrap(app.wsgi_app)
    reqs = [("GET", r, None) if isinstance(r, str) else (r[0], r[1], None) for r in requests]
    statuses = capture_flask(out_dir, app, reqs, charges)
    assert all(s < 500 for s in statuses), statuses
    return load_capture([out_dir], workers=1)


def findings(capture, rule=None, settings=Settings()):
    """The findings of *capture*, only *rule*'s when given."""
    found = find(capture, group(capture), settings, read=request_graph)
    return [f for f in found if rule is None or f.rule == rule]


def by_endpoint(found) -> dict:
    return {name: f for f in found for name in f.endpoints}


def spin(ms: float) -> int:
    """CPU work that costs *ms* milliseconds on the virtual clock (its self time)."""
    CLOCK.ns += int(ms * 1e6)
    return int(ms)


def crunch(n: int = 2_000, ms: float = 8.0) -> int:
    """Deterministic pure work: the same calls, and *ms* milliseconds, every time."""
    total = 0
    for i in range(n):
        total += (i * i) % 7
    CLOCK.ns += int(ms * 1e6)
    return total


SQL_MS = 0.25   # what each statement costs on the virtual clock and in the query log


def run_sql_app(out_dir: Path, app, engine, requests, sql_ms: float = SQL_MS):
    """Like ``run_app`` for an app on SQLAlchemy *engine*: every statement's cursor execute
    is charged *sql_ms* (``profiles.charge``), and ``queries.jsonl`` beside the profiles
    logs each statement with that duration and its request's profile, as
    ``profview.capture`` would.  Returns the loaded Capture."""
    import json

    from sqlalchemy import event

    per_request, current = [], []

    @event.listens_for(engine, "before_cursor_execute")
    def _log(conn, cursor, statement, parameters, context, executemany):
        current.append((statement, repr(parameters)))

    reqs = [("GET", r, None) if isinstance(r, str) else (r[0], r[1], None) for r in requests]
    statuses = []

    class Cut:   # one list of statements per request, in request order
        def __init__(self, wsgi):
            self.wsgi = wsgi

        def __call__(self, environ, start_response):
            current.clear()
            try:
                return self.wsgi(environ, start_response)
            finally:
                per_request.append(list(current))

    app.wsgi_app = Cut(app.wsgi_app)
    # charge() shares a built-in's added time out to its callers by call counts, not by
    # path: sql_ms=0 keeps the profile's times exactly as the virtual clock measured them.
    statuses = capture_flask(out_dir, app, reqs,
                             {"execute' of 'sqlite3.Cursor": sql_ms} if sql_ms else None)
    assert all(s < 500 for s in statuses), statuses
    event.remove(engine, "before_cursor_execute", _log)
    files = sorted(out_dir.glob("*.prof"), key=lambda p: int(p.name.split(".")[-2]))
    assert len(files) == len(per_request)
    with open(out_dir / "queries.jsonl", "w") as log:
        for prof, statements in zip(files, per_request):
            for statement, params in statements:
                log.write(json.dumps({"statement": statement, "parameters": params,
                                      "duration_s": sql_ms / 1000.0,
                                      "profile_file": prof.name})
                          + "\n")
    return load_capture([out_dir], workers=1)
