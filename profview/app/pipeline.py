"""What the window runs in its workers to load, follow and compare captures: Qt-free, so
that it is tested (and timed) without a display.  The GUI thread only shows the results."""
from __future__ import annotations

import gc
import os

from ..analysis import flame
from ..analysis.endpoints import group
from ..analysis.summary import endpoint_summaries
from ..analysis.timeline import capture_points, prepare
from ..loading.scan import extend_capture, load_capture, no_gc
from ..loading.scopes import scope_graph
from .comparison import compare
from .session import Derived


def load_grouped(paths, **kwargs) -> tuple:
    """Load and group into endpoints, both in the worker: neither belongs on the GUI thread.

    See ``grouped`` for the collector.
    """
    with no_gc():
        capture = load_capture(paths, **kwargs)
        return (capture, *grouped(capture, paths))


def scope_and_tree(capture, requests, tree_options: dict, **kwargs) -> tuple:
    """``scope_graph``'s ``(graph, problems)``, with the flame tree of the graph built too
    (``flame.build_tree(graph, **tree_options)``, which keeps it): one worker does both, so
    the flame graph is on show as soon as the merged scope arrives."""
    graph, problems = scope_graph(capture, requests, **kwargs)
    flame.build_tree(graph, **tree_options)
    return graph, problems


def compare_with_points(before, after) -> tuple:
    """The comparison's verdicts and the after-capture's timeline points, both in the
    worker.  The per-function tests are left out (``compare(functions=False)``): the window
    tests an endpoint's functions when it is picked (``compare_panel``), and testing every
    endpoint's up front took three quarters of the time to the verdicts."""
    return compare(before, after, functions=False), capture_points(after, group(after))


def grouped(capture, paths) -> tuple:
    """``(endpoints, derived)``: the capture's endpoints and the panels' heavier views of
    it, computed in the loader's worker so that the GUI thread only shows them.  Done by
    other workers when the capture arrived, they competed with the GUI thread for the GIL
    and the window stalled for 0.15 s at 10,000 requests.

    Run with the collector off (``no_gc``), and the result is frozen out of its reach: a
    capture is tens of thousands of long-lived, immutable objects, and the first collections
    after a 10,000-request load walked them all (up to 0.2 s, holding the GIL) while the
    window waited.  They form no cycles, so reference counting still frees them on reload.
    """
    endpoints = group(capture)
    points = capture_points(capture, endpoints)
    derived = Derived(points=points, timeline=prepare(points),
                      summaries=endpoint_summaries(endpoints, capture.has_queries),
                      watch=watch_list(paths))
    gc.freeze()
    return endpoints, derived


def extend_grouped(capture, paths, max_bytes) -> tuple:
    """The capture with what appeared on disk since; nothing is recomputed (this runs every
    two seconds) when nothing did."""
    with no_gc():
        fresh, retry = extend_capture(capture, paths, max_bytes)
        if fresh is capture:
            return capture, retry, None, None
        return (fresh, retry, *grouped(fresh, paths))


def watch_list(paths) -> list:
    """Directories under *paths*, and the query logs and sidecars in them, to watch."""
    dirs, files = [], []
    for path in paths:
        if os.path.isdir(path):
            for dirpath, _dirnames, filenames in os.walk(path):
                dirs.append(dirpath)
                files += [os.path.join(dirpath, f) for f in filenames
                          if f.endswith((".jsonl", ".log"))]
    return dirs + files
