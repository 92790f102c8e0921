"""Parse the file names Werkzeug's ProfilerMiddleware gives request profiles.

Default format: ``{method}.{path}.{elapsed:.0f}ms.{time:.0f}.prof`` where ``path`` is
``PATH_INFO`` stripped of ``/`` with ``/`` replaced by ``.`` (``root`` when empty).  Paths hold
dots, so the name is parsed from the right.  profview's capture helper keeps that shape and adds
a short request id before ``.prof``; both are recognised.
"""
from __future__ import annotations

import re
from typing import NamedTuple, Optional

_NAME = re.compile(
    r"^(?P<method>[A-Z][A-Z_-]*)\.(?P<path>.*)\.(?P<elapsed>\d+(?:\.\d+)?)ms"
    r"\.(?P<time>\d+)(?:\.(?P<rid>[0-9A-Za-z_-]{1,32}))?"
    # the same names on other profilers' files (a per-request hook that names them so)
    r"\.(?:prof|pstats|pyisession|speedscope\.json|json|folded|collapsed)$")


class WerkzeugName(NamedTuple):
    method: str
    url_path: str
    elapsed_ms: float
    time: float
    request_id: Optional[str]


def _wsgi_to_text(path: str) -> str:
    """PATH_INFO is UTF-8 bytes decoded as latin-1 (PEP 3333); undo that when it applies."""
    try:
        return path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return path


def parse_name(name: str) -> Optional[WerkzeugName]:
    """The request a Werkzeug profile file name describes, or None for any other name.

    ``GET.user.alice.23ms.1795313503.prof`` → ``("GET", "/user/alice", 23.0, 1795313503.0)``.
    A dot inside a path segment (``/static/app.js``) cannot be told from a ``/``: the name
    alone reads it as ``/static/app/js``; the capture sidecar keeps the exact path.
    """
    match = _NAME.match(name)
    if match is None:
        return None
    raw = match.group("path")
    url_path = "/" if raw in ("root", "") else "/" + _wsgi_to_text(raw).replace(".", "/")
    return WerkzeugName(match.group("method"), url_path, float(match.group("elapsed")),
                        float(match.group("time")), match.group("rid"))
