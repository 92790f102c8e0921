"""profview.capture under load: real servers, a SQL app, every request and statement checked.

    python bench/capture_load.py [--requests 2000] [--concurrency 16]

Serves a small Flask + Flask-SQLAlchemy app (SQLite, two statements a request) with Werkzeug's
threaded server (``make_server(..., threaded=True)`` in a thread of a child process), with
gunicorn's threads and processes (``-w 2 --threads 4``) and with its sync workers (``-w 2``),
on 127.0.0.1 only, and sends it --requests requests, --concurrency at a time, from
``http.client`` in threads.  Each server runs the app bare (the baseline, in the same run) and
under the capture with ``concurrent="skip"``, ``"wait"`` and ``sample=0.1``; then every
request must have been served (no 500) and have one line in requests.jsonl, every statement
must be tied to its own request's line, and every profile a line keeps must be on disk and
load in ``pstats.Stats`` (and hold a call of the view, when its line says it is ``alone``).
Prints requests per second next to the baseline, and what the lines say.
tests/test_capture_load.py runs a small version of the same checks.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ITEMS = 100

APP = '''
import json, logging, os
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

logging.getLogger("werkzeug").setLevel(logging.ERROR)   # no access log: it is not measured
app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ["LOAD_DB"]
db = SQLAlchemy(app)
if os.environ.get("LOAD_CAPTURE"):
    from profview.capture import init_app
    init_app(app, os.environ["LOAD_CAPTURE"], **json.loads(os.environ["LOAD_OPTIONS"]))


@app.get("/item/<int:n>")
def item(n):
    # :tag first, so each statement's parameters start with the request's own number
    name = db.session.execute(text("SELECT name FROM item WHERE :tag >= 0 AND id = :id"),
                              {"tag": n, "id": n %% %(items)d + 1}).scalar_one()
    seen = db.session.execute(text("SELECT count(*) FROM item WHERE id <= :tag %% 100"),
                              {"tag": n}).scalar()
    return "%%s %%d" %% (name, seen)
''' % {"items": ITEMS}

WERKZEUG = '''
import sys, threading
from werkzeug.serving import make_server
from loadapp import app
server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("Listening at: http://127.0.0.1:%d" % server.server_port, file=sys.stderr, flush=True)
sys.stdin.read()          # serve until the parent closes our stdin
server.shutdown()
'''
_GUNICORN = [sys.executable, "-m", "gunicorn", "-b", "127.0.0.1:0", "--graceful-timeout", "10"]
SERVERS = {"werkzeug": [sys.executable, "-c", WERKZEUG],
           "gunicorn": _GUNICORN + ["-w", "2", "--threads", "4", "loadapp:app"],
           "gunicorn-sync": _GUNICORN + ["-w", "2", "loadapp:app"]}
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


def make_site(directory: Path) -> Path:
    """The app module and its SQLite database (made here, so workers only read it)."""
    import sqlite3

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "loadapp.py").write_text(APP)
    db = directory / "load.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT OR REPLACE INTO item VALUES (?, ?)",
                         [(i, "item-%d" % i) for i in range(1, ITEMS + 1)])
    return db


@contextmanager
def serving(kind: str, site: Path, capture=None, options=None, root: Path = ROOT):
    """Run server *kind* on the app in *site* (captured into *capture* with *options*, or bare,
    by the profview of checkout *root*); yields its port; stops it on leaving."""
    env = dict(os.environ, LOAD_DB=str(site / "load.db"), LOAD_CAPTURE=str(capture or ""),
               LOAD_OPTIONS=json.dumps(options or {}),
               PYTHONPATH=os.pathsep.join([str(site), str(root)]))
    log = site / ("%s.log" % kind)
    with open(log, "w") as err:   # a file, not a pipe: a full pipe would stall the server
        child = subprocess.Popen(SERVERS[kind], cwd=site, env=env, stdin=subprocess.PIPE,
                                 stderr=err)
    try:
        yield _port(child, log)
    finally:
        if kind != "werkzeug":
            child.send_signal(signal.SIGTERM)
        child.stdin.close()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:     # never leave a server behind
            child.kill()
            child.wait()
            raise


def _port(child, log: Path) -> int:
    """The port the server chose (it binds port 0), from its log."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        match = _LISTENING.search(log.read_text())
        if match:
            return int(match.group(1))
        time.sleep(0.05)
    raise RuntimeError("the server did not start:\n%s" % log.read_text())


def drive(port: int, n: int, concurrency: int) -> tuple:
    """Send ``GET /item/0`` … ``/item/{n-1}``, *concurrency* at a time; ``(statuses, seconds)``
    with statuses in request order (an exception's name where no answer came)."""
    def one(i: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request("GET", "/item/%d" % i)
            response = conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as exc:
            return type(exc).__name__
        finally:
            conn.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(one, range(n)))
    return statuses, time.perf_counter() - start


def _jsonl(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def check(capture: Path, n: int, statuses: list) -> tuple:
    """``(problems, summary)`` of a capture of ``drive(…, n, …)``; no problems is a pass."""
    problems = ["request %d answered %r" % (i, s) for i, s in enumerate(statuses) if s != 200]
    lines, queries = _jsonl(capture / "requests.jsonl"), _jsonl(capture / "queries.jsonl")
    by_id = {r["id"]: r for r in lines}
    paths = sorted(r["path"] for r in lines)
    if len(by_id) != len(lines) or paths != sorted("/item/%d" % i for i in range(n)):
        problems.append("%d request lines (%d ids) for %d requests" % (len(lines), len(by_id), n))
    per_request: dict = {}
    for q in queries:
        owner = by_id.get(q["request"])
        tag = owner and "(%s," % owner["path"].rsplit("/", 1)[1]
        if owner is None or not (q["parameters"] or "").startswith(tag):
            problems.append("statement not tied to its request: %r" % (q,))
            continue
        per_request[q["request"]] = per_request.get(q["request"], 0) + 1
        if q["profile"] != (owner["profile"] if owner["kept"] else None):
            problems.append("statement names profile %r, its request %r" % (
                q["profile"], owner["profile"]))
    problems += ["request %s ran %d statements, not 2" % (i, per_request.get(i, 0))
                 for i in by_id if per_request.get(i, 0) != 2]
    on_disk = {p.name for p in capture.glob("*.prof")}
    removed = {name for r in lines for name in r["removed"]}
    kept = {r["profile"] for r in lines if r["kept"]}
    if on_disk != kept - removed:
        problems.append("%d profiles on disk, %d kept by the lines" % (len(on_disk), len(kept)))
    alone = {r["profile"] for r in lines if r["alone"]}
    viewless = 0
    for name in sorted(on_disk):
        try:
            stats = pstats.Stats(str(capture / name))
        except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
            problems.append("%s does not load: %r" % (name, exc))
            continue
        if not any(func[2] == "item" for func in stats.stats):
            viewless += 1      # a profile that is not its request's alone may lose calls
            if name in alone:
                problems.append("%s says it is alone, and has no call of the view" % name)
    summary = {"lines": len(lines), "statements": len(queries), "profiles": len(on_disk),
               "unprofiled": sum(not r["profiled"] for r in lines),
               "alone": len(alone), "overlapped": sum((r["overlap"] or 0) > 0 for r in lines),
               "no view": viewless, "pids": len({r["pid"] for r in lines})}
    return problems, summary


def run(kind: str, work: Path, label: str, options, n: int, concurrency: int,
        warm: int = 0, root: Path = ROOT) -> tuple:
    """One server run; options None is the bare app.  ``(req/s, problems, summary)``.

    *warm* requests go first, neither measured nor checked (their lines are removed).  With
    another checkout's *root* (an older capture) only the answers and files are counted."""
    site = work / "site"
    capture = None if options is None else work / label
    if capture is not None and capture.exists():
        shutil.rmtree(capture)               # a repeated run starts from an empty capture
    with serving(kind, site, capture, options, root) as port:
        if warm:
            drive(port, warm, concurrency)
            for f in capture.iterdir() if capture is not None else ():
                f.unlink()
        statuses, seconds = drive(port, n, concurrency)
    bad = ["request %d answered %r" % (i, s) for i, s in enumerate(statuses) if s != 200]
    if capture is None:
        return n / seconds, bad, {}
    if root != ROOT:
        return n / seconds, bad, {"not 200": len(bad),
                                  "lines": len(_jsonl(capture / "requests.jsonl")),
                                  "profiles": len(list(capture.glob("*.prof")))}
    problems, summary = check(capture, n, statuses)
    return n / seconds, problems, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=list(SERVERS))
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each configuration, the best rate kept (a busy machine)")
    parser.add_argument("--before", type=Path, metavar="CHECKOUT",
                        help="also run the capture of another checkout (default options)")
    args = parser.parse_args()
    runs = [("bare", None, ROOT), ("skip", {"concurrent": "skip"}, ROOT),
            ("wait", {"concurrent": "wait"}, ROOT), ("sample0.1", {"sample": 0.1}, ROOT)]
    if args.before:
        runs.insert(1, ("before", {}, args.before.resolve()))
    print("Python %s, %d requests, %d at a time, best of %d" % (
        sys.version.split()[0], args.requests, args.concurrency, args.repeat))
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        make_site(Path(tmp) / "site")
        for kind in args.servers:
            base = None
            for label, options, root in runs:
                rates = []
                for _ in range(args.repeat):
                    rate, problems, summary = run(kind, Path(tmp), "%s-%s" % (kind, label),
                                                  options, args.requests, args.concurrency,
                                                  warm=min(args.requests, 100), root=root)
                    rates.append(rate)
                    if problems:
                        break
                rate = max(rates)
                base = base or rate
                print("%-13s %-10s %7.0f req/s (%3.0f%% of bare)  %s" % (
                    kind, label, rate, 100 * rate / base, json.dumps(summary)), flush=True)
                if root == ROOT:
                    for p in problems[:10]:
                        print("    PROBLEM", p)
                    failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
