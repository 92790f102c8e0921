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


class SortedModel(FlatModel):
    """A FlatModel that sorts itself by ``sort_value(row, column)`` (no proxy model: see
    EndpointModel).  Column -1 is the order the rows were given in; a ``None`` value sorts
    last whichever the direction, so unknown figures never crowd the top."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._given: list = []
        self._sort = (-1, Qt.AscendingOrder)

    def sort_value(self, row, column: int):
        """The value *row* sorts by in *column* (None: unknown, sorted last)."""
        raise NotImplementedError

    def set_rows(self, rows) -> None:
        """Show *rows*, in the current sort order."""
        self.beginResetModel()
        self._given = list(rows)
        self.rows = self._arranged()
        self.endResetModel()

    def sort(self, column, order=Qt.AscendingOrder) -> None:
        """Sort by *column* (-1: as given), keeping the selection on its rows."""
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        held = [self.rows[p.row()] for p in old]
        self._sort = (column, order)
        self.rows = self._arranged()
        where = {id(r): i for i, r in enumerate(self.rows)}
        for p, row in zip(old, held):
            self.changePersistentIndex(p, self.index(where[id(row)], p.column()))
        self.layoutChanged.emit()

    def _arranged(self) -> list:
        column, order = self._sort
        if column < 0:
            return list(self._given)
        keyed = [(self.sort_value(r, column), r) for r in self._given]
        known = [kv for kv in keyed if kv[0] is not None]
        known.sort(key=lambda kv: kv[0], reverse=order == Qt.DescendingOrder)
        return [r for _v, r in known] + [r for v, r in keyed if v is None]
