"""Query logs (echo, Flask-SQLAlchemy), joins to requests, fingerprints, N+1 and friends."""
from __future__ import annotations

import json
import logging
import time

import pytest

from profiles import profile_call
from profview.analysis import sql
from profview.report.build import build, render_text
from profview.loading.scan import load_capture
from profview.importers import echo_log, flask_sqlalchemy_log
from profview.model.query import Query


def test_fingerprints():
    assert sql.fingerprint("SELECT *  FROM t\n WHERE id = 42 AND name = 'o''neil'") == \
        "SELECT * FROM t WHERE id = ? AND name = ?"
    assert sql.fingerprint("SELECT a FROM t WHERE id IN (1, 2, 3)") == \
        "SELECT a FROM t WHERE id IN (?)"
    assert sql.fingerprint("SELECT a FROM t WHERE id IN (?, ?, ?) AND x = :x_1") == \
        "SELECT a FROM t WHERE id IN (?) AND x = ?"
    assert sql.fingerprint("SELECT a FROM t WHERE id IN (__[POSTCOMPILE_id_1])") == \
        "SELECT a FROM t WHERE id IN (?)"
    assert sql.fingerprint("SELECT t2.x FROM t2 WHERE t2.y = %(y_1)s LIMIT %s") == \
        "SELECT t2.x FROM t2 WHERE t2.y = ? LIMIT ?"


def _real_echo_log(path, shape="echo"):
    """Run SQLAlchemy with echo on, logging to *path* in SQLAlchemy's or basicConfig's shape."""
    from sqlalchemy import create_engine, text

    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s" if shape == "echo"
        else "%(levelname)s:%(name)s:%(message)s"))
    logger = logging.getLogger("sqlalchemy.engine.Engine")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        engine = create_engine("sqlite://")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY,\n  name TEXT)"))
            conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "a"}, {"n": "b"}])
            for i in range(3):
                conn.execute(text("SELECT name\nFROM t\nWHERE id = :i"), {"i": i})
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(logging.NOTSET)


@pytest.mark.parametrize("shape", ["echo", "basic"])
def test_real_echo_log(tmp_path, shape):
    log = tmp_path / "app.log"
    _real_echo_log(log, shape)
    assert echo_log.sniff(log.name, log.read_bytes())
    queries, problems, markers = echo_log.load(log)
    assert problems == [] and markers >= 2          # BEGIN (implicit) ... COMMIT
    statements = [q.statement for q in queries]
    assert statements[0].startswith("CREATE TABLE t (id INTEGER PRIMARY KEY,\n  name TEXT)")
    selects = [q for q in queries if q.statement.startswith("SELECT name")]
    assert len(selects) == 3 and selects[0].statement == "SELECT name\nFROM t\nWHERE id = ?"
    assert [q.parameters for q in selects] == ["(0,)", "(1,)", "(2,)"]
    assert all(q.duration_ms is None for q in queries)      # the echo log has no timings
    if shape == "echo":
        assert all(abs(q.start - time.time()) < 60 for q in queries)
    else:
        assert all(q.start is None for q in queries)


def test_echo_log_garbage_and_1x_records(tmp_path):
    log = tmp_path / "old.log"
    lines = [
        b"2026-11-22 03:00:00,001 INFO sqlalchemy.engine.base.Engine SELECT users.id",
        b"FROM users WHERE users.id = ?",
        b"2026-11-22 03:00:00,002 INFO sqlalchemy.engine.base.Engine (7,)",
        b"2026-11-22 03:00:00,003 INFO sqlalchemy.engine.base.Engine SELECT 1",
        b"2026-11-22 03:00:00,004 INFO sqlalchemy.engine.base.Engine "
        b"[SQL parameters hidden due to hide_parameters=True]",
        b"2026-11-22 03:00:00,005 INFO werkzeug 127.0.0.1 - - GET / 200",
        b"\x1b[31mred text\x1b[0m",
        b"bad \xff\xfe bytes",
        b"nul \x00 byte",
        b"Traceback (most recent call last):",
        b"x" * 20_001,
        b"2026-11-22 03:00:00,006 INFO sqlalchemy.engine.base.Engine COMMIT",
    ]
    log.write_bytes(b"\n".join(lines))
    queries, problems, markers = echo_log.load(log)
    assert [(q.statement, q.parameters) for q in queries] == [
        ("SELECT users.id\nFROM users WHERE users.id = ?", "(7,)"),
        ("SELECT 1", "[SQL parameters hidden due to hide_parameters=True]")]
    assert markers == 1
    assert [p.line for p in problems] == [7, 8, 9, 10, 11]
    assert "20001 characters" in problems[-1].message


def _capture_with_windows(tmp_path, t0):
    """Two requests described exactly by requests.jsonl: A [t0, t0+0.1], B [t0+0.05, t0+0.2]."""
    rows = []
    for rid, start, ms in (("a", t0, 100.0), ("b", t0 + 0.05, 150.0)):
        name = "GET.%s.%dms.%d.%s.prof" % (rid, ms, start + ms / 1000, rid)
        profile_call(tmp_path / name, sorted, list(range(100)))
        rows.append({"id": rid, "method": "GET", "path": "/" + rid, "query": "", "rule": None,
                     "endpoint": None, "status": 200, "start": start, "elapsed_ms": ms,
                     "profile": name})
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def _stamp(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) + ",%03d" % round(
        epoch % 1 * 1000)


def test_echo_statements_join_by_time_only_when_unambiguous(tmp_path):
    t0 = float(int(time.time()) - 100)
    rows = _capture_with_windows(tmp_path, t0)
    log = []
    for offset, text in ((0.02, "SELECT 'only a'"), (0.07, "SELECT 'a or b'"),
                         (0.15, "SELECT 'only b'"), (0.5, "SELECT 'nobody'")):
        log.append("%s INFO sqlalchemy.engine.Engine %s" % (_stamp(t0 + offset), text))
    (tmp_path / "sql.log").write_text("\n".join(log) + "\n")
    capture = load_capture([tmp_path], workers=1)
    joined = {q.statement: (q.attribution or q.untied,
                            q.profile_file and q.profile_file.rsplit("/", 1)[1])
              for q in capture.queries}
    assert joined == {"SELECT 'only a'": ("time", rows[0]["profile"]),
                      "SELECT 'a or b'": ("overlapping_requests", None),
                      "SELECT 'only b'": ("time", rows[1]["profile"]),
                      "SELECT 'nobody'": ("outside_requests", None)}
    report = build(capture)
    assert report["queries"]["loaded"] == 4 and report["queries"]["unattributed"] == 2
    assert report["queries"]["untied_by"] == {"outside_requests": 1, "overlapping_requests": 1}
    # 'a or b' may be either's, and these profiles count no execute() to settle it
    assert [r.n_queries for r in capture.requests] == [None, None]


def test_flask_sqlalchemy_printed_and_json(tmp_path):
    printed = tmp_path / "debug.log"
    printed.write_text(
        "SELECT students.student_id AS students_student_id, students.name AS students_name \n"
        "FROM students \n"
        "WHERE students.student_id = %(student_id_1)s \n"
        " LIMIT %(param_1)s {'student_id_1': '43', 'param_1': 1} 0.01108407974243164 "
        "/Users/as/Desktop/flask-perf/app.py:40 (my_class)\n")
    assert flask_sqlalchemy_log.sniff(printed.name, printed.read_bytes())
    (q,), problems = flask_sqlalchemy_log.load(printed)
    assert problems == [] and q.view == "my_class"
    assert q.duration_ms == pytest.approx(11.08407974243164)
    assert q.statement.endswith("LIMIT %(param_1)s")
    assert sql.inline_parameters(q.statement, q.parameters).endswith(
        "WHERE students.student_id = '43' \n LIMIT 1")
    dumped = tmp_path / "recorded.jsonl"
    dumped.write_text(json.dumps({"statement": "SELECT 1", "parameters": "()",
                                  "duration": 0.002, "start_time": 12.5, "end_time": 12.502,
                                  "location": "app.py:3 (index)", "request": "a"}) + "\n{bad\n")
    queries, problems = flask_sqlalchemy_log.load(dumped)
    assert [p.line for p in problems] == [2] and queries[0].request == "a"


def test_n_plus_one_duplicates_slow_grouped():
    qs = [Query("SELECT * FROM c WHERE s = %d" % i, None, 1.0, "(%d,)" % i, "app.py:9 (v)")
          for i in range(6)]
    qs += [Query("SELECT 1", None, 250.0, "()", "app.py:3 (v)")] * 2
    assert sql.n_plus_one(qs) == [("SELECT * FROM c WHERE s = ?", 6, "app.py:9 (v)")]
    assert sql.n_plus_one(qs, minimum=7) == []
    assert sql.duplicates(qs) == [("SELECT 1", "()", 2)]
    assert [q.duration_ms for q in sql.slow(qs)] == [250.0, 250.0]
    groups = sql.grouped(qs, n_requests=2)
    assert groups[0]["fingerprint"] == "SELECT ?" and groups[0]["per_request"] == 1.0
    assert groups[1]["count"] == 6 and groups[1]["total_ms"] == 6.0
    assert sql.explain("SELECT * FROM t WHERE a = ? AND b = ?", repr((1, "x'y"))) == \
        "EXPLAIN SELECT * FROM t WHERE a = 1 AND b = 'x''y'"
    assert sql.inline_parameters("SELECT :a", "{'a': None}") == "SELECT NULL"
    assert sql.inline_parameters("SELECT ?", "__import__('os')") == "SELECT ?"  # never eval'd


def test_report_n_plus_one_before_and_after(before, after):
    b = {e["name"]: e for e in build(load_capture([before], workers=1))["endpoints"]}
    a = {e["name"]: e for e in build(load_capture([after], workers=1))["endpoints"]}
    (found,) = b["GET /roster"]["n_plus_one"]
    assert found["per_request"] >= 100 and "demo_app.py" in found["location"]
    assert "student_identifier" in found["statement"]
    assert all(not e["n_plus_one"] for e in a.values())
    assert b["GET /roster"]["sql_ms_per_request"] > a["GET /roster"]["sql_ms_per_request"]
    roster = b["GET /roster"]
    assert roster["sql_share"] == pytest.approx(
        roster["sql_ms_per_request"] * roster["requests"] / roster["total_ms"])
    assert 0 < roster["sql_share"] < 1
    text = render_text(build(load_capture([before], workers=1)))
    assert "N+1 queries in GET /roster" in text and "selectinload" in text
    assert text.count("N+1 queries in GET /roster") == 1
