"""The comparison of two loaded captures, as the command line and the window ask for it:
match the endpoints, re-read the per-request function times, and judge (the rules are in
``analysis.compare``)."""
from __future__ import annotations

import os

from ..analysis import compare as cmp
from ..analysis.endpoints import group
from ..loading.reread import read_matrices


def compare(before, after, alpha: float = cmp.ALPHA, min_pct: float = cmp.MIN_PCT,
            min_ms: float = cmp.MIN_MS, functions: bool = True) -> dict:
    """The comparison of two Captures, JSON-ready (see the README for the contract).

    Without *functions*, the per-function rows are not tested (no profile is re-read).
    """
    pairs = cmp.match_endpoints(group(before), group(after))
    matrices = (read_matrices(pairs, os.cpu_count() or 1, (before.store, after.store))
                if functions else [None] * len(pairs))
    return cmp.result(before, after, pairs, matrices, alpha, min_pct, min_ms)
