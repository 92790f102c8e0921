"""``profview report``: the JSON contract, the table, and exit codes, on the sample capture."""
from __future__ import annotations

import json
import math
import statistics

import pytest

from profiles import run_without
from profview.cli import main
from profview.importers.werkzeug_name import parse_name


def _run(capsys, *args):
    code = main(["report", *map(str, args)])
    return code, capsys.readouterr().out


def _nearest_rank(values, pct):
    ordered = sorted(values)
    return ordered[math.ceil(pct / 100 * len(ordered)) - 1]


def _check_endpoint_numbers(ep, elapsed):
    assert ep["requests"] == len(elapsed)
    assert ep["p50_ms"] == statistics.median(elapsed)
    assert ep["p95_ms"] == _nearest_rank(elapsed, 95)
    assert ep["max_ms"] == max(elapsed)
    assert ep["method"] == ep["name"].split()[0]
    tops = ep["top_functions"]
    assert tops and [t["tottime_s"] for t in tops] == sorted(
        (t["tottime_s"] for t in tops), reverse=True)
    assert set(tops[0]) == {"function", "tottime_s", "cumtime_s", "ncalls"}


def test_json_contract_on_plain_werkzeug_capture(plain, capsys):
    code, out = _run(capsys, plain, "--json")
    assert code == 0
    report = json.loads(out)
    files = sorted(p.name for p in plain.glob("*.prof"))
    assert report["requests"] == len(files) and report["problems"] == []
    listed = sorted(f for ep in report["endpoints"] for f in ep["files"])
    assert listed == files  # every request in exactly one endpoint
    by_name = {ep["name"]: ep for ep in report["endpoints"]}
    # grouped by view function: ids in the path collapse, the query string was never there
    assert set(by_name) == {"GET /roster", "GET /attendance/<...>", "GET /my_class",
                            "GET /student/<...>", "GET /health"}
    assert by_name["GET /attendance/<...>"]["view"].endswith("(attendance)")
    totals = [sum(parse_name(f).elapsed_ms for f in ep["files"]) for ep in report["endpoints"]]
    assert totals == sorted(totals, reverse=True)  # sorted by total time
    for ep in report["endpoints"]:
        _check_endpoint_numbers(ep, [parse_name(f).elapsed_ms for f in ep["files"]])
        assert ep["queries_per_request"] is None and ep["rule"] is None


def _sidecar(path, name):
    return [json.loads(line) for line in (path / name).read_text().splitlines()]


def test_sidecars_give_exact_times_rules_and_queries(before, capsys):
    code, out = _run(capsys, before, "--json")
    report = json.loads(out)
    requests = {r["profile"]: r for r in _sidecar(before, "requests.jsonl")}
    queries = _sidecar(before, "queries.jsonl")
    assert report["requests"] == len(requests) and report["problems"] == []
    by_name = {ep["name"]: ep for ep in report["endpoints"]}
    assert set(by_name) == {"GET /roster", "GET /attendance/<int:student_id>", "GET /my_class",
                            "GET /student/<int:student_id>", "GET /health", "GET /stats",
                            "POST /enroll"}
    for ep in report["endpoints"]:
        rows = [requests[f] for f in ep["files"]]
        assert {r["rule"] for r in rows} == {ep["rule"]}
        _check_endpoint_numbers(ep, [r["elapsed_ms"] for r in rows])  # full resolution
        ids = {r["id"] for r in rows}
        expected = sum(q["request"] in ids for q in queries) / len(rows)
        assert ep["queries_per_request"] == pytest.approx(expected)
    assert by_name["GET /health"]["queries_per_request"] == 0


def test_n_plus_one_fixed_after(before, after, capsys):
    def per_request(path):
        _code, out = _run(capsys, path, "--json")
        return {ep["name"]: ep for ep in json.loads(out)["endpoints"]}

    b, a = per_request(before), per_request(after)
    assert b["GET /roster"]["queries_per_request"] >= 5 * a["GET /roster"]["queries_per_request"]
    assert a["GET /roster"]["p50_ms"] < b["GET /roster"]["p50_ms"]
    # the unindexed scan shows as the time in sqlite3's execute, and shrinks with the index
    top = b["GET /attendance/<int:student_id>"]["top_functions"][0]
    assert "sqlite3.Cursor" in top["function"] and "execute" in top["function"]


def test_problems_reported_and_rest_loaded(plain, tmp_path, capsys):
    bad = tmp_path / "GET.broken.3ms.1795313503.prof"
    bad.write_bytes(b"\x00garbage")
    code, out = _run(capsys, plain, bad, "--json")
    report = json.loads(out)
    assert code == 0
    assert report["problems"] == [{"path": str(bad), "line": None,
                                   "message": report["problems"][0]["message"]}]
    assert "not a pstats file" in report["problems"][0]["message"]
    assert report["requests"] == len(list(plain.glob("*.prof")))


def test_text_table(before, tmp_path, capsys):
    (tmp_path / "x.prof").write_bytes(b"")
    code, out = _run(capsys, before, tmp_path / "x.prof")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:6] == ["endpoint", "requests", "p50", "p95", "max", "total"]
    assert lines[1].startswith("GET /roster")
    assert "fetchall" in lines[1]
    assert "1 problem:" in out and "empty file" in out


def test_exit_2_when_nothing_loads(tmp_path, capsys):
    (tmp_path / "a.prof").write_bytes(b"junk")
    code, out = _run(capsys, tmp_path, "--json")
    assert code == 2
    assert json.loads(out)["endpoints"] == []


def test_group_by_raw_path(before, capsys):
    code, out = _run(capsys, before, "--json", "--group", "path")
    names = {ep["name"] for ep in json.loads(out)["endpoints"]}
    paths = {r["path"] for r in _sidecar(before, "requests.jsonl")}
    assert names == {"%s %s" % (m, p) for m, p in {
        (r["method"], r["path"]) for r in _sidecar(before, "requests.jsonl")}}
    assert any(p.startswith("/attendance/") for p in paths)


def test_console_entry_point_runs_without_qt(plain):
    # python -m profview report, in a fresh interpreter where Qt cannot be imported
    result = run_without(("PySide6", "pyqtgraph", "shiboken6"), """
        import runpy
        sys.argv = ['profview', 'report', sys.argv[1]]
        runpy.run_module('profview', run_name='__main__')
    """, str(plain))
    assert result.returncode == 0, result.stderr
    assert "GET /roster" in result.stdout


_EVERY_REPORT = """
import json, sys
from profview.app.comparison import compare
from profview.loading.scan import load_capture
from profview.report.build import build, json_ready
out = [build(load_capture([d], workers=1)) for d in sys.argv[1:-2]]
out.append(compare(load_capture([sys.argv[-2]], workers=1),
                   load_capture([sys.argv[-1]], workers=1)))
sys.stdout.write(json.dumps(json_ready(out), sort_keys=False))
"""


def test_the_json_report_is_the_same_in_every_run():
    """No set or dict order leaks into the output: two interpreters with different string
    hashes give the same bytes, for the report of real third-party captures and for a
    comparison (the 401 endpoints' "why" once listed its callbacks in hash order, endpoint
    sums added buckets in hash order, and SQL changes of equal size came in hash order)."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    data = root / "tests" / "data"
    args = [str(data / c) for c in ("microblog-logs", "smorest-sql", "smorest", "microblog")]
    args += [str(root / "sample_profiles" / "before"), str(root / "sample_profiles" / "after")]
    # the two interpreters side by side (two cores): the test's time is one run, not two
    runs = [subprocess.Popen([sys.executable, "-c", _EVERY_REPORT, *args],
                             env=dict(os.environ, PYTHONHASHSEED=seed),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for seed in ("1", "2")]
    results = [run.communicate() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _out, err in results]
    outs = {out for out, _err in results}
    assert len(outs) == 1


def test_each_endpoint_says_where_its_flame_graph_comes_from():
    from pathlib import Path

    from profview.loading.scan import load_capture
    from profview.report.build import build
    samples = Path(__file__).resolve().parent.parent / "sample_profiles"
    exact = build(load_capture([samples / "stacks"], workers=1), findings=False)
    assert exact["endpoints"] and {e["flame"] for e in exact["endpoints"]} == {"exact"}
    pstats_only = build(load_capture([samples / "before"], workers=1), findings=False)
    assert {e["flame"] for e in pstats_only["endpoints"]} == {"estimated"}
