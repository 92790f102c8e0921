"""Merges the window sends to worker processes give what the in-process merge gives."""
from __future__ import annotations

from profview.loading import merge
from profview.loading.scan import load_capture


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
