"""Timeline speed: the first timeline from file names alone, and drawing 10,000 requests.

    QT_QPA_PLATFORM=offscreen python bench/bench_timeline.py [--files 10000]

Makes N Werkzeug-named request profiles (hard links to one sample profile: the names are what
is measured) and times, in one run: listing the directory (os.scandir, the floor), the
timeline from file names (``analysis.timeline.name_points``: walk, parse names, template
paths), the panel's data preparation (rolling p50/p95, outliers), and drawing the plot.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_names(target: Path, n: int) -> None:
    source = next((ROOT / "sample_profiles" / "plain").glob("*.prof"))
    rng = random.Random(5)
    paths = ["root", "roster", "stats", "health"] + ["user.%d" % i for i in range(400)]
    for i in range(n):
        name = "GET.%s.%dms.%d.prof" % (rng.choice(paths), rng.randint(1, 400),
                                        1795300000 + i // 7)
        target_path = target / name
        if not target_path.exists():
            os.link(source, target_path)


def best(fn, reps: int = 3) -> tuple:
    times, result = [], None
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from profview.app.session import Session
    from profview.analysis.timeline import name_points
    from profview.qt.views.timeline import TimelinePanel, prepare

    app = QApplication.instance() or QApplication(["bench"])
    with tempfile.TemporaryDirectory(prefix="profview-bench-") as tmp:
        make_names(Path(tmp), args.files)
        n = len(os.listdir(tmp))
        floor, _ = best(lambda: [e.name for e in os.scandir(tmp)])
        names_s, points = best(lambda: name_points([tmp]))
    prep_s, data = best(lambda: prepare(points))
    panel = TimelinePanel(Session())
    panel.resize(1400, 500)
    panel.show()
    start = time.perf_counter()
    panel._show(panel._generation, data)
    app.processEvents()
    show_s = time.perf_counter() - start
    image = QImage(panel.plots.size(), QImage.Format_ARGB32)

    def draw() -> None:
        painter = QPainter(image)
        panel.plots.render(painter)
        painter.end()

    render_s, _ = best(draw, reps=5)
    x0, x1 = panel.main.viewRange()[0]
    panel.main.setXRange(x0 + (x1 - x0) * 0.4, x0 + (x1 - x0) * 0.5, padding=0)
    pan_s, _ = best(draw, reps=5)
    print("%d request profiles (%d series)" % (n, len(points.groups)))
    print("  list the directory (floor)          %7.3f s" % floor)
    print("  timeline from file names            %7.3f s" % names_s)
    print("  rolling p50/p95, outliers, slowest  %7.3f s (in a worker)" % prep_s)
    print("  build the plot items                %7.3f s" % show_s)
    print("  draw the whole timeline             %7.1f ms" % (render_s * 1000))
    print("  draw zoomed to a tenth              %7.1f ms" % (pan_s * 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
