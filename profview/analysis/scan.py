"""Read request profiles in one pass: validate each, note its request, sum its functions.

This is the loading hot path.  Reading is ``marshal.loads`` plus a validation loop; the sums go
into per-bucket dicts (see ``model.capture.Capture``) so no per-file graph is kept.  Large sets
of files are split across worker processes: validation is pure-Python work that one core
cannot do as fast as the disk delivers files.
"""
from __future__ import annotations

import gc
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from ..importers import pstats_file
from ..importers.discover import Found, discover
from ..importers.werkzeug_name import parse_name
from ..model.capture import Capture
from ..model.request import Problem, Request
from .views import find_candidates

PARALLEL_FROM = 150   # fewer files than this load faster in-process than with workers
CHUNK = 64


@contextmanager
def _no_gc():
    # Loading allocates millions of small tuples that all stay alive; the cyclic collector
    # would re-traverse them again and again (measured: 3x slower) and can find nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _add(acc: dict, stats: dict) -> None:
    get = acc.get
    for key, (cc, nc, tt, ct, _callers) in stats.items():
        old = get(key)
        if old is None:
            acc[key] = [nc, cc, tt, ct]
        else:
            old[0] += nc
            old[1] += cc
            old[2] += tt
            old[3] += ct


def scan_one(found: Found, grouping: str, buckets: dict,
             max_bytes: int = pstats_file.DEFAULT_MAX_BYTES):
    """Read one profile; add its functions to *buckets*; return its Request or a Problem."""
    path, name = found
    try:
        stats, callees, total_tt = pstats_file.read(path, max_bytes)
    except pstats_file.ProfileError as exc:
        return Problem(str(path), str(exc))
    except OSError as exc:
        return Problem(str(path), "cannot read: %s" % (exc.strerror or exc))
    try:
        return _request(path, name, stats, callees, total_tt, grouping, buckets)
    except Exception as exc:  # a valid-looking file that still trips analysis: report it
        return Problem(str(path), "could not be analysed: %s: %s" % (type(exc).__name__, exc))


def _request(path, name, stats, callees, total_tt, grouping, buckets) -> Request:
    wz = parse_name(path.name)
    method, url_path = (wz.method, wz.url_path) if wz else (None, None)
    flask, candidates = False, frozenset()
    if grouping == "view":
        flask, candidates = find_candidates(stats, callees)
    if candidates:
        bucket = ("view", method, candidates)
    else:
        bucket = ("path", method, url_path)
    _add(buckets.setdefault(bucket, {}), stats)
    return Request(
        file=path, name=name, method=method, url_path=url_path,
        elapsed_ms=wz.elapsed_ms if wz else total_tt * 1000.0,
        time=wz.time if wz else path.stat().st_mtime, total_tt=total_tt, named=wz is not None,
        flask=flask, bucket=bucket)


def scan_chunk(found: list, grouping: str, max_bytes: int) -> tuple:
    """``(requests, problems, buckets)`` for a list of files; runs in a worker process."""
    requests, problems, buckets = [], [], {}
    with _no_gc():
        for item in found:
            result = scan_one(item, grouping, buckets, max_bytes)
            (problems if isinstance(result, Problem) else requests).append(result)
    return requests, problems, buckets


def _merge_buckets(into: dict, part: dict) -> None:
    for bucket, funcs in part.items():
        acc = into.get(bucket)
        if acc is None:
            into[bucket] = funcs
            continue
        for key, v in funcs.items():
            old = acc.get(key)
            if old is None:
                acc[key] = v
            else:
                old[0] += v[0]
                old[1] += v[1]
                old[2] += v[2]
                old[3] += v[3]


def load_capture(paths, grouping: str = "view", workers: int | None = None,
                 max_bytes: int = pstats_file.DEFAULT_MAX_BYTES) -> Capture:
    """Load every profile under *paths* into a Capture; unreadable files become problems."""
    found, problems = discover(paths)
    workers = workers or os.cpu_count() or 1
    requests: list = []
    buckets: dict = {}
    if workers <= 1 or len(found) < PARALLEL_FROM:
        requests, more, buckets = scan_chunk(found, grouping, max_bytes)
        problems.extend(more)
    else:
        size = max(16, min(CHUNK, len(found) // (workers * 4) + 1))
        chunks = [found[i:i + size] for i in range(0, len(found), size)]
        with ProcessPoolExecutor(max_workers=workers) as pool, _no_gc():
            for reqs, more, part in pool.map(scan_chunk, chunks, [grouping] * len(chunks),
                                             [max_bytes] * len(chunks)):
                requests.extend(reqs)
                problems.extend(more)
                _merge_buckets(buckets, part)
    return Capture.build(requests, problems, buckets, grouping)

