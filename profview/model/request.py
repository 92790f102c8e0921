"""One profiled HTTP request, and a problem met while reading input."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .callgraph import FuncKey


@dataclass(frozen=True)
class Problem:
    """Something that could not be read: a file (and line, for line-based logs) and why."""

    path: str
    message: str
    line: Optional[int] = None
    # "untied": the summary of a log's statements that could not be tied (recomputed, not
    # kept, when a live capture is extended)
    kind: str = field(default="", compare=False)

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "message": self.message}

    def __str__(self) -> str:
        where = self.path if self.line is None else "%s:%d" % (self.path, self.line)
        return "%s: %s" % (where, self.message)


@dataclass(frozen=True)
class ViewCandidate:
    """An application function that may be the request's view function.

    ``lib_hops`` counts library frames between Flask's ``dispatch_request`` and it;
    ``app_depth`` counts application frames above it (0 for the first one reached);
    ``parent`` is the application function that called it (None at depth 0).  ``kind`` is
    "app" for those; "library" for a library function ``dispatch_request`` calls itself;
    "routing" and "static" mark a request whose routing failed, or that served a static file.
    """

    func: FuncKey
    lib_hops: int
    app_depth: int
    parent: Optional[FuncKey] = None
    kind: str = "app"


@dataclass(frozen=True)
class Request:
    """A request profile on disk and what is known about the request.

    The call graph itself is not kept: it is re-read on demand (``marshal.loads`` of a request
    profile takes well under a millisecond), so memory grows with distinct functions, not files.
    """

    file: Path                    # where the profile is
    name: str                     # file name relative to the path the user gave
    method: Optional[str]         # "GET", … or None when the file name does not say
    url_path: Optional[str]       # "/user/alice", or None when unknown
    elapsed_ms: float             # wall time of the request
    time: float                   # epoch seconds (end of request, as Werkzeug names it)
    total_tt: float               # sum of self times in the profile, seconds
    named: bool = True            # False: not a Werkzeug file name; time from mtime
    flask: bool = False           # Flask's dispatch_request was found in the profile
    # Requests in one bucket surely share an endpoint: ("rule", method, URL rule) when the
    # capture sidecar names the rule, ("view", method, frozenset of ViewCandidate) for Flask
    # requests, ("path", method, url_path) otherwise.
    bucket: tuple = field(default=(), compare=False)
    # From the capture sidecars, when present (None: unknown).
    query: Optional[str] = None         # the query string, without "?"
    status: Optional[int] = None
    rule: Optional[str] = None          # Flask's URL rule, e.g. "/user/<username>"
    flask_endpoint: Optional[str] = None
    request_id: Optional[str] = None
    # SQL statements run and their time: None without a query log, and None ("unknown")
    # when statements that could not be tied may be this request's
    n_queries: Optional[int] = None
    sql_ms: Optional[float] = None
    db_executes: Optional[int] = None   # DB-API execute() calls its profile counted
    exact_time: bool = False            # start and elapsed from requests.jsonl, not a name
    host: Optional[str] = None          # requests.jsonl: the machine, process and thread
    pid: Optional[int] = None
    thread: Optional[int] = None
    # requests.jsonl: the process's resident bytes before and after it; with memory=True,
    # tracemalloc's peak and net bytes and the lines that allocated what stayed
    rss_before: Optional[int] = None
    rss_after: Optional[int] = None
    mem_peak: Optional[int] = None
    mem_net: Optional[int] = None
    mem_sites: tuple = field(default=(), compare=False)
    # The request's sampled call stacks (``{profile}.stacks`` beside the profile, written by
    # ``profview.capture`` with ``stacks=True``), or None: its flame graph is then exact.
    stacks: Optional[Path] = field(default=None, compare=False)
    # Read from its sampled stacks, having no profile (``profile=False``): times are exact,
    # call counts unknown (0 in its table: see ``importers.stacks_pstats``).
    sampled: bool = False
    # What the importer of a stack-based input assumed or passed over (shown as notes).
    notes: tuple = field(default=(), compare=False)

    @property
    def rss_delta(self) -> Optional[int]:
        """How much the resident set grew during the request (bytes; None: unknown)."""
        if self.rss_before is None or self.rss_after is None:
            return None
        return self.rss_after - self.rss_before

    @property
    def start(self) -> float:
        """Epoch seconds when the request started."""
        return self.time - self.elapsed_ms / 1000.0

    @property
    def label(self) -> str:
        """``GET /user/alice`` or the file name when method and path are unknown."""
        if self.method and self.url_path is not None:
            return "%s %s" % (self.method, self.url_path)
        return self.name
