"""Reachability over one request's call graph, for rules that need edges.

pstats edges say "A called B at least once"; reachability along them over-approximates what a
call of A led to.  The rules use it only where over-approximating is the cautious side
(a function that *may* reach I/O is not called pure).
"""
from __future__ import annotations

from .base import in_module

# Where I/O, SQL and randomness end up: built-ins (every client library, pure-Python
# drivers included, reaches one) and SQLAlchemy's funnel to the DB-API.  Whole libraries are
# not marked: their pure helpers (a sort key) are called from pure code too, through
# built-ins such as sorted(), and would taint it.
IMPURE_BUILTINS = ("sqlite3.", "_socket", "_ssl.", "time.sleep", "posix.", "_io.open",
                   "builtins.open", "_random", "urandom", "of '_io.", "ursor", "datetime.now",
                   "time.time", "select.")
IMPURE_FUNCS = (("sqlalchemy/engine/default.py", ("do_execute", "do_executemany",
                                                  "do_execute_no_params", "connect")),)


def is_impure_leaf(key) -> bool:
    if key[0] == "~":
        return any(f in key[2] for f in IMPURE_BUILTINS)
    return any(in_module(key, path) and key[2] in names for path, names in IMPURE_FUNCS)


def impure_ancestors(graph) -> set:
    """Every function that (by the edges) may have led to I/O, SQL or randomness."""
    todo = [k for k in graph.functions if is_impure_leaf(k)]
    seen = set(todo)
    while todo:
        key = todo.pop()
        for caller in graph.callers(key):
            if caller not in seen:
                seen.add(caller)
                todo.append(caller)
    return seen


def descendants(graph, key, limit: int = 5000) -> set:
    """Functions reachable from *key* (bounded: a profile has at most a few thousand)."""
    seen, todo = set(), [key]
    while todo and len(seen) < limit:
        for callee in graph.callees(todo.pop()):
            if callee not in seen:
                seen.add(callee)
                todo.append(callee)
    return seen
