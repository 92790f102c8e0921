"""The plan test against a real PostgreSQL: a throwaway cluster started from Debian's
packages (``initdb`` and ``pg_ctl`` of ``postgresql``) on a Unix socket in a temporary
directory, the demo app seeded into it, captured with ``explain=True`` before and after the
fix.  Skipped, with the reason in the test summary, when PostgreSQL cannot be started here."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from profview.analysis import plans
from profview.loading.scan import load_capture
from profview.report.build import build

SAMPLES = Path(__file__).resolve().parent.parent / "sample_profiles"
PORT = 54329


def _bin(name: str):
    found = shutil.which(name)
    if found:
        return found
    hits = sorted(glob.glob("/usr/lib/postgresql/*/bin/%s" % name))
    return hits[-1] if hits else None


def _as_owner(cmd, root: bool):
    # initdb refuses to run as root: Debian's package makes a "postgres" user for it
    return ["runuser", "-u", "postgres", "--"] + cmd if root else cmd


@pytest.fixture(scope="module")
def postgres():
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed: no PostgreSQL driver")
    pytest.importorskip("flask_sqlalchemy")
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql): the "
                    "plan test against PostgreSQL did not run")
    root = os.geteuid() == 0
    # not under pytest's own temporary folder: that one is private to this user, and the
    # server runs as postgres when the tests run as root
    base = Path(tempfile.mkdtemp(prefix="profview-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if root:
        try:
            shutil.chown(base, "postgres")
            shutil.chown(sock, "postgres")
        except (LookupError, PermissionError) as exc:
            pytest.skip("PostgreSQL cannot be started as root without its postgres user: %s"
                        % exc)
    user = "postgres" if root else os.environ.get("USER") or "postgres"
    try:
        made = subprocess.run(_as_owner([initdb, "-D", str(data), "-U", user, "-A", "trust"],
                                        root), capture_output=True, text=True)
    except OSError as exc:      # no runuser, say
        pytest.skip("initdb could not be run: %s" % exc)
    if made.returncode:
        pytest.skip("initdb failed: %s" % (made.stderr or made.stdout)[-300:])
    log = base / "log"
    started = subprocess.run(_as_owner(
        [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-o",
         "-k %s -c listen_addresses='' -p %d" % (sock, PORT), "start"], root),
        capture_output=True, text=True)
    if started.returncode:
        pytest.skip("PostgreSQL did not start: %s" % (started.stderr or started.stdout)[-300:])
    try:
        yield "postgresql+psycopg2://%s@/postgres?host=%s&port=%d" % (user, sock, PORT)
    finally:
        subprocess.run(_as_owner([pg_ctl, "-D", str(data), "-m", "immediate", "stop"], root),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _capture(directory, uri, fixed):
    sys.path[:0] = [str(SAMPLES)]
    try:
        from demo_app import create_app, db
        import make_samples
    finally:
        del sys.path[0]
    from profview.capture import init_app

    app = create_app(fixed=fixed, database_uri=uri)
    init_app(app, directory, explain=True, explain_min_ms=0.0)
    make_samples._send(app, [r for r in make_samples.traffic() if "attendance" in r[1]])
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
    return directory


def _plan(directory):
    lines = [json.loads(x) for x in (directory / "plans.jsonl").read_text().splitlines()]
    return next(p for p in lines
                if "FROM attendance WHERE attendance.student_id" in " ".join(p["statement"].split()))


def test_postgres_plans_show_the_scan_then_the_index(postgres, tmp_path):
    before = _capture(tmp_path / "before", postgres, fixed=False)
    plan = _plan(before)
    assert plan["dialect"] == "postgresql" and plan["explain"] == "EXPLAIN (FORMAT JSON)"
    assert plan["error"] is None
    capture = load_capture([before], workers=1)
    got = plans.plan_for(capture.plans, plan["statement"])
    assert plans.Access("attendance", plans.FULL) in plans.accesses(got)
    slow = [f for f in build(capture)["findings"] if f["rule"] == "slow_query"]
    if slow:   # slow enough on this machine to be a finding: it names the index
        assert slow[0]["copy"].startswith("CREATE INDEX ix_attendance_student_id ON attendance")
    told = plans.advice(got, got.statement)
    assert told.create_index == \
        "CREATE INDEX ix_attendance_student_id ON attendance (student_id);"

    after = _capture(tmp_path / "after", postgres, fixed=True)
    fixed = plans.plan_for(load_capture([after], workers=1).plans, plan["statement"])
    kinds = {(a.table, a.kind) for a in plans.accesses(fixed)}
    assert ("attendance", plans.INDEX) in kinds and ("attendance", plans.FULL) not in kinds
