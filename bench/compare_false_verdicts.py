"""How often does ``profview report A --compare B`` call an endpoint faster or slower when
nothing changed?  Split one capture's profiles at random into two halves (files copied into
two directories), compare them, count the comparisons with any faster/slower verdict; do it
N times.  Then compare a real before/after pair, same run, to see the fix is still found.

Each split is judged twice: by ``profview.analysis.compare`` as it is now, and by the rule
profview used before issue 17 (each endpoint on its own at p < 0.05, normal approximation,
no correction for the number of endpoints; median change ≥ 5% and ≥ 1 ms), re-implemented
below so that both figures come from the same splits.

    python bench/compare_false_verdicts.py CAPTURE_DIR [-n 20] [--seed 1]
        [--before DIR --after DIR]
"""
from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profview.analysis import compare                     # noqa: E402
from profview.analysis.endpoints import group             # noqa: E402
from profview.analysis.stats import p50                   # noqa: E402
from profview.app import comparison                       # noqa: E402
from profview.loading.scan import load_capture            # noqa: E402


def legacy_p(a, b) -> float:
    """The pre-issue-17 test: normal approximation, tie and continuity corrections."""
    n1, n2 = len(a), len(b)
    values = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks, ties, i = [0.0] * len(values), 0.0, 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1][0] == values[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2.0 + 1.0
        ties += (j - i + 1) ** 3 - (j - i + 1)
        i = j + 1
    u1 = sum(r for r, (_v, side) in zip(ranks, values) if side == 0) - n1 * (n1 + 1) / 2.0
    n = n1 + n2
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        return 1.0
    z = (abs(u1 - n1 * n2 / 2.0) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2.0)))


def legacy_verdicts(before, after) -> dict:
    out = {}
    for eb, ea in compare.match_endpoints(group(before), group(after)):
        if not eb or not ea:
            continue
        b, a = p50(eb.elapsed_ms), p50(ea.elapsed_ms)
        if legacy_p(eb.elapsed_ms, ea.elapsed_ms) < 0.05 and abs(a - b) >= max(1.0, 0.05 * b):
            out[ea.name] = "slower" if a > b else "faster"
    return out


def current_verdicts(before, after) -> dict:
    result = comparison.compare(before, after, functions=False)
    return {r["name"]: (r["verdict"], r["p_value"], r["q_value"]) for r in result["endpoints"]
            if r["verdict"] in (compare.FASTER, compare.SLOWER)}


def load(d):
    return load_capture([str(d)], workers=2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("capture", type=Path)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--before", type=Path)
    ap.add_argument("--after", type=Path)
    args = ap.parse_args(argv)
    files = sorted(p for p in args.capture.iterdir() if p.name.endswith(".prof"))
    rng = random.Random(args.seed)
    hits_now = hits_old = 0
    t0 = time.time()
    for i in range(args.n):
        shuffled = files[:]
        rng.shuffle(shuffled)
        half = len(shuffled) // 2
        with tempfile.TemporaryDirectory() as tmp:
            dirs = [Path(tmp) / "A", Path(tmp) / "B"]
            for d, part in zip(dirs, (shuffled[:half], shuffled[half:])):
                d.mkdir()
                for f in part:
                    shutil.copy2(f, d / f.name)
            a, b = load(dirs[0]), load(dirs[1])
            now, old = current_verdicts(a, b), legacy_verdicts(a, b)
        hits_now += bool(now)
        hits_old += bool(old)
        print("split %2d: now %-60s before issue 17: %s" % (
            i + 1, {k: v[0] for k, v in now.items()} or "-", old or "-"), flush=True)
    print("%s: %d half-splits; with a faster/slower verdict: now %d (%.0f%%), before issue "
          "17 %d (%.0f%%)  [%.0f s]" % (args.capture, args.n, hits_now, 100.0 * hits_now / args.n,
                                        hits_old, 100.0 * hits_old / args.n, time.time() - t0))
    if args.before and args.after:
        b, a = load(args.before), load(args.after)
        result = comparison.compare(b, a, functions=False)
        old = legacy_verdicts(b, a)
        print("real before/after %s -> %s: %d of %d endpoints in the family" % (
            args.before, args.after, sum(r["testable"] for r in result["endpoints"]),
            len(result["endpoints"])))
        for r in result["endpoints"]:
            if r["verdict"] != "unchanged" or r["name"] in old or (r["q_value"] or 1) < 0.5:
                print("  %-40s now %-9s p=%-8.3g q=%-8s Δp50=%+.1f ms; before issue 17: %s" % (
                    r["name"], r["verdict"], r["p_value"] if r["p_value"] is not None else
                    math.nan, "%.3g" % r["q_value"] if r["q_value"] is not None else "-",
                    r["delta_p50_ms"] or 0.0, old.get(r["name"], "unchanged")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
