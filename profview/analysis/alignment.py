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

RES = 0.001          # echo log times are milliseconds, truncated
EPS = 1e-9           # float noise: never exclude an arrangement on it
# owners that are not a slot: several could be; a mismatch; after every request; before
# the first request's block or after the last one's (statements run outside requests)
AMBIGUOUS, DIRTY, OUTSIDE, FOREIGN = -1, -2, -3, -4
MAX_OFFSET = 200     # log and counts further apart than this: not aligned at all
MARGIN = 2           # offsets beyond the net difference: mismatches that cancel out
MAX_ROUNDS = 50      # propagation passes per block (it converges in a handful)


class Slot(NamedTuple):
    """A request as the alignment sees it."""

    group: int            # its second; groups ran in order, their requests in any order
    count: int            # statements it ran: its profile's DB-API execute() calls
    min_elapsed: float    # seconds it surely lasted at least
    max_elapsed: float    # and at most
    latest: float         # epoch seconds no statement of it can be later than
    label: object = None  # with labelled statements: the label all of its own carry


class Alignment(NamedTuple):
    owners: list          # per stream position: slot index, AMBIGUOUS or DIRTY
    groups: int           # groups aligned
    dirty: int            # fewest dirty groups (or leading/trailing blocks) that explain it


def _subset_sums(counts: list, limit: int) -> int:
    """Bitset of the sums of sub-multisets of *counts* up to *limit*."""
    bits, mask = 1, (1 << (limit + 1)) - 1
    for c in counts:
        bits = (bits | (bits << c)) & mask
    return bits


class _Block:
    """The arrangements of one group's requests over positions [lo, hi) of the stream."""

    def __init__(self, times, lo, hi, slots, members, labels=None):
        self.times, self.lo, self.hi, self.slots = times, lo, hi, slots
        self.active = [j for j in members if slots[j].count > 0]
        self.labels = labels

    def _labelled(self, k: int, s: Slot) -> bool:
        """Statements k.. carry *s*'s label, at least as many as it ran (or no labels)."""
        if self.labels is None:
            return True
        labels, same = self.labels
        return labels[k] == s.label and same[k] >= s.count

    def at(self, i: int) -> float:
        if i < 0:
            return -math.inf
        return self.times[i] if i < len(self.times) else math.inf

    def candidates(self) -> Optional[dict]:
        """``{slot: [start, ...]}`` of the runs each request could own, by itself."""
        lo, hi, t, at = self.lo, self.hi, self.times, self.at
        counts = [self.slots[j].count for j in self.active]
        without = {}
        for c in set(counts):
            rest = list(counts)
            rest.remove(c)
            without[c] = _subset_sums(rest, hi - lo)
        dom = {}
        for j in self.active:
            s = self.slots[j]
            c, sums = s.count, without[s.count]
            ks = [k for k in range(lo, hi - c + 1)
                  if (sums >> (k - lo)) & 1                       # the rest fits before it
                  and self._labelled(k, s)
                  and t[k + c - 1] <= s.latest + EPS
                  and t[k + c - 1] - t[k] <= s.max_elapsed + RES + EPS
                  # the statements either side belong to other requests: outside its time
                  and at(k + c) - at(k - 1) >= s.min_elapsed - RES - EPS]
            if not ks:
                return None
            dom[j] = ks
        return dom

    def _chain_ok(self, i, ki, j, kj) -> bool:
        # i's run then j's run: both requests' time lies between the statements around them
        si, sj = self.slots[i], self.slots[j]
        return (self.at(kj + sj.count) - self.at(ki - 1)
                >= si.min_elapsed + sj.min_elapsed - RES - EPS)

    def _reachable(self, dom: dict) -> dict:
        """Runs that start a chain of runs from the block's start and end one to its end."""
        lo, hi, slots = self.lo, self.hi, self.slots
        by_start = defaultdict(list)
        for j, ks in dom.items():
            for k in ks:
                by_start[k].append(j)
        fwd = defaultdict(list)          # end position → [(slot, start)] reachable from lo
        ok_f = set()
        for k in sorted(by_start):
            for j in by_start[k]:
                if k == lo or any(i != j and self._chain_ok(i, ki, j, k) for i, ki in fwd[k]):
                    ok_f.add((j, k))
                    fwd[k + slots[j].count].append((j, k))
        bwd = defaultdict(list)          # start position → [(slot, start)] reaching hi
        ok = set()
        for k in sorted(by_start, reverse=True):
            for j in by_start[k]:
                end = k + slots[j].count
                if (j, k) in ok_f and (end == hi or any(
                        i != j and self._chain_ok(j, k, i, ki) for i, ki in bwd[end])):
                    ok.add((j, k))
                    bwd[k].append((j, k))
        return {j: [k for k in ks if (j, k) in ok] for j, ks in dom.items()}

    def _coverage(self, dom: dict) -> tuple:
        """Per position: how many requests could own it, and the sum of their indices."""
        n = self.hi - self.lo
        count, total = [0] * (n + 1), [0] * (n + 1)
        for j, ks in dom.items():
            c, end = self.slots[j].count, -1
            for k in ks:                 # ascending: merge the runs into their union
                a, b = max(k, end) - self.lo, k + c - self.lo
                if b > a:
                    count[a] += 1
                    count[b] -= 1
                    total[a] += j
                    total[b] -= j
                end = max(end, k + c)
        run_c = run_t = 0
        for p in range(n):
            run_c += count[p]
            run_t += total[p]
            count[p], total[p] = run_c, run_t
        return count[:n], total[:n]

    def _narrow(self, dom: dict) -> Optional[dict]:
        """One pass of the rules that only remove impossible runs; None: nothing fits."""
        dom = self._reachable(dom)
        if any(not ks for ks in dom.values()):
            return None
        count, total = self._coverage(dom)
        if any(c == 0 for c in count):
            return None
        slots, lo = self.slots, self.lo
        must = defaultdict(list)         # a position only one request can own is its
        for p, c in enumerate(count):
            if c == 1:
                must[total[p]].append(p + lo)
        for j, ps in must.items():
            c = slots[j].count
            dom[j] = [k for k in dom[j] if k <= ps[0] and ps[-1] < k + c]
        for j, ks in dom.items():        # what every run of j covers, no other can
            if not ks:
                return None
            a, b = ks[-1], ks[0] + slots[j].count
            if a < b:
                for i in dom:
                    if i != j:
                        dom[i] = [k for k in dom[i] if k + slots[i].count <= a or k >= b]
        if any(not ks for ks in dom.values()):
            return None
        return dom

    def solve(self) -> Optional[list]:
        """Owner of each position of the block (slot or AMBIGUOUS); None: no arrangement."""
        n = self.hi - self.lo
        if n == 0:
            return []
        dom = self.candidates()
        for _round in range(MAX_ROUNDS):
            if dom is None:
                return None
            before = sum(len(ks) for ks in dom.values())
            dom = self._narrow(dom)
            if dom is not None and sum(len(ks) for ks in dom.values()) == before:
                break
        if dom is None:
            return None
        count, total = self._coverage(dom)
        return [total[p] if count[p] == 1 else AMBIGUOUS for p in range(n)]


def solve_block(times, lo: int, hi: int, slots, members, labels=None) -> Optional[list]:
    """Who surely ran each statement at positions ``lo..hi-1`` of *times*, the block of the
    requests *members* (indices into *slots*): a slot index or AMBIGUOUS; None when no
    arrangement of those requests fits.  *labels* (``label_runs``) restricts each request
    to statements of its own label."""
    return _Block(times, lo, hi, slots, members, labels).solve()


def label_runs(labels) -> tuple:
    """``(labels, same)``: ``same[k]`` counts the statements from k on with k's label."""
    same = [0] * len(labels)
    for k in range(len(labels) - 1, -1, -1):
        same[k] = same[k + 1] + 1 if k + 1 < len(labels) and labels[k + 1] == labels[k] else 1
    return list(labels), same



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


def align(times, slots, slack: int = 0, labels=None) -> Alignment:
    """Tie the statements at *times* (epoch seconds, in log order) to *slots*.

    Every explanation with at most *slack* more dirty blocks than the fewest possible is
    kept; a statement gets a slot only when all of them agree on it, else AMBIGUOUS (the
    arrangements differ) or DIRTY (one of them could not account for it).  Statements
    later than every request are OUTSIDE, and those before the first block or after the
    last one FOREIGN.  With *labels* (one per statement), a request owns only statements
    of its slot's label (a log that names method and path).
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
    limit = best + slack
    G = len(groups)
    for b, c in fwd[0].items():        # statements before the first request's block
        if c + bwd[0].get(b, math.inf) <= limit:
            for p in range(b):
                owners[p] = _merge(owners[p], FOREIGN)
    for b, c in fwd[G].items():        # and after the last one's
        if c + bwd[G].get(b, math.inf) <= limit:
            for p in range(b, n):
                owners[p] = _merge(owners[p], FOREIGN)
    for g in range(G):
        for b, c in fwd[g].items():
            for nb, step in path.moves(g, b):
                if c + step + bwd[g + 1].get(nb, math.inf) > limit:
                    continue
                found = path.block(g, b) if step == 0 else None
                for p in range(b, nb):
                    owners[p] = _merge(owners[p], found[p - b] if found else DIRTY)
    return Alignment([DIRTY if o is None else o for o in owners], G, best)
