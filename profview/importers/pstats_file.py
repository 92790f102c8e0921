"""Importer for cProfile/pstats files (``.prof``, ``.pstats``), the format of Werkzeug's profiler.

A pstats file is a marshal'd dict ``{(file, line, name): (cc, nc, tt, ct, callers)}`` with
``callers = {(file, line, name): (nc, cc, tt, ct)}``.  It is read with
``marshal.loads(path.read_bytes())`` (``pstats.Stats`` reads the file in tiny chunks and is ten
times slower) and every entry is checked before use, so a foreign, truncated or crafted file
becomes a clear message instead of an exception deep inside a view.  Nothing is ever unpickled
or executed.
"""
from __future__ import annotations

import marshal
import math
import os
import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

try:
    import resource
except ImportError:  # not on Windows: no cap there
    resource = None

from ..model.callgraph import CallGraph
from . import pstats_arrays
from .files import FileRefused, read_regular

SUFFIXES = (".prof", ".pstats")
# What a real profile can hold: a line number, a call count, seconds (a year of CPU).
MAX_LINE = 10 ** 9
MAX_CALLS = 10 ** 15
MAX_SECONDS = 3.2e7
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
_MARSHAL_DICT = (b"{", b"\xfb")  # TYPE_DICT, with and without FLAG_REF


def megabytes(text: str) -> float:
    """A size limit given on the command line, in MB: a finite number above zero (argparse
    reports the ValueError as an invalid value)."""
    value = float(text)
    if not (math.isfinite(value) and 0 < value <= 1e9):
        raise ValueError(text)
    return value


class ProfileError(ValueError):
    """The bytes are not a usable pstats profile; the message says why, for a person."""


def sniff(name: str, head: bytes = b"") -> bool:
    """True for a name ending in .prof/.pstats, or content that starts like a marshal dict."""
    if name.lower().endswith(SUFFIXES):
        return True
    return head[:1] in _MARSHAL_DICT


def read(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Pstats:
    """The validated pstats data stored at *path*; raises ProfileError or OSError (a FIFO, a
    device or a file over *max_bytes* is refused before or while it is read)."""
    try:
        data = read_regular(path, max_bytes)
    except FileRefused as exc:   # a FIFO, a device, over the limit: not a usable profile
        raise ProfileError(str(exc)) from None
    return parse(data)


def read_arrays(path: Path, interner, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple:
    """``(stats, arrays)``: the pstats dict at *path* as ``marshal`` gave it, and as
    ``pstats_arrays.Arrays`` numbered by *interner*.  Plain cProfile data is checked column
    by column; anything else goes through ``validate``, which accepts it or says what is
    wrong (ProfileError).  OSError when the file cannot be read."""
    try:
        data = read_regular(path, max_bytes)
    except FileRefused as exc:
        raise ProfileError(str(exc)) from None
    stats = _unmarshal(data)
    try:
        arrays = pstats_arrays.from_dict(stats, interner)
    except pstats_arrays.BadKey as exc:
        raise ProfileError("malformed function key %s" % _short(exc.args[0])) from None
    except Exception:   # whatever a crafted value trips there: validate explains it
        arrays = None
    if arrays is not None:
        return stats, arrays
    checked = _checked(stats)
    return checked.stats, pstats_arrays.from_validated(checked.stats, interner)


def load(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> CallGraph:
    """The call graph stored at *path*; raises ProfileError or OSError."""
    return CallGraph.from_pstats(read(path, max_bytes).stats)


def parse(data: bytes) -> Pstats:
    """Unmarshal and validate pstats bytes; raises ProfileError with a readable message."""
    return _checked(_unmarshal(data))


def _unmarshal(data: bytes):
    if not data:
        raise ProfileError("empty file")
    first = data[:1]
    if first == b"\x80":
        raise ProfileError("this is a Python pickle, not a pstats file "
                           "(profview never unpickles files)")
    if first not in _MARSHAL_DICT:
        raise ProfileError("not a pstats file (it does not start with a marshal dict; "
                           "first bytes %r)" % data[:8])
    try:
        stats = _bounded_loads(data)
    except MemoryError:
        raise ProfileError("the file declares far more data than it holds "
                           "(corrupt or crafted); not loaded") from None
    except Exception as exc:  # marshal raises EOFError/ValueError/TypeError on bad data
        raise ProfileError("truncated or corrupt pstats data (%s)" % _short(exc)) from None
    return stats


def _checked(stats) -> Pstats:
    try:
        return without_addresses(validate(stats))
    except ProfileError:
        raise
    except Exception as exc:  # whatever a crafted value trips: the file, not the load, fails
        raise ProfileError("malformed pstats data (%s: %s)" % (type(exc).__name__,
                                                               _short(exc))) from None


def _vm_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _bounded_loads(data: bytes):
    """``marshal.loads`` under an address-space limit.

    marshal allocates a container before reading its items: six crafted bytes declaring a
    tuple of 2**31 items made it take 16 GB and 29 s here.  A real profile needs a few times
    its size; so, on a process's main thread (the command line, the window's parser
    processes), the address space is capped at what is in use plus 64x the file plus 256 MB
    while it loads, and such a file fails at once with MemoryError.  The window's own threads
    (which only re-read files already validated) never set the cap: it would hit the GUI.
    """
    if (resource is None or threading.current_thread() is not threading.main_thread()
            or not os.path.exists("/proc/self/statm")):
        return marshal.loads(data)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    budget = _vm_bytes() + 64 * len(data) + 256 * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        budget = min(budget, hard)
    if soft != resource.RLIM_INFINITY and soft <= budget:
        return marshal.loads(data)
    resource.setrlimit(resource.RLIMIT_AS, (budget, hard))
    try:
        return marshal.loads(data)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _short(obj, limit: int = 80) -> str:
    """A bounded repr: a 5,000-digit int has no repr at all (ValueError), say so instead."""
    try:
        text = repr(obj)
    except ValueError:
        return "<a number too long to show>"
    return text if len(text) <= limit else text[:limit] + "…"


class Pstats(NamedTuple):
    """A validated pstats dict, with the callee index and total time found while checking it."""

    stats: dict          # {(file, line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}
    callees: dict        # {caller: [callee, ...]}
    total_tt: float      # sum of self times, seconds


def validate(stats) -> Pstats:
    """Check that *stats* has exactly the shape cProfile writes; raise ProfileError if not.

    This runs once per entry of every file and is the loading hot path (measured: explicit
    ``type()`` tests on every number cost 40% more), so numbers are checked by arithmetic that
    fails on anything else: ``x - x == 0.0`` is False for NaN and ±inf and raises TypeError for
    strings, tuples and None; an order comparison raises TypeError for complex numbers.  Times
    may dip below zero by timer noise, never by a second.  The callee index is built in the
    same pass.
    """
    if type(stats) is not dict:
        raise ProfileError("not a pstats profile (marshal data is a %s, not a dict)"
                           % type(stats).__name__)
    if not stats:
        raise ProfileError("the profile holds no functions")
    tup, st, it = tuple, str, int
    callees: dict = defaultdict(list)
    total_tt = 0.0
    key = caller = None
    try:
        for key, value in stats.items():
            caller = None
            if not (type(key) is tup and len(key) == 3 and type(key[0]) is st
                    and type(key[1]) is it and type(key[2]) is st
                    and 0 <= key[1] < MAX_LINE):
                raise ProfileError("malformed function key %s" % _short(key))
            cc, nc, tt, ct, callers = value
            # Bounded magnitudes too: 10**400 passes "x - x == 0" (ints are exact) and then
            # overflows every float sum; a 5,000-digit count cannot even be printed.
            if not (0 <= cc < MAX_CALLS and 0 <= nc < MAX_CALLS and -1.0 < tt < MAX_SECONDS
                    and -1.0 < ct < MAX_SECONDS and tt - tt == 0.0 and ct - ct == 0.0
                    and type(callers) is dict):
                raise ValueError
            total_tt += tt
            for caller, edge in callers.items():
                if type(edge) is tup:
                    enc, ecc, ett, ect = edge
                    if not (0 <= enc < MAX_CALLS and 0 <= ecc < MAX_CALLS
                            and -1.0 < ett < MAX_SECONDS and -1.0 < ect < MAX_SECONDS
                            and ett - ett == 0.0 and ect - ect == 0.0):
                        raise ValueError
                elif type(edge) is not it or not 0 <= edge < MAX_CALLS:
                    raise ValueError  # ``profile`` (pure Python) stores a bare count
                callees[caller].append(key)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ProfileError):
            raise
        if caller is None:
            raise ProfileError("malformed stats for %s: %s"
                               % (_short(key), _short(stats.get(key)))) from None
        raise ProfileError("malformed call %s → %s: %s" % (
            _short(caller), _short(key), _short(stats[key][4].get(caller)))) from None
    if not callees.keys() <= stats.keys():
        unknown = next(k for k in callees if k not in stats)
        raise ProfileError("%s calls functions but is not in the profile itself"
                           % _short(unknown))
    return Pstats(stats, callees, total_tt)


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _plain(key: tuple) -> tuple:
    return (key[0], key[1], _ADDRESS.sub("", key[2])) if key[0] == "~" else key


def _sum(a, b):
    if type(a) is int or type(b) is int:       # ``profile``'s bare call counts
        a = (a, a, 0.0, 0.0) if type(a) is int else a
        b = (b, b, 0.0, 0.0) if type(b) is int else b
    return tuple(x + y for x, y in zip(a, b))


def without_addresses(data: Pstats) -> Pstats:
    """*data* with the memory addresses taken out of built-in names.

    cProfile names a built-in method by its object: ``<built-in method __new__ of type object
    at 0x7f3ecd85ea00>``, ``<built-in method __enter__ of _thread.lock object at 0x…>``.  The
    address changes with every run and every object, so the same function would be a
    different one in each capture (a comparison showed it "gone" and "new") and split into
    one row per lock.  Entries that become the same name are added up, edges too.

    The data (fresh from ``marshal.loads``) is changed in place, and only where a named
    entry is: a real profile has a handful in a thousand, and rebuilding every entry made
    parsing 65% slower on a SQLAlchemy app's profiles.
    """
    stats, callees = data.stats, data.callees
    bad = [k for k in stats if k[0] == "~" and " at 0x" in k[2]]
    if not bad:
        return data
    rename = {k: _plain(k) for k in bad}
    # 1. the callers dicts that name a renamed function (its callees, from the index)
    for callee in {c for k in bad for c in callees.get(k, ())}:
        callers = stats[callee][4]
        for old in [c for c in callers if c in rename]:
            edge, new = callers.pop(old), rename[old]
            callers[new] = _sum(callers[new], edge) if new in callers else edge
    # 2. the renamed entries themselves, added to an entry of the same plain name
    for old in bad:
        new = rename[old]
        entry = stats.pop(old)
        if new in stats:
            cc, nc, tt, ct, callers = stats[new]
            for c, edge in entry[4].items():
                callers[c] = _sum(callers[c], edge) if c in callers else edge
            stats[new] = (cc + entry[0], nc + entry[1], tt + entry[2], ct + entry[3], callers)
        else:
            stats[new] = entry
    # 3. the callee index: a renamed caller's list under its plain name, then the lists of
    # every caller of a renamed function (the only lists that can name one)
    for old in bad:
        moved = callees.pop(old, None)
        if moved:
            callees[rename[old]] = callees.get(rename[old], []) + moved
    for new in set(rename.values()):
        for caller in stats[new][4]:
            listed = callees.get(caller)
            if listed is not None:
                listed[:] = list(dict.fromkeys(rename.get(k, k) for k in listed))
    return Pstats(stats, callees, data.total_tt)
