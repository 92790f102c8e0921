"""A request's sampled stacks as the pstats table the rest of profview reads.

A request captured with stacks but no cProfile (``profile=False``) has no ``.prof``; its
stacks say the same things a profile does about time (self and inclusive time per function,
and per caller→callee pair), exactly, by summing samples.  They do not say how many times a
function was called: the counts are 0 here, which no cProfile table has for a function
that ran, and which the tables show as unknown.  Time follows cProfile's rules for
recursion (a function's inclusive time counts at its outermost frame of each stack), so
the same views, merges and findings serve both.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from ..model.stacks import StackProfile
from .pstats_file import Pstats, validate


NO_SAMPLE = ("<stacks: the request was shorter than the sampling interval>", 0,
             "<no sample taken>")


def to_pstats(profile: StackProfile) -> dict:
    """``{FuncKey: (0, 0, tt, ct, {caller: (0, 0, tt, ct)})}`` from the samples' weights
    (seconds; see ``StackProfile.weights``)."""
    n = profile.n_stacks
    stats: dict = {}
    if not len(profile) or not n:
        return stats
    own = np.bincount(profile.sample_stack, weights=profile.weights(), minlength=n).tolist()
    parent, frame, frames = profile.stack_parent.tolist(), profile.stack_frame.tolist(), \
        profile.frames
    inclusive = own[:]
    kids: list = [[] for _ in range(n)]
    roots = []
    for sid in range(n - 1, -1, -1):            # a parent's id is below its children's
        p = parent[sid]
        if p >= 0:
            inclusive[p] += inclusive[sid]
            kids[p].append(sid)
        else:
            roots.append(sid)
    funcs: dict = {}                            # key → [tt, ct]
    edges: dict = {}                            # (caller, callee) → [tt, ct]
    on_path: Counter = Counter()                # functions on the walk's current path
    pairs_on: Counter = Counter()
    # Depth first, iteratively (stacks are up to thousands deep): ("in", sid) adds a
    # node, ("out", sid) takes it off the path again.
    todo = [("in", sid) for sid in roots]
    while todo:
        step, sid = todo.pop()
        key = frames[frame[sid]]
        p = parent[sid]
        pair = (frames[frame[p]], key) if p >= 0 else None
        if step == "out":
            on_path[key] -= 1
            if pair is not None:
                pairs_on[pair] -= 1
            continue
        if not inclusive[sid]:
            continue                            # no sample reaches it
        f = funcs.setdefault(key, [0.0, 0.0])
        f[0] += own[sid]
        if not on_path[key]:
            f[1] += inclusive[sid]
        if pair is not None:
            e = edges.setdefault(pair, [0.0, 0.0])
            e[0] += own[sid]
            if not pairs_on[pair]:
                e[1] += inclusive[sid]
            pairs_on[pair] += 1
        on_path[key] += 1
        todo.append(("out", sid))
        todo.extend(("in", k) for k in kids[sid])
    for key, (tt, ct) in funcs.items():
        stats[key] = (0, 0, tt, ct, {})
    for (caller, callee), (tt, ct) in edges.items():
        stats[callee][4][caller] = (0, 0, tt, ct)
    return stats


def table(profiles) -> Pstats:
    """The validated pstats table of several profiles summed (a file's threads)."""
    stats: dict = {}
    for profile in profiles:
        for key, (cc, nc, tt, ct, callers) in to_pstats(profile).items():
            mine = stats.get(key)
            if mine is None:
                stats[key] = (cc, nc, tt, ct, dict(callers))
                continue
            merged = dict(mine[4])
            for caller, e in callers.items():
                old = merged.get(caller, (0, 0, 0.0, 0.0))
                merged[caller] = (0, 0, old[2] + e[2], old[3] + e[3])
            stats[key] = (0, 0, mine[2] + tt, mine[3] + ct, merged)
    # A request shorter than the interval may have no sample: it still ran (its line in
    # requests.jsonl has its time), its breakdown is unknown.  One entry of no time says so.
    return validate(stats or {NO_SAMPLE: (0, 0, 0.0, 0.0, {})})
