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
from . import (blocking_io, cold_start, dev_server, n_plus_one, password_hashing, pool_wait,
               repeated_work, session_serialisation, slow_query, template_heavy)
from .base import SEVERITIES, Context, Evidence, Finding, Settings, default_read

__all__ = ["Evidence", "Finding", "Settings", "RULES", "SEVERITIES", "find", "settings_from"]

log = logging.getLogger(__name__)

RULES = (n_plus_one, slow_query, blocking_io, template_heavy, repeated_work, cold_start,
         dev_server, pool_wait, session_serialisation, password_hashing)


def find(capture, endpoints=None, settings: Settings = Settings(), read=None) -> list:
    """Every rule's findings on *capture*, most severe first, then by time at stake.

    *endpoints* is ``endpoints.group(capture)`` (computed when None); *read(request)* returns
    a request's call graph (or its ``{FuncKey: Stats}``) and lets a caller share a cache.
    """
    if not capture.requests:
        return []
    if endpoints is None:
        endpoints = group(capture)
    ctx = Context(capture, list(endpoints), settings, read or default_read)
    found = []
    for rule in RULES:
        try:
            found.extend(rule.check(ctx, settings))
        except Exception:  # one broken rule must not take the other findings with it
            log.exception("findings rule %s failed; skipped",
                          getattr(rule, "RULE", getattr(rule, "__name__", rule)))
    return sorted(found, key=lambda f: (SEVERITIES.index(f.severity), -f.cost_ms, f.title))



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
