"""Adding up pstats entries as dicts, for merging profiles read again from disk
(``merge.load_graph``, the reference the in-memory sums of ``model.store`` are tested
against).

Plain ``[ncalls, primcalls, tottime, cumtime, requests]`` lists summed in place: building
Stats tuples per file and adding them was 3x slower on a 1,000-request merge, and this runs
once per function and edge of every file loaded.  The fifth number counts the requests an
entry appears in (``model.store`` needs it to tell an entry from float residue).
"""
from __future__ import annotations


def add_functions(totals: dict, stats: dict) -> None:
    """Add a validated pstats dict's function stats to *totals* (``{key: [5]}``)."""
    get = totals.get
    for key, (cc, nc, tt, ct, _callers) in stats.items():
        acc = get(key)
        if acc is None:
            totals[key] = [nc, cc, tt, ct, 1]
        else:
            acc[0] += nc
            acc[1] += cc
            acc[2] += tt
            acc[3] += ct
            acc[4] += 1


def add_edges(edges: dict, stats: dict) -> None:
    """Add a pstats dict's caller→callee edges to *edges* (``{(caller, callee): [5]}``); the
    pure-Python ``profile`` module stores a bare call count instead of a tuple."""
    eget = edges.get
    for key, value in stats.items():
        for caller, e in value[4].items():
            if type(e) is not tuple:
                e = (e, e, 0.0, 0.0)
            pair = (caller, key)
            acc = eget(pair)
            if acc is None:
                edges[pair] = [e[0], e[1], e[2], e[3], 1]
            else:
                acc[0] += e[0]
                acc[1] += e[1]
                acc[2] += e[2]
                acc[3] += e[3]
                acc[4] += 1


def add_totals(into: dict, part: dict) -> None:
    """Add *part*'s ``{key: [5]}`` totals (a worker's) to *into*; lists of *part* may be
    taken over, so *part* is not to be used afterwards."""
    for key, value in part.items():
        acc = into.get(key)
        if acc is None:
            into[key] = value
        else:
            acc[0] += value[0]
            acc[1] += value[1]
            acc[2] += value[2]
            acc[3] += value[3]
            acc[4] += value[4]
