"""The item roles every model and view of the window shares."""
from __future__ import annotations

from PySide6.QtCore import Qt

SORT_ROLE = Qt.UserRole + 1     # the raw number behind a cell, for sorting
ITEM_ROLE = Qt.UserRole + 2     # the thing behind a row: a Scope, a FuncKey, a finding...
