"""The Problems panel: every file, line and message that could not be read, as text."""
from __future__ import annotations

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem


class ProblemsPanel(QTreeWidget):
    """One row per Problem (file, line, message); ``set_problems`` replaces them all."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderLabels(["File", "Line", "Problem"])
        self.setRootIsDecorated(False)

    def set_problems(self, problems) -> int:
        """Show *problems*; returns how many there are.  A QTreeWidgetItem's text is never
        interpreted as markup, so names from the capture show as they are."""
        self.clear()
        for p in problems:
            QTreeWidgetItem(self, [p.path, "" if p.line is None else str(p.line), p.message])
        for col in range(2):
            self.resizeColumnToContents(col)
        return len(problems)
