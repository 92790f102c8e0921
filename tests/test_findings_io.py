"""Blocking I/O, connection pool waits and password hashing, on profiles of real Flask apps."""
from __future__ import annotations

import socket
import subprocess
import threading
import time

from flask import Flask

from findings_data import by_endpoint, crunch, findings, run_app
from profiles import CLOCK

# What each wait costs on the virtual clock, per call (see profiles.charge): the apps really
# sleep, read a socket and wait for a child, but only for a moment of wall-clock time.
WAITS = {"time.sleep": 20.0, "'recv' of '_socket.socket'": 20.0, "posix.waitpid": 20.0}


def _blocking_app():
    app = Flask(__name__)

    @app.get("/sleep")
    def sleepy():
        time.sleep(0.001)
        return "ok"

    @app.get("/socket")
    def from_socket():
        a, b = socket.socketpair()
        with a, b:
            threading.Timer(0.001, b.sendall, (b"reply",)).start()
            return a.recv(16)

    @app.get("/child")
    def child():
        subprocess.run(["true"], check=True)
        return "ok"

    @app.get("/compute")
    def compute():
        return str(crunch())
    return app


def test_blocking_io_names_sleep_sockets_and_subprocesses(tmp_path):
    capture = run_app(tmp_path, _blocking_app(), ["/sleep", "/socket", "/child", "/compute"] * 2,
                      charges=WAITS)
    found = by_endpoint(findings(capture, "blocking_io"))
    assert set(found) == {"GET /sleep", "GET /socket", "GET /child"}   # not /compute
    assert "sleep" in found["GET /sleep"].summary
    assert "network" in found["GET /socket"].summary
    assert any("recv" in e.text for e in found["GET /socket"].evidence)
    assert "subprocess" in found["GET /child"].summary
    child_funcs = [e.func for e in found["GET /child"].evidence if e.func]
    assert any(k[2] == "run" and k[0].endswith("subprocess.py") for k in child_funcs)
    for f in found.values():
        assert "Celery" in f.fix and f.cost_ms >= 15


def test_no_blocking_io_in_cpu_work(tmp_path):
    capture = run_app(tmp_path, _blocking_app(), ["/compute"] * 3, charges=WAITS)
    assert findings(capture, "blocking_io") == []


def _pool_app(tmp_path, held: bool):
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import QueuePool

    engine = create_engine("sqlite:///%s" % (tmp_path / "db.sqlite"), poolclass=QueuePool,
                           pool_size=1, max_overflow=0, pool_timeout=5)
    app = Flask(__name__)

    def hold(taken):
        with engine.connect():
            taken.set()
            # The request thread now queues for the connection: once it waits in the pool's
            # queue, 50 ms pass (virtual clock) before this thread gives the connection back.
            waiting = engine.pool._pool.not_empty._waiters
            for _ in range(5000):
                if waiting:
                    break
                time.sleep(0.001)
            CLOCK.ns += 50_000_000

    @app.get("/items")
    def items():
        if held:  # another worker thread has the only connection for a while
            taken = threading.Event()
            holder = threading.Thread(target=hold, args=(taken,))
            holder.start()
            taken.wait()
        with engine.connect() as conn:
            value = conn.execute(text("select 1")).scalar()
        if held:
            holder.join()
        return str(value)
    return app


def test_pool_wait_when_the_only_connection_is_taken(tmp_path):
    capture = run_app(tmp_path / "p", _pool_app(tmp_path, held=True), ["/items"] * 2)
    found = findings(capture, "pool_wait")
    assert [f.title for f in found] == ["Connection pool waits in GET /items"]
    assert found[0].evidence[0].func[0].endswith("sqlalchemy/util/queue.py")
    assert found[0].cost_ms >= 30


def test_no_pool_wait_with_a_free_connection(tmp_path):
    capture = run_app(tmp_path / "p", _pool_app(tmp_path, held=False), ["/items"] * 3)
    assert findings(capture, "pool_wait") == []


def _login_app():
    from werkzeug.security import check_password_hash, generate_password_hash

    app = Flask(__name__)
    stored = generate_password_hash("secret", method="scrypt:4096:8:1")

    @app.post("/login")
    def login():
        return "yes" if check_password_hash(stored, "secret") else "no"

    @app.post("/token")
    def token():
        return "yes" if "secret" == "secret" else "no"
    return app


SCRYPT = {"scrypt": 30.0}   # the key derivation's cost, per call (virtual clock)


def test_password_hashing_is_info(tmp_path):
    capture = run_app(tmp_path, _login_app(), [("POST", "/login")] * 2 + [("POST", "/token")],
                      charges=SCRYPT)
    found = findings(capture, "password_hashing")
    assert [f.endpoints for f in found] == [("POST /login",)]
    f = found[0]
    assert f.severity == "info" and "scrypt" in f.evidence[0].text
    assert "Nothing to fix" in f.fix


def test_no_password_hashing_without_a_kdf(tmp_path):
    capture = run_app(tmp_path, _login_app(), [("POST", "/token")] * 3, charges=SCRYPT)
    assert findings(capture, "password_hashing") == []
