"""The Qt this project installs can paint what a flame graph paints.

PySide6 6.12.0 drops a reference to None on every void call and aborts Python 3.11 after a few
thousand of them; a paint of many rectangles is where the window would die, so it is tested.
"""
from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter


def test_many_rectangles_paint(qapp):
    image = QImage(800, 600, QImage.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    for i in range(30_000):
        painter.setBrush(QColor.fromHsv(i % 360, 160, 220))
        painter.drawRect(QRectF((i * 7) % 790, (i * 13) % 590, 9.0, 9.0))
    painter.end()
    painted = sum(image.pixelColor(x, y) != QColor("white")
                  for x in range(0, 800, 20) for y in range(0, 600, 20))
    assert painted > 1000
