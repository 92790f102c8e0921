"""Reachability over one request's call graph, for rules that need edges.

pstats edges say "A called B at least once"; reachability along them over-approximates what a
call of A led to.  The rules use it only where over-approximating is the cautious side
(a function that *may* reach I/O is not called pure).
"""
from __future__ import annotations

import functools

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
# Work whose result depends on a secret, the clock or chance: never a caching candidate, even
# when it costs the same in every request (a password check: caching it is a security bug).
SECRET_BUILTINS = ("_hashlib", "_blake2", "_sha", "_md5", "hmac", "scrypt", "pbkdf2",
                   "_bcrypt", "bcrypt", "argon2", "crypt.crypt", "_random", "urandom",
                   "getrandom", "time.time", "time.monotonic", "time.perf_counter",
                   "time.localtime", "time.gmtime", "datetime", "uuid")
# datetime's C methods are named without their module: "<built-in method now>"
SECRET_EXACT = frozenset({"<built-in method now>", "<built-in method utcnow>",
                          "<built-in method today>"})
SECRET_FILES = ("/hashlib.py", "/hmac.py", "/secrets.py", "/random.py", "/uuid.py",
                "/datetime.py", "bcrypt/", "argon2/", "passlib/", "nacl/",
                "werkzeug/security.py", "cryptography/", "itsdangerous/", "jwt/")


@functools.lru_cache(maxsize=1 << 16)   # a pure function of the key, asked per edge
def is_secret_leaf(key) -> bool:
    """A function whose result depends on a secret, the time or randomness."""
    if key[0] == "~":
        return key[2] in SECRET_EXACT or any(f in key[2] for f in SECRET_BUILTINS)
    return in_module(key, *SECRET_FILES)


@functools.lru_cache(maxsize=1 << 16)   # a pure function of the key, asked per edge
def is_impure_leaf(key) -> bool:
    if key[0] == "~":
        return any(f in key[2] for f in IMPURE_BUILTINS) or is_secret_leaf(key)
    return (any(in_module(key, path) and key[2] in names for path, names in IMPURE_FUNCS)
            or is_secret_leaf(key))


def impure_ancestors(graph) -> set:
    """Every function that (by the edges) may have led to I/O, SQL, a secret, the clock or
    randomness."""
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


# The database layer: SQLAlchemy (and Flask-SQLAlchemy), pure-Python drivers, and the DB-API
# built-ins of C drivers.
DB_FILES = ("sqlalchemy/", "pymysql/", "pg8000/", "psycopg/", "mysql/connector/")
DB_BUILTINS = ("sqlite3.", "ursor", "psycopg2", "_mysql")


@functools.lru_cache(maxsize=1 << 16)   # a pure function of the key, asked per edge
def is_db(key) -> bool:
    if key[0] == "~":
        return any(f in key[2] for f in DB_BUILTINS)
    return in_module(key, *DB_FILES)


def is_driver(key) -> bool:
    """A DB-API built-in: its self time is the database (and the driver's C code) working."""
    return key[0] == "~" and any(f in key[2] for f in DB_BUILTINS)


def _transparent(key) -> bool:
    """Frames that belong to whoever called them: built-ins (getattr, next) and generated
    code (SQLAlchemy's ``<string>`` wrappers)."""
    return key[0] == "~" or key[0].startswith("<")


def db_entry_seconds(graph, within=None) -> float:
    """Seconds spent in the database layer entered from other code, summed over the edges
    that enter it (exact per edge); only edges whose caller is in *within* when given.

    A built-in or generated frame between the caller and the database layer (Jinja's
    ``getattr`` reaching an ORM attribute, SQLAlchemy's own ``<string>`` wrappers) is
    charged to its callers in proportion to their edges' time, so that the database
    layer calling itself through it is not counted twice."""
    def counts(caller) -> bool:
        return not is_db(caller) and not _transparent(caller) and (
            within is None or caller in within)

    total = 0.0
    for (caller, callee), stats in graph.edges.items():
        if not is_db(callee) or is_db(caller):
            continue
        if _transparent(caller):
            # the share of the frame's own time (outermost calls: pstats does not count a
            # recursive call twice) that callers outside the database layer account for
            whole = graph.functions[caller].cumtime if caller in graph.functions else 0.0
            if whole > 0:
                mine = sum(e.cumtime for p, e in graph.callers(caller).items() if counts(p))
                total += stats.cumtime * min(1.0, mine / whole)
        elif counts(caller):
            total += stats.cumtime
    return total


def loader_seconds(graph) -> float:
    """Time in SQLAlchemy's lazy loader (``LazyLoader._load_for_state``: one pstats entry,
    so exact): the lazy loads' SQL, their row processing and the loader's own work."""
    return max([s.cumtime for k, s in graph.functions.items()
                if k[2] == "_load_for_state" and in_module(k, "sqlalchemy/orm/strategies.py")]
               or [0.0])


def db_seconds_under(graph, root) -> float:
    """Seconds of database work (SQLAlchemy, the driver, the SQL) below *root*: the edges
    into the database layer from *root* and what it calls.  A caller also used outside
    *root* counts whole, so this is an upper bound, capped at *root*'s own time."""
    stats = graph.functions.get(root)
    if stats is None:
        return 0.0
    within = descendants(graph, root) | {root}
    # The lazy loader below *root* (exact, one pstats entry) is database work too; where the
    # edges through built-ins undercount it, it is the better figure.
    loader = loader_seconds(graph) if any(
        k[2] == "_load_for_state" and in_module(k, "sqlalchemy/orm/strategies.py")
        for k in within) else 0.0
    return min(stats.cumtime, max(loader, db_entry_seconds(graph, within)))


def driver_seconds(graph) -> float:
    return sum(s.tottime for k, s in graph.functions.items() if is_driver(k))
