"""How long a scope change takes: selecting each endpoint, then *All requests*, as a user
walking through the Endpoints panel does, with the work the window does for it off the GUI
thread (merge the scope's profiles, build the flame tree), next to a same-run baseline: a
bare ``marshal.loads`` of the same files.

    python bench/bench_scopes.py CAPTURE_DIR [CAPTURE_DIR ...]

Prints, per capture, the 50th and 95th percentile and the maximum over the walk, for profview
and for the baseline; the scopes' sizes too.  (The target: 100 ms at 1,000
requests, 250 ms at 10,000, 95th percentile.)  The call graph's layout is not included: it
runs after the flame graph is drawn.
"""
from __future__ import annotations

import argparse
import gc
import marshal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profview.analysis.endpoints import group        # noqa: E402
from profview.analysis.flame import build_tree       # noqa: E402
from profview.loading.scopes import scope_graph      # noqa: E402
from profview.loading.scan import load_capture       # noqa: E402


def _percentile(values, pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100.0 * len(ordered)) - 1))]


def walk(capture) -> list:
    """``(scope name, requests, profview s, baseline s)`` for every endpoint, then All: the
    scope's graph from what the capture keeps (``loading.scopes``) and its flame tree."""
    scopes = [(ep.name, ep.requests) for ep in group(capture)]
    scopes.append(("All requests", capture.requests))
    out = []
    for name, requests in scopes:
        start = time.perf_counter()
        graph, _problems = scope_graph(capture, requests)
        build_tree(graph)
        ours = time.perf_counter() - start
        start = time.perf_counter()
        for r in requests:
            with open(r.file, "rb") as fh:
                marshal.loads(fh.read())
        out.append((name, len(requests), ours, time.perf_counter() - start))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("captures", nargs="+", type=Path)
    args = ap.parse_args(argv)
    for path in args.captures:
        capture = load_capture([str(path)])
        gc.freeze()   # as the window does after a load: the collector leaves the capture alone
        rows = walk(capture)
        ours = [1000 * r[2] for r in rows]
        base = [1000 * r[3] for r in rows]
        print("%s: %d requests, %d scopes (largest %d requests)" % (
            path, len(capture.requests), len(rows), max(r[1] for r in rows)))
        print("  profview (scope graph + flame tree): p50 %.0f ms, p95 %.0f ms, max %.0f ms" % (
            _percentile(ours, 50), _percentile(ours, 95), max(ours)))
        print("  baseline (marshal.loads):      p50 %.0f ms, p95 %.0f ms, max %.0f ms" % (
            _percentile(base, 50), _percentile(base, 95), max(base)))
        slow = max(rows, key=lambda r: r[2])
        print("  slowest scope: %s (%d requests) %.0f ms against %.0f ms" % (
            slow[0], slow[1], 1000 * slow[2], 1000 * slow[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
