"""Qt item models over the session's data: endpoints with their requests, functions, edges.

Each returns display text for ``DisplayRole`` and the raw number for ``SORT_ROLE`` so that a
QSortFilterProxyModel sorts numerically.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QModelIndex, Qt

from ..analysis.codeloc import short_path, shorten
from ..analysis.stats import format_ms, p50, p95

SORT_ROLE = Qt.UserRole + 1
ITEM_ROLE = Qt.UserRole + 2     # the Endpoint, Request or FuncKey behind a row


def _location(key, limit: int) -> str:
    return "(built-in)" if key[0] == "~" else "%s:%d" % (short_path(key[0], limit), key[1])


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch)) + (".%03d" % (epoch % 1 * 1000))


class EndpointModel(QAbstractItemModel):
    """Endpoints (top level, after an "All requests" row) with their requests as children."""

    HEADERS = ["Endpoint / request", "Requests", "p50 / elapsed", "p95", "Max", "Share",
               "Queries"]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.endpoints: list = []
        self.capture = None
        self._total = 0.0

    def set_capture(self, capture, endpoints: list) -> None:
        self.beginResetModel()
        self.capture, self.endpoints = capture, list(endpoints)
        self._total = sum(e.total_ms for e in self.endpoints) or 1.0
        self._rows = [None] + self.endpoints     # row 0: all requests
        self._cache: dict = {}                   # endpoint rows: percentiles computed once
        self.endResetModel()

    # structure: internalId 0 for top-level rows, endpoint row + 1 for request rows
    def index(self, row, column, parent=QModelIndex()):
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index=QModelIndex()):
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent=QModelIndex()):
        if self.capture is None:
            return 0
        if not parent.isValid():
            return len(self._rows)
        if parent.internalId() != 0 or parent.column() != 0 or parent.row() == 0:
            return 0
        return len(self._rows[parent.row()].requests)

    def columnCount(self, parent=QModelIndex()):
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.HEADERS[section]
        return None

    def item(self, index):
        """``("all",)``, ``("endpoint", Endpoint)`` or ``("request", Request)``."""
        if index.internalId() == 0:
            ep = self._rows[index.row()]
            return ("all",) if ep is None else ("endpoint", ep)
        ep = self._rows[index.internalId() - 1]
        return ("request", ep.requests[index.row()])

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        item = self.item(index)
        if role == ITEM_ROLE:
            return item
        if role not in (Qt.DisplayRole, SORT_ROLE, Qt.ToolTipRole, Qt.TextAlignmentRole):
            return None
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignRight | Qt.AlignVCenter) if index.column() else None
        values = self._values(item)
        value = values[index.column()]
        if role == SORT_ROLE:
            return value[1]
        if role == Qt.ToolTipRole:
            return value[0] if index.column() == 0 else None
        return value[0]

    def _values(self, item) -> list:
        if item[0] != "request":
            key = id(item[1]) if item[0] == "endpoint" else 0
            if key not in self._cache:
                self._cache[key] = self._group_values(item)
            return self._cache[key]
        if item[0] == "request":
            r = item[1]
            label = "%s  %s %s%s" % (_clock(r.time), r.method or "", r.url_path or r.name,
                                     "?" + r.query if r.query else "")
            return [(label, r.time), (str(r.status) if r.status else "", r.status or 0),
                    (format_ms(r.elapsed_ms), r.elapsed_ms), ("", 0), ("", 0),
                    ("%.1f%%" % (100 * r.elapsed_ms / self._total), r.elapsed_ms),
                    ("" if r.n_queries is None else str(r.n_queries), r.n_queries or 0)]
        raise AssertionError(item)

    def _group_values(self, item) -> list:
        requests = self.capture.requests if item[0] == "all" else item[1].requests
        name = "All requests" if item[0] == "all" else item[1].name
        elapsed = [r.elapsed_ms for r in requests] or [0.0]
        total = sum(elapsed)
        queries = [r.n_queries for r in requests if r.n_queries is not None]
        mean_q = sum(queries) / len(requests) if queries else None
        return [(name, "" if item[0] == "all" else name), (str(len(requests)), len(requests)),
                (format_ms(p50(elapsed)), p50(elapsed)), (format_ms(p95(elapsed)), p95(elapsed)),
                (format_ms(max(elapsed)), max(elapsed)),
                ("%.1f%%" % (100 * total / self._total), total),
                ("" if mean_q is None else "%.1f" % mean_q, mean_q or 0)]


class FunctionModel(QAbstractTableModel):
    """The pstats table of a call graph: calls, self and total time, per call, location."""

    HEADERS = ["ncalls", "tottime", "percall", "cumtime", "percall", "file:line", "function"]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []
        self.requests = 1

    def set_graph(self, graph) -> None:
        self.beginResetModel()
        self.rows = sorted(graph.functions.items(), key=lambda kv: -kv[1].tottime) \
            if graph is not None else []
        self.requests = graph.requests if graph is not None else 1
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.HEADERS[section]
        if orientation == Qt.Horizontal and role == Qt.ToolTipRole:
            return ("times in ms, summed over %d requests" % self.requests
                    if self.requests > 1 else "times in ms")
        return None

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
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignRight | Qt.AlignVCenter) if col < 5 else None
        if role == Qt.ToolTipRole:
            return "%s:%d(%s)" % key if col >= 5 else None
        values = [
            ("%d/%d" % (s.ncalls, s.primcalls) if s.ncalls != s.primcalls else "%d" % s.ncalls,
             s.ncalls),
            ("%.3f" % (s.tottime * 1e3), s.tottime),
            ("%.4f" % (s.tottime * 1e3 / s.ncalls) if s.ncalls else "", 
             s.tottime / s.ncalls if s.ncalls else 0.0),
            ("%.3f" % (s.cumtime * 1e3), s.cumtime),
            ("%.4f" % (s.cumtime * 1e3 / s.primcalls) if s.primcalls else "",
             s.cumtime / s.primcalls if s.primcalls else 0.0),
            (_location(key, 60), "%s:%08d" % (key[0], key[1])),
            (shorten(key[2], 120), key[2]),
        ]
        if role == Qt.DisplayRole:
            return values[col][0]
        if role == SORT_ROLE:
            return values[col][1]
        return None


class EdgeModel(QAbstractTableModel):
    """Callers or callees of one function: the other function and the edge's stats."""

    HEADERS = ["function", "calls", "time ms", "self ms", "file:line"]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def set_edges(self, edges) -> None:
        self.beginResetModel()
        self.rows = sorted(edges.items(), key=lambda kv: -kv[1].cumtime) if edges else []
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        key, s = self.rows[index.row()]
        if role == ITEM_ROLE:
            return key
        if role == Qt.TextAlignmentRole:
            return int(Qt.AlignRight | Qt.AlignVCenter) if 0 < index.column() < 4 else None
        values = [(shorten(key[2], 80), key[2]), (str(s.ncalls), s.ncalls),
                  ("%.3f" % (s.cumtime * 1e3), s.cumtime), ("%.3f" % (s.tottime * 1e3),
                                                            s.tottime),
                  (_location(key, 50), key[0])]
        if role == Qt.DisplayRole:
            return values[index.column()][0]
        if role == SORT_ROLE:
            return values[index.column()][1]
        if role == Qt.ToolTipRole:
            return "%s:%d(%s)" % key
        return None
