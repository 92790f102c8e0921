"""A column of widgets, each under its title, in a vertical splitter (the timeline's legend
and slowest list, the function table's callers and callees)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget


def titled_column(pairs) -> QSplitter:
    """A vertical splitter holding each ``(title, widget)`` of *pairs*, the title above."""
    side = QSplitter(Qt.Vertical)
    for title, widget in pairs:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel(title))
        lay.addWidget(widget)
        side.addWidget(box)
    return side
