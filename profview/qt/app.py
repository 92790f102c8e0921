"""``profview [PATH...] [--endpoint NAME] [--screenshot FILE]``: the window."""
from __future__ import annotations

import argparse
import os
import signal
from contextlib import ExitStack

from .. import desktop
from ..importers.pstats_file import megabytes


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="profview",
        description="Desktop viewer for Flask/WSGI request profiles "
                    "('profview report --help' for the terminal summary).")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help=".prof/.pstats files or directories to open")
    p.add_argument("--compare", nargs="+", metavar="AFTER",
                   help="compare the capture in PATH (before) with AFTER")
    p.add_argument("--endpoint", metavar="NAME",
                   help="show this endpoint first (exact name, or a part of it)")
    p.add_argument("--screenshot", metavar="FILE",
                   help="render the window once loading is done, save it as PNG and exit")
    p.add_argument("--max-size", type=megabytes, default=200, metavar="MB",
                   help="refuse profiles larger than this (default 200 MB)")
    p.add_argument("--size", default="1400x900", metavar="WxH",
                   help="window size (default 1400x900; useful with --screenshot)")
    p.add_argument("--install-desktop", action="store_true",
                   help="install the menu entry, icon and .prof file type for this user, "
                        "then exit")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    return p


def _screenshot_when_ready(app, window, args) -> None:
    """Save the window as PNG once the whole state is on show: the first picture (or the
    comparison) *and* the findings, whose count the Findings tab shows; then quit."""
    from PySide6.QtCore import QTimer

    waiting = {"picture", "findings"} if args.paths else set()
    shot: list = []

    def shoot() -> None:
        if shot:
            return
        shot.append(True)
        window.grab().save(args.screenshot)
        print("saved %s" % args.screenshot)
        app.quit()

    def arrived(what: str) -> None:
        waiting.discard(what)
        if not waiting:
            QTimer.singleShot(400, shoot)

    done = window.compared if args.compare else window.ready
    done.connect(lambda: arrived("picture"))
    window.findings.updated.connect(lambda: arrived("findings"))
    if not args.paths:
        QTimer.singleShot(300, shoot)
    QTimer.singleShot(120_000, shoot)   # never hang: a picture of whatever is there


def window_icon(stack: ExitStack):
    """The application icon, read from the package's resources (valid while *stack* is)."""
    from PySide6.QtGui import QIcon

    return QIcon(str(desktop.resource_path(desktop.ICON, stack)))


def _quit_on_signals(app) -> None:
    """Ctrl+C in the terminal and SIGTERM close the window like File › Quit.

    Python runs signal handlers only between bytecodes, and Qt's event loop runs none while
    idle: a timer hands control back to Python five times a second so the handler can run.
    """
    from PySide6.QtCore import QTimer

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_a: app.closeAllWindows() or app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)


def main(argv: list) -> int:
    args = parser().parse_args(argv)
    if args.screenshot and desktop.no_screen_reason():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"   # a screenshot needs no screen
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(["profview"])
    app.setApplicationName("profview")
    app.setDesktopFileName("profview")   # Wayland finds the icon through the desktop entry
    stack = ExitStack()
    app.aboutToQuit.connect(stack.close)
    app.setWindowIcon(window_icon(stack))
    _quit_on_signals(app)
    window = MainWindow(endpoint=args.endpoint, persist=not args.screenshot)
    window.max_bytes = int(args.max_size * 1024 * 1024)
    width, _, height = args.size.partition("x")
    window.resize(int(width), int(height))
    window.show()
    # Lay out and paint the empty window before the loader threads start: its first paint
    # calls back into Python thousands of times, and doing that while workers hold the GIL
    # stalled the window for 0.1-0.2 s.
    def start() -> None:
        if args.paths:
            window.open_paths(args.paths)
        if args.compare:
            window.compare_with(args.compare)

    QTimer.singleShot(100, start)
    if args.screenshot:
        _screenshot_when_ready(app, window, args)
    return app.exec()
