"""Regenerate ``sample_profiles/``: real captures of ``demo_app.py``.

    python sample_profiles/make_samples.py

- ``before/``: the app as first written, captured with ``profview.capture`` (profiles with
  request ids, ``requests.jsonl``, ``queries.jsonl``);
- ``after/``: the same scripted traffic against the fixed app (eager loading, an index);
- ``plain/``: Werkzeug's ``ProfilerMiddleware`` alone, default file names, no sidecars;
- ``stacks/``: the first app with sampled call stacks too (``stacks=True``), captured when
  the capture wrote a ``.stacks`` file beside each profile (still read: kept as such);
- ``stacks-only/``: the same requests with stacks and no cProfile (``profile=False``): one
  stacks file for the process, each request's block named by its line in requests.jsonl;
- ``memory/``: requests to the leaking ``/report`` among others, with tracemalloc's figures
  (``memory=True``, no cProfile).  ``before/`` and ``after/`` carry query plans
  (``explain=True``) and every capture the resident memory around each request.

``python sample_profiles/make_samples.py stacks`` makes only the named ones.

Requests go through the app's whole WSGI stack (Flask's test client).  The profiles name source
files by absolute path; so that the committed samples read the same whoever made them, this
machine's directories are rewritten to neutral ones (``/srv/school`` for the app, a virtualenv
under it for packages, ``/usr/lib/pythonX.Y`` for the standard library).  Nothing else changes.
"""
from __future__ import annotations

import json
import marshal
import random
import shutil
import site
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
from werkzeug.middleware.profiler import ProfilerMiddleware  # noqa: E402

from demo_app import N_CLASSES, N_STUDENTS, create_app  # noqa: E402
from profview.capture import init_app  # noqa: E402


def traffic(seed: int = 2020) -> list:
    """The scripted traffic: ``[(method, url, form)]``, the same for every capture."""
    rng = random.Random(seed)
    plan = []
    for _ in range(5):
        plan += [("GET", "/roster?class_id=%d" % rng.randint(1, N_CLASSES), None),
                 ("GET", "/attendance/%d" % rng.randint(1, N_STUDENTS), None),
                 ("GET", "/my_class?student_id=%d" % rng.randint(1, N_STUDENTS), None),
                 ("GET", "/student/%d" % rng.randint(1, N_STUDENTS), None),
                 ("GET", "/health", None)]
    plan += [("GET", "/stats", None)] * 2
    plan += [("POST", "/enroll", {"student_id": rng.randint(1, N_STUDENTS),
                                  "class_id": rng.randint(1, N_CLASSES)}) for _ in range(2)]
    rng.shuffle(plan)
    return plan


def _send(app, plan, pause: float = 0.0) -> None:
    """Send the requests; *pause* (up to that many seconds, seeded) spaces them in time
    the way real traffic is, so the timeline has something to show."""
    client = app.test_client()
    rng = random.Random(11)
    for method, url, form in plan:
        response = client.open(url, method=method, data=form)
        assert response.status_code < 400, (url, response.status_code)
        if pause:
            time.sleep(rng.uniform(0, pause))


def capture(out: Path, fixed: bool) -> None:
    """The scripted traffic, with query plans asked for (``explain=True``: every new shape,
    so that the fixed app's plans show its index too)."""
    app = create_app(fixed=fixed)
    init_app(app, out, explain=True, explain_min_ms=0.0)
    _send(app, traffic(), pause=0.5)


def memory_traffic(seed: int = 7) -> list:
    """Requests to every endpoint, with /report among them (the leak) one in four."""
    rng = random.Random(seed)
    plan = []
    for _ in range(10):
        plan += [("GET", "/report/%d" % rng.randint(1, N_CLASSES), None),
                 ("GET", "/student/%d" % rng.randint(1, N_STUDENTS), None),
                 ("GET", "/my_class?student_id=%d" % rng.randint(1, N_STUDENTS), None),
                 ("GET", "/health", None)]
    return plan


def capture_memory(out: Path) -> None:
    """The leaking endpoint among others, with tracemalloc's figures (``memory=True``)."""
    app = create_app(fixed=False)
    init_app(app, out, memory=True)
    _send(app, memory_traffic())


def capture_stacks(out: Path) -> None:
    """The first requests of the traffic, with stacks sampled every millisecond."""
    app = create_app(fixed=False)
    init_app(app, out, stacks=True, stack_interval_ms=1.0)
    _send(app, traffic()[:24], pause=0.2)


def capture_stacks_only(out: Path) -> None:
    """The same requests with stacks and no cProfile (``profile=False``): what stacks cost
    least with; the viewer reads each request's stacks as its profile."""
    app = create_app(fixed=False)
    init_app(app, out, stacks=True, stack_interval_ms=1.0, profile=False)
    _send(app, traffic()[:24], pause=0.2)


def capture_plain(out: Path) -> None:
    """Default Werkzeug names round the end time to whole seconds: each round of distinct
    paths starts just after a half second, so it owns one rounded second (no overwrites)."""
    out.mkdir(parents=True)
    app = create_app()
    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, stream=None, profile_dir=str(out))
    rounds: list = [[]]
    for req in [r for r in traffic() if r[0] == "GET"][:12]:
        if len(rounds[-1]) == 6 or any(req[1] == r[1] for r in rounds[-1]):
            rounds.append([])
        rounds[-1].append(req)
    for group in rounds:
        time.sleep(1.55 - (time.time() + 0.5) % 1.0 - 0.5)
        _send(app, group)


def _neutral_prefixes() -> list:
    version = "python%d.%d" % sys.version_info[:2]
    pairs = [(p, "/srv/school/.venv/lib/%s/site-packages" % version)
             for p in site.getsitepackages() + [site.getusersitepackages()]]
    pairs += [(sysconfig.get_paths()[k], "/usr/lib/" + version) for k in ("stdlib", "platstdlib")]
    pairs += [(str(HERE), "/srv/school"), (str(HERE.parent / "profview"),
                                          "/srv/school/.venv/lib/%s/site-packages/profview"
                                          % version)]
    return sorted(pairs, key=lambda kv: -len(kv[0]))


def _rename(text: str, prefixes: list) -> str:
    for old, new in prefixes:
        if text.startswith(old):
            return new + text[len(old):]
    return text


def neutralise(directory: Path) -> None:
    """Rewrite this machine's directories in the profiles and the query locations."""
    prefixes = _neutral_prefixes()

    def key(k):
        return (_rename(k[0], prefixes),) + k[1:]

    for path in directory.glob("*.prof"):
        stats = marshal.loads(path.read_bytes())
        path.write_bytes(marshal.dumps({
            key(k): (cc, nc, tt, ct, {key(c): v for c, v in callers.items()})
            for k, (cc, nc, tt, ct, callers) in stats.items()}))
    moved = {}      # (stacks file, old offset) → [new offset, new length]
    for path in directory.glob("*.stacks"):
        out, offset, new = [], 0, 0
        for raw in path.read_bytes().splitlines(keepends=True):
            line = json.loads(raw)
            if "stacks" in line:                  # a request's block starts
                start_old, start_new = offset, new
            if "frame" in line:
                line["frame"][1] = _rename(line["frame"][1], prefixes)
            text = (json.dumps(line, separators=(",", ":")) + "\n").encode("utf-8")
            out.append(text)
            offset, new = offset + len(raw), new + len(text)
            if "end" in line:                     # and ends: where it is now
                moved[(path.name, start_old)] = [start_new, new - start_new]
        path.write_bytes(b"".join(out))
    requests = directory / "requests.jsonl"
    if moved and requests.exists():               # the blocks' offsets changed with them
        lines = [json.loads(line) for line in requests.read_text().splitlines()]
        for r in lines:
            if r.get("stacks_at"):
                r["stacks_at"] = moved[(r["stacks"], r["stacks_at"][0])]
        requests.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n"
                                    for r in lines))
    requests_file = directory / "requests.jsonl"
    if requests_file.exists():       # tracemalloc's allocation sites name files too
        lines = [json.loads(line) for line in requests_file.read_text().splitlines()]
        for r in lines:
            for site in r.get("mem_sites") or ():
                site["where"] = _rename(site["where"], prefixes)
            if r.get("host"):
                r["host"] = "school-demo"      # not the name of the machine that made them
        requests_file.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n"
                                         for r in lines))
    queries = directory / "queries.jsonl"
    if queries.exists():
        lines = [json.loads(line) for line in queries.read_text().splitlines()]
        for q in lines:
            if q.get("location"):
                q["location"] = _rename(q["location"], prefixes)
        queries.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in lines))


MAKERS = {"before": lambda out: capture(out, fixed=False),
          "after": lambda out: capture(out, fixed=True),
          "plain": capture_plain, "stacks": capture_stacks,
          "stacks-only": capture_stacks_only, "memory": capture_memory}


def main() -> int:
    names = sys.argv[1:] or list(MAKERS)
    for name in names:
        shutil.rmtree(HERE / name, ignore_errors=True)
        MAKERS[name](HERE / name)
    for name in names:
        neutralise(HERE / name)
        files = list((HERE / name).glob("*.prof"))
        size = sum(p.stat().st_size for p in (HERE / name).iterdir()) / 1e6
        print("%-7s %3d profiles, %.1f MB" % (name, len(files), size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
