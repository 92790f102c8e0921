"""The arrangements of one group's requests inside its block of an echo log (``alignment``).

A request's statements are one run of exactly its execute() count, no longer in time than
the request, with the statements either side of it outside its time (they belong to other
requests).  Constraint propagation keeps every run that some arrangement of the whole block
could give it: runs that leave room for the others (subset sums of their counts), that chain
from the block's start to its end with time enough for both neighbours, that cover a
position no other request can, and that do not overlap what another request surely owns.
What is left is a superset of the arrangements that fit, so a statement that every run left
gives to one request is surely that request's.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import NamedTuple, Optional

RES = 0.001          # echo log times are milliseconds, truncated
EPS = 1e-9           # float noise: never exclude an arrangement on it
AMBIGUOUS = -1       # several requests could have run the statement
MAX_ROUNDS = 50      # propagation passes per block (it converges in a handful)
# statements × requests of one block beyond which it is not worked out (about a second of
# CPU): a second of a load test with hundreds of requests, whose order nothing could settle
MAX_WORK = 200_000


class Slot(NamedTuple):
    """A request as the alignment sees it."""

    group: int            # its second; groups ran in order, their requests in any order
    count: int            # statements it ran: its profile's DB-API execute() calls
    min_elapsed: float    # seconds it surely lasted at least
    max_elapsed: float    # and at most
    latest: float         # epoch seconds no statement of it can be later than
    label: object = None  # with labelled statements: the label all of its own carry


def _subset_sums(counts: list, limit: int) -> int:
    """Bitset of the sums of sub-multisets of *counts* up to *limit*."""
    bits, mask = 1, (1 << (limit + 1)) - 1
    for c in counts:
        bits = (bits | (bits << c)) & mask
    return bits


def _keep(best: dict, pos: int, value: float, slot: int) -> None:
    """Keep at *pos* the lowest value, its slot, and the lowest value of any other slot."""
    e = best.get(pos)
    if e is None:
        best[pos] = [value, slot, math.inf]
    elif slot == e[1]:
        e[0] = min(e[0], value)
    elif value < e[0]:
        e[0], e[1], e[2] = value, slot, e[0]
    elif value < e[2]:
        e[2] = value


def _has(best: dict, pos: int, slot: int, limit: float) -> bool:
    """A kept value of another slot than *slot* is at most *limit*."""
    e = best.get(pos)
    return e is not None and ((e[1] != slot and e[0] <= limit) or e[2] <= limit)


class _Block:
    """The arrangements of one group's requests over positions [lo, hi) of the stream."""

    def __init__(self, times, lo, hi, slots, members, labels=None):
        self.lo, self.hi, self.slots = lo, hi, slots
        self.active = [j for j in members if slots[j].count > 0]
        self.labels = labels
        # the block's times with one statement either side (±inf at the stream's ends):
        # w[p - lo + 1] is the time of stream position p
        self.w = [times[i] if 0 <= i < len(times) else (-math.inf if i < 0 else math.inf)
                  for i in range(lo - 1, hi + 1)]

    def _labelled(self, k: int, s: Slot) -> bool:
        """Statements k.. carry *s*'s label, at least as many as it ran (or no labels)."""
        if self.labels is None:
            return True
        labels, same = self.labels
        return labels[k] == s.label and same[k] >= s.count

    def candidates(self) -> Optional[dict]:
        """``{slot: [start, ...]}`` of the runs each request could own, by itself."""
        lo, hi, w = self.lo, self.hi, self.w
        counts = [self.slots[j].count for j in self.active]
        fits = {}                        # count → "1" where the others fill what is before
        for c in set(counts):
            rest = list(counts)
            rest.remove(c)
            fits[c] = format(_subset_sums(rest, hi - lo), "b")[::-1]
        dom = {}
        for j in self.active:
            s = self.slots[j]
            c, bits = s.count, fits[s.count]
            latest, longest = s.latest + EPS, s.max_elapsed + RES + EPS
            shortest = s.min_elapsed - RES - EPS
            # w index of position k is k - lo + 1: first = w[x], last = w[x + c - 1]
            ks = [x + lo - 1 for x in range(1, min(hi - lo - c + 1, len(bits)) + 1)
                  if bits[x - 1] == "1"                  # the rest fits before it
                  and w[x + c - 1] <= latest
                  and w[x + c - 1] - w[x] <= longest
                  # the statements either side belong to other requests: outside its time
                  and w[x + c] - w[x - 1] >= shortest
                  and self._labelled(x + lo - 1, s)]
            if not ks:
                return None
            dom[j] = ks
        return dom

    def _reachable(self, dom: dict) -> dict:
        """Runs that start a chain of runs from the block's start and end one to its end.

        Two runs side by side, i then j, need both requests' time between the statements
        around them: ``t(after j) - t(before i) >= min_elapsed(i) + min_elapsed(j)``.  For
        each position the two best neighbours (of different requests) are kept.
        """
        lo, hi, slots, w = self.lo, self.hi, self.slots, self.w
        by_start = defaultdict(list)
        for j, ks in dom.items():
            for k in ks:
                by_start[k].append(j)
        # end position → best (lowest) t(before i) + min_elapsed(i) of runs reachable from lo
        left: dict = {}
        ok_f = set()
        for k in sorted(by_start):
            for j in by_start[k]:
                s = slots[j]
                need = w[k + s.count - lo + 1] - s.min_elapsed + RES + EPS
                if k == lo or _has(left, k, j, need):
                    ok_f.add((j, k))
                    _keep(left, k + s.count, w[k - lo] + s.min_elapsed, j)
        right: dict = {}                 # start → best (highest) t(after i) - min_elapsed(i),
        # kept negated so that the lowest is the best again
        ok = set()
        for k in sorted(by_start, reverse=True):
            for j in by_start[k]:
                if (j, k) not in ok_f:
                    continue
                s = slots[j]
                end = k + s.count
                need = w[k - lo] + s.min_elapsed - RES - EPS
                if end == hi or _has(right, end, j, -need):
                    ok.add((j, k))
                    _keep(right, k, s.min_elapsed - w[end - lo + 1], j)
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
        if n * len(self.active) > MAX_WORK:
            return [AMBIGUOUS] * n     # too big to work out: taken as fitting, nothing sure
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
