"""Who may profile now: one request at a time where the interpreter has one profiler.

Before Python 3.12 cProfile hooks the thread it is enabled in (``sys.setprofile``), so every
thread can profile its own request.  From 3.12 it uses ``sys.monitoring``, which has one
profiler slot per interpreter: a second ``Profile.enable()`` raises ValueError ("Another
profiling tool is already active"), and the profiler that runs records the calls of *every*
thread of the process, interleaved (so its call counts and times can be wrong, and a call
of its own request can be missing).  There, one request is profiled at a time; the others
run unprofiled beside it (``skip``) or wait for it (``wait``).  Each profile says how many
other captured requests ran while it was recorded, and how many threads were alive when it
began: a profile is its request's alone only when both say so.
"""
from __future__ import annotations

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
