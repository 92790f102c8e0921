"""One SQL statement a request ran, as a query log recorded it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Query:
    """A statement with its timing and, when known, the request that ran it.

    ``request`` (a request id) or ``profile`` (a profile file name) ties it to a request;
    ``profile_file`` is that profile's full path once the join is made (None: untied, and
    ``untied`` says why: one of ``UNTIED``).  ``method`` and ``url_path`` are the request a
    log names when it names no profile.
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
    # how it was tied: "exact" (the log names its request), "path" (method, path and time),
    # "time" (inside one request's exact span), "order" (echo log: counts and order)
    attribution: Optional[str] = None
    method: Optional[str] = None
    url_path: Optional[str] = None
    untied: Optional[str] = None       # why it is not tied (a key of UNTIED)


# Why a statement is not tied to a request.  The reasons of NOT_OURS say it cannot be one of
# the loaded requests' statements; the others leave those requests' counts unknown.
UNTIED = {
    "no_request_field": "name no request (no profile, request id, or method and path field)",
    "unknown_profile": "name a profile that is not in the capture",
    "unknown_request": "name a request id that is not in the capture",
    "several_profiles": "name a profile file name that several directories hold",
    "no_match": "match no request of their method and path at their time",
    "several_match": "match several requests of their method and path at their time",
    "no_time": "have no clock time to find their request by",
    "outside_requests": "ran outside every request",
    "overlapping_requests": "ran while several requests were running",
    "ambiguous_order": "could belong to several requests of the same second (their "
                       "execute() counts and timing allow more than one order)",
    "counts_do_not_fit": "are where the log and the profiles' execute() counts disagree (a "
                         "lost profile, statements outside requests, or calls not logged)",
    "no_execute_counts": "cannot be ordered: no profile shows a DB-API execute() call",
}
NOT_OURS = frozenset({"unknown_profile", "unknown_request", "outside_requests"})
