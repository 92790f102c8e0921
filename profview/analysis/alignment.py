"""Echo-log statements tied to requests that only Werkzeug's file names describe.

Such a request is known by the second its profile was named in (its end, rounded), its
elapsed milliseconds and the DB-API ``execute()`` calls its profile counted; an echo log
statement only by its millisecond.  With requests served one at a time, the log is the
requests' statements one request after the other, in the order the requests ran.  Requests
named in different seconds ran in that order; within one second, in any order.

So the requests of one second (a *group*) own one contiguous *block* of the log, as long as
its execute() counts.  Inside a block, a request's statements are one run of exactly its count
that fits its elapsed time, with no statement of another request inside its time.  Every
arrangement that fits is kept (constraint propagation, ``solve_block``); a statement is tied
only when every arrangement gives it to the same request.

Where the log and the counts disagree (a lost profile, statements run outside requests, calls
the profile counts and the log does not show), a group's block has another length: it is
*dirty* and none of its statements is tied.  ``align`` looks for the fewest dirty groups
that explain the whole log and ties only what every such explanation agrees on.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import NamedTuple, Optional

from .blocks import AMBIGUOUS, EPS, Slot, label_runs, solve_block

__all__ = ["AMBIGUOUS", "DIRTY", "OUTSIDE", "FOREIGN", "Slot", "Alignment", "align",
           "label_runs", "solve_block"]

# owners that are not a slot: a count mismatch; after every request; before the first
# request's block or after the last one's (statements run outside requests)
DIRTY, OUTSIDE, FOREIGN = -2, -3, -4
MAX_OFFSET = 200     # log and counts further apart than this: not aligned at all
MARGIN = 2           # offsets beyond the net difference: mismatches that cancel out


class Alignment(NamedTuple):
    owners: list          # per stream position: slot index, AMBIGUOUS or DIRTY
    groups: int           # groups aligned
    dirty: int            # fewest dirty groups (or leading/trailing blocks) that explain it


def _groups(slots) -> list:
    """``[[slot indices] per group]`` in time order."""
    members = defaultdict(list)
    for j, s in enumerate(slots):
        members[s.group].append(j)
    return [members[g] for g in sorted(members)]


def _merge(old: Optional[int], new: int) -> int:
    if old is None or old == new:
        return new
    return DIRTY if {old, new} & {DIRTY, FOREIGN} else AMBIGUOUS


class _Path:
    """The dynamic programme over group boundaries: boundary ``b`` before group ``g`` means
    the group's block starts at stream position ``b``."""

    def __init__(self, times, n, slots, groups, labels=None):
        self.times, self.n, self.slots, self.groups = times, n, slots, groups
        self.labels = labels
        self.starts = [0]
        for members in groups:
            self.starts.append(self.starts[-1] + sum(slots[j].count for j in members))
        self.latest = [max(slots[j].latest for j in m) for m in groups]
        diff = n - self.starts[-1]
        self.offsets = range(min(0, diff) - MARGIN, max(0, diff) + MARGIN + 1)
        self.solved: dict = {}

    def bounds(self, g: int) -> list:
        return [b for b in (self.starts[g] + off for off in self.offsets) if 0 <= b <= self.n]

    def block(self, g: int, b: int) -> Optional[list]:
        if (g, b) not in self.solved:
            size = self.starts[g + 1] - self.starts[g]
            self.solved[g, b] = solve_block(self.times, b, b + size, self.slots, self.groups[g],
                                            self.labels)
        return self.solved[g, b]

    def moves(self, g: int, b: int) -> list:
        """``[(next boundary, cost)]``: cost 0 for the group's own count that fits."""
        clean = b + self.starts[g + 1] - self.starts[g]
        out = []
        for nb in self.bounds(g + 1):
            if nb < b or (nb > b and self.times[nb - 1] > self.latest[g] + EPS):
                continue           # its statements cannot be later than its requests
            fits = nb == clean and self.block(g, b) is not None
            out.append((nb, 0 if fits else 1))
        return out

    def costs(self) -> tuple:
        """Fewest dirty blocks to each boundary from the start, and from each to the end."""
        G, inf = len(self.groups), math.inf
        fwd = [dict() for _ in range(G + 1)]
        for b in self.bounds(0):
            fwd[0][b] = 0 if b == 0 else 1          # statements before the first request
        for g in range(G):
            for b, cost in fwd[g].items():
                for nb, step in self.moves(g, b):
                    if cost + step < fwd[g + 1].get(nb, inf):
                        fwd[g + 1][nb] = cost + step
        bwd = [dict() for _ in range(G + 1)]
        for b in self.bounds(G):
            bwd[G][b] = 0 if b == self.n else 1     # statements after the last request
        for g in range(G - 1, -1, -1):
            for b in fwd[g]:
                best = min((step + bwd[g + 1].get(nb, inf) for nb, step in self.moves(g, b)),
                           default=inf)
                if best < inf:
                    bwd[g][b] = best
        return fwd, bwd


def _options(path: _Path, fwd, bwd, limit) -> list:
    """``[(group, boundary, next boundary, cost)]`` on some explanation within *limit*."""
    out = []
    for g in range(len(path.groups)):
        for b, c in fwd[g].items():
            out.extend((g, b, nb, step) for nb, step in path.moves(g, b)
                       if c + step + bwd[g + 1].get(nb, math.inf) <= limit)
    return out


def align(times, slots, slack: int = 0, labels=None) -> Alignment:
    """Tie the statements at *times* (epoch seconds, in log order) to *slots*.

    Every explanation with at most *slack* more dirty blocks than the fewest possible is
    kept; a statement gets a slot only when all of them agree on it, else AMBIGUOUS (the
    arrangements differ) or DIRTY (one of them could not account for it).  A dirty block
    also taints the groups either side of it: where the log and the counts disagree, the
    boundary next to the disagreement is not sure either.  Statements later than every
    request are OUTSIDE, and those before the first block or after the last one FOREIGN.
    With *labels* (one per statement), a request owns only statements of its slot's label
    (a log that names method and path).
    """
    groups = _groups(slots)
    latest = max((s.latest for s in slots), default=-math.inf)
    n = sum(1 for x in times if x <= latest + EPS)
    owners: list = [None] * n + [OUTSIDE] * (len(times) - n)
    path = _Path(times, n, slots, groups, None if labels is None else label_runs(labels))
    if not groups or abs(n - path.starts[-1]) > MAX_OFFSET:
        return Alignment([DIRTY] * n + owners[n:], len(groups), -1)
    fwd, bwd = path.costs()
    best = min((c + bwd[0].get(b, math.inf) for b, c in fwd[0].items()), default=math.inf)
    if best == math.inf:
        return Alignment([DIRTY] * n + owners[n:], len(groups), -1)
    G, limit = len(groups), best + slack
    dirty = set()
    # statements before the first block, or after the last one: a dirty "group" just
    # outside the capture, which taints the first or last group
    for outside, spans in ((-1, [range(b) for b, c in fwd[0].items()
                                 if c + bwd[0].get(b, math.inf) <= limit]),
                           (G, [range(b, n) for b, c in fwd[G].items()
                                if c + bwd[G].get(b, math.inf) <= limit])):
        for span in spans:
            for p in span:
                owners[p] = _merge(owners[p], FOREIGN)
            if span:
                dirty.add(outside)
    options = _options(path, fwd, bwd, limit)
    dirty |= {g for g, _b, _nb, step in options if step}
    tainted = dirty | {g + 1 for g in dirty} | {g - 1 for g in dirty}
    for g, b, nb, step in options:
        found = path.block(g, b) if step == 0 and g not in tainted else None
        for p in range(b, nb):
            owners[p] = _merge(owners[p], found[p - b] if found else DIRTY)
    return Alignment([DIRTY if o is None else o for o in owners], G, best)
