"""True call stacks per request, sampled: one sampler thread per process, one stacks file too.

Every ``interval`` the sampler takes ``sys._current_frames()`` and, for each thread serving a
request with ``stacks=True``, walks ``f_back`` from the thread's current frame up to the
middleware's frame recorded when the request began (so the server's frames are left out),
interning the stack, root first, in a prefix tree: ``(parent stack id, function, line)`` →
stack id.  When the request ends its block is rendered (``render``) and appended to the
process's stacks file (``store.ProfileStore.append_stacks``).

Why ``sys._current_frames()`` and not ``sys.monitoring`` (or ``sys.setprofile``):

- a sample costs the depth of the stack, whatever the request does in between; an event
  hook costs a Python callback on *every* call and return.  Measured on 3.12.1: a loop of
  1,000,000 calls of an empty function ran 2.9x slower under a Python ``PY_START`` +
  ``PY_RETURN`` hook; this sampler, on a thread 40 frames deep, took 1,715 samples in 2 s
  for 0.16 s of CPU (94 us a sample, sleep and wake-up included; 77 us on 3.11.7), ~8% of a
  core at 1 ms, and in a pure-Python request far less (the GIL, below);
- ``sys.monitoring`` exists only from 3.12, and cProfile takes its ``PROFILER_ID`` there; its
  events are per interpreter, not per thread, so a hook would fire for every thread;
- ``sys.setprofile`` (before 3.12) is the very hook cProfile uses: one would displace the other.

Keeping the sampler out of the profiles (Python 3.12+).  There cProfile records the calls of
every thread (``sys.monitoring`` has no per-thread switch, and a thread cannot turn the events
off for itself), so a sampler that called ``time.sleep`` and ``sys._current_frames`` put
``{built-in method time.sleep}`` and ``{built-in method sys._current_frames}`` into the
profiled request's pstats, tied to whatever the request was running (measured on 3.12.1 and
3.13.0: they were there; never on 3.11, where cProfile hooks its own thread only).  But
monitoring sees only the calls made by *Python bytecode* (``CALL``), and the returns of Python
functions.  So the sampler's loop is one Python function, ``_profview_stack_sampler``, that
calls nothing: its sleeps, clock reads and snapshots are made by C iterators (``zip`` over
``map``/``methodcaller``) which its ``for`` loop advances, and its body uses only operators,
subscripts and attributes (no ``append``, ``len``, ``min``, ``int``).  Measured: with this
loop, no function of the sampler's appears in the request's profile on 3.12 and 3.13.  What
remains is once per process: the thread's start-up (``threading``'s bootstrap) while another
request is profiled, and a profile can still see the request thread's own ``register`` and
``stop``, which run outside ``enable()``/``disable()`` and so do not.

The GIL: a thread waiting for the GIL gets it after the interpreter's switch interval (5 ms by
default, ``sys.getswitchinterval()``).  While a request runs pure Python the sampler so takes
a sample about every 5 ms whatever the interval; those it could not take are counted as
``missed``.  The sampler does not change the switch interval: that is the app's.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from itertools import repeat
from operator import itemgetter, methodcaller
from typing import Optional

MAX_DEPTH = 3000          # frames walked per sample at most (deeper: the sample is dropped)
MAX_SLEEP = 0.002         # the sampler looks at new requests at least this often
MIN_SLEEP = 0.0002
# After its last request the sampler keeps ticking this long (s) before it parks on its lock:
# woken by each new request, it took the GIL in the middle of it (measured: most of what
# stacks cost a 1 ms request).
GRACE = 0.5
LATE = 2.0                # a sample later than this many intervals counts the ones it skipped


class Recording:
    """The stacks of one request thread, filled by the sampler thread, read at the end.

    The sampler only ever appends (stacks before the samples that use them), so the request
    thread reads a consistent prefix without a lock: the samples first, then the definitions.
    """

    __slots__ = ("ident", "interval", "half", "late", "start", "t0", "base", "skip", "due",
                 "ids", "fids", "frames", "stacks", "samples", "nframes", "nstacks", "missed",
                 "failed")

    def __init__(self, interval_ms: float, start: float, t0: float, base, skip=frozenset()):
        self.ident = threading.get_ident()
        self.interval = interval_ms / 1000.0
        self.half = self.interval / 2.0
        self.late = self.interval * LATE
        self.start = start           # time.time() at the request's start (the header's start)
        self.t0 = t0                 # time.perf_counter() at the same moment
        self.base = base             # the middleware's frame: the walk stops below it
        # The capture's own codes between *base* and the app: a sample counts only when the
        # stack's root is one of them (the thread is inside the app), and they are dropped.
        self.skip = skip
        self.due = t0 + self.interval
        self.ids: dict = {}          # (parent sid, filename, firstlineno, name, line) → sid
        self.fids: dict = {}         # (filename, firstlineno, name) → fid
        self.frames: list = []       # fid → (filename, firstlineno, name)
        self.stacks: list = []       # sid → (parent sid, fid, line)
        self.samples: list = []      # (perf_counter seconds, sid)
        self.nframes = 0
        self.nstacks = 0
        self.missed = 0.0
        self.failed: Optional[BaseException] = None


def _profview_stack_sampler(sampler) -> None:
    """The sampler thread's whole loop (see the module's docstring: it calls nothing)."""
    box = sampler.box
    # Each step: sleep box[0] seconds, read the clock, snapshot every thread's frame; all of
    # it called from C by the iterators, so that no monitoring event is raised (3.12+).
    # methodcaller looks the function up each time (a patched sys._current_frames is seen).
    ticks = zip(map(time.sleep, map(itemgetter(0), repeat(box))),
                map(methodcaller("perf_counter"), repeat(time)),
                map(methodcaller("_current_frames"), repeat(sys)))
    idle = iter(sampler.wake.acquire, None)      # blocks until a request registers
    awake = 0.0
    while True:
        try:
            for _slept, now, frames in ticks:
                recs = sampler.active
                if not recs:
                    if now < awake:          # traffic: stay up (see GRACE)
                        box[0] = MAX_SLEEP
                        continue
                    for _ in idle:
                        break
                    continue
                awake = now + GRACE
                soonest = now + MAX_SLEEP
                for rec in recs:
                    if rec.failed is not None:
                        continue
                    due = rec.due
                    if now < due - rec.half:
                        if due < soonest:
                            soonest = due
                        continue
                    late = now - due
                    if late > rec.late:
                        rec.missed += late // rec.interval
                    due = rec.due = now + rec.interval
                    if due < soonest:
                        soonest = due
                    ident = rec.ident
                    if ident not in frames:
                        continue
                    frame = frames[ident]
                    base = rec.base
                    chain = None
                    depth = 0
                    while frame is not None and frame is not base:
                        chain = (frame, chain)
                        frame = frame.f_back
                        depth += 1
                        if depth > MAX_DEPTH:
                            frame = None
                    skip = rec.skip
                    if frame is None or base is None or chain is None \
                            or chain[0].f_code not in skip:
                        continue             # not inside the app (yet, or any more)
                    while chain is not None and chain[0].f_code in skip:
                        chain = chain[1]     # the capture's own frames above the app
                    if chain is None:
                        continue
                    ids = rec.ids
                    sid = None
                    while chain is not None:
                        frame = chain[0]
                        code = frame.f_code
                        key = (sid, code.co_filename, code.co_firstlineno, code.co_name,
                               frame.f_lineno)
                        if key in ids:
                            sid = ids[key]
                        else:
                            where = key[1:4]
                            fids = rec.fids
                            if where in fids:
                                fid = fids[where]
                            else:
                                fid = fids[where] = rec.nframes
                                rec.nframes += 1
                                rec.frames += (where,)
                            ids[key] = new = rec.nstacks
                            rec.nstacks += 1
                            rec.stacks += ((sid, fid, key[4]),)
                            sid = new
                        chain = chain[1]
                    rec.samples += ((now, sid),)
                    frame = chain = None
                dt = soonest - now
                box[0] = MIN_SLEEP if dt < MIN_SLEEP else dt
                frames = None
        except Exception as exc:     # the requests sampled now lose their stacks, not answers
            recs = sampler.active    # (the error may come before this tick read them)
            for rec in recs:
                rec.failed = exc
            frames = frame = chain = exc = None
            if not recs:             # a sampler that keeps failing still sleeps when idle
                for _ in idle:
                    break


class StackSampler:
    """The process's sampler: one daemon thread, started at the first recording, and again
    in a process forked from this one (the pid changed: a fork keeps only its own thread)."""

    def __init__(self):
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.pid = os.getpid()
        self.mutex = threading.Lock()
        self.wake = threading.Lock()   # held while there is nothing to do
        self.wake.acquire()
        self.box = [MAX_SLEEP]         # the sampler's next sleep, seconds
        self.active: tuple = ()        # replaced, never changed: the sampler reads it bare
        self.thread: Optional[threading.Thread] = None

    def start(self, rec: Recording) -> None:
        """Sample *rec*'s thread from now on (call before the profiler is enabled)."""
        if self.pid != os.getpid():
            self._reset()
        with self.mutex:
            if self.thread is None or not self.thread.is_alive():
                thread = threading.Thread(target=_profview_stack_sampler, args=(self,),
                                          name="profview-stack-sampler", daemon=True)
                thread.start()
                self.thread = thread
            self.active = self.active + (rec,)
            if self.wake.locked():
                self.wake.release()

    def stop(self, rec: Recording) -> None:
        """No more samples of *rec* (the sampler may still finish the one it is taking)."""
        with self.mutex:
            self.active = tuple(r for r in self.active if r is not rec)


SAMPLER = StackSampler()


def _dumps(record, ascii: bool) -> str:
    return json.dumps(record, ensure_ascii=ascii, separators=(",", ":"))


def render(rec: Recording, request_id: str, pid: int, end_ms: float) -> bytes:
    """The stacks file of *rec*, a request that lasted *end_ms* (see the README's contract)."""
    samples = rec.samples[:]          # first: every stack they use is already defined
    frames, stacks = rec.frames[:], rec.stacks[:]
    t0 = rec.t0
    out = [{"stacks": 1, "request": request_id, "pid": pid, "thread": rec.ident,
            "interval_ms": rec.interval * 1000.0, "start": rec.start}]
    out.extend({"frame": [fid, f, first, name]} for fid, (f, first, name) in enumerate(frames))
    out.extend({"stack": [sid, parent, fid, line if line is not None else 0]}
               for sid, (parent, fid, line) in enumerate(stacks))
    n, last = 0, 0.0
    for t, sid in samples:
        t_ms = round((t - t0) * 1000.0, 3)
        if t_ms < last or t_ms > end_ms:
            continue                  # taken as the request ended: after its end
        out.append({"sample": [t_ms, sid]})
        n, last = n + 1, t_ms
    out.append({"end": round(end_ms, 3), "samples": n, "missed": int(rec.missed)})
    try:
        return "".join(_dumps(r, False) + "\n" for r in out).encode("utf-8")
    except UnicodeEncodeError:        # a lone surrogate in a file name: \u escapes keep it
        return "".join(_dumps(r, True) + "\n" for r in out).encode("ascii")
