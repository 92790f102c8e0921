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
                               QPushButton, QSizePolicy, QSplitter, QVBoxLayout, QWidget)

from ...model.callgraph import format_func
from ...analysis import calltree, flame, inverted
from ...analysis import stacks as stack_analysis
from ...importers import profiles
from ...importers.pstats_file import ProfileError
from ...analysis.flame import CLASS_APP, CLASS_BUILTIN, CLASS_STDLIB
from ..workers import Latest, Task
from .flame import ROW, FlameView, class_colour
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
    """Colour swatches: your code, standard library, built-ins, "hatched: estimated" when a
    frame is hatched, and the packages on show, the biggest first: as many as fit (at most
    ``SHOWN``), the rest as "+N more" with their colours in its tooltip."""

    SHOWN = 6

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(4, 0, 4, 0)
        # never widens the window (a capture may use 30 packages): what does not fit goes
        # into "+N more" (``_fit``), labels keep their natural width
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.more = self.hatch = None
        self._packages: dict = {}
        self._package_labels: list = []     # (label, cls, name), biggest package first
        self.set_packages({})

    @staticmethod
    def _swatch(cls, label, packages) -> str:
        return ("<span style='background:%s'>&nbsp;&nbsp;&nbsp;&nbsp;</span> %s"
                % (class_colour(cls, packages).name(), safe_text.esc(label)))

    def _add(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Preferred)
        self._layout.addWidget(label)
        return label

    def set_packages(self, packages: dict, times: dict = None, estimates: bool = False) -> None:
        """Show *packages* (``{class: name}``), ordered by *times* (``{class: seconds}``)."""
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        times = times or {}
        self._packages = packages
        ordered = sorted(packages.items(), key=lambda e: (-times.get(e[0], 0.0), e[1]))
        for cls, label in ((CLASS_APP, "your code"), (CLASS_STDLIB, "standard library"),
                           (CLASS_BUILTIN, "built-in")):
            self._add(self._swatch(cls, label, packages))
        self.hatch = None
        if estimates:
            self.hatch = self._add("<i>hatched: estimated</i>")
            self.hatch.setToolTip(
                "pstats keeps call-edge totals, not stacks: below a function with several "
                "callers, time is shared out in proportion to edge time; and where edge times "
                "do not fit inside their caller (recursion), they are shrunk to fit. Hover a "
                "frame for its exact figures.")
        self._package_labels = [(self._add(self._swatch(c, n, packages)), c, n)
                                for c, n in ordered]
        self.more = self._add("")
        self._layout.addStretch(1)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """Show the packages that fit in the width (at most SHOWN); the rest are "+N more"."""
        spacing = self._layout.spacing()
        used = 8 + sum(self._layout.itemAt(i).widget().sizeHint().width() + spacing
                       for i in range(self._layout.count())
                       if self._layout.itemAt(i).widget() is not None
                       and self._layout.itemAt(i).widget() not in
                       [p[0] for p in self._package_labels] + [self.more])
        room = self.width() - used - QLabel("+99 more").sizeHint().width() - spacing
        hidden = []
        for n, (label, cls, name) in enumerate(self._package_labels):
            width = label.sizeHint().width() + spacing
            fits = n < self.SHOWN and not hidden and width <= room
            label.setVisible(fits)
            if fits:
                room -= width
            else:
                hidden.append((cls, name))
        self.more.setVisible(bool(hidden))
        self.more.setText("+%d more" % len(hidden) if hidden else "")
        self.more.setToolTip("<br>".join(self._swatch(c, n, self._packages)
                                         for c, n in hidden))


# The views of the flame area, with what each shows (the combo's tooltips).
VIEWS = {"Icicle": "root on top, callees below",
         "Flame": "root at the bottom, callees above",
         "Bottom-up": "inverted: self time at the roots, callers as children (Hotspot's "
                      "bottom-up, Firefox's invert call stack)"}
BOTTOM_UP = 2
MAX_STACK_REQUESTS = 5000    # beyond this a scope's tree comes from pstats' sums (fast)


def view_trees(graph, mode, app_only, focus, threshold: float = 0.001,
               bottom_up: bool = False, stacks=None) -> tuple:
    """``(tree, callers, sampled)`` for the flame area (run in a worker): the icicle/flame
    tree or the bottom-up tree, and with a *focus* the sandwich's callers tree (else None).  With
    *stacks* (the sampled stacks files of every request in scope) the icicle/flame tree is
    the exact one they make, not pstats' reconstruction (*sampled* True)."""
    if stacks and focus is None and not bottom_up:
        try:
            tree = stack_analysis.stack_tree(
                [q for p in stacks for q in profiles.load_stacks(p)]).tree
            return (flame.app_only_tree(tree) if app_only else tree), None, True
        except (ProfileError, OSError):
            pass   # a damaged stacks file: pstats' tree (the toolbar then says estimated)
    if focus is not None and focus in graph.functions:
        return (flame.build_tree(graph, mode, app_only, focus, threshold),
                inverted.callers_tree(graph, focus, mode, threshold), False)
    if bottom_up:
        return inverted.inverted_tree(graph, mode, threshold), None, False
    return flame.build_tree(graph, mode, app_only, None, threshold), None, False


class FlamePanel(QWidget):
    """Shows the session's current profile as a flame/icicle graph."""

    tree_ready = Signal()
    show_callers = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.view = FlameView(self)
        self._latest = Latest()
        self.bottom_up_shown = False     # the tree on show is the bottom-up one
        self._focus = None               # the focus the panel last showed
        self._focus_back: list = []      # earlier focuses, for Alt+Left past the zooms
        self._focus_forward: list = []
        self._build_toolbar()
        # rich text made here from escaped names only: each crumb is a link to its frame
        self.breadcrumbs = QLabel("")
        self.breadcrumbs.setTextFormat(Qt.RichText)
        self.breadcrumbs.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.breadcrumbs.linkActivated.connect(self._on_crumb)
        self.legend = Legend(self)
        # The sandwich (speedscope): with a focus, its callers merged above it (root at the
        # bottom, callers growing up), what it calls below.
        self.callers_view = FlameView(self)
        self.callers_view.flame = True
        self.callers_view.setMinimumSize(300, 3 * ROW)
        self.callers_view.empty_text = ""
        self.callers_view.setVisible(False)
        self.split = QSplitter(Qt.Vertical, self)
        self.split.addWidget(self.callers_view)
        self.split.addWidget(self.view)
        self.split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(self._toolbar)
        layout.addWidget(self.breadcrumbs)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.legend)
        for view in (self.view, self.callers_view):
            view.beyond.connect(self._on_beyond)
            view.clicked.connect(self._on_view_clicked)
            view.context.connect(self._on_context)
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
        self.orientation.addItems(list(VIEWS))
        for i, tip in enumerate(VIEWS.values()):
            self.orientation.setItemData(i, tip, Qt.ToolTipRole)
        self.orientation.setToolTip("\n".join("%s: %s" % v for v in VIEWS.items()))
        self.mode = QComboBox()
        self.mode.addItems(["Estimated", "Exact"])
        self.mode.setToolTip("Exact: expand only where pstats attributes time for certain.\n"
                             "Estimated: share time among callers by edge time (hatched).")
        self.my_code = QCheckBox("My code only")
        self.my_code.setToolTip("Hide library frames: their time folds into the calling app frame")
        self.reset = QPushButton("Reset zoom")
        # says where the tree comes from when it is not pstats': the sampled stacks
        self.source = QLabel("")
        self.source.setToolTip("Built from the requests' sampled call stacks (.stacks "
                               "files): true paths, nothing estimated; Exact/Estimated "
                               "applies to pstats trees only")
        self.source.setVisible(False)
        # the focus shows that it is on: a chip with its name and ×, a click takes it off
        self.unfocus = QPushButton("")
        self.unfocus.setVisible(False)
        self.unfocus.setToolTip("Sandwich on this function: its callers above, what it calls "
                                "below. Click to take the focus off.")
        self.unfocus.setStyleSheet("QPushButton { border: 1px solid #7a8fd0; border-radius: 9px;"
                                   " background: #e4eaff; padding: 1px 8px; }")
        self._toolbar = QHBoxLayout()
        for w in (self.search, self.regex, self.match_label):
            self._toolbar.addWidget(w)
        self._toolbar.addStretch(1)
        for w in (self.source, self.orientation, self.mode, self.my_code, self.unfocus,
                  self.reset):
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
        focus = self.session.focus
        if focus != self._focus:
            self._focus_back.append(self._focus)
            del self._focus_back[:-50]
            self._focus_forward.clear()
            self._focus = focus
        self.unfocus.setVisible(focus is not None)
        if focus is not None:
            self.unfocus.setText("Sandwich: %s  ×" % flame.short_label(focus))
        self._rebuild()

    def _on_function(self, func) -> None:
        self.view.set_selected(func)
        self.callers_view.set_selected(func)

    def _rebuild(self) -> None:
        generation = self._latest.next()
        request = self.session.tree_request()
        if request["graph"] is None:
            self.view.set_tree(None)
            self.callers_view.setVisible(False)
            return
        bottom_up = self.orientation.currentIndex() == BOTTOM_UP
        stacks = self._stacks()
        self.source.setText("Exact: %d sampled request%s" % (
            len(stacks or ()), "" if len(stacks or ()) == 1 else "s"))
        tree = None if bottom_up or stacks else flame.cached_tree(**request)
        if tree is not None and request["focus"] is None:
            self._on_trees(generation, (tree, None, False), request["graph"], False)
            return
        Task(view_trees, bottom_up=bottom_up, stacks=stacks, **request).start(
            on_done=lambda trees: self._on_trees(generation, trees, request["graph"],
                                                 bottom_up), owner=self)

    def _stacks(self):
        """The stacks files of every request in scope, or None when one has none (then
        the tree is pstats'; a mix would be neither exact nor comparable)."""
        scope = self.session.scope
        if scope is None or self.session.capture is None:
            return None
        requests = self.session.requests_of(scope)
        if not requests or len(requests) > MAX_STACK_REQUESTS or any(
                r.stacks is None for r in requests):
            return None
        return [r.stacks for r in requests]

    def _on_trees(self, generation: int, trees, graph, bottom_up: bool) -> None:
        """Show ``view_trees``' ``(tree, callers, sampled)``."""
        if not self._latest.current(generation):
            return  # the user changed something while this tree was being built
        tree, callers, sampled = trees
        self.bottom_up_shown = bottom_up and callers is None
        # what the toolbar says follows what was built (a stacks file that did not read
        # gives pstats' tree)
        self.source.setVisible(sampled)
        self.mode.setEnabled(not sampled)     # nothing is estimated in a tree of stacks
        # the sandwich's lower half hangs down from the function, whatever the orientation;
        # its halves start at the function (the synthetic root would say "all" twice)
        self.view.flame = self.orientation.currentIndex() == 1 and callers is None
        self.view.skip_root = self.callers_view.skip_root = int(callers is not None)
        self.view.setMinimumHeight(3 * ROW if callers is not None else 160)
        self.view.set_tree(tree, graph)
        self.view.set_selected(self.session.function)
        self.callers_view.setVisible(callers is not None)
        self.callers_view.set_tree(callers, graph)
        self.callers_view.set_selected(self.session.function)
        if callers is not None:   # as many rows as each half needs, within reason
            rows = [int(t.depth.max()) + 1 if len(t) else 1 for t in (callers, tree)]
            self.split.setSizes([max(3, min(r, 12)) * 100 for r in rows])
        self.legend.set_packages(self.view.packages(), self.view.package_times(),
                                 self.view.has_estimates() or self.callers_view.has_estimates())
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
        if index == BOTTOM_UP or self.bottom_up_shown:
            self._rebuild()          # another tree: built in a worker
        else:
            self.view.flame = index == 1
            self.view.reset_zoom()

    def _on_zoomed(self, names: list) -> None:
        """Breadcrumbs of the zoom: every step a link back to that frame (Esc: one up)."""
        path = self.view.zoom_path()
        if not path:
            self.breadcrumbs.setText("")
            return
        crumbs = ["<a href='0'>all</a>"] + [
            "<a href='%d'>%s</a>" % (i, safe_text.esc(name)) for i, name in path[:-1]] + [
            "<b>%s</b>" % safe_text.esc(path[-1][1])]
        self.breadcrumbs.setText(" › ".join(crumbs))
        self.breadcrumbs.setToolTip(safe_text.tip(" › ".join(["all"] + names)))

    def breadcrumb_text(self) -> str:
        """The breadcrumbs as plain text (what a user reads)."""
        path = self.view.zoom_path()
        return " › ".join(["all"] + [n for _i, n in path]) if path else ""

    def _on_beyond(self, step: int) -> None:
        """Back/forward past the zooms of this tree: to the focus before (or after) it."""
        source, target = ((self._focus_back, self._focus_forward) if step < 0
                          else (self._focus_forward, self._focus_back))
        if not source:
            return
        target.append(self._focus)
        self._focus = source.pop()
        self.session.set_focus(self._focus)

    def _on_crumb(self, link: str) -> None:
        if link.isdigit() and self.view.tree is not None and int(link) < len(self.view.tree):
            self.view.zoom_to(int(link))

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
        menu.addAction("Sandwich: its callers and callees (focus)",
                       lambda: self.session.set_focus(func))
        toggle = menu.addAction("My code only")
        toggle.setCheckable(True)
        toggle.setChecked(self.session.app_only)
        toggle.toggled.connect(self.my_code.setChecked)
        menu.popup(global_pos)
        self._menu = menu

    def _select_and_show(self, func) -> None:
        self.session.select_function(func)
        self.show_callers.emit(func)
