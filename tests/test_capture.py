"""profview.capture inside real Flask and WSGI apps: names, sidecars, SQL, threads."""
from __future__ import annotations

import json
import threading

import pytest

from profiles import run_without
from profview.analysis.endpoints import group
from profview.loading.scan import load_capture
from profview.capture import CaptureMiddleware, init_app
from profview.capture.profiling import SHARED
from profview.importers.werkzeug_name import parse_name

flask = pytest.importorskip("flask")
flask_sqlalchemy = pytest.importorskip("flask_sqlalchemy")


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _flask_app(uri="sqlite://"):
    from flask import Flask, abort, request
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import text

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    db = SQLAlchemy(app)

    @app.get("/item/<int:item_id>")
    def item(item_id):
        if item_id > 100:
            abort(404)
        tag = request.args.get("tag", "")
        for _ in range(3):
            db.session.execute(text("SELECT :i, :t"), {"i": item_id, "t": tag})
        return "item %d" % item_id

    return app, db


def test_flask_capture_is_complete_and_exact(tmp_path):
    app, _db = _flask_app()
    init_app(app, tmp_path)
    client = app.test_client()
    for i in range(20):  # same path, same second, same rounded ms: Werkzeug alone overwrites
        assert client.get("/item/7?tag=t%d" % i).status_code == 200
    assert client.get("/item/500").status_code == 404

    profiles = sorted(p.name for p in tmp_path.glob("*.prof"))
    assert len(profiles) == 21
    requests = _lines(tmp_path / "requests.jsonl")
    queries = _lines(tmp_path / "queries.jsonl")
    assert sorted(r["profile"] for r in requests) == profiles
    for r in requests:
        wz = parse_name(r["profile"])       # Werkzeug's shape, plus the request id
        assert (wz.method, wz.request_id) == ("GET", r["id"])
        assert wz.url_path == r["path"] and r["rule"] == "/item/<int:item_id>"
        assert r["endpoint"] == "item" and isinstance(r["elapsed_ms"], float)
        assert abs(r["start"] + r["elapsed_ms"] / 1000 - wz.time) < 1
    ok = [r for r in requests if r["status"] == 200]
    assert sorted(r["query"] for r in ok) == sorted("tag=t%d" % i for i in range(20))
    assert [r["status"] for r in requests if r["path"] == "/item/500"] == [404]
    by_id = {r["id"]: r for r in requests}
    assert len(queries) == 60
    for q in queries:
        owner = by_id[q["request"]]
        assert q["profile"] == owner["profile"]
        assert q["statement"] == "SELECT ?, ?"
        assert owner["query"].split("=")[1] in q["parameters"]   # the request's own values
        assert q["location"].startswith(__file__) and q["location"].endswith("(item)")
        assert q["duration_ms"] >= 0 and owner["start"] <= q["start"] <= wz.time + 1

    capture = load_capture([tmp_path], workers=1)
    (endpoint,) = group(capture)   # the 404 matched the same rule before aborting
    assert endpoint.name == "GET /item/<int:item_id>" and len(endpoint.requests) == 21
    assert sum(r.n_queries for r in capture.requests) == 60
    assert sorted(r.status for r in capture.requests) == [200] * 20 + [404]


def test_any_wsgi_app_with_an_explicit_engine(tmp_path):
    from sqlalchemy import create_engine, text
    from werkzeug.test import Client
    from werkzeug.wrappers import Request, Response

    engine = create_engine("sqlite://")

    @Request.application
    def app(request):
        with engine.connect() as conn:
            value = conn.execute(text("SELECT 40 + 2")).scalar()
        return Response("answer %d" % value)

    wrapped = CaptureMiddleware(app, tmp_path / "new" / "dir", engine=engine)
    client = Client(wrapped)
    assert client.get("/deep/path.with.dots/x?y=1").status_code == 200
    (req,) = _lines(tmp_path / "new" / "dir" / "requests.jsonl")
    assert (req["path"], req["query"], req["rule"], req["status"]) == (
        "/deep/path.with.dots/x", "y=1", None, 200)
    (q,) = _lines(tmp_path / "new" / "dir" / "queries.jsonl")
    assert q["request"] == req["id"] and q["statement"] == "SELECT 40 + 2"
    (r,) = load_capture([tmp_path], workers=1).requests
    assert r.url_path == "/deep/path.with.dots/x" and r.n_queries == 1  # exact, dots kept


def test_threaded_server_lines_stay_whole_and_attributed(tmp_path):
    # A file, not "sqlite://": Flask-SQLAlchemy shares one in-memory connection among all
    # threads, and sqlite3 then fails now and then ("bad parameter or other API misuse").
    app, _db = _flask_app("sqlite:///" + str(tmp_path / "app.db"))
    init_app(app, tmp_path)
    statuses = []

    def worker(n):
        client = app.test_client()
        for i in range(10):
            statuses.append(client.get("/item/%d?tag=w%d" % (n, i)).status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 40
    requests = _lines(tmp_path / "requests.jsonl")   # every line parses
    queries = _lines(tmp_path / "queries.jsonl")
    assert len(requests) == 40 and len(queries) == 120
    # Python 3.12+ profiles one request at a time; the others are served unprofiled.
    kept = {r["profile"] for r in requests if r["kept"]}
    assert {p.name for p in tmp_path.glob("*.prof")} == kept
    assert len(kept) == 40 or (SHARED and kept)
    by_id = {r["id"]: r for r in requests}
    for q in queries:
        owner = by_id[q["request"]]
        item = int(owner["path"].rsplit("/", 1)[1])
        assert q["parameters"].startswith("(%d, " % item)


def test_capture_needs_neither_flask_nor_sqlalchemy(tmp_path):
    result = run_without(("sqlalchemy", "flask", "flask_sqlalchemy"), """
        from werkzeug.test import Client
        from werkzeug.wrappers import Response
        from profview.capture import CaptureMiddleware
        app = CaptureMiddleware(Response('hi'), sys.argv[1])
        assert Client(app).get('/').status_code == 200
        assert 'sqlalchemy' not in sys.modules
    """, str(tmp_path), timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(_lines(tmp_path / "requests.jsonl")) == 1
    assert not (tmp_path / "queries.jsonl").exists()


def test_capture_needs_only_the_standard_library(tmp_path):
    result = run_without(("werkzeug", "sqlalchemy", "flask", "flask_sqlalchemy"), """
        from profview.capture import CaptureMiddleware

        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"h", b"i"]

        seen = []
        capture = CaptureMiddleware(app, sys.argv[1])
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "QUERY_STRING": ""}
        body = capture(environ, lambda status, headers, exc_info=None: seen.append(status))
        assert b"".join(body) == b"hi" and seen == ["200 OK"]
        assert "werkzeug" not in sys.modules
    """, str(tmp_path), timeout=60)
    assert result.returncode == 0, result.stderr
    (line,) = _lines(tmp_path / "requests.jsonl")
    assert (line["path"], line["status"], line["kept"]) == ("/x", 200, True)


def test_flask_sqlalchemy_set_up_after_capture_is_found_at_first_request(tmp_path):
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import text

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    init_app(app, tmp_path)          # before the extension exists
    db = SQLAlchemy(app)

    @app.get("/")
    def index():
        return str(db.session.execute(text("SELECT 1")).scalar())

    assert app.test_client().get("/").status_code == 200
    (q,) = _lines(tmp_path / "queries.jsonl")
    assert q["statement"] == "SELECT 1" and q["request"] is not None
