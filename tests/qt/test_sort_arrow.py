"""Header sort arrows point the way the rows go (▼ largest first)."""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QStyle, QStyleFactory, QStyleOptionHeader

from profview.qt.sort_arrow import SortArrowStyle, install


def _arrow(style, indicator) -> QImage:
    image = QImage(16, 16, QImage.Format_ARGB32)
    image.fill(Qt.white)
    option = QStyleOptionHeader()
    option.rect = QRect(0, 0, 16, 16)
    option.sortIndicator = indicator
    painter = QPainter(image)
    style.drawPrimitive(QStyle.PE_IndicatorHeaderArrow, option, painter)
    painter.end()
    return image


def test_descending_draws_the_downward_arrow(qapp):
    base = QStyleFactory.create("Fusion")
    ours = SortArrowStyle("Fusion")
    up, down = QStyleOptionHeader.SortUp, QStyleOptionHeader.SortDown
    assert _arrow(base, up) != _arrow(base, down)       # the two arrows differ at all
    # Qt asks for SortUp when sorted descending: we draw Fusion's other arrow there
    assert _arrow(ours, up) == _arrow(base, down)
    assert _arrow(ours, down) == _arrow(base, up)


def test_installed_once_on_the_application(qapp, window):
    assert isinstance(qapp.style(), SortArrowStyle)
    style = qapp.style()
    install(qapp)
    assert qapp.style() is style
