"""Reading requests.jsonl / queries.jsonl: bad lines are problems with line numbers."""
from __future__ import annotations

import json

import pytest

from profiles import profile_call
from profview.loading import scan
from profview.report.build import build
from profview.loading.scan import load_capture


def _work():
    return sorted(str(i) for i in range(2000))


def _req(rid, profile, **extra):
    row = {"id": rid, "method": "GET", "path": "/a.b/c", "query": "x=1", "rule": "/a.b/<name>",
           "endpoint": "c", "status": 200, "start": 1795313500.25, "elapsed_ms": 12.5,
           "profile": profile}
    row.update(extra)
    return json.dumps(row)


@pytest.mark.parametrize("workers", [1, 2])
def test_garbage_lines_are_problems_and_good_lines_load(tmp_path, monkeypatch, workers):
    monkeypatch.setattr(scan, "PARALLEL_FROM", 1)   # also through the worker processes
    a = profile_call(tmp_path / "GET.a.b.c.13ms.1795313500.r1.prof", _work).name
    b = profile_call(tmp_path / "GET.a.b.d.13ms.1795313501.r2.prof", _work).name
    lines = [
        _req("r1", a).encode(),
        b"{not json",
        _req("r2", b, elapsed_ms="slow").encode(),          # wrong type
        b"\xff\xfe invalid utf-8",
        b"\x00\x00\x00",
        b"\x1b[31mERROR\x1b[0m something",                  # ANSI colour codes
        b'{"id": "' + b"x" * 20_000 + b'"}',                  # 20,000 characters, fields missing
        b"[1, 2, 3]",
        b"",                                                  # blank lines are fine
        _req("r2", b, status=None).encode(),                 # optional fields may be null
    ]
    (tmp_path / "requests.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (tmp_path / "queries.jsonl").write_text("\n".join([
        json.dumps({"request": "r1", "statement": "SELECT 1", "duration_ms": 2.0}),
        json.dumps({"profile": b, "statement": "SELECT 2", "duration_ms": 3.0}),
        json.dumps({"request": "nobody", "statement": "SELECT 3", "duration_ms": 1.0}),
        json.dumps({"request": "r1", "statement": 42}),
    ]))
    capture = load_capture([tmp_path], workers=workers)

    def problems(name):
        return {p.line: p.message for p in capture.problems if p.path.endswith(name)}

    req = problems("requests.jsonl")
    assert sorted(req) == [2, 3, 4, 5, 6, 7, 8]
    assert "not JSON" in req[2] and "'elapsed_ms'" in req[3] and "UTF-8" in req[4]
    assert "missing field" in req[7] and "JSON object" in req[8]
    assert all(len(m) < 200 for m in req.values())   # the 20,000 characters are not repeated
    assert problems("queries.jsonl") == {
        4: "field 'statement' should be a string, not 42",
        None: "1 of 3 statements not tied to a request: 1 name a request id that is not in "
              "the capture"}                          # one summary for the log, not per line
    assert len(capture.problems) == 9

    by_name = {r.name: r for r in capture.requests}
    r1, r2 = by_name[a], by_name[b]
    assert (r1.url_path, r1.query, r1.rule, r1.status, r1.elapsed_ms) == (
        "/a.b/c", "x=1", "/a.b/<name>", 200, 12.5)
    assert r1.start == 1795313500.25 and r2.status is None
    assert (r1.n_queries, r1.sql_ms) == (1, 2.0)      # joined by request id
    assert (r2.n_queries, r2.sql_ms) == (1, 3.0)      # joined by profile name
    unattributed = [q for q in capture.queries if q.profile_file is None]
    assert [q.statement for q in unattributed] == ["SELECT 3"]
    (ep,) = build(capture)["endpoints"]
    assert ep["name"] == "GET /a.b/<name>" and ep["queries_per_request"] == 1.0


def test_profiles_without_a_log_line_count_zero_queries(tmp_path):
    a = profile_call(tmp_path / "GET.x.1ms.1795313500.prof", _work).name
    (tmp_path / "queries.jsonl").write_text("")
    (ep,) = build(load_capture([tmp_path], workers=1))["endpoints"]
    assert ep["files"] == [a] and ep["queries_per_request"] == 0
