"""Work the window sends to worker processes gives what the in-process path gives."""
from __future__ import annotations

import pickle

from profview.analysis import findings, merge
from profview.analysis.endpoints import group
from profview.analysis.scan import load_capture


def test_findings_in_a_worker_process_match(monkeypatch, before):
    capture = load_capture([before])
    endpoints = group(capture)
    here = findings.find(capture, endpoints)
    monkeypatch.setattr(findings, "APART_FROM", 1)
    apart = findings.find_apart(capture, endpoints, mp_context="forkserver")
    assert [f.as_dict() for f in apart] == [f.as_dict() for f in here]
    assert any(f.rule == "n_plus_one" for f in apart)


def test_a_capture_pickles_with_its_read_only_mappings(before):
    capture = load_capture([before])
    back = pickle.loads(pickle.dumps(capture))
    assert back.buckets.keys() == capture.buckets.keys()
    bucket = next(iter(capture.buckets))
    assert dict(back.buckets[bucket]) == dict(capture.buckets[bucket])
    assert type(back.buckets) is type(capture.buckets)     # still read-only


def test_merging_in_worker_processes_matches_one_thread(monkeypatch, before):
    requests = load_capture([before]).requests
    alone, problems = merge.load_graph(requests)
    monkeypatch.setattr(merge, "PARALLEL_FROM", 1)
    seen = []
    apart, problems_apart = merge.load_graph(requests, workers=2, mp_context="forkserver",
                                             background=True,
                                             progress=lambda d, t: seen.append((d, t)))
    assert not problems and not problems_apart
    assert apart.requests == alone.requests == len(requests)
    assert apart.functions.keys() == alone.functions.keys()
    for key, s in alone.functions.items():
        assert apart.functions[key].ncalls == s.ncalls
        assert abs(apart.functions[key].tottime - s.tottime) < 1e-9
    assert apart.edges.keys() == alone.edges.keys()
    assert seen[-1] == (len(requests), len(requests))
