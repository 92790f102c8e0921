"""A loaded capture: its requests, what could not be read, and requests grouped into endpoints."""
from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import Mapping, Optional

from .callgraph import FuncKey
from .store import Store


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

    ``store`` holds function and edge stats summed per bucket of requests that are sure to
    share an endpoint (same method and same view candidates, or same method and path); each
    request names its bucket in ``Request.bucket``.  Endpoints and scopes are built from
    buckets, so memory grows with distinct code paths and functions, not with the number of
    files.  ``buckets`` is the functions of each bucket as ``{FuncKey: Stats}``.
    """

    requests: tuple
    problems: tuple
    store: Store = field(default=None, compare=False)
    grouping: str = "view"
    queries: tuple = ()            # every Query read, attributed or not
    has_queries: bool = False      # a query log was read
    # (path, size, mtime_ns) of the sidecars and query logs read: a live reload reads them
    # again only when one of them changed
    sources: tuple = ()
    plans: tuple = ()              # QueryPlan: the plans the capture asked for (explain=True)

    @classmethod
    def build(cls, requests, problems, store: Store, grouping: str, queries=(),
              has_queries: bool = False, sources=(), plans=()) -> "Capture":
        ordered = tuple(sorted(requests, key=lambda r: (r.time, r.name)))
        return cls(ordered, tuple(problems), store, grouping,
                   tuple(queries), has_queries, tuple(sources), tuple(plans))

    @property
    def buckets(self) -> Mapping:
        """bucket → ``{FuncKey: Stats}``, made on first use of each bucket."""
        return _BucketFunctions(self.store)

    def __len__(self) -> int:
        return len(self.requests)


class _BucketFunctions(MappingABC):
    """A read-only view of a Store's buckets as ``{FuncKey: Stats}`` dicts."""

    def __init__(self, store: Store):
        self._store = store

    def __getitem__(self, bucket) -> dict:
        if bucket not in self._store.buckets:
            raise KeyError(bucket)
        return self._store.functions(bucket)

    def __iter__(self):
        return iter(self._store.buckets)

    def __len__(self) -> int:
        return len(self._store.buckets)

