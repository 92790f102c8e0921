"""Ask the database for the plans of slow or repeated statements (``explain=True``).

Once per statement shape per process, after the request has been served (the profiler has
stopped, the sampler too: never inside the measured time), on the engine that ran it, with
the parameters it ran with.  Plans only, never ``ANALYZE``: ``EXPLAIN QUERY PLAN`` on
SQLite, ``EXPLAIN (FORMAT JSON)`` on PostgreSQL, ``EXPLAIN FORMAT=JSON`` on MySQL and
MariaDB, none of which runs the statement; and only of ``SELECT`` (or ``WITH … SELECT``)
statements.  A plan that fails is written with its error; nothing here reaches the app.
Plans go to ``plans.jsonl`` beside the profiles (the README's contract).
"""
from __future__ import annotations

import json
import re
import threading
import time

from .sink import log
MAX_SHAPES = 2000          # shapes remembered per process (beyond: no more plans)
EXPLAIN = {"sqlite": "EXPLAIN QUERY PLAN ", "postgresql": "EXPLAIN (FORMAT JSON) ",
           "mysql": "EXPLAIN FORMAT=JSON ", "mariadb": "EXPLAIN FORMAT=JSON "}
_SPACE = re.compile(r"\s+")
_IN_LIST = re.compile(r"\(\s*(?:\?|%s|:\w+|%\(\w+\)s|\$\d+)(?:\s*,\s*(?:\?|%s|:\w+|%\(\w+\)s|\$\d+))+\s*\)")
_READS = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(?:SELECT|WITH)\b", re.I | re.S)
_WRITES = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|ALTER|INTO)\b", re.I)


def shape(statement: str) -> str:
    """A statement's shape, as the capture tells shapes apart: spaces collapsed and IN lists
    of placeholders as one (``IN (?, ?, ?)`` → ``IN (?)``).  Readers key plans by their own
    fingerprint of ``statement``; this only decides what is explained once."""
    return _IN_LIST.sub("(?)", _SPACE.sub(" ", statement).strip())


def reads_only(statement: str) -> bool:
    """True for a SELECT (or WITH … SELECT) that names no write: the only kind explained."""
    return bool(_READS.match(statement)) and not _WRITES.search(statement)


class PlanRecorder:
    """Chooses a request's statements worth a plan and asks for them (see the module)."""

    def __init__(self, write, min_ms: float = 5.0, repeats: int = 5):
        self.write = write                 # (list of records) → None: the sink's append
        self.min_ms = float(min_ms)
        self.repeats = int(repeats)
        self.seen: set = set()
        self.lock = threading.Lock()

    def pick(self, queries: list, raw: list) -> list:
        """``[(index, shape, reason)]`` of the statements to explain: the first of each new
        shape that took *min_ms* or more, or ran *repeats* times or more in the request."""
        counts: dict = {}
        for q in queries:
            counts[shape(q["statement"])] = counts.get(shape(q["statement"]), 0) + 1
        out, taken = [], set()
        for i, q in enumerate(queries):
            if i >= len(raw) or raw[i] is None:
                continue
            key = shape(q["statement"])
            slow = (q.get("duration_ms") or 0.0) >= self.min_ms
            if key in taken or not (slow or counts[key] >= self.repeats):
                continue
            with self.lock:
                if key in self.seen or len(self.seen) >= MAX_SHAPES:
                    continue
                self.seen.add(key)
            if not reads_only(q["statement"]):
                continue
            taken.add(key)
            out.append((i, key, "slow" if slow else "repeated"))
        return out

    def explain(self, request_id: str, queries: list, raw: list) -> None:
        """Explain what ``pick`` chooses and write the plans; never raises."""
        try:
            chosen = self.pick(queries, raw)
        except Exception as err:
            log.warning("profview.capture: no plans for request %s: %r", request_id, err)
            return
        records = [self._one(request_id, queries[i], raw[i], key, reason)
                   for i, key, reason in chosen]
        if records:
            self.write(records)

    def _one(self, request_id, query, raw, key, reason) -> dict:
        engine, parameters = raw
        record = {"shape": key, "statement": query["statement"],
                  "parameters": query.get("parameters"), "request": request_id,
                  "duration_ms": query.get("duration_ms"), "reason": reason,
                  "dialect": None, "explain": None, "plan": None, "error": None,
                  "start": time.time()}
        try:
            dialect = engine.dialect.name
            record["dialect"] = dialect
            prefix = EXPLAIN.get(dialect)
            if prefix is None:
                record["error"] = "no plan for the %s dialect" % dialect
                return record
            record["explain"] = prefix.strip()
            with engine.connect() as conn:
                conn.info["profview_skip"] = True      # not one of the request's queries
                try:
                    rows = conn.exec_driver_sql(prefix + query["statement"],
                                                parameters).fetchall()
                finally:
                    conn.info.pop("profview_skip", None)
                    conn.rollback()
            record["plan"] = _plan(dialect, rows)
        except Exception as err:   # a plan the database refuses is a fact, not a failure
            record["error"] = "%s: %s" % (type(err).__name__, str(err)[:300])
        return record


def _plan(dialect: str, rows):
    """The plan as JSON can carry it: SQLite's rows ``[id, parent, detail]``, PostgreSQL's and
    MySQL's JSON document."""
    if dialect == "sqlite":
        return [[r[0], r[1], str(r[-1])] for r in rows]
    value = rows[0][0] if rows and rows[0] else None
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
