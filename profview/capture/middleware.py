"""Capture complete, exact request profiles: Werkzeug's ProfilerMiddleware plus sidecars.

``ProfilerMiddleware`` does the profiling; this adds what it loses.  File names keep Werkzeug's
shape (``GET.user.alice.23ms.1795313503.4f1c9a2b7d3e.prof``) with a request id before
``.prof``, so two requests in the same second never overwrite each other; and each request is
described in ``requests.jsonl`` (exact path, query string, status, full-resolution times, the
Flask URL rule) with its SQL in ``queries.jsonl``.  See the README for the format.
"""
from __future__ import annotations

import os
import re
import secrets
from typing import Optional

from werkzeug.middleware.profiler import ProfilerMiddleware

from .sink import JsonlSink
from .sql import CURRENT, QueryRecorder

ENVIRON_KEY = "profview.capture"
MAX_PATH_CHARS = 120       # file names stay well under the usual 255-byte limit
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"\\|?*]')


class _RequestState:
    __slots__ = ("id", "queries", "status", "rule", "endpoint")

    def __init__(self):
        self.id = secrets.token_hex(6)
        self.queries: list = []
        self.status: Optional[int] = None
        self.rule: Optional[str] = None
        self.endpoint: Optional[str] = None


def _wsgi_text(value: str) -> str:
    """WSGI strings are latin-1 decoded bytes (PEP 3333); give back the real text."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def profile_name(method: str, path_info: str, elapsed_ms: float, end: float,
                 request_id: str) -> str:
    """Werkzeug's default name with a request id before ``.prof``, made safe for any disk."""
    path = path_info.strip("/").replace("/", ".") or "root"
    path = _UNSAFE.sub("_", path)[:MAX_PATH_CHARS]
    method = _UNSAFE.sub("_", method)[:16] or "UNKNOWN"
    return "%s.%s.%.0fms.%.0f.%s.prof" % (method, path, elapsed_ms, end, request_id)


class CaptureMiddleware:
    """Wrap any WSGI app: one profile per request, plus ``requests.jsonl``/``queries.jsonl``.

    *engine*: a SQLAlchemy engine (or several, or anything with ``.engine``) whose statements
    are recorded; call :meth:`record_engine` later for more.
    """

    def __init__(self, wsgi_app, profile_dir: str, *, engine=None):
        self.profile_dir = os.fspath(profile_dir)
        self.sink = JsonlSink(self.profile_dir)
        self.recorder = QueryRecorder(self.sink.write_queries)
        self._profiler = ProfilerMiddleware(wsgi_app, stream=None, profile_dir=self.profile_dir,
                                            filename_format=self._finish)
        for e in engine if isinstance(engine, (list, tuple)) else [engine]:
            if e is not None:
                self.record_engine(e)

    @property
    def wsgi_app(self):
        """The wrapped application."""
        return self._profiler._app

    def record_engine(self, engine) -> None:
        """Record the SQL of *engine* too."""
        self.recorder.attach(engine)

    def __call__(self, environ, start_response):
        state = _RequestState()
        environ[ENVIRON_KEY] = state

        def recording_start_response(status, headers, exc_info=None):
            try:
                state.status = int(status.split(" ", 1)[0])
            except ValueError:
                state.status = None
            return start_response(status, headers, exc_info)

        token = CURRENT.set(state)
        try:
            return self._profiler(environ, recording_start_response)
        except BaseException:
            self.sink.write_queries(state.queries)   # the app raised: no profile was written
            raise
        finally:
            CURRENT.reset(token)

    def _finish(self, environ) -> str:
        """Called by ProfilerMiddleware after the request with the timings: name the profile
        and write the request's sidecar lines."""
        state: _RequestState = environ[ENVIRON_KEY]
        timing = environ["werkzeug.profiler"]
        elapsed_ms, end = timing["elapsed"], timing["time"]
        name = profile_name(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
                            elapsed_ms, end, state.id)
        for q in state.queries:
            q["profile"] = name
        self.sink.write_request({
            "id": state.id,
            "method": environ.get("REQUEST_METHOD"),
            "path": _wsgi_text(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
            or "/",
            "query": _wsgi_text(environ.get("QUERY_STRING", "")),
            "rule": state.rule,
            "endpoint": state.endpoint,
            "status": state.status,
            "start": end - elapsed_ms / 1000.0,
            "elapsed_ms": elapsed_ms,
            "profile": name,
        }, state.queries)
        return name
