"""A loaded capture: its requests, what could not be read, and requests grouped into endpoints."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional

from .callgraph import FuncKey, Stats


@dataclass(frozen=True)
class Endpoint:
    """Requests the app routes to one place: same method and view function (or URL pattern)."""

    # ("rule", method, URL rule) | ("view", method, FuncKey) | ("path", method, pattern)
    # | ("routing", method, None): 404/405 | ("static", method, "/static/<path>")
    key: tuple
    name: str                        # "GET /user/<...>": method and URL pattern
    method: Optional[str]
    view: Optional[FuncKey]          # the view function, when one was found
    requests: tuple                  # tuple[Request, ...], in time order
    functions: Mapping = field(default_factory=dict, compare=False)  # FuncKey → Stats, summed
    why: str = ""                    # how it was keyed, in a sentence (tooltip, JSON report)
    keyed_by: str = ""               # key[0], spelled out for the JSON report

    @property
    def elapsed_ms(self) -> list:
        return [r.elapsed_ms for r in self.requests]

    @property
    def total_ms(self) -> float:
        return sum(r.elapsed_ms for r in self.requests)


@dataclass(frozen=True)
class Capture:
    """Everything read from the paths a user opened.

    ``buckets`` holds function stats summed per bucket of requests that are sure to share an
    endpoint (same method and same view candidates, or same method and path); each request
    names its bucket in ``Request.bucket``.  Endpoints are built from buckets, so memory grows
    with distinct code paths and functions, not with the number of files.
    """

    requests: tuple
    problems: tuple
    buckets: Mapping = field(default_factory=dict, compare=False)  # bucket → {FuncKey: Stats}
    grouping: str = "view"
    queries: tuple = ()            # every Query read, attributed or not
    has_queries: bool = False      # a query log was read
    # (path, size, mtime_ns) of the sidecars and query logs read: a live reload reads them
    # again only when one of them changed
    sources: tuple = ()

    @classmethod
    def build(cls, requests, problems, buckets: dict, grouping: str, queries=(),
              has_queries: bool = False, sources=()) -> "Capture":
        frozen = {b: MappingProxyType({k: Stats(*v) for k, v in funcs.items()})
                  for b, funcs in buckets.items()}
        ordered = tuple(sorted(requests, key=lambda r: (r.time, r.name)))
        return cls(ordered, tuple(problems), MappingProxyType(frozen), grouping,
                   tuple(queries), has_queries, tuple(sources))

    def __len__(self) -> int:
        return len(self.requests)

