"""Helpers for the capture tests (no tests here): a real server on 127.0.0.1, a raw client.

The capture tests need only the standard library, Werkzeug, Flask and SQLAlchemy (and
gunicorn for the load test), so that they run on Python 3.12 and 3.13 without the rest of
profview's dependencies.
"""
from __future__ import annotations

import pytest

import http.client
import json
import socket
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

# The capture helper on real servers: its own stage of .ci/run, on Python 3.11, 3.12 and
# 3.13 (python -m pytest -m capture), not part of the README's test command.
pytestmark = pytest.mark.capture

ROOT = Path(__file__).resolve().parent.parent


def lines(path: Path) -> list:
    """The JSON objects of a JSON-lines file (each line must parse)."""
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@contextmanager
def serving(app):
    """Werkzeug's threaded development server on *app*, in a thread; yields the port."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # no access log in the output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


def get(port: int, path: str, method: str = "GET") -> tuple:
    """``(status, body)`` of one request over a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def raw(port: int, data: bytes) -> bytes:
    """Send *data* as it is (a request line no client library would send); the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def bench_module(name: str):
    """Import bench/<name>.py (the load harness is shared with the long benchmark)."""
    bench = str(ROOT / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    return __import__(name)
