"""Read a request's profile whatever it was recorded as: a pstats file, or sampled stacks.

The loaders call these instead of ``pstats_file`` so that a request with stacks and no
cProfile (``profile=False``) goes through the same sums, views and findings; both raise
``pstats_file.ProfileError`` for what cannot be read, OSError for a missing file.
"""
from __future__ import annotations

from ..model.callgraph import CallGraph
from . import pstats_arrays, pstats_file, stacks_pstats
from .pstats_file import DEFAULT_MAX_BYTES, Pstats


def read(path, max_bytes: int = DEFAULT_MAX_BYTES) -> Pstats:
    """The validated pstats table of the profile at *path*."""
    if stacks_pstats.is_stacks(path):
        return stacks_pstats.read(path, max_bytes)
    return pstats_file.read(path, max_bytes)


def read_arrays(path, interner, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple:
    """``(stats, arrays)`` as ``pstats_file.read_arrays`` gives them."""
    if stacks_pstats.is_stacks(path):
        stats = stacks_pstats.read(path, max_bytes).stats
        return stats, pstats_arrays.from_validated(stats, interner)
    return pstats_file.read_arrays(path, interner, max_bytes)


def load(path, max_bytes: int = DEFAULT_MAX_BYTES) -> CallGraph:
    """The call graph of the profile at *path*."""
    return CallGraph.from_pstats(read(path, max_bytes).stats)
