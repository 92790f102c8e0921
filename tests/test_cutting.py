"""A long profile of a whole process cut into its requests by requests.jsonl: on
``tests/data/foreign/server`` (one pyinstrument session over the demo app's traffic, beside
profview.capture's lines of the same requests, which have no profiles)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from profview.importers import profiles
from profview.importers.stack_build import Builder
from profview.loading.scan import load_capture

SERVER = Path(__file__).resolve().parent / "data" / "foreign" / "server"


def _lines():
    return [json.loads(x) for x in (SERVER / "requests.jsonl").read_text().splitlines()]


def test_every_request_line_gets_its_share_of_the_session():
    capture = load_capture([SERVER], workers=1)
    lines = _lines()
    assert sorted(r.request_id for r in capture.requests) == sorted(x["id"] for x in lines)
    session = profiles.load_stacks(SERVER / "server.pyisession")[0]
    for r in capture.requests:
        assert r.sampled and profiles.split_cut(r.file)[0].name == "server.pyisession"
        (mine,) = profiles.load_stacks(r.stacks)
        assert mine.start == pytest.approx(r.start)
        t = mine.sample_t
        assert (t >= 0).all() and (t <= r.elapsed_ms).all()
        # its time is the session's samples inside its window, never more than the window
        assert mine.weights().sum() * 1000 <= r.elapsed_ms + 1e-3   # µs: clock rounding
    assert session.thread and all(x["thread"] == session.thread for x in lines)
    (note,) = [p for p in capture.problems if p.kind == "note"]
    assert "cut into %d requests" % len(lines) in note.message
    assert [q for q in capture.queries if q.profile_file is None] == []


def test_the_views_of_the_cut_requests_are_the_apps_views():
    capture = load_capture([SERVER], workers=1)
    for r in capture.requests:
        names = {k[2] for k in profiles.read(r.file).stats}
        view = {"/roster": "roster", "/health": "health", "/my_class": "my_class"}.get(
            r.url_path)
        if view and r.elapsed_ms > 5:
            assert view in names, (r.url_path, sorted(names)[:20])


def test_a_request_of_another_thread_is_not_cut_from_it(tmp_path):
    shutil.copytree(SERVER, tmp_path / "server")
    path = tmp_path / "server" / "requests.jsonl"
    lines = _lines()
    lines[0]["thread"] = lines[0]["thread"] + 1
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    capture = load_capture([tmp_path / "server"], workers=1)
    assert lines[0]["id"] not in {r.request_id for r in capture.requests}
    assert len(capture.requests) == len(lines) - 1


def test_between_cuts_weights_at_the_windows_edges():
    b = Builder()
    a, w = ("app.py", 1, "a"), ("app.py", 5, "w")
    b.add([a], 10.0)          # 0–10 ms
    b.add([a, w], 10.0)       # 10–20 ms
    b.add([a], 10.0)          # 20–30 ms
    prof = b.build("p", start=1000.0, clock=True, timed=True)
    part = prof.between(1000.005, 1000.015, "r")
    assert part.end_ms == pytest.approx(10.0)
    assert part.sample_t.tolist() == pytest.approx([0.0, 5.0])
    assert part.weights().tolist() == pytest.approx([0.005, 0.005])
    assert [prof.path(int(s))[-1][2] for s in part.sample_stack] == ["a", "w"]
    with pytest.raises(ValueError):
        Builder().build("x", timed=False).between(0, 1, "r")
    assert np.isfinite(part.sample_t).all()
