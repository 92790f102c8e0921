"""The pstats tables of a call graph: functions, and a function's callers or callees.

Every table that lists functions shows the name first, then the figures, then where the code
lives (``file:line``, the middle of a long path elided, the full path in the tooltip): at the
old order, file and name were the last columns, off-screen, and rows read as bare numbers.
"""
from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, Qt

from ...analysis.codeloc import shorten
from ...model.callgraph import format_func
from .. import safe_text
from .flat import FlatModel
from .roles import ALIGNMENT, DISPLAY, HORIZONTAL, ITEM_ROLE, RIGHT, SORT_ROLE, TOOLTIP

LOCATION_CHARS = 40    # a location column's text: the package and the file name fit
_PACKAGE_DIR = re.compile(r"[/\\](?:site|dist)-packages[/\\]", re.IGNORECASE)
_SEP = re.compile(r"[/\\]")


def elide_path(filename: str, limit: int = LOCATION_CHARS) -> str:
    """*filename* for a table: from the package folder for installed code, the middle
    folders elided when long, keeping the first folder and the file name.

    >>> elide_path("/venv/lib/python3.11/site-packages/sqlalchemy/orm/loading.py")
    'sqlalchemy/orm/loading.py'
    >>> elide_path("/home/someone/projects/school/app/views/admin/reports.py")
    '/home/…/app/views/admin/reports.py'
    """
    if filename.startswith("<"):          # <frozen abc>, <sqlalchemy generated wrapper …>
        return _elide_text(filename, limit)
    match = _PACKAGE_DIR.search(filename)
    if match:
        filename = filename[match.end():]
    if len(filename) <= limit:
        return filename
    sep = "\\" if "\\" in filename and "/" not in filename else "/"   # Windows stays Windows
    parts = _SEP.split(filename)
    head = parts[0] + sep if parts[0] else sep + parts[1] + sep
    rest = parts[1:] if parts[0] else parts[2:]
    tail = [rest.pop()]
    while rest and len(head) + 2 + len(sep.join([rest[-1]] + tail)) <= limit:
        tail.insert(0, rest.pop())
    return head + ("…" + sep if rest else "") + sep.join(tail)


def _elide_text(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return text[:half] + "…" + text[len(text) - (limit - 1 - half):]


def location_text(key) -> str:
    """A function's ``file:line`` for a table cell (see ``elide_path``)."""
    return "(built-in)" if key[0] == "~" else "%s:%d" % (elide_path(key[0]), key[1])


def location_tip(key) -> str:
    """A function's full ``file:line``, literal (the path comes from the capture)."""
    return safe_text.tip("built-in (no Python file)" if key[0] == "~"
                         else "%s:%d" % (key[0], key[1]))


def function_tip(key) -> str:
    """A function's full name and location, literal."""
    return safe_text.tip(format_func(key))


def location_key(key) -> str:
    """What a location column sorts by: the full path, then the line as a number."""
    return "%s:%08d" % (key[0], key[1])


class FunctionModel(FlatModel):
    """The pstats table of a call graph: function, calls, self and total time, per call,
    location."""

    HEADERS = ["function", "ncalls", "tottime", "percall", "cumtime", "percall", "file:line"]
    NAME, LOCATION = 0, 6
    TOTTIME = 2

    def __init__(self, parent=None):
        super().__init__(parent)
        self._all: list = []
        self.requests = 1
        self._sort = (self.TOTTIME, Qt.DescendingOrder)
        self._filter = ""

    def set_graph(self, graph) -> None:
        """Show the functions of *graph* (None: none)."""
        self.beginResetModel()
        self._all = list(graph.functions.items()) if graph is not None else []
        self.requests = graph.requests if graph is not None else 1
        self._arrange()
        self.endResetModel()

    def sort(self, column, order=Qt.AscendingOrder) -> None:
        """Sorted here, not by a proxy model (see EndpointModel)."""
        self.layoutAboutToBeChanged.emit()
        keys = [self.rows[p.row()][0] for p in self.persistentIndexList()]
        self._sort = (column, order)
        self._arrange()
        rows = {key: i for i, (key, _s) in enumerate(self.rows)}
        for p, key in zip(self.persistentIndexList(), keys):
            self.changePersistentIndex(p, self.index(rows[key], p.column())
                                       if key in rows else QModelIndex())
        self.layoutChanged.emit()

    def sort_order(self) -> tuple:
        """``(column, Qt.SortOrder)`` the rows are in."""
        return self._sort

    def set_filter(self, text: str) -> None:
        """Keep the functions whose ``file:line(name)`` contains *text* (any case)."""
        self.beginResetModel()
        self._filter = text.lower()
        self._arrange()
        self.endResetModel()

    def _arrange(self) -> None:
        column, order = self._sort
        key = _FUNCTION_SORT[column]
        rows = [kv for kv in self._all if not self._filter
                or self._filter in (format_func(kv[0])).lower()]
        rows.sort(key=lambda kv: key(*kv), reverse=order == Qt.DescendingOrder)
        self.rows = rows

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == HORIZONTAL and role == TOOLTIP:
            return ("times in ms, summed over %d requests" % self.requests
                    if self.requests > 1 else "times in ms")
        return super().headerData(section, orientation, role)

    def row_of(self, func) -> int:
        """The row showing *func*, or -1."""
        for i, (key, _s) in enumerate(self.rows):
            if key == func:
                return i
        return -1

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        key, s = self.rows[index.row()]
        col = index.column()
        if role == DISPLAY:
            return _FUNCTION_TEXT[col](key, s)
        if role == ITEM_ROLE:
            return key
        if role == ALIGNMENT:
            return RIGHT if self.NAME < col < self.LOCATION else None
        if role == TOOLTIP:
            return (location_tip(key) if col == self.LOCATION
                    else function_tip(key) if col == self.NAME else None)
        if role == SORT_ROLE:
            return _FUNCTION_SORT[col](key, s)
        return None


# One small function per column: data() is called for every visible cell and by sorting, so
# it computes only the cell asked for.
_FUNCTION_TEXT = [
    lambda k, s: shorten(k[2], 120),
    # 0 calls with time: read from sampled stacks, which count no calls (unknown, not none)
    lambda k, s: "%d/%d" % (s.ncalls, s.primcalls) if s.ncalls != s.primcalls
    else "%d" % s.ncalls if s.ncalls or not (s.tottime or s.cumtime) else "?",
    lambda k, s: "%.3f" % (s.tottime * 1e3),
    lambda k, s: "%.4f" % (s.tottime * 1e3 / s.ncalls) if s.ncalls else "",
    lambda k, s: "%.3f" % (s.cumtime * 1e3),
    lambda k, s: "%.4f" % (s.cumtime * 1e3 / s.primcalls) if s.primcalls else "",
    lambda k, s: location_text(k),
]
_FUNCTION_SORT = [
    lambda k, s: k[2],
    lambda k, s: s.ncalls,
    lambda k, s: s.tottime,
    lambda k, s: s.tottime / s.ncalls if s.ncalls else 0.0,
    lambda k, s: s.cumtime,
    lambda k, s: s.cumtime / s.primcalls if s.primcalls else 0.0,
    lambda k, s: location_key(k),
]


class EdgeModel(FlatModel):
    """Callers or callees of one function: the other function and the edge's stats."""

    HEADERS = ["function", "calls", "time ms", "self ms", "file:line"]
    TIME = 2   # the column the view sorts by at first, descending

    def set_edges(self, edges) -> None:
        """Show *edges* (``{func: Stats}``), the most time first."""
        self.beginResetModel()
        self.rows = sorted(edges.items(), key=lambda kv: -kv[1].cumtime) if edges else []
        self.endResetModel()

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        key, s = self.rows[index.row()]
        col = index.column()
        if role == ITEM_ROLE:
            return key
        if role == ALIGNMENT:
            return RIGHT if 0 < col < 4 else None
        if role == TOOLTIP:
            return location_tip(key) if col == 4 else function_tip(key)
        if role not in (DISPLAY, SORT_ROLE):
            return None
        values = [(shorten(key[2], 80), key[2]), (str(s.ncalls), s.ncalls),
                  ("%.3f" % (s.cumtime * 1e3), s.cumtime),
                  ("%.3f" % (s.tottime * 1e3), s.tottime),
                  (location_text(key), location_key(key))]
        return values[col][0 if role == DISPLAY else 1]
