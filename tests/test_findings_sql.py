"""N+1 and slow queries on the sample captures (query logs from profview.capture), and their
profile-only forms on the plain Werkzeug capture."""
from __future__ import annotations

import shutil

from findings_data import by_endpoint, findings
from profview.analysis import sql
from profview.analysis.findings import Settings
from profview.loading.scan import load_capture


def test_n_plus_one_on_the_roster_before_the_fix(before):
    capture = load_capture([before], workers=1)
    found = findings(capture, "n_plus_one")
    assert [f.endpoints for f in found] == [("GET /roster",)]
    f = found[0]
    statements = [e for e in f.evidence if e.kind == "statement"]
    # the headline count, recomputed from the log: the median of the repeated statement's
    # count in the requests that repeat it (the evidence keeps the mean over all requests)
    per_request = sql.by_request(capture.queries)
    counts = sorted(sum(1 for q in per_request[sql.request_key(r)]
                        if sql.fingerprint(q.statement) == statements[0].statement)
                    for r in capture.requests if r.url_path == "/roster")
    assert len(counts) == 5 and counts[0] >= 10
    assert f.severity == "high" and " runs one statement %g times per request" % (
        counts[2]) in f.summary and "(median, in the 5 of 5 requests that repeat it)" in f.summary
    assert "%.1f times per request" % (sum(counts) / 5) in statements[0].text
    assert statements and statements[0].statement.startswith("SELECT classes.class_id")
    assert sql.fingerprint(f.copy) == statements[0].statement  # copy is a real statement
    assert len(f.requests) == 5 and all(r.endswith(".prof") for r in f.requests)
    assert "selectinload" in f.fix


def test_no_n_plus_one_after_the_fix(after):
    assert findings(load_capture([after], workers=1), "n_plus_one") == []


def test_n_plus_one_threshold_is_a_setting(before):
    capture = load_capture([before], workers=1)
    assert findings(capture, "n_plus_one", Settings(n_plus_one_min=200)) == []


def test_possible_n_plus_one_from_the_profile_alone(plain):
    found = by_endpoint(findings(load_capture([plain], workers=1), "n_plus_one"))
    assert set(found) == {"GET /roster"}
    assert "possible N+1" in found["GET /roster"].title
    assert found["GET /roster"].evidence[0].func[2] == "do_execute"


def test_slow_unindexed_query_before_the_index(before, tmp_path):
    found = findings(load_capture([before], workers=1), "slow_query")
    assert [f.endpoints for f in found] == [("GET /attendance/<int:student_id>",)]
    f = found[0]
    # the sample has the plan its capture asked for: the index it lacks is what is copied
    assert f.copy == "CREATE INDEX ix_attendance_student_id ON attendance (student_id);"
    assert any("no index on attendance(student_id)" in e.text for e in f.evidence)
    # without the plans: the EXPLAIN to run, with the parameters written in
    shutil.copytree(before, tmp_path / "before")
    (tmp_path / "before" / "plans.jsonl").unlink()
    f = findings(load_capture([tmp_path / "before"], workers=1), "slow_query")[0]
    assert f.copy.startswith("EXPLAIN SELECT count(*)") and "student_id = " in f.copy
    assert "?" not in f.copy  # parameters written in
    assert "attendance.student_id" in f.fix


def test_no_slow_query_once_indexed(after):
    assert findings(load_capture([after], workers=1), "slow_query") == []


def test_sql_dominating_the_profile_without_a_log(plain):
    found = by_endpoint(findings(load_capture([plain], workers=1), "slow_query"))
    assert set(found) == {"GET /attendance/<...>"}
    assert found["GET /attendance/<...>"].copy is None  # no statement to copy


def test_a_garbled_query_log_does_not_hide_the_n_plus_one(before, tmp_path):
    import shutil

    for f in before.glob("GET.roster*.prof"):
        shutil.copy(f, tmp_path)
    (tmp_path / "queries.jsonl").write_text('{"statement": \nGARBAGE\n')
    capture = load_capture([tmp_path], workers=1)
    assert capture.has_queries and not capture.queries and len(capture.problems) == 2
    found = findings(capture, "n_plus_one")
    assert [f.endpoints for f in found] == [("GET /roster",)]
    assert "possible N+1" in found[0].title
