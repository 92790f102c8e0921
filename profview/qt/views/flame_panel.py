"""The flame panel: the FlameView with its toolbar (search, orientation, exact/estimated, my code
only), breadcrumbs and colour legend.  It builds trees in a worker when the session changes."""
from __future__ import annotations

import os
import re
import shlex
import subprocess

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QMenu,
                               QPushButton, QVBoxLayout, QWidget)

from ...model.callgraph import format_func
from ...analysis import calltree, flame
from ...analysis.flame import CLASS_APP, CLASS_BUILTIN, CLASS_STDLIB
from ..workers import Latest, Task
from .flame import FlameView, class_colour
from .. import safe_text


# Editors that take ``--`` as the end of their options (the file after it is only a file).
_DASHDASH = {"vi", "vim", "nvim", "gvim", "view", "nano", "emacs", "emacsclient", "micro",
             "kak", "hx", "helix", "joe", "mg"}


def editor_command(editor: str, filename: str, line: int) -> list:
    """The argv that opens *filename* at *line* in *editor* (``$VISUAL``/``$EDITOR``).

    The file name comes from a profile anyone can write: ``+:!touch PWNED`` is a command to
    vim.  So the path is always absolute (it starts with ``/``, never ``+`` or ``-``), comes
    after ``--`` where the editor accepts it, and no shell ever sees it.
    """
    argv = shlex.split(editor)
    line = line if isinstance(line, int) and 0 < line < 10_000_000 else 1
    name = os.path.basename(argv[0]) if argv else ""
    return argv + ["+%d" % line] + (["--"] if name in _DASHDASH else []) + [
        os.path.abspath(filename)]


def open_in_editor(filename: str, line: int) -> bool:
    """Open a source file at a line: $VISUAL/$EDITOR (``+line`` form), else the desktop."""
    if not os.path.isfile(filename):
        return False
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if editor and shlex.split(editor):
        subprocess.Popen(editor_command(editor, filename, line), stdin=subprocess.DEVNULL)
        return True
    return QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.abspath(filename)))


class Legend(QWidget):
    """Colour swatches: your code, standard library, built-ins, and the packages on show."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 0, 4, 0)
        self.set_packages({})

    def set_packages(self, packages: dict) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        entries = [(CLASS_APP, "your code"), (CLASS_STDLIB, "standard library"),
                   (CLASS_BUILTIN, "built-in")]
        entries += sorted(((c, name) for c, name in packages.items()), key=lambda e: e[1])[:8]
        for cls, label in entries:
            colour = class_colour(cls, packages).name()
            swatch = QLabel("<span style='background:%s'>&nbsp;&nbsp;&nbsp;&nbsp;</span> %s"
                            % (colour, safe_text.esc(label)))
            self._layout.addWidget(swatch)
        hatch = QLabel("<i>hatched: estimated</i>")
        hatch.setToolTip("pstats keeps call-edge totals, not stacks: below a function with "
                         "several callers, time is shared out in proportion to edge time; "
                         "and where edge times do not fit inside their caller (recursion), "
                         "they are shrunk to fit. Hover a frame for its exact figures.")
        self._layout.addWidget(hatch)
        self._layout.addStretch(1)


class FlamePanel(QWidget):
    """Shows the session's current profile as a flame/icicle graph."""

    tree_ready = Signal()
    show_callers = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.view = FlameView(self)
        self._latest = Latest()
        self._build_toolbar()
        self.breadcrumbs = QLabel("")
        self.breadcrumbs.setTextFormat(Qt.PlainText)
        self.legend = Legend(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(self._toolbar)
        layout.addWidget(self.breadcrumbs)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)
        self.view.clicked.connect(self._on_view_clicked)
        self.view.context.connect(self._on_context)
        self.view.zoomed.connect(self._on_zoomed)
        session.events.graph.connect(self._on_graph)
        session.events.options.connect(self._on_options)
        session.events.function.connect(self._on_function)
        session.events.scope.connect(self._on_scope)

    def _build_toolbar(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search functions (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.regex = QCheckBox("regex")
        self.match_label = QLabel("")
        self.orientation = QComboBox()
        self.orientation.addItems(["Icicle (root on top)", "Flame (root at bottom)"])
        self.mode = QComboBox()
        self.mode.addItems(["Estimated", "Exact"])
        self.mode.setToolTip("Exact: expand only where pstats attributes time for certain.\n"
                             "Estimated: share time among callers by edge time (hatched).")
        self.my_code = QCheckBox("My code only")
        self.my_code.setToolTip("Hide library frames: their time folds into the calling app frame")
        self.reset = QPushButton("Reset zoom")
        self.unfocus = QPushButton("Unfocus")
        self.unfocus.setVisible(False)
        self._toolbar = QHBoxLayout()
        for w in (self.search, self.regex, self.match_label):
            self._toolbar.addWidget(w)
        self._toolbar.addStretch(1)
        for w in (self.orientation, self.mode, self.my_code, self.unfocus, self.reset):
            self._toolbar.addWidget(w)
        self.search.textChanged.connect(self._on_search)
        self.regex.toggled.connect(self._on_search)
        self.orientation.currentIndexChanged.connect(self._on_orientation)
        self.mode.currentIndexChanged.connect(
            lambda i: self.session.set_mode(calltree.EXACT if i else calltree.ESTIMATED_MODE))
        self.my_code.toggled.connect(self.session.set_app_only)
        self.reset.clicked.connect(self.view.reset_zoom)
        self.unfocus.clicked.connect(lambda: self.session.set_focus(None))
        QShortcut(QKeySequence.Find, self, activated=self.search.setFocus)

    # --- session events ----------------------------------------------------------------
    def _on_scope(self, scope) -> None:
        self.view.empty_text = "Merging %s…" % self.session.scope_label()
        self.view.set_tree(None)

    def _on_graph(self, graph) -> None:
        self._rebuild()

    def _on_options(self) -> None:
        self.unfocus.setVisible(self.session.focus is not None)
        self._rebuild()

    def _on_function(self, func) -> None:
        self.view.set_selected(func)

    def _rebuild(self) -> None:
        generation = self._latest.next()
        request = self.session.tree_request()
        if request["graph"] is None:
            self.view.set_tree(None)
            return
        tree = flame.cached_tree(**request)   # built with the merge, as a rule
        if tree is not None:
            self._on_tree(generation, tree, request["graph"])
            return
        Task(flame.build_tree, **request).start(
            on_done=lambda tree: self._on_tree(generation, tree, request["graph"]), owner=self)

    def _on_tree(self, generation: int, tree, graph) -> None:
        if not self._latest.current(generation):
            return  # the user changed something while this tree was being built
        self.view.set_tree(tree, graph)
        self.view.set_selected(self.session.function)
        self.legend.set_packages(self.view.packages())
        self._on_search()
        self.tree_ready.emit()

    # --- toolbar -----------------------------------------------------------------------
    def _on_search(self, *_args) -> None:
        tree = self.view.tree
        text = self.search.text()
        if tree is None or not text:
            self.view.set_mask(None)
            self.match_label.setText("")
            return
        try:
            mask, share = flame.search(tree, text, self.regex.isChecked())
        except re.error as exc:
            self.match_label.setText("bad regex: %s" % exc)
            return
        self.view.set_mask(mask)
        self.match_label.setText("%d frames, %.1f%% of time" % (int(mask.sum()), 100 * share))

    def _on_orientation(self, index: int) -> None:
        self.view.flame = index == 1
        self.view.reset_zoom()

    def _on_zoomed(self, names: list) -> None:
        self.breadcrumbs.setText(" › ".join(["all"] + names) if names else "")

    def _on_view_clicked(self, func) -> None:
        self.session.select_function(func)

    def _on_context(self, func, global_pos) -> None:
        menu = QMenu(self)
        menu.addAction("Copy name", lambda: QGuiApplication.clipboard().setText(
            format_func(func)))
        menu.addAction("Open source at line %d" % func[1],
                       lambda: open_in_editor(func[0], func[1])).setEnabled(
            os.path.isfile(func[0]))
        menu.addAction("Show callers and callees", lambda: self._select_and_show(func))
        menu.addAction("Focus on this function", lambda: self.session.set_focus(func))
        toggle = menu.addAction("My code only")
        toggle.setCheckable(True)
        toggle.setChecked(self.session.app_only)
        toggle.toggled.connect(self.my_code.setChecked)
        menu.popup(global_pos)
        self._menu = menu

    def _select_and_show(self, func) -> None:
        self.session.select_function(func)
        self.show_callers.emit(func)
