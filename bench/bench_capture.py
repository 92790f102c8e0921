"""Overhead of profview.capture against Werkzeug's ProfilerMiddleware alone.

    python bench/bench_capture.py [--requests 300]

Sends the same requests through the demo app (sample_profiles/demo_app.py) three ways, in one
run: no profiler, ProfilerMiddleware alone (profiles to a temporary directory), and
``profview.capture.init_app`` (profiles with request ids, requests.jsonl, and every SQL
statement recorded to queries.jsonl).  Prints requests per second and the added cost per
request.  ``/roster`` runs ~100 statements per request: the recorder's worst case here.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "sample_profiles"), str(ROOT)]

from werkzeug.middleware.profiler import ProfilerMiddleware  # noqa: E402

from demo_app import create_app  # noqa: E402
from profview.capture import init_app  # noqa: E402

URLS = {"/student/<id>": "/student/%d", "/roster (N+1)": "/roster?class_id=%d"}


def rate(app, url: str, n: int) -> float:
    client = app.test_client()
    for i in range(5):                      # warm caches before timing
        client.get(url % (i + 1))
    start = time.perf_counter()
    for i in range(n):
        client.get(url % (i % 50 + 1))
    return n / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print("%-16s %12s %14s %14s %16s" % ("endpoint", "bare req/s", "Profiler req/s",
                                         "capture req/s", "added/request"))
    for label, url in URLS.items():
        with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as cap:
            bare_app = create_app()
            bare = rate(bare_app, url, args.requests)
            prof_app = create_app()
            prof_app.wsgi_app = ProfilerMiddleware(prof_app.wsgi_app, stream=None,
                                                   profile_dir=plain_dir)
            prof = rate(prof_app, url, args.requests)
            cap_app = create_app()
            init_app(cap_app, cap)
            ours = rate(cap_app, url, args.requests)
        added_ms = (1 / ours - 1 / prof) * 1000
        print("%-16s %12.0f %14.0f %14.0f %10.2f ms (%+.0f%%)" % (
            label, bare, prof, ours, added_ms, 100 * (prof / ours - 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
