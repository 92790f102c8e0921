"""What the flame/icicle view needs beyond the call tree, kept free of Qt so it is tested here:
colour classes by code location, search, "my code only", and focus on one function."""
from __future__ import annotations

import re
import threading
import zlib
from collections import OrderedDict

import numpy as np

from ..model.callgraph import CallGraph
from . import calltree
from .codeloc import APP, BUILTIN, STDLIB, classify, short_path, template_label
from .stats import format_ms

# Colour classes: 0 app, 1 stdlib, 2 built-in, 3 synthetic; packages from 4 on (one each).
CLASS_APP, CLASS_STDLIB, CLASS_BUILTIN, CLASS_SYNTHETIC = 0, 1, 2, 3


def colour_classes(tree) -> tuple:
    """``(classes, packages)``: a uint16 class per node and the package name per class >= 4.

    Packages are numbered in the order they first appear in the tree; a number only indexes
    ``packages``: the colour comes from the package's name (``package_hue``).
    """
    packages: dict = {}
    out = np.empty(len(tree), np.uint16)
    for i, func in enumerate(tree.funcs):
        if func is None:
            out[i] = CLASS_SYNTHETIC
            continue
        kind, package = classify(func[0])
        if kind == APP:
            out[i] = CLASS_APP
        elif kind == STDLIB:
            out[i] = CLASS_STDLIB
        elif kind == BUILTIN:
            out[i] = CLASS_BUILTIN
        else:
            out[i] = packages.setdefault(package, 4 + len(packages))
    return out, {v: k for k, v in packages.items()}


# Hues of the packages a Flask app meets most, spread so neighbours in a flame graph differ;
# any other package gets a hue from a hash of its name.  Either way a package keeps its colour
# on every endpoint, in every view and in every session (numbering packages in the order a
# tree showed them made flask_login blue on one endpoint and pink on the next).
KNOWN_PACKAGE_HUES = {"werkzeug": 220, "flask": 280, "sqlalchemy": 195, "jinja2": 305,
                      "flask_sqlalchemy": 250, "flask_login": 175, "markupsafe": 330,
                      "click": 235, "itsdangerous": 265, "blinker": 205, "wtforms": 290,
                      "flask_wtf": 320, "marshmallow": 185, "flask_smorest": 240,
                      "webargs": 300, "apispec": 210, "psycopg2": 190, "pymysql": 200,
                      "requests": 270, "urllib3": 255, "redis": 315, "flask_babel": 230}


def package_hue(name: str) -> int:
    """The hue of a package (blues to purples, away from your code's orange and the
    standard library's green), the same wherever and whenever the package is drawn."""
    hue = KNOWN_PACKAGE_HUES.get(name.lower())
    return hue if hue is not None else 170 + zlib.crc32(name.lower().encode()) % 170


def short_label(func) -> str:
    """What a frame of *func* is called on screen: its template and block for a compiled
    Jinja template, else its function name."""
    return template_label(func) or func[2]


def search(tree, pattern: str, regex: bool = False) -> tuple:
    """``(mask, share)``: nodes whose function matches, and their share of the root's time.

    Matches nested in other matches are counted once, so the share never exceeds 100%.
    A bad regular expression raises ``re.error`` for the caller to show.
    """
    if not pattern:
        return np.zeros(len(tree), bool), 0.0
    matcher = re.compile(pattern if regex else re.escape(pattern), re.IGNORECASE)
    mask = np.zeros(len(tree), bool)
    for i, func in enumerate(tree.funcs):
        if func is not None and (matcher.search(func[2]) or matcher.search(func[0])):
            mask[i] = True
    counted = 0.0
    covered = np.zeros(len(tree), bool)   # inside a matched ancestor
    for i in range(1, len(tree)):
        p = tree.parent[i]
        covered[i] = covered[p] or mask[p]
        if mask[i] and not covered[i]:
            counted += tree.total[i]
    root = tree.total[0] if len(tree) else 0.0
    return mask, (counted / root if root > 0 else 0.0)


def app_only_tree(tree) -> "calltree.CallTree":
    """The tree with library frames hidden: their time folds into the calling app frame.

    A hidden frame's app-code descendants move up to its nearest shown ancestor, merged by
    function there (so two calls reached through different library paths become one node).
    """
    keep = [i == 0 or (f is not None and classify(f[0])[0] == APP) or
            (f is None and i != 0) for i, f in enumerate(tree.funcs)]
    new_index = {0: 0}
    funcs, parents, totals, selfs, flags = [None], [-1], [tree.total[0]], [0.0], [0]
    unscaled = [tree.total[0]]
    children: dict = {0: {}}
    shown_parent = [0] * len(tree)
    for i in range(1, len(tree)):
        p = tree.parent[i]
        anchor = new_index[p] if keep[p] else shown_parent[p]
        if not keep[i]:
            shown_parent[i] = anchor
            continue
        key = (tree.funcs[i], tree.flags[i] & calltree.SEVERAL)
        existing = children[anchor].get(key)
        if existing is not None:
            totals[existing] += tree.total[i]
            unscaled[existing] += tree.unscaled[i]
            selfs[existing] += tree.self_time[i]
            flags[existing] |= int(tree.flags[i])
            new_index[i] = existing
        else:
            idx = len(funcs)
            children[anchor][key] = idx
            children[idx] = {}
            funcs.append(tree.funcs[i])
            parents.append(anchor)
            totals.append(tree.total[i])
            unscaled.append(tree.unscaled[i])
            selfs.append(tree.self_time[i])
            flags.append(int(tree.flags[i]))
            new_index[i] = idx
    return _relayout(funcs, parents, totals, selfs, flags, tree.mode, unscaled)


def _relayout(funcs, parents, totals, selfs, flags, mode,
              unscaled=None) -> "calltree.CallTree":
    """Pre-order and x positions for a tree given as parent links (children by size)."""
    kids: dict = {}
    for i in range(1, len(funcs)):
        kids.setdefault(parents[i], []).append(i)
    order, depth, start = [], {0: 0}, {0: 0.0}
    stack = [0]
    while stack:
        i = stack.pop()
        order.append(i)
        x = start[i]
        mine = sorted(kids.get(i, ()), key=lambda k: (-totals[k], str(funcs[k])))
        for k in mine:
            start[k], depth[k] = x, depth[i] + 1
            x += totals[k]
        stack.extend(reversed(mine))
    pos = {old: new for new, old in enumerate(order)}
    return calltree.CallTree(
        tuple(funcs[i] for i in order),
        np.asarray([pos[parents[i]] if i else -1 for i in order], np.int32),
        np.asarray([depth[i] for i in order], np.int32),
        np.asarray([totals[i] for i in order], np.float64),
        np.asarray([selfs[i] for i in order], np.float64),
        np.asarray([start[i] for i in order], np.float64),
        np.asarray([flags[i] for i in order], np.uint8), mode,
        None if unscaled is None else np.asarray([unscaled[i] for i in order], np.float64))


def focus_tree(graph: CallGraph, func, mode: str = calltree.ESTIMATED_MODE,
          threshold: float = 0.001) -> "calltree.CallTree":
    """Everything called below *func*, merged over all its call sites: the tree of the
    function as if it were the only root (its whole time, from every caller)."""
    return calltree.build(graph, mode=mode, threshold=threshold, roots=[func])



_TREES: OrderedDict = OrderedDict()   # (id(graph), options) -> (graph, tree), newest last
_TREES_KEPT = 8
_TREES_LOCK = threading.Lock()


def build_tree(graph: CallGraph, mode: str = calltree.ESTIMATED_MODE, app_only: bool = False,
               focus=None, threshold: float = 0.001):
    """The tree the flame view draws: whole, or focused on a function, maybe app code only.

    The last few trees are kept (a built tree is never changed): the worker that merges a
    scope builds its tree too, and the flame panel then finds it with ``cached_tree``
    instead of a second round trip through a worker thread."""
    if graph is None:
        return None
    tree = cached_tree(graph, mode, app_only, focus, threshold)
    if tree is not None:
        return tree
    if focus is not None and focus in graph.functions:
        tree = focus_tree(graph, focus, mode, threshold)
    else:
        tree = calltree.build(graph, mode=mode, threshold=threshold)
    tree = app_only_tree(tree) if app_only else tree
    with _TREES_LOCK:
        _TREES[(id(graph), mode, app_only, focus, threshold)] = (graph, tree)
        while len(_TREES) > _TREES_KEPT:
            _TREES.popitem(last=False)
    return tree


def cached_tree(graph, mode: str = calltree.ESTIMATED_MODE, app_only: bool = False,
                focus=None, threshold: float = 0.001):
    """``build_tree``'s tree for these arguments if it was built lately, else None."""
    if graph is None:
        return None
    with _TREES_LOCK:
        hit = _TREES.get((id(graph), mode, app_only, focus, threshold))
    # the graph is held with its tree, so its id cannot have been reused by another
    return hit[1] if hit is not None and hit[0] is graph else None


def frame_tooltip(tree, i: int, name: str, graph=None, delta=None, significant=None) -> str:
    """The tooltip of frame *i* of a flame *tree* (drawn under *name*): its function, times
    and shares, calls per request (from *graph*), the comparison's change (*delta*, with
    *significant*), and why its size is scaled, estimated or shared."""
    t = tree
    func = t.funcs[i]
    root = t.total[0] or 1.0
    if func is None:
        return "%s\n%s (%.1f%%)" % (name, format_ms(t.total[i] * 1e3),
                                    100 * t.total[i] / root)
    lines = ["%s" % func[2], "%s:%d" % (short_path(func[0], 80), func[1]),
             "total %s (%.1f%%)   self %s (%.1f%%)" % (
                 format_ms(t.total[i] * 1e3), 100 * t.total[i] / root,
                 format_ms(t.self_time[i] * 1e3), 100 * t.self_time[i] / root)]
    if graph is not None and func in graph.functions:
        s = graph.functions[func]
        n = max(1, graph.requests)
        calls = "%d calls" % s.ncalls + (" (%d primitive)" % s.primcalls
                                         if s.primcalls != s.ncalls else "")
        lines.append(calls + " in all; function total %s" % format_ms(s.cumtime * 1e3))
        if n > 1:
            lines.append("per request (of %d): %s total, %.1f calls" % (
                n, format_ms(s.cumtime * 1e3 / n), s.ncalls / n))
    if delta is not None:
        lines.append("change per request: %+.3f ms (after − before)%s" % (
            1e3 * delta[i], "" if significant is None or significant[i]
            else ", not significant"))
    if t.flags[i] & calltree.SCALED:
        lines.append("drawn at %s, not pstats' %s (%+.0f%%): shrunk to fit inside its "
                     "caller, whose time pstats also counts at other depths (recursion)"
                     % (format_ms(t.total[i] * 1e3), format_ms(t.unscaled[i] * 1e3),
                        100.0 * (t.total[i] - t.unscaled[i]) / (t.unscaled[i] or 1.0)))
    if t.flags[i] & calltree.ESTIMATED:
        lines.append("estimated: this function has several callers; its time here is "
                     "shared out in proportion to call-edge time")
    elif t.flags[i] & calltree.SHARED:
        lines.append("called from several places: this node is the time of this call edge")
    return "\n".join(lines)
