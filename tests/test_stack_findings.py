"""Findings with sampled stacks: an N+1 names the loop line and the lazy-load line that
issued its statements (from the request's true stacks, not pstats' totals)."""
from __future__ import annotations

from pathlib import Path

from profview.loading.scan import load_capture
from profview.report.build import build

SAMPLES = Path(__file__).resolve().parent.parent / "sample_profiles"


def _n_plus_one(directory):
    report = build(load_capture([SAMPLES / directory], workers=1))
    return next(f for f in report["findings"] if f["rule"] == "n_plus_one")


def test_the_n_plus_one_names_its_loop_and_lazy_load_from_the_stacks():
    finding = _n_plus_one("stacks")
    sampled = [e for e in finding["evidence"] if e["text"].startswith("sampled stacks")]
    assert len(sampled) == 1
    evidence = sampled[0]
    # the loop of the view (the query log's own location says the same line: two sources)
    assert evidence["function"].endswith("demo_app.py:74(<listcomp>)")
    assert "demo_app.py:74 (<listcomp>)" in evidence["text"]
    assert "(_emit_lazyload)" in evidence["text"]
    statement = next(e for e in finding["evidence"] if e["kind"] == "statement")
    assert "demo_app.py:74 (<listcomp>)" in statement["text"]


def test_without_stacks_there_is_no_such_evidence():
    finding = _n_plus_one("before")
    assert not any(e["text"].startswith("sampled stacks") for e in finding["evidence"])
