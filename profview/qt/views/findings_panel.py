"""Findings: the performance problems the capture shows (``analysis.findings``), most severe
first, each with its evidence, the usual fix and copyable text.  Endpoints, requests, functions
and statements in a finding are links: they open in the other views."""
from __future__ import annotations

from html import escape

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QPushButton, QSplitter,
                               QTextBrowser, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from ...analysis.findings import find, settings_from
from ...loading.reread import Reader
from ...loading.scan import no_gc
from ...analysis.stats import format_ms
from ...model.scope import ENDPOINT, Scope
from ..workers import Task
from .. import safe_text
from ..models.roles import ITEM_ROLE

COLOURS = {"high": "#c62828", "medium": "#ef6c00", "low": "#9e9d24", "info": "#1565c0"}
WAITING = "Looking for known problems…"
NONE_FOUND = ("No known problem found in this capture (N+1 and slow queries, blocking I/O, "
              "templates, repeated work, cold starts, debug servers, pool waits, sessions, "
              "password hashing). Thresholds: the [findings] settings, see the README.")


def find_quietly(capture, endpoints, settings) -> list:
    """The findings (in a worker thread), computed with the cyclic collector off.  The rules
    cache the call graphs of the profiles they read; as that cache grew, each full collection
    took longer (up to 80 ms at 10,000 requests) while holding the GIL, and the window froze
    for it.  The cache holds no cycles and is freed, by reference counting, before the
    collector is back.  (A worker process was tried: pickling a 10,000-request capture to
    send it is one long C call that holds the GIL for 0.1 s.)"""
    with no_gc():
        read = Reader(capture)
        return find(capture, endpoints, settings, read=read, kept=read.kept)


def thresholds(store: QSettings):
    """Findings settings with the overrides kept under ``findings/`` in the app's settings;
    a bad override is ignored and named in the returned message."""
    store.beginGroup("findings")
    pairs = {key: store.value(key) for key in store.childKeys()}
    store.endGroup()
    try:
        return settings_from(pairs), ""
    except ValueError as exc:
        return settings_from({}), "Ignored: %s" % exc


class FindingsPanel(QWidget):
    """The findings list and the selected finding.  ``statement_selected(str)`` asks the SQL
    panel to show a statement."""

    statement_selected = Signal(str)
    updated = Signal()            # a new list is on show

    def __init__(self, session, store: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.session = session
        self.store = store
        self.findings: list = []
        self._for = None          # the capture the list (or the running search) belongs to
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["severity", "finding", "at stake"])
        self.list.setRootIsDecorated(False)
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.Stretch)    # the title takes what is left
        self.list.setColumnWidth(0, 62)
        self.list.setColumnWidth(2, 90)
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the finding's statement (EXPLAIN …) or snippet")
        self.copy_button.setEnabled(False)
        self.info = safe_text.label("Findings appear once a capture is loaded.")
        self.info.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addWidget(self.info, 1)
        bar.addWidget(self.copy_button)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.list)
        split.addWidget(self.detail)
        split.setSizes([480, 460])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(split)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemClicked.connect(self._on_clicked)
        self.detail.anchorClicked.connect(self._on_link)
        self.copy_button.clicked.connect(self.copy)
        session.events.capture.connect(self._on_capture)

    # --- data --------------------------------------------------------------------------
    def _on_capture(self, capture) -> None:
        self.findings = []
        self._for = None
        self.list.clear()
        self.detail.clear()
        self.copy_button.setEnabled(False)
        self.info.setText(WAITING if capture.requests else "")

    def run(self) -> None:
        """Look for findings in the capture on show, unless that is done or under way.  The
        window calls it once the first picture is up: the rules read profiles again."""
        capture = self.session.capture
        if capture is None or capture is self._for or not capture.requests:
            return
        self._for = capture
        settings, note = thresholds(self.store) if self.store is not None else \
            (settings_from({}), "")
        self._note = note
        Task(find_quietly, capture, list(self.session.endpoints), settings).start(
            on_done=lambda found: self._on_found(capture, found),
            on_failed=self._on_failed, owner=self)

    def _on_failed(self, message: str) -> None:
        self._for = None
        self.info.setText("Could not look for findings: %s" % message)
        self.updated.emit()   # what is on show is final (a screenshot waits for it)

    def _on_found(self, capture, found) -> None:
        if capture is not self.session.capture:
            return   # a newer capture is on show; its own search is coming
        self.set_findings(found)

    def set_findings(self, found) -> None:
        """Show *found* (``Finding`` objects, most severe first)."""
        self.findings = list(found)
        self.list.clear()
        for i, f in enumerate(self.findings):
            stake = ("%s × %d = %s" % (format_ms(f.cost_ms), f.stake_requests,
                                         format_ms(f.stake_ms))
                     if f.cost_ms and f.stake_requests else
                     format_ms(f.cost_ms) + " per request" if f.cost_ms else "")
            item = QTreeWidgetItem(self.list, [f.severity, f.title, stake])
            item.setForeground(0, QBrush(QColor(COLOURS.get(f.severity, "black"))))
            item.setToolTip(1, safe_text.tip(f.summary))
            item.setData(0, ITEM_ROLE, i)
        counts = {}
        for f in self.findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        text = ", ".join("%d %s" % (counts[s], s) for s in COLOURS if s in counts)
        self.info.setText(((text + ": click one to see it in the other views")
                           if self.findings else NONE_FOUND)
                          + ("  " + self._note if getattr(self, "_note", "") else ""))
        if self.findings:
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self.updated.emit()

    # --- the selected finding ----------------------------------------------------------
    def current(self):
        item = self.list.currentItem()
        return None if item is None else self.findings[item.data(0, ITEM_ROLE)]

    def _on_current(self, item, _previous) -> None:
        finding = self.current()
        self.copy_button.setEnabled(bool(finding and finding.copy))
        self.detail.setHtml(render(finding) if finding else "")

    def _on_clicked(self, item, _column) -> None:
        finding = self.current()
        if finding is not None and finding.endpoints:
            self.open_endpoint(finding.endpoints[0])

    def copy(self) -> str | None:
        finding = self.current()
        if finding is None or not finding.copy:
            return None
        QGuiApplication.clipboard().setText(finding.copy)
        return finding.copy

    # --- links into the other views ----------------------------------------------------
    def _on_link(self, url) -> None:
        kind, _sep, index = url.toString().partition(":")
        finding = self.current()
        if finding is None or not index.isdigit():
            return
        i = int(index)
        if kind == "endpoint":
            self.open_endpoint(finding.endpoints[i])
        elif kind == "request":
            self.open_request(finding.requests[i])
        elif kind == "evidence":
            self.open_evidence(finding, finding.evidence[i])

    def open_endpoint(self, name: str) -> None:
        endpoint = self.session.endpoint_named(name)
        if endpoint is not None:
            self.session.select_scope(Scope.of_endpoint(endpoint))

    def open_request(self, path: str) -> None:
        request = next((r for r in self.session.capture.requests if str(r.file) == path),
                       None) if self.session.capture else None
        if request is not None:
            self.session.select_scope(Scope.of_request(request))

    def open_evidence(self, finding, evidence) -> None:
        if evidence.kind == "request" and evidence.request:
            self.open_request(evidence.request)
        elif evidence.kind == "function" and evidence.func is not None:
            scope = self.session.scope
            shown = scope.endpoint.name if scope.kind == ENDPOINT else None
            if finding.endpoints and shown not in finding.endpoints:
                self.open_endpoint(finding.endpoints[0])   # where the function was seen
            self.session.select_function(evidence.func)
        elif evidence.kind == "statement" and evidence.statement:
            if finding.endpoints:
                self.open_endpoint(finding.endpoints[0])
            self.statement_selected.emit(evidence.statement)


def render(finding) -> str:
    """The finding as rich text for the detail pane; every value from the capture escaped."""
    colour = COLOURS.get(finding.severity, "black")
    parts = ['<h3><span style="color:%s">[%s]</span> %s</h3>' % (
        colour, escape(finding.severity.upper()), escape(finding.title)),
        "<p>%s</p>" % escape(finding.summary)]
    if finding.endpoints:
        parts.append("<p><b>Endpoints:</b> %s</p>" % ", ".join(
            '<a href="endpoint:%d">%s</a>' % (i, escape(name))
            for i, name in enumerate(finding.endpoints)))
    if finding.evidence:
        items = []
        for i, ev in enumerate(finding.evidence):
            text = escape(ev.text)
            linked = ev.kind in ("function", "request", "statement")
            items.append('<li>%s</li>' % ('<a href="evidence:%d">%s</a>' % (i, text)
                                          if linked else text))
        parts.append("<p><b>Evidence</b></p><ul>%s</ul>" % "".join(items))
    parts.append("<p><b>Usual fix:</b> %s</p>" % escape(finding.fix))
    if finding.copy:
        parts.append("<p><b>To copy</b> (Copy button):</p><pre>%s</pre>" % escape(finding.copy))
    if finding.requests:
        parts.append("<p><b>Requests:</b> %s</p>" % ", ".join(
            '<a href="request:%d">%s</a>' % (i, escape(path.rsplit("/", 1)[-1]))
            for i, path in enumerate(finding.requests)))
    return "".join(parts)
