"""Session and cookie serialisation: Flask loading and saving the session dominates.

Flask's cookie session is signed JSON with a tag for every non-JSON value, so a large session
costs in every request that loads it and every one that saves it.  ``open_session`` and
``save_session`` run one after the other, never inside each other, so their times add up
exactly.
"""
from __future__ import annotations

from .base import in_module, severity
from .share_rule import cumtime, finding, measure

RULE = "session_serialisation"
FIX = ("Keep the session small (an id, not objects or lists): store the data server-side "
       "(the database, a cache, Flask-Session with Redis) and look it up by the id; large "
       "cookies also go back and forth with every request.")
_SESSION_FILES = ("flask/sessions.py", "flask_session/", "flask_kvsession/")


def _is_session(key) -> bool:
    return in_module(key, *_SESSION_FILES) and key[2] in ("open_session", "save_session")


def check(ctx, settings) -> list:
    out = []
    for ep in ctx.endpoints:
        m = measure(ctx, ep, _is_session, cumtime, settings.session_min_ms)
        if m and m.ms >= settings.session_min_ms and m.share >= settings.session_share:
            out.append(finding(RULE, severity(m.ms, m.share, settings),
                               "Session serialisation in %s",
                               "loading and saving the session", ep, m, FIX, settings))
    return out
