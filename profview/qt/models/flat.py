"""A table model over a list of rows, the base of the window's flat tables."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from .roles import DISPLAY, HORIZONTAL


class FlatModel(QAbstractTableModel):
    """A table of ``self.rows`` under ``HEADERS``."""

    HEADERS: list = []

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == HORIZONTAL and role == DISPLAY:
            return self.HEADERS[section]
        return None
