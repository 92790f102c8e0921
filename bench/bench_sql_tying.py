"""How many SQL statements profview ties to the right request, on a capture with known truth.

The capture (``--capture DIR``: e.g. the real captures shared with this project) holds
Werkzeug profiles (``profiles.tar.xz``, or a ``profiles/`` folder) and the app's own
JSON-lines query log (``queries.jsonl``) whose ``profile_file`` is the truth.  From it this script makes, in a
temporary directory:

- ``json``: the log as it is (tied by profile file name);
- ``json-path``: the log without ``profile_file`` (tied by method, path and time);
- ``echo``: the statements written as SQLAlchemy's echo log (``%(asctime)s %(levelname)s
  %(name)s %(message)s``, milliseconds, then the parameters record), which names no request;
- ``echo-agree``: the same, without the profiles whose execute() count the log does not
  match (statements that failed: the app's listener logged only those that succeeded,
  where SQLAlchemy's echo would have logged them all), so log and profiles agree.

and prints, for each, the statements, tied, tied right, tied wrong and untied by reason.

    python bench/bench_sql_tying.py --capture DIR [--only echo]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from profview.analysis.executes import execute_calls  # noqa: E402
from profview.loading.scan import load_capture  # noqa: E402
from profview.importers import pstats_file  # noqa: E402



def _stamp(epoch: float) -> str:
    # logging's asctime: local time, milliseconds truncated
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) + ",%03d" % int(
        (epoch - int(epoch)) * 1000)


def write_echo(rows: list, path: Path) -> dict:
    """The statements as an echo log; returns ``{record line: row index}``."""
    # a multi-line statement adds lines: number the records as the file has them
    text, where, number = [], {}, 1
    for i, row in enumerate(rows):
        record = "%s INFO sqlalchemy.engine.Engine %s" % (_stamp(row["ts_start"]),
                                                          row["statement"])
        where[number] = i
        text.append(record)
        number += record.count("\n") + 1
        text.append("%s INFO sqlalchemy.engine.Engine [generated in %.5fs] %s" % (
            _stamp(row["ts_start"]), row.get("duration_s") or 0.0, row.get("parameters")))
        number += 1
    path.write_text("\n".join(text) + "\n")
    return where


def write_json(rows: list, path: Path, drop=()) -> dict:
    with path.open("w") as fh:
        for row in rows:
            fh.write(json.dumps({k: v for k, v in row.items() if k not in drop}) + "\n")
    return {i + 1: i for i in range(len(rows))}


def measure(directory: Path, where: dict, rows: list) -> dict:
    """Load *directory* and score each statement against the truth."""
    started = time.perf_counter()
    capture = load_capture([directory], workers=1)
    seconds = time.perf_counter() - started
    score = Counter()
    reasons = Counter()
    for q in capture.queries:
        truth = rows[where[q.line]]["profile_file"]
        if q.profile_file is None:
            score["untied"] += 1
            reasons[q.untied] += 1
        else:
            score["right" if os.path.basename(q.profile_file) == truth else "wrong"] += 1
    unknown = sum(1 for r in capture.requests if r.n_queries is None)
    return {"statements": len(capture.queries), "tied": score["right"] + score["wrong"],
            "right": score["right"], "wrong": score["wrong"], "untied": score["untied"],
            "reasons": dict(reasons.most_common()), "unknown_requests": unknown,
            "requests": len(capture.requests), "seconds": seconds}


def set_aside(profiles: Path, rows: list, aside: Path) -> list:
    """Move out the profiles whose execute() count differs from their lines in the log;
    the rows left (their statements go with them: there are none)."""
    aside.mkdir()
    logged = Counter(row["profile_file"] for row in rows)
    for path in sorted(profiles.glob("*.prof")):
        if execute_calls(pstats_file.read(path).stats) != logged[path.name]:
            print("  set aside: %s (profile counts %d, the log has %d)" % (
                path.name, execute_calls(pstats_file.read(path).stats), logged[path.name]))
            path.rename(aside / path.name)
    kept = {p.name for p in profiles.glob("*.prof")}
    return [row for row in rows if row["profile_file"] in kept]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--capture", type=Path, required=True)
    parser.add_argument("--only", choices=("json", "json-path", "echo", "echo-agree"))
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in (args.capture / "queries.jsonl").open()]
    kinds = {"json": ("queries.jsonl", write_json, ()),
             "json-path": ("app-queries.jsonl", write_json, ("profile_file",)),
             "echo": ("app.log", write_echo, ()),
             "echo-agree": ("app.log", write_echo, ())}
    with tempfile.TemporaryDirectory() as tmp:
        profiles = Path(tmp, "profiles")
        if (args.capture / "profiles.tar.xz").exists():
            with tarfile.open(args.capture / "profiles.tar.xz") as tar:
                tar.extractall(tmp, filter="data")
        else:
            shutil.copytree(args.capture / "profiles", profiles)
        print("%d profiles, %d statements (truth: profile_file)"
              % (len(list(profiles.glob("*.prof"))), len(rows)))
        for kind, (name, write, drop) in kinds.items():
            if args.only and kind != args.only:
                continue
            if kind == "echo-agree":
                rows = set_aside(profiles, rows, Path(tmp, "aside"))
            log = profiles / name
            where = write(rows, log, drop) if drop else write(rows, log)
            m = measure(profiles, where, rows)
            log.unlink()
            share = 100.0 * m["right"] / m["tied"] if m["tied"] else float("nan")
            print("%-9s statements %d  tied %d (right %d, wrong %d: %.2f%% right)  untied %d"
                  "  %s  requests with unknown count %d/%d  load %.1f s" % (
                      kind, m["statements"], m["tied"], m["right"], m["wrong"], share,
                      m["untied"], m["reasons"], m["unknown_requests"], m["requests"],
                      m["seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
