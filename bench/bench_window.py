"""The window's speed: flame graph paint time, and time to the first picture of a big capture.

    QT_QPA_PLATFORM=offscreen python bench/bench_window.py [--frames 50000] [--files 1000]

1. Paints a 50,000-frame flame graph (1400x600) at full zoom-out and zoomed in, and, in the
   same run, the naive way (every frame, one drawRect each, no culling) as the baseline.
2. Opens a directory of N request profiles (copies of sample_profiles/before) in the window
   and reports the time to the first picture (endpoints listed, top endpoint merged and drawn),
   the bare marshal.loads time of the same files, and the longest stall of the GUI event
   loop meanwhile (a 5 ms timer records the gaps).
"""
from __future__ import annotations

import argparse
import marshal
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT.parent)]

# Qt is imported inside the functions: the loader's worker processes re-import this module
# (as __mp_main__) and must not pay for Qt, just as they do not under `profview`.


def paint_ms(view, reps: int = 20) -> float:
    from PySide6.QtGui import QImage

    image = QImage(view.size(), QImage.Format_ARGB32)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        view.render(image)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def naive_ms(tree, width: int, height: int) -> float:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QImage, QPainter

    image = QImage(width, height, QImage.Format_ARGB32)
    scale = width / tree.total[0]
    start = time.perf_counter()
    p = QPainter(image)
    for i in range(len(tree)):
        p.setBrush(QColor.fromHsv((i * 37) % 360, 120, 230))
        p.drawRect(QRectF(tree.start[i] * scale, tree.depth[i] * 18, tree.total[i] * scale, 17))
    p.end()
    return (time.perf_counter() - start) * 1000


def bench_paint(frames: int) -> None:
    from profview.qt.views.flame import FlameView
    from trees import wide_tree

    tree = wide_tree(frames)
    view = FlameView()
    view.resize(1400, 600)
    view.set_tree(tree)
    full = paint_ms(view)
    shown_full = len(view.visible())
    deep = int(tree.depth.argmax())
    node = deep
    while tree.depth[node] > max(1, tree.depth[deep] - 12):
        node = int(tree.parent[node])
    view.zoom_to(node)
    zoomed = paint_ms(view)
    print("flame paint, %d frames, 1400x600:" % frames)
    print("  full zoom-out  %6.1f ms (%d frames drawn, the rest under a pixel)"
          % (full, shown_full))
    print("  zoomed in      %6.1f ms (%d frames drawn)" % (zoomed, len(view.visible())))
    print("  baseline: every frame, one drawRect each: %6.1f ms" % naive_ms(tree, 1400, 600))


def bench_first_picture(files: int) -> None:
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from bench_load import make_capture
    from profview.qt.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="profview-bench-") as tmp:
        make_capture(Path(tmp), files)
        start = time.perf_counter()
        for f in Path(tmp).iterdir():
            marshal.loads(f.read_bytes())
        bare = time.perf_counter() - start
        # the settings file outside the capture: the window watches what it opened
        os.environ["PROFVIEW_SETTINGS"] = str(Path(tmp).with_name(Path(tmp).name + ".ini"))
        window = MainWindow(persist=False)
        window.resize(1400, 900)
        window.show()
        settle = time.perf_counter() + 0.3   # the empty window laid out and painted, as when
        while time.perf_counter() < settle:  # a user picks File › Open Directory
            QApplication.processEvents()
            time.sleep(0.005)
        gaps, clock = [(0.0, 0.0)], QElapsedTimer()
        timer = QTimer()
        timer.setInterval(5)

        def tick() -> None:
            gaps.append((clock.restart(), time.perf_counter() - start))

        timer.timeout.connect(tick)
        app = QApplication.instance()
        done = []
        window.ready.connect(lambda: done.append(time.perf_counter()))
        clock.start()
        timer.start()
        start = time.perf_counter()
        window.open_paths([tmp])
        while not done and time.perf_counter() - start < 120:
            app.processEvents()
            time.sleep(0.001)
        loading = list(gaps)
        while done and time.perf_counter() - done[0] < 3.0:   # panels settling, findings
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        worst = sorted(loading, reverse=True)[:3]
        print("first picture of %d request profiles: %.2f s (bare marshal.loads of the same "
              "files: %.2f s); longest event-loop stall: %.0f ms"
              % (files, done[0] - start if done else float("nan"), bare, worst[0][0]))
        print("  longest stalls while loading: %s; in the 3 s after: %.0f ms" % (
            ", ".join("%.0f ms at %.2f s" % g for g in worst),
            max(g for g, _t in gaps[len(loading):] or [(0.0, 0)])))
        window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    QApplication.instance() or QApplication(["bench"])
    bench_paint(args.frames)
    bench_first_picture(args.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
