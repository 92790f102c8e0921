"""The pyqtgraph items of one timeline series (one endpoint), made once and refilled.

Creating and deleting a scatter, two percentile lines and two SQL scatters per endpoint on every
redraw cost the GUI thread half a second at 1,000 requests (item construction, scene insertion,
and deleting the old C++ items when the capture replaced the file-name preview).  A pool of
series reuses its items: a redraw is one ``setData`` per item, and series past the current
number of endpoints are emptied and hidden instead of deleted.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from .. import safe_text


class Series:
    """Scatter + p50/p95 lines on the latency plot, query count and SQL ms scatters below."""

    def __init__(self, main, sql, sql_ms, text, on_click):
        def tip(x, y, data):   # a request's path and name are capture text
            return safe_text.tip(text(x, y, data))

        self.scatter = pg.ScatterPlotItem(size=7, hoverable=True, hoverSize=11, tip=tip)
        self.p50 = pg.PlotDataItem()
        self.p95 = pg.PlotDataItem()
        self.queries = pg.ScatterPlotItem(size=6, pen=None, hoverable=True, tip=tip)
        self.sql_ms = pg.ScatterPlotItem(size=6, pen=None, hoverable=True, tip=tip)
        for item in (self.scatter, self.queries, self.sql_ms):
            item.sigClicked.connect(on_click)
        for plot, item in ((main, self.scatter), (main, self.p50), (main, self.p95),
                           (sql, self.queries), (sql_ms, self.sql_ms)):
            plot.addItem(item)
        self._shown: list = []

    def fill(self, sel: np.ndarray, pts, lines, colour) -> None:
        """Show the points *sel* of *pts* (and their rolling lines) in *colour*."""
        self.scatter.setData(pts.x[sel], pts.y[sel], data=sel,
                             pen=pg.mkPen(colour.darker(130)), brush=pg.mkBrush(colour))
        self._shown = [self.scatter]
        for item, line, style in ((self.p50, lines and lines[0], Qt.SolidLine),
                                  (self.p95, lines and lines[1], Qt.DashLine)):
            if line:
                item.setData(line[0], line[1], pen=pg.mkPen(colour, width=1.5, style=style))
                self._shown.append(item)
            else:
                item.setData([], [])
        brush = pg.mkBrush(colour)
        for item, values in ((self.queries, pts.queries[sel]), (self.sql_ms, pts.sql_ms[sel])):
            if np.all(np.isnan(values)):
                item.setData([], [])
                continue
            item.setData(pts.x[sel], np.nan_to_num(values), data=sel, brush=brush)
            self._shown.append(item)
        self.set_visible(True)

    def items(self) -> list:
        """The items holding data now (what a legend toggle shows or hides)."""
        return list(self._shown)

    def set_visible(self, on: bool) -> None:
        for item in self._shown:
            item.setVisible(on)

    def empty(self) -> None:
        """Nothing to show: drop the data, keep the items for the next redraw."""
        for item in (self.scatter, self.p50, self.p95, self.queries, self.sql_ms):
            item.setData([], [])
            item.setVisible(False)
        self._shown = []
