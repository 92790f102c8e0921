"""Connection pool waits: requests queueing for a database connection, or opening a new one
every time.

SQLAlchemy's QueuePool blocks in ``sqlalchemy.util.queue.Queue.get`` when every connection is
checked out; a new DB-API connection is made in ``_ConnectionRecord.__connect``.  Each is one
pstats entry, so their cumulative times are exact (and disjoint: a wait ends before a connect).
"""
from __future__ import annotations

from .base import Evidence, in_module, severity
from .share_rule import cumtime, finding, measure

RULE = "pool_wait"
WAIT_FIX = ("Requests wait for a free connection: raise pool_size/max_overflow to match the "
            "worker's threads (SQLALCHEMY_ENGINE_OPTIONS), and return connections sooner "
            "(no long work or outbound calls while a transaction is open; db.session.remove() "
            "at teardown).")
CONNECT_FIX = ("Every request opens a new database connection: use a pool that keeps them "
               "(SQLAlchemy's QueuePool, not NullPool; pool_pre_ping instead of reconnecting) "
               "and create the engine once per process, not per request.")


def _is_wait(key) -> bool:
    return ((in_module(key, "sqlalchemy/util/queue.py") and key[2] == "get")
            or (in_module(key, "psycopg_pool/", "psycopg2/pool.py") and key[2] == "getconn"))


def _is_connect(key) -> bool:
    return in_module(key, "sqlalchemy/pool/base.py") and key[2] == "__connect"


def check(ctx, settings) -> list:
    out = []
    for ep in ctx.endpoints:
        m = measure(ctx, ep, _is_wait, cumtime, settings.pool_min_ms)
        if m and m.ms >= settings.pool_min_ms and m.share >= settings.pool_share:
            out.append(finding(RULE, severity(m.ms, m.share, settings),
                               "Connection pool waits in %s",
                               "waiting for a database connection from the pool", ep, m,
                               WAIT_FIX, settings))
        connects = [(k, s) for k, s in ep.functions.items() if _is_connect(k)]
        calls = sum(s.ncalls for _k, s in connects)
        m = measure(ctx, ep, _is_connect, cumtime, settings.pool_min_ms)
        if (m and len(ep.requests) >= 2 and calls >= len(ep.requests)
                and m.ms >= settings.pool_min_ms and m.share >= settings.pool_share):
            note = Evidence("metric", "%d new connections in %d requests" % (
                calls, len(ep.requests)))
            out.append(finding(RULE, severity(m.ms, m.share, settings),
                               "New database connection per request in %s",
                               "opening database connections", ep, m, CONNECT_FIX, settings,
                               extra=(note,)))
    return out
