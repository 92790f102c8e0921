"""Capture request profiles and their SQL from inside a Flask or WSGI app.

    from profview.capture import init_app
    init_app(app, "profiles/")                  # Flask; finds Flask-SQLAlchemy's engine

    from profview.capture import CaptureMiddleware
    app = CaptureMiddleware(app, "profiles/", engine=engine)   # any WSGI app

This package needs only the standard library and Werkzeug (SQLAlchemy when there is SQL to
record); it imports nothing else from profview, and shares only the on-disk format with it.
"""
from __future__ import annotations

from .middleware import ENVIRON_KEY, CaptureMiddleware
from .store import profile_name
from .sink import QUERIES_FILE, REQUESTS_FILE

__all__ = ["CaptureMiddleware", "init_app", "profile_name", "QUERIES_FILE", "REQUESTS_FILE"]


def init_app(app, profile_dir, *, engine=None, **options) -> CaptureMiddleware:
    """Profile the requests of the Flask *app* into *profile_dir* (created if missing).

    Records the URL rule and endpoint of each request, and the SQL of *engine*, or, when none
    is given, of Flask-SQLAlchemy's engines (found now, or at the first request if the
    extension is set up later).  *options* are CaptureMiddleware's: ``sample``, ``seed``,
    ``slow_ms``, ``max_mb``, ``concurrent``, ``stacks``, ``stack_interval_ms``, ``profile``,
    ``explain``, ``explain_min_ms``, ``explain_repeats``, ``memory``.  Returns the middleware, kept as
    ``app.extensions["profview_capture"]``.
    """
    middleware = CaptureMiddleware(app.wsgi_app, profile_dir, engine=engine, **options)
    app.wsgi_app = middleware
    app.extensions["profview_capture"] = middleware

    def _find_engines() -> None:
        if engine is not None:
            return
        ext = app.extensions.get("sqlalchemy")
        if ext is None:
            return
        with app.app_context():
            engines = getattr(ext, "engines", None)  # Flask-SQLAlchemy 3: every bind
            for e in (engines.values() if engines else [ext.engine]):
                middleware.record_engine(e)

    _find_engines()

    @app.before_request
    def _profview_first_request():
        if not middleware.recorder.engines:
            _find_engines()

    @app.teardown_request
    def _profview_rule(_exc=None):
        from flask import request  # imported here: the package must not need Flask

        state = request.environ.get(ENVIRON_KEY)
        if state is not None:
            state.rule = request.url_rule.rule if request.url_rule is not None else None
            state.endpoint = request.endpoint

    return middleware
