"""How many SQL statements a request profile shows it sent: its DB-API ``execute()`` calls.

An echo log names no request; the profile of each request does count the statements it ran,
and that count is what ties a stretch of the log to it (``alignment``).  C drivers (sqlite3,
psycopg2, …) are built-ins in pstats, ``('~', 0, "<method 'execute' of 'sqlite3.Cursor'
objects>")``: every statement reaches the database through exactly one such call from Python.
Pure-Python drivers nest their methods (``executemany`` calling ``execute``), so for them
SQLAlchemy's single funnel (``do_execute`` and friends) is counted instead.
"""
from __future__ import annotations

import re

_C_CALL = re.compile(r"^<method '(?:execute|executemany)' of '[\w.]*(?:cursor|connection)"
                     r"[\w.]*' objects>$", re.IGNORECASE)
_SQLA_FUNNEL = frozenset({"do_execute", "do_executemany", "do_execute_no_params"})
_SQLA_DEFAULT = "sqlalchemy/engine/default.py"


MAX_CALLS = 10 ** 9     # a crafted profile's absurd call count counts as none


def _count(calls) -> int:
    """A call count as an int: validation lets through floats (even infinite) in crafted
    files, and the alignment needs whole, bounded counts."""
    try:
        calls = int(calls)
    except (OverflowError, ValueError, TypeError):
        return 0
    return calls if 0 <= calls <= MAX_CALLS else 0


def _in_sqlalchemy(filename: str) -> bool:
    return filename.replace("\\", "/").endswith(_SQLA_DEFAULT)


def execute_keys(keys) -> list:
    """The keys among *keys* that ``execute_calls`` counts: one cheap pass by name (this
    runs for every profile loaded, or once per shape of profile)."""
    return [k for k in keys if "execute" in k[2] or k[2] == "do_ping"]


def execute_calls(stats, keys=None) -> int:
    """DB-API statements a validated pstats dict shows: C-driver execute()/executemany()
    calls, less SQLAlchemy's connection pings (``pool_pre_ping`` runs one unlogged
    ``SELECT 1`` per checkout); without a C driver, SQLAlchemy's ``do_execute*`` calls.
    *keys*: ``execute_keys(stats)``, when known already."""
    c_calls = funnel = pings = 0
    for key in execute_keys(stats) if keys is None else keys:
        filename, _line, name = key
        calls = _count(stats[key][1])
        if filename == "~":
            if _C_CALL.match(name):
                c_calls += calls
        elif name in _SQLA_FUNNEL and _in_sqlalchemy(filename):
            funnel += calls
        elif name == "do_ping" and _in_sqlalchemy(filename):
            pings += calls
    if c_calls:
        return max(0, c_calls - pings)
    return funnel
