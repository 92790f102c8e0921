"""Loading speed and memory: ``profview report`` against a bare marshal.loads script.

    python bench/bench_load.py [--files 1000 4000] [--repeat 3]

Makes N request profiles (copies of sample_profiles/before with distinct names and times) in a
temporary directory, then times, in the same run and on the same files:
  1. a bare script that reads each file and marshal.loads it (the floor for any loader);
  2. ``profview report --json`` over the directory (the whole command, start to exit);
  3. ``pstats.Stats`` on each file (what SnakeViz and most tools do).
Each figure is the best of --repeat runs, as a fresh process; peak RSS is the child's own.
Several --files sizes show how time and memory grow with the number of files.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The baseline of every loading benchmark: read and marshal.loads each profile under the
# directories given, in a fresh process.
BARE = ("import marshal, os, sys\n"
        "for top in sys.argv[1:]:\n"
        "    for d, _, fs in os.walk(top):\n"
        "        for f in fs:\n"
        "            if f.endswith('.prof'):\n"
        "                with open(os.path.join(d, f), 'rb') as fh:\n"
        "                    marshal.loads(fh.read())\n")
PSTATS = ("import os, pstats, sys\n"
          "for d, _, fs in os.walk(sys.argv[1]):\n"
          "    for f in fs:\n"
          "        pstats.Stats(os.path.join(d, f))\n")


def make_capture(target: Path, n: int) -> None:
    """Copies of the sample profiles under Werkzeug's default names, all distinct."""
    sys.path.insert(0, str(ROOT))
    from profview.importers.werkzeug_name import parse_name

    sources = sorted((ROOT / "sample_profiles" / "before").glob("*.prof"))
    for i in range(n):
        src = sources[i % len(sources)]
        wz = parse_name(src.name)
        path = wz.url_path.strip("/").replace("/", ".") or "root"
        name = "%s.%s.%.0fms.%d.prof" % (wz.method, path, wz.elapsed_ms, 1795300000 + i)
        shutil.copyfile(src, target / name)


def run(cmd: list) -> tuple:
    """(seconds, peak RSS MB) of one child process (its own peak, from wait4)."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit("failed: %s" % " ".join(cmd))
    return elapsed, usage.ru_maxrss / 1024.0


def best(cmd: list, repeat: int) -> tuple:
    results = [run(cmd) for _ in range(repeat)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for n in args.files:
        bench(n, args.repeat)
    return 0


def bench(n_files: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="profview-bench-") as tmp:
        capture = Path(tmp)
        make_capture(capture, n_files)
        size = sum(p.stat().st_size for p in capture.iterdir()) / 1e6
        py = sys.executable
        env_cmd = [py, "-m", "profview", "report", str(capture), "--json"]
        bare_s, bare_mb = best([py, "-c", BARE, str(capture)], repeat)
        ours_s, ours_mb = best(env_cmd, repeat)
        one_s, one_mb = best(env_cmd + ["--jobs", "1"], repeat)
        pst_s, _ = best([py, "-c", PSTATS, str(capture)], 1)
        out = subprocess.run(env_cmd, check=True, capture_output=True, text=True).stdout
        endpoints = len(json.loads(out)["endpoints"])
    print("files: %d request profiles, %.1f MB, %d cores, Python %s" % (
        n_files, size, os.cpu_count(), sys.version.split()[0]))
    print("%-38s %8s %9s %10s" % ("", "seconds", "ratio", "peak RSS"))
    rows = [("bare read + marshal.loads (baseline)", bare_s, bare_mb),
            ("profview report --json", ours_s, ours_mb),
            ("profview report --json --jobs 1", one_s, one_mb),
            ("pstats.Stats per file", pst_s, None)]
    for label, secs, mb in rows:
        print("%-38s %8.3f %8.2fx %10s" % (label, secs, secs / bare_s,
                                           "%.0f MB" % mb if mb else ""))
    print("profview report vs pstats.Stats: %.1fx faster; %d endpoints\n" % (
        pst_s / ours_s, endpoints))


if __name__ == "__main__":
    sys.exit(main())
