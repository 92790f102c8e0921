"""Parquet tables of a capture, for fleets: ``requests``, ``endpoints``, ``functions`` and
``queries``, each a Hive-partitioned dataset (``date=YYYY-MM-DD/host=NAME/``) under the
directory given, so that the exports of every server and every day can be written into one
tree and queried together (DuckDB, Spark, Trino read it as one table).

Written with pyarrow (the ``parquet`` extra).  Each export adds files with a name of its own
(``part-<token>-0.parquet``) and never replaces another's.  ``endpoint`` is the report's
endpoint name, so a query over ``requests`` groups as ``profview report`` does; the README
shows the DuckDB query that gives the report's p50s back.
"""
from __future__ import annotations

import secrets
import time
from pathlib import Path

from ..analysis import sql
from ..analysis.endpoints import group
from ..analysis.summary import endpoint_rows, flame_source

TABLES = ("requests", "endpoints", "functions", "queries")
UNKNOWN_HOST = "unknown"


def _date(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _host(request, default: str, force: bool = False) -> str:
    return default if force else getattr(request, "host", None) or default


def tables(capture, host=None) -> dict:
    """``{table name: {column: [values]}}`` of *capture*; *host* names the machine of every
    request (None: each request line's ``host``, else ``unknown``)."""
    force, host = host is not None, host or UNKNOWN_HOST
    endpoints = group(capture)
    endpoint_of = {id(r): ep.name for ep in endpoints for r in ep.requests}
    rows = {name: {} for name in TABLES}

    def add(table: str, **values) -> None:
        columns = rows[table]
        for k, v in values.items():
            columns.setdefault(k, []).append(v)

    for r in capture.requests:
        add("requests", date=_date(r.start), host=_host(r, host, force),
            endpoint=endpoint_of.get(id(r)), method=r.method, path=r.url_path,
            query=r.query, status=r.status, start=r.start, elapsed_ms=r.elapsed_ms,
            file=str(r.file), request_id=r.request_id, queries=r.n_queries, sql_ms=r.sql_ms,
            flame="exact" if r.stacks is not None else "estimated", exact_time=r.exact_time)
    first = min((r.start for r in capture.requests), default=time.time())
    hosts = sorted({_host(r, host, force) for r in capture.requests}) or [host]
    by_key = {sql.request_key(r): r for r in capture.requests}
    for row in endpoint_rows(capture, endpoints):
        add("endpoints", date=_date(first), host=",".join(hosts), endpoint=row["name"],
            requests=row["requests"], p50_ms=row["p50_ms"], p95_ms=row["p95_ms"],
            max_ms=row["max_ms"], total_ms=row["total_ms"],
            queries_per_request=row.get("queries_per_request"), flame=row.get("flame"))
    for ep in endpoints:
        for key, s in ep.functions.items():       # summed over the endpoint's requests
            add("functions", date=_date(first), host=",".join(hosts), endpoint=ep.name,
                function=key[2], file=key[0], line=key[1], ncalls=int(s.ncalls),
                primcalls=int(s.primcalls), tottime_s=float(s.tottime),
                cumtime_s=float(s.cumtime), requests=len(ep.requests),
                flame=flame_source(ep.requests))
    for q in capture.queries:
        r = by_key.get(q.profile_file)
        add("queries", date=_date(q.start if q.start is not None else first),
            host=_host(r, host, force) if r is not None else ",".join(hosts),
            endpoint=endpoint_of.get(id(r)) if r is not None else None,
            request_id=r.request_id if r is not None else q.request,
            file=str(r.file) if r is not None else None, statement=q.statement,
            fingerprint=sql.fingerprint(q.statement), start=q.start,
            duration_ms=q.duration_ms, attribution=q.attribution, untied=q.untied)
    return rows


def write(capture, out, host=None, endpoint=None) -> dict:
    """Write the four datasets under *out* (with *endpoint*, that endpoint's rows only);
    ``{table: number of rows}``."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    token = secrets.token_hex(6)
    written = {}
    for name, columns in tables(capture, host).items():
        if endpoint is not None and columns:
            keep = [i for i, e in enumerate(columns["endpoint"]) if e == endpoint]
            columns = {k: [v[i] for i in keep] for k, v in columns.items()}
        n = len(next(iter(columns.values()))) if columns else 0
        written[name] = n
        if not n:
            continue
        table = pa.table(columns)
        ds.write_dataset(table, Path(out) / name, format="parquet",
                         partitioning=["date", "host"], partitioning_flavor="hive",
                         basename_template="part-%s-{i}.parquet" % token,
                         existing_data_behavior="overwrite_or_ignore")
    return written
