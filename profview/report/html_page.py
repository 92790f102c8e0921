"""The frame of the HTML report: escaping, the page with its inline CSS and script, and the
findings section that both the report and the comparison show.

The script only adds conveniences (sorting a table by a click on its header, a Copy button
beside copyable text); the page is complete and readable without it, and in print.
"""
from __future__ import annotations

import datetime
import html
import re
from importlib import resources

# C0 controls (bar tab and newlines) are not allowed in HTML text nor in XML (the SVG parts),
# and a crafted path or SQL string may hold them.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SEVERITIES = ("high", "medium", "low", "info")


def esc(value) -> str:
    """*value* as HTML text or attribute (quotes escaped too), control characters dropped."""
    return html.escape(_CONTROLS.sub("", str(value)), quote=True)


# The page's style sheet and script are package data (report/html/), inlined into each page:
# the page is one self-contained file.  No data is ever written into the script.
def _asset(name: str) -> str:
    return resources.files("profview.report.html").joinpath(name).read_text(encoding="utf-8")


def page(title: str, heading: str, body: list, version: str) -> str:
    """The whole document: *heading* and when it was written on top, then *body* (a list of
    HTML fragments, already escaped)."""
    stamp = datetime.datetime.now().astimezone().isoformat(" ", "seconds")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>%s</title><style>%s</style></head><body>\n<h1>%s</h1>"
            '<p class="muted">Written by profview %s on %s.</p>\n%s\n'
            "<script>%s</script></body></html>\n" % (
                esc(title), _asset("page.css"), esc(heading), esc(version), esc(stamp),
                "\n".join(body), _asset("page.js")))


def _finding(f: dict, anchors: dict) -> str:
    severity = f.get("severity") if f.get("severity") in SEVERITIES else "info"
    out = ['<article class="finding sev-%s"><h3><span class="badge %s">%s</span> %s</h3>' % (
        severity, severity, esc(f.get("severity") or "info"), esc(f.get("title") or ""))]
    where = ['<a href="#%s">%s</a>' % (anchors[n], esc(n)) if n in anchors else esc(n)
             for n in f.get("endpoints") or ()]
    if where:
        out.append('<p class="muted">%s %s</p>' % (
            "Endpoint" if len(where) == 1 else "Endpoints", ", ".join(where)))
    if f.get("summary"):
        out.append("<p>%s</p>" % esc(f["summary"]))
    evidence = []
    for e in f.get("evidence") or ():
        # The function, statement or request beside the line, unless the line already says
        # it (rules often quote the SQL in the text; twice is noise).
        said = " ".join(str(e.get("text", "")).split())
        extra = "".join(' <code>%s</code>' % esc(e[k])
                        for k in ("function", "statement", "request")
                        if e.get(k) and " ".join(str(e[k]).split()) not in said)
        evidence.append('<li><span class="muted">%s</span> %s%s</li>' % (
            esc(e.get("kind", "")), esc(e.get("text", "")), extra))
    if evidence:
        out.append("<h4>Evidence</h4><ul>%s</ul>" % "".join(evidence))
    requests = f.get("requests") or []
    if requests:
        out.append('<p class="muted">Requests: %s%s</p>' % (", ".join(
            "<code>%s</code>" % esc(r) for r in requests[:10]),
            " and %d more" % (len(requests) - 10) if len(requests) > 10 else ""))
    if f.get("fix"):
        out.append("<p><b>Fix:</b> %s</p>" % esc(f["fix"]))
    if f.get("copy"):
        out.append('<pre class="copyable">%s</pre>' % esc(f["copy"]))
    out.append("</article>")
    return "".join(out)


def _order(findings) -> list:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: rank.get(f.get("severity"), len(SEVERITIES)))


def findings_section(findings, anchors: dict, heading: str = "Findings",
                     resolved=None) -> str:
    """The findings, most severe first; *resolved* (findings of a before capture) lists those
    no longer found, matched by rule and endpoints since titles carry changing numbers."""
    out = ["<h2>%s</h2>" % esc(heading)]
    if findings:
        out += [_finding(f, anchors) for f in _order(findings)]
    else:
        out.append('<p class="muted">No findings.</p>')
    if resolved:
        now = {(f.get("rule"), tuple(f.get("endpoints") or ())) for f in findings}
        gone = [f for f in _order(resolved)
                if (f.get("rule"), tuple(f.get("endpoints") or ())) not in now]
        if gone:
            out.append("<h3>No longer found</h3><ul>%s</ul>" % "".join(
                '<li><span class="badge %s">%s</span> %s</li>' % (
                    f.get("severity") if f.get("severity") in SEVERITIES else "info",
                    esc(f.get("severity") or "info"), esc(f.get("title") or ""))
                for f in gone))
    return "".join(out)
