"""profview.capture's sampled call stacks: each request's block in its process's .stacks file.

No wall-clock thresholds: a view that must be sampled waits until the sampler has taken its
samples (or failed), with a generous cap only so that a broken sampler fails instead of hangs.
"""
from __future__ import annotations

import json
import logging
import sys
import threading
import time

import pytest
from test_capture_support import get, lines, serving

from profview.capture import ENVIRON_KEY, CaptureMiddleware, init_app
from profview.capture.stacks import SAMPLER

pytestmark = pytest.mark.capture

flask = pytest.importorskip("flask")
sqlalchemy = pytest.importorskip("sqlalchemy")

CAP_S = 30.0     # a sampler that never samples fails the test after this, it does not hang


def _recording():
    from flask import request

    return request.environ[ENVIRON_KEY].stacks


def busy_until_sampled(n=5):
    """Run Python until the sampler has taken *n* samples of this request since we began."""
    rec = _recording()
    first = len(rec.samples)
    give_up = time.perf_counter() + CAP_S
    while len(rec.samples) < first + n and rec.failed is None \
            and time.perf_counter() < give_up:
        sum(range(100))


def sleepy_until_sampled(n=3):
    rec = _recording()
    first = len(rec.samples)
    give_up = time.perf_counter() + CAP_S
    while len(rec.samples) < first + n and rec.failed is None \
            and time.perf_counter() < give_up:
        time.sleep(0.001)


def _app(engine, barrier=None):
    from flask import Flask
    from sqlalchemy import text

    app = Flask(__name__)

    @app.get("/work")
    def work_view():
        busy_until_sampled()
        sleepy_until_sampled()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).all()
            conn.execute(text("SELECT 2")).all()
        return "done"

    @app.get("/a")
    def view_a():
        barrier.wait(CAP_S)            # both requests are being served now
        work_a()
        barrier.wait(CAP_S)
        return "a"

    @app.get("/b")
    def view_b():
        barrier.wait(CAP_S)
        work_b()
        barrier.wait(CAP_S)
        return "b"

    return app


def work_a():
    busy_until_sampled()


def work_b():
    busy_until_sampled()


def block(directory, record) -> bytes:
    """The bytes of the block a request's line names (``stacks``, ``stacks_at``)."""
    offset, length = record["stacks_at"]
    data = (directory / record["stacks"]).read_bytes()[offset:offset + length]
    assert len(data) == length and data.endswith(b"\n")
    return data


class Stacks:
    """One request's block of a stacks file, checked line by line against the contract."""

    def __init__(self, directory, record):
        self.lines = [json.loads(line) for line in block(directory, record).splitlines()]
        self.header, self.end = self.lines[0], self.lines[-1]
        self.frames, self.stacks, self.samples = {}, {}, []
        for line in self.lines[1:-1]:
            (kind, value), = line.items()
            if kind == "frame":
                fid, filename, first, name = value
                assert fid == len(self.frames) and isinstance(filename, str)
                assert isinstance(first, int) and isinstance(name, str)
                self.frames[fid] = (filename, first, name)
            elif kind == "stack":
                sid, parent, fid, line_no = value
                assert sid == len(self.stacks) and isinstance(line_no, int)
                assert fid in self.frames and (parent is None or parent in self.stacks)
                self.stacks[sid] = (parent, fid, line_no)
            else:
                assert kind == "sample"
                t_ms, sid = value
                assert sid in self.stacks                 # defined before use
                self.samples.append((t_ms, sid))
        assert set(self.end) == {"end", "samples", "missed"}
        assert self.end["samples"] == len(self.samples) and self.end["missed"] >= 0

    def chain(self, sid):
        """The function names of a sample, root first."""
        names = []
        while sid is not None:
            parent, fid, _line = self.stacks[sid]
            names.append(self.frames[fid][2])
            sid = parent
        return names[::-1]

    def functions(self):
        return {name for _t, sid in self.samples for name in self.chain(sid)}


def test_a_request_gets_its_stacks_file(tmp_path):
    engine = sqlalchemy.create_engine("sqlite://")
    app = _app(engine)
    init_app(app, tmp_path, engine=engine, stacks=True)
    assert app.test_client().get("/work").status_code == 200

    (request,) = lines(tmp_path / "requests.jsonl")
    assert request["profiled"] and request["kept"]
    assert request["stacks"] == "stacks.%d.%s.stacks" % (
        request["pid"], request["stacks"].split(".")[2])
    assert (tmp_path / request["profile"]).exists()
    stacks = Stacks(tmp_path, request)
    assert stacks.header == {"stacks": 1, "request": request["id"], "pid": request["pid"],
                             "thread": threading.get_ident(), "interval_ms": 1.0,
                             "start": request["start"]}
    assert stacks.end["end"] == round(request["elapsed_ms"], 3)
    times = [t for t, _sid in stacks.samples]
    assert times == sorted(times) and 0 <= times[0] and times[-1] <= stacks.end["end"]
    assert {"work_view", "busy_until_sampled", "sleepy_until_sampled"} <= stacks.functions()
    roots = {stacks.chain(sid)[0] for _t, sid in stacks.samples}
    assert roots == {"wsgi_app"}       # Flask's: neither the server's frames nor the capture's
    assert not {"_run", "run_app", "_serve", "_profview_stack_sampler"} & stacks.functions()

    queries = lines(tmp_path / "queries.jsonl")
    assert [q["statement"] for q in queries] == ["SELECT 1", "SELECT 2"]
    start, end = stacks.header["start"], stacks.header["start"] + stacks.end["end"] / 1000
    for q in queries:                  # one clock for both files
        assert start <= q["start"] <= end


def test_stacks_without_the_profiler(tmp_path):
    engine = sqlalchemy.create_engine("sqlite://")
    app = _app(engine)
    init_app(app, tmp_path, engine=engine, stacks=True, profile=False, stack_interval_ms=2)
    assert app.test_client().get("/work").status_code == 200
    (request,) = lines(tmp_path / "requests.jsonl")
    assert (request["profiled"], request["kept"], request["no_profile"]) == (False, False, "off")
    assert not list(tmp_path.glob("*.prof"))
    assert [p.name for p in tmp_path.glob("*.stacks")] == [request["stacks"]]
    stacks = Stacks(tmp_path, request)
    assert stacks.header["interval_ms"] == 2.0 and "busy_until_sampled" in stacks.functions()


def test_no_stacks_by_default(tmp_path):
    engine = sqlalchemy.create_engine("sqlite://")
    app = _app(engine)
    init_app(app, tmp_path, engine=engine)
    from flask import request as flask_request

    @app.get("/plain")
    def plain():
        assert flask_request.environ[ENVIRON_KEY].stacks is None
        return "plain"

    assert app.test_client().get("/plain").status_code == 200
    (request,) = lines(tmp_path / "requests.jsonl")
    assert request["stacks"] is None and not list(tmp_path.glob("*.stacks"))


def test_a_failing_sampler_costs_the_stacks_not_the_answer(tmp_path, monkeypatch, caplog):
    engine = sqlalchemy.create_engine("sqlite://")
    app = _app(engine)
    init_app(app, tmp_path, engine=engine, stacks=True)

    def broken():
        raise RuntimeError("no frames today")

    monkeypatch.setattr(sys, "_current_frames", broken)
    with caplog.at_level(logging.WARNING, logger="profview.capture"):
        response = app.test_client().get("/work")    # waits until the sampler has failed
    assert response.status_code == 200 and response.data == b"done"
    assert "no frames today" in caplog.text
    (request,) = lines(tmp_path / "requests.jsonl")
    assert request["stacks"] is None and request["kept"]
    assert not list(tmp_path.glob("*.stacks"))

    monkeypatch.undo()                 # the same sampler thread samples the next request
    assert app.test_client().get("/work").status_code == 200
    assert lines(tmp_path / "requests.jsonl")[-1]["stacks"] is not None


def test_concurrent_requests_each_get_their_own_stacks(tmp_path):
    engine = sqlalchemy.create_engine("sqlite://")
    app = _app(engine, barrier=threading.Barrier(2))
    init_app(app, tmp_path, engine=engine, stacks=True, profile=False)
    with serving(app) as port:
        answers = {}
        clients = [threading.Thread(target=lambda p=p: answers.update({p: get(port, p)}))
                   for p in ("/a", "/b")]
        for c in clients:
            c.start()
        for c in clients:
            c.join(CAP_S * 3)
    assert answers == {"/a": (200, b"a"), "/b": (200, b"b")}
    requests = {r["path"]: r for r in lines(tmp_path / "requests.jsonl")}
    a, b = (Stacks(tmp_path, requests[p]) for p in ("/a", "/b"))
    assert a.header["thread"] != b.header["thread"]
    assert {"view_a", "work_a"} <= a.functions() and not {"view_b", "work_b"} & a.functions()
    assert {"view_b", "work_b"} <= b.functions() and not {"view_a", "work_a"} & b.functions()


def test_a_plain_wsgi_app_and_one_sampler_thread(tmp_path):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        rec = environ[ENVIRON_KEY].stacks
        give_up = time.perf_counter() + CAP_S
        while len(rec.samples) < 3 and time.perf_counter() < give_up:
            sum(range(100))
        return [b"ok"]

    wrapped = CaptureMiddleware(app, tmp_path, stacks=True, stack_interval_ms=0.5)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "wsgi.input": None}
    for _ in range(2):
        assert wrapped(environ, lambda *a: None) == [b"ok"]
    samplers = [t for t in threading.enumerate() if t.name == "profview-stack-sampler"]
    assert samplers == [SAMPLER.thread] and SAMPLER.thread.daemon
    for r in lines(tmp_path / "requests.jsonl"):
        stacks = Stacks(tmp_path, r)
        assert stacks.chain(stacks.samples[0][1]) == ["app"]


@pytest.mark.skipif(not hasattr(sys, "monitoring"), reason="cProfile is per thread before 3.12")
def test_the_sampler_stays_out_of_the_profile(tmp_path):
    """3.12+: cProfile records every thread, but the sampler makes no call it can see."""
    import pstats

    engine = sqlalchemy.create_engine("sqlite://")
    app = _app(engine)
    init_app(app, tmp_path, engine=engine, stacks=True)
    assert app.test_client().get("/work").status_code == 200   # the thread starts here
    assert app.test_client().get("/work").status_code == 200   # and runs all through this
    request = lines(tmp_path / "requests.jsonl")[-1]
    stats = pstats.Stats(str(tmp_path / request["profile"])).stats
    sampler_calls = {name for (_f, _l, name), (_cc, _nc, _tt, _ct, callers) in stats.items()
                     if "_current_frames" in name or "stack_sampler" in name
                     or ("time.sleep" in name
                         and {c[2] for c in callers} != {"sleepy_until_sampled"})}
    assert sampler_calls == set()


def test_requests_append_to_one_file_per_process(tmp_path):
    """Blocks follow each other in the process's file, each where its line says; a file
    removed meanwhile (the size cap, a user) is replaced by a new one, never written blind."""
    engine = sqlalchemy.create_engine("sqlite://")
    app = _app(engine)
    init_app(app, tmp_path, engine=engine, stacks=True, profile=False)
    client = app.test_client()
    for _ in range(3):
        assert client.get("/work").status_code == 200
    records = lines(tmp_path / "requests.jsonl")
    (name,) = {r["stacks"] for r in records}
    assert [r["stacks_at"][0] for r in records] == [0] + list(
        __import__("itertools").accumulate(r["stacks_at"][1] for r in records[:-1]))
    assert sum(r["stacks_at"][1] for r in records) == (tmp_path / name).stat().st_size
    for r in records:
        stacks = Stacks(tmp_path, r)
        assert stacks.header["request"] == r["id"] and "work_view" in stacks.functions()

    (tmp_path / name).unlink()
    assert client.get("/work").status_code == 200
    last = lines(tmp_path / "requests.jsonl")[-1]
    assert last["stacks"] != name and last["stacks_at"][0] == 0
    assert Stacks(tmp_path, last).header["request"] == last["id"]
