"""Append JSON lines beside the profiles, safely from threads and from pre-forked workers."""
from __future__ import annotations

import json
import os
import threading

REQUESTS_FILE = "requests.jsonl"
QUERIES_FILE = "queries.jsonl"


class JsonlSink:
    """Writes ``requests.jsonl`` and ``queries.jsonl`` in *directory*.

    Each request's lines go out in one ``write`` on a file opened with ``O_APPEND``, under a
    lock: threads never interleave, and processes sharing the directory (gunicorn workers)
    append whole lines.  Files are opened per write, so a fork or a rotated file is harmless.
    """

    def __init__(self, directory: str):
        self.directory = directory
        self._lock = threading.Lock()
        os.makedirs(directory, exist_ok=True)

    def _append(self, name: str, records: list) -> None:
        if not records:
            return
        data = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"),
                                  default=str) + "\n" for r in records).encode("utf-8")
        path = os.path.join(self.directory, name)
        with self._lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)

    def write_request(self, record: dict, queries: list) -> None:
        """One request and the queries it ran (queries first: a reader tailing
        ``requests.jsonl`` then finds them already there)."""
        self._append(QUERIES_FILE, queries)
        self._append(REQUESTS_FILE, [record])

    def write_queries(self, queries: list) -> None:
        """Queries run outside any request (start-up, background threads)."""
        self._append(QUERIES_FILE, queries)
