"""Read request profiles in one pass: validate each, note its request, sum its functions.

This is the loading hot path.  Reading is ``marshal.loads`` plus a validation loop; the sums go
into per-bucket dicts (see ``model.capture.Capture``) so no per-file graph is kept.  Large sets
of files are split across worker processes: validation is pure-Python work that one core
cannot do as fast as the disk delivers files.
"""
from __future__ import annotations

import functools
import gc
import os
import time
import zlib
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..importers import profiles, pstats_file, stacks_file
from ..importers.discover import Found, discover
from ..importers.pstats_arrays import Interner, children
from ..importers.sidecar import load_records, load_sidecars
from ..importers.werkzeug_name import parse_name
from ..model.capture import Capture
from ..model.store import Builder, part_of
from ..model.request import Problem, Request
from . import preflight
from .cutting import cut_long
from .pool import PARALLEL_FROM, make_pool
from ..analysis.executes import execute_calls, execute_keys
from ..analysis.tying import tie
from ..analysis.view_candidates import find_candidates

CHUNK = 64
# Requests whose own numbers the capture keeps (``model.store.Kept``, ~30 KB each): all of
# them up to this many, an even sample (by a hash of the name) beyond.
KEEP_REQUESTS = 2000
# A worker's interner starts afresh beyond this many keys (many apps' profiles in one
# long-lived process): a bound on its memory, and on the ids its receiver maps.
MAX_PROCESS_KEYS = 1_000_000


@contextmanager
def no_gc():
    """The cyclic collector off for the block (back as it was after).

    Loading allocates millions of small tuples that all stay alive; the collector would
    re-traverse them again and again (measured: 3x slower) and can find nothing.  It holds
    the GIL while it does, which the window's workers must not do for long either.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def keeps(name: str, fraction: float) -> bool:
    """Whether the request profile *name* is one whose own numbers are kept: a hash of the
    name, so workers agree without talking and a reload keeps the same ones."""
    return fraction >= 1.0 or zlib.crc32(name.encode("utf-8", "replace")) < fraction * 2 ** 32


# What a request takes from its line in requests.jsonl as it is (same names on both sides)
FROM_RECORD = ("host", "pid", "thread", "rss_before", "rss_after", "mem_peak", "mem_net",
               "mem_sites")
STACKS_SUFFIX = ".stacks"    # a request's sampled stacks, beside its .prof (the contract)


def scan_one(found: Found, grouping: str, interner, parts: dict,
             max_bytes: int = pstats_file.DEFAULT_MAX_BYTES, kept=None,
             fraction: float = 1.0):
    """Read one profile; add its arrays to its bucket in *parts* (and to *kept*, see
    ``keeps``); return its Request or a Problem."""
    path = found.path
    meta: dict = {}
    try:
        stats, arrays = profiles.read_arrays(path, interner, max_bytes, meta)
    except pstats_file.ProfileError as exc:
        return Problem(str(path), str(exc))
    except OSError as exc:
        return Problem(str(path), "cannot read: %s" % (exc.strerror or exc))
    try:
        facts = _facts(stats, arrays, interner, grouping)
        request = _request(found, stats, facts, arrays.total_tt, grouping, meta)
    except Exception as exc:  # a valid-looking file that still trips analysis: report it
        return Problem(str(path), "could not be analysed: %s: %s" % (type(exc).__name__, exc))
    arrays = arrays._replace(shape=None)     # the facts stay in this process
    parts.setdefault(request.bucket, []).append(arrays)
    if kept is not None and keeps(found.name, fraction):
        # in float32 as the capture keeps them (``store.Builder``): converted here, in the
        # workers, the pickles the loader receives are half the size
        kept.append((str(path), arrays._replace(vals=arrays.vals.astype(np.float32),
                                                evals=arrays.evals.astype(np.float32))))
    return request


def _facts(stats, arrays, interner, grouping) -> tuple:
    """``((is_flask, view candidates), execute keys)`` of a profile: functions of its
    shape, worked out once per shape (``pstats_arrays.Shape``)."""
    shape = arrays.shape
    known = shape.facts.get(grouping) if shape is not None else None
    if known is None:
        view = (False, frozenset())
        if grouping == "view":
            view = find_candidates(stats, functools.partial(children, arrays, interner))
        known = (view, execute_keys(stats))
        if shape is not None:
            shape.facts[grouping] = known
    return known


def _request(found: Found, stats, facts, total_tt, grouping, meta=None) -> Request:
    path, record = found.path, found.record
    wz = parse_name(path.name)
    info: dict = {}
    if record is not None:   # the capture sidecar knows the request exactly
        method, url_path = record.method, record.path
        info = dict(elapsed_ms=record.elapsed_ms, time=record.start + record.elapsed_ms / 1e3,
                    query=record.query, status=record.status, rule=record.rule,
                    flask_endpoint=record.endpoint, request_id=record.id, exact_time=True,
                    **{f: getattr(record, f) for f in FROM_RECORD})
    elif wz is not None:
        method, url_path = wz.method, wz.url_path
        info = dict(elapsed_ms=wz.elapsed_ms, time=wz.time, request_id=wz.request_id)
    else:
        method = url_path = None
        info = dict(elapsed_ms=total_tt * 1000.0, time=0.0)
    if record is None and meta and meta.get("span"):
        # a stack-based input with a clock (a pyinstrument session): its own start and
        # length, to the microsecond, over a name's whole ms and seconds
        start, length = meta["span"]
        info.update(elapsed_ms=length, time=start + length / 1000.0, exact_time=True)
    elif record is None and wz is None:
        info["time"] = path.stat().st_mtime
    (flask, candidates), executes = facts
    if grouping == "view" and record is not None and record.rule:
        bucket = ("rule", method, record.rule)   # the app's own URL rule wins
    elif candidates:
        bucket = ("view", method, candidates)
    else:
        bucket = ("path", method, url_path)
    sampled = bool(meta and meta.get("stacks"))
    return Request(file=path, name=found.name, method=method, url_path=url_path,
                   total_tt=total_tt, named=wz is not None or record is not None,
                   flask=flask, bucket=bucket, sampled=sampled,
                   # sampled stacks count no calls: how many executes ran is unknown
                   db_executes=None if sampled else execute_calls(stats, executes),
                   stacks=_stacks_of(path, record, sampled),
                   notes=tuple((meta or {}).get("notes", ())), **info)


def _stacks_of(path, record, sampled: bool):
    """Where the request's sampled stacks are, if it has some: its own source when it is
    read from them, else what its line in requests.jsonl names, else (captures that wrote a
    file per request) ``{profile}.stacks`` beside the profile."""
    if sampled:
        return path
    if record is not None and record.stacks:
        where = Path(record.stacks)
    elif path.suffix == ".prof":
        where = path.with_suffix(STACKS_SUFFIX)
    else:
        return None
    return where if stacks_file.split_block(where)[0].is_file() else None


def stacks_only(found: list, records: dict) -> list:
    """Found items for the requests of *records* that have sampled stacks but no profile
    among *found* (captured with ``profile=False``, or their profile removed by the size
    cap): their stacks are read as their profile."""
    have = {os.path.abspath(f.path) for f in found}
    return [Found(Path(rec.stacks), stacks_file.stacks_name(os.path.basename(profile)), rec)
            for profile, rec in records.items()
            if rec.stacks and profile not in have]


def scan_chunk(found: list, grouping: str, max_bytes: int, fraction: float = 1.0,
               interner: Interner = None) -> tuple:
    """``(requests, problems, (news, parts, kept))`` for a list of files; runs in a worker
    process.  *parts* are the chunk's bucket sums (``store.part_of``) and *kept* the
    ``(file, Arrays)`` of requests kept whole, in ids that *news* (``Interner.news``) and
    earlier chunks of the same interner name.  Without *interner*, the process's own: its
    ids and the shapes it knows (``pstats_arrays.Shape``) serve every chunk it reads."""
    requests, problems, parts, kept = [], [], {}, []
    interner = interner if interner is not None else process_interner()
    with no_gc():
        for item in found:
            result = scan_one(item, grouping, interner, parts, max_bytes, kept, fraction)
            (problems if isinstance(result, Problem) else requests).append(result)
        summed = {bucket: part_of(profiles) for bucket, profiles in parts.items()}
    return requests, problems, (interner.news(), summed, kept)


_PROCESS: list = [None, None]    # [pid, Interner] of a worker process


def process_interner() -> Interner:
    """This process's interner, made on first use; a forked child makes its own (the
    parent's numbering, copied, would no longer match what the parent was sent)."""
    if _PROCESS[0] != os.getpid() or len(_PROCESS[1].keys) > MAX_PROCESS_KEYS:
        _PROCESS[:] = [os.getpid(), Interner()]
    return _PROCESS[1]


def load_capture(paths, grouping: str = "view", workers: int | None = None,
                 max_bytes: int = pstats_file.DEFAULT_MAX_BYTES, progress=None,
                 mp_context=None, isolate: bool = False, background: bool = False,
                 meanwhile=None) -> Capture:
    """Load every profile under *paths* into a Capture; unreadable files become problems.

    *progress(done, total)* is called as files are read.  *mp_context* is the
    multiprocessing context for the worker processes (a GUI passes "forkserver": forking a
    process that runs Qt threads is unsafe).  With *isolate*, profiles are always parsed in
    worker processes, so that a crafted file that crashed ``marshal`` would take down a
    worker, never the caller: the file is then reported and the rest loads.  *background*
    lowers the workers' priority (see ``pool.make_pool``).  *meanwhile()* is called on this
    thread while the workers parse (after they have all started: it may import modules,
    which a thread must not do while processes are forked), or after reading when there
    are no workers.
    """
    found, sidecar_files, problems, logs = discover(paths)
    # the request records decide buckets, so they come first; the query logs are needed only
    # to tie statements at the end, and are read while the workers parse the profiles
    records, more = load_records(sidecar_files)
    problems.extend(more)
    if records:
        found = [_join(f, records) for f in found]
        found += stacks_only(found, records)
        found, cut_notes = cut_long(found, records)
        problems.extend(cut_notes)
    sides: list = []
    side_args = (sidecar_files, logs, records)

    workers = workers or os.cpu_count() or 1
    requests: list = []
    builder = Builder()
    total = len(found)
    state = {"done": 0}

    def take(chunk, result) -> None:
        reqs, more, (keys, part, kept) = result
        requests.extend(reqs)
        problems.extend(more)
        builder.add(keys, part, kept)
        state["done"] += len(chunk)
        if progress is not None:
            progress(state["done"], total)

    fraction = KEEP_REQUESTS / max(1, total)
    if not isolate and (workers <= 1 or total < PARALLEL_FROM):
        found, crashed = preflight.screen(found, max_bytes)   # see preflight: marshal
        problems.extend(crashed)
        total = len(found)
        interner = Interner()
        for start in range(0, total, CHUNK):
            chunk = found[start:start + CHUNK]
            take(chunk, scan_chunk(chunk, grouping, max_bytes, fraction, interner))
        if meanwhile is not None:
            meanwhile()
    elif total:
        size = max(1 if isolate else 16, min(CHUNK, total // (workers * 4) + 1))
        chunks = [found[i:i + size] for i in range(0, total, size)]
        pool = functools.partial(make_pool, mp_context=mp_context, background=background)
        _in_processes(chunks, grouping, max_bytes, workers, pool, take, fraction,
                      side_args, sides, meanwhile)
    elif meanwhile is not None:
        meanwhile()
    side = sides[0] if sides else load_sidecars(*side_args)
    problems.extend(side.problems)
    tied = tie(side.queries, side.echo, requests, side.has_queries)
    problems += notes_of(requests)
    return Capture.build(tied.requests, problems + tied.problems, builder.finish(), grouping,
                         tied.queries, side.has_queries, _sources(sidecar_files, logs),
                         side.plans)


def extend_capture(capture: Capture, paths, max_bytes: int = pstats_file.DEFAULT_MAX_BYTES,
                   young: float = 2.0) -> tuple:
    """``(capture, retry)``: *capture* plus the profiles that appeared under *paths* since.

    Only new files are parsed (a directory being written to is followed incrementally).  A
    new file that cannot be read yet and was modified less than *young* seconds ago is
    probably still being written: it is returned in *retry*, not reported as a problem.
    """
    found, sidecar_files, problems, logs = discover(paths)
    known = {os.path.abspath(r.file) for r in capture.requests}
    known |= {os.path.abspath(p.path) for p in capture.problems}
    new = [f for f in found if os.path.abspath(f.path) not in known]
    sources = _sources(sidecar_files, logs)
    if not new and sources == capture.sources:
        return capture, []   # nothing changed: the same object, so callers can tell
    side = load_sidecars(sidecar_files, logs)
    if side.requests:
        new = [_join(f, side.requests) for f in new]
        new += [f for f in stacks_only(found, side.requests)
                if os.path.abspath(f.path) not in known]
    new, crashed = preflight.screen(new, max_bytes)
    fraction = KEEP_REQUESTS / max(1, len(capture.requests) + len(new))
    reqs, more, (keys, part, kept) = scan_chunk(new, capture.grouping, max_bytes, fraction,
                                                Interner())
    more = list(more) + crashed
    builder = Builder()
    builder.add_store(capture.store)
    builder.add(keys, part, kept)
    now = time.time()
    # the untied-statements summaries are made again below, from all the requests
    retry, kept = [], [p for p in capture.problems if p.kind != "untied"]
    for p in more:
        try:
            fresh = now - os.path.getmtime(p.path) < young
        except OSError:
            fresh = False
        (retry if fresh else kept).append(p)
    kept += notes_of(reqs)
    requests = [r for r in capture.requests] + reqs
    tied = tie(side.queries, side.echo, requests, side.has_queries)
    kept += [p for p in side.problems if p not in kept] + tied.problems
    return (Capture.build(tied.requests, kept, builder.finish(), capture.grouping,
                          tied.queries, side.has_queries, sources, side.plans),
            [p.path for p in retry])


def notes_of(requests) -> list:
    """What importers of stack-based inputs assumed or passed over, as problems of kind
    "note" (shown with the problems, so that an estimate is never silent)."""
    return [Problem(str(r.file), "note: " + n, kind="note") for r in requests for n in r.notes]


def _sources(sidecar_files, logs) -> tuple:
    """The sidecars' and logs' ``stat_stamp``: what tells a live reload that they changed."""
    return stat_stamp(sorted(str(p) for p in list(sidecar_files) + list(logs)))


def stat_stamp(paths) -> tuple:
    """``(path, size, mtime_ns)`` of each of *paths* (size -1 when missing): equal stamps, no
    change (a new or removed file changes its directory's)."""
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((path, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((path, -1, 0))
    return tuple(out)


def _in_processes(chunks, grouping, max_bytes, workers, pool, take, fraction,
                  side_args=None, sides=None, meanwhile=None) -> None:
    """Scan *chunks* in worker processes; with *side_args*, a worker reads the sidecars
    and query logs too (``load_sidecars(*side_args)``, appended to *sides*).  If a worker
    dies (a file crashed the parser), each file left is read again in a process of its
    own, to find and report the culprit (and the logs are read here)."""
    taken = 0
    try:
        with pool(workers) as executor, no_gc():
            # first in the queue: one worker parses the logs while the other starts on the
            # profiles.  Read here, they held the GIL the window's thread needs, and kept a
            # core from the workers (which the window runs at a lower priority)
            side = executor.submit(load_sidecars, *side_args) if side_args else None
            results = executor.map(scan_chunk, chunks, [grouping] * len(chunks),
                                   [max_bytes] * len(chunks), [fraction] * len(chunks))
            if meanwhile is not None:   # every worker is started by now
                meanwhile()
                meanwhile = None
            for chunk, result in zip(chunks, results):
                take(chunk, result)
                taken += 1
            if side is not None:
                try:
                    sides.append(side.result())
                except BrokenProcessPool:
                    raise
                except Exception:   # it could not come back (pickling): read here instead
                    pass
    except BrokenProcessPool:
        for item in (item for chunk in chunks[taken:] for item in chunk):
            take([item], _scan_alone(item, grouping, max_bytes, pool, fraction))


def _scan_alone(item, grouping, max_bytes, pool, fraction) -> tuple:
    try:
        with pool(1) as executor:
            return executor.submit(scan_chunk, [item], grouping, max_bytes, fraction).result()
    except BrokenProcessPool:
        problem = Problem(str(item.path), "reading this file crashed the parser process "
                          "(the file is corrupt or crafted); the other files are loaded")
        return [], [problem], ([], {}, [])


def _join(found: Found, records: dict) -> Found:
    return found._replace(record=records.get(os.path.abspath(found.path)))

