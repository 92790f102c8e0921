"""Requests that fail keep their line, their SQL and the profile so far, and fail as before;
and the capture's own failures (disk, hostile values) never reach the app."""
from __future__ import annotations

import errno
import pstats
import shutil

import pytest
from test_capture_support import get, lines, serving

from profview.capture import CaptureMiddleware, init_app
from profview.capture.profiling import SHARED

# The capture helper on real servers: its own stage of .ci/run, on Python 3.11, 3.12 and
# 3.13 (python -m pytest -m capture), not part of the README's test command.
pytestmark = pytest.mark.capture

flask = pytest.importorskip("flask")
sqlalchemy = pytest.importorskip("sqlalchemy")


class Boom(Exception):
    """The app's own error."""


def _functions(path):
    return {name for _file, _line, name in pstats.Stats(str(path)).stats}


def _streaming_app(engine):
    from flask import Flask, Response
    from sqlalchemy import text

    app = Flask(__name__)

    @app.get("/stream")
    def stream():
        def generate():
            yield b"first part\n"
            with engine.connect() as conn:
                conn.execute(text("SELECT 'before the error'"))
            raise Boom("while streaming")
        return Response(generate())

    return app


def test_a_response_that_raises_while_streaming(tmp_path):
    engine = sqlalchemy.create_engine("sqlite://")
    app = _streaming_app(engine)
    init_app(app, tmp_path, engine=engine)
    with serving(app) as port:
        status, _body = get(port, "/stream")
    assert status == 500                        # the server's answer, as without the capture
    (line,) = lines(tmp_path / "requests.jsonl")
    assert (line["status"], line["exception"], line["rule"]) == (
        500, "test_capture_failures.Boom", "/stream")
    assert line["profiled"] and line["kept"] and line["elapsed_ms"] > 0
    assert {"stream", "generate"} <= _functions(tmp_path / line["profile"])   # so far
    (query,) = lines(tmp_path / "queries.jsonl")
    assert (query["request"], query["profile"]) == (line["id"], line["profile"])


def _raising_app(raised: list):
    from flask import Flask

    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.get("/fail/<int:n>")
    def fail(n):
        exc = Boom("view %d" % n)
        raised.append(exc)
        raise exc

    return app


def test_a_propagated_exception_is_the_very_one_the_view_raised(tmp_path):
    raised: list = []
    bare = _raising_app(raised).test_client()
    with pytest.raises(Boom) as without:
        bare.get("/fail/1")
    app = _raising_app(raised)
    init_app(app, tmp_path)
    with pytest.raises(Boom) as with_capture:
        app.test_client().get("/fail/2")
    assert without.value is raised[0] and with_capture.value is raised[1]
    assert with_capture.traceback[-1].name == "fail"     # its own traceback, untouched
    (line,) = lines(tmp_path / "requests.jsonl")
    assert (line["status"], line["exception"], line["endpoint"], line["path"]) == (
        500, "test_capture_failures.Boom", "fail", "/fail/2")
    assert "fail" in _functions(tmp_path / line["profile"])


def test_an_error_the_app_handles_is_its_answer_not_an_exception(tmp_path):
    app = _raising_app([])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    init_app(app, tmp_path)
    assert app.test_client().get("/fail/3").status_code == 500
    (line,) = lines(tmp_path / "requests.jsonl")
    assert (line["status"], line["exception"], line["kept"]) == (500, None, True)


class Unprintable:
    """A parameter the driver takes (through an adapter) but whose repr() raises."""

    def __repr__(self):
        raise RuntimeError("no repr")


def _ok_app(engine):
    import sqlite3

    from sqlalchemy import text
    from werkzeug.wrappers import Request, Response

    sqlite3.register_adapter(Unprintable, lambda _value: 7)

    @Request.application
    def app(request):
        with engine.connect() as conn:
            conn.execute(text("SELECT :x"), {"x": 1})
            conn.execute(text("SELECT :x"), {"x": Unprintable()})
        return Response("ok")

    return app


def test_a_capture_directory_that_disappears_costs_lines_not_answers(tmp_path):
    from werkzeug.test import Client

    engine = sqlalchemy.create_engine("sqlite://")
    capture = tmp_path / "cap"
    middleware = CaptureMiddleware(_ok_app(engine), capture, engine=engine, max_mb=1)
    client = Client(middleware)
    assert client.get("/").status_code == 200
    shutil.rmtree(capture)
    assert client.get("/").status_code == 200           # nothing to write to: served anyway
    capture.write_text("now a file")
    assert client.get("/").status_code == 200
    assert middleware.sink.failures >= 2


def test_parameters_that_refuse_repr_are_recorded_as_unknown(tmp_path):
    from werkzeug.test import Client

    engine = sqlalchemy.create_engine("sqlite://")
    client = Client(CaptureMiddleware(_ok_app(engine), tmp_path, engine=engine))
    assert client.get("/odd").status_code == 200
    queries = lines(tmp_path / "queries.jsonl")
    assert [q["parameters"] for q in queries] == ["(1,)", None]
    assert all(q["request"] for q in queries)


def test_a_full_disk_leaves_the_line_saying_so(tmp_path, monkeypatch):
    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    from profview.capture import store

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "_write_new", full)
    client = Client(CaptureMiddleware(Response("ok"), tmp_path))
    assert client.get("/").status_code == 200
    (line,) = lines(tmp_path / "requests.jsonl")
    assert (line["profiled"], line["kept"], line["no_profile"]) == (True, False, "error")
    assert not list(tmp_path.glob("*.prof*"))     # no profile, and no temporary file left


@pytest.mark.skipif(not SHARED, reason="before 3.12 each thread has its own profiler")
def test_another_profiler_holding_the_slot_leaves_requests_served_unprofiled(tmp_path):
    import cProfile

    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    client = Client(CaptureMiddleware(Response("ok"), tmp_path))
    outer = cProfile.Profile()
    outer.enable()
    try:
        status = client.get("/").status_code
    finally:
        outer.disable()
    assert status == 200
    (line,) = lines(tmp_path / "requests.jsonl")
    assert (line["profiled"], line["no_profile"]) == (False, "unavailable")
