"""Append JSON lines beside the profiles, safely from threads and from pre-forked workers."""
from __future__ import annotations

import json
import logging
import os
import threading

REQUESTS_FILE = "requests.jsonl"
QUERIES_FILE = "queries.jsonl"
PLANS_FILE = "plans.jsonl"
log = logging.getLogger("profview.capture")


def _line(record: dict, ascii: bool) -> str:
    try:
        return json.dumps(record, ensure_ascii=ascii, separators=(",", ":"), default=str)
    except (TypeError, ValueError):   # a circular value in something the app handed over
        return json.dumps({k: str(v) for k, v in record.items()}, ensure_ascii=ascii,
                          separators=(",", ":"))


def _encode(records: list) -> bytes:
    try:
        return "".join(_line(r, False) + "\n" for r in records).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (SQL text built from undecodable bytes): JSON's \u escapes keep it
        # and keep the file valid UTF-8.
        return "".join(_line(r, True) + "\n" for r in records).encode("ascii")


class JsonlSink:
    """Writes ``requests.jsonl`` and ``queries.jsonl`` in *directory*.

    Each request's lines go out in one ``write`` on a file opened with ``O_APPEND``, under a
    lock: threads never interleave, and processes sharing the directory (gunicorn workers)
    append whole lines.  Files are opened per write, so a fork or a rotated file is harmless.
    A failed write (disk full, directory removed) is logged once and never reaches the app;
    ``failures`` counts them.
    """

    def __init__(self, directory: str):
        self.directory = directory
        self.failures = 0
        self._lock = threading.Lock()
        os.makedirs(directory, exist_ok=True)

    def _append(self, name: str, records: list) -> None:
        if not records:
            return
        try:
            data = _encode(records)
            path = os.path.join(self.directory, name)
            with self._lock:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    view = memoryview(data)
                    while view:       # a short write happens only when the disk is full
                        view = view[os.write(fd, view):]
                finally:
                    os.close(fd)
        except Exception as exc:  # the capture must never fail the request it describes
            self.failures += 1
            if self.failures == 1:
                log.warning("profview.capture: cannot write %s in %s: %s", name,
                            self.directory, exc)

    def write_request(self, record: dict, queries: list) -> None:
        """One request and the queries it ran (queries first: a reader tailing
        ``requests.jsonl`` then finds them already there)."""
        self._append(QUERIES_FILE, queries)
        self._append(REQUESTS_FILE, [record])

    def write_plans(self, plans: list) -> None:
        """Query plans asked after a request (``plans``)."""
        self._append(PLANS_FILE, plans)

    def write_queries(self, queries: list) -> None:
        """Queries run outside any request (start-up, background threads)."""
        self._append(QUERIES_FILE, queries)
