"""The pstats tables of a call graph: functions, and a function's callers or callees."""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from ...analysis.codeloc import short_path, shorten
from ...model.callgraph import format_func
from .. import safe_text
from .flat import FlatModel
from .roles import ALIGNMENT, DISPLAY, HORIZONTAL, ITEM_ROLE, RIGHT, SORT_ROLE, TOOLTIP


def _location(key, limit: int) -> str:
    return "(built-in)" if key[0] == "~" else "%s:%d" % (short_path(key[0], limit), key[1])


class FunctionModel(FlatModel):
    """The pstats table of a call graph: calls, self and total time, per call, location."""

    HEADERS = ["ncalls", "tottime", "percall", "cumtime", "percall", "file:line", "function"]

    def __init__(self, parent=None):
        super().__init__(parent)
        self._all: list = []
        self.requests = 1
        self._sort = (1, Qt.DescendingOrder)
        self._filter = ""

    def set_graph(self, graph) -> None:
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

    def set_filter(self, text: str) -> None:
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
        for i, (key, _s) in enumerate(self.rows):
            if key == func:
                return i
        return -1

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        key, s = self.rows[index.row()]
        col = index.column()
        if role == ITEM_ROLE:
            return key
        if role == ALIGNMENT:
            return RIGHT if col < 5 else None
        if role == TOOLTIP:
            return safe_text.tip(format_func(key)) if col >= 5 else None
        if role == DISPLAY:
            return _FUNCTION_TEXT[col](key, s)
        if role == SORT_ROLE:
            return _FUNCTION_SORT[col](key, s)
        return None


# One small function per column: data() is called for every visible cell and by sorting, so
# it computes only the cell asked for.
_FUNCTION_TEXT = [
    lambda k, s: "%d/%d" % (s.ncalls, s.primcalls) if s.ncalls != s.primcalls
    else "%d" % s.ncalls,
    lambda k, s: "%.3f" % (s.tottime * 1e3),
    lambda k, s: "%.4f" % (s.tottime * 1e3 / s.ncalls) if s.ncalls else "",
    lambda k, s: "%.3f" % (s.cumtime * 1e3),
    lambda k, s: "%.4f" % (s.cumtime * 1e3 / s.primcalls) if s.primcalls else "",
    lambda k, s: _location(k, 60),
    lambda k, s: shorten(k[2], 120),
]
_FUNCTION_SORT = [
    lambda k, s: s.ncalls,
    lambda k, s: s.tottime,
    lambda k, s: s.tottime / s.ncalls if s.ncalls else 0.0,
    lambda k, s: s.cumtime,
    lambda k, s: s.cumtime / s.primcalls if s.primcalls else 0.0,
    lambda k, s: "%s:%08d" % (k[0], k[1]),
    lambda k, s: k[2],
]


class EdgeModel(FlatModel):
    """Callers or callees of one function: the other function and the edge's stats."""

    HEADERS = ["function", "calls", "time ms", "self ms", "file:line"]

    def set_edges(self, edges) -> None:
        self.beginResetModel()
        self.rows = sorted(edges.items(), key=lambda kv: -kv[1].cumtime) if edges else []
        self.endResetModel()

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        key, s = self.rows[index.row()]
        if role == ITEM_ROLE:
            return key
        if role == ALIGNMENT:
            return RIGHT if 0 < index.column() < 4 else None
        values = [(shorten(key[2], 80), key[2]), (str(s.ncalls), s.ncalls),
                  ("%.3f" % (s.cumtime * 1e3), s.cumtime), ("%.3f" % (s.tottime * 1e3),
                                                            s.tottime),
                  (_location(key, 50), key[0])]
        if role == DISPLAY:
            return values[index.column()][0]
        if role == SORT_ROLE:
            return values[index.column()][1]
        if role == TOOLTIP:
            return safe_text.tip(format_func(key))
        return None
