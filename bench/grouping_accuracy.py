"""How exactly profview groups a real capture into endpoints, against known truth.

    python bench/grouping_accuracy.py PROFILES_DIR EXPECTED_JSON

EXPECTED_JSON lists every request as ``{"file", "endpoint", "routing"}`` (``endpoint``:
``METHOD + Flask's URL rule``, null when no rule matched; the shape of the real captures'
``expected.json``).  Requests no rule matched count as one kind per method ("GET (no rule)"):
a file name cannot tell a 404 from a 405.  Prints each true endpoint with the groups its requests went
to, then the number of endpoints grouped exactly and of requests in an inexact group.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict

from profview.analysis.endpoints import group
from profview.loading.scan import load_capture


def main(profiles: str, expected: str) -> int:
    rows = json.loads(open(expected, encoding="utf-8").read())["requests"]
    truth = {r["file"]: r["endpoint"] or ("static" if r.get("routing") == "static"
                                          else "%s (no rule)" % r["method"]) for r in rows}
    start = time.perf_counter()
    endpoints = group(load_capture([profiles]))
    took = time.perf_counter() - start
    ours = {r.file.name: ep.name for ep in endpoints for r in ep.requests}
    by_true: dict = defaultdict(Counter)
    by_ours: dict = defaultdict(Counter)
    for f, t in truth.items():
        by_true[t][ours.get(f, "(not loaded)")] += 1
        by_ours[ours.get(f, "(not loaded)")][t] += 1
    exact = 0
    for t, where in sorted(by_true.items()):
        ok = len(where) == 1 and len(by_ours[next(iter(where))]) == 1
        exact += ok
        print("%s %s -> %s" % ("ok " if ok else "BAD", t, dict(where)))
    inexact = sum(1 for f in truth if len(by_ours[ours.get(f, "(not loaded)")]) > 1
                  or len(by_true[truth[f]]) > 1)
    print("\n%d of %d endpoints grouped exactly; %d of %d requests in an inexact group "
          "(%d groups; load and group %.2f s)" % (exact, len(by_true), inexact, len(truth),
                                                 len(endpoints), took))
    return 0 if exact == len(by_true) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
