"""SQL analysis: fingerprints, queries joined to requests, N+1, duplicates, slow statements.

Pure functions over ``Query`` and ``Request`` objects; the window and the report share them.
"""
from __future__ import annotations

import ast
import functools
import os
import re
from collections import Counter, defaultdict

N_PLUS_ONE_MIN = 5          # the same fingerprint this many times in one request
SLOW_MS = 100.0
N_PLUS_ONE_FIX = ("load the related rows with the parent query: eager loading with "
                  "selectinload() or joinedload() in SQLAlchemy (options(...) on the query, "
                  "or lazy='selectin' on the relationship)")

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\?|(?<![:\w]):\w+")
_IN_LIST = re.compile(r"\bIN\s*\((?:\s*\?\s*,?)+\)", re.IGNORECASE)
_POSTCOMPILE = re.compile(r"\(__\[POSTCOMPILE_\w+\]\)")
_SPACE = re.compile(r"\s+")


@functools.lru_cache(maxsize=1 << 14)
def fingerprint(statement: str) -> str:
    """The statement with literals, placeholders and IN-lists as ``?``, whitespace folded:
    ``SELECT * FROM t WHERE id IN (1, 2, 3)`` → ``SELECT * FROM t WHERE id IN (?)``.

    Cached: an app runs the same few statements thousands of times, and the rules, the
    panels and the comparison each ask (six regular expressions per statement were 20% of
    a report's time)."""
    text = _POSTCOMPILE.sub("(?)", statement)
    text = _STRING.sub("?", text)
    text = _PLACEHOLDER.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _SPACE.sub(" ", text).strip()
    return _IN_LIST.sub("IN (?)", text)


def request_key(request) -> str:
    """How queries name their request's profile: its absolute path."""
    return os.path.abspath(request.file)


def attribute_by_time(queries, requests) -> list:
    """Echo-log queries (clock time, no request) joined to the one request running then:
    ``tying.tie_echo``, which also uses the profiles' execute() counts and the requests'
    order when only Werkzeug's file names say when they ran."""
    from .tying import tie_echo   # tying builds on this module

    counted = any(r.db_executes for r in requests)
    return tie_echo([q for q in queries if q.profile_file is None], requests, counted) + [
        q for q in queries if q.profile_file is not None]


def by_request(queries) -> dict:
    """``{profile path: [Query, ...]}`` in the order they ran."""
    grouped: dict = defaultdict(list)
    for q in queries:
        if q.profile_file is not None:
            grouped[q.profile_file].append(q)
    for qs in grouped.values():
        qs.sort(key=lambda q: (q.start is None, q.start or 0.0, q.line or 0))
    return grouped


def totals(queries) -> tuple:
    """``(count, SQL ms)``; statements without a duration count, and add no time."""
    return len(queries), sum(q.duration_ms or 0.0 for q in queries)


def n_plus_one(queries, minimum: int = N_PLUS_ONE_MIN) -> list:
    """``[(fingerprint, count, location)]``: one statement shape run *minimum* or more times in
    one request (from one code location, when locations are known), most repeated first."""
    counts = Counter((fingerprint(q.statement), q.location) for q in queries)
    found = [(fp, n, loc) for (fp, loc), n in counts.items() if n >= minimum]
    return sorted(found, key=lambda f: (-f[1], f[0]))


def duplicates(queries) -> list:
    """``[(statement, parameters, count)]``: the same statement with the same parameters
    run more than once in one request (the second run could have been avoided)."""
    counts = Counter((q.statement, q.parameters) for q in queries if q.parameters is not None)
    return sorted(((s, p, n) for (s, p), n in counts.items() if n > 1), key=lambda d: -d[2])


def slow(queries, threshold_ms: float = SLOW_MS) -> list:
    """Statements slower than *threshold_ms*, slowest first."""
    found = [q for q in queries if (q.duration_ms or 0.0) > threshold_ms]
    return sorted(found, key=lambda q: -q.duration_ms)


def grouped(queries, n_requests: int = 1) -> list:
    """Per fingerprint: ``{"fingerprint", "count", "total_ms", "mean_ms", "per_request",
    "max_ms"}``, most total time first."""
    groups: dict = defaultdict(list)
    for q in queries:
        groups[fingerprint(q.statement)].append(q)
    out = []
    for fp, qs in groups.items():
        total = sum(q.duration_ms or 0.0 for q in qs)
        out.append({"fingerprint": fp, "count": len(qs), "total_ms": total,
                    "mean_ms": total / len(qs), "per_request": len(qs) / max(1, n_requests),
                    "max_ms": max((q.duration_ms or 0.0) for q in qs)})
    return sorted(out, key=lambda g: (-g["total_ms"], -g["count"]))


def endpoint_n_plus_one(endpoint, per_request: dict, minimum: int = N_PLUS_ONE_MIN) -> list:
    """N+1 patterns of an endpoint: ``[{"statement", "per_request", "location"}]``, where
    per_request is the mean count over the endpoint's requests whose statements are known
    (``known_requests``)."""
    requests = known_requests(endpoint.requests)
    hits: dict = defaultdict(list)
    for r in requests:
        for fp, n, loc in n_plus_one(per_request.get(request_key(r), ()), minimum):
            hits[fp].append((n, loc))
    out = []
    for fp, found in hits.items():
        location = Counter(loc for _n, loc in found).most_common(1)[0][0]
        out.append({"statement": fp, "location": location,
                    "per_request": sum(n for n, _l in found) / len(requests)})
    return sorted(out, key=lambda f: -f["per_request"])


def known_requests(requests) -> list:
    """The requests whose query count is known (none without a query log): the ones whose
    statements are all there, so that counts per request are not understated."""
    return [r for r in requests if r.n_queries is not None]


def n_plus_one_by_endpoint(endpoints, queries) -> dict:
    """``{endpoint key: [N+1 findings]}`` for the endpoints that have any."""
    per_request = by_request(queries)
    found = {ep.key: endpoint_n_plus_one(ep, per_request) for ep in endpoints}
    return {key: f for key, f in found.items() if f}


def _parse_parameters(parameters: str):
    try:
        return ast.literal_eval(parameters)   # literals only: never evaluates code
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'%s'" % str(value).replace("'", "''")


def inline_parameters(statement: str, parameters: str | None) -> str:
    """The statement with its parameters written in, for pasting into a SQL console.

    Positional (``?``, ``%s``) and named (``:name``, ``%(name)s``) placeholders are filled
    from the logged parameters; when those cannot be read, the statement is returned as is.
    """
    values = _parse_parameters(parameters) if parameters else None
    if isinstance(values, list) and values and isinstance(values[0], (tuple, dict)):
        values = values[0]   # executemany: the first row stands for the rest
    if isinstance(values, dict):
        def named(match):
            token = match.group(0)
            name = token[2:-2] if token.startswith("%(") else token[1:]
            return _sql_literal(values[name]) if name in values else token
        return re.sub(r"%\(\w+\)s|(?<![:\w]):\w+", named, statement)
    if isinstance(values, (tuple, list)):
        items = iter(values)

        def positional(match):
            try:
                return _sql_literal(next(items))
            except StopIteration:
                return match.group(0)
        return re.sub(r"\?|%s", positional, statement)
    return statement


def explain(statement: str, parameters: str | None) -> str:
    """``EXPLAIN`` + the statement with its parameters inlined."""
    return "EXPLAIN " + inline_parameters(statement, parameters)
