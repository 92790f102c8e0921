"""Exports for other viewers: speedscope JSON, folded stacks and callgrind, of a scope (every
request of a capture, or one endpoint's), the same scope rules as the window's.

Stacks are exported exactly or not at all: a request with sampled stacks (profview's, or
another profiler's) gives its samples; a request with a pstats profile only gives the flame
tree of pstats' *exact* mode (``calltree.EXACT``: time under a function with several callers
is not split among them but shown as one "[called from several places]" frame), and the
export says so.  callgrind is written from the scope's summed pstats graph by pyprof2calltree
(what KCachegrind users already run on cProfile output), so its numbers are cProfile's.
"""
from __future__ import annotations

import io
import json
import pstats

import numpy as np

from ..analysis import calltree
from ..analysis.endpoints import group
from ..importers import profiles, stack_build
from ..importers.pstats_file import ProfileError
from ..loading.merge import load_graph
from ..loading.reread import request_graph
from ..model.request import Problem
from ..importers.speedscope import SCHEMA

SEVERAL = ("<profview>", 0, "[called from several places]")
FROM_PSTATS = ("from pstats in exact mode: time under a function with several callers is "
               "one '[called from several places]' frame, not split by guess")
SHRUNK = "some recursive times of pstats were shrunk to fit their caller (marked SCALED)"


class ScopeError(ValueError):
    """The scope asked for does not exist in the capture (the message lists the names)."""


def scope_requests(capture, endpoint=None) -> tuple:
    """``(name, requests)``: every request, or those of the endpoint named *endpoint*."""
    if endpoint is None:
        return "all requests", list(capture.requests)
    endpoints = group(capture)
    for ep in endpoints:
        if ep.name == endpoint:
            return ep.name, list(ep.requests)
    raise ScopeError("no endpoint %r; the endpoints are: %s" % (
        endpoint, ", ".join(sorted(ep.name for ep in endpoints)) or "none"))


def request_stacks(request) -> tuple:
    """``([StackProfile], notes)``: the request's own samples, or its pstats tree in exact
    mode laid out as samples (one per node, its self time), with notes saying so."""
    if request.stacks is not None:
        try:
            return profiles.load_stacks(request.stacks), []
        except (ProfileError, OSError):
            pass                    # damaged: its pstats table below, said so
    graph = request_graph(request)
    tree = calltree.build(graph, mode=calltree.EXACT, threshold=0.0)
    builder = stack_build.Builder()
    paths: list = [()] * len(tree)
    for i in range(1, len(tree)):
        func = tree.funcs[i]
        if func is None:
            func = SEVERAL
        paths[i] = paths[int(tree.parent[i])] + (tuple(func),)
        builder.add(list(paths[i]), float(tree.self_time[i]) * 1000.0)
    notes = [FROM_PSTATS]
    if (tree.flags & calltree.SCALED).any():
        notes.append(SHRUNK)
    return [builder.build(request.label, timed=False, notes=notes)], notes


def _all_stacks(requests) -> tuple:
    """``([(request, [StackProfile])], notes, problems)`` of *requests*."""
    out, notes, problems = [], [], []
    for r in requests:
        try:
            stacks, more = request_stacks(r)
        except (ProfileError, OSError) as exc:
            problems.append(Problem(str(r.file), "not exported: %s" % exc))
            continue
        out.append((r, stacks))
        notes += [n for n in more if n not in notes]
    return out, notes, problems


def speedscope_doc(requests, name: str = "profview") -> tuple:
    """``(document, problems)``: a speedscope file with one sampled profile per request (per
    thread, for a file that had several), weights in milliseconds."""
    frames, index = [], {}
    out = []
    got, notes, problems = _all_stacks(requests)
    for request, stacks in got:
        for prof in stacks:
            samples, weights = [], (prof.weights() * 1000.0).tolist()
            cache: dict = {}
            for sid in prof.sample_stack.tolist():
                path = cache.get(sid)
                if path is None:
                    path = []
                    for key, _line in prof.lines(sid):
                        fi = index.get(key)
                        if fi is None:
                            fi = index[key] = len(frames)
                            frames.append({"name": key[2], "file": key[0], "line": key[1]})
                        path.append(fi)
                    cache[sid] = path
                samples.append(path)
            label = request.label if len(stacks) == 1 else "%s › %s" % (request.label,
                                                                         prof.request)
            total = float(sum(weights))
            out.append({"type": "sampled", "name": label, "unit": "milliseconds",
                        "startValue": 0, "endValue": total, "samples": samples,
                        "weights": weights})
    doc = {"$schema": SCHEMA, "shared": {"frames": frames}, "profiles": out,
           "name": name + (" (%s)" % "; ".join(notes) if notes else ""),
           "activeProfileIndex": 0, "exporter": "profview"}
    return doc, problems


def speedscope_text(requests, name: str = "profview") -> tuple:
    """``(JSON text, problems)`` of ``speedscope_doc``."""
    doc, problems = speedscope_doc(requests, name)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")), problems


def _frame_text(key) -> str:
    # py-spy's form, which profview and flamegraph tools read back; ";" would split a frame
    return ("%s (%s:%d)" % (key[2], key[0], key[1])).replace(";", ",")


def folded_text(requests) -> tuple:
    """``(text, problems)``: the scope's stacks summed as folded lines ``a;b;c count``, the
    counts in microseconds (``# interval_ms: 0.001`` says so, for profview's importer)."""
    got, notes, problems = _all_stacks(requests)
    sums: dict = {}
    for _request, stacks in got:
        for prof in stacks:
            own = np.bincount(prof.sample_stack, weights=prof.weights(),
                              minlength=prof.n_stacks).tolist()
            for sid, seconds in enumerate(own):
                if seconds > 0:
                    path = ";".join(_frame_text(k) for k, _l in prof.lines(sid))
                    sums[path] = sums.get(path, 0.0) + seconds
    lines = ["# profview folded stacks: counts are microseconds", "# interval_ms: 0.001"]
    lines += ["# " + n for n in notes]
    lines += ["%s %d" % (path, round(s * 1e6)) for path, s in sorted(sums.items())
              if round(s * 1e6) > 0]
    return "\n".join(lines) + "\n", problems


class _Holder:
    """What ``pstats.Stats`` accepts in place of a profiler: an object with ``stats``."""

    def __init__(self, stats: dict):
        self.stats = stats

    def create_stats(self) -> None:
        pass


def callgrind_text(requests) -> tuple:
    """``(text, problems)``: the scope's summed pstats graph in callgrind format, written by
    pyprof2calltree (times in nanoseconds)."""
    from pyprof2calltree import CalltreeConverter

    graph, problems = load_graph(requests)
    if graph is None:
        return None, problems
    out = io.StringIO()
    CalltreeConverter(pstats.Stats(_Holder(graph.to_pstats()))).output(out)
    return out.getvalue(), problems
