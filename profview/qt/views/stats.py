"""Endpoint statistics: a table of latency figures and the latency histogram of the selected
endpoint.  The numbers are the endpoint summaries (``analysis.summary``)."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QSplitter, QTableView, QVBoxLayout, QWidget

from ...analysis.stats import format_ms
from ...analysis.summary import endpoint_summaries
from ...analysis.timeline import log_histogram
from ...model.scope import ENDPOINT, REQUEST, Scope
from ..models import ITEM_ROLE, SORT_ROLE, FlatModel
from ..models.roles import ALIGNMENT, DISPLAY, RIGHT
from ..workers import Task
from .. import safe_text
from .tables import compact_rows

COLUMNS = [("endpoint", "name", str), ("count", "count", str), ("p50", "p50_ms", format_ms),
           ("p95", "p95_ms", format_ms), ("p99", "p99_ms", format_ms),
           ("max", "max_ms", format_ms), ("mean", "mean_ms", format_ms),
           ("share", "share", lambda v: "%.1f%%" % (100 * v)),
           ("queries/req", "queries", lambda v: "%.1f" % v),
           ("SQL ms/req", "sql_ms", lambda v: "%.2f" % v)]


class StatsModel(FlatModel):
    """One row per endpoint: count, p50, p95, p99, max, mean, share, queries and SQL ms."""

    HEADERS = [c[0] for c in COLUMNS]

    def set_rows(self, rows) -> None:
        """``(endpoint, Summary)`` rows made by ``endpoint_summaries`` (in a worker, for big
        captures)."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def sort(self, column, order=Qt.AscendingOrder) -> None:
        key = COLUMNS[column][1]
        self.layoutAboutToBeChanged.emit()
        def value(row):
            v = getattr(row[1], key)
            return v if key == "name" else (v is None, v or 0)
        self.rows.sort(key=value, reverse=order == Qt.DescendingOrder)
        self.layoutChanged.emit()

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        ep, stats = self.rows[index.row()]
        _title, key, fmt = COLUMNS[index.column()]
        value = getattr(stats, key)
        if role == ITEM_ROLE:
            return ep
        if role == SORT_ROLE:
            return value
        if role == ALIGNMENT:
            return RIGHT if index.column() else None
        if role == DISPLAY:
            return "" if value is None else fmt(value)
        return None


TICK_PX = 60          # room for one tick label ("500 ms") and a gap
ROUND_STEPS = ((1, 2, 5), (1, 3), (1,))   # round latencies, finest first


def short_ms(ms: float, digits: int = 2) -> str:
    """A tick label: *digits* significant digits, ``ms`` or ``s`` (``0.42 ms``, ``80 ms``,
    ``1.5 s``)."""
    if ms >= 1000:
        return "%g s" % float("%.*g" % (digits, ms / 1000.0))
    return "%g ms" % float("%.*g" % (digits, ms))


def nice_step(span: float, most: int) -> float:
    """The smallest 1, 2 or 5 × 10^k step that cuts *span* into at most *most* parts."""
    raw = span / max(1, most)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def round_ticks(low: float, high: float, steps) -> list:
    """log10 positions of the round latencies (*steps* × powers of ten) in [low, high]."""
    out = []
    for decade in range(math.floor(low), math.ceil(high) + 1):
        out += [decade + math.log10(m) for m in steps
                if low <= decade + math.log10(m) <= high]
    return out


def linear_ticks(low: float, high: float, most: int) -> list:
    """log10 positions of evenly stepped latencies in [low, high] (log10 ms): for a range
    too narrow for two round ones (80–99 ms → 80, 90)."""
    lo_ms, hi_ms = 10 ** low, 10 ** high
    step = nice_step(hi_ms - lo_ms, most)
    first = math.ceil(lo_ms / step)
    return [math.log10(k * step) for k in range(first, int(hi_ms / step) + 1) if k > 0]


class _MsAxis(pg.AxisItem):
    """An axis over log10(ms) values that labels its ticks in ms.

    pyqtgraph spaced ticks evenly in log10 and labelled each ``format_ms`` of it ("83.18 ms"):
    long strings at odd values that overlapped.  Ticks here sit on round latencies, only as
    many as fit, with short labels."""

    def tickValues(self, minVal, maxVal, size):
        # pyqtgraph hides a label that sticks out of the axis: keep ticks half a label in
        pad = (maxVal - minVal) * TICK_PX / 2.5 / max(size, 1.0)
        minVal, maxVal = minVal + pad, maxVal - pad
        most = max(2, int(size / TICK_PX))
        for steps in ROUND_STEPS:
            values = round_ticks(minVal, maxVal, steps)
            if len(values) <= most:
                break
        else:   # many decades: every n-th one
            values = values[::math.ceil(len(values) / most)]
        if len(values) < 2:
            values = linear_ticks(minVal, maxVal, most)
        return [(1.0, values)]

    def tickStrings(self, values, scale, spacing):
        # as few digits as keep neighbouring labels apart (80.5 and 81 need three)
        for digits in (2, 3, 4):
            labels = [short_ms(10 ** v, digits) for v in values]
            if len(set(labels)) == len(labels):
                break
        return labels


class StatsPanel(QWidget):
    """The statistics table and the histogram of the selected endpoint."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.model = StatsModel(self)
        self._sized = False
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.verticalHeader().setVisible(False)
        compact_rows(self.table)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.histogram = pg.PlotWidget(background="w",
                                       axisItems={"bottom": _MsAxis(orientation="bottom")})
        self.histogram.setLabel("bottom", "elapsed (log scale)")
        self.histogram.setLabel("left", "requests")
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.histogram)
        split.setSizes([700, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(split)
        self.table.clicked.connect(
            lambda index: session.select_scope(Scope.of_endpoint(index.data(ITEM_ROLE))))
        session.events.capture.connect(self._on_capture)
        session.events.scope.connect(self._on_scope)

    def _on_capture(self, capture) -> None:
        # percentiles over every request: the loader computes them (``derived``), else a
        # worker does (20 ms of the GUI thread at 10,000 requests)
        endpoints = self.session.endpoints
        if self.session.derived.summaries is not None:
            self._on_rows(endpoints, self.session.derived.summaries)
            return
        Task(endpoint_summaries, endpoints, capture.has_queries).start(
            on_done=lambda rows: self._on_rows(endpoints, rows), owner=self)

    def _on_rows(self, endpoints, rows) -> None:
        if endpoints is not self.session.endpoints:
            return   # a newer capture arrived meanwhile
        self.model.set_rows(rows)
        self.table.sortByColumn(7, Qt.DescendingOrder)
        # Widths from the font, once: resizeColumnsToContents measured every cell on the GUI
        # thread each time a capture arrived (~90 ms of a load's longest stall).
        if not self._sized:
            self._sized = True
            digits = self.table.fontMetrics().horizontalAdvance("00000.0 ms")
            self.table.setColumnWidth(0, 4 * digits)
            for col in range(1, self.model.columnCount()):
                self.table.setColumnWidth(col, digits)

    def _on_scope(self, scope) -> None:
        endpoint = None
        if scope.kind == ENDPOINT:
            endpoint = scope.endpoint
        elif scope.kind == REQUEST:
            endpoint = next((e for e in self.session.endpoints if scope.request in e.requests),
                            None)
        self.show_histogram(endpoint)

    def show_histogram(self, endpoint) -> None:
        """Draw the latency histogram of *endpoint* (None: clear it)."""
        self.histogram.clear()
        if endpoint is None:
            self.histogram.setTitle("")
            return
        edges, counts = log_histogram([r.elapsed_ms for r in endpoint.requests])
        logs = np.log10(edges)
        # whole requests on the count axis: "0.5 requests" read as a bug
        step = max(1, int(nice_step(max(counts.max(), 1), 4)))
        self.histogram.getAxis("left").setTickSpacing(step, step)
        self.histogram.addItem(pg.BarGraphItem(x0=logs[:-1], x1=logs[1:], height=counts,
                                               brush=(90, 130, 210), pen=(40, 60, 120)))
        self.histogram.setTitle(safe_text.esc(endpoint.name))
        self.bars = counts
