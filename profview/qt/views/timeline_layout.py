"""The timeline panel's widgets: the tool bar, three linked plots (latency, queries, SQL
time) sharing the time axis, the region picker, and the legend and slowest lists beside."""
from __future__ import annotations

import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import (DAY_HOUR_ZOOM_LEVEL, HMS_ZOOM_LEVEL,
                                                  HOUR_MINUTE_ZOOM_LEVEL, MS_ZOOM_LEVEL,
                                                  TickSpec, ZoomLevel)
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QListWidget, QPushButton,
                               QSizePolicy, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from ...analysis.timeline import log_tick_label, tick_labels
from .. import safe_text
from .titled import titled_column


def _level(level: ZoomLevel, steps: list) -> ZoomLevel:
    """A copy of pyqtgraph's zoom *level* whose finest ticks skip by *steps*."""
    specs = list(level.tickSpecs)
    last = specs[-1]
    specs[-1] = TickSpec(last.spacing, last.step, last.format, autoSkip=steps)
    return ZoomLevel(specs, level.exampleText)


class ClockAxis(pg.DateAxisItem):
    """A time axis that reads like a clock: ``12:00:06``, not pyqtgraph's ``06.000``.

    pyqtgraph places the ticks (on whole local seconds, minutes, hours…); under a minute
    apart they are labelled here, with the fraction of a second only between seconds."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        # Steps a clock reader expects (1, 2, 5, 10, 15, 30 s or min): pyqtgraph's own steps
        # of 2.5 s, 50 s or 50 min put ticks at odd times.  Keys: its zoom levels' limits.
        self.zoomLevels[6 * 3600] = _level(DAY_HOUR_ZOOM_LEVEL, [1, 2, 3, 6, 12])
        self.zoomLevels[15 * 60] = _level(HOUR_MINUTE_ZOOM_LEVEL, [1, 2, 5, 10, 15, 30])
        self.zoomLevels[30] = _level(HMS_ZOOM_LEVEL, [1, 2, 5, 10, 15, 30, 60])
        self.zoomLevels[1] = _level(MS_ZOOM_LEVEL, [1, 2, 5])

    def setZoomLevelForDensity(self, density):   # noqa: N802 (pyqtgraph's name)
        # Ticks further apart than pyqtgraph's: its own spacing filled over 80% of the axis
        # with "12:00:06" labels, and the axis then drew no label at all.
        super().setZoomLevelForDensity(density)
        self.minSpacing *= 1.6

    def tickStrings(self, values, scale, spacing):   # noqa: N802
        if spacing < 60:
            return tick_labels(values, spacing)
        return super().tickStrings(values, scale, spacing)


class MsAxis(pg.AxisItem):
    """The elapsed axis: on a log scale, ticks read ``20`` and ``500``, not ``2·10¹``."""

    def logTickStrings(self, values, scale, spacing):   # noqa: N802 (pyqtgraph's name)
        return [log_tick_label(v) for v in values]


def _plot(panel, row: int, label: str, units=None):
    """One of the three plots, on a clock axis; the lower ones follow the first's x range."""
    plot = panel.plots.addPlot(row=row, col=0, axisItems={
        "bottom": ClockAxis(orientation="bottom"), "left": MsAxis(orientation="left")})
    # small type: the lower plots are 35 px tall in a 720 px window, and a longer label ran
    # into the next plot's
    plot.setLabel("left", label, units=units, **{"font-size": "7pt"})
    plot.setMouseEnabled(x=True, y=False)
    return plot


def time_labels_under(panel, lowest) -> None:
    """The time labels once, under *lowest* of the linked plots (they share the axis).

    The labelled axis gets a fixed height: pyqtgraph sizes an axis from the text it drew,
    and in a short dock, where the text did not fit once, it shrank the axis to 2 px and
    never showed the labels again."""
    for plot in (panel.main, panel.sql, panel.sql_ms, panel.memory):
        axis = plot.getAxis("bottom")
        on = plot is lowest
        axis.setStyle(showValues=on)
        axis.setHeight(QFontMetrics(axis.font()).height() + 12 if on else None)


def build(panel) -> None:
    """Make *panel*'s widgets (``log``, ``threshold``, ``select_range``, ``info``, ``plots``
    with ``main``, ``sql`` and ``sql_ms``, ``sql_note``, ``lines_note``, ``region``, ``legend``, ``slow``) and
    lay them out."""
    panel.log = QCheckBox("Log scale")
    panel.threshold = QSpinBox()
    panel.threshold.setRange(0, 10_000_000)
    panel.threshold.setSuffix(" ms")
    panel.threshold.setSpecialValueText("no threshold")
    panel.threshold.setToolTip("Mark requests slower than this as outliers too "
                               "(besides those beyond the p95 of their endpoint)")
    panel.select_range = QPushButton("Select time range")
    panel.select_range.setCheckable(True)
    panel.info = safe_text.label("")
    bar = QHBoxLayout()
    for w in (panel.log, QLabel("Outliers over"), panel.threshold, panel.select_range):
        bar.addWidget(w)
    bar.addWidget(panel.info, 1)
    panel.plots = pg.GraphicsLayoutWidget()
    panel.plots.setBackground("w")
    # three near-identical plots: one helper; queries and SQL time follow elapsed's x range
    panel.main = _plot(panel, 0, "ms")      # how long each request took
    panel.main.showGrid(x=True, y=True, alpha=0.2)
    panel.sql = _plot(panel, 1, "queries")
    panel.sql.setXLink(panel.main)
    panel.sql_ms = _plot(panel, 2, "SQL ms")
    panel.sql_ms.setXLink(panel.main)
    # the memory lane: the process's resident set after each request (requests.jsonl)
    panel.memory = _plot(panel, 3, "RSS MB")
    panel.memory.setXLink(panel.main)
    panel.memory.setVisible(False)
    panel.plots.ci.layout.setRowStretchFactor(0, 4)
    # why the queries and SQL-time plots are hidden (no log, nothing tied), under the plots
    panel.sql_note = safe_text.label("")
    panel.sql_note.setStyleSheet("color: #666")
    panel.sql_note.setVisible(False)
    # why some endpoints have no rolling lines (many endpoints: the selected one's only)
    panel.lines_note = safe_text.label("")
    panel.lines_note.setStyleSheet("color: #666")
    panel.region = pg.LinearRegionItem(brush=(80, 120, 220, 40))
    panel.region.setZValue(-10)
    panel.legend = QListWidget()
    panel.legend.setMaximumWidth(220)
    panel.slow = QListWidget()
    panel.slow.setMaximumWidth(220)
    side = titled_column((("Endpoints (untick to hide)", panel.legend),
                          ("Slowest requests", panel.slow)))
    body = QSplitter(Qt.Horizontal)
    left = QWidget()
    column = QVBoxLayout(left)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(panel.plots, 1)
    notes = QHBoxLayout()
    notes.addWidget(panel.sql_note, 1)
    notes.addWidget(panel.lines_note)
    column.addLayout(notes)
    body.addWidget(left)
    body.addWidget(side)
    body.setStretchFactor(0, 1)
    # Sentences about the capture never widen the window (after a comparison the summary
    # alone asked for 535 px): they are clipped, or wrapped, instead.
    panel.info.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    for note in (panel.sql_note, panel.lines_note):
        note.setWordWrap(True)
        note.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.addLayout(bar)
    layout.addWidget(body)
