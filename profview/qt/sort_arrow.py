"""Sort arrows that point the way the rows go: ▼ for largest first, ▲ for smallest first.

Qt's header asks the style for ``SortUp`` when a column is sorted *descending* (the arrow
points at the larger end), and Fusion draws that as ▲ over a table whose largest value is
on top.  Users of spreadsheets, SnakeViz and KCachegrind read ▼ as "descending": this style
swaps the two for header arrows and leaves everything else to the style it wraps.
"""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOptionHeader

_SWAP = {QStyleOptionHeader.SortUp: QStyleOptionHeader.SortDown,
         QStyleOptionHeader.SortDown: QStyleOptionHeader.SortUp}


class SortArrowStyle(QProxyStyle):
    """The application's style, with header sort arrows as described above."""

    def drawPrimitive(self, element, option, painter, widget=None):   # noqa: N802 (Qt)
        if element == QStyle.PE_IndicatorHeaderArrow and isinstance(option, QStyleOptionHeader) \
                and option.sortIndicator in _SWAP:
            option = QStyleOptionHeader(option)
            option.sortIndicator = _SWAP[option.sortIndicator]
        super().drawPrimitive(element, option, painter, widget)


def install(app: QApplication) -> None:
    """Wrap *app*'s style once (a second window must not wrap it twice)."""
    if not isinstance(app.style(), SortArrowStyle):
        # keep the base style's name: QProxyStyle without an argument would pick the default
        app.setStyle(SortArrowStyle(app.style().name()))
