"""The sampled call stacks of one request, immutable: what a ``.stacks`` file holds.

pstats keeps caller→callee totals; a stacks file keeps the thread's true stacks, sampled
every ``interval_ms`` while the request ran.  Stacks are a prefix tree: stack ``sid`` is
frame ``stack_frame[sid]`` executing at line ``stack_line[sid]``, called from stack
``stack_parent[sid]`` (-1: the outermost frame).  A parent always has a smaller id than its
children, so one pass in id order visits parents first (the importer checks it).

Time: a sample at ``sample_t[i]`` (ms after ``start``) stands for the time until the next
sample; the last one until ``end_ms``.  This is the convention of speedscope and of every
sampling profiler's "weight": a sample is evidence of what ran from then on, until the next
look.  The time before the first sample was not observed and is not counted anywhere.
Frames are FuncKeys, ``(filename, firstlineno, function)`` as in ``model.callgraph``.
``TimeChart`` is one request's flame chart in time order (``analysis.stacks.time_order``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


def _frozen(array: np.ndarray, dtype) -> np.ndarray:
    out = np.array(array, dtype=dtype, copy=True).reshape(-1)
    out.setflags(write=False)    # shared by views and worker threads: nobody may change it
    return out


@dataclass(frozen=True, eq=False)
class StackProfile:
    """The sampled stacks of one request thread (see the module docstring)."""

    request: str
    pid: int
    thread: int
    interval_ms: float
    start: float                 # epoch seconds: the request's start, the samples' zero
    end_ms: Optional[float]      # the request's end, ms after start; None: no end line
    frames: tuple                # fid → FuncKey (filename, firstlineno, function)
    stack_parent: np.ndarray     # int32 per stack, -1 for an outermost frame
    stack_frame: np.ndarray      # int32 per stack: index into ``frames``
    stack_line: np.ndarray       # int32 per stack: the line executing (0: unknown)
    sample_t: np.ndarray         # float64 per sample: ms after ``start``, non-decreasing
    sample_stack: np.ndarray     # int32 per sample: the innermost stack
    missed: int = 0              # samples the sampler could not take (the GIL was held)
    notes: tuple = ()            # what the importer had to pass over, for a person
    # False when the samples' order is not the order they ran in (folded stacks, a
    # pyinstrument tree): their sums are right, a time-order chart of them is not.
    timed: bool = True
    # False when ``start`` is not a clock time (a speedscope or folded file says none): the
    # samples can then not be placed beside a query log's statements.
    clock: bool = True

    def __post_init__(self):
        for name in ("stack_parent", "stack_frame", "stack_line", "sample_stack"):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.int32))
        object.__setattr__(self, "sample_t", _frozen(self.sample_t, np.float64))
        object.__setattr__(self, "frames", tuple(tuple(f) for f in self.frames))
        object.__setattr__(self, "notes", tuple(self.notes))
        n = len(self.stack_parent)
        if not len(self.stack_frame) == len(self.stack_line) == n:
            raise ValueError("stack arrays differ in length")
        if len(self.sample_t) != len(self.sample_stack):
            raise ValueError("sample arrays differ in length")

    def __len__(self) -> int:
        """The number of samples."""
        return len(self.sample_t)

    @property
    def n_stacks(self) -> int:
        """The number of stack nodes (prefix-tree nodes) defined."""
        return len(self.stack_parent)

    def weights(self) -> np.ndarray:
        """float64 seconds each sample stands for: the time to the next sample; the last
        one's until ``end_ms`` (or one ``interval_ms`` when the file has no end line).

        So the weights add up to the sampled span, first sample to end: nothing is
        estimated, and the time before the first sample is not counted.
        """
        t = self.sample_t
        if not len(t):
            return np.zeros(0, np.float64)
        last = self.interval_ms if self.end_ms is None else max(self.end_ms - t[-1], 0.0)
        return np.append(np.diff(t), last) / 1000.0

    def span_ms(self) -> float:
        """The sampled span in ms (the sum of ``weights()``, in ms)."""
        return float(self.weights().sum() * 1000.0)

    def between(self, start: float, end: float, name: str) -> "StackProfile":
        """The samples taken from *start* to *end* (epoch seconds) as a profile of their own
        that starts at *start*: one request's share of a profile of a whole process (its
        weights cut at the window's edges).  Only for a profile with a clock and time order."""
        if not (self.clock and self.timed):
            raise ValueError("a profile without a clock and time order cannot be cut in time")
        t = self.start + self.sample_t / 1000.0          # epoch seconds of each sample
        ends = t + self.weights()
        keep = (ends > start) & (t < end)
        first = np.maximum(t[keep], start)
        return StackProfile(
            request=name, pid=self.pid, thread=self.thread, interval_ms=self.interval_ms,
            start=start, end_ms=(end - start) * 1000.0, frames=self.frames,
            stack_parent=self.stack_parent, stack_frame=self.stack_frame,
            stack_line=self.stack_line, sample_t=(first - start) * 1000.0,
            sample_stack=self.sample_stack[keep], notes=self.notes, timed=True, clock=True)

    def depths(self) -> np.ndarray:
        """int32 per stack: 0 for an outermost frame, its parent's depth + 1 otherwise."""
        out: list = []
        for p in self.stack_parent.tolist():   # parents come first (checked at import)
            out.append(out[p] + 1 if p >= 0 else 0)
        return np.asarray(out, np.int32)

    def canonical(self) -> tuple:
        """``(parent, fid, line, depth, node_of)``: lists with one node per distinct path of
        (function, line) pairs, and each stack id's node.  The writer interns its stacks,
        but a file may define one path twice (or one function under two fids); views that
        compare paths by id use these nodes."""
        first_fid: dict = {}
        fid_of = [first_fid.setdefault(f, i) for i, f in enumerate(self.frames)]
        ids: dict = {}
        cpar, cfid, cline, cdepth, node_of = [], [], [], [], []
        for p, f, line in zip(self.stack_parent.tolist(), self.stack_frame.tolist(),
                              self.stack_line.tolist()):
            cp = node_of[p] if p >= 0 else -1
            key = (cp, fid_of[f], line)
            node = ids.get(key)
            if node is None:
                node = ids[key] = len(cpar)
                cpar.append(cp)
                cfid.append(key[1])
                cline.append(line)
                cdepth.append(cdepth[cp] + 1 if cp >= 0 else 0)
            node_of.append(node)
        return cpar, cfid, cline, cdepth, node_of

    def path(self, sid: int) -> tuple:
        """The FuncKeys of stack *sid*, outermost (root) first, innermost last."""
        out = []
        parent, frame = self.stack_parent, self.stack_frame
        if not 0 <= sid < len(parent):
            raise IndexError("no stack %r" % (sid,))
        while sid >= 0:
            out.append(self.frames[frame[sid]])
            sid = int(parent[sid])
        return tuple(reversed(out))

    def lines(self, sid: int) -> tuple:
        """``(FuncKey, line)`` pairs of stack *sid*, root first: where each frame was."""
        out = []
        while sid >= 0:
            out.append((self.frames[self.stack_frame[sid]], int(self.stack_line[sid])))
            sid = int(self.stack_parent[sid])
        return tuple(reversed(out))

    def __repr__(self) -> str:
        return "StackProfile(%r, %d samples, %d stacks, %d frames)" % (
            self.request, len(self), self.n_stacks, len(self.frames))


@dataclass(frozen=True, eq=False)
class TimeChart:
    """One request's flame chart ("time order"): spans sorted by depth, then start.

    Span *i* is frame ``funcs[frame[i]]`` at ``depth[i]`` (0: outermost) from
    ``start_ms[i]`` to ``end_ms[i]`` (ms after the request's start), at line ``line[i]``
    when first sampled.  ``cut_ms`` is set when the chart stops early (too many spans).
    """

    funcs: tuple
    depth: np.ndarray       # int32
    start_ms: np.ndarray    # float64
    end_ms: np.ndarray      # float64
    frame: np.ndarray       # int32 index into funcs
    line: np.ndarray        # int32
    cut_ms: Optional[float] = None

    def __len__(self) -> int:
        return len(self.depth)

    def spans(self) -> list:
        """``[(depth, start_ms, end_ms, FuncKey, line)]``, for tests and tooltips."""
        return [(int(d), float(s), float(e), self.funcs[f], int(ln)) for d, s, e, f, ln
                in zip(self.depth, self.start_ms, self.end_ms, self.frame, self.line)]
