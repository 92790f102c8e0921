"""Item models pass pytest-qt's model tester; the CLI screenshot; SnakeViz on loopback."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from profview.analysis.endpoints import group
from profview.loading.merge import load_graph
from profview.loading.scan import load_capture
from profview.model.callgraph import format_func
from profview.qt.models import ITEM_ROLE, SORT_ROLE, EdgeModel, EndpointModel, FunctionModel


@pytest.fixture
def loaded(before):
    capture = load_capture([before], workers=1)
    endpoints = group(capture)
    graph, _ = load_graph(endpoints[0].requests)
    return capture, endpoints, graph


def test_endpoint_model(qtmodeltester, loaded):
    capture, endpoints, _ = loaded
    model = EndpointModel()
    model.set_capture(capture, endpoints)
    qtmodeltester.check(model)
    assert model.rowCount() == len(endpoints) + 1
    first = model.index(1, 0)
    assert model.rowCount(first) == len(endpoints[0].requests)
    slowest = max(endpoints[0].requests, key=lambda r: r.elapsed_ms)  # sorted by share
    assert model.index(0, 0, first).data().endswith(slowest.url_path + "?" + slowest.query)
    model.sort(2, Qt.AscendingOrder)    # p50 / elapsed, ascending
    qtmodeltester.check(model)
    p50s = [model.index(r, 2).data(SORT_ROLE) for r in range(1, model.rowCount())]
    assert p50s == sorted(p50s)
    model.set_filter("attendance")
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [
        "All requests", "GET /attendance/<int:student_id>"]
    model.set_filter("class_id=")   # matches requests: their endpoint stays, with only them
    (row,) = [r for r in range(model.rowCount()) if model.index(r, 0).data() == "GET /roster"]
    assert model.rowCount(model.index(row, 0)) == len(endpoints[0].requests)


def test_function_and_edge_models(qtmodeltester, loaded):
    _, _, graph = loaded
    functions = FunctionModel()
    functions.set_graph(graph)
    qtmodeltester.check(functions)
    assert functions.rowCount() == len(graph.functions)
    func = functions.rows[0][0]
    edges = EdgeModel()
    edges.set_edges(graph.callers(func))
    qtmodeltester.check(edges)
    assert edges.rowCount() == len(graph.callers(func))
    functions.sort(0, Qt.AscendingOrder)
    qtmodeltester.check(functions)
    calls = [functions.index(r, 0).data(SORT_ROLE) for r in range(functions.rowCount())]
    assert calls == sorted(calls)
    functions.set_filter("sqlite3")
    assert 0 < functions.rowCount() < len(graph.functions)
    assert all("sqlite3" in format_func(functions.index(r, 0).data(ITEM_ROLE))
               for r in range(functions.rowCount()))
    functions.set_graph(None)
    qtmodeltester.check(functions)


def test_cli_screenshot(tmp_path, before):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PROFVIEW_SETTINGS=str(tmp_path / "s.ini"),
               PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-m", "profview", str(before), "--endpoint",
                             "attendance", "--screenshot", str(out), "--size", "1400x900"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1400, 900)
    colours = {image.pixelColor(x, y).name() for x in range(0, 1400, 25)
               for y in range(0, 900, 25)}
    assert len(colours) > 8   # a picture, not a blank window


def test_snakeviz_serves_on_loopback_only(loaded):
    from profview.qt.export import start_snakeviz, stop_snakeviz

    _, _, graph = loaded
    got = threading.Event()
    urls = []
    proc = start_snakeviz(graph, lambda url: (urls.append(url), got.set()))
    try:
        assert got.wait(60), "snakeviz printed no URL"
        assert urls[0].startswith("http://127.0.0.1:")
        assert proc.args[proc.args.index("-H") + 1] == "127.0.0.1"
    finally:
        stop_snakeviz()
