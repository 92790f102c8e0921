"""A small load test on real servers: every request served and recorded, every statement
tied to its request, every profile readable; the long version is bench/capture_load.py.

Werkzeug's threaded server and gunicorn (2 worker processes of 4 threads, and 2 sync
workers), 200 requests 8 at a time from http.client threads, on 127.0.0.1.  Nothing here
depends on the machine's speed: the checks are on what was written, never on times.
"""
from __future__ import annotations

import importlib.util

import pytest
from test_capture_support import bench_module

from profview.capture.profiling import SHARED

# A load test of real servers: its own stage of .ci/run, on Python 3.11, 3.12 and 3.13
# (python -m pytest -m load), not part of the README's test command.
pytestmark = pytest.mark.load

pytest.importorskip("flask_sqlalchemy")
load = bench_module("capture_load")
N, CONCURRENCY = 200, 8
GUNICORN = pytest.mark.skipif(importlib.util.find_spec("gunicorn") is None,
                              reason="gunicorn is not installed")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    path = tmp_path_factory.mktemp("load")
    load.make_site(path / "site")
    return path


# "wait" changes nothing before 3.12 (each thread has its own profiler), nor with sync
# workers (a process serves one request at a time): it is run where it changes something.
WAIT = pytest.mark.skipif(not SHARED, reason="wait is for a shared profiler (3.12+)")
RUNS = [("werkzeug", "skip"), pytest.param("werkzeug", "wait", marks=WAIT),
        pytest.param("gunicorn", "skip", marks=GUNICORN),
        pytest.param("gunicorn", "wait", marks=[GUNICORN, WAIT]),
        pytest.param("gunicorn-sync", "skip", marks=GUNICORN)]


@pytest.mark.parametrize("server,mode", RUNS)
def test_every_request_served_and_recorded(work, server, mode):
    _rate, problems, summary = load.run(server, work, "%s-%s" % (server, mode),
                                        {"concurrent": mode}, N, CONCURRENCY)
    assert problems == []
    assert summary["lines"] == N and summary["statements"] == 2 * N
    if server == "gunicorn-sync" or not SHARED:
        # One thread per request's process, or a profiler per thread: every profile is its
        # own request's, complete.
        assert summary["profiles"] == summary["alone"] == N and summary["no view"] == 0
    elif mode == "wait":
        assert summary["profiles"] == N and summary["unprofiled"] == 0
    else:
        assert summary["profiles"] >= 1 and summary["profiles"] + summary["unprofiled"] == N
