"""The main window: docks around the flame graph, File menu, drag and drop, loading."""
from __future__ import annotations

import os
import sys

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import (QApplication, QFileDialog, QMainWindow, QProgressBar,
                               QTabWidget)

from ..importers.pstats_file import DEFAULT_MAX_BYTES
from ..app import pipeline
from ..app.session import ALL, Session
from ..model.scope import ENDPOINT, Scope
from ..model.request import Problem
from . import comparing, docks, export, menus, sort_arrow
from .idle_gc import IdleCollector
from .live import LiveFollow
from .status import StatusLine
from .menus import settings
from ..loading import pool
from ..loading.names import name_points
from ..analysis.sql import n_plus_one_by_endpoint
from ..analysis.stats import format_clock
from .views.callgraph import CallGraphPanel
from .views.compare_panel import ComparePanel
from .views.flame_panel import FlamePanel
from .views.problems import ProblemsPanel
from .views.request_timeline import RequestTimelinePanel
from .views.sql_panel import SqlPanel
from .views.stats import StatsPanel
from .views.tables import EndpointPanel, FunctionPanel
from .views.findings_panel import FindingsPanel
from .views.timeline import TimelinePanel
from .workers import Task
from . import safe_text

GIL_SWITCH_S = 0.0005        # see MainWindow.__init__
# What the worker processes run, imported once in the forkserver they are forked from.
FORKSERVER_PRELOAD = ("profview.loading.scan", "profview.loading.reread",
                      "profview.loading.scopes", "profview.app.pipeline",
                      "profview.analysis.callgraph_view")
# What the findings need beyond the loader, imported while a capture loads.
OPEN_FILTER = ("Profiles (*.prof *.pstats *.speedscope.json *.json *.pyisession *.folded "
               "*.collapsed);;cProfile (*.prof *.pstats);;speedscope (*.speedscope.json *.json);;"
               "pyinstrument (*.pyisession *.json);;Folded stacks (*.folded *.collapsed);;"
               "All files (*)")
FINDINGS_IMPORTS = ("scipy.sparse.csgraph", "profview.analysis.findings")
FINDINGS_DELAY_MS = 100


class MainWindow(QMainWindow):
    """Linked views of one capture.  ``ready`` fires when a load has its first picture."""

    ready = Signal()
    compared = Signal()

    def __init__(self, endpoint: str | None = None, persist: bool = True):
        super().__init__()
        self._persist = persist   # restore and save the layout (not for screenshots)
        # Workers merge and lay out in Python threads, and every Qt callback into Python
        # (paint, model data, slots) must take the GIL back from them. With the default 5 ms
        # switch interval the GUI thread queued behind a merging worker for 5 ms per callback
        # and a redraw stalled for 0.3-0.5 s; at 0.5 ms the worker yields ten times as often
        # (bench/bench_window.py shows the stall before and after).
        sys.setswitchinterval(GIL_SWITCH_S)
        self.setWindowTitle("profview")
        sort_arrow.install(QApplication.instance())
        self.setAcceptDrops(True)
        # the loaders' worker processes start from it with their modules imported
        pool.start_forkserver(FORKSERVER_PRELOAD)
        self.session = Session()
        self.idle_gc = IdleCollector(self.session, self)
        self.paths: list = []
        self._wanted_endpoint = endpoint
        self._awaiting_picture = False
        self._extra_problems: list = []
        self._settings_problems: list = []   # bad values in the settings file, kept
        self.max_bytes = DEFAULT_MAX_BYTES   # files over this are refused (--max-size)
        self.flame = FlamePanel(self.session, self)
        self.endpoints = EndpointPanel(self.session, self)
        self.functions = FunctionPanel(self.session, self)
        self.timeline = TimelinePanel(self.session, self)
        self.stats = StatsPanel(self.session, self)
        self.sql = SqlPanel(self.session, self)
        self.callgraph = CallGraphPanel(self.session, self)
        self.request_timeline = RequestTimelinePanel(self.session, self)
        self.compare = ComparePanel(self.session, self)
        # The centre: the flame graph, and a comparison once there is one (its verdicts,
        # function deltas and differential flame graph need the room a dock does not give).
        self.centre = QTabWidget(self)
        self.centre.setDocumentMode(True)
        self.centre.addTab(self.flame, "Flame graph")
        self.centre.addTab(self.compare, "Compare")
        self.centre.setTabVisible(1, False)
        self.setCentralWidget(self.centre)
        self.findings = FindingsPanel(self.session, settings(), self)
        self.compare_paths: list = []
        self.problems = ProblemsPanel()
        self.docks = docks.build(self)
        self.timeline.request_clicked.connect(
            lambda r: self.session.select_scope(Scope.of_request(r)))
        self.timeline.range_selected.connect(self._on_range)
        self.sql.request_selected.connect(self.timeline.highlight)
        self.findings.statement_selected.connect(self._on_finding_statement)
        self.request_timeline.lane.statement_clicked.connect(self._on_finding_statement)
        self.findings.updated.connect(self._on_findings)
        # Findings after the first picture is painted: the rules re-read profiles in a
        # thread, and starting them with that paint slowed it by half (GIL contention).
        self.ready.connect(lambda: QTimer.singleShot(FINDINGS_DELAY_MS, self,
                                                     self.findings.run))
        self.status = safe_text.label("Open a directory of request profiles to begin.")
        self.line = StatusLine(self.status)
        self.progress = QProgressBar()
        self._progress_clock = QElapsedTimer()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.live = LiveFollow(self)
        menus.build(self)
        self.session.events.scope.connect(self._on_scope)
        self.session.events.capture.connect(self._on_capture)
        self.flame.tree_ready.connect(self._on_tree_ready)
        self.flame.show_callers.connect(lambda _f: self.docks["Functions"].raise_())
        self.resize(1400, 900)
        self._restored = self._restore() if persist else False
        self._restored_layout = self._restored   # a saved dock layout was applied
        if self._settings_problems:
            self._show_problems()

    def show_comparison(self) -> None:
        """Bring the comparison to the centre (its tab appears with the first one)."""
        first = not self.centre.isTabVisible(1)
        self.centre.setTabVisible(1, True)
        self.centre.setCurrentWidget(self.compare)
        if first and not self._restored_layout:
            # the comparison needs height more than the timeline does: a third of the
            # window for the bottom docks (the user's own layout, once restored, is kept)
            self.resizeDocks([self.docks["Timeline"]], [int(self.height() * 0.3)],
                             Qt.Vertical)

    # --- opening -----------------------------------------------------------------------
    def open_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open profiles", "",
                                                OPEN_FILTER)
        if files:
            self.open_paths(files)

    def open_directory_dialog(self) -> None:
        directory = QFileDialog.getExistingDirectory(self, "Open a directory of profiles")
        if directory:
            self.open_paths([directory])

    def compare_dialog(self) -> None:
        """Pick the "after" capture (and the "before" one when nothing is open)."""
        comparing.ask(self)

    def compare_with(self, paths) -> None:
        """Load *paths* as the "after" capture and compare the open one with it; the
        ``compared`` signal fires when the comparison is on show."""
        comparing.compare_with(self, paths)

    def open_paths(self, paths) -> None:
        """Load *paths* (files and directories) in a worker; the views follow."""
        self.paths = [os.fspath(p) for p in paths]
        self._remember(self.paths)
        self.reload()

    def reload(self) -> None:
        if not self.paths:
            return
        self.line.say("Loading %s…" % ", ".join(os.path.basename(p.rstrip("/")) or p
                                                for p in self.paths))
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self._awaiting_picture = True
        self._extra_problems = []
        Task(name_points, self.paths).start(on_done=self.timeline.set_preview, owner=self)
        pool.warm_imports(*FINDINGS_IMPORTS)   # while the workers parse
        Task(pipeline.load_grouped, self.paths, mp_context="forkserver", background=True,
             max_bytes=self.max_bytes, with_progress=True).start(
            on_done=self._on_loaded, on_failed=self._on_failed,
            on_progress=self._on_progress, owner=self)

    def _on_progress(self, done: int, total: int) -> None:
        # QProgressBar.setValue repaints synchronously, and with the plots dirty that paints
        # the whole window: at most ten updates a second.
        if done < total and self._progress_clock.isValid() and \
                self._progress_clock.elapsed() < 100:
            return
        self._progress_clock.start()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.line.say("Reading profiles: %d of %d" % (done, total))

    def _on_failed(self, message: str) -> None:
        self.progress.setVisible(False)
        self.line.say("Could not load: %s" % message)
        self._extra_problems.append(Problem(", ".join(self.paths), message))
        self._show_problems()
        self._picture_done()

    def _on_loaded(self, loaded) -> None:
        self.session.set_capture(*loaded)

    def _on_n_plus_one(self, flags: dict) -> None:
        self.endpoints.model.set_n_plus_one(flags)
        self.timeline.mark_n_plus_one({ep.name for ep in self.session.endpoints
                                       if ep.key in flags})
        if flags:
            self.line.add("; N+1 queries in %d endpoint%s" % (
                len(flags), "" if len(flags) == 1 else "s"))

    def _on_range(self, requests) -> None:
        first, last = min(r.start for r in requests), max(r.start for r in requests)
        label = "%d requests, %s – %s" % (len(requests), format_clock(first),
                                          format_clock(last))
        self.session.select_scope(Scope.of_set(label, requests))

    # --- following a directory that is being written to ------------------------------------
    def _extend(self) -> None:
        self.live.extend()

    def _on_live_capture(self, capture, endpoints, derived, added: int) -> None:
        """A live reload found new requests (``live.LiveFollow``): show them, keep the
        endpoint on show."""
        scope = self.session.scope
        if scope is not None and scope.kind == ENDPOINT:
            self._wanted_endpoint = scope.endpoint.name
        self.session.set_capture(capture, endpoints, derived)
        self.findings.run()
        self.line.add("  ·  %d new request%s" % (added, "" if added == 1 else "s"))
        self.line.show()

    def _on_finding_statement(self, statement: str) -> None:
        self.docks["SQL"].show()
        self.docks["SQL"].raise_()
        self.sql.show_statement(statement)

    def _on_findings(self) -> None:
        n = len(self.findings.findings)
        self.docks["Findings"].setWindowTitle("Findings (%d)" % n if n else "Findings")
        # said in the status bar too: the panel may be a tab nobody has opened yet
        self.line.set_findings(n)

    def _on_capture(self, capture) -> None:
        self.progress.setVisible(False)
        self.docks["Findings"].setWindowTitle("Findings")
        if not self.live.reloading:
            self.live.watch()
        if capture.has_queries:
            Task(n_plus_one_by_endpoint, self.session.endpoints, capture.queries).start(
                on_done=self._on_n_plus_one, owner=self)
        self._show_problems()
        n = len(capture.requests)
        notes = sum(1 for p in capture.problems if p.kind == "note")
        bad = len(capture.problems) - notes     # a note says what an importer assumed
        n_ep = len(self.session.endpoints)
        self.line.set_summary("%d request%s in %d endpoint%s%s%s" % (
            n, "" if n == 1 else "s", n_ep, "" if n_ep == 1 else "s",
            "; %d problem%s (see Problems)" % (bad, "" if bad == 1 else "s") if bad else "",
            "; %d note%s (see Problems)" % (notes, "" if notes == 1 else "s") if notes else ""))
        self.flame.view.empty_text = ("No request profiles could be read here: see the "
                                      "Problems panel." if not n else self.flame.view.empty_text)
        if not n:
            self.flame.view.set_tree(None)
            self._picture_done()
            return
        # The first scope is picked on the next turn of the event loop: the panels' updates
        # for a new capture and for a new scope, back to back, held the GUI thread too long.
        QTimer.singleShot(0, self, lambda: self._select_first(capture))

    def _select_first(self, capture) -> None:
        if capture is not self.session.capture:
            return   # a newer capture came meanwhile: it picks its own
        scope = ALL
        wanted = self.session.endpoint_named(self._wanted_endpoint) if self._wanted_endpoint \
            else (self.session.endpoints[0] if self.session.endpoints else None)
        if wanted is not None:
            scope = Scope.of_endpoint(wanted)
        self.session.scope = None   # force a fresh merge even if the scope looks the same
        self.endpoints.select(scope)
        if self.session.scope != scope:
            self.session.select_scope(scope)

    def _on_scope(self, scope) -> None:
        requests = self.session.requests_of(scope)
        self.line.say("Merging %d profile%s…" % (len(requests),
                                                 "" if len(requests) == 1 else "s"))
        Task(pipeline.scope_and_tree, self.session.capture, requests,
             self.session.tree_options(), with_progress=True,
             mp_context="forkserver", background=True).start(
                 on_done=lambda result: self._on_graph(scope, result),
                 on_failed=self._on_failed, owner=self)

    def _on_graph(self, scope, result) -> None:
        graph, problems = result
        if problems:
            self._extra_problems.extend(problems)
            self._show_problems()
        self.session.set_graph(scope, graph)
        if scope == self.session.scope:
            n = len(self.session.requests_of(scope))
            self.line.show("%s: %d request%s" % (
                self.session.scope_label(), n, "" if n == 1 else "s"))
            if graph is None:
                self._picture_done()

    def _on_tree_ready(self) -> None:
        self._picture_done()

    def _picture_done(self) -> None:
        if self._awaiting_picture:
            self._awaiting_picture = False
            QTimer.singleShot(0, self.ready.emit)

    def _show_problems(self) -> None:
        problems = list(self.session.capture.problems if self.session.capture else [])
        problems += self._extra_problems + self._settings_problems
        n = self.problems.set_problems(problems)
        self.docks["Problems"].setWindowTitle("Problems (%d)" % n if n else "Problems")

    # --- drag and drop -----------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            # Shift while dropping: compare the open capture with the dropped one
            if event.modifiers() & Qt.ShiftModifier and self.session.capture is not None:
                self.compare_with(paths)
            else:
                self.open_paths(paths)

    # --- settings ----------------------------------------------------------------------
    def _remember(self, paths) -> None:
        if self._persist:
            menus.remember(self, paths)

    def _restore(self) -> bool:
        return docks.restore(self, settings())

    def _note_settings_problem(self, message) -> None:
        if message and all(p.message != message for p in self._settings_problems):
            self._settings_problems.append(Problem(settings().fileName(), message))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._restored:   # first run: give the flame graph the room
            self._restored = True
            QTimer.singleShot(0, lambda: docks.default_layout(self))

    def closeEvent(self, event) -> None:
        # no more live reloads once closed: stray work after the window is gone helps nobody
        self.live.stop()
        self.follow.setChecked(False)
        if self._persist:
            s = settings()
            s.setValue("geometry", self.saveGeometry())
            s.setValue("state", self.saveState())
        export.stop_snakeviz()
        super().closeEvent(event)
