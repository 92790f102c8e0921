"""Call graph speed: prune, lay out and draw the graph of a merged 1,000-request profile.

    QT_QPA_PLATFORM=offscreen python bench/bench_callgraph.py [--files 1000]

In one run: merging the profiles (for reference), gprof2dot's parse + prune + DOT, the layout
with each installed backend, and building and drawing the Qt scene.  Also, as the baseline
the issue warns about, the number of nodes an unpruned layout would have faced.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT.parent)]


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from bench_load import make_capture
    from profview.analysis import callgraph_view as cg
    from profview.loading.merge import load_graph
    from profview.loading.scan import load_capture
    from profview.app.session import Session
    from profview.qt.views.callgraph import CallGraphPanel

    app = QApplication.instance() or QApplication(["bench"])
    with tempfile.TemporaryDirectory(prefix="profview-bench-") as tmp:
        make_capture(Path(tmp), args.files)
        capture = load_capture([tmp])
        merge_s, (graph, _problems) = timed(lambda: load_graph(capture.requests))
    print("merged %d request profiles: %d functions, %d edges (merge %.2f s)"
          % (graph.requests, len(graph.functions), len(graph.edges), merge_s))
    build_s, spec = timed(lambda: cg.build(graph))
    print("  gprof2dot parse + prune (0.5%%/0.1%%) + DOT  %6.3f s  -> %d nodes, %d edges"
          % (build_s, len(spec.nodes), len(spec.edges)))
    layout_times = {}
    for backend in cg.backends():
        layout_times[backend], _lay = timed(lambda b=backend: cg.layout(spec, b))
        print("  layout with %-14s                 %6.3f s" % (backend, layout_times[backend]))
    lay = cg.layout(spec)
    panel = CallGraphPanel(Session())
    panel.resize(900, 700)
    panel.show()
    draw_s, _ = timed(lambda: panel._show(panel._generation, spec, lay))
    image = QImage(panel.view.viewport().size(), QImage.Format_ARGB32)

    def paint():
        p = QPainter(image)
        panel.view.render(p)
        p.end()

    paint_s, _ = timed(paint)
    print("  build the Qt scene                          %6.3f s" % draw_s)
    print("  paint it (fit to 900x700)                   %6.3f s" % paint_s)
    total = build_s + layout_times[lay.backend] + draw_s + paint_s
    print("  total, prune to picture (with %s)     %6.3f s" % (lay.backend, total))
    print("  without pruning the layout would face %d nodes (1,000 took minutes)"
          % len(graph.functions))
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
