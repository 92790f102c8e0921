"""Blocking I/O in the request: time spent waiting in sleep, sockets, select/poll or child
processes, instead of computing.

The wait is measured as the *self* time of the built-ins that block (``time.sleep``, socket
``recv``…, ``select``, ``waitpid``…): exact, since built-ins call nothing that pstats sees.
The HTTP client or subprocess function that led there is shown with its cumulative time.
With sampled stacks (``stacks=True``), the slowest such request also says when it waited,
for how long and from which app line (``stack_evidence.wait_moments``).
"""
from __future__ import annotations

from ..stats import format_ms
from .base import (calls_text, Evidence, Finding, function_evidence, in_module, per_request_ms,
                   profile_ms, severity, slowest)
from .share_rule import measure
from .stack_evidence import wait_moments

RULE = "blocking_io"
FIX = ("Move the slow call out of the request: hand it to a background worker (Celery, RQ) and "
       "answer at once, or make it concurrent (async views, a thread pool); at least set a "
       "short timeout and reuse connections (a requests.Session).")
# (category, fragments of a built-in's name)
_BUILTINS = (
    ("sleep", ("time.sleep",)),
    ("network", ("_socket.socket", "_ssl._SSLSocket", "_socket.getaddrinfo",
                 "select.select", "'select.poll'", "'select.epoll'", "'select.kqueue'")),
    ("subprocess", ("posix.waitpid", "_posixsubprocess.fork_exec", "posix.read",
                    "_winapi.WaitForSingleObject")),
)
_SOCKET_CALLS = ("recv", "send", "connect", "accept", "read", "write", "do_handshake",
                 "getaddrinfo", "select", "poll")
# Where the waits usually come from, shown as evidence (cumulative time, "up to").
_CLIENTS = ("requests/api.py", "requests/sessions.py", "urllib3/connectionpool.py",
            "httpx/_client.py", "http/client.py", "urllib/request.py", "aiohttp/",
            "subprocess.py", "smtplib.py", "ftplib.py", "boto3/", "botocore/endpoint.py")
_CLIENT_NAMES = {"get", "post", "put", "delete", "request", "send", "urlopen", "getresponse",
                 "run", "check_output", "check_call", "call", "communicate", "sendmail",
                 "_make_api_call"}
_DB_DRIVERS = ("pymysql/", "pg8000/", "mysql/connector/", "redis/", "pymongo/")


def category(key) -> str | None:
    """The kind of wait a built-in is, or None when it does not block."""
    if key[0] != "~":
        return None
    name = key[2]
    for cat, fragments in _BUILTINS:
        if any(f in name for f in fragments):
            if cat == "network" and "_socket.socket" in name and not any(
                    "'%s" % c in name for c in _SOCKET_CALLS):
                return None  # settimeout, fileno…: instant
            return cat
    return None


def check(ctx, settings) -> list:
    return [f for ep in ctx.endpoints for f in [_endpoint(ctx, ep, settings)] if f]


def _blocking(key) -> bool:
    return category(key) is not None


def _self(stats) -> float:
    return stats.tottime


def _endpoint(ctx, ep, settings):
    m = measure(ctx, ep, _blocking, _self, settings.blocking_min_ms)
    if m is None or not m.whole:
        return None
    ms, whole = m.ms, m.whole
    if ms < settings.blocking_min_ms or ms / whole < settings.blocking_share:
        return None
    by_cat: dict = {}
    for k, v, _calls in m.picked:
        by_cat[category(k)] = by_cat.get(category(k), 0.0) + v
    kinds = ", ".join("%s %s" % (c, format_ms(v)) for c, v in
                      sorted(by_cat.items(), key=lambda kv: -kv[1]) if v >= 0.01)
    evidence = [function_evidence(k, v, whole, extra=" waiting" + calls_text(calls))
                for k, v, calls in m.picked[:4] if v > 0]
    clients = sorted(((k, s) for k, s in ep.functions.items()
                      if in_module(k, *_CLIENTS) and k[2] in _CLIENT_NAMES),
                     key=lambda kv: -kv[1].cumtime)[:3]
    evidence += [function_evidence(k, per_request_ms(ep, s.cumtime), profile_ms(ep),
                                   up_to=True, extra=" (mean over all requests)")
                 for k, s in clients]
    drivers = sorted({k[0].replace("\\", "/").split("site-packages/")[-1].split("/")[0]
                      for k in ep.functions if in_module(k, *_DB_DRIVERS)})
    if drivers:
        # A pure-Python database driver reads its socket too: that wait is the database's.
        evidence.append(Evidence("metric", "includes the socket reads of %s (database "
                                 "driver): see the SQL findings" % ", ".join(drivers)))
    # When in the request it waited: the slowest request that has sampled stacks
    sampled = next((r for r in sorted(ep.requests, key=lambda r: -r.elapsed_ms)
                    if r.stacks is not None), None)
    moments = wait_moments(sampled) if sampled is not None else None
    if moments is not None:
        evidence.append(moments)
    return Finding(
        rule=RULE, severity=severity(ms, ms / whole, settings),
        title="Blocking I/O in %s" % ep.name,
        summary="%s waits %s of %s per request (%.0f%%): %s (medians of %d request%s%s)." % (
            ep.name, format_ms(ms), format_ms(whole), 100 * ms / whole, kinds, m.requests,
            "" if m.requests == 1 else "s", " after the first" if len(ep.requests) > 1
            else ""),
        endpoints=(ep.name,), requests=slowest(ep.requests, settings.max_listed_requests),
        evidence=tuple(evidence), fix=FIX, cost_ms=ms, stake_requests=len(ep.requests))
