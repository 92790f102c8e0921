"""Memory per request: the resident set around every request, tracemalloc's figures with
``memory=True``, and the ``memory_growth`` finding, which names the demo app's leaking
``/report`` (``sample_profiles/memory``) and nothing on the other captures."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from findings_data import findings
from profview.analysis.findings import Settings, memory_growth
from profview.loading.scan import load_capture

SAMPLES = Path(__file__).resolve().parent.parent / "sample_profiles"
flask = pytest.importorskip("flask")
KEPT: list = []


def test_the_leaking_endpoint_is_found_and_the_others_are_not():
    capture = load_capture([SAMPLES / "memory"], workers=1)
    found = findings(capture, "memory_growth")
    assert [f.endpoints for f in found] == [("GET /report/<int:class_id>",)]
    texts = [e.text for e in found[0].evidence]
    # the line that builds what the leak keeps, from tracemalloc's sites
    leak_line = next(n for n, line in enumerate(
        (SAMPLES / "demo_app.py").read_text().splitlines(), 1)
        if line.strip().startswith('rows = [{"student"'))
    assert any("demo_app.py:%d" % leak_line in t for t in texts), texts
    assert "Mann-Whitney" in texts[0]


@pytest.mark.parametrize("name", ["before", "after", "stacks", "stacks-only"])
def test_no_memory_finding_where_nothing_leaks(name):
    assert findings(load_capture([SAMPLES / name], workers=1), "memory_growth") == []


def _app(tmp_path, **options):
    from flask import Flask

    from profview.capture import init_app

    app = Flask(__name__)

    @app.get("/keep")
    def keep():
        KEPT.append([bytearray(1000) for _ in range(300)])    # KEEP_LINE
        return "kept"

    @app.get("/nothing")
    def nothing():
        return "ok"

    init_app(app, tmp_path, **options)
    return app


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_every_request_line_has_the_resident_set(tmp_path):
    client = _app(tmp_path).test_client()
    assert client.get("/nothing").status_code == 200
    (line,) = _lines(tmp_path / "requests.jsonl")
    assert isinstance(line["rss_before"], int) and isinstance(line["rss_after"], int)
    assert line["rss_before"] > 1_000_000          # a Python process: megabytes
    assert "mem_net" not in line                   # tracemalloc only with memory=True


def test_memory_true_names_the_line_that_kept_it(tmp_path):
    import tracemalloc

    was = tracemalloc.is_tracing()
    try:
        client = _app(tmp_path, memory=True).test_client()
        for _ in range(3):
            assert client.get("/keep").status_code == 200
    finally:
        if not was:
            tracemalloc.stop()
    line = _lines(tmp_path / "requests.jsonl")[-1]
    assert line["mem_net"] >= 300 * 1000           # what it kept, at least
    assert line["mem_peak"] >= line["mem_net"] - 1
    keep_line = next(n for n, text in enumerate(Path(__file__).read_text().splitlines(), 1)
                     if text.rstrip().endswith("# KEEP_LINE"))
    top = line["mem_sites"][0]
    assert top["where"].endswith("test_memory.py:%d" % keep_line)
    assert top["bytes"] >= 300 * 1000 and top["count"] >= 300


def _r(delta, pid=1, host=None, net=None):
    return SimpleNamespace(rss_delta=delta, pid=pid, host=host, mem_net=net, mem_sites=(),
                           start=0.0, rss_before=100, rss_after=100 + delta, elapsed_ms=1.0,
                           file=Path("r.prof"))


def test_one_spike_is_not_a_trend():
    settings = Settings()
    spike = [_r(0)] * 11 + [_r(50_000_000)]
    others = [_r(0)] * 20 + [_r(4096)] * 5
    assert memory_growth._process(SimpleNamespace(name="GET /x"), 1, spike, others,
                                  settings) is None
    steady = [_r(400_000)] * 12
    got = memory_growth._process(SimpleNamespace(name="GET /x"), 1, steady, others, settings)
    assert got is not None and "4.8 MB over 12 requests" in got.summary


def test_bad_memory_fields_are_line_problems(tmp_path):
    import shutil

    shutil.copytree(SAMPLES / "memory", tmp_path / "m")
    path = tmp_path / "m" / "requests.jsonl"
    lines = _lines(path)
    lines[0]["mem_net"] = "a lot"
    lines[1]["mem_sites"] = [{"where": 5}, "junk", {"where": "x.py:1", "bytes": 10 ** 40}]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    capture = load_capture([tmp_path / "m"], workers=1)
    assert any(p.line == 1 and "mem_net" in p.message for p in capture.problems)
    second = next(r for r in capture.requests if r.request_id == lines[1]["id"])
    assert second.mem_sites == ()
