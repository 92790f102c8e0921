"""Which requests are profiled, and running an app under cProfile.

A request is profiled when it is drawn (``sample``) and the profiler is free.  Before Python
3.12 cProfile hooks the thread it is enabled in (``sys.setprofile``), so every thread can
profile its own request.  From 3.12 it uses ``sys.monitoring``, which has one profiler slot
per interpreter: a second ``Profile.enable()`` raises ValueError ("Another profiling tool is
already active"), and the profiler that runs records the calls of *every* thread of the
process, interleaved (so its call counts and times can be wrong, and a call of its own request
can be missing).  There, one request is profiled at a time; the others run unprofiled beside
it (``skip``) or wait for it (``wait``).  Each profile says how many other captured requests
ran while it was recorded, and how many threads were alive when it began: a profile is its
request's alone only when both say so.
"""
from __future__ import annotations

import random
import sys
import threading

# cProfile shares one profiler among all threads wherever sys.monitoring exists (3.12+).
SHARED = hasattr(sys, "monitoring")
SKIP, WAIT = "skip", "wait"
# A request never waits longer than this for the profiler (then it runs unprofiled): a view
# that calls its own server would otherwise wait for itself forever under "wait".
WAIT_S = 30.0


class ProfilerSlot:
    """The interpreter's profiler, shared by every CaptureMiddleware in the process.

    Also counts the requests running, so that a profile recorded by a shared profiler can say
    how many other requests' calls it holds (``state.overlap``) and how many threads were
    alive when it started (``state.threads``).  *shared* defaults to SHARED.
    """

    def __init__(self, shared: bool = SHARED):
        self.shared = shared
        self._cond = threading.Condition(threading.Lock())
        self._running = 0            # requests between enter() and leave()
        self._holder = None          # the request state being profiled, when shared
        self.waiting = 0             # requests waiting for the profiler (concurrent="wait")

    def enter(self, state, want: bool, mode: str) -> bool:
        """Count *state* as running; True when it may profile now.

        With a shared profiler a request that wants it gets it when it is free; under
        ``wait`` it first waits for it (at most WAIT_S seconds).  Without one, it always may.
        """
        with self._cond:
            if want and self.shared and mode == WAIT and self._holder is not None:
                self.waiting += 1
                try:
                    self._cond.wait_for(lambda: self._holder is None, WAIT_S)
                finally:
                    self.waiting -= 1
            got = want and (not self.shared or self._holder is None)
            if self._holder is not None:
                self._holder.overlap += 1
            if got and self.shared:
                self._holder = state
                state.overlap = self._running
                state.threads = threading.active_count()
            self._running += 1
            return got

    def leave(self, state) -> None:
        """*state* is done (its profile, if any, written): the profiler is free again."""
        with self._cond:
            self._running -= 1
            if self._holder is state:
                self._holder = None
                self._cond.notify_all()


SLOT = ProfilerSlot()


class NoProfiler(Exception):
    """cProfile would not start: another profiling tool holds the interpreter's slot."""


class Sampler:
    """Which requests to profile: *fraction* of them, drawn from a generator seeded with
    *seed*, so the same traffic is sampled the same way on every run."""

    def __init__(self, fraction: float, seed):
        self.fraction = float(fraction)
        self._random = random.Random(seed)
        self._lock = threading.Lock()     # a free-threaded build has no GIL to rely on

    def __call__(self) -> bool:
        if self.fraction >= 1.0:
            return True
        with self._lock:
            return self._random.random() < self.fraction


def run_app(app, environ, start_response, body: list) -> None:
    """Call *app* and read its whole response into *body*, as ProfilerMiddleware does (so
    producing the response is profiled too); close it as PEP 3333 asks, even on error."""
    app_iter = app(environ, start_response)
    close = getattr(app_iter, "close", None)
    try:
        body.extend(app_iter)
    except BaseException:
        if close is not None:
            try:
                close()
            except Exception:  # the first error is the one the server must see
                pass
        raise
    if close is not None:
        close()


def run_profiled(profile, app, environ, start_response, body: list) -> None:
    """``run_app`` under *profile*; raises NoProfiler (before the app runs) if it won't start."""
    try:
        profile.enable()
    except ValueError as exc:   # "Another profiling tool is already active" (3.12+)
        raise NoProfiler() from exc
    try:
        run_app(app, environ, start_response, body)
    finally:
        profile.disable()
