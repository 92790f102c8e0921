"""Text from a capture shown as text, never interpreted as markup.

Function names, file paths, URLs, SQL and parameters come from files anyone can write.  Qt
renders a string as rich text when it *looks* like HTML (``Qt.mightBeRichText``): in a
tooltip, a QLabel with the default format, a pyqtgraph title.  A function named ``<h1>x</h1>``
became a heading, and ``<img width=5000>`` a 5000-pixel tooltip.  Everything here makes such
text inert.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel


def tip(text):
    """A tooltip that shows *text* literally (None stays None: no tooltip)."""
    if text is None or not GuiQt.mightBeRichText(text):
        return text
    # Escaped inside a paragraph that keeps line breaks and spaces as they were.
    return "<p style='white-space:pre-wrap'>%s</p>" % html.escape(text)


def esc(text) -> str:
    """*text* escaped for a place that is HTML anyway (a legend swatch, a pyqtgraph title)."""
    return html.escape(str(text))


def label(text: str = "") -> QLabel:
    """A QLabel that never interprets its text."""
    widget = QLabel(text)
    widget.setTextFormat(Qt.PlainText)
    return widget


def plain(widget: QLabel) -> QLabel:
    """*widget*, switched to plain text."""
    widget.setTextFormat(Qt.PlainText)
    return widget
