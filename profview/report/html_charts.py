"""Inline SVG charts for the HTML report: one endpoint's latencies, or before against after.

The charts are strings of SVG written into the page, so the file needs no script library, no
network and prints as it shows.  Every label is escaped by the caller's ``esc`` rule (request
paths come from the capture and are untrusted), and the SVG is well-formed XML on its own.
There is no namespace declaration: inline SVG in HTML needs none, and the page then holds no
URL at all.
"""
from __future__ import annotations

import math

from ..analysis.stats import format_ms, p50

WIDTH, ROW, PAD = 560, 28, 10
# Past this many requests a dot per request makes a heavy file and an unreadable smear, so
# the chart becomes a histogram of the same axis instead.
MAX_DOTS = 300
BINS = 40
BEFORE_COLOUR, AFTER_COLOUR, ONE_COLOUR = "#6b7a99", "#d9661f", "#2f6db5"


class Axis:
    """Milliseconds → x.  Logarithmic when the spread is over 100×, because one slow outlier
    on a linear axis squeezes every ordinary request into the first pixel."""

    def __init__(self, values, width: int = WIDTH):
        positive = [v for v in values if v > 0]
        self.hi = max(values) if values else 1.0
        self.lo = min(positive) if positive else 0.0
        self.log = bool(positive) and self.hi / self.lo > 100.0
        self.left, self.right = PAD, width - PAD
        if not self.log:
            self.lo = 0.0
        if self.hi <= self.lo:
            self.hi = self.lo + 1.0

    def x(self, ms: float) -> float:
        if self.log:
            t = (math.log(max(ms, self.lo)) - math.log(self.lo)) / (
                math.log(self.hi) - math.log(self.lo))
        else:
            t = (ms - self.lo) / (self.hi - self.lo)
        return round(self.left + t * (self.right - self.left), 1)

    def ticks(self) -> list:
        """Labelled ends of the axis (the middle one in log space when logarithmic)."""
        if self.log:
            mid = math.exp((math.log(self.lo) + math.log(self.hi)) / 2.0)
            return [self.lo, mid, self.hi]
        return [0.0, self.hi / 2.0, self.hi]


def _jitter(i: int) -> float:
    # Deterministic spread within a row (golden-ratio sequence): the same capture gives the
    # same file, and overlapping requests do not hide one another.
    return (i * 0.618034) % 1.0


def _row(esc, axis: Axis, values, labels, y0: float, colour: str) -> list:
    """One row of the chart: a dot per request (or a histogram) and its median as a bar."""
    out = []
    if len(values) <= MAX_DOTS:
        for i, (v, label) in enumerate(zip(values, labels)):
            cy = round(y0 + 5 + _jitter(i) * (ROW - 10), 1)
            out.append('<circle cx="%s" cy="%s" r="3" fill="%s" fill-opacity="0.6">'
                       '<title>%s</title></circle>' % (axis.x(v), cy, colour,
                                                       esc("%s: %s" % (label, format_ms(v)))))
    else:
        counts = [0] * BINS
        span = axis.right - axis.left
        for v in values:
            counts[min(BINS - 1, int((axis.x(v) - axis.left) / span * BINS))] += 1
        top = max(counts)
        for b, n in enumerate(counts):
            if n:
                h = max(1.0, (ROW - 4) * n / top)
                out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">'
                           '<title>%d requests</title></rect>' % (
                               axis.left + b * span / BINS, y0 + ROW - 2 - h, span / BINS - 0.5,
                               h, colour, n))
    if values:
        mx = axis.x(p50(values))
        out.append('<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#111" stroke-width="2">'
                   '<title>%s</title></line>' % (mx, mx, y0 + 1, y0 + ROW - 1,
                                                 esc("median " + format_ms(p50(values)))))
    return out


def _frame(esc, axis: Axis, rows: list, title: str) -> str:
    """The <svg> around *rows* ``[(name, values, labels, colour)]``, with the axis below."""
    height = len(rows) * ROW + 18
    parts = ['<svg class="chart" width="%d" height="%d" '
             'viewBox="0 0 %d %d" role="img"><title>%s</title>' % (
                 WIDTH + 50, height, WIDTH + 50, height, esc(title))]
    for i, (name, values, labels, colour) in enumerate(rows):
        y0 = i * ROW
        parts.append('<rect x="%d" y="%d" width="%d" height="%d" fill="#f4f5f7"/>' % (
            PAD, y0 + 1, WIDTH - 2 * PAD, ROW - 2))
        parts.extend(_row(esc, axis, values, labels, y0, colour))
        if name:
            parts.append('<text x="%d" y="%d" class="lab">%s</text>' % (
                WIDTH - PAD + 4, y0 + ROW / 2 + 4, esc(name)))
    base = len(rows) * ROW
    for tick in axis.ticks():
        x = axis.x(tick)
        anchor = "start" if x <= axis.left else "end" if x >= axis.right else "middle"
        parts.append('<line x1="%s" x2="%s" y1="%d" y2="%d" stroke="#999"/>'
                     '<text x="%s" y="%d" text-anchor="%s" class="tick">%s</text>' % (
                         x, x, base, base + 4, x, base + 15, anchor, esc(format_ms(tick))))
    if axis.log:
        parts.append('<text x="%d" y="%d" class="tick">log</text>' % (WIDTH - PAD + 4,
                                                                        base + 15))
    parts.append("</svg>")
    return "".join(parts)


def latency_strip(esc, values, labels, title: str) -> str:
    """Each request's elapsed time as a dot (its label on hover), the median as a bar."""
    return _frame(esc, Axis(list(values)), [("", list(values), list(labels), ONE_COLOUR)],
                  title)


def before_after_strip(esc, before, after, before_labels, after_labels, title: str) -> str:
    """Before and after on one shared axis, one row each, so the shift is seen at a glance."""
    axis = Axis(list(before) + list(after))
    return _frame(esc, axis, [("before", list(before), list(before_labels), BEFORE_COLOUR),
                              ("after", list(after), list(after_labels), AFTER_COLOUR)], title)
