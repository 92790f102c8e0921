"""Importer for Flask-SQLAlchemy's recorded queries (``get_recorded_queries()``, formerly
``get_debug_queries()``), as people dump them:

- JSON lines, one query per line: ``statement``, ``parameters``, ``duration`` (seconds),
  ``start_time``/``end_time`` (``time.perf_counter()`` values, not clock time), ``location``;
  a ``request`` (profview request id) or ``profile`` (file name) ties it to its request;
- printed as in the classic article, ``print(q.statement, q.parameters, q.duration,
  q.location)``: the statement's lines, the last one ending in parameters, duration and
  ``file:line (function)``.

Their times cannot be put on the clock, so they join by request when the dump names it, else
only to the endpoint whose view function the location names.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..model.query import Query
from ..model.request import Problem
from .echo_log import MAX_LINE
from .files import LOG_MAX_BYTES, line_problems, read_regular

MAX_SECONDS = 86400.0   # a statement longer than a day is a crafted or broken value

_TAIL = re.compile(r"^(?P<head>.*?)\s*(?P<params>\{.*\}|\(.*\)|\[.*\])\s+"
                   r"(?P<duration>\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s+"
                   r"(?P<location>\S+:\d+ \((?P<func>[^)]*)\))\s*$")
_LOCATION_FUNC = re.compile(r"\(([^)]*)\)\s*$")


def sniff(name: str, head: bytes = b"") -> bool:
    """JSON lines with ``statement`` and ``duration`` (not profview's ``duration_ms``), or
    printed records ending in ``file:line (function)``."""
    text = head[:65536].decode("utf-8", "replace")
    if '"statement"' in text and '"duration"' in text:
        return True
    return any(_TAIL.match(line) for line in text.splitlines()[:200])


def _view(location):
    match = _LOCATION_FUNC.search(location or "")
    return match.group(1) if match else None


def load(path: Path) -> tuple:
    """``(queries, problems)``."""
    try:
        text = read_regular(path, LOG_MAX_BYTES).decode("utf-8", "replace")
    except OSError as exc:
        return [], [Problem(str(path), "cannot read: %s" % (exc.strerror or exc))]
    base = os.path.abspath(path.parent)
    queries, bad, pending = [], [], []
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        if len(line) > MAX_LINE or "\ufffd" in line or "\x00" in line:
            bad.append((number, "unreadable line skipped"))
            continue
        if line.lstrip().startswith("{"):
            query = _from_json(line, path, number, base)
            if isinstance(query, str):
                bad.append((number, query))
            else:
                queries.append(query)
            continue
        match = _TAIL.match(line)
        if match is None:
            pending.append((number, line))
            continue
        first = pending[0][0] if pending else number
        statement = "\n".join([text for _n, text in pending] + [match.group("head")]).strip()
        pending = []
        seconds = float(match.group("duration"))   # 5,000 digits read as inf
        if not seconds < MAX_SECONDS:
            bad.append((first, "duration %s s is not a real one" % match.group("duration")[:20]))
            continue
        queries.append(Query(statement, None, seconds * 1000.0,
                             parameters=match.group("params"),
                             location=match.group("location"), source=str(path), line=first,
                             view=match.group("func")))
    bad.extend((n, "not part of a recorded query") for n, _t in pending)
    problems = line_problems(path, bad)
    return queries, problems


def _from_json(line: str, path: Path, number: int, base: str):
    try:
        obj = json.loads(line)
    except ValueError:
        return "not JSON"
    except RecursionError:
        return "JSON nested too deeply"
    if not isinstance(obj, dict) or not isinstance(obj.get("statement"), str):
        return "no 'statement' string"
    duration = obj.get("duration")
    if duration is not None and (isinstance(duration, bool)
                                 or not isinstance(duration, (int, float))
                                 or not 0 <= duration < MAX_SECONDS or duration != duration):
        return "field 'duration' should be a number of seconds, from 0 to a day"
    profile = obj.get("profile") if isinstance(obj.get("profile"), str) else None
    params = obj.get("parameters")
    return Query(obj["statement"], None, None if duration is None else duration * 1000.0,
                 parameters=None if params is None else str(params),
                 location=obj.get("location") if isinstance(obj.get("location"), str) else None,
                 request=obj.get("request") if isinstance(obj.get("request"), str) else None,
                 profile=profile,
                 profile_file=os.path.join(base, profile) if profile else None,
                 source=str(path), line=number, view=_view(obj.get("location")))
