"""Before/after: endpoint verdicts, function deltas per request, SQL changes, and a
differential flame graph (frames sized by one capture, coloured by the change)."""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QListWidget,
                               QSplitter, QVBoxLayout, QWidget)

from ...analysis import compare_functions as cf
from ...loading.reread import pair_matrices
from ...analysis.flame import build_tree
from ...loading.scopes import scope_graph
from ...analysis.stats import format_ms
from ...analysis.codeloc import shorten
from ..models import ITEM_ROLE
from ..models.flat import SortedModel
from ..models.functions import function_tip, location_key, location_text, location_tip
from ..models.roles import ALIGNMENT, DISPLAY, FOREGROUND, RIGHT, TOOLTIP
from ...model.scope import ENDPOINT, Scope
from ..workers import Latest, Task
from .tables import plain_table
from .flame import FlameView
from .. import safe_text

VERDICT_COLOURS = {"faster": QColor(30, 110, 200), "slower": QColor(200, 40, 30),
                   "new": QColor(120, 60, 160), "gone": QColor(110, 110, 110)}
NOT_SIGNIFICANT = QColor(140, 140, 140)


CHANGED = ("slower", "faster")     # the verdicts of a significant change


def _fmt_ms(side, key):
    return format_ms(side[key]) if side and side.get(key) is not None else "–"


def importance(row: dict) -> tuple:
    """How an endpoint row ranks in the verdict table: significant changes first, then the
    tested endpoints, then the unknown (new, gone, not testable); each by |Δ median|, faster
    and slower alike.  The comparison itself lists slower before faster (the CI gate's
    order): in a table showing few rows that hid the big improvements."""
    delta = row["delta_p50_ms"]
    if row["verdict"] in CHANGED:
        group = 0
    elif delta is None or not row.get("testable", True):
        group = 2
    else:
        group = 1
    return group, -abs(delta or 0.0), row["name"]


def _side(r, side, key):
    return r[side].get(key) if r[side] else None


class EndpointDeltaModel(SortedModel):
    """One row per endpoint of the comparison: its verdict and figures before and after."""

    HEADERS = ["endpoint", "verdict", "p50 before", "p50 after", "Δ ms", "Δ %", "p", "q",
               "p95", "requests", "queries/req", "SQL ms/req"]
    VERDICT = 1

    def __init__(self, parent=None):
        super().__init__(parent)
        self._sort = (self.VERDICT, Qt.AscendingOrder)

    def sort_value(self, r, column: int):
        """By name, by importance (the verdict column), else by the figure (after's)."""
        if column == 0:
            return r["name"].lower()
        if column == self.VERDICT:
            return importance(r)
        key = [None, None, ("before", "p50_ms"), ("after", "p50_ms"), "delta_p50_ms",
               "delta_p50_pct", "p_value", "q_value", ("after", "p95_ms"),
               ("after", "requests"), ("after", "queries_per_request"),
               ("after", "sql_ms_per_request")][column]
        return _side(r, *key) if isinstance(key, tuple) else r.get(key)

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == ITEM_ROLE:
            return r
        if role == ALIGNMENT:
            return RIGHT if col > self.VERDICT else None
        if role == FOREGROUND and col == 1 and r["verdict"] in VERDICT_COLOURS:
            return VERDICT_COLOURS[r["verdict"]]
        if role == TOOLTIP and col == 1 and r["note"]:
            return safe_text.tip(r["note"])
        if role == TOOLTIP and col == 0:
            return safe_text.tip(r["name"])
        if role != DISPLAY:
            return None
        return self._text(r, col)

    @staticmethod
    def _text(r, col: int) -> str:
        b, a = r["before"], r["after"]

        def pair(key, fmt):
            def one(side):
                return "–" if not side or side[key] is None else fmt(side[key])
            return "%s → %s" % (one(b), one(a))

        return [r["name"], r["verdict"] + (" *" if r["note"] else ""),
                _fmt_ms(b, "p50_ms"), _fmt_ms(a, "p50_ms"),
                "" if r["delta_p50_ms"] is None else "%+.2f" % r["delta_p50_ms"],
                "" if r["delta_p50_pct"] is None else "%+.0f%%" % r["delta_p50_pct"],
                "" if r["p_value"] is None else "%.3g" % r["p_value"],
                "" if r.get("q_value") is None else "%.3g" % r["q_value"],
                pair("p95_ms", format_ms), pair("requests", str),
                pair("queries_per_request", lambda v: "%.1f" % v),
                pair("sql_ms_per_request", lambda v: "%.2f" % v)][col]


def _ms(d) -> list:
    """Δ self, self before and after, total before and after: ms per request."""
    delta = d["after_s_per_request"] - d["before_s_per_request"]
    return [1e3 * v for v in (delta, d["before_s_per_request"], d["after_s_per_request"],
                              d["before_total_s"], d["after_total_s"])]


class FunctionDeltaModel(SortedModel):
    """The functions of one endpoint before and after, per request.  Unsorted (column -1)
    they stay in the comparison's order: significant changes first, by |Δ self|."""

    HEADERS = ["function", "Δ self ms/req", "self before", "self after", "total before",
               "total after", "calls Δ/req", "new/gone", "q", "file:line"]
    NAME, DELTA, LOCATION = 0, 1, 9

    def sort_value(self, d, column: int):
        """The cell's number (name, status and location: their text)."""
        if column == self.NAME:
            return d["key"][2]
        if self.NAME < column < 6:
            return _ms(d)[column - 1]
        return {6: d["calls_delta"], 7: d["status"], 8: d.get("q_value"),
                self.LOCATION: location_key(d["key"])}[column]

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        d = self.rows[index.row()]
        col = index.column()
        if role == ITEM_ROLE:
            return d["key"]
        if role == ALIGNMENT:
            return RIGHT if self.NAME < col < self.LOCATION else None
        if role == TOOLTIP:
            return (location_tip(d["key"]) if col == self.LOCATION
                    else function_tip(d["key"]) if col == self.NAME else None)
        if role == FOREGROUND:
            return self._colour(d, col)
        return self._text(d, col) if role == DISPLAY else None

    def _colour(self, d, col: int):
        if not d.get("significant", True):
            return NOT_SIGNIFICANT
        delta = d["after_s_per_request"] - d["before_s_per_request"]
        return VERDICT_COLOURS["slower" if delta > 0 else "faster"] \
            if col == self.DELTA and delta else None

    @staticmethod
    def _text(d, col: int) -> str:
        ms = _ms(d)
        q = d.get("q_value")
        return ([shorten(d["key"][2], 120), "%+.3f" % ms[0]] + ["%.3f" % v for v in ms[1:]]
                + ["%+.1f" % d["calls_delta"], d["status"], "" if q is None else "%.3g" % q,
                   location_text(d["key"])])[col]


TABLE_ROWS = 6    # verdict rows shown before the table scrolls (when the panel is tall enough)


class ComparePanel(QWidget):
    """Shown once a second capture is loaded for comparison."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.before = self.after = self.result = None
        self._latest = Latest()
        self.endpoints = EndpointDeltaModel(self)
        self.functions = FunctionDeltaModel(self)
        self.table = _sortable(plain_table(self.endpoints),
                               (EndpointDeltaModel.VERDICT, Qt.AscendingOrder))
        self.function_table = _sortable(plain_table(self.functions), (-1, Qt.AscendingOrder))
        self.sql = QListWidget()
        self.flame = FlameView(self)
        self.flame.empty_text = "Pick an endpoint above to see its differential flame graph"
        self.size_by = QComboBox()
        self.size_by.addItems(["Frames sized by after", "Frames sized by before"])
        self.all_functions = QCheckBox("All functions")
        self.all_functions.setToolTip("Also list functions whose change is not significant "
                                      "(Mann–Whitney per request, Benjamini–Hochberg q ≥ "
                                      "alpha), in grey")
        self._rows_all: list = []
        self.summary = safe_text.label("Compare two captures: File › Compare…, or profview "
                                       "BEFORE --compare AFTER")
        self.summary.setWordWrap(True)
        self.split = self._layout()
        self._user_split = False     # the user dragged the handle: their sizes stay
        self.split.splitterMoved.connect(lambda *_: setattr(self, "_user_split", True))
        self.table.selectionModel().currentChanged.connect(self._on_endpoint)
        self.size_by.currentIndexChanged.connect(lambda _i: self._on_endpoint(
            self.table.currentIndex(), None))
        self.all_functions.toggled.connect(lambda _on: self._show_function_rows())
        self.function_table.clicked.connect(
            lambda index: session.select_function(index.data(ITEM_ROLE)))
        self.flame.clicked.connect(session.select_function)

    def _layout(self) -> QSplitter:
        """The verdicts across the top, the differential flame graph below with the function
        deltas and SQL changes beside it.  Stacked three high the verdicts got two rows and
        the flame graph five frames."""
        legend = QLabel("<span style='color:#1e6ec8'>■ faster</span> "
                        "<span style='color:#c8281e'>■ slower</span> per request; grey: "
                        "not significant")
        bar = QHBoxLayout()
        bar.addWidget(self.size_by)
        bar.addWidget(legend)
        bar.addStretch(1)
        # the checkbox sits with the table it filters: in the flame graph's bar it made the
        # bar (and so the flame graph) too wide to leave the function names any room
        side = _splitter(Qt.Vertical, (_column(self.all_functions, self.function_table), 3),
                         (self.sql, 1))
        lower = _splitter(Qt.Horizontal, (_column(bar, self.flame), 3), (side, 2))
        split = _splitter(Qt.Vertical, (self.table, 1), (lower, 2))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        return split

    def set_captures(self, before, after, result: dict) -> None:
        """Show the comparison *result* of *before* and *after*; the most important
        endpoint row is picked."""
        self.before, self.after, self.result = before, after, result
        self.endpoints.set_rows(result["endpoints"])
        self.table.setColumnWidth(0, 230)
        self._size_function_columns()
        self.summary.setText(_summary(result))
        self.summary.setToolTip(_method(result["settings"]))
        if result["endpoints"]:
            self.table.setCurrentIndex(self.endpoints.index(0, 0))
        self.fit_table()

    def fit_table(self) -> None:
        """Give the verdict table the height of its rows (up to ``TABLE_ROWS``), the
        differential flame graph the rest, but never less than half the panel."""
        rows = min(max(self.endpoints.rowCount(), 1), TABLE_ROWS)
        table = self.table
        wanted = (table.horizontalHeader().sizeHint().height()
                  + rows * table.verticalHeader().defaultSectionSize()
                  + table.horizontalScrollBar().sizeHint().height() + 2 * table.frameWidth())
        total = sum(self.split.sizes())
        if total > 0:
            table_h = min(wanted, total // 2)
            self.split.setSizes([table_h, total - table_h])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.result is not None and not self._user_split:
            self.fit_table()

    def _size_function_columns(self) -> None:
        metrics = self.function_table.fontMetrics()
        digits = metrics.horizontalAdvance("0000.000")
        self.function_table.setColumnWidth(FunctionDeltaModel.NAME, int(digits * 2.5))
        for col in range(FunctionDeltaModel.NAME + 1, FunctionDeltaModel.LOCATION):
            header = metrics.horizontalAdvance(FunctionDeltaModel.HEADERS[col]) + 16
            self.function_table.setColumnWidth(col, max(digits, header))

    def _on_endpoint(self, current, _previous) -> None:
        if not current.isValid() or self.result is None:
            return
        row = current.data(ITEM_ROLE)
        names = row["before_name"], row["after_name"]
        self._follow(row["before_name"])
        self._rows_all = []
        self.functions.set_rows([])
        self.sql.clear()
        for c in row["sql_changes"]:
            self.sql.addItem("%.1f → %.1f per request   %s" % (c["before"], c["after"],
                                                            c["statement"][:200]))
        if not row["sql_changes"]:
            self.sql.addItem("No change in SQL per request" if self.before.has_queries
                             else "No query logs loaded")
        generation = self._latest.next()
        by_before = self.size_by.currentIndex() == 1
        Task(_diff_tree, self.before, self.after, names, by_before).start(
            on_done=lambda res: self._show_flame(generation, res), owner=self)

    def _follow(self, name) -> None:
        """Show the picked endpoint (of the before capture) in every other panel: endpoint
        tree, timeline, flame graph, tables and SQL.  An endpoint new in the after capture
        has no before side to show."""
        session = self.session
        if name is None or session.capture is not self.before:
            return
        endpoint = next((e for e in session.endpoints if e.name == name), None)
        scope = session.scope
        if endpoint is not None and not (scope is not None and scope.kind == ENDPOINT
                                         and scope.endpoint is endpoint):
            session.select_scope(Scope.of_endpoint(endpoint))

    def _show_function_rows(self) -> None:
        rows = self._rows_all
        tested = any(r["q_value"] is not None for r in rows)    # not for new or gone
        if tested and not self.all_functions.isChecked():
            rows = [r for r in rows if r["significant"]]
        self.functions.set_rows(rows[:500])

    def _show_flame(self, generation: int, result) -> None:
        if not self._latest.current(generation) or result is None:
            return
        tree, graph, delta, significant, rows = result
        self._rows_all = rows
        self._show_function_rows()
        self.flame.set_tree(tree, graph, delta, significant)
        self.flame.set_selected(self.session.function)


def _sortable(table, sort):
    """*table* sorting on a header click, starting in *sort* ``(column, order)``."""
    table.horizontalHeader().setSortIndicator(*sort)   # before: enabling sorts by it
    table.setSortingEnabled(True)
    return table


def _column(top, widget) -> QWidget:
    """*top* (a widget or a layout) above *widget*, without margins."""
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    if isinstance(top, QWidget):
        lay.addWidget(top)
    else:
        lay.addLayout(top)
    lay.addWidget(widget, 1)   # the extra height to the widget, none to the bar above it
    return box


class _Shares(QSplitter):
    """A splitter that keeps its parts at fixed shares of its size until the user drags a
    handle.  (``setSizes`` before the first show was not kept: the flame graph's size hint
    won and the other parts got slivers.)"""

    def __init__(self, orientation, shares):
        super().__init__(orientation)
        self.shares = list(shares)
        self._dragged = False
        self.splitterMoved.connect(self._on_moved)

    def _on_moved(self, _pos, _index) -> None:
        self._dragged = True

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self._dragged:
            length = self.width() if self.orientation() == Qt.Horizontal else self.height()
            total = sum(self.shares)
            self.setSizes([length * share // total for share in self.shares])


def _splitter(orientation, *parts) -> QSplitter:
    """A splitter of ``(widget, share)`` parts (see ``_Shares``)."""
    split = _Shares(orientation, [share for _w, share in parts])
    for widget, _share in parts:
        split.addWidget(widget)
    return split


def _summary(result: dict) -> str:
    """One plain line: how many requests, how many endpoints changed."""
    counts = {}
    for r in result["endpoints"]:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    verdicts = ", ".join("%d %s" % (n, v) for v, n in sorted(counts.items()))
    return "%d requests before, %d after.  Endpoints: %s.  (* a note; hover here for how " \
        "a verdict is made.)" % (result["before"]["requests"], result["after"]["requests"],
                                 verdicts or "none")


def _method(s: dict) -> str:
    """How a verdict is reached, for the summary's tooltip."""
    return ("An endpoint is faster or slower when the change is significant (q < %g: "
            "Mann–Whitney U, Benjamini–Hochberg false discovery rate across endpoints) and "
            "its median moves by at least %g%% and %g ms, beyond the timing resolution.\n"
            "* marks a note: fewer queries without a significant change in time, or not "
            "tested (too few requests, or too little spread for any split to show the "
            "minimum effect)." % (s["alpha"], s["min_pct"], s["min_ms"]))


def _endpoints(before, after, names) -> tuple:
    """The endpoints of one comparison row (its side's names: they may differ, see
    ``compare.match_endpoints``)."""
    from ...analysis.endpoints import group
    eb = next((e for e in group(before) if e.name == names[0]), None) if names[0] else None
    ea = next((e for e in group(after) if e.name == names[1]), None) if names[1] else None
    return eb, ea


def _diff_tree(before, after, names, by_before: bool):
    """(tree, graph, per-node Δ, per-node significance, function rows) for one endpoint:
    merged before and after, and each function tested, in a worker."""
    eb, ea = _endpoints(before, after, names)
    rows = cf.function_deltas(eb, ea, top=0, matrices=pair_matrices(
        eb, ea, (before.store, after.store)))
    # forkserver, as every pool this process starts: forking a process with threads (Qt's,
    # an import warming up) is unsafe
    gb = scope_graph(before, eb.requests, mp_context="forkserver", background=True)[0] \
        if eb else None
    ga = scope_graph(after, ea.requests, mp_context="forkserver", background=True)[0] \
        if ea else None
    shown = (gb if by_before else ga) or ga or gb
    if shown is None:
        return None
    scaled = shown.scaled(1.0 / shown.requests)
    per_request = type(shown)(scaled.functions, scaled.edges, 1)   # already per request
    tree = build_tree(per_request)
    empty = type(shown)({}, {}, 1)
    significant = cf.node_significance(tree, [r["key"] for r in rows
                                               if r["total_significant"]]) if eb and ea else None
    return tree, per_request, cf.node_deltas(tree, gb or empty, ga or empty), significant, rows
