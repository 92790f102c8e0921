"""Before/after comparison: the significance test, verdicts, function and SQL deltas, CLI."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from profview.analysis import compare, compare_functions, significance
from profview.app import comparison
from profview.loading import reread
from profview.loading.scan import load_capture
from profview.importers import pstats_file
from profview.cli import main


def test_mann_whitney_exact_for_small_samples():
    # 4 against 4, fully separated: the exact two-sided p is 2 / C(8, 4) = 2/70
    assert significance.mann_whitney_p([1, 2, 3, 4], [5, 6, 7, 8]) == pytest.approx(2 / 70)
    # with ties scipy's exact method does not apply: the exact conditional distribution
    assert significance.mann_whitney_p([1, 2, 3, 3], [5, 6, 7, 8]) == pytest.approx(2 / 70)
    assert significance.mann_whitney([1, 2, 3], [4, 5, 6]) == (pytest.approx(0.1),
                                                         pytest.approx(0.1))
    assert significance.mann_whitney_p([3, 3, 3], [3, 3, 3]) == 1.0
    assert significance.mann_whitney_p([1, 5, 2, 6], [2, 5, 1, 6]) == pytest.approx(1.0)
    assert math.isnan(significance.mann_whitney_p([], [1.0]))


def test_exact_rows_agree_with_scipy_and_large_samples_use_the_normal_approximation():
    from scipy.stats import mannwhitneyu
    a = [[0.1 * ((i * 7 + j * 3) % 11) for j in range(7)] for i in range(20)]
    b = [[0.1 * ((i * 5 + j * 2) % 13) + 0.3 for j in range(6)] for i in range(20)]
    p, low = significance.mann_whitney_rows(a, b)
    no_ties = [i for i in range(20) if len(set(a[i] + b[i])) == 13]
    assert no_ties
    for i in no_ties:
        assert p[i] == pytest.approx(mannwhitneyu(a[i], b[i], method="exact").pvalue)
        assert low[i] == pytest.approx(2 / math.comb(13, 6))
    big_a, big_b = list(range(30)), [v + 0.5 for v in range(10, 40)]
    assert significance.mann_whitney_p(big_a, big_b) == pytest.approx(
        mannwhitneyu(big_a, big_b, method="asymptotic").pvalue)


def test_benjamini_hochberg():
    from profview.analysis.stats import bh_adjust
    q = bh_adjust([0.01, 0.04, 0.03, 0.2, None, 0.001])
    assert q[:4] == pytest.approx([0.025, 0.05, 0.05, 0.2]) and q[4] is None
    assert q[5] == pytest.approx(0.005)
    assert bh_adjust([]) == []


def test_verdicts_need_significance_and_a_minimum_effect():
    base = [10.0 + 0.1 * i for i in range(17)]
    assert compare.verdict(base, [v + 0.5 for v in base])[0] == "unchanged"   # 1 ms wobble
    # whole-ms latencies (Werkzeug's names): a 1 ms change of the median is the resolution
    whole = [10.0 + i % 3 for i in range(30)]
    assert significance.resolution_ms(whole) == 1.0 and significance.resolution_ms(base) == 0.0
    kind, p = compare.verdict(whole, [v + 1 for v in whole], min_pct=1, min_ms=0.5)
    assert kind == "unchanged" and p < 0.001
    assert compare.verdict(whole, [v + 2 for v in whole], min_pct=1)[0] == "slower"
    # given the q-value across endpoints, it decides
    assert compare.verdict(base, [v * 2 for v in base], q_value=0.2)[0] == "unchanged"
    assert compare.verdict(base, [v * 2 for v in base])[0] == "slower"
    assert compare.verdict(base, [v / 2 for v in base])[0] == "faster"
    # a 3% shift of tight samples is significant, but under the 5% / 1 ms minimum
    tight = [10.0 + 0.001 * i for i in range(17)]
    shifted = [v * 1.03 for v in tight]
    kind, p = compare.verdict(tight, shifted)
    assert kind == "unchanged" and p < 0.001
    assert compare.verdict(tight, shifted, min_pct=1, min_ms=0.1)[0] == "slower"
    assert compare.verdict([], base)[0] == "new" and compare.verdict(base, [])[0] == "gone"


def test_an_effect_is_reachable_exactly_when_some_split_reaches_it():
    """The family filter: the two extreme splits decide what every split could give."""
    import itertools
    import random
    rng = random.Random(7)
    seen = set()
    for _ in range(300):
        n1, n2 = rng.randint(1, 5), rng.randint(1, 5)
        pooled = [rng.choice([1, 2, 3, 20, 21, 22, 40.5]) for _ in range(n1 + n2)]
        brute = any(compare.big_enough([pooled[i] for i in idx],
                                       [pooled[i] for i in range(n1 + n2) if i not in idx])
                    for idx in itertools.combinations(range(n1 + n2), n1))
        assert compare.effect_reachable(pooled[:n1], pooled[n1:]) == brute, (pooled, n1)
        seen.add(brute)
    assert seen == {True, False}
    # whole-ms latencies of 2 and 3 ms: no split moves the median beyond the 1 ms resolution
    assert not compare.effect_reachable([2, 3, 2, 3] * 5, [3, 2, 3, 2] * 5)
    assert compare.effect_reachable([2, 5, 5, 5] * 5, [3, 2, 3, 2] * 5)


def test_sample_before_and_after(before, after):
    result = comparison.compare(load_capture([before], workers=1), load_capture([after], workers=1))
    rows = {r["name"]: r for r in result["endpoints"]}
    roster = rows["GET /roster"]
    assert roster["verdict"] == "faster" and roster["p_value"] < 0.05
    assert roster["q_value"] < 0.05 and roster["significant"] and roster["testable"]
    assert roster["q_value"] >= roster["p_value"]
    # 2 requests against 2 can never reach p < 0.05: not part of the family
    assert rows["GET /stats"]["q_value"] is None and not rows["GET /stats"]["testable"]
    assert "too few requests" in rows["GET /stats"]["note"]
    assert roster["delta_p50_ms"] == pytest.approx(
        roster["after"]["p50_ms"] - roster["before"]["p50_ms"])
    assert roster["delta_p50_pct"] < -50
    for r in result["endpoints"]:   # a stable order: by size of change, then by statement
        assert r["sql_changes"] == sorted(r["sql_changes"], key=lambda c: (
            -abs(c["after"] - c["before"]), c["statement"]))
    changes = {c["statement"]: (c["before"], c["after"]) for c in roster["sql_changes"]}
    lazy = next(v for k, v in changes.items() if "FROM classes, student_identifier" in k)
    assert lazy[0] > 100 and lazy[1] == 0                    # the lazy load is gone
    assert any(c["before"] == 0 and "student_identifier" in c["statement"]
               for c in roster["sql_changes"])                # … and the IN (…) came instead
    top = roster["function_deltas"][0]
    assert set(top) >= {"function", "before_s_per_request", "after_s_per_request"}
    assert top["after_s_per_request"] < top["before_s_per_request"]
    assert top["significant"] and top["q_value"] < 0.05 and top["p_value"] <= top["q_value"]
    sig = [d for d in roster["function_deltas"] if d["significant"]]
    assert len(sig) > 10 and roster["function_deltas"][:len(sig)] == sig   # significant first
    rest = roster["function_deltas"][len(sig):]
    assert len(rest) <= 10 and all("q_value" in d for d in rest)
    lazy = [d for d in sig if "_emit_lazyload" in d["function"]]
    assert lazy and lazy[0]["total_significant"]
    health = rows["GET /health"]["function_deltas"]
    assert health and not any(d["significant"] for d in health)
    assert rows["GET /health"]["verdict"] == "unchanged"
    assert result["endpoints"][0]["verdict"] in ("faster", "slower")


def test_function_times_read_in_workers_equal_those_read_here(before, after, monkeypatch):
    """The per-function tests re-read every profile; in worker processes (many requests) the
    matrices are the same numbers as read in this process, one column per request."""
    from profview.analysis.endpoints import group
    b, a = load_capture([before], workers=1), load_capture([after], workers=1)
    pairs = compare.match_endpoints(group(b), group(a))
    here = reread.read_matrices(pairs, workers=1)
    monkeypatch.setattr(reread, "PARALLEL_FROM", 0)
    there = reread.read_matrices(pairs, workers=2)
    tested = [i for i, m in enumerate(here) if m is not None]
    assert len(tested) >= 3
    for i in tested:
        eb, ea = pairs[i]
        keys = compare_functions.function_keys(eb, ea)
        for side, ep in ((0, eb), (1, ea)):
            assert there[i][side].shape == (2, len(keys), len(ep.requests))
            assert (there[i][side] == here[i][side]).all()
            # a column is one request: its self times add up to the request's profile total
            col = here[i][side][0].sum(axis=0)
            totals = sorted(sum(v[2] for v in pstats_file.read(r.file).stats.values())
                            for r in ep.requests)
            assert sorted(col) == pytest.approx(totals)


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


def test_half_splits_of_real_captures_give_no_verdict(tmp_path):
    """Two halves of one capture: nothing changed, so any faster/slower verdict is false."""
    from pathlib import Path
    import shutil
    data = Path(__file__).parent / "data"
    for name in ("smorest", "microblog"):
        files = sorted(p for p in (data / name).iterdir() if p.name.endswith(".prof"))
        for k, offset in enumerate((0, 1)):
            halves = [tmp_path / ("%s-%d-%s" % (name, k, side)) for side in "ab"]
            for i, f in enumerate(files):
                d = halves[(i + offset) % 2]
                d.mkdir(exist_ok=True)
                shutil.copy2(f, d / f.name)
            result = comparison.compare(load_capture([halves[0]], workers=1),
                                     load_capture([halves[1]], workers=1))
            assert not [r["name"] for r in result["endpoints"]
                        if r["verdict"] in ("faster", "slower")]
            assert all(r["q_value"] is None or r["q_value"] >= r["p_value"]
                       for r in result["endpoints"])


def test_comparing_big_captures_on_the_command_line_does_not_hang(tmp_path):
    """Enough profiles to be read in worker processes: a worker forked while another thread
    held an import lock used to hang for good on its first import."""
    import subprocess
    import sys

    from profview.importers.werkzeug_name import parse_name

    src = sorted((Path(__file__).parent / "data" / "smorest").glob("*.prof"))
    for side in ("before", "after"):
        (tmp_path / side).mkdir()
        for i in range(160):
            f = src[i % len(src)]
            wz = parse_name(f.name)
            stem = f.name.rsplit(".", 3)[0]
            (tmp_path / side / ("%s.%.0fms.%d.prof" % (stem, wz.elapsed_ms, 1796176000 + i))
             ).write_bytes(f.read_bytes())
    out = subprocess.run([sys.executable, "-m", "profview.cli", "report",
                          str(tmp_path / "before"), "--compare", str(tmp_path / "after"),
                          "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["endpoints"]) > 5
