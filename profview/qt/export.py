"""File › Export and "Open in SnakeViz".  Each export takes an optional path (tests, scripts);
without one it asks with a file dialog.  Nothing is ever written into a loaded directory
unless the user picks it in the dialog."""
from __future__ import annotations

import csv
import marshal
import re
import socket
import subprocess
import sys
import tempfile
import threading

from PySide6.QtCore import QObject, QRectF, QSize, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..report import build as report
from .workers import Task

_snakeviz: list = []   # running snakeviz servers, stopped when the window closes


class _UrlBridge(QObject):
    """Carries the URL from the thread that reads SnakeViz's output to the GUI thread."""

    url = Signal(str)


def _ask(window, title: str, suffix: str, path):
    if path:
        return str(path)
    path, _ = QFileDialog.getSaveFileName(window, title, "profview" + suffix,
                                          "*%s" % suffix)
    return path or None


def _need_graph(window):
    graph = window.session.graph
    if graph is None:
        QMessageBox.information(window, "profview", "Nothing to export yet: open profiles first.")
    return graph


def flame_svg(window, path=None):
    """The flame graph as it is on screen, as SVG."""
    path = _ask(window, "Export flame graph", ".svg", path)
    if not path:
        return None
    view = window.flame.view
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(QSize(view.width(), view.height()))
    generator.setViewBox(QRectF(0, 0, view.width(), view.height()))
    generator.setTitle("profview flame graph: %s" % window.session.scope_label())
    view.render(generator)   # paintEvent draws on the SVG: vector rectangles and text
    return path


def flame_png(window, path=None):
    """The flame graph as it is on screen, as PNG."""
    path = _ask(window, "Export flame graph", ".png", path)
    if path and window.flame.view.grab().save(path):
        return path
    return None


def _render_scene(scene, device) -> None:
    painter = QPainter(device)
    painter.setRenderHint(QPainter.Antialiasing)
    scene.render(painter)
    painter.end()


def callgraph_dot(window, path=None):
    """The call graph as DOT (gprof2dot's own output: xdot and dot read it)."""
    spec = window.callgraph.spec
    path = spec is not None and _ask(window, "Export call graph", ".dot", path)
    if not path:
        return None
    with open(path, "w", encoding="utf-8") as out:
        out.write(spec.dot)
    return path


def callgraph_svg(window, path=None):
    """The call graph as drawn, as SVG."""
    path = _ask(window, "Export call graph", ".svg", path)
    if not path:
        return None
    scene = window.callgraph.scene
    rect = scene.itemsBoundingRect()
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(QSize(int(rect.width()) + 1, int(rect.height()) + 1))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    _render_scene(scene, generator)
    return path


def callgraph_png(window, path=None):
    """The call graph as drawn, as PNG (at twice its size in points, for legibility)."""
    path = _ask(window, "Export call graph", ".png", path)
    if not path:
        return None
    rect = window.callgraph.scene.itemsBoundingRect()
    image = QImage(max(1, int(rect.width() * 2)), max(1, int(rect.height() * 2)),
                   QImage.Format_ARGB32)
    image.fill(0xFFFFFFFF)
    _render_scene(window.callgraph.scene, image)
    return path if image.save(path) else None


def merged_prof(window, path=None):
    """The current (merged) profile as a pstats ``.prof`` file."""
    graph = _need_graph(window)
    path = graph is not None and _ask(window, "Export merged profile", ".prof", path)
    if not path:
        return None
    with open(path, "wb") as out:
        out.write(marshal.dumps(graph.to_pstats()))
    return path


def functions_csv(window, path=None):
    """The function table of the current profile, as CSV (times in seconds)."""
    graph = _need_graph(window)
    path = graph is not None and _ask(window, "Export function table", ".csv", path)
    if not path:
        return None
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["function", "file", "line", "ncalls", "primcalls", "tottime_s",
                         "cumtime_s"])
        for key, s in sorted(graph.functions.items(), key=lambda kv: -kv[1].tottime):
            writer.writerow([key[2], key[0], key[1], s.ncalls, s.primcalls, s.tottime,
                             s.cumtime])
    return path


def endpoints_csv(window, path=None):
    """The endpoint table, as CSV (the report's numbers)."""
    capture = window.session.capture
    path = capture is not None and _ask(window, "Export endpoint table", ".csv", path)
    if not path:
        return None
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["endpoint", "requests", "p50_ms", "p95_ms", "max_ms", "total_ms",
                         "queries_per_request", "top_self_time_function"])
        for ep in report.build(capture)["endpoints"]:
            top = ep["top_functions"][0]["function"] if ep["top_functions"] else ""
            writer.writerow([ep["name"], ep["requests"], ep["p50_ms"], ep["p95_ms"],
                             ep["max_ms"], ep["total_ms"], ep["queries_per_request"], top])
    return path


SCOPE_EXPORTS = {"speedscope": (".speedscope.json", "speedscope JSON"),
                 "callgrind": (".callgrind", "callgrind (KCachegrind)"),
                 "folded": (".folded", "folded stacks")}


def scope_export(window, kind: str, path=None):
    """The requests on show as speedscope JSON, callgrind or folded stacks
    (``report.exports``), written by a worker thread; the path, or None when cancelled."""
    from ..report import exports

    suffix, title = SCOPE_EXPORTS[kind]
    requests = list(window.session.requests_of()) if window.session.capture else []
    if not requests:
        QMessageBox.information(window, "profview", "Nothing to export yet: open profiles first.")
        return None
    path = _ask(window, "Export %s as %s" % (window.session.scope_label(), title), suffix, path)
    if not path:
        return None
    make = {"speedscope": exports.speedscope_text, "callgrind": exports.callgrind_text,
            "folded": exports.folded_text}[kind]

    def job():
        text, problems = make(requests)
        if text is None:
            raise ValueError("none of the profiles could be read again")
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
        return problems

    label = window.session.scope_label()
    window.status.setText("Exporting %s as %s…" % (label, title))
    Task(job).start(
        on_done=lambda problems: window.status.setText("Wrote %s: %s, %d request%s%s" % (
            path, label, len(requests), "" if len(requests) == 1 else "s",
            "; %d could not be read" % len(problems) if problems else "")),
        on_failed=lambda message: window.status.setText("Export failed: %s" % message),
        owner=window)
    return path


def parquet_tables(window, path=None):
    """The whole capture as Parquet datasets under a directory (``report.parquet``)."""
    from ..report import parquet

    capture = window.session.capture
    if capture is None or not capture.requests:
        QMessageBox.information(window, "profview", "Nothing to export yet: open profiles first.")
        return None
    if not path:
        path = QFileDialog.getExistingDirectory(window, "Export Parquet tables into")
    if not path:
        return None
    window.status.setText("Writing Parquet tables under %s…" % path)
    Task(parquet.write, capture, path).start(
        on_done=lambda written: window.status.setText("Wrote %s under %s" % (", ".join(
            "%d %s" % (n, t) for t, n in written.items()), path)),
        on_failed=lambda message: window.status.setText(
            "Parquet export failed: %s (it needs pyarrow: pip install 'profview[parquet]')"
            % message), owner=window)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_snakeviz(graph, on_url) -> subprocess.Popen:
    """Serve *graph* with ``snakeviz --server`` on 127.0.0.1 only; *on_url(url)* is called
    with the address it prints (it moves to another port silently if the one asked is taken).
    SnakeViz's server serves any file on the machine, so it is never bound elsewhere."""
    directory = tempfile.mkdtemp(prefix="profview-snakeviz-")
    path = "%s/profile.prof" % directory
    with open(path, "wb") as out:
        out.write(marshal.dumps(graph.to_pstats()))
    proc = subprocess.Popen([sys.executable, "-m", "snakeviz", "--server", "-H", "127.0.0.1",
                             "-p", str(_free_port()), path], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    _snakeviz.append(proc)

    def watch() -> None:
        # Read its output to the end: a server whose pipe nobody drains blocks once the
        # pipe's buffer is full (it stopped answering after about 65 requests).
        told = False
        for line in proc.stdout:
            match = None if told else re.search(r"http://127\.0\.0\.1:\d+/\S*", line)
            if match:
                on_url(match.group(0))
                told = True

    threading.Thread(target=watch, daemon=True).start()
    return proc


def open_in_snakeviz(window) -> None:
    graph = _need_graph(window)
    if graph is None:
        return
    window.status.setText("Starting SnakeViz for %s…" % window.session.scope_label())
    bridge = _UrlBridge(window)
    bridge.url.connect(lambda url: (QDesktopServices.openUrl(QUrl(url)),
                                    window.status.setText("SnakeViz: %s" % url)))
    start_snakeviz(graph, bridge.url.emit)


def stop_snakeviz() -> None:
    while _snakeviz:
        proc = _snakeviz.pop()
        proc.terminate()

