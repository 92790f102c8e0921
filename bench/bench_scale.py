"""Scale: 1,000 / 10,000 / 50,000 request profiles, in one run, against the bare baseline.

    python bench/bench_scale.py [--files 1000 10000 50000] [--plot scale.png]

For each size, a capture of that many profiles (hard links to the sample profiles under
distinct Werkzeug names: real bytes to read, little disk) is measured as fresh processes:
  - the bare baseline: read + marshal.loads every file;
  - the first timeline: file names only (``analysis.timeline.name_points``);
  - everything parsed, validated and merged per endpoint (``profview report --json``);
with each one's peak RSS (from wait4), and the cost per file, which should stay flat.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench_load import BARE  # noqa: E402  (the one baseline script)
TIMELINE = ("import sys; sys.path.insert(0, sys.argv[2])\n"
            "from profview.loading.names import name_points\n"
            "print(len(name_points([sys.argv[1]])))\n")


def make(target: Path, n: int) -> None:
    from profview.importers.werkzeug_name import parse_name

    sources = sorted((ROOT / "sample_profiles" / "before").glob("*.prof"))
    for i in range(n):
        src = sources[i % len(sources)]
        wz = parse_name(src.name)
        path = wz.url_path.strip("/").replace("/", ".") or "root"
        os.link(src, target / ("%s.%s.%.0fms.%d.prof" % (wz.method, path, wz.elapsed_ms,
                                                         1795300000 + i)))


def run(cmd: list) -> tuple:
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit("failed: %s" % " ".join(cmd))
    return time.perf_counter() - start, usage.ru_maxrss / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--plot", metavar="PNG", help="also draw seconds per size")
    args = parser.parse_args()
    py = sys.executable
    rows = []
    print("%8s  %9s  %14s  %16s  %9s  %12s  %9s" % (
        "files", "bare s", "first timeline", "parse+merge s", "ratio", "ms per file",
        "peak RSS"))
    for n in args.files:
        with tempfile.TemporaryDirectory(prefix="profview-scale-") as tmp:
            make(Path(tmp), n)
            bare, _ = run([py, "-c", BARE, tmp])
            first, _ = run([py, "-c", TIMELINE, tmp, str(ROOT)])
            ours, rss = run([py, "-m", "profview", "report", tmp, "--json"])
        rows.append((n, bare, first, ours, rss))
        print("%8d  %9.2f  %12.2f s  %16.2f  %8.2fx  %12.3f  %6.0f MB" % (
            n, bare, first, ours, ours / bare, 1000 * ours / n, rss))
    if args.plot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        import pyqtgraph as pg
        from PySide6.QtWidgets import QApplication

        QApplication.instance() or QApplication([])
        plot = pg.PlotWidget(background="w", title="seconds by number of request profiles")
        plot.addLegend()
        for col, name, colour in ((1, "bare marshal.loads", "k"), (2, "first timeline", "g"),
                                  (3, "profview report", "b")):
            plot.plot([r[0] for r in rows], [r[col] for r in rows], pen=pg.mkPen(colour,
                      width=2), symbol="o", symbolBrush=colour, name=name)
        plot.resize(800, 500)
        plot.grab().save(args.plot)
        print("plot saved to %s" % args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
