"""Requests captured with stacks and no cProfile (``profile=False``): each request's block in
its process's stacks file is read as its profile (exact times, unknown call counts), tied to
its SQL by request id, and shown like any request.  On ``sample_profiles/stacks-only``, a
capture of the demo app, and on stacks files the tests write."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_stacks_file import stacks_lines

from profview.importers import profiles, stacks_file, stacks_pstats
from profview.loading.scan import load_capture
from profview.report.build import build

SAMPLE = Path(__file__).resolve().parent.parent / "sample_profiles" / "stacks-only"


def _records(directory):
    return [json.loads(line) for line in (directory / "requests.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def capture():
    return load_capture([SAMPLE], workers=1)


def test_every_request_of_the_capture_is_there_read_from_its_stacks(capture):
    records = _records(SAMPLE)
    assert records and all(not r["kept"] and r["stacks_at"] for r in records)
    assert not list(SAMPLE.glob("*.prof"))
    assert sorted(r.request_id for r in capture.requests) == sorted(r["id"] for r in records)
    assert all(r.sampled and r.stacks == r.file for r in capture.requests)
    assert capture.problems == [] or all(p.kind == "untied" for p in capture.problems)
    # endpoints are the app's URL rules, as the records say
    rules = {("%s %s" % (r["method"], r["rule"])) for r in records}
    assert {e["name"] for e in build(capture)["endpoints"]} == rules


def test_its_sql_is_tied_by_request_id(capture):
    untied = [q for q in capture.queries if q.profile_file is None]
    assert untied == []
    ran = {}
    for line in (SAMPLE / "queries.jsonl").read_text().splitlines():
        q = json.loads(line)
        ran[q["request"]] = ran.get(q["request"], 0) + 1
    assert {r.request_id: r.n_queries for r in capture.requests if r.n_queries} == ran


def test_a_requests_table_is_its_samples_exactly(capture):
    for request in capture.requests:
        stacks = stacks_file.load(request.stacks)
        table = profiles.read(request.file)
        assert table.total_tt == pytest.approx(stacks.weights().sum(), abs=1e-12)
        assert all(cc == 0 and nc == 0 for cc, nc, *_rest in table.stats.values())
        if len(stacks):
            root = stacks.frames[stacks.stack_frame[0]]
            assert table.stats[root][3] == pytest.approx(stacks.weights().sum())


def test_the_report_says_exact_and_calls_nothing_it_cannot_know(capture):
    report = build(capture)
    assert {e["flame"] for e in report["endpoints"]} == {"exact"}
    texts = " ".join(e["text"] for f in report["findings"] for e in f["evidence"])
    assert "0.0 calls per request" not in texts
    assert not any(f["rule"] == "repeated_work" for f in report["findings"])
    roster = next(f for f in report["findings"] if f["rule"] == "n_plus_one")
    assert any("sampled stacks" in e["text"] and "demo_app.py:74" in e["text"]
               for e in roster["evidence"])


def _profile(tmp_path, samples, end):
    path = tmp_path / "a.stacks"
    path.write_text("\n".join(stacks_lines(samples, end=end)) + "\n")
    return stacks_file.load(path)


def test_recursion_counts_as_cprofile_counts_it(tmp_path):
    """A→B→A→B for 2 ms, then A alone for 1 ms: A's total is the 3 ms it was on the stack,
    not 5 (each stack counts a function once, at its outermost frame), and so for A→B."""
    prof = _profile(tmp_path, [(0.0, ["A", "B", "A", "B"]), (2.0, ["A"])], end=3.0)
    stats = stacks_pstats.to_pstats(prof)
    a, b = ("app.py", 1, "A"), ("app.py", 1, "B")
    assert stats[a][2:4] == pytest.approx((0.001, 0.003))
    assert stats[b][2:4] == pytest.approx((0.002, 0.002))
    assert stats[b][4][a][2:4] == pytest.approx((0.002, 0.002))
    assert stats[a][4][b][2:4] == pytest.approx((0.0, 0.002))


def test_a_request_shorter_than_the_interval_still_counts(tmp_path):
    prof = _profile(tmp_path, [], end=0.4)
    assert stacks_pstats.to_pstats(prof) == {}
    table = profiles.read(tmp_path / "a.stacks")
    assert list(table.stats) == [stacks_pstats.NO_SAMPLE] and table.total_tt == 0.0


def test_a_block_is_read_where_its_line_says_and_damage_is_named(tmp_path):
    one = "\n".join(stacks_lines([(0.0, ["A"])], end=1.0)).encode() + b"\n"
    two = "\n".join(stacks_lines([(0.0, ["B"])], end=2.0)).encode() + b"\n"
    shared = tmp_path / "stacks.1.abcdefabcdef.stacks"
    shared.write_bytes(one + two)
    second = stacks_file.block_path(shared, len(one), len(two))
    assert stacks_file.load(second).frames == (("app.py", 1, "B"),)
    past = stacks_file.block_path(shared, len(one), len(two) + 10)
    with pytest.raises(stacks_file.StacksError, match="ends 60 bytes into|ends .* bytes into"):
        stacks_file.load(past)
    inside = stacks_file.block_path(shared, 3, len(one))       # not where a block starts
    with pytest.raises(stacks_file.StacksError, match="line 1"):
        stacks_file.load(inside)


def test_a_hostile_stacks_name_in_the_records_is_refused(tmp_path):
    outside = tmp_path / "elsewhere.stacks"
    outside.write_text("\n".join(stacks_lines([(0.0, ["A"])], end=1.0)) + "\n")
    capture_dir = tmp_path / "cap"
    capture_dir.mkdir()
    record = {"id": "aa", "method": "GET", "path": "/x", "start": 1.7e9, "elapsed_ms": 1.0,
              "profile": "GET.x.1ms.1700000000.aaaaaaaaaaaa.prof", "kept": False,
              "stacks": "../elsewhere.stacks", "stacks_at": [0, outside.stat().st_size]}
    (capture_dir / "requests.jsonl").write_text(json.dumps(record) + "\n")
    capture = load_capture([capture_dir], workers=1)
    assert len(capture.requests) == 0
    assert any("not a file name of this directory" in p.message for p in capture.problems)


def test_the_pstats_and_the_stacks_of_one_capture_agree():
    """``sample_profiles/stacks`` has both for each request: the stacks' table and cProfile's
    name the same app functions with time (sampling misses only what is shorter than it)."""
    capture = load_capture([SAMPLE.parent / "stacks"], workers=1)
    request = max((r for r in capture.requests if r.url_path.startswith("/roster")),
                  key=lambda r: r.elapsed_ms)
    assert request.stacks is not None and not request.sampled
    sampled = profiles.read(request.stacks).stats
    measured = profiles.read(request.file).stats
    heavy = [k for k, v in sampled.items() if v[3] > 0.005]
    assert heavy and all(k in measured for k in heavy)
    top = max(sampled, key=lambda k: sampled[k][3])
    assert np.isclose(sampled[top][3], sum(v[2] for v in sampled.values()))
