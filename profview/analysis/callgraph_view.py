"""The call graph as gprof2dot draws it: pruned, coloured, laid out by Graphviz.

gprof2dot is used as a library: its pstats parser is fed our validated call graph (never a
file), its ``prune`` applies the node/edge thresholds, its theme gives the colours and its
``DotWriter`` the DOT text.  Layout is ``dot -Tjson0`` when Graphviz is installed, else the
``graphviz-pure`` static build from PyPI (same JSON), else grandalf (pure Python).  Nothing
here imports Qt; the window draws the positions.

A new threshold on the slider must not parse the profile again: the parsed (and integrated)
gprof2dot Profile is kept for the last few CallGraph objects, and each ``build`` prunes a
shallow copy of it (gprof2dot's ``prune`` deletes from the dicts it is given).  Layouts are
kept for the last few DOT texts, since neighbouring thresholds often keep the same graph.
``-Tjson0`` is ``-Tjson`` without the drawing operations: the same positions, a fifth of the
bytes, and 0.1 s less to produce and read for 250 nodes.
"""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field

import gprof2dot

NODE_THRES, EDGE_THRES = 0.005, 0.001     # gprof2dot's defaults: 0.5% and 0.1%
MAX_NODES = 250                           # never lay out more (1,000 nodes took minutes)
LAYOUT_TIMEOUT = 20.0
POINTS_PER_INCH = 72.0
PARSED_KEPT = 2        # parsed profiles kept (the current scope and the one before)
LAYOUTS_KEPT = 8       # layouts kept, by DOT text


class _Parser(gprof2dot.PstatsParser):
    """gprof2dot's pstats parser, given a pstats dict instead of a file to unpickle."""

    def __init__(self, stats: dict):  # noqa: D107 - deliberately not calling the base
        holder = type("Stats", (), {})()
        holder.stats = stats
        holder.total_tt = sum(v[2] for v in stats.values())
        self.stats = holder
        self.profile = gprof2dot.Profile()
        self.function_ids = {}


class _Parsed:
    """gprof2dot's parse of one CallGraph, never pruned itself: ``build`` prunes copies."""

    def __init__(self, graph):
        parser = _Parser(graph.to_pstats())
        self.graph = graph                  # held: the cache is keyed by identity
        self.profile = parser.parse()
        self.ids = {i: key for key, i in parser.function_ids.items()}


_lock = threading.Lock()
_parsed: "OrderedDict[int, _Parsed]" = OrderedDict()
_layouts: "OrderedDict[tuple, Layout]" = OrderedDict()
stats = {"parses": 0, "layouts": 0}     # how often the slow steps really ran (tests, bench)


def parsed(graph) -> _Parsed:
    """The parse of *graph*, made once per CallGraph object (CallGraph is immutable)."""
    with _lock:
        entry = _parsed.get(id(graph))
        if entry is not None and entry.graph is graph:
            _parsed.move_to_end(id(graph))
            return entry
        entry = _Parsed(graph)
        stats["parses"] += 1
        _parsed[id(graph)] = entry
        while len(_parsed) > PARSED_KEPT:
            _parsed.popitem(last=False)
        return entry


def parse_count() -> int:
    """How many parses this process has made (asked of a worker process by the tests)."""
    return stats["parses"]


def clear_cache() -> None:
    """Forget every parse and layout (tests; a window that closes its capture)."""
    with _lock:
        _parsed.clear()
        _layouts.clear()
        _by_token.clear()


def _copy(profile, node_thres: float):
    """A copy of *profile* that ``prune`` can cut: new Profile, Function and Call objects
    (prune deletes from ``functions`` and ``calls`` and sets ``weight``); the event dicts,
    which nothing after the parse writes, are shared.  Functions that ``prune(node_thres)``
    is bound to delete (their total time ratio is under the threshold), and the calls to
    them, are left out, so a 250-node graph copies 250 functions, not all 1,400: prune's
    result is the same."""
    new = object.__new__(gprof2dot.Profile)
    new.__dict__.update(profile.__dict__)
    new.functions = functions = {}
    function_new, call_new = gprof2dot.Function.__new__, gprof2dot.Call.__new__
    Function, Call = gprof2dot.Function, gprof2dot.Call
    ratio = gprof2dot.TOTAL_TIME_RATIO
    kept = [f for f in profile.functions.values()
            if not f.events.get(ratio, node_thres) < node_thres]
    ids = {f.id for f in kept}
    for f in kept:
        g = function_new(Function)
        g.__dict__.update(f.__dict__)
        calls = g.calls = {}
        for callee, call in f.calls.items():
            if callee not in ids:       # prune drops calls to functions it dropped
                continue
            c = call_new(Call)
            c.__dict__.update(call.__dict__)
            calls[callee] = c
        functions[g.id] = g
    return new


@dataclass
class GraphSpec:
    """A pruned graph ready for layout: DOT text plus the same data as Python objects."""

    dot: str
    funcs: dict                    # gprof2dot id → FuncKey
    nodes: list                    # [{"id", "label", "bg", "fg", "total", "self", "calls"}]
    edges: list                    # [{"src", "dst", "label", "colour", "width"}]
    message: str = ""              # what was cut, for the user
    requests: int = 1


@dataclass
class Layout:
    """Positions in points, y growing downwards; ``edges`` hold Bézier control points."""

    nodes: dict                    # id → (x centre, y centre, width, height)
    edges: list                    # [{"src", "dst", "curve": [(x, y)...], "tip", "label"}]
    size: tuple                    # (width, height)
    backend: str
    extra: dict = field(default_factory=dict)


def _colour(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(round(255 * c)) for c in rgb)


def _neighbourhood(profile, focus_id: int, depth: int) -> set:
    """Ids within *depth* calls above (callers) and below (callees) *focus_id*."""
    callers: dict = {}
    for f in profile.functions.values():
        for callee in f.calls:
            callers.setdefault(callee, set()).add(f.id)
    keep = {focus_id}
    for step in (lambda i: profile.functions[i].calls.keys(), lambda i: callers.get(i, ())):
        queue = deque([(focus_id, 0)])
        seen = {focus_id}
        while queue:
            node, d = queue.popleft()
            if d == depth:
                continue
            for nxt in step(node):
                if nxt not in seen and nxt in profile.functions:
                    seen.add(nxt)
                    queue.append((nxt, d + 1))
        keep |= seen
    return keep


def build(graph, node_thres: float = NODE_THRES, edge_thres: float = EDGE_THRES,
          focus=None, depth: int = 2, max_nodes: int = MAX_NODES) -> GraphSpec:
    """Prune *graph* like gprof2dot and describe it; *focus* keeps only its neighbourhood."""
    cached = parsed(graph)
    profile, ids = _copy(cached.profile, node_thres), cached.ids
    profile.prune(node_thres, edge_thres, [], False)
    message = ""
    while len(profile.functions) > max_nodes:    # cap: raise the threshold until it fits
        node_thres = max(node_thres * 2, 0.001)   # (from 0, the slider's end: 0.1%)
        profile.prune(node_thres, edge_thres, [], False)
        message = "cut to %d nodes: functions under %.1f%% of the time are hidden" % (
            len(profile.functions), 100 * node_thres)
    if focus is not None:
        focus_id = next((i for i, key in ids.items() if key == focus), None)
        if focus_id is not None and focus_id in profile.functions:
            keep = _neighbourhood(profile, focus_id, depth)
            for i in list(profile.functions):
                if i not in keep:
                    del profile.functions[i]
            for f in profile.functions.values():
                for callee in [c for c in f.calls if c not in keep]:
                    del f.calls[callee]
            message = ("focused on %s: callers and callees %d level%s deep"
                       % (focus[2], depth, "" if depth == 1 else "s"))
    theme = gprof2dot.themes["color"]
    buf = io.StringIO()
    gprof2dot.DotWriter(buf).graph(profile, theme)
    nodes, edges = [], []
    for f in profile.functions.values():
        weight = f.weight or 0.0
        nodes.append({"id": f.id, "label": ids[f.id][2],
                      "bg": _colour(theme.node_bgcolor(weight)),
                      "fg": _colour(theme.node_fgcolor(weight)),
                      "total": f[gprof2dot.TOTAL_TIME_RATIO],
                      "self": f[gprof2dot.TIME_RATIO], "calls": f.called})
        for call in f.calls.values():
            w = call.weight or 0.0
            edges.append({"src": f.id, "dst": call.callee_id,
                          "ratio": call[gprof2dot.TOTAL_TIME_RATIO]
                          if gprof2dot.TOTAL_TIME_RATIO in call else 0.0,
                          "calls": call[gprof2dot.CALLS] if gprof2dot.CALLS in call else None,
                          "colour": _colour(theme.edge_color(w)),
                          "width": theme.edge_penwidth(w)})
    return GraphSpec(buf.getvalue(), ids, nodes, edges, message, graph.requests)


_by_token: "OrderedDict[object, object]" = OrderedDict()   # token -> graph (worker side)


def build_and_layout(graph, node_thres: float = NODE_THRES, edge_thres: float = EDGE_THRES,
                     focus=None, depth: int = 2, token=None) -> tuple:
    """``(spec, layout)``: ``build`` and ``layout`` in one call (layout None when nothing is
    above the thresholds), for a worker process: both are plain data.

    *token* names the graph's content (the caller's own counter): a graph sent again under a
    token seen lately is swapped for the copy received then, whose gprof2dot parse is
    cached, so a new threshold costs a prune and a layout, not a parse.  (Each send arrives
    as a new object: without the token every call parsed again.)"""
    if token is not None:
        with _lock:
            known = _by_token.get(token)
            if known is None:
                _by_token[token] = graph
                while len(_by_token) > PARSED_KEPT:
                    _by_token.popitem(last=False)
            else:
                _by_token.move_to_end(token)
                graph = known
    spec = build(graph, node_thres, edge_thres, focus, depth)
    return spec, (layout(spec) if spec.nodes else None)


def backends() -> list:
    """The layout programs found here, best first."""
    found = [name for name in ("dot", "graphviz-pure") if shutil.which(name)]
    try:
        import grandalf  # noqa: F401
        found.append("grandalf")
    except ImportError:
        pass
    return found


def layout(spec: GraphSpec, backend: str | None = None,
           timeout: float = LAYOUT_TIMEOUT) -> Layout:
    """Positions for every node of *spec*, from the first backend that works (the same DOT
    text laid out by the same backend a moment ago comes back from the cache)."""
    errors = []
    for name in ([backend] if backend else backends()):
        key = (spec.dot, name)
        with _lock:
            if key in _layouts:
                _layouts.move_to_end(key)
                return _layouts[key]
        try:
            if name == "grandalf":
                result = _grandalf(spec)
            else:
                result = _graphviz(spec, name, timeout)
        except (OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
            errors.append("%s: %s" % (name, exc))
            continue
        with _lock:
            stats["layouts"] += 1
            _layouts[key] = result
            while len(_layouts) > LAYOUTS_KEPT:
                _layouts.popitem(last=False)
        return result
    raise RuntimeError("no layout backend worked (%s)" % ("; ".join(errors) or "none found"))


def _points(text: str) -> list:
    return [tuple(float(v) for v in p.split(",")[:2]) for p in text.split()]


def _graphviz(spec: GraphSpec, program: str, timeout: float) -> Layout:
    command = shutil.which(program) or program
    try:
        result = subprocess.run([command, "-Tjson0"], input=spec.dot, capture_output=True,
                                text=True, timeout=timeout, check=True)
    except subprocess.CalledProcessError as exc:      # a Graphviz before 2.40: no json0
        if "json0" not in (exc.stderr or ""):
            raise
        result = subprocess.run([command, "-Tjson"], input=spec.dot, capture_output=True,
                                text=True, timeout=timeout, check=True)
    data = json.loads(result.stdout)
    height = float(data["bb"].split(",")[3])
    gvid = {}
    nodes = {}
    for obj in data.get("objects", []):
        node_id = int(obj["name"])
        gvid[obj["_gvid"]] = node_id
        x, y = (float(v) for v in obj["pos"].split(","))
        nodes[node_id] = (x, height - y, float(obj["width"]) * POINTS_PER_INCH,
                          float(obj["height"]) * POINTS_PER_INCH)
    edges = []
    for e in data.get("edges", []):
        pts = [p for p in e["pos"].split() if not p.startswith(("e,", "s,"))]
        end = [p for p in e["pos"].split() if p.startswith("e,")]
        curve = [(x, height - y) for x, y in _points(" ".join(pts))]
        tip = None
        if end:
            x, y = _points(end[0][2:])[0]
            tip = (x, height - y)
        label = None
        if "lp" in e:
            lx, ly = (float(v) for v in e["lp"].split(","))
            label = (lx, height - ly)
        edges.append({"src": gvid[e["tail"]], "dst": gvid[e["head"]], "curve": curve,
                      "tip": tip, "label": label})
    width = float(data["bb"].split(",")[2])
    return Layout(nodes, edges, (width, height), program)


def _grandalf(spec: GraphSpec) -> Layout:
    """A layered layout in pure Python: straight edges, a poorer picture than dot's."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class View:
        def __init__(self, w, h):
            self.w, self.h, self.xy = w, h, (0.0, 0.0)

    vertices = {}
    for n in spec.nodes:
        v = Vertex(n["id"])
        v.view = View(max(60.0, 7.0 * len(n["label"])), 52.0)
        vertices[n["id"]] = v
    edges = [Edge(vertices[e["src"]], vertices[e["dst"]]) for e in spec.edges
             if e["src"] != e["dst"]]
    graph = Graph(list(vertices.values()), edges)
    x_off = 0.0
    for component in graph.C:
        sug = SugiyamaLayout(component)
        sug.init_all()
        sug.draw()
        xs = [v.view.xy[0] for v in component.sV]
        shift = x_off - min(xs) + 40.0
        for v in component.sV:
            v.view.xy = (v.view.xy[0] + shift, v.view.xy[1])
        x_off = max(v.view.xy[0] + v.view.w for v in component.sV) + 40.0
    nodes = {n_id: (v.view.xy[0], v.view.xy[1], v.view.w, v.view.h)
             for n_id, v in vertices.items()}
    min_y = min((y - h / 2 for _x, y, _w, h in nodes.values()), default=0.0)
    nodes = {k: (x, y - min_y + 10, w, h) for k, (x, y, w, h) in nodes.items()}
    out = []
    for e in spec.edges:
        if e["src"] in nodes and e["dst"] in nodes and e["src"] != e["dst"]:
            (x0, y0, _w0, h0), (x1, y1, _w1, h1) = nodes[e["src"]], nodes[e["dst"]]
            start, tip = (x0, y0 + h0 / 2), (x1, y1 - h1 / 2)
            out.append({"src": e["src"], "dst": e["dst"], "curve": [start], "tip": tip,
                        "label": ((start[0] + tip[0]) / 2, (start[1] + tip[1]) / 2)})
    width = max((x + w / 2 for x, _y, w, _h in nodes.values()), default=0.0) + 20
    height = max((y + h / 2 for _x, y, _w, h in nodes.values()), default=0.0) + 20
    return Layout(nodes, out, (width, height), "grandalf")
