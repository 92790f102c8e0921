"""Capture request profiles and their SQL: one cProfile file per request, plus sidecars.

This does what Werkzeug's ``ProfilerMiddleware`` does (the app runs under cProfile and its
whole response is read inside the profile; the file name has Werkzeug's shape) and what it
cannot: a request id in the name (``GET.user.alice.23ms.1795313503.4f1c9a2b7d3e.prof``), so
two requests in the same second never overwrite each other; a line per request in
``requests.jsonl`` (exact path, status, times, the Flask URL rule, whether and why it has no
profile) with its SQL in ``queries.jsonl``; the profile so far of a request that raised;
one profiler at a time on Python 3.12+ (see ``profiling``); sampling, a size cap.  Nothing here
raises into the app: a capture that fails leaves a request unprofiled, never unserved.
"""
from __future__ import annotations

import cProfile
import os
import secrets
import socket
import sys
import threading
import time
from typing import Optional

from .memory import Tracer, rss_bytes
from .plans import PlanRecorder
from .profiling import SKIP, SLOT, WAIT, NoProfiler, Sampler, run_app, run_profiled
from .sink import JsonlSink, log
from .sql import CURRENT, QueryRecorder
from .stacks import SAMPLER, Recording, render
from .store import ProfileStore, profile_name

ENVIRON_KEY = "profview.capture"
HOST = socket.gethostname()      # requests.jsonl's "host": whose capture a line is
MODES = (SKIP, WAIT)


def wsgi_text(value: str) -> str:
    """WSGI strings are latin-1 decoded bytes (PEP 3333); give back the real text."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def exception_name(exc: BaseException) -> str:
    """``ValueError`` for built-ins, ``module.QualName`` for the rest."""
    cls = type(exc)
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", cls.__name__)
    return qualname if module in (None, "builtins") else "%s.%s" % (module, qualname)


class _RequestState:
    __slots__ = ("id", "queries", "status", "rule", "endpoint", "profile", "why", "overlap",
                 "threads", "stacks", "raw", "rss", "mem")

    def __init__(self):
        self.id = secrets.token_hex(6)
        self.queries: list = []
        self.status: Optional[int] = None
        self.rule: Optional[str] = None
        self.endpoint: Optional[str] = None
        self.profile = None          # the cProfile.Profile recording the request, if any
        self.why: Optional[str] = None   # why there is no profile (the no_profile field)
        self.overlap = 0             # set by the profiler slot: see profiling.py
        self.threads = 1
        self.stacks: Optional[Recording] = None   # the sampled stacks, with stacks=True
        self.raw: list = []          # with explain=True: (engine, parameters) per query
        self.rss = [None, None]      # resident bytes before and after (memory.rss_bytes)
        self.mem = None              # with memory=True: Tracer.begin(), then its figures


def _check_options(sample, slow_ms, max_mb, concurrent, stack_interval_ms) -> None:
    if not 0.0 <= float(sample) <= 1.0:
        raise ValueError("sample must be a fraction between 0 and 1, not %r" % (sample,))
    if slow_ms is not None and not float(slow_ms) >= 0:
        raise ValueError("slow_ms must be a number of milliseconds, not %r" % (slow_ms,))
    if max_mb is not None and not float(max_mb) > 0:
        raise ValueError("max_mb must be a positive number of megabytes, not %r" % (max_mb,))
    if not float(stack_interval_ms) > 0:
        raise ValueError("stack_interval_ms must be a positive number of milliseconds, not %r"
                         % (stack_interval_ms,))
    if concurrent not in MODES:
        raise ValueError("concurrent must be one of %s, not %r" % (", ".join(MODES), concurrent))


class CaptureMiddleware:
    """Wrap any WSGI app: profiles and ``requests.jsonl``/``queries.jsonl`` in *profile_dir*.

    *engine*: a SQLAlchemy engine (or several, or anything with ``.engine``) whose statements
    are recorded; call :meth:`record_engine` later for more.  *sample*: the fraction of
    requests profiled (chosen by a generator seeded with *seed*).  *slow_ms*: keep the
    profiles of requests at least this slow only.  *max_mb*: keep at most this many
    megabytes of profiles, removing the oldest.  *concurrent*: on Python 3.12+, where one
    request is profiled at a time, ``"skip"`` serves the others unprofiled beside it and
    ``"wait"`` makes them wait for it.  *stacks*: also sample the call stack of the thread
    serving each request every *stack_interval_ms* into its process's ``.stacks`` file
    (every request, whatever *sample* and the profiler slot say).  *profile*: ``False`` runs
    no cProfile at all (``"no_profile": "off"``): stacks alone cost far less.  Every request
    gets its line in ``requests.jsonl``.  *explain*: after each request, ask the database
    for the plan of each new statement shape that took *explain_min_ms* or more, or ran
    *explain_repeats* times or more in it (``plans``, into ``plans.jsonl``).  Every request's
    line has the process's resident memory before and after it; *memory* adds tracemalloc's
    peak, net and allocation sites (``memory``: costly, measured in ``bench/bench_memory.py``).
    """

    def __init__(self, wsgi_app, profile_dir, *, engine=None, sample: float = 1.0, seed=0,
                 slow_ms: Optional[float] = None, max_mb: Optional[float] = None,
                 concurrent: str = SKIP, stacks: bool = False, stack_interval_ms: float = 1.0,
                 profile: bool = True, explain: bool = False, explain_min_ms: float = 5.0,
                 explain_repeats: int = 5, memory: bool = False):
        _check_options(sample, slow_ms, max_mb, concurrent, stack_interval_ms)
        self.stacks = bool(stacks)
        self.stack_interval_ms = float(stack_interval_ms)
        self.profile = bool(profile)
        self._app = wsgi_app
        self.profile_dir = os.fspath(profile_dir)
        self.sink = JsonlSink(self.profile_dir)
        self.store = ProfileStore(self.profile_dir, max_mb)
        self.recorder = QueryRecorder(self.sink.write_queries)
        self.tracer = Tracer() if memory else None
        self.plans = None
        if not (float(explain_min_ms) >= 0 and int(explain_repeats) >= 1):
            raise ValueError("explain_min_ms must be 0 or more and explain_repeats 1 or more")
        if explain:
            self.plans = PlanRecorder(self.sink.write_plans, explain_min_ms, explain_repeats)
            self.recorder.keep_raw = True
        self.slow_ms = slow_ms
        self.concurrent = concurrent
        self._sample = Sampler(sample, seed)
        self._slot = SLOT
        for e in engine if isinstance(engine, (list, tuple)) else [engine]:
            if e is not None:
                self.record_engine(e)

    @property
    def wsgi_app(self):
        """The wrapped application."""
        return self._app

    def record_engine(self, engine) -> None:
        """Record the SQL of *engine* too."""
        self.recorder.attach(engine)

    def __call__(self, environ, start_response):
        state = _RequestState()
        environ[ENVIRON_KEY] = state
        token = CURRENT.set(state)
        try:
            return self._serve(state, environ, start_response)
        finally:
            CURRENT.reset(token)

    def _serve(self, state, environ, start_response) -> list:
        body: list = []

        def catching_start_response(status, headers, exc_info=None):
            try:
                state.status = int(str(status).split(" ", 1)[0])
            except ValueError:
                state.status = None
            start_response(status, headers, exc_info)
            return body.append    # the legacy write(): kept in order with the rest

        wanted = self.profile and self._sample()
        if self._slot.enter(state, wanted, self.concurrent):
            state.profile = cProfile.Profile()
        else:
            state.why = "off" if not self.profile else "busy" if wanted else "sample"
        self._memory_begins(state)
        start, t0 = time.time(), time.perf_counter()
        if self.stacks:
            self._start_stacks(state, start, t0, sys._getframe())
        try:
            self._run(state, environ, catching_start_response, body)
        except BaseException as exc:
            self._finish(environ, state, start, (time.perf_counter() - t0) * 1000.0, exc)
            raise                 # the very exception, as if the capture were not there
        self._finish(environ, state, start, (time.perf_counter() - t0) * 1000.0, None)
        return body

    def _memory_begins(self, state) -> None:
        """Before the request's clock starts: its resident set, and tracemalloc's mark."""
        try:
            state.rss[0] = rss_bytes()
            if self.tracer is not None:
                state.mem = self.tracer.begin()
        except Exception as err:   # memory figures must never cost the request
            log.warning("profview.capture: no memory figures for %s: %r", state.id, err)

    def _memory_ends(self, state) -> None:
        try:
            state.rss[1] = rss_bytes()
            if self.tracer is not None and state.mem is not None:
                state.mem = self.tracer.end(state.mem)
        except Exception as err:
            state.mem = None
            log.warning("profview.capture: no memory figures for %s: %r", state.id, err)

    def _start_stacks(self, state, start, t0, base) -> None:
        """Have the sampler record this thread below *base* (this frame: not the server's)."""
        try:
            rec = Recording(self.stack_interval_ms, start, t0, base, _CAPTURE_CODES)
            SAMPLER.start(rec)
            state.stacks = rec
        except Exception as err:  # the sampler's failure costs the request its stacks only
            log.warning("profview.capture: no stacks for request %s: %r", state.id, err)

    def _run(self, state, environ, start_response, body: list) -> None:
        if state.profile is not None:
            try:
                return run_profiled(state.profile, self._app, environ, start_response, body)
            except NoProfiler:
                state.profile, state.why = None, "unavailable"
        run_app(self._app, environ, start_response, body)

    def _finish(self, environ, state, start, elapsed_ms, exc) -> None:
        """Write the request's profile and lines, then free the profiler; never raises.

        The profiler is held until the profile is written: writing it runs Python code, which
        a shared profiler (3.12+) would record in the next request's profile.
        """
        self._memory_ends(state)
        if state.stacks is not None:
            try:
                SAMPLER.stop(state.stacks)
            except Exception as err:
                log.warning("profview.capture: no stacks for request %s: %r", state.id, err)
                state.stacks = None
        try:
            self._write(environ, state, start, elapsed_ms, exc)
            if self.plans is not None and state.raw:
                # after the response and the profile: the plans' queries are not the
                # request's (the slot is still held, so no other profile sees them either)
                self.plans.explain(state.id, state.queries, state.raw)
        except Exception as err:  # a bug here must cost the request its line, not its answer
            log.warning("profview.capture: request %s not recorded: %r", state.id, err)
        finally:
            self._slot.leave(state)

    def _write(self, environ, state, start, elapsed_ms, exc) -> None:
        name = profile_name(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
                            elapsed_ms, start + elapsed_ms / 1000.0, state.id)
        profiled, kept, why, removed = state.profile is not None, False, state.why, []
        if profiled and self.slow_ms is not None and elapsed_ms < self.slow_ms:
            why = "slow_ms"
        elif profiled:
            kept, why, removed = self.store.save(name, state.profile)
        for q in state.queries:
            q["profile"] = name if kept else None
        record = self._record(environ, state, start, elapsed_ms, name, exc)
        alone = state.overlap == 0 and state.threads == 1
        record.update(profiled=profiled, kept=kept, no_profile=why,
                      overlap=state.overlap if profiled else None,
                      alone=alone if profiled else None, removed=removed)
        record["stacks"], record["stacks_at"] = self._write_stacks(state, elapsed_ms, removed)
        self.sink.write_request(record, state.queries)

    def _write_stacks(self, state, elapsed_ms, removed: list) -> tuple:
        """Append the request's stacks to the process's stacks file, if it has some to
        write: ``(file name, [offset, length])``, else ``(None, None)``."""
        rec = state.stacks
        if rec is None or (self.slow_ms is not None and elapsed_ms < self.slow_ms):
            return None, None
        if rec.failed is not None:
            log.warning("profview.capture: no stacks for request %s: the sampler failed: %r",
                        state.id, rec.failed)
            return None, None
        try:
            saved = self.store.append_stacks(render(rec, state.id, os.getpid(), elapsed_ms))
        except Exception as err:
            log.warning("profview.capture: no stacks for request %s: %r", state.id, err)
            return None, None
        if saved is None:
            return None, None
        name, offset, length, more = saved
        removed.extend(more)
        return name, [offset, length]

    def _record(self, environ, state, start, elapsed_ms, name, exc) -> dict:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        return {
            "id": state.id,
            "method": str(environ.get("REQUEST_METHOD", "")),
            "path": wsgi_text(path) or "/",
            "query": wsgi_text(environ.get("QUERY_STRING", "")),
            "rule": state.rule,
            "endpoint": state.endpoint,
            # A server answers 500 when the app raises (nothing was sent: the body is read
            # whole before the server gets it).
            "status": 500 if exc is not None else state.status,
            "start": start,
            "elapsed_ms": elapsed_ms,
            "profile": name,
            "exception": exception_name(exc) if exc is not None else None,
            "pid": os.getpid(),
            "thread": threading.get_ident(),   # the thread that served it (stacks' too)
            "host": HOST,
            "rss_before": state.rss[0],
            "rss_after": state.rss[1],
            **(state.mem if isinstance(state.mem, dict) else {}),
        }


# The capture's frames between _serve and the app, left out of the stacks.
_CAPTURE_CODES = frozenset(f.__code__ for f in (CaptureMiddleware._run, run_app, run_profiled))
