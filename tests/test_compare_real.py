"""Verdicts on real latencies: a real app (microblog) before and after a real fix, and
random half-splits of one capture, where every faster/slower verdict would be false.
The latencies are every request's, from the file names of both captures
(``tests/data/microblog-fix/latencies.json``)."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from profview.analysis import compare

DATA = json.loads((Path(__file__).resolve().parent / "data" / "microblog-fix"
                   / "latencies.json").read_text())["endpoints"]


def test_the_real_fix_and_its_real_cost_are_found():
    names = sorted(DATA)
    judged = dict(zip(names, compare.judge([(DATA[n]["before"], DATA[n]["after"])
                                            for n in names])))
    changed = {n: j.verdict for n, j in judged.items() if j.verdict != compare.UNCHANGED}
    # eager loading: /explore 15 -> 7 queries per request; on the user page, whose posts
    # share one author already loaded, it adds a query
    assert changed == {"GET /explore": "faster", "GET /user/<username>": "slower"}
    for n in changed:
        assert judged[n].q < 0.05 and judged[n].p <= judged[n].q
    # 3 against 3 can never reach p < 0.05; 2–3 ms logins cannot move by the minimum effect
    assert judged["GET /messages"].q is None and judged["GET /messages"].smallest_p > 0.05
    assert judged["GET /auth/login"].q is None and not judged["GET /auth/login"].reachable


@pytest.mark.parametrize("side", ["before", "after"])
def test_half_splits_of_one_real_capture_give_no_verdict(side):
    """Each request goes to A or B at random, 20 times: at most one comparison (the issue's
    target) may call anything faster or slower."""
    rng = random.Random(17)
    with_verdict = 0
    for _ in range(20):
        samples = []
        for n in sorted(DATA):
            a, b = [], []
            for ms in DATA[n][side]:
                (a if rng.random() < 0.5 else b).append(ms)
            samples.append((a, b))
        with_verdict += any(j.verdict in (compare.FASTER, compare.SLOWER)
                            for j in compare.judge(samples))
    assert with_verdict <= 1
