"""Importer for the capture sidecars ``requests.jsonl`` and ``queries.jsonl`` (README: format).

Every line is checked on its own: a broken or wrong-typed line is a problem with its line
number, and the good lines still load.  Unknown fields are ignored, so writers may add more.
"""
from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple, Optional

from ..model.query import Query
from ..model.request import Problem
from .files import LOG_MAX_BYTES, head_objects, line_problems, read_head, read_regular

REQUESTS_FILE, QUERIES_FILE, PLANS_FILE = "requests.jsonl", "queries.jsonl", "plans.jsonl"
NAMES = (REQUESTS_FILE, QUERIES_FILE, PLANS_FILE)
_NUM, _STR, _INT = "number", "string", "integer"
REQUEST_FIELDS = {"id": (_STR, True), "method": (_STR, True), "path": (_STR, True),
                  "query": (_STR, False), "rule": (_STR, False), "endpoint": (_STR, False),
                  "status": (_INT, False), "start": (_NUM, True), "elapsed_ms": (_NUM, True),
                  "profile": (_STR, True), "host": (_STR, False), "pid": (_INT, False),
                  "thread": (_INT, False), "rss_before": (_INT, False),
                  "rss_after": (_INT, False), "mem_peak": (_INT, False),
                  "mem_net": (_INT, False)}
PLAN_FIELDS = {"statement": (_STR, True), "dialect": (_STR, False), "error": (_STR, False),
               "explain": (_STR, False), "parameters": (_STR, False), "request": (_STR, False),
               "duration_ms": (_NUM, False), "reason": (_STR, False)}
QUERY_FIELDS = {"request": (_STR, False), "profile": (_STR, False), "start": (_NUM, False),
                "duration_ms": (_NUM, False), "statement": (_STR, True),
                "parameters": (_STR, False), "location": (_STR, False)}


class RequestRecord(NamedTuple):
    """One line of ``requests.jsonl``, plus the query totals joined to it."""

    id: str
    method: str
    path: str
    query: Optional[str]
    rule: Optional[str]
    endpoint: Optional[str]
    status: Optional[int]
    start: float
    elapsed_ms: float
    profile: str
    n_queries: Optional[int] = None
    sql_ms: Optional[float] = None
    # Where the request's sampled stacks are: a ``stacks_file.block_path`` (or, from
    # captures that wrote a file per request, that file), absolute; None without stacks.
    stacks: Optional[str] = None
    host: Optional[str] = None
    pid: Optional[int] = None
    thread: Optional[int] = None
    rss_before: Optional[int] = None    # bytes: the process's resident set around it
    rss_after: Optional[int] = None
    mem_peak: Optional[int] = None      # with memory=True: tracemalloc's figures
    mem_net: Optional[int] = None
    mem_sites: tuple = ()               # ((where, bytes, count), ...)


def sniff(name: str, head: bytes = b"") -> bool:
    """True for the two sidecar names."""
    return name in NAMES


# fields only profview's queries.jsonl has among the JSON-lines query logs
_OWN_QUERY_FIELDS = ("request", "profile", "start", "duration_ms")


def is_own_queries(head: bytes) -> bool:
    """True when a ``queries.jsonl`` is profview's (its lines have profview's fields), not a
    user's own log that happens to have the name; an unreadable one counts as profview's,
    so that its lines are reported one by one."""
    for obj in head_objects(head):
        return any(f in obj for f in _OWN_QUERY_FIELDS)
    return True


def _type_error(value, kind: str) -> bool:
    if kind == _STR:
        return not isinstance(value, str)
    if isinstance(value, bool):
        return True
    if kind == _INT:
        return not isinstance(value, int)
    return not isinstance(value, (int, float)) or value != value or value in (
        float("inf"), float("-inf"))


# What a real value can be: epoch seconds from 1970 to the year 5138, at most a day of
# request or statement time, an HTTP status.  A 4,000-digit number or 1e300 passes the
# type test and breaks every sum, chart and clock later.
_RANGES = {"start": (0.0, 1e11), "elapsed_ms": (0.0, 8.64e7), "duration_ms": (0.0, 8.64e7),
           "status": (100, 999), "pid": (0, 2 ** 64), "thread": (0, 2 ** 64),
           "rss_before": (0, 2 ** 50), "rss_after": (0, 2 ** 50), "mem_peak": (0, 2 ** 50),
           "mem_net": (-2 ** 50, 2 ** 50)}


def _short_json(value) -> str:
    try:
        return json.dumps(value)[:40]
    except (ValueError, TypeError):   # an int too long to print
        return "<a value too long to show>"


def _check(obj, fields: dict) -> Optional[str]:
    if not isinstance(obj, dict):
        return "expected a JSON object, got %s" % type(obj).__name__
    for field, (kind, required) in fields.items():
        value = obj.get(field)
        if value is None:
            if required:
                return "missing field %r" % field
        elif _type_error(value, kind):
            return "field %r should be a %s, not %s" % (field, kind, _short_json(value))
        elif field in _RANGES and not _RANGES[field][0] <= value <= _RANGES[field][1]:
            return "field %r is %s, outside %g to %g" % (field, _short_json(value),
                                                       *_RANGES[field])
    return None


def read_lines(path: Path, fields: dict) -> tuple:
    """``([(line number, object)], problems)`` for the valid lines of a JSON-lines file."""
    try:
        data = read_regular(path, LOG_MAX_BYTES)
    except OSError as exc:
        return [], [Problem(str(path), "cannot read: %s" % (exc.strerror or exc))]
    good, bad = [], []
    for number, raw in enumerate(data.split(b"\n"), 1):
        raw = raw.strip()
        if not raw:
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
            message = _check(obj, fields)
        except UnicodeDecodeError:
            message = "not UTF-8 text"
        except ValueError as exc:  # json.JSONDecodeError, RecursionError-free input errors
            message = "not JSON (%s)" % str(exc).split(":")[0]
        except RecursionError:
            message = "JSON nested too deeply"
        if message is None:
            good.append((number, obj))
            continue
        bad.append((number, message))
    return good, line_problems(path, bad)


def load_requests(path: Path) -> tuple:
    """``({profile path: RequestRecord}, problems)``; profile paths are absolute."""
    lines, problems = read_lines(path, REQUEST_FIELDS)
    base = os.path.abspath(path.parent)
    records = {}
    for number, obj in lines:
        rec = RequestRecord(**{f: obj.get(f) for f in REQUEST_FIELDS})
        stacks, why = _stacks_of(obj, base)
        if why is not None:
            problems.append(Problem(str(path), "its stacks are not read: " + why, number))
        records[os.path.join(base, rec.profile)] = rec._replace(
            start=float(rec.start), elapsed_ms=float(rec.elapsed_ms), stacks=stacks,
            mem_sites=_sites(obj.get("mem_sites")))
    return records, problems


def _sites(value) -> tuple:
    """``mem_sites`` as ``((where, bytes, count), ...)``: the well-formed entries only."""
    if not isinstance(value, list):
        return ()
    out = []
    for site in value[:20]:
        if isinstance(site, dict) and isinstance(site.get("where"), str) and \
                type(site.get("bytes")) is int and 0 <= site["bytes"] < 2 ** 50:
            count = site.get("count")
            out.append((site["where"][:300], site["bytes"],
                        count if type(count) is int and 0 <= count < 2 ** 50 else None))
    return tuple(out)


def _stacks_of(obj: dict, base: str) -> tuple:
    """``(stacks path or None, problem or None)`` of a request line's ``stacks`` and
    ``stacks_at``: a plain file name in the sidecar's directory (never a path that leads
    elsewhere), and the block's ``[offset, length]``."""
    from .stacks_file import block_path

    name, at = obj.get("stacks"), obj.get("stacks_at")
    if name is None:
        return None, None
    if type(name) is not str or not name or name in (".", "..") or "/" in name \
            or "\\" in name or "\x00" in name:
        return None, "stacks is not a file name of this directory: %r" % (name,)[:80]
    path = os.path.join(base, name)
    if at is None:
        return path, None      # a file of its own (captures before stacks_at)
    if not (type(at) is list and len(at) == 2 and all(type(v) is int and 0 <= v < 2 ** 50
                                                      for v in at) and at[1] > 0):
        return None, "stacks_at is not [offset, length] in bytes: %s" % str(at)[:80]
    return str(block_path(path, at[0], at[1])), None


def load_queries(path: Path) -> tuple:
    """``([Query], problems)``; ``profile_file`` is set where the line names a profile."""
    lines, problems = read_lines(path, QUERY_FIELDS)
    base = os.path.abspath(path.parent)
    queries = [Query(statement=o["statement"], start=o.get("start"),
                     duration_ms=o.get("duration_ms"), parameters=o.get("parameters"),
                     location=o.get("location"), request=o.get("request"),
                     profile=o.get("profile"),
                     profile_file=os.path.join(base, o["profile"]) if o.get("profile") else None,
                     source=str(path), line=number,
                     # the format says: both null means it ran outside any request
                     untied=None if o.get("request") or o.get("profile")
                     else "outside_requests")
               for number, o in lines]
    return queries, problems


def load_plans(path: Path) -> tuple:
    """``([QueryPlan], problems)`` of a ``plans.jsonl`` (the plan itself is any JSON)."""
    from ..model.plan import QueryPlan

    lines, problems = read_lines(path, PLAN_FIELDS)
    plans = [QueryPlan(statement=o["statement"], dialect=o.get("dialect"), plan=o.get("plan"),
                       error=o.get("error"), explain=o.get("explain"),
                       parameters=o.get("parameters"), request=o.get("request"),
                       duration_ms=o.get("duration_ms"), reason=o.get("reason"),
                       source=str(path), line=number)
             for number, o in lines]
    return plans, problems


class Sidecars(NamedTuple):
    """What the sidecars and query logs of a capture say: see ``load_sidecars``."""

    requests: dict       # absolute profile path → RequestRecord
    queries: tuple       # every Query; profile_file set where its request is named
    echo: tuple          # queries from echo logs, to be joined by time once requests are known
    has_queries: bool    # a query log was read (so a request without queries ran none)
    problems: list
    plans: tuple = ()    # QueryPlan: what plans.jsonl holds


def _guarded(path: Path, problems: list, load, empty):
    """``load(path)``, or *empty* and a problem naming the file when it raises anything:
    one log an importer cannot cope with must not lose the rest of the capture."""
    try:
        return load(path)
    except Exception as exc:   # the last line of defence; the importers report bad lines
        problems.append(Problem(str(path), "could not be read: %s: %s" % (
            type(exc).__name__, str(exc)[:200])))
        return empty


def _head(path: Path, problems: list):
    try:
        return read_head(path)   # a FIFO named app.log must not block the load
    except OSError as exc:
        problems.append(Problem(str(path), "cannot read: %s" % (exc.strerror or exc)))
        return None


def _load_log(path: Path, head: bytes):
    """``(queries, problems, is_echo)`` from the importer the registry picks for the log
    (``importers.for_log``), or None for a log of something else."""
    from . import for_log

    imp = for_log(path.name, head)
    if imp is None:
        return None
    found, more = imp.load(path)
    return found, more, imp.kind == "echo"


def load_records(paths) -> tuple:
    """``({profile path: RequestRecord}, problems)`` of the ``requests.jsonl`` among *paths*:
    what reading the profiles needs first (the rest of ``load_sidecars`` can wait)."""
    records: dict = {}
    problems: list = []
    for path in map(Path, paths):
        if path.name == REQUESTS_FILE:
            found, more = _guarded(path, problems, load_requests, ({}, []))
            records.update(found)
            problems.extend(more)
    return records, problems


def load_sidecars(paths, logs=(), records=None) -> Sidecars:
    """Read the sidecars (and query logs, *logs*) and tie each query to its request's profile.

    A query names its request by ``request`` (an id in the ``requests.jsonl`` of the same
    directory) or by ``profile`` (a file name in that directory); either is enough.  A
    ``queries.jsonl`` whose lines do not have profview's fields is read as a user's own
    JSON-lines log (``query_jsonl``).  *records*: ``load_records(paths)`` when already
    read (its problems are the caller's then).
    """
    from . import query_jsonl

    read_records = records is None
    records = {} if read_records else records
    queries: list = []
    echo: list = []
    problems: list = []
    has_queries = False
    plans: list = []
    for path in paths:
        path = Path(path)
        if path.name == PLANS_FILE:
            found, more = _guarded(path, problems, load_plans, ([], []))
            plans.extend(found)
        elif path.name == REQUESTS_FILE:
            if not read_records:
                continue
            found, more = _guarded(path, problems, load_requests, ({}, []))
            records.update(found)
        else:
            head = _head(path, problems)
            if head is None:
                continue
            if not is_own_queries(head) and query_jsonl.sniff(path.name, head):
                found, more = _guarded(path, problems, query_jsonl.load, ([], []))
            else:
                found, more = _guarded(path, problems, load_queries, ([], []))
            queries.extend(found)
            has_queries = True
        problems.extend(more)
    for path in logs:
        path = Path(path)
        head = _head(path, problems)
        loaded = None if head is None else _guarded(
            path, problems, lambda p: _load_log(p, head), None)
        if loaded is None:
            continue   # a log of something else beside the profiles: not ours to judge
        found, more, is_echo = loaded
        (echo if is_echo else queries).extend(found)
        has_queries = True
        problems.extend(more)
    by_id = {(os.path.dirname(p), rec.id): p for p, rec in records.items()}
    joined = []
    for q in queries:
        if q.profile_file is None and q.request is not None:
            directory = os.path.dirname(os.path.abspath(q.source))
            q = replace(q, profile_file=by_id.get((directory, q.request)))
        joined.append(q)
    return Sidecars(records, tuple(joined), tuple(echo), has_queries, problems, tuple(plans))
