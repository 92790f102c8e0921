"""Record SQLAlchemy statements with their exact duration and the request that ran them.

Uses the engine's ``before_cursor_execute`` / ``after_cursor_execute`` events: the time between
them is the driver's execute call (row fetching excluded).  SQLAlchemy is imported only when an
engine is attached, so apps without it never load it.
"""
from __future__ import annotations

import sys
import sysconfig
import time
from contextvars import ContextVar
from typing import Callable, Optional

MAX_PARAMETERS = 2000     # characters of repr(parameters) kept per query
# The request being served by this thread/task: set by the middleware, read by the recorder.
CURRENT: ContextVar = ContextVar("profview_capture_request", default=None)

_HERE = __file__.rsplit("capture", 1)[0]
_LIBRARY = tuple(p for p in {sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib")}
                 if p) + (_HERE,)


_LIBRARY_FILES: dict = {}   # file name → True for library code; grows with distinct files


def _is_library(filename: str) -> bool:
    return (filename.startswith("<") or "site-packages" in filename
            or "dist-packages" in filename or filename.startswith(_LIBRARY))


def app_location(depth_limit: int = 200) -> Optional[str]:
    """``"file:line (function)"`` of the innermost application frame on the current stack.

    Runs once per statement, inside the profiled request, where every Python call is costly:
    so the walk makes no calls for files it has seen before (a dict lookup per frame).
    """
    frame = sys._getframe(1)
    known = _LIBRARY_FILES
    for _ in range(depth_limit):
        if frame is None:
            return None
        code = frame.f_code
        filename = code.co_filename
        library = known.get(filename)
        if library is None:
            library = known[filename] = _is_library(filename)
        if not library:
            return "%s:%d (%s)" % (filename, frame.f_lineno, code.co_name)
        frame = frame.f_back
    return None


class QueryRecorder:
    """Listens to one or more engines; hands each finished query to the current request, or
    to *orphan* (a callable taking a list of records) when no request is being served."""

    def __init__(self, orphan: Callable[[list], None]):
        self._orphan = orphan
        self.engines: list = []
        # with explain=True: keep each statement's engine and real parameters beside it (in
        # the request's ``raw``), for the plans asked after the request (``plans``)
        self.keep_raw = False

    def attach(self, engine) -> None:
        """Start recording *engine*'s statements (an Engine, or anything with ``.engine``)."""
        from sqlalchemy import event  # only here: apps without SQLAlchemy never import it

        engine = getattr(engine, "engine", engine)
        if any(e is engine for e in self.engines):
            return
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        self.engines.append(engine)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        try:
            if conn.info.get("profview_skip"):
                return                     # the capture's own EXPLAIN
            conn.info.setdefault("profview_starts", []).append(
                (time.time(), time.perf_counter()))
        except Exception:  # recording must never break the app's query
            pass

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        # Runs inside the profiled request, once per statement: one function, no helpers,
        # and nothing it does may raise into the app's query.
        try:
            if conn.info.get("profview_skip"):
                return
            starts = conn.info.get("profview_starts")
            if not starts:
                return
            wall, t0 = starts.pop()
            duration_ms = (time.perf_counter() - t0) * 1000.0
            try:
                params = repr(parameters)
            except Exception:  # the app's own parameter objects may refuse repr
                params = None
            if params is not None and len(params) > MAX_PARAMETERS:
                params = params[:MAX_PARAMETERS] + "…"
            state = CURRENT.get()
            record = {"request": state.id if state else None, "profile": None,
                      "start": wall, "duration_ms": duration_ms, "statement": str(statement),
                      "parameters": params, "location": app_location()}
        except Exception:
            return
        if state is not None:
            state.queries.append(record)
            if self.keep_raw:
                state.raw.append(None if executemany else (conn.engine, parameters))
        else:
            self._orphan([record])
