"""Endpoint browser and function tables (pstats-like, with callers and callees)."""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLineEdit, QSplitter,
                               QTableView, QTreeView, QVBoxLayout, QWidget)

from ...model.scope import SET
from ..models import ITEM_ROLE, SORT_ROLE, EdgeModel, EndpointModel, FunctionModel
from .. import safe_text
from .titled import titled_column


def _proxy(model, parent) -> QSortFilterProxyModel:
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
    proxy.setFilterKeyColumn(-1)
    proxy.setRecursiveFilteringEnabled(True)
    return proxy


def _filter_box(placeholder: str, set_filter) -> QLineEdit:
    box = QLineEdit()
    box.setPlaceholderText(placeholder)
    box.setClearButtonEnabled(True)
    box.textChanged.connect(set_filter)
    return box


# per column after the name: the widest text it usually holds (header or value)
ENDPOINT_SAMPLES = ("Requests", "p50 / elaps", "000 ms", "000 ms", "100%", "Queries",
                    "SQL ms")
# the columns in the order shown: name, p50, p95, share, then requests, max, queries, SQL
ENDPOINT_ORDER = (0, 2, 3, 5, 1, 4, 6, 7, 8)


class EndpointPanel(QWidget):
    """Endpoints with p50/p95/max/share, each expandable to its requests."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.model = EndpointModel(self)
        self._selecting = False
        self.proxy = self.model   # sorts and filters itself (see EndpointModel)
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.view.header().setSectionResizeMode(QHeaderView.Interactive)
        self.filter = _filter_box("Filter endpoints and requests", self.model.set_filter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter)
        layout.addWidget(self.view)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        session.events.capture.connect(self._on_capture)
        session.events.scope.connect(self._on_scope)

    def _on_capture(self, capture) -> None:
        self.model.set_capture(capture, self.session.endpoints)
        self.view.sortByColumn(5, Qt.DescendingOrder)   # by share of total time
        # Fixed widths: resizeColumnToContents reads every request row (0.5 s at 1,000).
        # Compact widths from sample text (resizeColumnToContents reads every request row:
        # 0.5 s at 1,000), and what a user reads first next to the name: p50, p95, share.
        metrics = self.view.fontMetrics()
        self.view.setColumnWidth(0, 190)
        for col, sample in enumerate(ENDPOINT_SAMPLES, 1):
            self.view.setColumnWidth(col, metrics.horizontalAdvance(sample) + 14)
        header = self.view.header()
        for visual, logical in enumerate(ENDPOINT_ORDER):
            header.moveSection(header.visualIndex(logical), visual)

    def _on_scope(self, scope) -> None:
        if self._selecting:
            return   # the change came from this tree: it already shows it
        current = self.view.currentIndex()
        if scope.kind != SET and (not current.isValid() or current.data(ITEM_ROLE) != scope):
            parent = self.model.find(scope).parent()
            if parent.isValid():
                self.view.expand(parent)
            self.select(scope)

    def _on_current(self, current, _previous) -> None:
        if current.isValid():
            self._selecting = True
            try:
                self.session.select_scope(current.data(ITEM_ROLE))
            finally:
                self._selecting = False

    def select(self, scope) -> None:
        """Make *scope* the current row (as a click would)."""
        index = self.model.find(scope)
        if index.isValid():
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)


def compact_rows(table) -> None:
    """Rows as tall as the text and a little air: Qt's default (~30 px with some styles)
    showed half as many rows."""
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)


def plain_table(model) -> QTableView:
    """A read-only table of whole rows, one selectable at a time."""
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.SingleSelection)
    table.verticalHeader().setVisible(False)
    compact_rows(table)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class _Table(QTableView):
    """A sortable table of whole rows; *sort* is the ``(column, order)`` it starts in."""

    def __init__(self, model, sort, parent=None, own_sort: bool = False):
        super().__init__(parent)
        self.proxy = model if own_sort else _proxy(model, self)
        self.setModel(self.proxy)
        # the indicator first: enabling sorting sorts by whatever the header shows
        self.horizontalHeader().setSortIndicator(*sort)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.verticalHeader().setVisible(False)
        compact_rows(self)
        self.horizontalHeader().setStretchLastSection(True)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # a row made current while the table was a hidden tab was scrolled to with the
        # wrong viewport: scroll again once it has its real size
        QTimer.singleShot(0, self, lambda: self.scrollTo(self.currentIndex()))


class FunctionPanel(QWidget):
    """The function table; the selected function's callers and callees beside it."""

    selected = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.model = FunctionModel(self)
        self._sized = False
        self.callers_model, self.callees_model = EdgeModel(self), EdgeModel(self)
        self.table = _Table(self.model, self.model.sort_order(), own_sort=True)
        by_time = (EdgeModel.TIME, Qt.DescendingOrder)
        self.callers = _Table(self.callers_model, by_time)
        self.callees = _Table(self.callees_model, by_time)
        self.filter = _filter_box("Filter functions", self._on_filter)
        self.title = safe_text.label("")
        side = titled_column((("Callers (who called it)", self.callers),
                              ("Callees (what it called)", self.callees)))
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.filter)
        lay.addWidget(self.table)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setSizes([600, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(splitter)
        for table in (self.table, self.callers, self.callees):
            table.clicked.connect(self._on_clicked)
        # the arrow keys move the current row: that selects its function, as a click does
        # (not in callers and callees: stepping there would replace the list being stepped)
        self.table.selectionModel().currentChanged.connect(self._on_current)
        session.events.graph.connect(self._on_graph)
        session.events.function.connect(self._on_function)

    def _on_graph(self, graph) -> None:
        self.model.set_graph(graph)
        if not self._sized:   # resizeColumnsToContents reads every row: 1 s at 1,000 rows
            self._sized = True
            self._size_columns()
        self._on_function(self.session.function)

    def _size_columns(self) -> None:
        digits = self.table.fontMetrics().horizontalAdvance("000000.000")
        self.table.setColumnWidth(FunctionModel.NAME, int(digits * 2.2))
        for col in range(FunctionModel.NAME + 1, FunctionModel.LOCATION):
            self.table.setColumnWidth(col, digits)
        metrics = self.table.fontMetrics()
        for table in (self.callers, self.callees):
            table.setColumnWidth(0, int(digits * 1.8))
            for col in range(1, 4):   # room for the header and its sort arrow
                header = metrics.horizontalAdvance(EdgeModel.HEADERS[col]) + 24
                table.setColumnWidth(col, max(int(digits * 0.8), header))

    def _on_filter(self, text: str) -> None:
        self.model.set_filter(text)
        self._show_current(self.session.function)   # the reset dropped the current row

    def _on_clicked(self, index) -> None:
        self.session.select_function(index.data(ITEM_ROLE))

    def _on_current(self, current, _previous) -> None:
        if current.isValid():
            self.session.select_function(current.data(ITEM_ROLE))

    def _on_function(self, func) -> None:
        graph = self.session.graph
        if func is None or graph is None or func not in graph.functions:
            self.callers_model.set_edges({})
            self.callees_model.set_edges({})
            self.title.setText("Select a function (click a frame or a row) to see its "
                               "callers and callees")
            return
        self.callers_model.set_edges(graph.callers(func))
        self.callees_model.set_edges(graph.callees(func))
        self.title.setText("%s   %s:%d" % (func[2], func[0], func[1]))
        self._show_current(func)

    def _show_current(self, func) -> None:
        """Make *func*'s row current and scroll to it (a selection from elsewhere, e.g. the
        flame graph, lands on a row the user may never have scrolled to)."""
        row = self.model.row_of(func) if func is not None else -1
        if row < 0:
            return
        index = self.model.index(row, 0)
        if self.table.currentIndex().row() != row:
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
        self.table.scrollTo(index)
