"""Template rendering heavy: Jinja2 compiling or rendering dominates an endpoint.

``Environment.compile`` has one pstats entry, so its cumulative time is exact.  A template's
``render`` also runs whatever the template calls back into (properties, lazy-loaded
relationships), so its share is "up to".
"""
from __future__ import annotations

from ..stats import format_ms
from .base import (Finding, function_evidence, in_module, per_request_ms, profile_ms,
                   severity, slowest)

RULE = "template_heavy"
COMPILE_FIX = ("render_template_string (Environment.from_string) parses and compiles its "
               "source on every call: move the template to a file and use render_template, "
               "whose compiled templates are cached, or compile it once at import time.")
CACHE_FIX = ("The template is compiled again in every request: keep one Environment for the "
             "app, leave its cache_size above the number of templates, and turn "
             "TEMPLATES_AUTO_RELOAD (debug mode) off in production.")
RENDER_FIX = ("Rendering dominates: pass the template data it needs ready-made (no lazy "
              "loads or expensive properties inside loops), paginate long lists, or cache "
              "the rendered fragment (Flask-Caching, Jinja2 {% cache %} extensions).")


def _jinja(ep, module: str, name: str):
    found = [(k, s) for k, s in ep.functions.items()
             if in_module(k, "jinja2/" + module) and k[2] == name]
    return max(found, key=lambda kv: kv[1].cumtime) if found else (None, None)


def check(ctx, settings) -> list:
    return [f for ep in ctx.endpoints for f in [_endpoint(ep, settings)] if f]


def _endpoint(ep, settings):
    whole = profile_ms(ep)
    if not whole:
        return None
    n = len(ep.requests)
    compile_key, compile_stats = _jinja(ep, "environment.py", "compile")
    render_key, render_stats = _jinja(ep, "environment.py", "render")
    evidence, fix, cost, title, rendering = [], None, 0.0, None, False
    if render_stats is not None:
        render_ms = per_request_ms(ep, render_stats.cumtime)
        if render_ms >= settings.template_min_ms and render_ms / whole >= settings.template_share:
            evidence.append(function_evidence(render_key, render_ms, whole, up_to=True))
            fix, cost, title = RENDER_FIX, render_ms, "Template rendering heavy in %s"
            rendering = True  # render's time includes what it calls back into: "up to"
    if compile_stats is not None and compile_stats.ncalls >= n and n >= 2:
        compile_ms = per_request_ms(ep, compile_stats.cumtime)
        if compile_ms >= settings.compile_min_ms:
            from_string = any(in_module(k, "jinja2/environment.py") and k[2] == "from_string"
                              for k in ep.functions)
            evidence.insert(0, function_evidence(
                compile_key, compile_ms, whole,
                extra=", %.1f compiles per request" % (compile_stats.ncalls / n)))
            fix = COMPILE_FIX if from_string else CACHE_FIX
            fix = fix if title is None else fix + " " + RENDER_FIX
            cost += compile_ms
            title = "Template compiled per request in %s"
    if not evidence:
        return None
    share = min(1.0, cost / whole)
    return Finding(
        rule=RULE, severity=severity(cost, share, settings), title=title % ep.name,
        summary="Jinja2 takes %s%s of %s per request in %s (%.0f%%)%s." % (
            "up to " if rendering else "", format_ms(cost), format_ms(whole), ep.name,
            100 * share, "; the template is compiled in every request"
            if title.startswith("Template compiled") else ""),
        endpoints=(ep.name,), requests=slowest(ep.requests, settings.max_listed_requests),
        evidence=tuple(evidence), fix=fix, cost_ms=cost)
