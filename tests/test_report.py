"""``profview report``: the JSON contract, the table, and exit codes, on the sample capture."""
from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys

from profview.cli import main
from profview.importers.werkzeug_name import parse_name


def _run(capsys, *args):
    code = main(["report", *map(str, args)])
    return code, capsys.readouterr().out


def _nearest_rank(values, pct):
    ordered = sorted(values)
    return ordered[math.ceil(pct / 100 * len(ordered)) - 1]


def test_json_contract_on_sample_capture(samples, capsys):
    code, out = _run(capsys, samples, "--json")
    assert code == 0
    report = json.loads(out)
    files = sorted(p.name for p in samples.glob("*.prof"))
    assert report["requests"] == len(files) and report["problems"] == []
    listed = sorted(f for ep in report["endpoints"] for f in ep["files"])
    assert listed == files  # every request in exactly one endpoint
    names = {ep["name"] for ep in report["endpoints"]}
    assert {"GET /", "GET /user/<...>", "GET /settings", "GET /api/posts/<...>",
            "GET /search", "GET /report", "POST /login"} == names
    totals = [sum(parse_name(f).elapsed_ms for f in ep["files"]) for ep in report["endpoints"]]
    assert totals == sorted(totals, reverse=True)  # sorted by total time
    for ep in report["endpoints"]:
        elapsed = [parse_name(f).elapsed_ms for f in ep["files"]]
        assert ep["requests"] == len(elapsed)
        assert ep["p50_ms"] == statistics.median(elapsed)
        assert ep["p95_ms"] == _nearest_rank(elapsed, 95)
        assert ep["max_ms"] == max(elapsed)
        assert ep["method"] == ep["name"].split()[0]
        tops = ep["top_functions"]
        assert tops and [t["tottime_s"] for t in tops] == sorted(
            (t["tottime_s"] for t in tops), reverse=True)
        assert set(tops[0]) == {"function", "tottime_s", "cumtime_s", "ncalls"}
    by_name = {ep["name"]: ep for ep in report["endpoints"]}
    # the slow upstream of /report is time.sleep; /login's time is password hashing
    assert "time.sleep" in by_name["GET /report"]["top_functions"][0]["function"]
    assert "pbkdf2_hmac" in by_name["POST /login"]["top_functions"][0]["function"]
    assert by_name["GET /user/<...>"]["view"].endswith("(user_profile)")


def test_problems_reported_and_rest_loaded(samples, tmp_path, capsys):
    bad = tmp_path / "GET.broken.3ms.1795313503.prof"
    bad.write_bytes(b"\x00garbage")
    code, out = _run(capsys, samples, bad, "--json")
    report = json.loads(out)
    assert code == 0
    assert report["problems"] == [{"path": str(bad), "line": None,
                                   "message": report["problems"][0]["message"]}]
    assert "not a pstats file" in report["problems"][0]["message"]
    assert report["requests"] == len(list(samples.glob("*.prof")))


def test_text_table(samples, tmp_path, capsys):
    (tmp_path / "x.prof").write_bytes(b"")
    code, out = _run(capsys, samples, tmp_path / "x.prof")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:6] == ["endpoint", "requests", "p50", "p95", "max", "total"]
    assert lines[1].startswith("GET /report")
    assert "time.sleep" in lines[1]
    assert "1 problem:" in out and "empty file" in out


def test_exit_2_when_nothing_loads(tmp_path, capsys):
    (tmp_path / "a.prof").write_bytes(b"junk")
    code, out = _run(capsys, tmp_path, "--json")
    assert code == 2
    assert json.loads(out)["endpoints"] == []


def test_group_by_raw_path(samples, capsys):
    code, out = _run(capsys, samples, "--json", "--group", "path")
    names = {ep["name"] for ep in json.loads(out)["endpoints"]}
    assert "GET /user/alice" in names and "GET /user/<...>" not in names


def test_console_entry_point_runs_without_qt(samples):
    # python -m profview report, in a fresh interpreter where Qt cannot be imported
    code = ("import sys, runpy\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):\n"
            "            raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "sys.argv = ['profview', 'report', sys.argv[1]]\n"
            "runpy.run_module('profview', run_name='__main__')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-c", code, str(samples)], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "GET /report" in result.stdout
