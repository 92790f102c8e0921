"""A pstats dict as arrays: ids from an ``Interner``, four numbers per function and per edge.

This is the loading hot path.  ``pstats_file.validate`` checks every number with a Python
comparison (about 2.5 µs per entry, twice as long as ``marshal.loads`` of the file); here
the same rules are checked on whole columns with numpy, and a key is checked once, the
first time an interner sees it.  Anything out of the ordinary (the ``profile`` module's bare
call counts, float call counts, a ragged or foreign value) makes ``from_dict`` return None,
and the caller falls back to the full per-entry validator, which accepts or explains it.
Written by hand: no library converts pstats data to arrays.
"""
from __future__ import annotations

import re
from array import array
from itertools import chain
from typing import NamedTuple, Optional

import numpy as np

# the bounds pstats_file.validate checks (kept there: it is the reference)
MAX_LINE = 10 ** 9
MAX_CALLS = 10 ** 15
MAX_SECONDS = 3.2e7
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class BadKey(ValueError):
    """A function key that is not ``(str, int, str)``; the message shows it."""


class Interner:
    """Function keys → small ints, for one batch of files.

    A built-in named by its object's address (``<built-in method __enter__ of _thread.lock
    object at 0x7f…>``) gets the id of its name without the address: the address changes
    with every object and every run, and the entries of one name are added up (the same
    as ``pstats_file.without_addresses``, by the sums that follow).
    """

    __slots__ = ("keys", "_ids", "_plain")

    def __init__(self):
        self.keys: list = []      # id → FuncKey (addresses taken out)
        self._ids: dict = {}      # key as the file has it → id
        self._plain: dict = {}    # key without address → id

    def ids(self, keys, n: int) -> np.ndarray:
        """The ids of *n* keys (new ones checked and numbered)."""
        try:     # every key seen before (most of them, after a chunk's first files)
            return np.fromiter(map(self._ids.__getitem__, keys), np.int32, n)
        except KeyError:
            ids = self._ids
            return np.fromiter((ids[k] if k in ids else self._new(k) for k in keys),
                               np.int32, n)

    def id_of(self, key) -> Optional[int]:
        """The id of *key* (as a file has it, or without its address), None if unseen."""
        i = self._plain.get(key)
        return self._ids.get(key) if i is None else i

    def _new(self, key) -> int:
        if not (type(key) is tuple and len(key) == 3 and type(key[0]) is str
                and type(key[1]) is int and type(key[2]) is str
                and 0 <= key[1] < MAX_LINE):
            raise BadKey(key)
        plain = (key[0], key[1], _ADDRESS.sub("", key[2])) if (
            key[0] == "~" and " at 0x" in key[2]) else key
        i = self._plain.get(plain)
        if i is None:
            i = self._plain[plain] = len(self.keys)
            self.keys.append(plain)
        self._ids[key] = i
        return i


class Arrays(NamedTuple):
    """One profile: function ids with ``[ncalls, primcalls, tottime, cumtime]``, and the same
    per caller→callee edge.  No id and no edge repeats (built-ins that differed only by
    address are added up)."""

    ids: np.ndarray        # int32 (n,)
    vals: np.ndarray       # float64 (n, 4)
    callers: np.ndarray    # int32 (m,)
    callees: np.ndarray    # int32 (m,)
    evals: np.ndarray      # float64 (m, 4)
    total_tt: float


def _checked(columns, n: int) -> Optional[np.ndarray]:
    """``(n, 4)`` float64 of four columns ``ncalls, primcalls, tottime, cumtime``, or None
    unless the counts are ints and the times ints or floats, within pstats_file.validate's
    bounds.  ``array.array`` does the type test as it converts, in C: ``"q"`` takes ints
    only, ``"d"`` real numbers only (a per-number check in Python cost more than
    ``marshal.loads`` itself; ``set(map(type, …))`` then ``np.fromiter``, twice this)."""
    out = np.empty((n, 4))
    try:
        for c, (values, code) in enumerate(zip(columns, "qqdd")):
            out[:, c] = np.frombuffer(array(code, values), np.int64 if c < 2 else np.float64)
    except (OverflowError, ValueError, TypeError):
        return None
    if n:
        counts, times = out[:, :2], out[:, 2:]
        if counts.min() < 0 or counts.max() >= MAX_CALLS:
            return None
        if not (np.isfinite(times).all() and times.min() > -1.0 and times.max() < MAX_SECONDS):
            return None
    return out


def from_dict(stats, interner: Interner) -> Optional[Arrays]:
    """*stats* (fresh from ``marshal.loads``) as Arrays, or None when it is not plainly what
    cProfile writes (then ``pstats_file.validate`` decides).  Raises BadKey for a key that
    is not ``(str, int, str)``.  Every step is a C-level pass over a column: a Python loop
    per entry cost more than ``marshal.loads`` itself."""
    if type(stats) is not dict or not stats:
        return None
    try:
        cc, nc, tt, ct, callers = zip(*stats.values())
    except (TypeError, ValueError):
        return None
    if set(map(type, callers)) != {dict}:
        return None
    n = len(cc)
    vals = _checked((nc, cc, tt, ct), n)
    if vals is None:
        return None
    ids = interner.ids(stats, n)
    # per id: how many entries have it (two, for built-ins that differed by address)
    seen = np.bincount(ids, minlength=len(interner.keys))
    lens = list(map(len, callers))
    m = sum(lens)
    if m:
        edge_keys = list(chain.from_iterable(callers))
        edge_vals = list(chain.from_iterable(map(dict.values, callers)))
        try:
            if set(map(len, edge_vals)) != {4}:
                return None
        except TypeError:
            return None                   # ``profile``'s bare call counts: the slow path
        if set(map(type, edge_vals)) != {tuple}:
            return None
        evals = _checked(tuple(zip(*edge_vals)), m)
        if evals is None:
            return None
        e_from = interner.ids(edge_keys, m)
        if e_from.max() >= len(seen) or not seen[e_from].all():
            return None                   # a caller that is not in the profile: explained there
        e_to = np.repeat(ids, lens)
    else:
        evals = np.zeros((0, 4))
        e_from = e_to = np.zeros(0, np.int32)
    arrays = Arrays(ids, vals, e_from, e_to, evals, float(sum(tt)))
    return _merged(arrays) if seen.max() > 1 else arrays


def from_validated(stats: dict, interner: Interner) -> Arrays:
    """A dict ``pstats_file.validate`` accepted, as Arrays (the slow path: per entry)."""
    ids = interner.ids(stats, len(stats))
    vals = np.array([(v[1], v[0], v[2], v[3]) for v in stats.values()], np.float64)
    e_from, e_to, evals = [], [], []
    for i, value in zip(ids.tolist(), stats.values()):
        for caller, e in value[4].items():
            if type(e) is not tuple:
                e = (e, e, 0.0, 0.0)
            e_from.append(caller)
            e_to.append(i)
            evals.append(e)
    total = sum(v[2] for v in stats.values())
    arrays = Arrays(ids, vals.reshape(-1, 4), interner.ids(e_from, len(e_from)) if e_from else
                    np.zeros(0, np.int32), np.array(e_to, np.int32),
                    np.array(evals, np.float64).reshape(-1, 4), float(total))
    return _merged(arrays) if len(np.unique(ids)) != len(ids) else arrays


def _sum_by(keys: np.ndarray, rows: np.ndarray) -> tuple:
    unique, inverse = np.unique(keys, return_inverse=True)
    out = np.empty((len(unique), rows.shape[1]))
    for c in range(rows.shape[1]):
        out[:, c] = np.bincount(inverse.ravel(), weights=rows[:, c], minlength=len(unique))
    return unique, out


def _merged(arrays: Arrays) -> Arrays:
    """*arrays* with the entries of a repeated id added up (built-ins named by address),
    and the edges that then repeat too."""
    ids, vals = _sum_by(arrays.ids, arrays.vals)
    codes = (arrays.callers.astype(np.int64) << 32) | arrays.callees.astype(np.int64)
    codes, evals = _sum_by(codes, arrays.evals)
    return Arrays(ids.astype(np.int32), vals, (codes >> 32).astype(np.int32),
                  (codes & 0xFFFFFFFF).astype(np.int32), evals, arrays.total_tt)


def children(arrays: Arrays, interner: Interner) -> dict:
    """``{caller key: [callee keys]}`` of one profile (what ``view_candidates`` walks), in
    one pass over the edges sorted by caller, keyed by names without addresses (a walk
    reaches built-ins only as callees)."""
    keys = interner.keys
    order = np.argsort(arrays.callers, kind="stable")
    out: dict = {}
    last, bucket = -1, None
    for caller, callee in zip(arrays.callers[order].tolist(), arrays.callees[order].tolist()):
        if caller != last:
            bucket = out[keys[caller]] = []
            last = caller
        bucket.append(keys[callee])
    return out
