"""A capture left on stays bounded: sample=, slow_ms=, max_mb=; every request keeps its line."""
from __future__ import annotations

import random
import shutil
import time

import pytest
from test_capture_support import lines

from profview.capture import CaptureMiddleware, init_app
from profview.capture.store import OURS

# The capture helper on real servers: its own stage of .ci/run, on Python 3.11, 3.12 and
# 3.13 (python -m pytest -m capture), not part of the README's test command.
pytestmark = pytest.mark.capture

flask = pytest.importorskip("flask")
flask_sqlalchemy = pytest.importorskip("flask_sqlalchemy")


def _app(tmp_path, **options):
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import text

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db = SQLAlchemy(app)

    @app.get("/n/<int:n>")
    def number(n):
        return str(db.session.execute(text("SELECT :n"), {"n": n}).scalar())

    @app.get("/sleep/<int:ms>")
    def sleep(ms):
        time.sleep(ms / 1000.0)    # at least this long: a lower bound, whatever the machine
        return "slept"

    init_app(app, tmp_path, **options)
    return app.test_client()


def _ours(directory):
    return {p.name: p.stat().st_size for p in directory.iterdir() if OURS.match(p.name)}


def test_sample_profiles_the_seeded_fraction_and_logs_every_request(tmp_path):
    client = _app(tmp_path, sample=0.25, seed=7)
    for n in range(200):
        assert client.get("/n/%d" % n).status_code == 200
    requests = lines(tmp_path / "requests.jsonl")
    queries = lines(tmp_path / "queries.jsonl")
    draws = random.Random(7)          # the same choices on every run of the same traffic
    assert [r["profiled"] for r in requests] == [draws.random() < 0.25 for _ in range(200)]
    assert [r["path"] for r in requests] == ["/n/%d" % n for n in range(200)]
    skipped = [r for r in requests if not r["profiled"]]
    assert {(r["kept"], r["no_profile"]) for r in skipped} == {(False, "sample")}
    assert set(_ours(tmp_path)) == {r["profile"] for r in requests if r["profiled"]}
    by_id = {r["id"]: r for r in requests}
    assert len(queries) == 200                  # the SQL of unprofiled requests too
    for q in queries:
        owner = by_id[q["request"]]
        assert q["parameters"] == "(%s,)" % owner["path"].rsplit("/", 1)[1]
        assert q["profile"] == (owner["profile"] if owner["kept"] else None)


@pytest.mark.parametrize("sample,expected", [(0, 0), (1, 20)])
def test_sample_at_the_ends(tmp_path, sample, expected):
    client = _app(tmp_path, sample=sample)
    for n in range(20):
        client.get("/n/%d" % n)
    assert sum(r["profiled"] for r in lines(tmp_path / "requests.jsonl")) == expected
    assert len(_ours(tmp_path)) == expected


def test_slow_ms_keeps_only_slower_requests_profiles(tmp_path):
    client = _app(tmp_path, slow_ms=40)
    for n in range(10):
        client.get("/n/%d" % n)
    client.get("/sleep/60")
    requests = lines(tmp_path / "requests.jsonl")
    assert len(requests) == 11 and all(r["profiled"] for r in requests)
    for r in requests:     # the rule, on each request's own measured time
        assert r["kept"] == (r["elapsed_ms"] >= 40)
        assert r["no_profile"] == (None if r["kept"] else "slow_ms")
    assert requests[-1]["kept"]                  # slept 60 ms: slower, whatever the machine
    assert set(_ours(tmp_path)) == {r["profile"] for r in requests if r["kept"]}


def test_max_mb_removes_the_oldest_profiles_first(tmp_path):
    (tmp_path / "notes.prof").write_bytes(b"x" * 50000)       # not ours: never removed
    (tmp_path / "GET.root.1ms.1795300000.prof").write_bytes(b"x" * 50000)
    cap_mb = 0.1
    client = _app(tmp_path, max_mb=cap_mb)
    for n in range(40):
        client.get("/n/%d" % n)
        assert sum(_ours(tmp_path).values()) <= cap_mb * 1024 * 1024   # after every request
    requests = lines(tmp_path / "requests.jsonl")
    assert all(r["kept"] for r in requests) and len(requests) == 40
    kept = [r["profile"] for r in requests]
    removed = [name for r in requests for name in r["removed"]]
    left = set(_ours(tmp_path))
    assert removed and len(removed) == len(set(removed)) and set(removed) <= set(kept)
    assert left == set(kept) - set(removed)
    assert left == set(kept[-len(left):])       # what is left is the newest
    for i, r in enumerate(requests):            # a line names only profiles older than it
        assert set(r["removed"]) <= set(kept[:i])
    assert (tmp_path / "notes.prof").exists()
    assert (tmp_path / "GET.root.1ms.1795300000.prof").exists()


def test_max_mb_counts_the_profiles_already_there(tmp_path):
    first = tmp_path / "first"
    client = _app(first)
    for n in range(10):
        client.get("/n/%d" % n)
    old = set(_ours(first))
    shutil.copytree(first, tmp_path / "again")
    size = sum(_ours(first).values())
    client = _app(tmp_path / "again", max_mb=size / 1024 / 1024)   # full already
    client.get("/n/99")
    (line,) = [r for r in lines(tmp_path / "again" / "requests.jsonl") if r["path"] == "/n/99"]
    assert line["kept"] and line["removed"] and set(line["removed"]) <= old
    assert sum(_ours(tmp_path / "again").values()) <= size


def test_a_profile_larger_than_the_cap_is_not_kept(tmp_path):
    client = _app(tmp_path, max_mb=0.001)
    assert client.get("/n/1").status_code == 200
    (line,) = lines(tmp_path / "requests.jsonl")
    assert (line["profiled"], line["kept"], line["no_profile"]) == (True, False, "max_mb")
    assert not _ours(tmp_path)


@pytest.mark.parametrize("options", [{"sample": 1.5}, {"sample": -0.1}, {"slow_ms": -1},
                                     {"max_mb": 0}, {"concurrent": "queue"}])
def test_bad_options_are_refused_at_set_up(tmp_path, options):
    with pytest.raises(ValueError):
        CaptureMiddleware(lambda environ, start_response: [], tmp_path, **options)
