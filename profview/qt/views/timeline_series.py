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

NORMAL, SELECTED, DIMMED = "normal", "selected", "dimmed"
LOG_FLOOR_MS = 0.01       # a log axis has no 0: with no other time known, 0 ms sits here
DIM_ALPHA = 80


class LogScatter(pg.ScatterPlotItem):
    """A scatter that follows its plot's log y mode as PlotDataItem does.

    pyqtgraph's ScatterPlotItem ignores ``PlotItem.setLogMode``: its points stayed at their
    linear heights on a log axis (99 ms drawn at 10^99).  The plot calls ``setLogMode`` on
    every item that has it; this one then shows log10 of the heights it was given.
    """

    # class defaults: ScatterPlotItem's __init__ calls setData before ours could set them
    _log_y = False
    _given = ((), (), {})
    floor_ms = LOG_FLOOR_MS   # where a 0 ms request sits on a log axis (see log_floor)

    def setData(self, x=(), y=(), **kw):   # noqa: N802 (pyqtgraph's name)
        """As ScatterPlotItem.setData(x, y, ...), heights in linear units."""
        self._given = (x, y, kw)
        super().setData(x, self._heights(y), **kw)

    def getData(self):   # noqa: N802
        """``(x, y)`` as given to setData, in linear units (the points drawn may be log)."""
        x, y, _kw = self._given
        return np.asarray(x, np.float64), np.asarray(y, np.float64)

    def setLogMode(self, _x: bool, y: bool) -> None:   # noqa: N802
        if bool(y) != self._log_y:
            self._log_y = bool(y)
            x, heights, kw = self._given
            super().setData(x, self._heights(heights), **kw)

    def _heights(self, y):
        if not self._log_y or not len(y):
            return y
        return np.log10(np.maximum(np.asarray(y, np.float64), self.floor_ms))


def _faded(colour, alpha: int):
    c = pg.mkColor(colour)
    c.setAlpha(alpha)
    return c


def _style(colour, look: str) -> tuple:
    """``(point pen, brush, line colour, point size, line width)`` of a series drawn *look*:
    the selected one larger and bolder, the others faint, so it stands out of the crowd."""
    if look == DIMMED:
        return (pg.mkPen(_faded(colour.darker(130), DIM_ALPHA + 20)),
                pg.mkBrush(_faded(colour, DIM_ALPHA)), _faded(colour, DIM_ALPHA + 20), 6, 1.0)
    if look == SELECTED:
        return pg.mkPen(colour.darker(150), width=1.5), pg.mkBrush(colour), colour, 9, 2.5
    return pg.mkPen(colour.darker(130)), pg.mkBrush(colour), colour, 7, 1.5


class Series:
    """Scatter + p50/p95 lines on the latency plot, query count and SQL ms scatters below."""

    def __init__(self, main, sql, sql_ms, text, on_click):
        def tip(x, y, data):   # a request's path and name are capture text
            return safe_text.tip(text(x, y, data))

        self.scatter = LogScatter(size=7, hoverable=True, hoverSize=11, tip=tip)
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
        self._colour = None
        self._look = NORMAL
        self._lines_on = True     # False: the rolling lines are left out (many endpoints)
        self._on = True           # the legend's tick

    def fill(self, sel: np.ndarray, pts, lines, colour, look: str = NORMAL,
             lines_on: bool = True) -> None:
        """Show the points *sel* of *pts* (and their rolling lines) in *colour*, drawn
        *look* (``NORMAL``, ``SELECTED`` or ``DIMMED``)."""
        self._colour = colour
        self.scatter.setData(pts.x[sel], pts.y[sel], data=sel)
        self._shown = [self.scatter]
        for item, line in ((self.p50, lines and lines[0]), (self.p95, lines and lines[1])):
            item.setData(*(line if line else ([], [])))
            if line:
                self._shown.append(item)
        for item, values in ((self.queries, pts.queries[sel]), (self.sql_ms, pts.sql_ms[sel])):
            if np.all(np.isnan(values)):
                item.setData([], [])
                continue
            item.setData(pts.x[sel], np.nan_to_num(values), data=sel)
            self._shown.append(item)
        self._on = True
        self.restyle(look, lines_on)

    def restyle(self, look: str, lines_on: bool) -> None:
        """Draw the series *look*; its rolling lines only if *lines_on*."""
        self._look, self._lines_on = look, lines_on
        if self._colour is None:
            return
        pen, brush, line, size, width = _style(self._colour, look)
        self.scatter.setPen(pen, update=False)      # one spot update, at setSize
        self.scatter.setBrush(brush, update=False)
        self.scatter.setSize(size)
        for item, style in ((self.p50, Qt.SolidLine), (self.p95, Qt.DashLine)):
            item.setPen(pg.mkPen(line, width=width, style=style))
        for item in (self.queries, self.sql_ms):
            item.setBrush(brush)
        z = {SELECTED: 2, NORMAL: 1, DIMMED: 0}[look]
        for item in (self.scatter, self.p50, self.p95, self.queries, self.sql_ms):
            item.setZValue(z)
        self.set_visible(self._on)

    @property
    def look(self) -> str:
        return self._look

    def items(self) -> list:
        """The items holding data now (what a legend toggle shows or hides)."""
        return list(self._shown)

    def set_visible(self, on: bool) -> None:
        """Show or hide the series (the legend's tick); lines left out stay hidden."""
        self._on = on
        for item in self._shown:
            is_line = item is self.p50 or item is self.p95
            item.setVisible(on and (self._lines_on or not is_line))

    def empty(self) -> None:
        """Nothing to show: drop the data, keep the items for the next redraw."""
        for item in (self.scatter, self.p50, self.p95, self.queries, self.sql_ms):
            item.setData([], [])
            item.setVisible(False)
        self._shown = []
        self._colour = None
