"""One SQL statement a request ran, as a query log recorded it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Query:
    """A statement with its timing and, when known, the request that ran it.

    ``request`` (a request id) or ``profile`` (a profile file name) ties it to a request;
    ``profile_file`` is that profile's full path once the join is made (None: unattributed).
    """

    statement: str
    start: Optional[float]             # epoch seconds
    duration_ms: Optional[float]
    parameters: Optional[str] = None   # repr of the parameters, as logged
    location: Optional[str] = None     # "file:line (function)" of the app frame that ran it
    request: Optional[str] = None
    profile: Optional[str] = None
    profile_file: Optional[str] = None
    source: Optional[str] = None       # the log it came from
    line: Optional[int] = None         # and its line there
    view: Optional[str] = None         # the view function named by the log, when that is all
    attribution: Optional[str] = None  # "exact", "time" (echo log), "ambiguous", or None
