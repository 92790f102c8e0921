"""Findings in ``profview report`` (JSON and text), their ordering, and a failing rule."""
from __future__ import annotations

import json
import logging
from types import SimpleNamespace

from profview.analysis import findings as findings_pkg
from profview.report import build as report
from profview.analysis.findings import SEVERITIES, find
from profview.loading.reread import request_graph
from profview.loading.scan import load_capture
from profview.cli import main

KEYS = {"rule", "severity", "title", "endpoints", "requests", "summary", "evidence", "fix",
        "copy", "ms_per_request", "requests_at_stake", "ms_at_stake"}


def test_json_report_lists_the_findings(before, capsys):
    assert main(["report", str(before), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    found = result["findings"]
    assert found and all(set(f) == KEYS for f in found)
    stakes = [f["ms_at_stake"] for f in found if f["severity"] != "info"]
    assert stakes == sorted(stakes, reverse=True)   # ranked by time at stake
    assert all(abs(f["ms_at_stake"] - f["ms_per_request"] * f["requests_at_stake"]) < 0.01
               for f in found)
    names = {ep["name"] for ep in result["endpoints"]}
    files = {f for ep in result["endpoints"] for f in ep["files"]}
    for f in found:
        assert set(f["endpoints"]) <= names
        assert all(any(r.endswith(name) for name in files) for r in f["requests"])
        assert all({"kind", "text"} <= set(e) for e in f["evidence"])
    rules = {f["rule"] for f in found}
    assert {"n_plus_one", "slow_query"} <= rules
    assert [SEVERITIES.index(f["severity"]) for f in found] == sorted(
        SEVERITIES.index(f["severity"]) for f in found)


def test_text_report_has_a_findings_section(before):
    capture = load_capture([before], workers=1)
    built = report.build(capture)
    text = report.render_text(built)
    section = text.split("\nFindings\n", 1)[1]
    for f in built["findings"]:
        assert "[%s] %s" % (f["severity"], f["title"]) in section
        assert "Fix: " + f["fix"] in section
    assert "Copy: CREATE INDEX ix_attendance_student_id" in section   # from its plan


def test_no_findings_section_when_nothing_is_found(after, tmp_path):
    capture = load_capture([after], workers=1)
    built = report.build(capture)
    built["findings"] = []
    assert "Findings" not in report.render_text(built)


def test_a_failing_rule_is_logged_and_the_others_still_run(before, monkeypatch, caplog):
    capture = load_capture([before], workers=1)
    expected = [f.rule for f in find(capture, read=request_graph)]

    def explode(ctx, settings):
        raise RuntimeError("boom")
    broken = SimpleNamespace(RULE="broken", check=explode)
    monkeypatch.setattr(findings_pkg, "RULES", (broken,) + findings_pkg.RULES)
    with caplog.at_level(logging.ERROR, logger="profview.analysis.findings"):
        found = find(capture, read=request_graph)
    assert [f.rule for f in found] == expected and expected
    assert "broken" in caplog.text and "boom" in caplog.text
