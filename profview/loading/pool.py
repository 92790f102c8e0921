"""Worker process pools for parsing and merging profiles."""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

# The window's workers yield to its GUI thread, not to everything: at nice 10, with another
# program busy on one core, they got a tenth of the other and the first picture of 800
# requests took 10.7 s; at 4 it took 6.6 s, with the window's longest stall 48 ms (70 ms
# at 10), and idle 3.2 s against 3.0-4.8 s (bench_interact, same afternoon).
BACKGROUND_NICE = 4
# Fewer files than this are read faster in the calling process than with workers (starting
# them costs about as much as reading 150 request profiles here).
PARALLEL_FROM = 150


def _lower_priority() -> None:
    try:
        os.nice(BACKGROUND_NICE)
    except (AttributeError, OSError):   # no nice() here: run at normal priority
        pass


def make_pool(workers: int, mp_context=None, background: bool = False) -> ProcessPoolExecutor:
    """A pool of *workers* processes (*mp_context*: a multiprocessing start method name).

    *background* lowers the workers' priority.  The window passes it: with as many busy
    workers as cores, the GUI thread had to fight them for the CPU, and a thread descheduled
    while holding the GIL froze the window for 0.1-0.2 s.  The command line does not: there
    the workers are the job.
    """
    context = multiprocessing.get_context(mp_context) if mp_context else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_lower_priority if background else None)


def start_forkserver(preload=()) -> None:
    """Start the "forkserver" process now, with *preload* (module names) imported in it.

    A worker forked from it then starts with those modules loaded, instead of importing
    numpy and the loader on every start (0.3 s a worker here); started before the first
    pool, it does that import while the window is being built.  A no-op once running, and
    where there is no forkserver (the pools then import as before)."""
    try:
        from multiprocessing import forkserver
        multiprocessing.set_forkserver_preload(list(preload))
        forkserver.ensure_running()
    except (ImportError, OSError, ValueError):
        pass


def import_quietly(*modules) -> None:
    """Import *modules* now, those that can be (the step that needs one that cannot
    reports the problem itself)."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def warm_imports(*modules) -> threading.Thread:
    """``import_quietly(*modules)`` in a daemon thread (what a step the user asked for will
    need while it waits for something else, e.g. scipy.stats, ~0.8 s, while a capture
    loads).

    Only for processes whose pools use "forkserver" or "spawn": a process forked while this
    thread held an import lock would hang at its first import."""
    thread = threading.Thread(target=import_quietly, args=modules, name="warm-imports",
                              daemon=True)
    thread.start()
    return thread


_APART: dict = {}              # (mp_context, background) -> the one long-lived worker process
_APART_LOCK = threading.Lock()


def apart(fn, *args, mp_context=None, background: bool = False):
    """``fn(*args)`` in a long-lived worker process of its own (made on first use), or here
    when no process can be had (or it died: then once more in a new one first).

    For pure-Python work a GUI asks for on every click (the call graph's gprof2dot parse,
    prune and layout: 50-150 ms): done in a thread, it held the GIL that every paint of the
    window needs, and a table's paint, which calls back into Python for each cell, took
    five to ten times longer.  *fn* and *args* must pickle; the calling thread waits
    without the GIL.
    """
    for attempt in (0, 1):
        with _APART_LOCK:
            pool = _APART.get((mp_context, background))
            if pool is None:
                try:
                    pool = make_pool(1, mp_context, background)
                except (OSError, ValueError, ImportError):
                    return fn(*args)
                _APART[(mp_context, background)] = pool
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool:
            with _APART_LOCK:
                if _APART.get((mp_context, background)) is pool:
                    del _APART[(mp_context, background)]
            pool.shutdown(wait=False)
    return fn(*args)
