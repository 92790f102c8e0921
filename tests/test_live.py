"""Following a directory that is being written to: only new files are read, partial ones wait."""
from __future__ import annotations

import json
import os
import time

from profiles import profile_call
from profview.analysis.endpoints import group
from profview.loading.scan import extend_capture, load_capture


def _work():
    return sorted(str(i) for i in range(800))


def test_new_profiles_and_partial_files(tmp_path):
    for i in range(3):
        profile_call(tmp_path / ("GET.a.%dms.%d.prof" % (i + 1, 1795300000 + i)), _work)
    capture = load_capture([tmp_path], workers=1)
    assert len(capture.requests) == 3
    full = profile_call(tmp_path / "GET.b.5ms.1795300010.prof", _work).read_bytes()
    (tmp_path / "GET.b.5ms.1795300010.prof").unlink()
    partial = tmp_path / "GET.b.5ms.1795300010.prof"
    partial.write_bytes(full[: len(full) // 2])            # still being written
    profile_call(tmp_path / "GET.a.9ms.1795300011.prof", _work)
    capture, retry = extend_capture(capture, [tmp_path])
    assert len(capture.requests) == 4 and [str(partial)] == [str(p) for p in retry]
    assert capture.problems == ()                           # not reported: it may finish
    partial.write_bytes(full)                               # … and it does
    capture, retry = extend_capture(capture, [tmp_path])
    assert len(capture.requests) == 5 and retry == []
    names = {e.name: len(e.requests) for e in group(capture)}
    assert names == {"GET /a": 4, "GET /b": 1}
    a = next(e for e in group(capture) if e.name == "GET /a")
    assert a.functions[next(k for k in a.functions if k[2] == "_work")].ncalls == 4


def test_old_broken_files_are_problems_and_sidecar_lines_are_followed(tmp_path):
    profile_call(tmp_path / "GET.a.1ms.1795300000.x1.prof", _work)
    capture = load_capture([tmp_path], workers=1)
    old = tmp_path / "GET.c.1ms.1795300001.prof"
    old.write_bytes(b"junk")
    past = time.time() - 60
    os.utime(old, (past, past))
    name = profile_call(tmp_path / "GET.d.7ms.1795300002.x2.prof", _work).name
    (tmp_path / "requests.jsonl").write_text(json.dumps({
        "id": "x2", "method": "GET", "path": "/d", "query": "q=1", "rule": "/d",
        "endpoint": "d", "status": 201, "start": 1795300001.9, "elapsed_ms": 7.25,
        "profile": name}) + "\n")
    capture, retry = extend_capture(capture, [tmp_path])
    assert retry == [] and [p.path for p in capture.problems] == [str(old)]
    new = next(r for r in capture.requests if r.name == name)
    assert (new.status, new.query, new.elapsed_ms) == (201, "q=1", 7.25)


def test_nothing_new_gives_the_same_capture_and_a_changed_log_does_not(tmp_path):
    name = profile_call(tmp_path / "GET.a.1ms.1795300000.x1.prof", _work).name
    capture = load_capture([tmp_path], workers=1)
    same, retry = extend_capture(capture, [tmp_path])
    assert same is capture and retry == []                 # polled every 2 s: no work
    (tmp_path / "queries.jsonl").write_text(json.dumps({
        "request": "x1", "profile": name, "statement": "SELECT 1", "parameters": "()",
        "start": 1795299999.9995, "duration_ms": 0.2}) + "\n")
    changed, _retry = extend_capture(capture, [tmp_path])
    assert changed is not capture and changed.has_queries
    assert [q.statement for q in changed.queries] == ["SELECT 1"]
    assert extend_capture(changed, [tmp_path])[0] is changed
