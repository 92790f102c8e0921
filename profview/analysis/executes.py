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
_SQLA_FUNNEL = ("do_execute", "do_executemany", "do_execute_no_params")
_SQLA_DEFAULT = "sqlalchemy/engine/default.py"


def _sqlalchemy(key, names) -> bool:
    return key[2] in names and key[0].replace("\\", "/").endswith(_SQLA_DEFAULT)


def execute_calls(stats) -> int:
    """DB-API statements a validated pstats dict shows: C-driver execute()/executemany()
    calls, less SQLAlchemy's connection pings (``pool_pre_ping`` runs one unlogged
    ``SELECT 1`` per checkout); without a C driver, SQLAlchemy's ``do_execute*`` calls."""
    c_calls = funnel = pings = 0
    for key, value in stats.items():
        if key[0] == "~":
            if _C_CALL.match(key[2]):
                c_calls += value[1]
        elif _sqlalchemy(key, _SQLA_FUNNEL):
            funnel += value[1]
        elif _sqlalchemy(key, ("do_ping",)):
            pings += value[1]
    if c_calls:
        return max(0, c_calls - pings)
    return funnel
