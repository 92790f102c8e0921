"""Importer for SQLAlchemy echo logs (``create_engine(..., echo=True)`` or the
``sqlalchemy.engine`` logger at INFO).

Two record shapes are read: ``%(asctime)s %(levelname)s %(name)s %(message)s`` (SQLAlchemy's
own echo format) and ``logging.basicConfig``'s ``LEVEL:name:message``.  A statement is one
record, possibly over several lines; the record after it holds its parameters
(``[generated in 0.0002s] (1,)``, ``[cached since 1.2s ago] …``, ``[raw sql] ()``, a bare tuple
in 1.x, …).  ``BEGIN (implicit)``, ``COMMIT`` and ``ROLLBACK`` are transaction markers, not
statements.  The log has no execution time and its clock is millisecond wall time, so queries
from it are joined to requests by time only where that is unambiguous (``analysis.sql``).
"""
from __future__ import annotations

import functools
import re
import time
from dataclasses import replace
from pathlib import Path

from ..model.query import Query
from ..model.request import Problem
from .files import LOG_MAX_BYTES, line_problems, read_regular

MAX_LINE = 20_000
_LOGGERS = r"sqlalchemy\.engine(?:\.base)?\.Engine"
_ECHO = re.compile(r"^(?P<asctime>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (?P<level>[A-Z]+) "
                   r"(?P<name>\S+) (?P<msg>.*)$")
_BASIC = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<name>[\w.]+):"
                    r"(?P<msg>.*)$")
_SQLA = re.compile(_LOGGERS + "$")
_PARAMS = re.compile(r"^\[(generated in|cached since|raw sql|no key|caching disabled|dialect "
                     r"|SQL parameters hidden|insertmanyvalues)|^[\(\{\[]|^\[\]$")
_MARKERS = re.compile(r"^(BEGIN \(implicit.*\)|COMMIT|ROLLBACK)$")
_GARBAGE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def sniff(name: str, head: bytes = b"") -> bool:
    """True when the first 64 KB hold a record of SQLAlchemy's engine logger."""
    return re.search(rb"sqlalchemy\.engine(\.base)?\.Engine", head[:65536]) is not None


def _epoch(asctime: str):
    """Local wall time with milliseconds (as logging writes it) to epoch seconds; None for
    a time that cannot be (month 13, 99:99:99, February 30, year 0)."""
    stamp, millis = asctime.split(",")
    seconds = _local_seconds(stamp)
    return None if seconds is None else seconds + int(millis) / 1000.0


@functools.lru_cache(maxsize=4096)
def _local_seconds(stamp: str):
    # cached: a log's lines share their seconds, and strptime was a third of reading one
    try:
        return time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
    except (ValueError, OverflowError):
        return None


def load(path: Path) -> tuple:
    """``(queries, problems, markers)``: statements, bad lines, transaction markers count."""
    try:
        data = read_regular(path, LOG_MAX_BYTES)
    except OSError as exc:
        return [], [Problem(str(path), "cannot read: %s" % (exc.strerror or exc))], 0
    queries: list = []
    bad: list = []
    markers = 0
    current = None          # the statement being read: [first line no, time, lines]
    params_for = None       # the last statement, waiting for its parameter record

    def flush() -> None:
        nonlocal current, params_for
        if current is not None:
            number, when, lines = current
            queries.append(Query("\n".join(lines).strip(), when, None, source=str(path),
                                 line=number))
            params_for = len(queries) - 1
            current = None

    for number, raw in enumerate(data.split(b"\n"), 1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            bad.append((number, "not UTF-8 text"))
            continue
        if len(line) > MAX_LINE:
            bad.append((number, "line of %d characters skipped" % len(line)))
            continue
        match = _ECHO.match(line) or _BASIC.match(line)
        if match is None:
            if current is not None and not _GARBAGE.search(line) \
                    and not line.startswith(("Traceback", "  File ")):
                current[2].append(line)       # a multi-line statement goes on
            else:
                bad.append((number, "not a log record" if not _GARBAGE.search(line)
                            else "control characters (colour codes, NUL bytes)"))
            continue
        flush()
        if not _SQLA.match(match.group("name")):
            params_for = None
            continue                          # another logger's record: not ours to judge
        msg = match.group("msg")
        stamp = match.group("asctime") if "asctime" in match.groupdict() else None
        when = _epoch(stamp) if stamp else None
        if stamp and when is None:
            bad.append((number, "impossible time %r: the record is kept, its time unknown"
                        % stamp[:40]))
        if _MARKERS.match(msg.strip()):
            markers += 1
            params_for = None
        elif _PARAMS.match(msg) and params_for is not None:
            queries[params_for] = _with_params(queries[params_for], msg)
            params_for = None
        else:
            current = [number, when, [msg]]
    flush()
    return queries, line_problems(path, bad), markers


def _with_params(query: Query, msg: str) -> Query:
    # "[generated in 0.00021s] (1,)" → "(1,)"; a bare 1.x tuple stays as it is; a record
    # with nothing after the bracket ("[SQL parameters hidden …]") is kept whole
    params = msg
    if msg.startswith("[") and not msg.startswith("[]"):
        params = re.sub(r"^\[[^\]]*\]\s*", "", msg) or msg
    return replace(query, parameters=params)
