"""``profview report --html FILE``: the report, or a comparison, as one self-contained page.

The page is meant to be attached to a pull request or an incident note and opened anywhere,
offline: CSS and the small sorting script are inline, the charts are inline SVG
(:mod:`.html_charts`), and nothing is fetched.  Everything that came from a capture (paths,
URL paths, function names, SQL, problem messages) is untrusted and passes through :func:`esc`.
Stdlib only: no template engine, no Qt.
"""
from __future__ import annotations

import datetime

from .. import __version__
from ..analysis.codeloc import short_path
from ..analysis.endpoints import group
from .html_charts import before_after_strip, latency_strip
from .html_page import esc, findings_section, page
from ..analysis.stats import format_ms

TOP_FUNCTIONS, SLOWEST, TOP_DELTAS, TOP_SQL, MAX_PROBLEMS = 5, 5, 8, 5, 200
_VERDICT_ORDER = {"slower": 0, "faster": 1, "new": 2, "gone": 3, "unchanged": 4}


def _num(value) -> str:
    """A table cell's sort key: the raw number, empty (sorted last) when there is none."""
    return "" if value is None or value != value else repr(float(value))


def _td(text: str, value=None) -> str:
    return '<td data-v="%s">%s</td>' % (_num(value), esc(text))


def _when(epoch: float) -> str:
    try:
        return datetime.datetime.fromtimestamp(epoch).astimezone().isoformat(" ", "seconds")
    except (OverflowError, OSError, ValueError, TypeError):
        return "?"   # a time no clock can show (a crafted start of 1e300)


def _func(function: str) -> str:
    """``file:line(name)`` as the name in code and a short path beside it (full on hover)."""
    head, _, name = function.rpartition("(")
    filename, _, line = head.rpartition(":")
    if not filename:
        return "<code>%s</code>" % esc(function)
    where = "" if filename == "~" else ' <span class="muted">%s:%s</span>' % (
        esc(short_path(filename, 50)), esc(line))
    return '<code title="%s">%s</code>%s' % (esc(function), esc(name[:-1] if name.endswith(
        ")") else name), where)


def _loaded(label: str, sources, capture, queries: dict | None = None) -> str:
    """What was loaded: the paths as given, how many requests, when they ran, the problems."""
    out = ['<p><b>%s</b> %s</p>' % (esc(label), " ".join(
        "<code>%s</code>" % esc(s) for s in sources))]
    facts = ["%d requests" % len(capture.requests)]
    if capture.requests:
        facts.append("from %s to %s" % (_when(min(r.start for r in capture.requests)),
                                        _when(max(r.time for r in capture.requests))))
    if queries and queries.get("loaded"):
        facts.append("%d SQL statements, %d not tied to a request" % (
            queries["loaded"], queries["unattributed"]))
    out.append('<p class="muted">%s</p>' % esc("; ".join(facts)))
    problems = [p.as_dict() for p in capture.problems]
    if problems:
        items = ["<li><code>%s</code>: %s</li>" % (
            esc(p["path"] if p["line"] is None else "%s:%d" % (p["path"], p["line"])),
            esc(p["message"])) for p in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            items.append("<li>… and %d more</li>" % (len(problems) - MAX_PROBLEMS))
        out.append('<details class="problems" open><summary>%d problem%s: files or lines '
                   'that could not be read (the rest loaded)</summary><ul>%s</ul></details>' % (
                       len(problems), "" if len(problems) == 1 else "s", "".join(items)))
    return "".join(out)


def _labels(requests) -> list:
    return ["%s%s" % (r.label, "?" + r.query if r.query else "") for r in requests]


def _missing(ep: dict) -> str:
    """A count that is not there: unknown (statements not tied), or no query log at all."""
    return "unknown" if ep.get("queries_unknown") else "–"


def _endpoint_table(endpoints: list) -> str:
    total = sum(ep["total_ms"] for ep in endpoints) or None
    head = ("endpoint", "requests", "p50", "p95", "max", "total", "share", "queries/request",
            "SQL ms/request")
    rows = []
    for i, ep in enumerate(endpoints):
        share = ep["total_ms"] / total if total else None
        q, s = ep["queries_per_request"], ep["sql_ms_per_request"]
        rows.append('<tr><td data-v=""><a href="#ep-%d">%s</a></td>%s</tr>' % (i, esc(
            ep["name"]), "".join([
                _td(str(ep["requests"]), ep["requests"]), _td(format_ms(ep["p50_ms"]),
                                                              ep["p50_ms"]),
                _td(format_ms(ep["p95_ms"]), ep["p95_ms"]),
                _td(format_ms(ep["max_ms"]), ep["max_ms"]),
                _td(format_ms(ep["total_ms"]), ep["total_ms"]),
                _td("%.1f%%" % (100 * share) if share is not None else "–", share),
                _td("%.1f" % q if q is not None else _missing(ep), q),
                _td(format_ms(s) if s is not None else _missing(ep), s)])))
    return _table(head, rows)


def _table(head, rows: list, sortable: bool = True) -> str:
    return '<table%s><thead><tr>%s</tr></thead><tbody>%s</tbody></table>' % (
        ' class="sortable"' if sortable else "", "".join("<th>%s</th>" % esc(h) for h in head),
        "".join(rows))


def _endpoint_section(i: int, ep: dict, requests) -> str:
    out = ['<section class="endpoint" id="ep-%d"><h3>%s</h3>' % (i, esc(ep["name"]))]
    where = [("rule", ep["rule"]), ("view", ep["view"])]
    out.append('<p class="muted">%s</p>' % " · ".join(
        "%s <code>%s</code>" % (k, esc(v)) for k, v in where if v))
    elapsed = [r.elapsed_ms for r in requests]
    if elapsed:
        out.append(latency_strip(esc, elapsed, _labels(requests),
                                 "%s: elapsed per request" % ep["name"]))
    for f in ep["n_plus_one"]:
        out.append('<p><span class="badge high">N+1</span> %.1f times per request%s</p>'
                   '<pre class="copyable">%s</pre>' % (
                       f["per_request"], " from <code>%s</code>" % esc(f["location"])
                       if f["location"] else "", esc(f["statement"])))
    if ep["top_functions"]:
        rows = ["<tr><td>%s</td>%s</tr>" % (_func(t["function"]), "".join([
            _td(format_ms(1000 * t["tottime_s"]), t["tottime_s"]),
            _td(format_ms(1000 * t["cumtime_s"]), t["cumtime_s"]),
            _td(str(t["ncalls"]), t["ncalls"])]))
            for t in ep["top_functions"][:TOP_FUNCTIONS]]
        out.append("<h4>Most self time</h4>" + _table(
            ("function", "self", "total", "calls"), rows, sortable=False))
    slowest = sorted(requests, key=lambda r: -r.elapsed_ms)[:SLOWEST]
    if len(requests) > 1:
        rows = ["<tr><td><code>%s</code></td>%s</tr>" % (esc(label), "".join([
            _td(format_ms(r.elapsed_ms)), _td(str(r.status) if r.status else "–"),
            _td(str(r.n_queries) if r.n_queries is not None else _missing(ep))]))
            for r, label in zip(slowest, _labels(slowest))]
        out.append("<h4>Slowest requests</h4>" + _table(
            ("request", "elapsed", "status", "queries"), rows, sortable=False))
    out.append("</section>")
    return "".join(out)


def render_report(report: dict, capture, sources) -> str:
    """The page for ``profview report PATH --html FILE``.

    *report* is :func:`profview.report.build.build`'s dict; *capture* the Capture it was
    built from (for each request's time, which the dict does not carry); *sources* the paths
    as the user gave them.
    """
    endpoints = report["endpoints"]
    by_name = {ep.name: ep.requests for ep in group(capture)}
    anchors = {ep["name"]: "ep-%d" % i for i, ep in enumerate(endpoints)}
    body = [_loaded("Loaded", sources, capture, report.get("queries")),
            "<h2>Endpoints</h2>",
            "<p class=\"muted\">%d requests in %d endpoints, by total time. Click a header to "
            "sort.</p>" % (report["requests"], len(endpoints)),
            _endpoint_table(endpoints) if endpoints else "<p>Nothing loaded.</p>",
            findings_section(report.get("findings") or [], anchors),
            "<h2>Per endpoint</h2>"]
    body += [_endpoint_section(i, ep, by_name.get(ep["name"], ()))
             for i, ep in enumerate(endpoints)]
    return page("profview report: %s" % " ".join(sources), "profview report", body,
                __version__)


def _side(side, key, fmt=format_ms) -> str:
    return "–" if not side or side.get(key) is None else fmt(side[key])


def _verdict(kind: str) -> str:
    return '<span class="badge %s">%s</span>' % (esc(kind), esc(kind))


def _verdict_table(rows: list) -> str:
    head = ("endpoint", "requests", "p50 before", "p50 after", "Δ", "Δ %", "queries/request",
            "verdict", "p", "q")
    out = []
    for i, r in enumerate(rows):
        b, a = r["before"], r["after"]
        q = "%s → %s" % (_side(b, "queries_per_request", "{:.1f}".format),
                         _side(a, "queries_per_request", "{:.1f}".format))
        dms, dpct, p, qv = (r["delta_p50_ms"], r["delta_p50_pct"], r["p_value"],
                            r.get("q_value"))
        out.append('<tr><td data-v=""><a href="#ep-%d">%s</a></td>%s<td data-v="%s">%s</td>'
                   '%s%s</tr>' % (i, esc(r["name"]), "".join([
                       _td("%s → %s" % (_side(b, "requests", str), _side(a, "requests", str))),
                       _td(_side(b, "p50_ms"), b and b["p50_ms"]),
                       _td(_side(a, "p50_ms"), a and a["p50_ms"]),
                       _td("%+.1f ms" % dms if dms is not None else "", dms),
                       _td("%+.0f%%" % dpct if dpct is not None else "", dpct), _td(q)]),
                       _VERDICT_ORDER.get(r["verdict"], 5), _verdict(r["verdict"]),
                       _td("%.3g" % p if p is not None else "", p),
                       # q is None outside the family (too few requests to ever reach alpha).
                       _td("%.3g" % qv if qv is not None else "not tested", qv)))
    return _table(head, out)


def _deltas(r: dict) -> str:
    out = []
    if r["function_deltas"]:
        rows = []
        for d in r["function_deltas"][:TOP_DELTAS]:
            b, a = 1000 * d["before_s_per_request"], 1000 * d["after_s_per_request"]
            q = d.get("q_value")
            sig = "significant" if d.get("significant") else "not significant"
            rows.append("<tr><td>%s%s</td>%s</tr>" % (_func(d["function"]), " " + _verdict(
                d["status"]) if d["status"] else "", "".join([
                    _td(format_ms(b)), _td(format_ms(a)), _td("%+.3f ms" % (a - b)),
                    _td("%+.1f" % d["calls_delta"]),
                    _td(("%.3g, %s" % (q, sig)) if q is not None else "not tested", q)])))
        out.append("<h4>Self time per request: significant changes first, then the largest "
                   "others</h4>" + _table(
                       ("function", "before", "after", "Δ", "calls Δ", "q (self time)"), rows,
                       sortable=False))
    if r["sql_changes"]:
        rows = ["<tr><td><code>%s</code></td>%s</tr>" % (esc(c["statement"]), "".join([
            _td("%.1f" % c["before"]), _td("%.1f" % c["after"])]))
            for c in r["sql_changes"][:TOP_SQL]]
        out.append("<h4>SQL statements per request that changed</h4>" + _table(
            ("statement", "before", "after"), rows, sortable=False))
    return "".join(out)


def _compare_section(i: int, r: dict, before_reqs, after_reqs) -> str:
    b, a = r["before"], r["after"]
    out = ['<section class="endpoint" id="ep-%d"><h3>%s %s</h3><p>p50 %s → %s' % (
        i, esc(r["name"]), _verdict(r["verdict"]), esc(_side(b, "p50_ms")),
        esc(_side(a, "p50_ms")))]
    if r["p_value"] is not None:
        out.append(" (p = %s)" % esc("%.3g" % r["p_value"]))
    out.append("</p>")
    if r["note"]:
        out.append('<p class="muted">%s</p>' % esc(r["note"]))
    out.append(before_after_strip(
        esc, [q.elapsed_ms for q in before_reqs], [q.elapsed_ms for q in after_reqs],
        _labels(before_reqs), _labels(after_reqs), "%s: before and after" % r["name"]))
    deltas = _deltas(r)
    if deltas and r["verdict"] == "unchanged":
        # Not significant: kept for the curious, folded so nobody reads it as a finding.
        deltas = "<details><summary>Changes inside (not significant)</summary>%s</details>" % (
            deltas)
    out.append(deltas + "</section>")
    return "".join(out)


def render_comparison(result: dict, before, after, before_sources, after_sources,
                      findings=None, findings_before=None) -> str:
    """The page for ``profview report BEFORE --compare AFTER --html FILE``.

    *result* is :func:`profview.analysis.compare.compare`'s dict, *before*/*after* its
    Captures; *findings* those of the after capture (what is left to fix) and
    *findings_before* those of the before one (to list what the change resolved).
    """
    eb = {ep.name: ep.requests for ep in group(before)}
    ea = {ep.name: ep.requests for ep in group(after)}
    rows = result["endpoints"]
    s = result["settings"]
    anchors = {r["name"]: "ep-%d" % i for i, r in enumerate(rows)}
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    body = [_loaded("Before", before_sources, before), _loaded("After", after_sources, after),
            "<h2>Verdicts</h2>",
            '<p class="muted">%s. A verdict needs q &lt; %s (Mann–Whitney U, the p-values '
            "adjusted by Benjamini–Hochberg across the endpoints: the false discovery rate) "
            "and a median change of at least %s%% and %s ms, beyond the timing resolution."
            "</p>" % (
                esc(", ".join("%d %s" % (n, k) for k, n in sorted(counts.items()))),
                esc("%g" % s["alpha"]), esc("%g" % s["min_pct"]), esc("%g" % s["min_ms"])),
            _verdict_table(rows) if rows else "<p>Nothing loaded.</p>"]
    body += ['<p class="muted">%s: %s</p>' % (esc(r["name"]), esc(r["note"]))
             for r in rows if r["note"]]
    body.append(findings_section(findings or [], anchors, "Findings after the change",
                                 resolved=findings_before))
    body.append("<h2>Per endpoint</h2>")
    body += [_compare_section(i, r, eb.get(r["name"], ()), ea.get(r["name"], ()))
             for i, r in enumerate(rows)]
    return page("profview comparison: %s vs %s" % (" ".join(before_sources),
                                                   " ".join(after_sources)),
                "profview comparison", body, __version__)


def write(path, text: str) -> None:
    """Write the page as UTF-8; a lone surrogate from a crafted JSON line becomes '?', not a
    crash after all the work."""
    with open(path, "w", encoding="utf-8", errors="replace") as f:
        f.write(text)
