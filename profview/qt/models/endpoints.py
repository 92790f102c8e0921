"""The Endpoints tree: every request, the endpoints, and each endpoint's requests."""
from __future__ import annotations

import textwrap

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt

from ...analysis.stats import format_clock, format_ms
from ...analysis.summary import summarise
from ...model.scope import ALL, ENDPOINT, REQUEST, Scope
from .. import safe_text
from .roles import ALIGNMENT, DISPLAY, HORIZONTAL, ITEM_ROLE, RIGHT, SORT_ROLE, TOOLTIP


def has_millis(requests) -> bool:
    """Whether any request time has a fraction of a second worth showing: times taken from
    file names are whole seconds, and "12:04:31.000" on every row is noise."""
    return any(r.time % 1 for r in requests)


class EndpointModel(QAbstractItemModel):
    """Endpoints (top level, after an "All requests" row) with their requests as children.

    The model sorts and filters itself (``sort``, ``set_filter``): a QSortFilterProxyModel
    calls ``data()`` through Python for every comparison, which stalled the window for half a
    second on 1,000 requests; sorting a Python list by a key takes a millisecond.
    """

    HEADERS = ["Endpoint / request", "Requests", "p50 / elapsed", "p95", "Max", "Share",
               "Queries", "SQL ms", "Δ memory"]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.endpoints: list = []
        self.capture = None
        self._total = 1.0
        self._top: list = []
        self._children: dict = {}
        self._cache: dict = {}
        self._sort = (5, Qt.DescendingOrder)
        self._filter = ""
        self._millis = False
        # endpoint key → N+1 findings, marked in the name column.  (Not "flags": that name is
        # QAbstractItemModel.flags(), which Qt calls; shadowing it crashes PySide.)
        self.n_plus_one: dict = {}

    def set_n_plus_one(self, findings: dict) -> None:
        """Mark endpoints with N+1 patterns (computed in a worker after loading)."""
        self.n_plus_one = findings
        if self._top:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._top) - 1, 0))

    def set_capture(self, capture, endpoints: list) -> None:
        self.beginResetModel()
        self.n_plus_one = {}
        self.capture, self.endpoints = capture, list(endpoints)
        self._millis = has_millis(r for e in self.endpoints for r in e.requests)
        self._total = sum(e.total_ms for e in self.endpoints) or 1.0
        self._cache = {}                         # endpoint rows: percentiles computed once
        self._arrange()
        self.endResetModel()

    def sort(self, column, order=Qt.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order)
        old = {(p.internalId(), p.row()): p for p in self.persistentIndexList()}
        before = {key: self.item(p) for key, p in old.items()}
        self._arrange()
        for key, index in old.items():
            new = self.find(before[key])
            self.changePersistentIndex(index, self.index(new.row(), index.column(),
                                                         new.parent()) if new.isValid()
                                       else QModelIndex())
        self.layoutChanged.emit()

    def set_filter(self, text: str) -> None:
        self.beginResetModel()
        self._filter = text.lower()
        self._arrange()
        self.endResetModel()

    def _request_matches(self, r) -> bool:
        return self._filter in self._request_value(r, 0, DISPLAY).lower()

    def _arrange(self) -> None:
        column, order = self._sort
        rows = [e for e in self.endpoints
                if not self._filter or self._filter in e.name.lower()
                or any(self._request_matches(r) for r in e.requests)]
        rows.sort(key=lambda e: self._values(Scope.of_endpoint(e))[column][1],
                  reverse=order == Qt.DescendingOrder)
        self._top = [None] + rows if self.capture is not None else []
        self._children = {}

    def requests_at(self, row: int) -> list:
        """The (filtered, sorted) requests under top-level *row*."""
        found = self._children.get(row)
        if found is None:
            ep = self._top[row]
            found = [] if ep is None else [r for r in ep.requests
                                           if not self._filter or self._filter in ep.name.lower()
                                           or self._request_matches(r)]
            column, order = self._sort
            found.sort(key=lambda r: self._request_value(r, column, SORT_ROLE),
                       reverse=order == Qt.DescendingOrder)
            self._children[row] = found
        return found

    def find(self, item) -> QModelIndex:
        """The index showing *item* (a Scope, as returned by ``item()``), or an invalid
        index."""
        if item.is_all:
            return self.index(0, 0) if self._top else QModelIndex()
        if item.kind == ENDPOINT:
            for row, ep in enumerate(self._top):
                if ep is item.endpoint:
                    return self.index(row, 0)
            return QModelIndex()
        if item.kind != REQUEST:
            return QModelIndex()
        for row, ep in enumerate(self._top):
            if ep is not None and item.request in ep.requests:
                requests = self.requests_at(row)
                if item.request in requests:
                    return self.index(requests.index(item.request), 0, self.index(row, 0))
        return QModelIndex()

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
        if not parent.isValid():
            return len(self._top)
        if parent.internalId() != 0 or parent.column() != 0:
            return 0
        return len(self.requests_at(parent.row()))

    def hasChildren(self, parent=QModelIndex()):
        # Qt's default asks rowCount, which sorts an endpoint's requests: 25 ms on the GUI
        # thread for 10,000 requests just to draw the expand arrows.  Unfiltered, any request
        # means a child; sort when the row is opened.
        if not parent.isValid():
            return bool(self._top)
        if parent.internalId() != 0 or parent.column() != 0:
            return False
        ep = self._top[parent.row()]
        if not self._filter:
            return ep is not None and bool(ep.requests)
        return bool(self.requests_at(parent.row()))

    def columnCount(self, parent=QModelIndex()):
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == HORIZONTAL and role == DISPLAY:
            return self.HEADERS[section]
        return None

    def item(self, index):
        """The Scope a row shows: every request, an endpoint or a request."""
        if index.internalId() == 0:
            ep = self._top[index.row()]
            return ALL if ep is None else Scope.of_endpoint(ep)
        return Scope.of_request(self.requests_at(index.internalId() - 1)[index.row()])

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        if role not in (DISPLAY, SORT_ROLE, TOOLTIP, ALIGNMENT,
                        ITEM_ROLE):
            return None
        if role == ALIGNMENT:
            return RIGHT if index.column() else None
        item = self.item(index)
        if role == ITEM_ROLE:
            return item
        if item.kind == REQUEST:
            if role == TOOLTIP:
                return None
            return self._request_value(item.request, index.column(), role)
        value = self._values(item)[index.column()]
        if role == SORT_ROLE:
            return value[1]
        found = self.n_plus_one.get(item.endpoint.key) if item.kind == ENDPOINT else None
        if role == TOOLTIP:
            if index.column() != 0:
                return None
            why = getattr(item.endpoint, "why", "") if item.kind == ENDPOINT else ""
            text = value[0] + ("\n" + textwrap.fill(why, 90) if why else "")
            if found:
                return safe_text.tip("%s\nN+1: %s\n%.1f times per request%s" % (
                    text, found[0]["statement"][:200], found[0]["per_request"],
                    " from " + found[0]["location"] if found[0]["location"] else ""))
            return safe_text.tip(text)
        if found and index.column() == 0:
            return "⚠ N+1  " + value[0]
        return value[0]

    def _values(self, item) -> list:
        key = id(item.endpoint) if item.kind == ENDPOINT else 0
        if key not in self._cache:
            self._cache[key] = self._group_values(item)
        return self._cache[key]

    def _request_value(self, r, column: int, role) -> object:
        """One cell of a request row (there can be many thousands: nothing is precomputed)."""
        sort = role == SORT_ROLE
        if column == 0:
            return r.time if sort else "%s  %s %s%s" % (
                format_clock(r.time, millis=self._millis), r.method or "",
                r.url_path or r.name, "?" + r.query if r.query else "")
        if column == 1:
            return r.status or 0 if sort else (str(r.status) if r.status else "")
        if column == 2:
            return r.elapsed_ms if sort else format_ms(r.elapsed_ms)
        if column == 5:
            return r.elapsed_ms if sort else "%.1f%%" % (100 * r.elapsed_ms / self._total)
        if column == 6:
            return (-1 if r.n_queries is None else r.n_queries) if sort else (
                self._unknown() if r.n_queries is None else str(r.n_queries))
        if column == 7:
            return (-1.0 if r.sql_ms is None else r.sql_ms) if sort else (
                self._unknown() if r.sql_ms is None else "%.2f" % r.sql_ms)
        if column == 8:
            grew = memory_change(r)
            return (grew if grew is not None else -2 ** 62) if sort else format_bytes(grew)
        return 0 if sort else ""

    def _group_values(self, item) -> list:
        """The row of every request or of an endpoint: the endpoint summary's figures."""
        requests = item.requests_in(self.capture)
        s = summarise("All requests" if item.is_all else item.endpoint.name, requests,
                      getattr(self.capture, "has_queries", False), self._total)
        none = not requests    # "All requests" of an empty capture: "–", sorted as 0
        return [(s.name, "" if item.is_all else s.name), (str(s.count), s.count),
                (format_ms(s.p50_ms), s.p50_ms), (format_ms(s.p95_ms), s.p95_ms),
                (format_ms(s.max_ms), 0.0 if none else s.max_ms),
                ("–" if none else "%.1f%%" % (100 * s.share), s.total_ms),
                (self._unknown() if s.queries is None else "%.1f" % s.queries,
                 -1 if s.queries is None else s.queries),
                (self._unknown() if s.sql_ms is None else "%.2f" % s.sql_ms,
                 -1.0 if s.sql_ms is None else s.sql_ms),
                _median_memory(requests)]

    def _unknown(self) -> str:
        """How a missing count reads: blank without a query log, else "unknown" (its
        statements could not all be tied), never 0."""
        return "unknown" if getattr(self.capture, "has_queries", False) else ""


def memory_change(r):
    """A request's net memory change in bytes: tracemalloc's net when captured with
    memory=True (exact), else the resident set's growth; None when unknown."""
    return r.mem_net if r.mem_net is not None else r.rss_delta


def format_bytes(n) -> str:
    """``+1.2 MB``, ``+40 KB``, ``0``, ``−8 KB``; blank when unknown."""
    if n is None:
        return ""
    if n == 0:
        return "0"
    sign = "+" if n > 0 else "−"
    n = abs(n)
    return "%s%.1f MB" % (sign, n / 1e6) if n >= 1e6 else "%s%.0f KB" % (sign, max(1, n / 1e3))


def _median_memory(requests) -> tuple:
    """An endpoint's median net memory change per request, as (text, sort key)."""
    known = sorted(v for v in map(memory_change, requests) if v is not None)
    if not known:
        return "", -2 ** 62
    mid = known[len(known) // 2] if len(known) % 2 else (
        known[len(known) // 2 - 1] + known[len(known) // 2]) / 2
    return format_bytes(int(mid)), mid
