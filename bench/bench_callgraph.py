"""Call graph speed: prune, lay out and draw a ~250-node graph of a merged 1,000-request profile.

    QT_QPA_PLATFORM=offscreen python bench/bench_callgraph.py [--files 1000] [--nodes 250]

The node threshold is chosen so that gprof2dot keeps --nodes functions (the edge threshold is a
fifth of it, gprof2dot's own 0.5%/0.1% ratio).  Each figure is printed next to a baseline timed
in the same run, on the same data:

* the whole first picture (the panel asked for a new profile, until its ``drawn`` signal and
  the first paint) against gprof2dot's own command line on the same merged profile and
  thresholds, ``gprof2dot -f pstats -n N -e E merged.prof | dot -Tsvg``;
* a redraw for a new threshold (the slider) against the same command line, which is what
  re-thresholding costs without profview;
* the layout against ``dot -Tplain`` run directly on the same DOT text;
* gprof2dot's parse + prune + DOT, the Qt scene and its paint, for where the time goes.

Figures are the median of --repeat runs (min in brackets).  Run it once idle and once with the
other core busy (``python3 -c 'while True: pass' &``) to see the 2-core case.
"""
from __future__ import annotations

import argparse
import marshal
import os
import re
import shutil
import statistics
import subprocess
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


def repeat(fn, n: int) -> tuple:
    """(median, min) seconds of *n* calls of *fn*."""
    times = [timed(fn)[0] for _ in range(n)]
    return statistics.median(times), min(times)


def fmt(figure: tuple) -> str:
    return "%6.3f s (min %.3f)" % figure


def thresholds_for(graph, nodes: int) -> tuple:
    """gprof2dot's node threshold that keeps *nodes* functions, and a fifth of it for edges
    (its ratios are cumulative time over the largest of the total and any cumulative)."""
    stats = graph.to_pstats()
    total = max(max(v[3] for v in stats.values()), sum(v[2] for v in stats.values()))
    ratios = sorted((v[3] / total for v in stats.values()), reverse=True)
    node = ratios[min(nodes, len(ratios)) - 1]
    return node, node / 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=250, help="functions to keep (about)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    from bench_load import make_capture
    from profview.analysis import callgraph_view as cg
    from profview.loading.merge import load_graph
    from profview.loading.scan import load_capture
    from profview.app.session import Session
    from profview.qt.views.callgraph import CallGraphPanel

    app = QApplication.instance() or QApplication(["bench"])
    tmp = tempfile.mkdtemp(prefix="profview-bench-")
    try:
        make_capture(Path(tmp), args.files)
        capture = load_capture([tmp])
        merge_s, (graph, _problems) = timed(lambda: load_graph(capture.requests))
        merged = Path(tmp) / "merged.prof"
        merged.write_bytes(marshal.dumps(graph.to_pstats()))
        node, edge = thresholds_for(graph, args.nodes)
        node_b, edge_b = thresholds_for(graph, max(args.nodes - 20, 1))  # the slider's other end
        print("merged %d request profiles: %d functions, %d edges (merge %.2f s); "
              "thresholds %.3f%% / %.3f%%, %d cores"
              % (graph.requests, len(graph.functions), len(graph.edges), merge_s,
                 100 * node, 100 * edge, os.cpu_count()))

        # --- where the time goes --------------------------------------------------------
        forget = getattr(cg, "clear_cache", lambda: None)   # profview's caches, if any

        def fresh():                             # a new CallGraph object: nothing cached
            return graph.scaled(1.0)

        def each(make, fn):                      # time fn(x) on a new make(), caches emptied
            items = iter([make() for _ in range(args.repeat)])

            def run():
                forget()
                return fn(next(items))
            return repeat(run, args.repeat)

        # thresholds that keep nodes, nodes-2, nodes-4...: a new pruned graph every time
        steps = [thresholds_for(graph, max(args.nodes - 2 * i, 1))
                 for i in range(args.repeat + 1)]
        spec = cg.build(graph, node, edge)
        cold = each(fresh, lambda g: cg.build(g, node, edge))
        cg.build(graph, node, edge)
        warm_steps = iter(steps[1:])
        warm = repeat(lambda: cg.build(graph, *next(warm_steps)), args.repeat)
        print("  %d nodes, %d edges%s" % (len(spec.nodes), len(spec.edges),
                                          " (%s)" % spec.message if spec.message else ""))
        print("  gprof2dot parse + prune + DOT, new profile  %s" % fmt(cold))
        print("  gprof2dot prune + DOT, new threshold        %s" % fmt(warm))
        dot_file = Path(tmp) / "graph.dot"
        dot_file.write_text(spec.dot)
        dot = shutil.which("dot")
        for backend in cg.backends():
            def lay_out(b=backend):
                getattr(cg, "_layouts", {}).clear()      # no cached layout
                return cg.layout(spec, b)
            print("  layout with %-14s                  %s"
                  % (backend, fmt(repeat(lay_out, args.repeat))))
        if dot:
            base = repeat(lambda: subprocess.run([dot, "-Tplain", str(dot_file)], check=True,
                                                 stdout=subprocess.DEVNULL), args.repeat)
            print("    baseline: dot -Tplain on the same DOT     %s" % fmt(base))
        lay = cg.layout(spec)
        panel = CallGraphPanel(Session())
        panel.resize(1280, 420)
        panel.show()
        app.processEvents()
        image = QImage(panel.view.viewport().size(), QImage.Format_ARGB32)

        def paint():
            p = QPainter(image)
            panel.view.render(p)
            p.end()

        prepare = getattr(sys.modules[CallGraphPanel.__module__], "prepare", None)
        if prepare is not None:                  # made in the worker
            print("  prepare paths and texts (worker)            %s"
                  % fmt(repeat(lambda: prepare(spec, lay), args.repeat)))
            drawing = prepare(spec, lay)
            show = lambda: panel._show(panel._latest.next(), spec, lay, drawing)  # noqa: E731
        else:
            show = lambda: panel._show(panel._latest.next(), spec, lay)  # noqa: E731
        print("  build the Qt scene (GUI thread)             %s" % fmt(repeat(show, args.repeat)))
        print("  paint it (fit to %dx%d)                    %s"
              % (image.width(), image.height(), fmt(repeat(paint, args.repeat))))

        # --- what the user waits for -----------------------------------------------------
        drawn = getattr(panel, "drawn", None) or panel.laid_out   # laid_out: before `drawn`
        session = panel.session

        def until_drawn(trigger):
            loop = QEventLoop()
            drawn.connect(loop.quit)
            QTimer.singleShot(60_000, loop.quit)
            trigger()
            loop.exec()
            drawn.disconnect(loop.quit)
            paint()

        wanted = [(node, edge)]
        panel.thresholds = lambda: wanted[0]     # the slider's steps are 0.1%: set them exactly
        first = each(fresh, lambda g: until_drawn(lambda: session.set_graph(session.scope, g)))
        until_drawn(lambda: session.set_graph(session.scope, graph))
        moves = iter(steps[1:])

        def move(to=None):
            wanted[0] = to or next(moves)
            until_drawn(panel._rebuild)          # what the slider's valueChanged calls

        again = repeat(move, args.repeat)
        seen = iter([(node, edge), steps[args.repeat]] * args.repeat)
        back = repeat(lambda: move(next(seen)), args.repeat)   # both drawn a moment ago
        drawn_nodes = len(panel.spec.nodes)
        gprof2dot_cli = [sys.executable, "-m", "gprof2dot", "-f", "pstats",
                         "-n", repr(100 * node), "-e", repr(100 * edge), str(merged)]

        def cli():
            first_half = subprocess.Popen(gprof2dot_cli, stdout=subprocess.PIPE)
            subprocess.run([dot or "dot", "-Tsvg"], stdin=first_half.stdout, check=True,
                           stdout=subprocess.DEVNULL)
            first_half.stdout.close()
            if first_half.wait():
                raise SystemExit("gprof2dot failed")

        base = repeat(cli, args.repeat)
        cli_dot = subprocess.run(gprof2dot_cli, capture_output=True, text=True,
                                 check=True).stdout
        cli_nodes = len(re.findall(r"(?m)^\s*\d+ \[", cli_dot))
        print("  first picture of a new profile (drawn+paint) %s" % fmt(first))
        print("  redraw for a new threshold (drawn+paint)    %s" % fmt(again))
        print("    baseline for both: gprof2dot -f pstats merged.prof | dot -Tsvg")
        print("                                              %s  (%d nodes)" % (fmt(base),
                                                                             cli_nodes))
        print("  redraw, back to a threshold drawn before    %s" % fmt(back))
        print("  (drew %d nodes; %s; without pruning the layout would face %d nodes)"
              % (drawn_nodes, panel.status.text(), len(graph.functions)))
        panel.close()
        from profview.qt.workers import wait_all
        wait_all()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
