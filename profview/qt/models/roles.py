"""The item roles every model and view of the window shares.

The Qt ones are plain ints here because ``data()`` runs for every visible cell and every
role: looking up ``Qt.ToolTipRole`` on PySide6's enums costs ~4 µs (measured on 6.11), so a
table cell's few comparisons were 20-30 µs, 20 ms of every scope change.
"""
from __future__ import annotations

from PySide6.QtCore import Qt

SORT_ROLE = int(Qt.UserRole) + 1    # the raw number behind a cell, for sorting
ITEM_ROLE = int(Qt.UserRole) + 2    # the thing behind a row: a Scope, a FuncKey, a finding...

DISPLAY = int(Qt.DisplayRole)
TOOLTIP = int(Qt.ToolTipRole)
ALIGNMENT = int(Qt.TextAlignmentRole)
FOREGROUND = int(Qt.ForegroundRole)
HORIZONTAL = Qt.Horizontal
RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)   # numbers: right-aligned, centred vertically
