"""Findings with sampled stacks: an N+1 names the loop line and the lazy-load line that
issued its statements (from the request's true stacks, not pstats' totals)."""
from __future__ import annotations

from pathlib import Path

import pytest

from profview.loading.scan import load_capture
from profview.report.build import build

SAMPLES = Path(__file__).resolve().parent.parent / "sample_profiles"


def _n_plus_one(directory):
    report = build(load_capture([SAMPLES / directory], workers=1))
    return next(f for f in report["findings"] if f["rule"] == "n_plus_one")


def test_the_n_plus_one_names_its_loop_and_lazy_load_from_the_stacks():
    finding = _n_plus_one("stacks")
    sampled = [e for e in finding["evidence"] if e["text"].startswith("sampled stacks")]
    assert len(sampled) == 1
    evidence = sampled[0]
    # the loop of the view (the query log's own location says the same line: two sources)
    assert evidence["function"].endswith("demo_app.py:74(<listcomp>)")
    assert "demo_app.py:74 (<listcomp>)" in evidence["text"]
    assert "(_emit_lazyload)" in evidence["text"]
    statement = next(e for e in finding["evidence"] if e["kind"] == "statement")
    assert "demo_app.py:74 (<listcomp>)" in statement["text"]


def test_without_stacks_there_is_no_such_evidence():
    finding = _n_plus_one("before")
    assert not any(e["text"].startswith("sampled stacks") for e in finding["evidence"])


def test_blocking_io_says_when_the_request_waited_and_from_where(tmp_path):
    """A view that reads a socket: the finding (from pstats' recv time) cites the sampled
    stacks for when it waited, and the app line.  The peer answers only once the sampler
    has taken 30 samples of the wait, so the wait is long whatever the machine's speed."""
    import socket
    import threading
    import time

    flask = pytest.importorskip("flask")
    from profview.capture import ENVIRON_KEY, init_app

    app = flask.Flask(__name__)
    marks = []

    @app.get("/fetch")
    def fetch():
        rec = flask.request.environ[ENVIRON_KEY].stacks
        ours, peer = socket.socketpair()

        def answer():
            first, give_up = len(rec.samples), time.perf_counter() + 30.0
            while len(rec.samples) < first + 30 and time.perf_counter() < give_up:
                time.sleep(0.001)
            peer.sendall(b"x")

        threading.Thread(target=answer).start()
        before = time.time()
        with ours, peer, ours.makefile("rb") as stream:
            stream.read(1)                               # WAIT_LINE
        marks.append((before, time.time()))
        return "ok"

    init_app(app, tmp_path, stacks=True)
    for _ in range(3):
        assert app.test_client().get("/fetch").status_code == 200
    capture = load_capture([tmp_path], workers=1)
    report = build(capture)
    finding = next(f for f in report["findings"] if f["rule"] == "blocking_io")
    (when,) = [e for e in finding["evidence"] if e["text"].startswith("sampled stacks")]
    line = next(n for n, text in enumerate(Path(__file__).read_text().splitlines(), 1)
                if text.strip().endswith("# WAIT_LINE"))
    # the waits, in the order they happened (on a busy machine starting the peer's thread
    # can be one too: a lock wait in Thread.start)
    waits = when["text"].split("waited on ", 1)[1].split("; ")
    (socket_wait,) = [w for w in waits if w.startswith("socket from ")]
    assert "test_stack_findings.py:%d (fetch)" % line in socket_wait
    # the wait it names lies inside the one the view itself measured
    request = next(r for r in capture.requests if str(r.file) == when["request"])
    start = request.start
    begin_ms, end_ms = (float(x) for x in
                        socket_wait[len("socket from "):].split(" ms")[0].split(" to "))
    before, after = next(m for m in marks if abs(m[0] - start) < 1.0 and m[0] >= start)
    assert (before - start) * 1000 - 1 <= begin_ms < end_ms
    assert begin_ms <= (after - start) * 1000 + 1
