"""What sampled call stacks cost a request, against cProfile and no capture at all.

    python bench/bench_stacks.py [--requests 300] [--rounds 30] [--work 20]

A small Flask app on SQLite (SQLAlchemy): each request does some Python work (``--work``
passes of a small function over 150 rows: 3,000 calls, ~2 ms, by default) and two queries.  Each variant is its own app, served
by Flask's test client: (a) no capture, (b) CaptureMiddleware with cProfile only, (c) cProfile
and stacks every 1 ms, (d) stacks only every 1 ms, (e) stacks only every 5 ms; and
(f) neither (requests.jsonl and queries.jsonl only: what (d) and (e) add beyond it is the
sampler's).  The variants
alternate in short batches over many rounds, in a new order each round (so a busy moment of
a shared machine hits all of them); each row is the median over rounds of a batch's mean ms
per request, next to (a)'s median from the same run.
Needs only Flask and SQLAlchemy.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from profview.capture import init_app  # noqa: E402

VARIANTS = {
    "a no capture": None,
    "b cProfile": dict(),
    "c cProfile + stacks 1 ms": dict(stacks=True, stack_interval_ms=1.0),
    "d stacks 1 ms": dict(stacks=True, stack_interval_ms=1.0, profile=False),
    "e stacks 5 ms": dict(stacks=True, stack_interval_ms=5.0, profile=False),
    # Not asked for, but it splits (d): the sidecars' share, without stacks or profiler.
    "f lines only (no profile)": dict(profile=False),
}


def make_app(work: int = 20):
    from flask import Flask, jsonify
    from sqlalchemy import create_engine, text

    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price REAL)"))
        conn.execute(text("INSERT INTO item (name, price) VALUES (:n, :p)"),
                     [{"n": "item%d" % i, "p": i * 1.5} for i in range(200)])
    app = Flask(__name__)

    def score(row, i):
        return (row[2] * (i % 7) + len(row[1])) % 97

    def crunch(rows):
        total = 0
        for _ in range(work):
            for i, row in enumerate(rows):
                total += score(row, i)
        return total

    @app.get("/items/<int:n>")
    def items(n):
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, name, price FROM item WHERE id <= :n"),
                                {"n": n}).all()
            count = conn.execute(text("SELECT count(*) FROM item")).scalar()
        return jsonify(total=crunch(rows), count=count)

    return app, engine


def make_clients(variants: dict, work: int, tmp) -> dict:
    """A test client per variant, each its own app captured with its options (None: not)."""
    clients = {}
    for name, options in variants.items():
        app, engine = make_app(work)
        if options is not None:
            init_app(app, Path(tmp) / name.split()[0], engine=engine, **options)
        clients[name] = app.test_client()
    return clients


def batch(client, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        assert client.get("/items/150").status_code == 200
    return (time.perf_counter() - start) * 1000.0 / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="per variant")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--work", type=int, default=20,
                        help="passes over the rows per request (20: ~2 ms of Python)")
    args = parser.parse_args()
    per_round = max(1, args.requests // args.rounds)
    results = {name: [] for name in VARIANTS}
    order = list(VARIANTS)
    shuffle = random.Random(0).shuffle
    with tempfile.TemporaryDirectory() as tmp:
        clients = make_clients(VARIANTS, args.work, tmp)
        for client in clients.values():
            batch(client, 10)                    # warm up: imports, caches, the sampler
        for _ in range(args.rounds):             # short batches, variants in a new order
            shuffle(order)                       # each round: noise falls on all of them
            for name in order:
                results[name].append(batch(clients[name], per_round))
    report(results, args, per_round)
    return 0


def report(results: dict, args, per_round: int) -> None:
    """Each variant's median ms per request next to the first variant's (no capture)."""
    base = statistics.median(next(iter(results.values())))
    print("Python %s, %d rounds x %d requests per variant, --work %d, median of the rounds'"
          " ms per request" % (sys.version.split()[0], args.rounds, per_round, args.work))
    print("%-26s %9s %9s %8s" % ("variant", "ms/req", "baseline", "added"))
    for name, values in results.items():
        ms = statistics.median(values)
        print("%-26s %9.3f %9.3f %+7.1f%%" % (name, ms, base, (ms / base - 1) * 100))


if __name__ == "__main__":
    sys.exit(main())
