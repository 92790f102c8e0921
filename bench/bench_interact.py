"""How fast profview answers: loading, every scope change of a scripted walk, comparing,
each figure next to a baseline measured in the same run.

    QT_QPA_PLATFORM=offscreen python bench/bench_interact.py CAPTURE [--compare AFTER]
        [--copies 10000] [--busy] [--json]

CAPTURE is a directory of request profiles (a real capture).  With ``--copies N`` the
capture is N hard links to its profiles under distinct Werkzeug names (real bytes to read,
little disk).  ``--busy`` runs everything with a spin loop on another core.

Figures (seconds):
  report            ``profview report DIR --json`` (findings included), a fresh process;
  first_picture     the window: open the directory, until timeline, endpoints, the first
                    scope's flame graph and the findings are shown;
  scope_p50/p95/max selecting every endpoint, then All requests, a time range (the middle
                    fifth of the capture) and one request, as a user clicks: until the
                    flame graph has painted the scope's tree (the tables are filled
                    before, and painted in the same pass);
  callgraph_p95     the same walk, until the call graph is drawn too;
  stall_max         the longest the event loop went unserved during the walk (a 5 ms timer);
  compare           ``profview report BEFORE --compare AFTER --json``, a fresh process;
  compare_window    the window: from the second capture loaded to its verdicts shown.
Baselines: a fresh process that reads every file and ``marshal.loads`` it (for a scope:
the same for the scope's files, in this process).  ``--json`` prints
``{"figures": [{"name", "value_s", "baseline_s", "target_s"}]}``.
"""
from __future__ import annotations

import argparse
import json
import marshal
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench_load import BARE  # noqa: E402  (the one baseline script)


def seconds(cmd: list) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bare(*dirs) -> float:
    return seconds([sys.executable, "-c", BARE, *map(str, dirs)])


def copies(source: Path, target: Path, n: int) -> Path:
    """*n* hard links to *source*'s profiles, one second apart, Werkzeug names."""
    from profview.importers.werkzeug_name import parse_name

    files = sorted(source.rglob("*.prof"))
    target.mkdir(parents=True, exist_ok=True)
    t0 = min(parse_name(f.name).time for f in files if parse_name(f.name))
    for i in range(n):
        src = files[i % len(files)]
        wz = parse_name(src.name)
        path = src.name.rsplit(".", 3)[0]
        name = "%s.%.0fms.%d.prof" % (path, wz.elapsed_ms, int(t0) + i)
        try:
            os.link(src, target / name)
        except OSError:
            (target / name).write_bytes(src.read_bytes())
    return target


def pct(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def wait(app, done: list, limit: float = 120.0) -> float:
    """Run the event loop until *done* has a time in it (the handlers record their own
    time, so how often this looks does not change a figure).  A real event loop that sleeps
    between events, as ``app.exec()`` does: polling ``processEvents`` here took CPU from
    the workers and slowed what it measured."""
    from PySide6.QtCore import QEventLoop, QTimer

    if done:
        return done[0]
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(2)
    check.timeout.connect(lambda: done and loop.quit())
    QTimer.singleShot(int(limit * 1000), loop.quit)
    check.start()
    loop.exec()
    check.stop()
    return done[0] if done else float("nan")


def window_figures(capture: Path, after: Path | None) -> list:
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from profview.model.scope import Scope
    from profview.qt import comparing
    from profview.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication(["bench"])
    os.environ["PROFVIEW_SETTINGS"] = os.path.join(tempfile.mkdtemp(), "bench.ini")
    window = MainWindow(persist=False)
    window.resize(1280, 720)
    window.show()
    for _ in range(50):
        app.processEvents()
        time.sleep(0.005)
    ready, found = [], []
    window.ready.connect(lambda: ready.append(time.perf_counter()))
    window.findings.updated.connect(lambda: found.append(time.perf_counter()))
    start = time.perf_counter()
    window.open_paths([str(capture)])
    wait(app, ready)
    wait(app, found)
    first = max(ready[0], found[0]) - start
    session = window.session
    cap = session.capture
    reqs = cap.requests
    n = len(reqs)
    scopes = [Scope.of_endpoint(ep) for ep in session.endpoints]
    scopes += [Scope.everything(), Scope.of_set("middle fifth", reqs[2 * n // 5:3 * n // 5]),
               Scope.of_request(reqs[n // 2])]
    flame, cg = [], []
    # a scope is on show when the flame view has painted its tree: the first paint that
    # ends after tree_ready (the tables are painted in the same pass of the window)
    shown = []
    window.flame.tree_ready.connect(lambda: shown.append(True))
    view, paint = window.flame.view, window.flame.view.paintEvent

    def painted(event):
        paint(event)
        if shown and not flame:
            flame.append(time.perf_counter())
    view.paintEvent = painted
    window.callgraph.drawn.connect(lambda: cg.append(time.perf_counter()))
    gaps, clock, timer = [], QElapsedTimer(), QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: gaps.append(clock.restart() / 1000.0))
    rows = []
    clock.start()
    timer.start()
    for scope in scopes:
        if scope == session.scope:
            continue
        del flame[:], cg[:], shown[:]
        t0 = time.perf_counter()
        session.select_scope(scope)
        t_flame = wait(app, flame, 60)
        t_cg = wait(app, cg, 60)
        rows.append([scope, t_flame - t0, t_cg - t0])
    timer.stop()
    for row in rows:    # the baselines, after the walk: not inside the stall measurement
        t1 = time.perf_counter()
        for r in session.requests_of(row[0]):
            with open(r.file, "rb") as fh:
                marshal.loads(fh.read())
        row[0] = row[0].name(cap)
        row.append(time.perf_counter() - t1)
    out = {"first_picture": first, "walk": rows, "stall_max": max(gaps[1:] or [0.0])}
    if after is not None:
        loaded, shown = [], []
        real = comparing._compare

        def spy(win, capture_after):
            loaded.append(time.perf_counter())
            real(win, capture_after)
        comparing._compare = spy
        window.compared.connect(lambda: shown.append(time.perf_counter()))
        window.compare_with([str(after)])
        wait(app, shown, 300)
        out["compare_window"] = shown[0] - loaded[0]
    window.close()
    return out


def figures(args) -> list:
    capture = args.capture
    tmp = None
    if args.copies:
        tmp = tempfile.TemporaryDirectory(prefix="profview-bench-")
        capture = copies(capture, Path(tmp.name) / "capture", args.copies)
    base = min(bare(capture) for _ in range(2))
    report = float("nan") if args.window_only else min(
        seconds([sys.executable, "-m", "profview.cli", "report", str(capture), "--json"])
        for _ in range(2))
    w = window_figures(capture, args.compare)
    walk = w["walk"]
    flame = [r[1] for r in walk]
    cgs = [r[2] for r in walk]
    bases = [r[3] for r in walk]
    small = len(list(capture.rglob("*.prof"))) <= 1000
    scope_target = 0.1 if small else 0.25
    out = [("report", report, base, 1.5 * base),
           ("first_picture", w["first_picture"], base, 2 * base),
           ("scope_p50", pct(flame, 50), pct(bases, 50), None),
           ("scope_p95", pct(flame, 95), pct(bases, 95), scope_target),
           ("scope_max", max(flame), max(bases), None),
           ("callgraph_p95", pct(cgs, 95), pct(bases, 95), None),
           ("stall_max", w["stall_max"], 0.0, 0.1)]
    if args.compare:
        both = min(bare(capture, args.compare) for _ in range(2))
        cmp_s = float("nan") if args.window_only else min(
            seconds([sys.executable, "-m", "profview.cli", "report", str(capture),
                     "--compare", str(args.compare), "--json"]) for _ in range(2))
        out += [("compare", cmp_s, both, 2 * both),
                ("compare_window", w["compare_window"], bare(args.compare), 1.0)]
    if not args.json:
        slow = max(walk, key=lambda r: r[1])
        print("slowest scope: %s %.3f s (call graph %.3f s), its files' marshal.loads %.3f s"
              % tuple(slow))
    if tmp is not None:
        tmp.cleanup()
    return [{"name": n, "value_s": round(v, 4), "baseline_s": round(b, 4),
             "target_s": None if t is None else round(t, 4)} for n, v, b, t in out]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("capture", type=Path)
    ap.add_argument("--compare", type=Path, help="an AFTER capture to compare with")
    ap.add_argument("--copies", type=int, default=0)
    ap.add_argument("--busy", action="store_true", help="a spin loop on another core meanwhile")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--window-only", action="store_true",
                    help="leave out the command-line figures (report, compare)")
    args = ap.parse_args(argv)
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        rows = figures(args)
    finally:
        if spin is not None:
            spin.kill()
    if args.json:
        print(json.dumps({"figures": rows}))
        return 0
    print("%-16s %9s %9s %7s %9s" % ("figure", "profview", "baseline", "ratio", "target"))
    for r in rows:
        ratio = r["value_s"] / r["baseline_s"] if r["baseline_s"] else float("nan")
        print("%-16s %8.3fs %8.3fs %6.1fx %9s" % (
            r["name"], r["value_s"], r["baseline_s"], ratio,
            "-" if r["target_s"] is None else "%.3fs" % r["target_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
