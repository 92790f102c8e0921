"""Template rendering heavy: Jinja2 compiling or rendering dominates an endpoint.

Measured per request, over an endpoint's requests but its first (whose template compiles and
imports are the cold-start rule's), and summarised by the median.  ``Environment.compile``
has one pstats entry, so its cumulative time is exact.  A template's ``render`` also runs
whatever the template calls back into; the database work below it (lazy-loaded relationships:
SQLAlchemy, the driver, the SQL) is subtracted, since the N+1 finding counts it, so what is
left is the template's own cost, "up to" (other callbacks, such as properties, remain in it).
"""
from __future__ import annotations

from ..stats import format_ms
from .base import (Evidence, Finding, function_evidence, in_module, median, severity,
                   slowest)
from .graphs import db_seconds_under, heaviest

RULE = "template_heavy"
COMPILE_FIX = ("render_template_string (Environment.from_string) parses and compiles its "
               "source on every call: move the template to a file and use render_template, "
               "whose compiled templates are cached, or compile it once at import time.")
CACHE_FIX = ("The template is compiled again in every request: keep one Environment for the "
             "app, leave its cache_size above the number of templates, and turn "
             "TEMPLATES_AUTO_RELOAD (debug mode) off in production.")
RENDER_FIX = ("Rendering dominates: pass the template data it needs ready-made (no "
              "expensive properties inside loops), paginate long lists, or cache the rendered "
              "fragment (Flask-Caching, Jinja2 {% cache %} extensions).")


def _is_render(key) -> bool:
    return key[2] == "render" and in_module(key, "jinja2/environment.py")


def _is_compile(key) -> bool:
    return key[2] == "compile" and in_module(key, "jinja2/environment.py")


def check(ctx, settings) -> list:
    return [f for ep in ctx.endpoints for f in [_endpoint(ctx, ep, settings)] if f]


def measure(ctx, ep) -> list:
    """Per request read (first excluded): ``(request, whole ms, render ms, db ms under the
    render, compile ms, compiles)``."""
    rows = []
    for r in ctx.warm_sample(ep):
        graph = ctx.request_data(r)
        if graph is None:
            continue
        rkey, rstats = heaviest(graph, _is_render)
        ckey, cstats = heaviest(graph, _is_compile)
        render = 1000.0 * rstats.cumtime if rstats else 0.0
        db = (1000.0 * db_seconds_under(graph, rkey)
              if rstats and hasattr(graph, "callees") else 0.0)
        rows.append((r, 1000.0 * r.total_tt, render, db,
                     1000.0 * cstats.cumtime if cstats else 0.0,
                     cstats.ncalls if cstats else 0))
    return rows


def _endpoint(ctx, ep, settings):
    n = len(ep.requests)
    render_key, _rs = heaviest(ep.functions, _is_render)
    compile_key, _cs = heaviest(ep.functions, _is_compile)
    if render_key is None and compile_key is None:
        return None
    rows = measure(ctx, ep)
    if not rows:
        return None
    whole = median([w for _r, w, *_ in rows])
    if not whole:
        return None
    render_ms = median([rd for _r, _w, rd, _db, _c, _n in rows])
    db_ms = median([db for _r, _w, _rd, db, _c, _n in rows])
    own_ms = median([max(0.0, rd - db) for _r, _w, rd, db, _c, _n in rows])
    evidence, fix, cost, title, rendering = [], None, 0.0, None, False
    if render_key is not None and own_ms >= settings.template_min_ms \
            and own_ms / whole >= settings.template_share:
        evidence.append(function_evidence(render_key, render_ms, whole, up_to=True,
                                          extra=", median of %d request%s" % (
                                              len(rows), "" if len(rows) == 1 else "s")))
        if db_ms >= 0.05:
            evidence.append(Evidence("metric", "of which database work below the render "
                                     "(lazy loads: SQLAlchemy, driver, SQL): %s, not counted "
                                     "here (see the N+1 findings)" % format_ms(db_ms)))
        fix, cost, title = RENDER_FIX, own_ms, "Template rendering heavy in %s"
        rendering = True
    if compile_key is not None and n >= 2 and all(c >= 1 for *_x, c in rows):
        compile_ms = median([cm for _r, _w, _rd, _db, cm, _n in rows])
        if compile_ms >= settings.compile_min_ms:
            from_string = any(in_module(k, "jinja2/environment.py") and k[2] == "from_string"
                              for k in ep.functions)
            evidence.insert(0, function_evidence(
                compile_key, compile_ms, whole,
                extra=", %.1f compiles per request" % median([c for *_x, c in rows])))
            fix = COMPILE_FIX if from_string else CACHE_FIX
            fix = fix if title is None else fix + " " + RENDER_FIX
            if title is not None:   # the render's time includes the compile below it
                cost = max(cost, compile_ms)
            else:
                cost = compile_ms
            title = "Template compiled per request in %s"
    if not evidence:
        return None
    share = min(1.0, cost / whole)
    return Finding(
        rule=RULE, severity=severity(cost, share, settings), title=title % ep.name,
        summary="Jinja2 takes %s%s of %s per request in %s (%.0f%%, medians of %d request%s "
                "after the first%s)%s." % (
                    "up to " if rendering else "", format_ms(cost), format_ms(whole), ep.name,
                    100 * share, len(rows), "" if len(rows) == 1 else "s",
                    ", SQL and ORM work below the render left out" if db_ms >= 0.05 else "",
                    "; the template is compiled in every request"
                    if title.startswith("Template compiled") else ""),
        endpoints=(ep.name,), requests=slowest(ep.requests, settings.max_listed_requests),
        evidence=tuple(evidence), fix=fix, cost_ms=cost, stake_requests=n)
