"""Importer for a user's own JSON-lines query log: one statement per line, written by a
``before_cursor_execute``/``after_cursor_execute`` listener, with its own field names.

The obvious names are recognised (``FIELDS``): the statement (``statement``, ``sql``,
``query``), its parameters, its start (epoch seconds or ISO-8601), its duration in the unit
its name says, and whatever names its request: the profile file, a request id, or method and
path.  ``analysis.tying`` ties the lines to requests.  A line that is not a JSON object with a
statement is skipped, a field with a value of the wrong kind (a string for a time, NaN, a
number out of range) is ignored; both are counted in one problem per log, and the rest loads.
"""
from __future__ import annotations

import json
import math
import os
from collections import Counter
from datetime import datetime
from pathlib import Path

from ..model.query import Query
from ..model.request import Problem
from .files import LOG_MAX_BYTES, head_objects, read_regular

MAX_LINE = 200_000
LISTED_LINES = 5          # line numbers named in the summary problem
FIELDS = {
    "statement": ("statement", "sql", "query", "stmt", "sql_text"),
    "parameters": ("parameters", "params", "args", "bind_params"),
    "profile": ("profile_file", "profile", "prof", "profile_name", "profile_path", "file"),
    "request": ("request_id", "request", "req_id", "rid"),
    "method": ("method", "request_method", "http_method"),
    "path": ("path", "request_path", "url", "request_url", "url_path"),
    "start": ("ts_start", "start", "started_at", "start_time", "timestamp", "ts", "time"),
    "location": ("location", "caller", "origin"),
}
# duration field → factor to milliseconds
DURATIONS = {"duration_ms": 1.0, "elapsed_ms": 1.0, "time_ms": 1.0, "ms": 1.0,
             "duration_s": 1e3, "duration": 1e3, "elapsed": 1e3, "elapsed_s": 1e3,
             "seconds": 1e3, "duration_us": 1e-3, "elapsed_us": 1e-3, "us": 1e-3,
             "duration_ns": 1e-6}
EPOCH_RANGE = (1e8, 1e10)     # 1973 to 2286: anything else is not a clock (perf_counter…)
MAX_DURATION_MS = 86_400_000.0
# Flask-SQLAlchemy's get_recorded_queries() dumps have only these: that importer reads them
_FLASK_SQLALCHEMY = {"statement", "parameters", "duration", "start_time", "end_time",
                     "location", "request", "profile", "context"}


class BadField(ValueError):
    """A field's value is not what its name says."""


def _first(obj: dict, names):
    for name in names:
        if name in obj and obj[name] is not None:
            return name, obj[name]
    return None, None


def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadField("%r is not a number" % field)
    try:
        value = float(value)
    except OverflowError:
        raise BadField("%r is out of range" % field) from None
    if not math.isfinite(value):
        raise BadField("%r is not finite" % field)
    return value


def _epoch(value, field: str) -> float:
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadField("%r is not epoch seconds or ISO-8601" % field) from None
        return stamp.timestamp()         # naive stamps are local time, as logging writes
    seconds = _number(value, field)
    if not EPOCH_RANGE[0] <= seconds < EPOCH_RANGE[1]:
        raise BadField("%r is not a clock time in epoch seconds" % field)
    return seconds


def _duration_ms(obj: dict):
    for name, factor in DURATIONS.items():
        if obj.get(name) is not None:
            ms = _number(obj[name], name) * factor
            if not 0.0 <= ms <= MAX_DURATION_MS:
                raise BadField("%r is out of range" % name)
            return ms
    return None


def _text(value, field: str, literal: bool = False) -> str:
    if isinstance(value, str):
        return value
    if literal and isinstance(value, (list, tuple, dict, int, float)):
        return repr(value)[:2000]        # a Python literal: "Copy as SQL" can read it back
    raise BadField("%r is not a string" % field)


def _keys(head: bytes) -> set:
    keys: set = set()
    for obj in head_objects(head):
        keys |= set(obj)
    return keys


def sniff(name: str, head: bytes = b"") -> bool:
    """JSON-object lines with a statement field and something to tie or time it by
    (Flask-SQLAlchemy's own dumps are left to ``flask_sqlalchemy_log``)."""
    keys = _keys(head[:65536])
    if not keys & set(FIELDS["statement"]):
        return False
    useful = set(DURATIONS) | {k for f in ("profile", "request", "method", "path", "start")
                               for k in FIELDS[f]}
    return bool(keys & useful - _FLASK_SQLALCHEMY)


def _query(obj: dict, path: Path, number: int, base: str, bad: Counter) -> Query:
    """The line's Query; fields with bad values are left out and counted in *bad*."""
    values = {}
    for field in ("parameters", "profile", "request", "method", "path", "start", "location"):
        name, value = _first(obj, FIELDS[field])
        if name is None:
            continue
        try:
            if field == "start":
                values[field] = _epoch(value, name)
            else:
                values[field] = _text(value, name, literal=field in ("parameters", "request"))
        except BadField as exc:
            bad[str(exc)] += 1
    try:
        duration = _duration_ms(obj)
    except BadField as exc:
        bad[str(exc)] += 1
        duration = None
    profile = values.get("profile")
    return Query(obj["statement"], values.get("start"), duration,
                 parameters=values.get("parameters"), location=values.get("location"),
                 request=values.get("request"), profile=profile,
                 profile_file=os.path.join(base, profile) if profile else None,
                 source=str(path), line=number, method=values.get("method"),
                 url_path=values.get("path"))


def _line(raw: bytes):
    """The JSON object of a line, or the reason it is skipped."""
    if len(raw) > MAX_LINE:
        return "line over %d characters" % MAX_LINE
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(obj, dict):
        return "not a JSON object"
    name, value = _first(obj, FIELDS["statement"])
    if not isinstance(value, str) or not value.strip():
        return "no statement string"
    obj["statement"] = value
    return obj


def _summary(path: Path, skipped: Counter, lines: list, bad: Counter) -> list:
    """At most one problem for the whole log: lines skipped, and fields ignored."""
    parts = []
    if skipped:
        where = ", ".join(str(n) for n in lines[:LISTED_LINES])
        parts.append("%d lines skipped (%s; line%s %s%s)" % (
            sum(skipped.values()), ", ".join("%d %s" % (n, why) for why, n in
                                             skipped.most_common()),
            "s" if len(lines) > 1 else "", where, "…" if len(lines) > LISTED_LINES else ""))
    if bad:
        parts.append("fields ignored: %s" % ", ".join(
            "%d line%s where %s" % (n, "s" if n > 1 else "", why) for why, n in
            bad.most_common()))
    return [Problem(str(path), "; ".join(parts), lines[0] if lines else None)] if parts else []


def load(path: Path) -> tuple:
    """``(queries, problems)``: one Query per good line; bad lines and bad fields summed up
    in one problem."""
    try:
        data = read_regular(path, LOG_MAX_BYTES)
    except OSError as exc:
        return [], [Problem(str(path), "cannot read: %s" % (exc.strerror or exc))]
    base = os.path.abspath(path.parent)
    queries, skipped, lines, bad = [], Counter(), [], Counter()
    for number, raw in enumerate(data.split(b"\n"), 1):
        raw = raw.strip()
        if not raw:
            continue
        obj = _line(raw)
        if isinstance(obj, str):
            skipped[obj] += 1
            lines.append(number)
            continue
        queries.append(_query(obj, path, number, base, bad))
    return queries, _summary(path, skipped, lines, bad)
