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
from ..models import ITEM_ROLE, FlatModel
from ..models.roles import DISPLAY, FOREGROUND, TOOLTIP
from ..workers import Latest, Task
from .tables import plain_table
from .flame import FlameView
from .. import safe_text

VERDICT_COLOURS = {"faster": QColor(30, 110, 200), "slower": QColor(200, 40, 30),
                   "new": QColor(120, 60, 160), "gone": QColor(110, 110, 110)}
NOT_SIGNIFICANT = QColor(140, 140, 140)


def _fmt_ms(side, key):
    return format_ms(side[key]) if side and side.get(key) is not None else "–"


class EndpointDeltaModel(FlatModel):
    HEADERS = ["endpoint", "verdict", "p50 before", "p50 after", "Δ ms", "Δ %", "p", "q",
               "p95", "requests", "queries/req", "SQL ms/req"]

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == ITEM_ROLE:
            return r
        if role == FOREGROUND and col == 1 and r["verdict"] in VERDICT_COLOURS:
            return VERDICT_COLOURS[r["verdict"]]
        if role == TOOLTIP and col == 1 and r["note"]:
            return safe_text.tip(r["note"])
        if role != DISPLAY:
            return None
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
                pair("p95_ms", format_ms), pair("requests", str), pair("queries_per_request", lambda v: "%.1f" % v),
                pair("sql_ms_per_request", lambda v: "%.2f" % v)][col]


class FunctionDeltaModel(FlatModel):
    HEADERS = ["Δ self ms/req", "self before", "self after", "total before", "total after",
               "calls Δ/req", "", "q", "function"]

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid() or role not in (DISPLAY, ITEM_ROLE, FOREGROUND):
            return None
        d = self.rows[index.row()]
        if role == ITEM_ROLE:
            return d["key"]
        delta = d["after_s_per_request"] - d["before_s_per_request"]
        if role == FOREGROUND:
            if not d.get("significant", True):
                return NOT_SIGNIFICANT
            return VERDICT_COLOURS["slower" if delta > 0 else "faster"] \
                if index.column() == 0 and delta else None
        ms = [1e3 * v for v in (delta, d["before_s_per_request"], d["after_s_per_request"],
                                d["before_total_s"], d["after_total_s"])]
        q = d.get("q_value")
        return (["%+.3f" % ms[0]] + ["%.3f" % v for v in ms[1:]] +
                ["%+.1f" % d["calls_delta"], d["status"], "" if q is None else "%.3g" % q,
                 d["function"]])[index.column()]


class ComparePanel(QWidget):
    """Shown once a second capture is loaded for comparison."""


    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.before = self.after = self.result = None
        self._latest = Latest()
        self.endpoints = EndpointDeltaModel(self)
        self.functions = FunctionDeltaModel(self)
        self.table = plain_table(self.endpoints)
        self.function_table = plain_table(self.functions)
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
        legend = QLabel("<span style='color:#1e6ec8'>■ faster</span> "
                        "<span style='color:#c8281e'>■ slower</span> (per request; grey: "
                        "not significant)")
        lower = QSplitter(Qt.Horizontal)
        lower.addWidget(self.function_table)
        lower.addWidget(self.sql)
        flame_box = QWidget()
        fl = QVBoxLayout(flame_box)
        fl.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(self.size_by)
        bar.addWidget(legend)
        bar.addStretch(1)
        bar.addWidget(self.all_functions)
        fl.addLayout(bar)
        fl.addWidget(self.flame)
        split = QSplitter(Qt.Vertical)
        for w in (self.table, flame_box, lower):
            split.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addWidget(split)
        self.table.selectionModel().currentChanged.connect(self._on_endpoint)
        self.size_by.currentIndexChanged.connect(lambda _i: self._on_endpoint(
            self.table.currentIndex(), None))
        self.all_functions.toggled.connect(lambda _on: self._show_function_rows())
        self.function_table.clicked.connect(
            lambda index: session.select_function(index.data(ITEM_ROLE)))
        self.flame.clicked.connect(session.select_function)

    def set_captures(self, before, after, result: dict) -> None:
        self.before, self.after, self.result = before, after, result
        self.endpoints.set_rows(result["endpoints"])
        self.table.setColumnWidth(0, 230)
        counts = {}
        for r in result["endpoints"]:
            counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        s = result["settings"]
        self.summary.setText(
            "Before: %d requests, after: %d.  %s.  A verdict needs q < %g (Mann–Whitney U, "
            "Benjamini–Hochberg false discovery rate across endpoints) and a median change of "
            "at least %g%% and %g ms, beyond the timing resolution; * marks a note (fewer "
            "queries without a significant change in time, not tested: too few requests or "
            "too little spread for any split to show the minimum effect)." % (
                result["before"]["requests"], result["after"]["requests"],
                ", ".join("%d %s" % (n, v) for v, n in sorted(counts.items())), s["alpha"],
                s["min_pct"], s["min_ms"]))
        if result["endpoints"]:
            self.table.setCurrentIndex(self.endpoints.index(0, 0))

    def _on_endpoint(self, current, _previous) -> None:
        if not current.isValid() or self.result is None:
            return
        row = current.data(ITEM_ROLE)
        names = row["before_name"], row["after_name"]
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
