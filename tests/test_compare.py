"""Before/after comparison: the significance test, verdicts, function and SQL deltas, CLI."""
from __future__ import annotations

import json
import math

import pytest

from profview.analysis import compare
from profview.analysis.scan import load_capture
from profview.cli import main


def test_mann_whitney_against_hand_computed_values():
    # U = 0 for fully separated samples of 5 and 5: z = (12.5 - 0.5) / sqrt(25 * 11 / 12)
    z = 12.0 / math.sqrt(25 * 11 / 12)
    assert compare.mann_whitney_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(
        math.erfc(z / math.sqrt(2)))
    assert compare.mann_whitney_p([3, 3, 3], [3, 3, 3]) == 1.0
    assert compare.mann_whitney_p([1, 5, 2, 6], [2, 5, 1, 6]) == pytest.approx(1.0)
    assert math.isnan(compare.mann_whitney_p([], [1.0]))


def test_verdicts_need_significance_and_a_minimum_effect():
    base = [10.0 + 0.1 * i for i in range(17)]
    assert compare.verdict(base, [v + 0.5 for v in base])[0] == "unchanged"   # 1 ms wobble
    assert compare.verdict(base, [v * 2 for v in base])[0] == "slower"
    assert compare.verdict(base, [v / 2 for v in base])[0] == "faster"
    # a 3% shift of tight samples is significant, but under the 5% / 1 ms minimum
    tight = [10.0 + 0.001 * i for i in range(17)]
    shifted = [v * 1.03 for v in tight]
    kind, p = compare.verdict(tight, shifted)
    assert kind == "unchanged" and p < 0.001
    assert compare.verdict(tight, shifted, min_pct=1, min_ms=0.1)[0] == "slower"
    assert compare.verdict([], base)[0] == "new" and compare.verdict(base, [])[0] == "gone"


def test_sample_before_and_after(before, after):
    result = compare.compare(load_capture([before], workers=1), load_capture([after], workers=1))
    rows = {r["name"]: r for r in result["endpoints"]}
    roster = rows["GET /roster"]
    assert roster["verdict"] == "faster" and roster["p_value"] < 0.05
    assert roster["delta_p50_ms"] == pytest.approx(
        roster["after"]["p50_ms"] - roster["before"]["p50_ms"])
    assert roster["delta_p50_pct"] < -50
    changes = {c["statement"]: (c["before"], c["after"]) for c in roster["sql_changes"]}
    lazy = next(v for k, v in changes.items() if "FROM classes, student_identifier" in k)
    assert lazy[0] > 100 and lazy[1] == 0                    # the lazy load is gone
    assert any(c["before"] == 0 and "student_identifier" in c["statement"]
               for c in roster["sql_changes"])                # … and the IN (…) came instead
    top = roster["function_deltas"][0]
    assert set(top) >= {"function", "before_s_per_request", "after_s_per_request"}
    assert top["after_s_per_request"] < top["before_s_per_request"]
    assert rows["GET /health"]["verdict"] == "unchanged"
    assert result["endpoints"][0]["verdict"] in ("faster", "slower")


def test_report_compare_cli_and_regression_gate(before, after, capsys):
    assert main(["report", str(before), "--compare", str(after), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {r["verdict"] for r in result["endpoints"]} <= {"faster", "unchanged"}
    # the other way round, the fix is a regression: the gate fails the build
    assert main(["report", str(after), "--compare", str(before),
                 "--fail-on-regression", "10"]) == 1
    text = capsys.readouterr().out
    assert "GET /roster" in text and "slower" in text
    assert main(["report", str(after), "--compare", str(before),
                 "--fail-on-regression", "10000"]) == 0
