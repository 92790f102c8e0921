"""Query plans asked at capture time (``explain=True``) from a real SQLite database: the demo
app's unindexed attendance lookup is a full scan and the finding names the index; after the
fix the plan uses it.  Plans of other dialects are read from their JSON documents."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from profview.analysis import plans
from profview.loading.scan import load_capture
from profview.model.plan import QueryPlan
from profview.report.build import build

SAMPLES = Path(__file__).resolve().parent.parent / "sample_profiles"
pytest.importorskip("flask_sqlalchemy")
ATTENDANCE = "FROM attendance WHERE attendance.student_id"


def _capture(directory, fixed, explain=True, **options):
    sys.path[:0] = [str(SAMPLES)]
    try:
        from demo_app import create_app
        import make_samples
    finally:
        del sys.path[0]
    from profview.capture import init_app

    app = create_app(fixed=fixed)
    init_app(app, directory, explain=explain, **options)
    make_samples._send(app, make_samples.traffic())
    return directory


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    root = tmp_path_factory.mktemp("plans")
    return {name: _capture(root / name, fixed, explain_min_ms=0.0)
            for name, fixed in (("before", False), ("after", True))}


def _attendance(directory):
    return next(p for p in _lines(directory / "plans.jsonl")
                if ATTENDANCE in " ".join(p["statement"].split()))


def test_the_unindexed_lookup_is_a_full_scan_and_the_fix_uses_the_index(captured):
    before, after = _attendance(captured["before"]), _attendance(captured["after"])
    assert before["dialect"] == "sqlite" and before["explain"] == "EXPLAIN QUERY PLAN"
    assert [r[-1] for r in before["plan"]] == ["SCAN attendance"]
    assert any("USING INDEX ix_attendance_student_id" in r[-1] for r in after["plan"])
    # the real parameters of a real request, and the request it came from
    ids = {r["id"] for r in _lines(captured["before"] / "requests.jsonl")}
    assert before["request"] in ids and before["parameters"]


def test_each_shape_once_reads_only_and_never_one_of_the_requests_queries(captured):
    got = _lines(captured["before"] / "plans.jsonl")
    shapes = [p["shape"] for p in got]
    assert len(shapes) == len(set(shapes))
    assert all(p["statement"].lstrip().upper().startswith(("SELECT", "WITH")) for p in got)
    queries = _lines(captured["before"] / "queries.jsonl")
    assert not any("EXPLAIN" in q["statement"].upper() for q in queries)
    assert any(q["statement"].startswith("INSERT") for q in queries)    # POST /enroll wrote


def test_explain_changes_no_requests_statements(captured, tmp_path):
    plain = _capture(tmp_path / "plain", False, explain=False)
    counts = [len([q for q in _lines(d / "queries.jsonl")]) for d in (plain, captured["before"])]
    assert counts[0] == counts[1]


def test_the_slow_query_finding_names_the_index_from_the_plan(captured):
    capture = load_capture([captured["before"]], workers=1)
    assert capture.plans
    slow = next(f for f in build(capture)["findings"] if f["rule"] == "slow_query")
    texts = [e["text"] for e in slow["evidence"]]
    assert any("reads attendance in full: no index on attendance(student_id)" in t
               for t in texts)
    assert slow["copy"] == "CREATE INDEX ix_attendance_student_id ON attendance (student_id);"
    after = load_capture([captured["after"]], workers=1)
    plan = plans.plan_for(after.plans, _attendance(captured["after"])["statement"])
    assert plans.accesses(plan) == [plans.Access("attendance", plans.INDEX,
                                                 "ix_attendance_student_id")]
    told = plans.advice(plan, plan.statement)
    assert told.create_index is None and "already uses ix_attendance_student_id" in told.text


def test_bad_plan_lines_are_problems_and_the_rest_loads(captured, tmp_path):
    import shutil

    shutil.copytree(captured["before"], tmp_path / "c")
    path = tmp_path / "c" / "plans.jsonl"
    good = path.read_text()
    path.write_text('not json\n{"statement": 5}\n' + good)
    capture = load_capture([tmp_path / "c"], workers=1)
    bad = [p for p in capture.problems if p.path.endswith("plans.jsonl")]
    assert [p.line for p in bad] == [1, 2]
    assert len(capture.plans) == len(good.splitlines())


POSTGRES = [{"Plan": {"Node Type": "Aggregate", "Plans": [
    {"Node Type": "Seq Scan", "Relation Name": "attendance", "Alias": "attendance",
     "Filter": "(student_id = 3)"}]}}]
POSTGRES_INDEXED = [{"Plan": {"Node Type": "Aggregate", "Plans": [
    {"Node Type": "Bitmap Heap Scan", "Relation Name": "attendance", "Plans": [
        {"Node Type": "Bitmap Index Scan", "Index Name": "ix_attendance_student_id"}]}]}}]
MYSQL = {"query_block": {"select_id": 1, "table": {
    "table_name": "attendance", "access_type": "ALL", "rows_examined_per_scan": 60000,
    "attached_condition": "(`school`.`attendance`.`student_id` = 3)"}}}
STATEMENT = ("SELECT count(*) AS count_1, sum(attendance.minutes) AS sum_1 FROM attendance "
             "WHERE attendance.student_id = %(student_id_1)s")


@pytest.mark.parametrize("dialect,doc,kind", [("postgresql", POSTGRES, plans.FULL),
                                              ("postgresql", POSTGRES_INDEXED, plans.INDEX),
                                              ("mysql", MYSQL, plans.FULL)])
def test_postgres_and_mysql_plans(dialect, doc, kind):
    plan = QueryPlan(STATEMENT, dialect, doc, explain="EXPLAIN")
    (access,) = {a for a in plans.accesses(plan)}
    assert (access.table, access.kind) == ("attendance", kind)
    told = plans.advice(plan, STATEMENT)
    if kind == plans.FULL:
        assert told.create_index == \
            "CREATE INDEX ix_attendance_student_id ON attendance (student_id);"
    else:
        assert told.create_index is None and "ix_attendance_student_id" in told.text


def test_filter_columns_are_the_tables_own():
    statement = ("SELECT a.x FROM a JOIN b ON a.id = b.a_id WHERE b.kind = ? AND a.day >= ? "
                 "ORDER BY a.day LIMIT 5")
    assert plans.filter_columns(statement, "a") == ["day"]
    assert plans.filter_columns(statement, "b") == ["kind"]
    assert plans.filter_columns("SELECT * FROM t LIMIT 3", "t") == []


MICROBLOG = Path(__file__).resolve().parent / "data" / "microblog-plans"


def test_on_a_real_apps_plans_only_missing_indexes_are_proposed():
    """microblog's plans (a public app, captured with explain=True): every CREATE INDEX
    proposed is on a column its models leave unindexed (task.user_id, followers.followed_id),
    and a full scan the WHERE clause does not filter (the home feed's join) proposes none."""
    from profview.importers.sidecar import load_plans

    truth = json.loads((MICROBLOG / "expected.json").read_text())["indexed"]
    captured, problems = load_plans(MICROBLOG / "plans.jsonl")
    assert problems == [] and len(captured) >= 10
    proposed = {}
    for plan in captured:
        told = plans.advice(plan, plan.statement, captured)
        assert told is not None, plan.statement[:80]
        if told.create_index:
            table, columns = told.create_index.split(" ON ")[1].rstrip(";").split(" (")
            proposed[table] = columns.rstrip(")").split(", ")
    assert proposed == {"task": ["user_id", "complete"],
                        "followers": ["followed_id", "follower_id"]}
    for table, columns in proposed.items():
        assert columns[0] not in truth[table]          # the leading column really lacks one
    # the feed: followers read in full through a join, with an OR in the WHERE: no index
    feed = next(p for p in captured if "followers AS followers_1" in p.statement
                and "GROUP BY" in p.statement)
    told = plans.advice(feed, feed.statement, captured)
    assert told.create_index is None and "no WHERE condition on it" in told.text
