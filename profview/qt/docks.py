"""The window's docks around the flame graph: which panel goes where, the first-run sizes,
and the layout saved in the settings."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QDockWidget

LEFT, BOTTOM = Qt.LeftDockWidgetArea, Qt.BottomDockWidgetArea
# The endpoint list never collapses to a sliver: its names and p50 stay readable.
ENDPOINTS_MIN_WIDTH = 240


def build(window) -> dict:
    """``{name: QDockWidget}`` for the window's panels, docked and tabbed: Endpoints on the
    left; Timeline, Request (one request in time order), Call graph and Findings in one
    bottom group; Functions, SQL, Statistics
    and Problems beside it.  (A comparison has the centre: ``MainWindow.show_comparison``.)"""
    docks = {}
    for name, widget, area in (("Endpoints", window.endpoints, LEFT),
                               ("Timeline", window.timeline, BOTTOM),
                               ("Request", window.request_timeline, BOTTOM),
                               ("Call graph", window.callgraph, BOTTOM),
                               ("Findings", window.findings, BOTTOM),
                               ("Functions", window.functions, BOTTOM),
                               ("SQL", window.sql, BOTTOM),
                               ("Statistics", window.stats, BOTTOM),
                               ("Problems", window.problems, BOTTOM)):
        dock = QDockWidget(name, window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        window.addDockWidget(area, dock)
        docks[name] = dock
    window.endpoints.setMinimumWidth(ENDPOINTS_MIN_WIDTH)
    window.splitDockWidget(docks["Timeline"], docks["Functions"], Qt.Horizontal)
    for name in ("Request", "Call graph", "Findings"):
        window.tabifyDockWidget(docks["Timeline"], docks[name])
    docks["Timeline"].raise_()
    for name in ("SQL", "Statistics", "Problems"):
        window.tabifyDockWidget(docks["Functions"], docks[name])
    docks["Functions"].raise_()
    # While the docks were being tabbed, Qt's layout made the window's minimum the width of
    # all of them side by side (1,080 px) and never lowered it: let the layout set it again
    # (0 means "not set by us") from the tabbed arrangement.
    window.setMinimumSize(0, 0)
    window.layout().activate()
    return docks


def default_layout(window) -> None:
    """First run: give the flame graph the room."""
    d = window.docks
    # a third of the window, at most 420 px: a fixed 420 beside the flame graph's minimum
    # pushed a 1024 px window out to 1080
    window.resizeDocks([d["Endpoints"]], [max(ENDPOINTS_MIN_WIDTH, min(420, window.width() // 3))],
                       Qt.Horizontal)
    window.resizeDocks([d["Timeline"]], [int(window.height() * 0.38)], Qt.Vertical)
    window.resizeDocks([d["Timeline"], d["Functions"]],
                       [window.width() // 2, window.width() // 2], Qt.Horizontal)


def restore(window, store) -> bool:
    """Window geometry and dock layout from *store* (QSettings); a stored value Qt cannot use
    (a hand-edited file) is ignored and named in the Problems panel.  True when the dock
    layout was restored."""
    restored = False
    for key, apply in (("geometry", window.restoreGeometry), ("state", window.restoreState)):
        value = store.value(key)
        if value is None:
            continue
        try:
            ok = isinstance(value, (QByteArray, bytes)) and apply(value)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            window._note_settings_problem("settings: the saved window %s is not valid and "
                                          "was ignored" % key)
        restored = restored or (ok and key == "state")
    return restored
