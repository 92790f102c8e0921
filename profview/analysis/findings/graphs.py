"""Reachability over one request's call graph, for rules that need edges.

pstats edges say "A called B at least once"; reachability along them over-approximates what a
call of A led to.  The rules use it only where over-approximating is the cautious side
(a function that *may* reach I/O is not called pure).
"""
from __future__ import annotations

import functools

import numpy as np

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


def _arrays(graph):
    """The graph's arrays when it has them (a ``model.kept_graph.KeptGraph``), else None."""
    return graph if hasattr(graph, "mask") else None


def _matrix(graph, reverse: bool):
    """The graph's edges as a CSR matrix (callee→caller with *reverse*), made once per
    graph: the rules ask for reachability from many roots of one request."""
    from scipy.sparse import csr_matrix
    memo = graph.memo
    matrix = memo.get(("csr", reverse))
    if matrix is None:
        n = len(graph.f_ids)
        src, dst = (graph.dst, graph.src) if reverse else (graph.src, graph.dst)
        # CSR from the edges sorted by caller (a request has each edge once): the
        # triplet form made a COO matrix first and cost twice as much
        order = np.argsort(src, kind="stable")
        indptr = np.zeros(n + 1, np.int32)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        matrix = memo[("csr", reverse)] = csr_matrix(
            (np.ones(len(src), np.int8), dst[order].astype(np.int32), indptr), shape=(n, n))
    return matrix


def _reach(graph, starts: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Bool per row: reachable from the rows *starts* by one edge or more (against the
    edges with *reverse*).  Breadth-first in C (scipy's csgraph); written out by hand it
    cost more than the rules around it.  One start: on the graph's cached matrix, and the
    answer cached too (the rules ask for the same roots again); several: from a virtual
    node that points at every start."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order
    n = len(graph.f_ids)
    src, dst = (graph.dst, graph.src) if reverse else (graph.src, graph.dst)
    key = ("reach", int(starts[0]), reverse) if len(starts) == 1 else None
    if key is not None and key in graph.memo:
        return graph.memo[key].copy()
    if key is not None:
        reached = np.zeros(n, bool)
        reached[breadth_first_order(_matrix(graph, reverse), int(starts[0]), directed=True,
                                    return_predecessors=False)] = True
    else:
        matrix = csr_matrix((np.ones(len(src) + len(starts), np.int8),
                             (np.concatenate([src, np.full(len(starts), n)]),
                              np.concatenate([dst, starts]))), shape=(n + 1, n + 1))
        reached = np.zeros(n + 1, bool)
        reached[breadth_first_order(matrix, n, directed=True,
                                    return_predecessors=False)] = True
        reached = reached[:n]
    # a start is its own descendant only when an edge from what it reached leads back
    out = reached.copy()
    out[starts] = False
    start = np.zeros(n, bool)
    start[starts] = True
    back = reached[src] & start[dst]
    out[dst[back]] = True
    if key is not None:
        graph.memo[key] = out.copy()
    return out


def impure_ancestors(graph) -> set:
    """Every function that (by the edges) may have led to I/O, SQL, a secret, the clock or
    randomness."""
    g = _arrays(graph)
    if g is not None:
        leaves = g.mask(is_impure_leaf)
        found = _reach(g, np.flatnonzero(leaves), reverse=True) | leaves
        return set(g.keys_of(np.flatnonzero(found)))
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
    g = _arrays(graph)
    if g is not None:
        gid = g.index.id_of(key)
        row = -1 if gid is None else g.row_of(gid)
        if row < 0:
            return set()
        found = np.flatnonzero(_reach(g, np.array([row])))
        if len(found) <= limit:
            return set(g.keys_of(found))
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

    g = _arrays(graph)
    if g is not None:
        return _db_entry_arrays(g, within)
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


def _db_entry_arrays(g, within) -> float:
    """``db_entry_seconds`` on whole columns; *within*: None, a bool per row, or keys."""
    db, through = g.mask(is_db), g.mask(_transparent)
    if within is None:
        inside = np.ones(len(db), bool)
    elif isinstance(within, np.ndarray):
        inside = within
    else:
        inside = np.fromiter((k in within for k in g.functions), bool, len(db))
    counts = ~db & ~through & inside
    src, dst, cum = g.src, g.dst, g.e_val[:, 3]
    enter = db[dst] & ~db[src]
    # per function: the edge time into it from callers that count
    mine = np.bincount(dst, weights=cum * counts[src], minlength=len(db))
    via = enter & through[src]
    whole = g.f_val[src[via], 3]
    share = np.divide(mine[src[via]], whole, out=np.zeros(len(whole)), where=whole > 0)
    return float((cum[via] * np.minimum(1.0, share)).sum()
                 + cum[enter & ~through[src] & counts[src]].sum())


def _is_lazy_loader(key) -> bool:
    return key[2] == "_load_for_state" and in_module(key, "sqlalchemy/orm/strategies.py")


def loader_seconds(graph) -> float:
    """Time in SQLAlchemy's lazy loader (``LazyLoader._load_for_state``: one pstats entry,
    so exact): the lazy loads' SQL, their row processing and the loader's own work."""
    key, stats = heaviest(graph, _is_lazy_loader)
    return stats.cumtime if stats is not None else 0.0


def heaviest(graph, predicate) -> tuple:
    """``(key, Stats)`` of the function *predicate* picks with the most cumulative time,
    ``(None, None)`` when it picks none.  *predicate* is a module-level function of the
    key: kept graphs answer from the index's cached mask of it."""
    g = _arrays(graph)
    if g is not None:
        rows = np.flatnonzero(g.mask(predicate))
        if not len(rows):
            return None, None
        row = int(rows[np.argmax(g.f_val[rows, 3])])
        return g.keys_of([row])[0], g.stats_at(row)
    functions = getattr(graph, "functions", graph)
    found = [(k, functions[k]) for k in functions if predicate(k)]
    return max(found, key=lambda kv: kv[1].cumtime) if found else (None, None)


def db_seconds_under(graph, root) -> float:
    """Seconds of database work (SQLAlchemy, the driver, the SQL) below *root*: the edges
    into the database layer from *root* and what it calls.  A caller also used outside
    *root* counts whole, so this is an upper bound, capped at *root*'s own time."""
    stats = graph.functions.get(root)
    if stats is None:
        return 0.0
    g = _arrays(graph)
    if g is not None:
        row = g.row_of(g.index.id_of(root))
        within = _reach(g, np.array([row]))
        within[row] = True
        loader = loader_seconds(g) if g.mask(_is_lazy_loader)[within].any() else 0.0
        return min(stats.cumtime, max(loader, _db_entry_arrays(g, within)))
    within = descendants(graph, root) | {root}
    # The lazy loader below *root* (exact, one pstats entry) is database work too; where the
    # edges through built-ins undercount it, it is the better figure.
    loader = loader_seconds(graph) if any(
        k[2] == "_load_for_state" and in_module(k, "sqlalchemy/orm/strategies.py")
        for k in within) else 0.0
    return min(stats.cumtime, max(loader, db_entry_seconds(graph, within)))


def driver_seconds(graph) -> float:
    g = _arrays(graph)
    if g is not None:
        return float(g.f_val[g.mask(is_driver), 2].sum())
    return sum(s.tottime for k, s in graph.functions.items() if is_driver(k))
