"""The frame of the HTML report: escaping, the page with its inline CSS and script, and the
findings section that both the report and the comparison show.

The script only adds conveniences (sorting a table by a click on its header, a Copy button
beside copyable text); the page is complete and readable without it, and in print.
"""
from __future__ import annotations

import datetime
import html
import re

# C0 controls (bar tab and newlines) are not allowed in HTML text nor in XML (the SVG parts),
# and a crafted path or SQL string may hold them.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SEVERITIES = ("high", "medium", "low", "info")


def esc(value) -> str:
    """*value* as HTML text or attribute (quotes escaped too), control characters dropped."""
    return html.escape(_CONTROLS.sub("", str(value)), quote=True)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
 margin:2em auto;max-width:1100px;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.3em}h2{font-size:1.2em;border-bottom:1px solid #d8dbe0;
 padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em;margin:.2em 0}h4{margin:.8em 0 .2em}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;margin:.4em 0}
th,td{padding:.25em .6em;border-bottom:1px solid #e5e7eb;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left;overflow-wrap:anywhere}
th{background:#f4f5f7;font-weight:600}
table.sortable th{cursor:pointer;user-select:none}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid #e5e7eb;border-radius:4px;padding:.6em;margin:.3em 0;
 white-space:pre-wrap;overflow-wrap:anywhere}
a{color:#2f6db5}.muted{color:#5f6675}
.badge{display:inline-block;padding:0 .55em;border-radius:.8em;font-size:12px;font-weight:600;
 border:1px solid transparent}
.high,.slower{background:#fde2e1;color:#a4161a;border-color:#f3b4b1}
.medium{background:#ffe8cc;color:#8a4b00;border-color:#f5c68a}
.low{background:#fff6bf;color:#6b5900;border-color:#e8d77a}
.info,.new,.gone{background:#e0ecff;color:#1f4f99;border-color:#b2cbf2}
.faster{background:#dcf5e3;color:#1b6b34;border-color:#a5dcb6}
.unchanged{background:#eceef1;color:#4a5060;border-color:#d3d6dc}
.endpoint,.finding{border:1px solid #e1e4e8;border-radius:6px;padding:.6em 1em;margin:1em 0;
 break-inside:avoid}
.sev-high{border-left:5px solid #c62828}.sev-medium{border-left:5px solid #e07b00}
.sev-low{border-left:5px solid #c9a800}.sev-info{border-left:5px solid #2f6db5}
.chart{display:block;margin:.4em 0;max-width:100%}.chart .tick{font-size:10px;fill:#555}
.chart .lab{font-size:11px;fill:#333}
button.copy{font-size:11px;margin:0 0 .6em}
@media print{body{margin:0;max-width:none;font-size:12px}button.copy{display:none}
 a{color:inherit;text-decoration:none}details>summary{list-style:none}}
"""

# Sort a table on a header click (numbers by their data-v, text otherwise; empty cells last),
# and put a Copy button after every <pre class="copyable">.  No data is ever written into the
# script: all of it lives in escaped HTML.
SCRIPT = """
(function(){
function key(td){return td.getAttribute("data-v");}
document.querySelectorAll("table.sortable").forEach(function(t){
 t.querySelectorAll("th").forEach(function(th,i){
  th.title="Click to sort";
  th.addEventListener("click",function(){
   var asc=!th.classList.contains("asc");
   t.querySelectorAll("th").forEach(function(h){h.classList.remove("asc","desc");});
   th.classList.add(asc?"asc":"desc");
   var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
   rows.sort(function(a,b){
    var x=key(a.cells[i]),y=key(b.cells[i]);
    if(x&&y){return asc?x-y:y-x;}
    if(x!==null&&y!==null&&(x||y)){return x?-1:1;}
    var s=a.cells[i].textContent.localeCompare(b.cells[i].textContent);
    return asc?s:-s;});
   rows.forEach(function(r){body.appendChild(r);});
  });
 });
});
document.querySelectorAll("pre.copyable").forEach(function(pre){
 if(!navigator.clipboard){return;}
 var b=document.createElement("button");b.type="button";b.className="copy";
 b.textContent="Copy";
 b.addEventListener("click",function(){navigator.clipboard.writeText(pre.textContent).then(
  function(){b.textContent="Copied";});});
 pre.parentNode.insertBefore(b,pre.nextSibling);
});
})();
"""


def page(title: str, heading: str, body: list, version: str) -> str:
    """The whole document: *heading* and when it was written on top, then *body* (a list of
    HTML fragments, already escaped)."""
    stamp = datetime.datetime.now().astimezone().isoformat(" ", "seconds")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>%s</title><style>%s</style></head><body>\n<h1>%s</h1>"
            '<p class="muted">Written by profview %s on %s.</p>\n%s\n'
            "<script>%s</script></body></html>\n" % (
                esc(title), CSS, esc(heading), esc(version), esc(stamp), "\n".join(body),
                SCRIPT))


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
