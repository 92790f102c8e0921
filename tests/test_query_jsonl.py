"""A user's own JSON-lines query log: its field names, units and times, bad lines, and tying
by profile name or by method, path and time."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone

import pytest

from test_sql_tying import DATA, TRUTH, owners, real_slice, request
from profview.report.build import build
from profview.loading.scan import load_capture
from profview.importers import flask_sqlalchemy_log, query_jsonl, sidecar


def _write(path, objects):
    """One line per object: bytes and strings as they are, the rest as JSON."""
    path.write_bytes(b"".join((o if isinstance(o, bytes) else (
        o if isinstance(o, str) else json.dumps(o)).encode("utf-8")) + b"\n" for o in objects))
    return path


def test_real_log_named_queries_jsonl_is_read_as_the_users_own(tmp_path):
    real_slice(tmp_path)
    shutil.copy(DATA / "queries.jsonl", tmp_path / "queries.jsonl")
    head = (tmp_path / "queries.jsonl").read_bytes()
    assert not sidecar.is_own_queries(head) and query_jsonl.sniff("queries.jsonl", head)
    capture = load_capture([tmp_path], workers=1)
    assert {q.attribution for q in capture.queries} == {"exact"}
    assert {r.name: r.n_queries for r in capture.requests} == TRUTH
    first = json.loads((DATA / "queries.jsonl").open().readline())
    q = min(capture.queries, key=lambda q: q.line)
    assert (q.start, q.duration_ms, q.parameters, q.method, q.url_path) == (
        first["ts_start"], pytest.approx(first["duration_s"] * 1000), first["parameters"],
        first["request_method"], first["request_path"])
    report = build(capture)
    assert report["queries"]["tied_by"] == {"exact": 49} and report["queries"]["untied"] == 0


def test_log_beside_a_profiles_directory_ties_by_file_name(tmp_path):
    (tmp_path / "profiles").mkdir()
    real_slice(tmp_path / "profiles")
    shutil.copy(DATA / "queries.jsonl", tmp_path / "queries.jsonl")
    capture = load_capture([tmp_path], workers=1)
    assert {r.name.split("/")[-1]: r.n_queries for r in capture.requests} == TRUTH


def test_field_names_units_and_iso_times(tmp_path):
    log = _write(tmp_path / "sql.jsonl", [
        {"sql": "SELECT 1", "params": [1, "a"], "started_at": "2026-12-01T10:00:00.250Z",
         "elapsed_ms": 2.5, "prof": "GET.a.1ms.1.prof"},
        {"query": "SELECT 2", "args": {"x": None}, "timestamp": 1796176554.5,
         "duration_us": 1500, "request_id": "r9"},
        {"statement": "SELECT 3", "ts": "2026-12-01T11:00:00+01:00", "duration": 0.004,
         "http_method": "get", "url": "http://host/item/5?x=1", "caller": "app.py:3 (f)"},
        {"stmt": "SELECT 4", "duration_s": 0.001, "request_method": "POST",
         "request_path": "/login"},
    ])
    assert query_jsonl.sniff(log.name, log.read_bytes())
    queries, problems = query_jsonl.load(log)
    assert problems == []
    a, b, c, d = queries
    when = datetime(2026, 12, 1, 10, 0, 0, 250000, tzinfo=timezone.utc).timestamp()
    assert (a.statement, a.parameters, a.start, a.duration_ms) == (
        "SELECT 1", "[1, 'a']", when, 2.5)
    assert a.profile == "GET.a.1ms.1.prof" and a.profile_file.endswith("/GET.a.1ms.1.prof")
    assert (b.parameters, b.start, b.duration_ms, b.request) == (
        "{'x': None}", 1796176554.5, 1.5, "r9")
    assert c.start == datetime(2026, 12, 1, 10, tzinfo=timezone.utc).timestamp()
    assert (c.method, c.url_path, c.duration_ms, c.location) == (
        "get", "http://host/item/5?x=1", 4.0, "app.py:3 (f)")
    assert (d.duration_ms, d.method, d.url_path, d.start) == (1.0, "POST", "/login", None)


def test_bad_lines_and_values_are_one_problem_and_the_rest_loads(tmp_path):
    log = _write(tmp_path / "sql.jsonl", [
        {"statement": "SELECT 'good'", "ts_start": 1796176554.5, "duration_s": 0.001,
         "profile_file": "x.prof"},
        "not json at all",
        "[1, 2, 3]",
        {"ts_start": 1796176554.5},                                   # no statement
        {"statement": 42, "ts_start": 1796176554.5},                  # not a string
        '{"statement": "SELECT nan", "ts_start": NaN}',
        '{"statement": "SELECT inf", "duration_s": 1e400}',
        '{"statement": "SELECT huge", "ts_start": %d}' % 10 ** 400,
        {"statement": "SELECT str", "duration_ms": "fast", "ts_start": "yesterday"},
        {"statement": "SELECT bool", "ts_start": True, "profile_file": 7},
        {"statement": "SELECT perf", "start_time": 12345.6},          # perf_counter: no clock
        b'{"statement": "\xff\xfe"}',                                 # not UTF-8
        "{" * 100_000,
        '{"statement": "%s"}' % ("x" * 300_000),
    ])
    queries, problems = query_jsonl.load(log)
    assert [q.statement for q in queries] == [
        "SELECT 'good'", "SELECT nan", "SELECT inf", "SELECT huge", "SELECT str",
        "SELECT bool", "SELECT perf"]
    assert all(q.start is None for q in queries[1:]) and queries[0].start == 1796176554.5
    assert all(q.duration_ms is None for q in queries[1:])
    (problem,) = problems
    assert problem.line == 2 and "7 lines skipped" in problem.message
    assert "2 not JSON" in problem.message and "1 not UTF-8 text" in problem.message
    assert "1 line over 200000 characters" in problem.message
    assert "fields ignored" in problem.message
    assert "'ts_start' is not finite" in problem.message
    assert "'profile_file' is not a string" in problem.message
    assert len(problem.message) < 1000


def test_flask_sqlalchemy_dumps_stay_with_their_importer(tmp_path):
    dump = _write(tmp_path / "recorded.jsonl", [
        {"statement": "SELECT 1", "parameters": "()", "duration": 0.002, "start_time": 10.5,
         "end_time": 10.502, "location": "app.py:9 (view)", "profile": "GET.a.1ms.1.prof"}])
    head = dump.read_bytes()
    assert not query_jsonl.sniff(dump.name, head) and flask_sqlalchemy_log.sniff(dump.name, head)
    own = _write(tmp_path / "queries.jsonl", [{"request": "r1", "statement": "SELECT 1",
                                               "duration_ms": 1.0}])
    assert sidecar.is_own_queries(own.read_bytes())


def test_tying_by_method_path_and_time(tmp_path):
    a = request(tmp_path, "GET.item.5.20ms.1795300100.prof", 1)
    b = request(tmp_path, "GET.item.5.20ms.1795300110.prof", 1)
    c = request(tmp_path, "GET.item.6.20ms.1795300110.prof", 1)
    d = request(tmp_path, "GET.item.6.20ms.1795300111.prof", 1)
    _write(tmp_path / "app.jsonl", [
        {"statement": "SELECT 'a'", "ts_start": 1795300099.9, "request_method": "GET",
         "request_path": "/item/5"},
        {"statement": "SELECT 'b'", "ts_start": 1795300109.9, "request_method": "GET",
         "request_path": "/item/5"},
        {"statement": "SELECT 'c or d'", "ts_start": 1795300110.2, "request_method": "GET",
         "request_path": "/item/6"},
        {"statement": "SELECT 'nobody'", "ts_start": 1795300200.0, "request_method": "GET",
         "request_path": "/item/5"},
        {"statement": "SELECT 'no fields'", "ts_start": 1795300100.0},
    ])
    capture = load_capture([tmp_path], workers=1)
    found = owners(capture)
    assert (found["SELECT 'a'"], found["SELECT 'b'"]) == (a, b)
    assert found["SELECT 'c or d'"] == "several_match"
    assert found["SELECT 'nobody'"] == "no_match"
    assert found["SELECT 'no fields'"] == "no_request_field"
    assert {r.name: r.n_queries for r in capture.requests} == {a: 1, b: 1, c: None, d: None}
    (problem,) = [p for p in capture.problems if p.kind == "untied"]
    assert problem.message.startswith("3 of 5 statements not tied to a request:")
    assert "no profile, request id, or method and path field" in problem.message
    report = build(capture)
    assert report["queries"]["untied_by"] == {"no_match": 1, "no_request_field": 1,
                                              "several_match": 1}
    assert report["queries"]["tied_by"] == {"path": 2}


def test_unknown_profile_names_do_not_make_counts_unknown(tmp_path):
    a = request(tmp_path, "GET.a.20ms.1795300100.prof", 1)
    _write(tmp_path / "app.jsonl", [
        {"statement": "SELECT 1", "profile_file": a, "duration_ms": 1.0},
        {"statement": "SELECT 2", "profile_file": "GET.gone.1ms.1.prof", "duration_ms": 1.0}])
    capture = load_capture([tmp_path], workers=1)
    assert owners(capture) == {"SELECT 1": a, "SELECT 2": "unknown_profile"}
    assert capture.requests[0].n_queries == 1 and capture.requests[0].sql_ms == 1.0
