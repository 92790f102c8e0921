"""What a request's sampled stacks add to a finding: where in the code it happened.

pstats can say that a lazy loader ran 105 times, not from which line of which loop; a
request's true stacks (``.stacks`` beside its profile) can, because each statement's span in
time holds a sample of the thread that ran it (``analysis.stacks.sql_spans``).
"""
from __future__ import annotations

from collections import Counter
from typing import Optional

from ...importers import profiles
from ...importers.pstats_file import ProfileError
from ..codeloc import APP, classify, short_path, template_label
from .. import sql
from .. import stacks as stack_analysis
from .base import Evidence

LAZY_LOADERS = {"_emit_lazyload", "_load_for_state"}   # SQLAlchemy's LazyLoader


def _where(func, line: int) -> str:
    name = template_label(func) or func[2]
    return "%s:%d (%s)" % (short_path(func[0], 50), line, name)


def _timed_profile(request):
    """The request's busiest sampled profile when it can be read in time order with a clock
    (what placing statements and waits needs), else None."""
    if request.stacks is None:
        return None
    try:
        profile = max(profiles.load_stacks(request.stacks), key=len)
    except (ProfileError, OSError):
        return None
    return profile if profile.clock and profile.timed else None


def statement_origin(request, queries, fingerprint: str) -> Optional[Evidence]:
    """Evidence naming the app line (and the lazy-load line) that issued the statements of
    shape *fingerprint* in *request*, from its sampled stacks; None without stacks, or when
    no sample fell inside any of those statements (too short for the interval)."""
    profile = _timed_profile(request)
    if profile is None:
        return None
    mine = [q for q in queries if sql.fingerprint(q.statement) == fingerprint]
    spans = [s for s in stack_analysis.sql_spans(profile, mine) if s.sid is not None]
    if not spans:
        return None
    origins: Counter = Counter()
    for span in spans:
        frames = profile.lines(span.sid)
        app = [f for f in frames if f[0][0] != "~" and classify(f[0][0])[0] == APP]
        lazy = [f for f in frames if f[0][2] in LAZY_LOADERS]
        origins[(app[-1] if app else None, lazy[-1] if lazy else None)] += 1
    (app, lazy), n = origins.most_common(1)[0]
    if app is None:
        return None
    text = "sampled stacks of %s: %d of the %d statements with a sample ran from %s" % (
        request.label, n, len(spans), _where(*app))
    if lazy is not None:
        text += ", loaded lazily at %s" % _where(*lazy)
    return Evidence("function", text, func=app[0])


MIN_WAIT_SHARE = 0.05      # waits shorter than this share of the request are not listed
MAX_WAITS = 3


def wait_moments(request) -> Optional[Evidence]:
    """Evidence saying *when* in *request* its thread waited (socket, select, lock, sleep)
    and from which app line, from its sampled stacks (``analysis.stacks.gaps``); None
    without stacks or without a wait worth naming."""
    profile = _timed_profile(request)
    if profile is None:
        return None
    end = profile.end_ms if profile.end_ms is not None else request.elapsed_ms
    if not end:
        return None
    waits = [g for g in stack_analysis.gaps(profile) if g.end_ms - g.start_ms
             >= MIN_WAIT_SHARE * end]
    if not waits:
        return None
    waits.sort(key=lambda g: g.start_ms - g.end_ms)
    parts = []
    for g in sorted(waits[:MAX_WAITS], key=lambda g: g.start_ms):
        frames = profile.lines(g.sid) if g.sid >= 0 else ()
        app = [f for f in frames if f[0][0] != "~" and classify(f[0][0])[0] == APP]
        parts.append("%s from %.0f to %.0f ms (%.0f%% of it)%s" % (
            g.kind, g.start_ms, g.end_ms, 100.0 * (g.end_ms - g.start_ms) / end,
            " in " + _where(*app[-1]) if app else ""))
    text = "sampled stacks of %s (%.0f ms): waited on %s" % (request.label, end,
                                                            "; ".join(parts))
    return Evidence("request", text, request=str(request.file))
