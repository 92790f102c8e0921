"""The SQL of what is on show: statements in order, grouped by fingerprint, N+1 and duplicate
badges, "Copy as SQL" and "Copy EXPLAIN".  Rows are computed in a worker."""
from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (QHBoxLayout, QPushButton,
                               QTabWidget, QVBoxLayout, QWidget)

from ...analysis import plans, sql
from ...analysis.stats import format_clock, format_ms
from ..models import ITEM_ROLE, FlatModel
from ..models.roles import DISPLAY, FOREGROUND, TOOLTIP
from ..workers import Latest, Task
from .tables import plain_table
from .. import safe_text

NO_PLAN = ("No query plans in this capture: profview.capture(..., explain=True) asks the "
           "database for the plan of slow and repeated statements (plans.jsonl).")
EMPTY = ("No SQL for this selection. Capture with profview.capture (queries.jsonl), or put a "
         "SQLAlchemy echo log or Flask-SQLAlchemy query dump beside the profiles.")


def sql_rows(queries_by_request: dict, requests) -> tuple:
    """``(statement rows, group rows)`` for *requests*: each statement row is
    ``(query, request, badges)``; the groups are ``analysis.sql.grouped`` plus an N+1 flag."""
    rows, everything, flagged = [], [], set()
    for r in requests:
        queries = queries_by_request.get(sql.request_key(r), ())
        n1 = {fp for fp, _n, _loc in sql.n_plus_one(queries)}
        dup = {(s, p) for s, p, _n in sql.duplicates(queries)}
        flagged |= n1
        for q in queries:
            badges = []
            if sql.fingerprint(q.statement) in n1:
                badges.append("N+1")
            if (q.statement, q.parameters) in dup:
                badges.append("duplicate")
            if (q.duration_ms or 0.0) > sql.SLOW_MS:
                badges.append("slow")
            rows.append((q, r, " ".join(badges)))
        everything.extend(queries)
    groups = sql.grouped(everything, len(requests))
    for g in groups:
        g["n_plus_one"] = g["fingerprint"] in flagged
    return rows, groups


class StatementsModel(FlatModel):
    HEADERS = ["time", "ms", "notes", "statement", "parameters", "location", "request"]

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        q, r, badges = self.rows[index.row()]
        col = index.column()
        if role == ITEM_ROLE:
            return (q, r)
        if role == TOOLTIP and col in (3, 4):
            return safe_text.tip(q.statement if col == 3 else q.parameters)
        if role == FOREGROUND and col == 2 and badges:
            return QColor("red")
        if role != DISPLAY:
            return None
        if col == 0:
            if q.start is None:
                return ""
            return format_clock(q.start, millis=True)
        if col == 1:
            return "" if q.duration_ms is None else "%.2f" % q.duration_ms
        if col == 2:
            return badges
        if col == 3:
            return " ".join(q.statement.split())[:300]
        if col == 4:
            return (q.parameters or "")[:200]
        if col == 5:
            return q.location or ""
        return "%s %s" % (r.method or "", r.url_path or r.name)


class GroupsModel(FlatModel):
    HEADERS = ["count", "per request", "total ms", "mean ms", "max ms", "N+1", "statement"]

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        g = self.rows[index.row()]
        col = index.column()
        if role == TOOLTIP and col == 6:
            return safe_text.tip(g["fingerprint"])
        if role == FOREGROUND and col == 5 and g["n_plus_one"]:
            return QColor("red")
        if role != DISPLAY:
            return None
        return [str(g["count"]), "%.1f" % g["per_request"], "%.2f" % g["total_ms"],
                "%.3f" % g["mean_ms"], "%.2f" % g["max_ms"],
                "N+1" if g["n_plus_one"] else "", g["fingerprint"][:300]][col]


class SqlPanel(QWidget):
    """SQL for the current request, endpoint or time range.  ``request_selected(request)``
    fires when a statement is picked (the timeline highlights that request)."""

    request_selected = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self._per_request: dict = {}
        self._latest = Latest()
        self._wanted = None       # a statement to select once the rows are on show
        self.statements = StatementsModel(self)
        self.groups = GroupsModel(self)
        self.table = plain_table(self.statements)
        self.group_table = plain_table(self.groups)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Statements")
        self.tabs.addTab(self.group_table, "By fingerprint")
        self.summary = safe_text.label(EMPTY)
        self.summary.setWordWrap(True)
        self.copy_sql = QPushButton("Copy as SQL")
        self.copy_explain = QPushButton("Copy EXPLAIN")
        for button in (self.copy_sql, self.copy_explain):
            button.setEnabled(False)
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.copy_sql)
        bar.addWidget(self.copy_explain)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.tabs)
        # the database's plan of the selected statement, when the capture asked for it
        self.plan = safe_text.label("")
        self.plan.setWordWrap(True)
        self.plan.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.plan.setStyleSheet("font-family: monospace;")
        self.plan.hide()
        layout.addWidget(self.plan)
        self.table.selectionModel().currentChanged.connect(self._on_statement)
        self.copy_sql.clicked.connect(lambda: self._copy(sql.inline_parameters))
        self.copy_explain.clicked.connect(lambda: self._copy(sql.explain))
        session.events.capture.connect(self._on_capture)
        session.events.scope.connect(self._on_scope)

    def _on_capture(self, capture) -> None:
        self._per_request = {}
        if capture.has_queries:   # indexing every statement: in a worker, then show
            Task(sql.by_request, capture.queries).start(on_done=self._on_index, owner=self)
        else:
            self._on_scope(self.session.scope)

    def _on_index(self, per_request: dict) -> None:
        self._per_request = per_request
        self._on_scope(self.session.scope)

    def _on_scope(self, scope) -> None:
        generation = self._latest.next()
        requests = self.session.requests_of(scope)
        if not self._per_request:
            self._show(generation, ([], []), requests)
            return
        Task(sql_rows, self._per_request, requests).start(
            on_done=lambda result: self._show(generation, result, requests), owner=self)

    def _show(self, generation: int, result, requests) -> None:
        if not self._latest.current(generation):
            return
        rows, groups = result
        self.plan.hide()             # the rows are new: no statement is selected
        self.statements.set_rows(rows)
        self.groups.set_rows(groups)
        for table, widths in ((self.table, (95, 55, 90, 420, 110, 220)),
                              (self.group_table, (60, 80, 80, 70, 70, 50))):
            for col, width in enumerate(widths):
                table.setColumnWidth(col, width)
        self._select_wanted()
        if not rows:
            self.summary.setText(EMPTY if not self._per_request else
                                 "No SQL statements ran in this selection.")
            return
        total = sum(q.duration_ms or 0.0 for q, _r, _b in rows)
        elapsed = sum(r.elapsed_ms for r in requests)
        n1 = sum(1 for g in groups if g["n_plus_one"])
        self.summary.setText("%d statements in %d request%s, %s of SQL (%.0f%% of their time)%s"
                             % (len(rows), len(requests), "" if len(requests) == 1 else "s",
                                format_ms(total), 100 * total / elapsed if elapsed else 0,
            "; %d N+1 pattern%s: load the related rows with the parent query (selectinload "
            "or joinedload)" % (n1, "" if n1 == 1 else "s") if n1 else ""))

    def show_statement(self, statement: str) -> None:
        """Select the first run of *statement*, or of a statement of its shape (a finding
        may quote a fingerprint), now or when the scope's rows arrive."""
        self._wanted = sql.fingerprint(statement)
        self._select_wanted()

    def _select_wanted(self) -> None:
        if self._wanted is None:
            return
        for row, (q, _r, _b) in enumerate(self.statements.rows):
            if sql.fingerprint(q.statement) == self._wanted:
                self._wanted = None
                self.tabs.setCurrentWidget(self.table)
                index = self.statements.index(row, 3)
                self.table.setCurrentIndex(index)
                self.table.scrollTo(index)
                return

    def _on_statement(self, current, _previous) -> None:
        ok = current.isValid()
        self.copy_sql.setEnabled(ok)
        self.copy_explain.setEnabled(ok)
        if ok:
            self._show_plan(current.data(ITEM_ROLE)[0])
            self.request_selected.emit(current.data(ITEM_ROLE)[1])
        else:
            self.plan.hide()

    def _show_plan(self, query) -> None:
        capture = self.session.capture
        plan = plans.plan_for(capture.plans, query.statement) if capture is not None else None
        if plan is None:
            self.plan.setText(NO_PLAN if capture is not None and not capture.plans else
                              "No plan was captured for this statement's shape.")
        else:
            told = plans.advice(plan, query.statement, capture.plans)
            # the plan's name is on the line above: the sentence says only what it means
            meaning = re.sub(r"^the captured plan \(.*?\)\) ", "→ it ", told.text) if told \
                else ""
            self.plan.setText(plans.describe(plan) + ("\n" + meaning + (
                "\n" + told.create_index if told.create_index else "") if told else ""))
        self.plan.show()

    def _copy(self, render) -> str | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        q, _r = index.data(ITEM_ROLE)
        text = render(q.statement, q.parameters)
        QGuiApplication.clipboard().setText(text)
        return text
