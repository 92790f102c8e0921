"""Timeline of requests (pyqtgraph): latency over time per endpoint, SQL below, every point a
door into its request.  Data comes from ``analysis.timeline``; this only draws and reacts."""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPixmap
from PySide6.QtWidgets import QListWidgetItem, QWidget

from ...analysis.timeline import (LOG_RATIO, MANY_SERIES, log_floor, prepare, request_time,
                                  selected_group, sql_note, wants_log_scale)
from ...analysis.stats import format_ms
from .. import safe_text
from ..workers import Latest, Task
from . import timeline_layout
from .timeline_series import DIMMED, NORMAL, SELECTED, LogScatter, Series
from ..models.roles import ITEM_ROLE


def series_colour(i: int) -> QColor:
    """Distinct colours for up to a dozen series, then golden-angle hues."""
    hues = (210, 25, 130, 280, 0, 175, 50, 320, 95, 240, 150, 345)
    hue = hues[i] if i < len(hues) else int(i * 137.5) % 360
    return QColor.fromHsv(hue, 190, 215)


class TimelinePanel(QWidget):
    """Latency over time.  ``request_clicked(request)`` and ``range_selected(requests)``."""

    request_clicked = Signal(object)
    range_selected = Signal(object)
    drawn = Signal()          # every series is on the plot

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.data = None
        self._latest = Latest()
        self._selected = None     # the series of the scope's endpoint (index), or None
        self._many = False        # too many series to draw every one's rolling lines
        self._log_chosen = None   # the user's own tick of "Log scale": kept from then on
        self._build()
        session.events.capture.connect(self._on_capture)
        session.events.scope.connect(self._on_scope)

    # --- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        timeline_layout.build(self)
        self.log.toggled.connect(lambda on: self.main.setLogMode(y=on))
        self.log.clicked.connect(self._on_log_clicked)     # the user's click, not ours
        self.log.setToolTip("On by default when the slowest request is over %d times the "
                            "median: one slow request would squash the others" % LOG_RATIO)
        self.threshold.editingFinished.connect(self._recompute)
        self.select_range.toggled.connect(self._on_select_range)
        self.region.sigRegionChangeFinished.connect(self._on_region)
        self.legend.itemChanged.connect(self._on_legend)
        self.slow.itemClicked.connect(self._on_slow)
        # Series, reused from one redraw to the next; a dozen made now, with the window, so
        # that the first capture's drawing does not pay for them while the loader runs.
        self._pool: list = [Series(self.main, self.sql, self.sql_ms, self._tip, self._on_click)
                            for _ in range(12)]
        for series in self._pool:
            series.empty()
        self._n_series = 0
        # The rings sit over the points and take their clicks: they open the request too.
        self._outliers = self._ring(13, pg.mkPen("r", width=1.5), z=10)
        self._n_plus_one: set = set()
        self._compare = None
        self._compare_item = None
        self._drawing = None      # the data whose series are being drawn
        self._mark = self._ring(18, pg.mkPen("k", width=2), z=11, add=False)
        self.preview = LogScatter(size=6, pen=None)   # see set_preview

    def _ring(self, size: int, pen, z: int, add: bool = True) -> LogScatter:
        """Rings drawn over some points (outliers, a highlighted request); a click on one
        opens its request as a click on the point under it does."""
        ring = LogScatter(size=size, symbol="o", pen=pen, brush=None)
        ring.setZValue(z)
        ring.sigClicked.connect(self._on_click)
        if add:
            self.main.addItem(ring)
        return ring

    def mark_n_plus_one(self, names) -> None:
        """Flag the series of endpoints with an N+1 pattern in the legend (now, and again
        whenever the series are redrawn)."""
        self._n_plus_one = set(names)
        for i in range(self.legend.count()):
            item = self.legend.item(i)
            data = self._drawing or self.data
            name = data.points.groups[item.data(ITEM_ROLE)] if data else ""
            if name in names and not item.text().startswith("⚠"):
                item.setText("⚠ N+1  " + item.text())

    def set_comparison(self, points) -> None:
        """Overlay a second capture (the "after" of a comparison) in a lighter shade, its
        first request aligned with this capture's first, so the two runs line up."""
        self._compare = points
        self._draw_comparison()

    def _draw_comparison(self) -> None:
        if self._compare is None or self.data is None or not len(self._compare):
            if self._compare_item is not None:
                self._compare_item.setData([], [])
            return
        shift = self.data.points.x.min() - self._compare.x.min()
        if self._compare_item is None:
            self._compare_item = LogScatter(
                size=6, symbol="t", pen=pg.mkPen(120, 120, 120),
                brush=pg.mkBrush(200, 200, 200, 160))
            self._compare_item.floor_ms = self._outliers.floor_ms
            self.main.addItem(self._compare_item)
        self._compare_item.setData(self._compare.x + shift, self._compare.y)
        self.info.setText(self.info.text() + "; after-capture overlaid (grey triangles, "
                          "aligned on its first request)")

    def highlight(self, request) -> None:
        """Ring one request's point (a statement picked in the SQL panel, say)."""
        if self.data is None:
            return
        pts = self.data.points
        hits = [i for i, r in enumerate(pts.requests) if r is request]
        self._mark.setData(pts.x[hits], pts.y[hits], data=np.asarray(hits, int))
        if self._mark.scene() is None:
            self.main.addItem(self._mark)

    # --- data --------------------------------------------------------------------------
    def set_preview(self, points) -> None:
        """Points from file names alone, shown until the full capture arrives: one scatter
        item coloured by series, no lines and no legend.  Drawn as full series, the preview
        took the GUI thread 0.6 s of the loaders' CPU time at 800 requests, to be redrawn
        as soon as they were done."""
        if self.session.capture is not None and self.data is not None:
            return
        brushes = [pg.mkBrush(series_colour(g)) for g in range(len(points.groups))]
        self._set_log_floor(points.y)
        self.preview.setData(points.x, points.y, brush=[brushes[g] for g in
                                                        points.group.tolist()])
        if self.preview.scene() is None:
            self.main.addItem(self.preview)
        self.sql.setVisible(False)        # no statement is known before the logs are read
        self.sql_ms.setVisible(False)
        self.sql_note.setVisible(False)
        self._auto_log(points.y)
        self.info.setText("%d requests (times from file names, to the second); reading "
                          "their profiles…" % len(points))

    def _on_capture(self, capture) -> None:
        self._n_plus_one = set()
        self._compare = None
        points = self.session.derived.points
        ready = self.session.derived.timeline
        if ready is not None and not self.threshold.value():
            self._show(self._latest.next(), ready)
        elif points is not None:
            self._start(points)
        else:
            self._start(None, (capture, self.session.endpoints))

    def _recompute(self) -> None:
        if self.data is not None:
            self._start(self.data.points)

    def _start(self, points, capture=None) -> None:
        """Prepare *points* (or the points of ``capture=(capture, endpoints)``) in a worker:
        10,000 requests took 0.1 s to turn into points on the GUI thread."""
        generation = self._latest.next()
        threshold = self.threshold.value() or None
        Task(prepare, points, threshold, capture=capture).start(
            on_done=lambda data: self._show(generation, data), owner=self)

    def _show(self, generation: int, data: dict) -> None:
        if not self._latest.current(generation):
            return
        self.legend.clear()
        if self.preview.scene() is not None:
            self.main.removeItem(self.preview)
        self._drawing = data
        self._set_log_floor(data.points.y)
        self._many = len(data.points.groups) > MANY_SERIES
        self._selected = selected_group(data.points, self.session.scope)
        self.plots.setUpdatesEnabled(False)   # one repaint at the end, not one per series
        self._draw_next(generation, data, 0)

    def _draw_next(self, generation: int, data: dict, g: int) -> None:
        """Fill series for up to ~15 ms per turn of the event loop, so that a capture with
        hundreds of endpoints never holds the GUI thread for long."""
        if not self._latest.current(generation):
            return
        pts = data.points
        deadline = time.perf_counter() + 0.015
        self.legend.blockSignals(True)
        while g < len(pts.groups) and time.perf_counter() < deadline:
            self._draw_series(g, pts.groups[g], pts, data.lines.get(g))
            g += 1
        self.legend.blockSignals(False)
        if g < len(pts.groups):
            QTimer.singleShot(0, lambda: self._draw_next(generation, data, g))
            return
        for series in self._pool[len(pts.groups):]:
            series.empty()
        self._n_series = len(pts.groups)
        self.data = data
        self._finish(data)

    def _finish(self, data) -> None:
        """Everything drawn once for all series: outliers, SQL plots, scale, lists, info."""
        pts = data.points
        self.plots.setUpdatesEnabled(True)
        if self._n_plus_one:
            self.mark_n_plus_one(self._n_plus_one)
        out = data.outliers
        self._outliers.setData(pts.x[out], pts.y[out], data=np.nonzero(out)[0])
        self._show_sql(pts)
        self._show_memory(pts)
        self._auto_log(pts.y)
        self._fill_slowest(data.slowest)
        axis = self.main.getAxis("bottom")
        axis.setToolTip("request start time" if pts.exact_time else
                        "times from file names: whole seconds, requests spread evenly "
                        "within their second")
        self.info.setText("%d requests%s; %d outliers" % (
            len(pts), "" if pts.exact_time else " (times from file names, to the second)",
            int(out.sum())))
        self.lines_note.setText(
            "%d endpoints: rolling p50 (solid) and p95 (dashed) of the selected one only"
            % len(pts.groups) if self._many else "")
        self._mark.setData([], [])
        self._draw_comparison()
        self.drawn.emit()

    def _show_sql(self, pts) -> None:
        """The queries and SQL-time plots when statements are tied to requests; else a line
        saying why not, instead of two empty plots taking half the height."""
        note = sql_note(self.session.capture, pts)
        has_sql = not note
        self.sql.setVisible(has_sql)
        self.sql_ms.setVisible(has_sql)
        self.sql_note.setText(note)
        self.sql_note.setVisible(not has_sql)
        timeline_layout.time_labels_under(self, self.sql_ms if has_sql else self.main)
        for plot, values in ((self.sql, pts.queries), (self.sql_ms, pts.sql_ms)):
            if has_sql and not np.nanmax(np.nan_to_num(values)) > 0:
                plot.setYRange(0, 1, padding=0.05)   # all zero: not a ±400 (x0.001) axis
            else:
                plot.enableAutoRange(axis="y")

    def _show_memory(self, pts) -> None:
        """The memory lane: each process's resident set after each of its requests, a line
        per process, points in their endpoint's colour; hidden when no request has it."""
        plot = self.memory
        for item in getattr(self, "_memory_items", []):
            plot.removeItem(item)
        self._memory_items = []
        known = pts.rss_mb is not None and not np.all(np.isnan(pts.rss_mb)) if len(pts) \
            else False
        plot.setVisible(bool(known))
        if known:
            for proc in np.unique(pts.process):
                sel = np.nonzero((pts.process == proc) & ~np.isnan(pts.rss_mb))[0]
                sel = sel[np.argsort(pts.x[sel])]
                brushes = [pg.mkBrush(series_colour(int(g))) for g in pts.group[sel]]
                item = pg.PlotDataItem(pts.x[sel], pts.rss_mb[sel], pen=pg.mkPen(
                    (150, 150, 150), width=1), symbol="o", symbolSize=4,
                    symbolBrush=brushes, symbolPen=None)
                plot.addItem(item)
                self._memory_items.append(item)
            plot.enableAutoRange(axis="y")
        lowest = self.memory if known else (self.sql_ms if self.sql_ms.isVisible()
                                             else self.main)
        timeline_layout.time_labels_under(self, lowest)

    def _auto_log(self, elapsed_ms) -> None:
        """Log scale when one slow request would squash the rest, unless the user chose."""
        if self._log_chosen is not None:
            return
        on = wants_log_scale(elapsed_ms)
        if on != self.log.isChecked():
            self.log.setChecked(on)

    def _set_log_floor(self, elapsed_ms) -> None:
        """One floor for every scatter of the latency plot (set before their data), so that
        rings stay on their points."""
        floor = log_floor(elapsed_ms)
        for item in [s.scatter for s in self._pool] + [self._outliers, self._mark,
                                                       self.preview, self._compare_item]:
            if item is not None:
                item.floor_ms = floor

    def _on_log_clicked(self, on: bool) -> None:
        self._log_chosen = on

    @property
    def _series(self) -> list:
        """The items drawn for each series now, by series index."""
        return [s.items() for s in self._pool[:self._n_series]]

    def _draw_series(self, g: int, name: str, pts, lines) -> None:
        sel = np.nonzero(pts.group == g)[0]
        colour = series_colour(g)
        if g == len(self._pool):
            self._pool.append(Series(self.main, self.sql, self.sql_ms, self._tip,
                                     self._on_click))
            self._pool[g].scatter.floor_ms = self._outliers.floor_ms
        self._pool[g].fill(sel, pts, lines, colour, *self._look(g))
        item = QListWidgetItem(self._swatch(colour), "%s (%d)" % (name, len(sel)))
        item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
        item.setCheckState(Qt.Checked)
        item.setData(ITEM_ROLE, g)
        self._bold(item, g == self._selected)
        self.legend.addItem(item)

    def _look(self, g: int) -> tuple:
        """``(look, lines on)`` of series *g*: the scope's endpoint stands out, the others
        fade; with many endpoints only the selected one's rolling lines are drawn (a dozen
        pairs of lines were a tangle nobody could read)."""
        if self._selected is None:
            return NORMAL, not self._many
        if g == self._selected:
            return SELECTED, True
        return DIMMED, not self._many

    @staticmethod
    def _bold(item, on: bool) -> None:
        font = QFont(item.font())
        font.setBold(on)
        item.setFont(font)

    def _on_scope(self, scope) -> None:
        """Restyle the series for the new scope (no redraw of their data)."""
        data = self._drawing or self.data
        if data is None:
            return
        selected = selected_group(data.points, scope)
        if selected == self._selected:
            return
        self._selected = selected
        for g, series in enumerate(self._pool[:len(data.points.groups)]):
            series.restyle(*self._look(g))
        for i in range(self.legend.count()):
            item = self.legend.item(i)
            self._bold(item, item.data(ITEM_ROLE) == selected)

    @staticmethod
    def _swatch(colour: QColor) -> QIcon:
        pix = QPixmap(12, 12)
        pix.fill(colour)
        return QIcon(pix)

    def _tip(self, x, y, data) -> str:
        pts = self.data.points
        i = int(data)
        r = pts.request(i)
        head = "%s\nstarted %s" % (pts.groups[pts.group[i]],
                                    request_time(pts.x[i], pts.exact_time, "%Y-%m-%d %H:%M:%S"))
        if r is None:
            return "%s\n%s\nelapsed %s" % (head, pts.names[i], format_ms(pts.y[i]))
        path = (r.url_path or r.name) + ("?" + r.query if r.query else "")
        extra = "" if r.status is None else "   status %d" % r.status
        if r.n_queries is not None:
            extra += "   %d queries (%s SQL)" % (r.n_queries, format_ms(r.sql_ms or 0.0))
        return "%s\n%s %s\nelapsed %s%s" % (head, r.method or "", path,
                                            format_ms(r.elapsed_ms), extra)

    def _fill_slowest(self, order) -> None:
        pts = self.data.points
        self.slow.clear()
        for i in order:
            r = pts.request(i)
            label = pts.names[i] if r is None else "%s %s" % (r.method or "", r.url_path or r.name)
            # whole seconds here, to keep the list narrow: the tooltip has the exact time
            item = QListWidgetItem("%s  %s  %s" % (format_ms(pts.y[i]), label,
                                                   request_time(pts.x[i], False)))
            item.setToolTip(safe_text.tip(self._tip(0, 0, i)))
            item.setData(ITEM_ROLE, int(i))
            self.slow.addItem(item)

    # --- interaction -------------------------------------------------------------------
    def _request(self, i: int):
        return self.data.points.request(i)

    def _on_click(self, _item, spots, _event=None) -> None:
        if len(spots):
            r = self._request(int(spots[0].data()))
            if r is not None:
                self.request_clicked.emit(r)

    def _on_slow(self, item) -> None:
        i = item.data(ITEM_ROLE)
        x = self.data.points.x[i]
        x0, x1 = self.main.viewRange()[0]
        half = max((x1 - x0) / 2, 1.0)
        self.main.setXRange(x - half, x + half, padding=0)
        r = self._request(i)
        if r is not None:
            self.request_clicked.emit(r)

    def _on_legend(self, item) -> None:
        g = item.data(ITEM_ROLE)
        if g < len(self._pool):
            self._pool[g].set_visible(item.checkState() == Qt.Checked)

    def visible_groups(self) -> list:
        return [self.legend.item(i).data(ITEM_ROLE) for i in range(self.legend.count())
                if self.legend.item(i).checkState() == Qt.Checked]

    def _on_select_range(self, on: bool) -> None:
        if on:
            x0, x1 = self.main.viewRange()[0]
            span = x1 - x0
            self.region.setRegion((x0 + span * 0.3, x0 + span * 0.7))
            self.main.addItem(self.region)
            self._on_region()
        else:
            self.main.removeItem(self.region)

    def _on_region(self) -> None:
        if self.data is None or not self.select_range.isChecked():
            return
        x0, x1 = self.region.getRegion()
        idx = self.data.points.in_range(x0, x1, self.visible_groups())
        requests = tuple(r for r in (self._request(int(i)) for i in idx) if r is not None)
        if requests:
            self.range_selected.emit(requests)
