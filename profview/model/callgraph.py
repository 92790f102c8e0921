"""The canonical profile: cProfile's caller→callee graph, immutable.

pstats keeps, per function, (primitive calls, calls, self time, cumulative time) and, per
caller→callee edge, the same four numbers for the calls made along that edge.  It does not keep
stacks.  Every other view (call tree, flame graph, tables, call graph) is derived from this.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Iterable, Mapping, NamedTuple

# A function as pstats names it: (file name, first line, function name).  Built-ins use
# file "~" and line 0; generated code uses pseudo-files such as "<string>" or "<frozen os>".
FuncKey = tuple  # tuple[str, int, str]
EdgeKey = tuple  # tuple[FuncKey, FuncKey]: (caller, callee)


class Stats(NamedTuple):
    """Call counts and times (seconds) of a function, or of the calls along one edge."""

    ncalls: int
    primcalls: int
    tottime: float
    cumtime: float

    def __add__(self, other: "Stats") -> "Stats":  # type: ignore[override]
        return Stats(self.ncalls + other.ncalls, self.primcalls + other.primcalls,
                     self.tottime + other.tottime, self.cumtime + other.cumtime)

    def scaled(self, factor: float) -> "Stats":
        """The same stats multiplied by *factor* (used for per-request averages)."""
        return Stats(self.ncalls * factor, self.primcalls * factor,
                     self.tottime * factor, self.cumtime * factor)




def format_func(key: FuncKey) -> str:
    """``file:line(name)``, the form pstats prints and the report uses."""
    return "%s:%d(%s)" % key


class CallGraph:
    """An immutable caller→callee graph of one profile, or of several merged.

    ``functions`` maps FuncKey → Stats; ``edges`` maps (caller, callee) → Stats.  Derived
    views (merged, scaled) are new objects; nothing here mutates after construction.
    """

    __slots__ = ("_functions", "_edges", "_callees", "_callers", "requests")

    def __init__(self, functions: Mapping[FuncKey, Stats],
                 edges: Mapping[EdgeKey, Stats], requests: int = 1):
        self._functions = MappingProxyType(dict(functions))
        self._edges = MappingProxyType(dict(edges))
        self._callees: dict | None = None
        self._callers: dict | None = None
        self.requests = requests  # how many request profiles were summed into this graph

    def __reduce__(self):
        """Pickled as its two dicts (a worker process lays out the call graph)."""
        return (type(self), (dict(self._functions), dict(self._edges), self.requests))

    @classmethod
    def from_pstats(cls, stats: Mapping) -> "CallGraph":
        """Build from a *validated* pstats dict (see ``importers.pstats_file``)."""
        functions = {}
        edges = {}
        for key, (cc, nc, tt, ct, callers) in stats.items():
            functions[key] = Stats(nc, cc, tt, ct)
            for caller, value in callers.items():
                if type(value) is tuple:  # cProfile: (nc, cc, tt, ct)
                    edges[(caller, key)] = Stats(value[0], value[1], value[2], value[3])
                else:  # the pure-Python ``profile`` module stores a bare call count
                    edges[(caller, key)] = Stats(value, value, 0.0, 0.0)
        return cls(functions, edges)

    @property
    def functions(self) -> Mapping[FuncKey, Stats]:
        return self._functions

    @property
    def edges(self) -> Mapping[EdgeKey, Stats]:
        return self._edges

    def _index(self) -> None:
        callees: dict = {k: {} for k in self._functions}
        callers: dict = {k: {} for k in self._functions}
        for (caller, callee), stats in self._edges.items():
            callees.setdefault(caller, {})[callee] = stats
            callers.setdefault(callee, {})[caller] = stats
        self._callees, self._callers = callees, callers

    def callees(self, key: FuncKey) -> Mapping[FuncKey, Stats]:
        """Functions called by *key*, with the stats of each edge."""
        if self._callees is None:
            self._index()
        return self._callees.get(key, {})

    def callers(self, key: FuncKey) -> Mapping[FuncKey, Stats]:
        """Functions that called *key*, with the stats of each edge."""
        if self._callers is None:
            self._index()
        return self._callers.get(key, {})

    def roots(self) -> list:
        """Functions nobody calls (the profiler's entry points), largest first."""
        roots = [k for k in self._functions if not self.callers(k)]
        return sorted(roots, key=lambda k: -self._functions[k].cumtime)

    def to_pstats(self) -> dict:
        """The graph as a pstats dict (``marshal.dumps`` it to write a ``.prof`` that
        pstats, SnakeViz and gprof2dot read)."""
        out = {k: (int(s.primcalls), int(s.ncalls), float(s.tottime), float(s.cumtime), {})
               for k, s in self._functions.items()}
        for (caller, callee), s in self._edges.items():
            out[callee][4][caller] = (int(s.ncalls), int(s.primcalls), float(s.tottime),
                                      float(s.cumtime))
        return out

    def scaled(self, factor: float) -> "CallGraph":
        """A new graph with every number multiplied by *factor* (e.g. 1/requests)."""
        return CallGraph({k: s.scaled(factor) for k, s in self._functions.items()},
                         {k: s.scaled(factor) for k, s in self._edges.items()},
                         self.requests)

    def __repr__(self) -> str:
        return "CallGraph(%d functions, %d edges, %d requests)" % (
            len(self._functions), len(self._edges), self.requests)


def sum_stats(parts: Iterable[Mapping]) -> dict:
    """Add several ``{key: Stats}`` mappings key by key (functions or edges)."""
    total: dict = {}
    for part in parts:
        for key, stats in part.items():
            old = total.get(key)
            total[key] = stats if old is None else old + stats
    return total
