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
import secrets
from array import array
from itertools import chain
from typing import NamedTuple, Optional

import numpy as np

from ..model.store import News

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

    It also remembers the *shapes* of the profiles it numbered (see ``Shape``).
    """

    __slots__ = ("keys", "_ids", "_plain", "shapes", "token", "sent")

    def __init__(self):
        self.keys: list = []      # id → FuncKey (addresses taken out)
        self._ids: dict = {}      # key as the file has it → id
        self._plain: dict = {}    # key without address → id
        self.shapes: dict = {}    # signature → Shape
        self.token = secrets.token_hex(8)   # names this numbering to whoever receives it
        self.sent = 0             # keys handed out already (``news``)

    def news(self) -> News:
        """``News(token, start, keys)``: the keys numbered since the last call, *start* the id
        of the first.  A worker that keeps one interner for many chunks sends only these,
        and the receiver (``store.Builder``) extends its mapping of the token's ids."""
        start, self.sent = self.sent, len(self.keys)
        return News(self.token, start, self.keys[start:])

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


class Shape:
    """What a profile's functions and edges decide, whatever its numbers: the ids, the
    edges in ids, and what the loader derives from them (``facts``: the view candidates,
    the execute() entries).  Requests of one endpoint mostly run the same code: in a real
    capture of 800 requests, 130 shapes.  So a profile whose shape an interner has seen
    is numbered by a hash of its keys instead of a dictionary lookup per key, and its
    facts are not worked out again."""

    __slots__ = ("ids", "callers", "callees", "repeats", "facts")

    def __init__(self, ids, callers, callees, repeats: bool):
        self.ids, self.callers, self.callees = ids, callers, callees
        for a in (ids, callers, callees):
            a.setflags(write=False)      # shared by every profile of the shape
        self.repeats = repeats           # an id repeats: entries to add up (``_merged``)
        self.facts: dict = {}


MAX_SHAPES = 4096   # per interner: beyond this, a worker reading many apps starts afresh


class Arrays(NamedTuple):
    """One profile: function ids with ``[ncalls, primcalls, tottime, cumtime]``, and the same
    per caller→callee edge.  No id and no edge repeats (built-ins that differed only by
    address are added up).  *shape* is the profile's ``Shape`` when ``from_dict`` made it."""

    ids: np.ndarray        # int32 (n,)
    vals: np.ndarray       # float64 (n, 4)
    callers: np.ndarray    # int32 (m,)
    callees: np.ndarray    # int32 (m,)
    evals: np.ndarray      # float64 (m, 4)
    total_tt: float
    shape: Optional[Shape] = None


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
    keys = tuple(stats)
    lens = tuple(map(len, callers))
    edge_keys = tuple(chain.from_iterable(callers))
    m = len(edge_keys)
    if m:
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
    else:
        evals = np.zeros((0, 4))
    # The shape's signature: the keys, the callers' keys in order and how they split per
    # callee.  str hashes are keyed per process (SipHash), so a crafted file cannot aim at
    # another profile's signature; two shapes of one hash would need a 2**-64 accident.
    signature = (n, m, hash(keys), hash(edge_keys), hash(lens))
    shape = interner.shapes.get(signature)
    if shape is None:
        shape = _shape(keys, edge_keys, lens, interner)
        if shape is None:
            return None
        if len(interner.shapes) >= MAX_SHAPES:
            interner.shapes.clear()
        interner.shapes[signature] = shape
    arrays = Arrays(shape.ids, vals, shape.callers, shape.callees, evals, float(sum(tt)),
                    shape)
    return _merged(arrays) if shape.repeats else arrays


def _shape(keys: tuple, edge_keys: tuple, lens: tuple, interner: Interner):
    """The Shape of a profile new to *interner* (its keys numbered), or None when a caller
    is not in the profile (``pstats_file.validate`` explains that)."""
    ids = interner.ids(keys, len(keys))
    # per id: how many entries have it (two, for built-ins that differed by address)
    seen = np.bincount(ids, minlength=len(interner.keys))
    if edge_keys:
        e_from = interner.ids(edge_keys, len(edge_keys))
        if e_from.max() >= len(seen) or not seen[e_from].all():
            return None
        e_to = np.repeat(ids, lens)
    else:
        e_from = e_to = np.zeros(0, np.int32)
    return Shape(ids, e_from, e_to, bool(seen.max() > 1))


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
                  (codes & 0xFFFFFFFF).astype(np.int32), evals, arrays.total_tt,
                  arrays.shape)


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
