"""Requests served at the same time, on every Python: all served, each profile honest.

Python 3.12+ has one profiler per interpreter (sys.monitoring): a second cProfile refuses to
start, and the one running records every thread.  There one request is profiled at a time
and the others are served unprofiled (``skip``) or wait (``wait``); before 3.12 each thread
profiles its own request.  Ordering comes from events the views wait on, never from sleeps.
"""
from __future__ import annotations

import pstats
import threading

import pytest
from test_capture_support import get, lines, serving

from profview.capture import init_app, profiling
from profview.capture.profiling import SHARED, ProfilerSlot

# The capture helper on real servers: its own stage of .ci/run, on Python 3.11, 3.12 and
# 3.13 (python -m pytest -m capture), not part of the README's test command.
pytestmark = pytest.mark.capture

flask = pytest.importorskip("flask")


def _held_app(tmp_path, **options):
    """``/hold`` stays in its view until ``release`` is set; ``/other`` returns at once."""
    from flask import Flask

    app = Flask(__name__)
    inside, release = threading.Event(), threading.Event()

    @app.get("/hold")
    def hold():
        inside.set()
        assert release.wait(60)
        return "held"

    @app.get("/other")
    def other():
        return "other"

    init_app(app, tmp_path, **options)
    return app, inside, release


def _by_path(tmp_path):
    return {r["path"]: r for r in lines(tmp_path / "requests.jsonl")}


def _functions(path):
    return {name for _file, _line, name in pstats.Stats(str(path)).stats}


def _start_hold(port, inside):
    """Send /hold from a thread; return once its view is running: ``(thread, result)``."""
    result = {}
    holder = threading.Thread(target=lambda: result.update(status=get(port, "/hold")[0]))
    holder.start()
    assert inside.wait(60)
    return holder, result


def test_a_request_beside_a_profiled_one(tmp_path):
    app, inside, release = _held_app(tmp_path)
    with serving(app) as port:
        holder, result = _start_hold(port, inside)
        status, _ = get(port, "/other")          # while /hold is in its view, profiled
        release.set()
        holder.join(60)
    assert (status, result["status"]) == (200, 200)
    held, other = _by_path(tmp_path)["/hold"], _by_path(tmp_path)["/other"]
    assert held["profiled"] and held["kept"]
    if SHARED:
        assert (other["profiled"], other["kept"], other["no_profile"]) == (False, False, "busy")
        assert not (tmp_path / other["profile"]).exists()
        assert (held["overlap"], held["alone"]) == (1, False)
        # cProfile 3.12+ records every thread: the request served beside it is in its profile.
        assert "other" in _functions(tmp_path / held["profile"])
    else:
        assert other["profiled"] and other["kept"] and other["alone"]
        assert (held["overlap"], held["alone"]) == (0, True)
        assert "other" not in _functions(tmp_path / held["profile"])
        assert "hold" not in _functions(tmp_path / other["profile"])


@pytest.mark.skipif(not SHARED, reason="before 3.12 nothing waits: each thread profiles")
def test_wait_profiles_the_request_after_the_one_running(tmp_path):
    app, inside, release = _held_app(tmp_path, concurrent="wait")
    with serving(app) as port:
        holder, result = _start_hold(port, inside)
        waiter = threading.Thread(target=lambda: result.update(other=get(port, "/other")[0]))
        waiter.start()
        while not profiling.SLOT.waiting and waiter.is_alive():   # /other queued for the profiler
            waiter.join(0.01)
        release.set()
        holder.join(60)
        waiter.join(60)
    assert (result["status"], result["other"]) == (200, 200)
    held, other = _by_path(tmp_path)["/hold"], _by_path(tmp_path)["/other"]
    assert held["profiled"] and other["profiled"] and other["kept"]
    assert held["overlap"] == other["overlap"] == 0
    assert other["start"] >= held["start"] + held["elapsed_ms"] / 1000.0   # after, not beside
    assert "other" not in _functions(tmp_path / held["profile"])


@pytest.mark.skipif(not SHARED, reason="before 3.12 nothing waits: each thread profiles")
def test_wait_gives_up_rather_than_wait_forever(tmp_path, monkeypatch):
    monkeypatch.setattr(profiling, "WAIT_S", 0.2)     # a view calling its own server waits no more
    app, inside, release = _held_app(tmp_path, concurrent="wait")
    with serving(app) as port:
        holder, result = _start_hold(port, inside)
        status, _ = get(port, "/other")          # answered while /hold still holds the profiler
        release.set()
        holder.join(60)
    other = _by_path(tmp_path)["/other"]
    assert status == 200 and (other["profiled"], other["no_profile"]) == (False, "busy")


def test_the_slot_logic_with_a_shared_profiler():
    class State:
        overlap, threads = 0, 1

    shared = ProfilerSlot(shared=True)
    a, b, c = State(), State(), State()
    assert shared.enter(a, True, "skip")
    assert not shared.enter(b, True, "skip")        # busy: b runs unprofiled beside a
    assert not shared.enter(c, False, "skip")       # sampled out
    assert a.overlap == 2
    shared.leave(b)
    shared.leave(a)
    d = State()
    assert shared.enter(d, True, "skip") and d.overlap == 1    # c is still running
    separate = ProfilerSlot(shared=False)
    assert separate.enter(State(), True, "skip") and separate.enter(State(), True, "skip")


def test_many_threads_every_request_served_and_recorded(tmp_path):
    app, _inside, release = _held_app(tmp_path)
    release.set()
    with serving(app) as port:
        results = []

        def worker():
            results.extend(get(port, "/other")[0] for _ in range(20))

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert results == [200] * 160
    requests = lines(tmp_path / "requests.jsonl")
    assert len(requests) == 160 and len({r["id"] for r in requests}) == 160
    kept = {r["profile"] for r in requests if r["kept"]}
    assert {p.name for p in tmp_path.glob("*.prof")} == kept
    assert kept and (SHARED or len(kept) == 160)
    for name in kept:
        pstats.Stats(str(tmp_path / name))
