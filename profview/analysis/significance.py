"""The significance tests of a comparison: Mann–Whitney U per pair of samples (exact while
cheap, conditional on ties) and row by row for many functions at once.  No Qt.

scipy's ``mannwhitneyu`` does the work where it applies; its exact method assumes no ties,
and latencies in whole ms (Werkzeug's file names) tie often, so the exact distribution
conditional on the ties is enumerated here while that is cheap (``EXACT_LIMIT``).
"""
from __future__ import annotations

import itertools
import math

import numpy as np


class _Lazy:
    """``scipy.stats``, imported on first use: it takes about a second to import, and a
    report without a comparison never needs it."""

    def __getattr__(self, name):
        from scipy import stats
        return getattr(stats, name)


_sps = _Lazy()

ALPHA = 0.05                # the false discovery rate a verdict is held to, by default
EXACT_LIMIT = 13_000        # arrangements enumerated for an exact test with ties (8 + 8)


def _exact_rows(a: np.ndarray, b: np.ndarray) -> tuple:
    """Exact two-sided Mann–Whitney p per row, conditional on the pooled values (ties
    included), by enumerating every split; and the smallest p each row could reach."""
    pooled = np.concatenate([a, b], axis=1)
    n1, n = a.shape[1], pooled.shape[1]
    combos = np.array(list(itertools.combinations(range(n), n1)))     # the observed one first
    member = np.zeros((n, len(combos)))
    member[combos, np.arange(len(combos))[:, None]] = 1.0
    p_out, min_out = np.empty(len(pooled)), np.empty(len(pooled))
    centre = n1 * (n + 1) / 2.0
    for lo in range(0, len(pooled), 256):
        ranks = _sps.rankdata(pooled[lo:lo + 256], axis=1)
        dev = np.abs(ranks @ member - centre)
        eps = 1e-7
        p_out[lo:lo + 256] = (dev >= dev[:, :1] - eps).mean(axis=1)
        min_out[lo:lo + 256] = (dev >= dev.max(axis=1, keepdims=True) - eps).mean(axis=1)
    return p_out, min_out


def mann_whitney_rows(a, b) -> tuple:
    """``(p, smallest reachable p)`` arrays: a two-sided Mann–Whitney test per row of the
    2-D arrays *a* (before) and *b* (after), one column per request."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    rows = a.shape[0]
    if rows == 0 or a.shape[1] == 0 or b.shape[1] == 0:
        return np.full(rows, np.nan), np.full(rows, np.nan)
    n1, n2 = a.shape[1], b.shape[1]
    if math.comb(n1 + n2, n1) <= EXACT_LIMIT:
        return _exact_rows(a, b)
    pooled = np.concatenate([a, b], axis=1)
    constant = (pooled == pooled[:, :1]).all(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = _sps.mannwhitneyu(a, b, axis=1, method="asymptotic").pvalue
    p = np.where(constant | np.isnan(p), 1.0, p)
    return p, np.where(constant, 1.0, 0.0)


def mann_whitney(a, b) -> tuple:
    """``(p, smallest reachable p)`` of the two-sided Mann–Whitney U test of two samples.

    Without ties this is ``scipy.stats.mannwhitneyu(method="auto")``: exact when a sample has
    at most 8 values.  With ties scipy's exact method does not apply; the exact distribution
    conditional on the ties is enumerated while that is cheap (``EXACT_LIMIT``), else the
    tie-corrected normal approximation is used.
    """
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan
    pooled = list(a) + list(b)
    if len(set(pooled)) == 1:
        return 1.0, 1.0
    if len(set(pooled)) == n1 + n2:
        p = float(_sps.mannwhitneyu(a, b, method="auto").pvalue)
        small = min(n1, n2) <= 8
        return min(1.0, p), (min(1.0, 2.0 / math.comb(n1 + n2, n1)) if small else 0.0)
    p, low = mann_whitney_rows([list(a)], [list(b)])
    return float(p[0]), float(low[0])


def mann_whitney_p(a, b) -> float:
    """Two-sided p-value of the Mann–Whitney U test (see ``mann_whitney``)."""
    return mann_whitney(a, b)[0]


def resolution_ms(*samples) -> float:
    """The timing resolution of latency samples: 1 ms when every value is whole ms (the
    latency in a Werkzeug file name), else 0 (times measured to the µs)."""
    values = [v for s in samples for v in s]
    return 1.0 if values and all(float(v).is_integer() for v in values) else 0.0
