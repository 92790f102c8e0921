"""Memory per request: the process's resident set before and after (always: two reads of
``/proc/self/statm``), and with ``memory=True`` what ``tracemalloc`` saw: the peak of traced
memory during the request, what it left allocated (net: after a full collection, so garbage is not counted), and the
lines that allocated it.

Both are of the whole process: requests served at the same time (threads) add to each
other's numbers, which the reader must weigh (``requests.jsonl``'s ``overlap``).  The
snapshots ``tracemalloc`` needs for the allocation sites are taken outside the request's
measured time, but they are not free: ``bench/bench_memory.py`` measures them.
"""
from __future__ import annotations

import gc
import linecache
import os
import tracemalloc
from typing import Optional

try:
    PAGE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):
    PAGE = 4096
STATM = "/proc/self/statm"
TOP_SITES = 5
FRAMES = 1                      # tracemalloc frames per allocation: the line that allocated


_STATM = [None, None]            # [pid, fd]: kept open (a pread is 1.5 us, an open 10 us)


def rss_bytes() -> Optional[int]:
    """The process's resident set in bytes, or None where ``/proc`` has no ``statm``.

    The file stays open and is read again from its start each time (``/proc`` makes its
    text anew on every read); a forked child opens its own (``/proc/self`` was resolved
    when the parent opened it)."""
    try:
        pid, fd = _STATM
        if pid != os.getpid():
            fd = os.open(STATM, os.O_RDONLY)
            _STATM[:] = [os.getpid(), fd]
        return int(os.pread(fd, 128, 0).split()[1]) * PAGE
    except (OSError, ValueError, IndexError, AttributeError):
        return None


_IGNORED = (tracemalloc.__file__, linecache.__file__, __file__)


class Tracer:
    """Per-request tracemalloc figures; tracing is started once, for the process."""

    def __init__(self, top: int = TOP_SITES):
        self.top = top
        if not tracemalloc.is_tracing():
            tracemalloc.start(FRAMES)

    def begin(self):
        """A request begins: ``(traced bytes, snapshot)``; the peak is reset.

        A full collection first, and again at the end: otherwise the garbage of earlier
        requests, freed by the collector during this one, counted against it (measured on
        microblog: every request's net was some 300 KB below zero)."""
        gc.collect()
        before = self._snapshot()     # first: its own lists are then in both measures
        tracemalloc.reset_peak()
        return tracemalloc.get_traced_memory()[0], before

    def end(self, begun) -> dict:
        """The request's ``mem_peak``, ``mem_net`` (bytes) and ``mem_sites``."""
        start, before = begun
        peak = tracemalloc.get_traced_memory()[1]
        gc.collect()                  # what the request left unreachable is not retained
        current = tracemalloc.get_traced_memory()[0]
        after = self._snapshot()
        sites = []
        for stat in after.compare_to(before, "lineno"):
            if stat.size_diff <= 0:
                continue
            frame = stat.traceback[0]
            sites.append({"where": "%s:%d" % (frame.filename, frame.lineno),
                          "bytes": stat.size_diff, "count": stat.count_diff})
            if len(sites) >= self.top:
                break
        return {"mem_peak": max(0, peak - start), "mem_net": current - start,
                "mem_sites": sites}

    @staticmethod
    def _snapshot():
        return tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, f) for f in _IGNORED])
