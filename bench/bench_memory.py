"""What memory figures cost a request: the resident set read around every request (always
on), and tracemalloc with ``memory=True``.

    python bench/bench_memory.py [--requests 300] [--rounds 30] [--work 20]

The app of ``bench_stacks.py`` (Python work and two SQLite queries per request), served by
Flask's test client, in variants that alternate in short batches over many rounds (a busy
moment of a shared machine hits all of them): (a) no capture, (b) the request lines without
a profile, with the resident set read as always, (c) the same with the reads replaced by a
stub (what the reads cost), (d) ``memory=True`` (tracemalloc's tracing and two snapshots per
request).  Each row is the median of the rounds' mean ms per request, next to (a)'s.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_stacks import batch, make_clients, report  # noqa: E402
from profview.capture import memory, middleware  # noqa: E402

VARIANTS = {"a no capture": None, "b lines (RSS read)": dict(profile=False),
            "c lines, RSS stubbed": dict(profile=False), "d memory=True": dict(profile=False,
                                                                                memory=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per variant")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--work", type=int, default=20)
    args = parser.parse_args()
    per_round = max(1, args.requests // args.rounds)
    results = {name: [] for name in VARIANTS}
    order = list(VARIANTS)
    shuffle = random.Random(0).shuffle
    real = middleware.rss_bytes
    with tempfile.TemporaryDirectory() as tmp:
        clients = make_clients(VARIANTS, args.work, tmp)
        tracemalloc.stop()     # d started it: each round turns it on for d only
        for _ in range(args.rounds):
            shuffle(order)
            for name in order:
                middleware.rss_bytes = (lambda: None) if name.startswith("c") else real
                if name.startswith("d"):
                    tracemalloc.start(memory.FRAMES)
                results[name].append(batch(clients[name], per_round))
                if name.startswith("d"):
                    tracemalloc.stop()
        middleware.rss_bytes = real
    report(results, args, per_round)
    return 0


if __name__ == "__main__":
    sys.exit(main())
