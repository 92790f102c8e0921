"""The window's menus (File, Export, View), its settings store and the Open Recent list."""
from __future__ import annotations

import json
import os

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence

from . import export

MAX_RECENT = 8


def settings() -> QSettings:
    """profview's settings; ``PROFVIEW_SETTINGS=path.ini`` keeps them in that file (tests)."""
    path = os.environ.get("PROFVIEW_SETTINGS")
    return QSettings(path, QSettings.IniFormat) if path else QSettings("profview", "profview")


def recent_paths(store: QSettings) -> tuple:
    """``(entries, problem)``: the Open Recent entries (lists of paths) kept in *store*, and
    why they were ignored when the stored value is not such a list (a hand-edited file)."""
    raw = store.value("recent", "[]")
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, list) and all(isinstance(e, list) and e and all(
            isinstance(p, str) for p in e) for e in value):
        return value[:MAX_RECENT], None
    return [], "settings: the recent files list is not valid and was ignored"


def action(menu, text, slot, shortcut=None) -> QAction:
    """A menu entry calling *slot*."""
    entry = menu.addAction(text)
    entry.triggered.connect(slot)
    if shortcut:
        entry.setShortcut(QKeySequence(shortcut))
    return entry


def build(window) -> None:
    """The menu bar of *window* (a MainWindow); sets ``window.recent_menu`` and
    ``window.follow`` (View › Follow new profiles)."""
    file = window.menuBar().addMenu("&File")
    action(file, "Open &Files…", window.open_files_dialog, QKeySequence.Open)
    action(file, "Open &Directory…", window.open_directory_dialog, "Ctrl+Shift+O")
    window.recent_menu = file.addMenu("Open &Recent")
    action(file, "&Reload", window.reload, "F5")
    action(file, "&Compare…", window.compare_dialog, "Ctrl+Shift+C")
    file.addSeparator()
    exp = file.addMenu("&Export")
    action(exp, "Flame graph as SVG…", lambda: export.flame_svg(window))
    action(exp, "Flame graph as PNG…", lambda: export.flame_png(window))
    action(exp, "Call graph as DOT…", lambda: export.callgraph_dot(window))
    action(exp, "Call graph as SVG…", lambda: export.callgraph_svg(window))
    action(exp, "Call graph as PNG…", lambda: export.callgraph_png(window))
    action(exp, "Merged profile as .prof…", lambda: export.merged_prof(window))
    action(exp, "Function table as CSV…", lambda: export.functions_csv(window))
    action(exp, "Endpoint table as CSV…", lambda: export.endpoints_csv(window))
    exp.addSeparator()
    action(exp, "Scope as speedscope JSON…", lambda: export.scope_export(window, "speedscope"))
    action(exp, "Scope as callgrind (KCachegrind)…",
           lambda: export.scope_export(window, "callgrind"))
    action(exp, "Scope as folded stacks…", lambda: export.scope_export(window, "folded"))
    action(exp, "Capture as Parquet tables…", lambda: export.parquet_tables(window))
    action(file, "Open in &SnakeViz", lambda: export.open_in_snakeviz(window))
    file.addSeparator()
    action(file, "&Quit", window.close, QKeySequence.Quit)
    view = window.menuBar().addMenu("&View")
    window.follow = view.addAction("&Follow new profiles")
    window.follow.setCheckable(True)
    window.follow.setChecked(True)
    window.follow.setToolTip("Profiles and sidecar lines written while profview is open "
                             "appear within two seconds; untick to pause")
    window.follow.toggled.connect(lambda on: window._extend() if on else None)
    view.addSeparator()
    for dock in window.docks.values():
        view.addAction(dock.toggleViewAction())
    refresh_recent(window)


def remember(window, paths) -> None:
    """Put *paths* first in Open Recent."""
    s = settings()
    recent = [r for r in recent_paths(s)[0] if r != paths]
    s.setValue("recent", json.dumps([paths] + recent[:MAX_RECENT - 1]))
    refresh_recent(window)


def refresh_recent(window) -> None:
    """Rebuild Open Recent from the settings (a bad stored value is a settings problem)."""
    window.recent_menu.clear()
    recent, problem = recent_paths(settings())
    window._note_settings_problem(problem)
    for paths in recent:
        action(window.recent_menu, " + ".join(paths),
               lambda checked=False, p=paths: window.open_paths(p))
    window.recent_menu.setEnabled(bool(recent))
