"""The timeline panel's widgets: the tool bar, three linked plots (latency, queries, SQL
time) sharing the time axis, the region picker, and the legend and slowest lists beside."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QListWidget, QPushButton,
                               QSpinBox, QSplitter, QVBoxLayout)

from .. import safe_text
from .titled import titled_column


def _plot(panel, row: int, label: str, units=None):
    """One of the three plots, on a date axis; the lower ones follow the first's x range."""
    plot = panel.plots.addPlot(row=row, col=0, axisItems={
        "bottom": pg.DateAxisItem(orientation="bottom")})
    plot.setLabel("left", label, units=units)
    plot.setMouseEnabled(x=True, y=False)
    return plot


def build(panel) -> None:
    """Make *panel*'s widgets (``log``, ``threshold``, ``select_range``, ``info``, ``plots``
    with ``main``, ``sql`` and ``sql_ms``, ``region``, ``legend``, ``slow``) and lay them out."""
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
    panel.main = _plot(panel, 0, "elapsed", "ms")
    panel.main.showGrid(x=True, y=True, alpha=0.2)
    panel.sql = _plot(panel, 1, "queries")
    panel.sql.setXLink(panel.main)
    panel.sql_ms = _plot(panel, 2, "SQL", "ms")
    panel.sql_ms.setXLink(panel.main)
    panel.plots.ci.layout.setRowStretchFactor(0, 4)
    panel.region = pg.LinearRegionItem(brush=(80, 120, 220, 40))
    panel.region.setZValue(-10)
    panel.legend = QListWidget()
    panel.legend.setMaximumWidth(260)
    panel.slow = QListWidget()
    panel.slow.setMaximumWidth(260)
    side = titled_column((("Endpoints (untick to hide)", panel.legend),
                          ("Slowest requests", panel.slow)))
    body = QSplitter(Qt.Horizontal)
    body.addWidget(panel.plots)
    body.addWidget(side)
    body.setStretchFactor(0, 1)
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.addLayout(bar)
    layout.addWidget(body)
