"""Python's full garbage collections, moved to moments when nobody is using the window.

A full (generation 2) collection walks every container object the process holds.  After a
capture is loaded that is the scope caches, call graphs and their per-function stats
(named tuples, which the collector never untracks): at 800 requests a full collection
took 35-120 ms, held the GIL, and came every few scope changes, so a click now and then
waited that long for nothing (it found no garbage: these objects form no cycles and are
freed by reference counting).  Here automatic full collections are off; the collector
still runs its young generations as usual, and a full collection runs once the window
has been left alone for a moment and something was allocated since the last one.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

IDLE_MS = 1500           # nothing selected or loaded for this long: a full collection may run
_NEVER = 1_000_000       # generation 2 threshold: automatic full collections never come


class IdleCollector(QObject):
    """Full collections when the session has been quiet for ``IDLE_MS``.

    Quiet means no new capture, scope, function, graph or option: what a click or a load
    changes.  (Not an event filter on every Qt event: that would call into Python for each
    paint and timer, the very cost this avoids.)"""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self._session = session
        young, middle, _full = gc.get_threshold()
        gc.set_threshold(young, middle, _NEVER)
        self.collections = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(IDLE_MS)
        self._timer.timeout.connect(self._collect)
        ev = session.events
        self._pending = False
        ev.capture.connect(self._on_pending)
        ev.scope.connect(self._on_pending)
        ev.graph.connect(self._on_graph)
        for signal in (ev.capture, ev.scope, ev.graph, ev.function, ev.options):
            signal.connect(self.poke)
        self._timer.start()

    def poke(self, *_args) -> None:
        """Something happened: wait for the next quiet moment."""
        self._timer.start()

    def waiting(self) -> bool:
        """A scope is on its way: a capture or a scope came and its graph (or the news that
        there is none) has not (a merge of thousands of requests can take seconds with no
        session event).  The user is waiting for it: the window is not idle."""
        return self._pending

    def _on_pending(self, *_args) -> None:
        self._pending = bool(self._session.capture is not None and
                             self._session.capture.requests)

    def _on_graph(self, *_args) -> None:
        self._pending = False

    def _collect(self) -> None:
        if self.waiting():
            self._timer.start()     # after the graph has come, and the window is quiet
            return
        # gc.get_count()[2]: collections of generation 1 since the last full one
        if gc.isenabled() and gc.get_count()[2] > 0:
            gc.collect()
            self.collections += 1
