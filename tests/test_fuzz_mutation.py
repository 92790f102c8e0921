"""Mutation fuzzing of real files through every importer and the whole load.

Seeds are real files: profiles from the sample captures and two third-party apps, the
capture sidecars, a SQLAlchemy echo log and a Flask-SQLAlchemy recorded-queries dump made by
running the libraries.  Each mutant (bytes flipped, cut, duplicated, or a hostile token
spliced in: 5,000 digits, NaN, 1e400, deep brackets, impossible dates, NUL, bad UTF-8) goes
through its importer, then through ``load_capture`` next to a good profile, the JSON report
and the HTML page.  Nothing may raise: a bad file or line is a problem, the rest loads.

A bounded run is its own stage of ``.ci/run`` (``python -m pytest -m fuzz``, 25 mutants per
seed); ``PROFVIEW_FUZZ_SECONDS=600 python -m pytest -m fuzz -s -o faulthandler_timeout=0``
runs for that long and prints what it tried.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

import pytest

from profview.loading import preflight
from profview.report import build as report
from profview.report.html_report import render_report
from profview.loading.scan import load_capture
from profview.importers import (echo_log, flask_sqlalchemy_log, profiles, pstats_file,
                                sidecar)
from profview.importers.discover import Found

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("PROFVIEW_FUZZ_SECONDS", "0"))
MUTANTS = int(os.environ.get("PROFVIEW_FUZZ_MUTANTS", "25"))   # per seed, when not timed
TOKENS = [b"9" * 5000, b"NaN", b"1e400", b"-1e306", b"-1", b"[" * 3000, b"{" * 3000,
          b"\x00", b"\xff\xfe", b"2026-13-45 99:99:99,999", b"0000-02-30 00:00:00,000",
          b'"', b"\n", b"\r\n", b"null", b"true", b'{"a":', b"\\u0000", b"1e300",
          b"<script>", b"../../x", b"\xc3"]


def _head(path: Path, lines: int) -> bytes:
    return b"".join(path.read_bytes().splitlines(keepends=True)[:lines])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> list:
    """``[(kind, name, bytes)]``: real files, kind naming the importer."""
    from test_sql import _real_echo_log

    out = []
    before = ROOT / "sample_profiles" / "before"
    profiles = [sorted(before.glob("GET.roster*.prof"))[0],
                sorted((ROOT / "tests" / "data" / "smorest").glob("*.prof"))[0],
                sorted((ROOT / "tests" / "data" / "microblog").glob("GET.api*.prof"))[0]]
    out += [("pstats", p.name, p.read_bytes()) for p in profiles]
    out.append(("requests", "requests.jsonl", _head(before / "requests.jsonl", 20)))
    out.append(("queries", "queries.jsonl", _head(before / "queries.jsonl", 30)))
    work = tmp_path_factory.mktemp("seeds")
    _real_echo_log(work / "echo.log")
    out.append(("echo", "sqlalchemy.log", (work / "echo.log").read_bytes()))
    recorded = [json.dumps({"statement": "SELECT * FROM t WHERE id = ?", "parameters": "(%d,)" % i,
                            "duration": 0.0012, "start_time": 10.0 + i, "end_time": 10.001 + i,
                            "location": "app.py:%d (index)" % (30 + i)}) for i in range(6)]
    out.append(("recorded", "recorded.jsonl", ("\n".join(recorded) + "\n").encode()))
    # other profilers' files (py-spy, pyinstrument) and profview's own stacks
    foreign = ROOT / "tests" / "data" / "foreign"
    for path in (foreign / "demo.speedscope.json", sorted(foreign.glob("GET.my_class*"))[0],
                 foreign / "my_class.pyinstrument.json"):
        out.append(("stacks", path.name, path.read_bytes()))
    folded = foreign / "demo.folded"
    out.append(("stacks", folded.name, _head(folded, 40)))
    stacks = sorted((ROOT / "sample_profiles" / "stacks").glob("GET.my_class*.stacks"))[0]
    out.append(("stacks", stacks.name, stacks.read_bytes()))
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One mutant of *data*: 1–3 edits."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(5)
        at = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            for _ in range(rng.randint(1, 8)):
                buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        elif op == 1:
            del buf[at:]
        elif op == 2:
            buf[at:at] = rng.choice(TOKENS)
        elif op == 3 and buf:
            end = min(len(buf), at + rng.randint(1, 64))
            buf[at:at] = buf[at:end]
        else:
            end = min(len(buf), at + rng.randint(1, 16))
            buf[at:end] = rng.choice(TOKENS)
    return bytes(buf)


def _import(kind: str, path: Path) -> None:
    """Run the importer for *kind*; only its documented failures are allowed."""
    if kind == "pstats":
        # marshal itself can die on crafted bytes (see analysis/preflight): profview reads a
        # profile in its own process only after a child interpreter survived it.
        safe, _crashed = preflight.screen([Found(path, path.name)], pstats_file.DEFAULT_MAX_BYTES)
        if safe:
            try:
                pstats_file.read(path)
            except (pstats_file.ProfileError, OSError):
                pass
    elif kind == "stacks":
        try:
            profiles.read(path)
        except (pstats_file.ProfileError, OSError):
            pass
    elif kind == "requests":
        sidecar.load_requests(path)
    elif kind == "queries":
        sidecar.load_queries(path)
    elif kind == "echo":
        echo_log.load(path)
    else:
        flask_sqlalchemy_log.load(path)


def _whole_load(directory: Path, name: str, data: bytes, good: Path) -> None:
    """The mutant beside a good profile: the good one loads, the report and page render."""
    for f in directory.iterdir():
        f.unlink()
    shutil.copy(good, directory / good.name)
    (directory / name).write_bytes(data)
    capture = load_capture([directory], workers=1)
    assert any(r.file.name == good.name for r in capture.requests)
    result = report.build(capture)
    json.dumps(report.json_ready(result), allow_nan=False)
    render_report(result, capture, [str(directory)])


@pytest.mark.fuzz
def test_mutants_of_real_files_never_crash_a_load(seeds, tmp_path):
    rng = random.Random(20261202)
    good = sorted((ROOT / "sample_profiles" / "plain").glob("*.prof"))[0]
    deadline = time.monotonic() + SECONDS if SECONDS else None
    tried, crashes, i = 0, [], 0
    while True:
        kind, name, data = seeds[i % len(seeds)]
        if deadline is None and tried >= MUTANTS * len(seeds):
            break
        if deadline is not None and time.monotonic() > deadline:
            break
        i += 1
        mutant = mutate(data, rng)
        path = tmp_path / "one" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(mutant)
        tried += 1
        for stage, run in (("importer", lambda: _import(kind, path)),
                           ("load", lambda: _whole_load(tmp_path / "cap", name, mutant, good))):
            (tmp_path / "cap").mkdir(exist_ok=True)
            try:
                run()
            except Exception as exc:   # the point of the test: name every one
                crashes.append((kind, stage, type(exc).__name__, str(exc)[:120]))
                (tmp_path / ("crash-%d-%s" % (len(crashes), name))).write_bytes(mutant)
                break
    if SECONDS:
        print("\nfuzz: %d mutants of %d seeds in %.0f s, %d crashes"
              % (tried, len(seeds), SECONDS, len(crashes)))
    assert not crashes, crashes[:10]
