"""Findings: rules that name the performance problems a capture shows.

Each rule is a small module with ``RULE`` (its stable id) and ``check(ctx, settings)``
returning ``Finding`` objects with their evidence and the usual fix.  ``find`` runs them all;
a rule that fails is logged and skipped, never allowed to hide the others' findings.
"""
from __future__ import annotations

import dataclasses
import logging
import math

from ..codeloc import shorten
from ..endpoints import group
from ..stats import format_ms
from . import (blocking_io, cold_start, dev_server, memory_growth, n_plus_one, password_hashing,
               pool_wait, repeated_work, session_serialisation, slow_query, template_heavy)
from .base import SEVERITIES, Context, Evidence, Finding, Settings

__all__ = ["Evidence", "Finding", "Settings", "RULES", "SEVERITIES", "find", "one_cause", "rank",
           "settings_from"]

log = logging.getLogger(__name__)

RULES = (n_plus_one, slow_query, blocking_io, template_heavy, repeated_work, cold_start,
         dev_server, pool_wait, session_serialisation, password_hashing, memory_growth)


def find(capture, endpoints=None, settings: Settings = Settings(), *, read,
         kept=None) -> list:
    """Every rule's findings on *capture*, most severe first, then by time at stake.

    *endpoints* is ``endpoints.group(capture)`` (computed when None); *read(request)* returns
    a request's call graph (or its ``{FuncKey: Stats}``), ``loading.reread.reader`` gives
    one: the rules themselves read no file.  *kept(request)* says whether ``read`` has it in
    memory (samples are drawn from those when there are enough).
    """
    if not capture.requests:
        return []
    if endpoints is None:
        endpoints = group(capture)
    ctx = Context(capture, list(endpoints), settings, read, kept)
    found = []
    for rule in RULES:
        try:
            found.extend(rule.check(ctx, settings))
        except Exception:  # one broken rule must not take the other findings with it
            log.exception("findings rule %s failed; skipped",
                          getattr(rule, "RULE", getattr(rule, "__name__", rule)))
    return rank(one_cause(found), endpoints)


# Rules that know the cause of the time they report, and the generic ones whose findings
# they replace when both point at the same functions of an endpoint.
SPECIFIC = ("password_hashing", "blocking_io", "n_plus_one", "slow_query", "pool_wait",
            "session_serialisation", "dev_server")
GENERIC = ("repeated_work", "template_heavy")


def one_cause(found) -> list:
    """One cause gets one finding: a generic finding whose functions a cause-knowing rule
    also names for the same endpoint (or that reach them) is dropped."""
    named: dict = {}
    for f in found:
        if f.rule in SPECIFIC:
            for name in f.endpoints:
                named.setdefault(name, set()).update(
                    e.func for e in f.evidence if e.func is not None)
    out = []
    for f in found:
        if f.rule in GENERIC:
            funcs = {e.func for e in f.evidence if e.func is not None}
            if any(funcs & named.get(name, set()) for name in f.endpoints):
                continue
        out.append(f)
    return out


# Findings about something other than time: their summary states their own figure.
NOT_TIME = frozenset({"memory_growth"})


def rank(found, endpoints) -> list:
    """Most time at stake over the capture first (ms per request × requests), then
    severity; "info" findings (expected costs) last.  Each summary states its figure."""
    sizes = {ep.name: len(ep.requests) for ep in endpoints}
    out = []
    for f in found:
        n = f.stake_requests or sum(sizes.get(name, 0) for name in f.endpoints) or 1
        f = dataclasses.replace(f, stake_requests=n)
        if f.severity != "info" and f.rule not in NOT_TIME:
            f = dataclasses.replace(f, summary="%s At stake: %s per request × %d request%s = "
                                    "%s." % (f.summary, format_ms(f.cost_ms), n,
                                             "" if n == 1 else "s", format_ms(f.stake_ms)))
        out.append(f)
    return sorted(out, key=lambda f: (f.severity == "info", -round(f.stake_ms, 6),
                                      SEVERITIES.index(f.severity), f.title))



def settings_from(pairs) -> Settings:
    """Settings with *pairs* (``{"name": "value"}`` or ``["name=value", ...]``) overriding
    the defaults; an unknown name or a bad value raises ValueError naming it."""
    if not isinstance(pairs, dict):
        items = {}
        for pair in pairs:
            name, sep, value = str(pair).partition("=")
            if not sep:
                raise ValueError("expected NAME=VALUE, got %r" % pair)
            items[name.strip()] = value.strip()
        pairs = items
    defaults = Settings()
    fields = {f.name for f in dataclasses.fields(Settings)}
    changes = {}
    for name, value in pairs.items():
        if name not in fields:
            raise ValueError("unknown findings setting %r (known: %s)"
                             % (name, ", ".join(sorted(fields))))
        kind = type(getattr(defaults, name))
        try:
            number = float(value)
            if not (math.isfinite(number) and 0 <= number <= 1e12):
                raise ValueError
            changes[name] = int(number) if kind is int else kind(number)
        except (TypeError, ValueError, OverflowError):
            raise ValueError("findings setting %s: %r is not a %s from 0 to 1e12"
                             % (name, shorten(str(value), 40), "whole number" if kind is int
                                else "number")) from None
    return dataclasses.replace(defaults, **changes)
