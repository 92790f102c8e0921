"""Latency statistics and number formatting, shared by the report and the window."""
from __future__ import annotations

import math
import statistics
import time
from typing import Sequence

import numpy as np


def p50(values: Sequence[float]) -> float:
    """The median, as ``statistics.median`` (mean of the two middle values for even counts)."""
    return float(statistics.median(values)) if len(values) else math.nan


def nearest_rank(values: Sequence[float], pct: float) -> float:
    """The *pct* percentile by nearest rank: the smallest value with at least pct% at or below."""
    if len(values) == 0:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return float(ordered[rank - 1])


def p95(values: Sequence[float]) -> float:
    return nearest_rank(values, 95.0)


def format_clock(epoch, fmt: str = "%H:%M:%S", millis: bool = False) -> str:
    """Local clock time of an epoch for display; ``?`` for a time no clock can show (a log
    line's 1e300, NaN), which ``time.localtime`` would raise on."""
    try:
        text = time.strftime(fmt, time.localtime(epoch))
    except (OverflowError, OSError, ValueError, TypeError):
        return "?"
    return text + (".%03d" % int(epoch % 1 * 1000) if millis else "")


def format_ms(ms: float) -> str:
    """Milliseconds for a table: ``0.42 ms``, ``38 ms``, ``5.02 s``."""
    if ms is None or math.isnan(ms):
        return "–"
    if ms == 0:
        return "0 ms"
    if ms >= 10_000:
        return "%.1f s" % (ms / 1000.0)
    if ms >= 1000:
        return "%.2f s" % (ms / 1000.0)
    if ms >= 10:
        return "%.0f ms" % ms
    if ms >= 1:
        return "%.1f ms" % ms
    return "%.2f ms" % ms


def bh_adjust(pvalues: Sequence) -> list:
    """Benjamini–Hochberg adjusted p-values (q-values) of a family of tests, in order.

    ``None`` or NaN entries are not part of the family and stay ``None``.  A test is a
    discovery at false discovery rate *q* when its adjusted value is below *q*; the procedure
    controls the FDR for independent or positively dependent tests.
    """
    values = np.array([np.nan if p is None else p for p in pvalues], np.float64)
    out: list = [None] * len(values)
    idx = np.flatnonzero(~np.isnan(values))
    m = len(idx)
    if not m:
        return out
    # ascending p (ties in index order, as a stable sort gives), then the running minimum
    # of p·m/rank from the largest rank down: the same products, in the same order, as the
    # textbook loop
    order = idx[np.argsort(values[idx], kind="stable")]
    ranks = np.arange(1, m + 1)
    scaled = values[order] * m / ranks
    running = np.minimum.accumulate(np.minimum(scaled[::-1], 1.0))[::-1]
    for i, q in zip(order.tolist(), np.minimum(1.0, running).tolist()):
        out[i] = q
    return out
