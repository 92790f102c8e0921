"""The request timeline: one request as it ran (its sampled stacks as a flame chart, time on
the x axis) with its SQL statements on a lane of their own at their real start and length,
and the moments it waited (sleep, socket, lock) shaded.  Built in a worker from
``analysis.request_chart``; hover and click as in the flame graph."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QToolTip, QVBoxLayout, QWidget

from ...analysis import sql
from ...analysis.request_chart import request_chart
from ...analysis.stats import format_ms
from ...importers import profiles
from ...model.scope import REQUEST
from ..workers import Latest, Task
from .. import safe_text
from .flame import FlameView

LANE_H = 16
SQL_COLOUR = QColor(214, 120, 40)
GAP_COLOURS = {"sleep": QColor(120, 120, 120, 50), "socket": QColor(40, 110, 200, 45),
               "lock": QColor(200, 60, 60, 45), "select": QColor(40, 110, 200, 45)}
NO_REQUEST = ("Pick one request (a point on the timeline, or a request in the endpoint "
              "tree) to see when its calls and SQL ran.")
NO_STACKS = ("This request has no sampled stacks: capture with "
             "init_app(app, dir, stacks=True) to see it in time order (see the README).")


def load_chart(path, queries):
    """Read a request's stacks and lay out its chart (runs in a worker): of a file with
    several profiles (py-spy's threads), the one with the most samples."""
    profile = max(profiles.load_stacks(path), key=len)
    if not profile.timed:
        raise ValueError("its samples have no time order (folded stacks and pyinstrument's "
                         "tree keep totals only): its flame graph has them all")
    # without a clock time, statements cannot be placed on the request's axis
    return request_chart(profile, queries if profile.clock else [])


class SqlLane(QWidget):
    """The request's statements as bars on the chart's time axis; click one to open it in
    the SQL panel (``statement_clicked``)."""

    statement_clicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFixedHeight(LANE_H + 4)
        self.spans: list = []
        self.x0, self.x1 = 0.0, 1.0

    def set_range(self, x0: float, x1: float) -> None:
        self.x0, self.x1 = x0, max(x1, x0 + 1e-9)
        self.update()

    def _rects(self) -> list:
        scale = self.width() / (self.x1 - self.x0)
        return [(s, QRectF((s.start_s - self.x0) * scale, 2,
                           max((s.end_s - s.start_s) * scale, 2.0), LANE_H))
                for s in self.spans]

    def span_at(self, pos):
        hits = [s for s, r in self._rects() if r.adjusted(-1, 0, 1, 0).contains(pos)]
        return hits[-1] if hits else None

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().base())
        p.setPen(Qt.NoPen)
        p.setBrush(SQL_COLOUR)
        p.drawRects([r for _s, r in self._rects()])
        if not self.spans:
            p.setPen(self.palette().placeholderText().color())
            p.drawText(self.rect(), Qt.AlignCenter, "no SQL in this request")
        p.end()

    def mouseMoveEvent(self, event) -> None:
        span = self.span_at(event.position())
        if span is None:
            QToolTip.hideText()
            return
        where = ("\nran in %s" % span.frames[-1][2]) if span.frames else ""
        QToolTip.showText(event.globalPosition().toPoint(), safe_text.tip(
            "SQL #%d at %s, %s%s\n%s" % (span.index + 1, format_ms(span.start_s * 1000),
                                         format_ms((span.end_s - span.start_s) * 1000),
                                         where, span.statement[:500])), self)

    def mouseReleaseEvent(self, event) -> None:
        span = self.span_at(event.position())
        if span is not None:
            self.statement_clicked.emit(span.statement)


class RequestTimelinePanel(QWidget):
    """The selected request in time order (see the module docstring)."""

    ready = Signal()

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.chart = None
        self._latest = Latest()
        self.info = safe_text.label(NO_REQUEST)
        self.info.setWordWrap(True)
        self.lane = SqlLane(self)
        self.view = FlameView(self)
        self.view.empty_text = NO_REQUEST
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.info)
        layout.addWidget(self.lane)
        layout.addWidget(self.view, 1)
        self.view.ranged.connect(self.lane.set_range)
        self.view.clicked.connect(session.select_function)
        session.events.scope.connect(self._on_scope)
        session.events.function.connect(self.view.set_selected)

    def _on_scope(self, scope) -> None:
        generation = self._latest.next()
        request = scope.request if scope is not None and scope.kind == REQUEST else None
        if request is None or request.stacks is None:
            self._show_none(NO_REQUEST if request is None else NO_STACKS)
            return
        key = sql.request_key(request)
        queries = sorted((q for q in self.session.capture.queries if q.profile_file == key),
                         key=lambda q: (q.start is None, q.start or 0.0))
        self.info.setText("Reading the stacks of %s…" % request.name)
        Task(load_chart, request.stacks, queries).start(
            on_done=lambda chart: self._on_chart(generation, request, chart),
            on_failed=lambda message: self._show_none(
                "Could not read %s: %s" % (request.stacks.name, message)), owner=self)

    def _show_none(self, text: str) -> None:
        self.chart = None
        self.info.setText(text)
        self.view.empty_text = text
        self.view.set_tree(None)
        self.lane.spans = []
        self.lane.update()

    def _on_chart(self, generation: int, request, chart) -> None:
        if not self._latest.current(generation):
            return
        self.chart = chart
        waited = sum(b - a for a, b, _k in chart.gaps)
        self.info.setText("%s: %s sampled in %d samples; %d SQL statement%s; waiting %s "
                          "(shaded)" % (request.name, format_ms(chart.end_s * 1000),
                                        chart.samples, len(chart.sql),
                                        "" if len(chart.sql) == 1 else "s",
                                        format_ms(waited * 1000)))
        self.lane.spans = chart.sql
        self.view.bands = [(a, b, GAP_COLOURS.get(k, GAP_COLOURS["sleep"]))
                           for a, b, k in chart.gaps]
        self.view.set_tree(chart.tree)
        self.view.set_selected(self.session.function)
        self.ready.emit()
