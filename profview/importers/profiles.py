"""Read a request's profile whatever wrote it: cProfile (pstats), profview's sampled stacks, or
another profiler's stacks (speedscope JSON, pyinstrument JSON, folded stacks).

The loaders call these instead of ``pstats_file`` so that every input goes through the same
sums, views and findings: a stack-based input is read as the pstats table its stacks imply
(``stacks_pstats``: times exact, calls unknown) and keeps its stacks for exact flame graphs
(``load_stacks``).  One registry, ``STACK_FORMATS``, picks the importer by name, then by
content, as ``importers.pick`` does; every importer raises its own error, turned here into
``pstats_file.ProfileError`` (OSError for a file that cannot be read).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..model.callgraph import CallGraph
from . import (Importer, collapsed, pick, pstats_arrays, pstats_file, pyinstrument_json,
               speedscope, stacks_file, stacks_pstats)
from .files import read_head
from .pstats_file import DEFAULT_MAX_BYTES, Pstats, ProfileError
from .stack_build import StackInputError


def _profview_stacks(path, max_bytes=stacks_file.DEFAULT_MAX_BYTES) -> list:
    return [stacks_file.load(path, max_bytes)]


STACK_FORMATS = (
    Importer("profview stacks", "stacks", stacks_file.sniff, _profview_stacks),
    Importer("speedscope", "stacks", speedscope.sniff, speedscope.load),
    Importer("pyinstrument", "stacks", pyinstrument_json.sniff, pyinstrument_json.load),
    Importer("folded stacks", "stacks", collapsed.sniff, collapsed.load),
)
# In a directory, files with these endings are profiles (".json": when its content says
# so).  Not ".stacks": profview's stacks files are found through requests.jsonl.
SUFFIXES = pstats_file.SUFFIXES + speedscope.SUFFIXES + pyinstrument_json.SUFFIXES \
    + collapsed.SUFFIXES


# A request's share of a long profile of a whole process (``cut_path``): the file, the
# request's window in epoch seconds, and the thread that served it (0: unknown).
_CUT = re.compile(r"^(.*)#cut=([0-9]+(?:\.[0-9]+)?):([0-9]+(?:\.[0-9]+)?)@([0-9]{1,20})$",
                  re.S)


def cut_path(path, start: float, end: float, thread=None) -> Path:
    """How the samples of *path* from *start* to *end* (epoch s), of *thread*, are named."""
    return Path("%s#cut=%r:%r@%d" % (os.fspath(path), float(start), float(end), thread or 0))


def split_cut(path):
    """``(file, start, end, thread)`` of a ``cut_path``, else None (a file that exists
    under that very name is never a cut)."""
    text = os.fspath(path)
    match = _CUT.match(text)
    if match is None or os.path.lexists(text):
        return None
    return Path(match[1]), float(match[2]), float(match[3]), int(match[4])


def stack_format(path):
    """The stack importer of *path* (None: not stacks: pstats, or something else)."""
    if pstats_file.sniff(os.path.basename(os.fspath(path))):
        return None                # a .prof: the loading hot path, decided by the name alone
    cut = split_cut(path)
    if cut is not None:
        path = cut[0]
    file, offset, _length = stacks_file.split_block(path)
    if offset is not None:
        return STACK_FORMATS[0]
    name = file.name
    chosen = pick(STACK_FORMATS, name, b"")
    if chosen is not None:
        return chosen
    try:
        head = read_head(file, 4096)
    except OSError:
        return None
    return pick(STACK_FORMATS, name, head)


def is_profile_json(path) -> bool:
    """For a ``.json`` file in a directory: True when it is a speedscope or pyinstrument file."""
    try:
        head = read_head(path, 4096)
    except OSError:
        return False
    return speedscope.sniff("", head) or pyinstrument_json.sniff("", head)


def load_stacks(path, max_bytes: int = stacks_file.DEFAULT_MAX_BYTES) -> list:
    """``[StackProfile]`` of a stack-based input (a file may hold several: py-spy writes a
    profile per thread); ProfileError when it is not one or cannot be used."""
    chosen = stack_format(path)
    if chosen is None:
        raise ProfileError("not a stack-based profile")
    cut = split_cut(path)
    if cut is not None:
        file, start, end, thread = cut
        whole = _cached(file, max_bytes)
        return [p.between(start, end, file.name) for p in whole if p.clock and p.timed
                and (not thread or not p.thread or p.thread == thread)]
    try:
        return chosen.load(path, max_bytes)
    except stacks_file.StacksError as exc:
        raise ProfileError("sampled stacks: %s" % exc) from None
    except StackInputError as exc:         # its message names the format already
        raise ProfileError(str(exc)) from None


_LONG: dict = {}      # (path, size, mtime) → its profiles: a long file is cut many times


def _cached(file: Path, max_bytes: int) -> list:
    st = os.stat(file)
    key = (str(file), st.st_size, st.st_mtime_ns)
    got = _LONG.get(key)
    if got is None:
        got = load_stacks(file, max_bytes)
        if len(_LONG) >= 4:
            _LONG.clear()
        _LONG[key] = got
    return got


def read(path, max_bytes: int = DEFAULT_MAX_BYTES, meta=None) -> Pstats:
    """The validated pstats table of the profile at *path*.  For a stack-based input, the
    dict *meta* gets ``stacks`` (True), ``notes`` (what its importer assumed or passed over) and, when the
    input has a clock, ``span``: ``(start epoch s, length ms)`` of its samples."""
    if stack_format(path) is None:
        return pstats_file.read(path, max_bytes)
    stacks = load_stacks(path, max_bytes)
    if meta is not None:
        meta["stacks"] = True              # read from stacks: times exact, calls unknown
        notes = meta.setdefault("notes", [])
        notes.extend(n for p in stacks for n in p.notes if n not in notes)
        clocked = [p for p in stacks if p.clock and p.end_ms is not None]
        if clocked:
            start = min(p.start for p in clocked)
            end = max(p.start + p.end_ms / 1000.0 for p in clocked)
            meta["span"] = (start, (end - start) * 1000.0)
    return stacks_pstats.table(stacks)


def read_arrays(path, interner, max_bytes: int = DEFAULT_MAX_BYTES, meta=None) -> tuple:
    """``(stats, arrays)`` as ``pstats_file.read_arrays`` gives them (*meta*: see read)."""
    if stack_format(path) is None:
        return pstats_file.read_arrays(path, interner, max_bytes)
    stats = read(path, max_bytes, meta).stats
    return stats, pstats_arrays.from_validated(stats, interner)


def load(path, max_bytes: int = DEFAULT_MAX_BYTES) -> CallGraph:
    """The call graph of the profile at *path*."""
    return CallGraph.from_pstats(read(path, max_bytes).stats)
