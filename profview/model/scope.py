"""What the window shows: every request, one endpoint, one request, or a set picked on the
timeline.  One typed value instead of tuples taken apart by position."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

ALL_KIND, ENDPOINT, REQUEST, SET = "all", "endpoint", "request", "set"


@dataclass(frozen=True)
class Scope:
    """A scope; build it with ``Scope.everything()``, ``of_endpoint``, ``of_request`` or
    ``of_set``.  Two scopes are equal when they show the same thing (the same endpoint or
    request object, or the same label and requests)."""

    kind: str
    endpoint: Optional[object] = None      # model.capture.Endpoint
    request: Optional[object] = None       # model.request.Request
    label: Optional[str] = None            # a set's label
    requests: tuple = ()                   # a set's requests

    @staticmethod
    def everything() -> "Scope":
        return ALL

    @staticmethod
    def of_endpoint(endpoint) -> "Scope":
        return Scope(ENDPOINT, endpoint=endpoint)

    @staticmethod
    def of_request(request) -> "Scope":
        return Scope(REQUEST, request=request)

    @staticmethod
    def of_set(label: str, requests) -> "Scope":
        return Scope(SET, label=label, requests=tuple(requests))

    @property
    def is_all(self) -> bool:
        return self.kind == ALL_KIND

    def requests_in(self, capture) -> tuple:
        """The requests this scope shows of *capture*."""
        if self.kind == ENDPOINT:
            return tuple(self.endpoint.requests)
        if self.kind == REQUEST:
            return (self.request,)
        if self.kind == SET:
            return self.requests
        return tuple(capture.requests) if capture is not None else ()

    def name(self, capture=None) -> str:
        """How the scope is labelled (the window's title bar, the flame graph's header)."""
        if self.kind == ENDPOINT:
            return self.endpoint.name
        if self.kind == REQUEST:
            return self.request.label
        if self.kind == SET:
            return self.label
        return "All requests (%d)" % (len(capture.requests) if capture is not None else 0)

    def __eq__(self, other) -> bool:
        # identity of the endpoint/request: two different endpoints never compare equal by
        # their (large) contents, and the comparison stays cheap
        if not isinstance(other, Scope) or other.kind != self.kind:
            return False
        return (self.endpoint is other.endpoint and self.request is other.request
                and self.label == other.label and self.requests == other.requests)

    def __hash__(self) -> int:
        return hash((self.kind, id(self.endpoint), id(self.request), self.label))


ALL = Scope(ALL_KIND)
