"""The state every view of the window shows, as a plain Python object with events.

Views take a Session, subscribe to its events, and call its methods; nothing here knows Qt, so
the behaviour is tested without a display.  Work that takes time (loading, merging, building
trees) is not done here: the window runs it in workers and hands the results to ``set_*``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ..model.capture import Capture
from ..model.scope import ALL, Scope
from ..analysis import calltree
from ..analysis.endpoints import group

__all__ = ["ALL", "Derived", "Scope", "Session", "Signal"]


@dataclass(frozen=True)
class Derived:
    """What the loader's worker computed for the panels beside the capture, so that the GUI
    thread only shows it: timeline points and their prepared series, the endpoint
    summaries, and the paths a live capture follows.  Each is None when not computed (the
    panel then computes it in a worker)."""

    points: object = None       # analysis.timeline.Points
    timeline: object = None     # qt timeline's prepared series
    summaries: Optional[list] = None   # analysis.summary.endpoint_summaries(...)
    watch: Optional[list] = None       # paths to follow


class Signal:
    """A minimal observer list: ``connect(fn)``, ``disconnect(fn)``, ``emit(*args)``."""

    def __init__(self):
        self._slots: list = []

    def connect(self, fn: Callable) -> None:
        self._slots.append(fn)

    def disconnect(self, fn: Callable) -> None:
        self._slots.remove(fn)

    def emit(self, *args) -> None:
        for fn in list(self._slots):
            fn(*args)


class Events:
    def __init__(self):
        self.capture = Signal()     # (capture)   a new capture was loaded
        self.scope = Signal()       # (scope)     the set of requests on show changed
        self.graph = Signal()       # (graph)     the profile of that scope is ready (or None)
        self.function = Signal()    # (func)      the selected function (FuncKey or None)
        self.options = Signal()     # ()          tree mode, app-only or focus changed


class Session:
    """What is loaded and what is selected.

    *scope* is a ``model.scope.Scope`` (every request, an endpoint, a request, or a set
    picked on the timeline); *graph* is the call graph of the scope once a worker has
    merged it.
    """

    def __init__(self):
        self.events = Events()
        self.capture: Optional[Capture] = None
        self.endpoints: list = []
        self.derived = Derived()
        self.scope = ALL
        self.graph = None
        self.function = None
        self.mode = calltree.ESTIMATED_MODE
        self.app_only = False
        self.focus = None          # FuncKey the flame graph is focused on, or None

    # --- the capture -------------------------------------------------------------------
    def set_capture(self, capture: Capture, endpoints=None, derived=None) -> None:
        """Show *capture*; pass its *endpoints* when a worker has grouped it already, and
        *derived* (a ``Derived``), what a worker has computed for the panels too, which
        they then take instead of computing it."""
        self.capture = capture
        self.endpoints = group(capture) if endpoints is None else list(endpoints)
        self.derived = derived or Derived()
        self.graph = None
        self.function = None
        self.focus = None
        self.events.capture.emit(capture)

    def endpoint_named(self, name: str):
        """The endpoint called *name* (exact, else the first whose name contains it)."""
        for ep in self.endpoints:
            if ep.name == name:
                return ep
        return next((ep for ep in self.endpoints if name in ep.name), None)

    # --- what is on show ---------------------------------------------------------------
    def requests_of(self, scope: Optional[Scope] = None) -> tuple:
        if self.capture is None:
            return ()
        return (scope or self.scope).requests_in(self.capture)

    def select_scope(self, scope: Scope) -> None:
        if scope == self.scope:
            return
        self.scope = scope
        self.graph = None
        self.focus = None
        self.events.scope.emit(scope)

    def set_graph(self, scope, graph) -> None:
        """A worker finished merging *scope*; ignored if the user has moved on since."""
        if scope != self.scope:
            return
        self.graph = graph
        if self.function is not None and (graph is None or self.function not in graph.functions):
            self.select_function(None)
        self.events.graph.emit(graph)

    def scope_label(self) -> str:
        return self.scope.name(self.capture)

    # --- selection and options ---------------------------------------------------------
    def select_function(self, func) -> None:
        if func != self.function:
            self.function = func
            self.events.function.emit(func)

    def set_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.mode = mode
            self.events.options.emit()

    def set_app_only(self, on: bool) -> None:
        if on != self.app_only:
            self.app_only = on
            self.events.options.emit()

    def set_focus(self, func) -> None:
        if func != self.focus:
            self.focus = func
            self.events.options.emit()

    def tree_options(self) -> dict:
        """The options of ``flame.build_tree`` as they are now (a snapshot)."""
        return {"mode": self.mode, "app_only": self.app_only, "focus": self.focus}

    def tree_request(self) -> dict:
        """The arguments of ``flame.build_tree`` for what is on show: a snapshot a worker can
        use while the user goes on clicking."""
        return {"graph": self.graph, **self.tree_options()}
