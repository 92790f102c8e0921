"""Render the README's pictures from sample_profiles/ (no screen needed).

    python docs/pictures.py [OUT_DIR]

Each picture is the window at 1280×720 in one state: the samples as opened (window.png), the
Findings tab (findings.png), a comparison (compare.png), the sandwich of a function
(sandwich.png), the bottom-up view (bottom-up.png) and, from the capture with sampled stacks,
one request in time order with its SQL (request-timeline.png).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "sample_profiles"
SIZE = (1280, 720)


def _wait(app, signal, timeout_ms: int = 60_000) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


def _settle(app, ms: int = 300) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["PROFVIEW_SETTINGS"] = os.path.join(tempfile.mkdtemp(), "pictures.ini")
    from PySide6.QtWidgets import QApplication

    from profview.qt.main_window import MainWindow
    from profview.qt.views.flame_panel import BOTTOM_UP

    app = QApplication.instance() or QApplication(["profview"])
    window = MainWindow(persist=False)
    window.resize(*SIZE)
    window.show()
    window.open_paths([str(SAMPLES / "before")])
    _wait(app, window.ready)
    _wait(app, window.findings.updated)
    _settle(app)
    out.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out / "window.png"))
    window.docks["Findings"].raise_()
    _settle(app)
    window.grab().save(str(out / "findings.png"))
    window.docks["Timeline"].raise_()
    # the sandwich of the function the N+1 goes through (called from several places)
    graph = window.session.graph
    target = next(f for f in graph.functions if f[2] == "_emit_lazyload")
    window.session.select_function(target)
    window.session.set_focus(target)
    _wait(app, window.flame.tree_ready)
    _settle(app)
    window.grab().save(str(out / "sandwich.png"))
    window.session.set_focus(None)
    _wait(app, window.flame.tree_ready)
    window.flame.orientation.setCurrentIndex(BOTTOM_UP)
    _wait(app, window.flame.tree_ready)
    _settle(app)
    window.grab().save(str(out / "bottom-up.png"))
    window.flame.orientation.setCurrentIndex(0)
    _wait(app, window.flame.tree_ready)
    window.compare_with([str(SAMPLES / "after")])
    _wait(app, window.compared)
    _settle(app, 600)
    window.grab().save(str(out / "compare.png"))
    window.close()
    request_timeline(app, out)
    print("pictures in %s" % out)


def request_timeline(app, out: Path) -> None:
    """The capture with sampled stacks: the slowest /roster request in time order."""
    from profview.model.scope import Scope
    from profview.qt.main_window import MainWindow

    window = MainWindow(persist=False)
    window.resize(*SIZE)
    window.show()
    window.open_paths([str(SAMPLES / "stacks")])
    _wait(app, window.ready)
    request = max((r for r in window.session.capture.requests if "roster" in r.name),
                  key=lambda r: r.elapsed_ms)
    window.docks["Request"].raise_()
    window.session.select_scope(Scope.of_request(request))
    _wait(app, window.request_timeline.ready)
    _settle(app, 600)
    window.grab().save(str(out / "request-timeline.png"))
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
