"""Worker process pools for parsing and merging profiles."""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

BACKGROUND_NICE = 10
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
