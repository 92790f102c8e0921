"""``profview report``: the capture summarised as a table or as JSON (a stable contract)."""
from __future__ import annotations

import math
from collections import Counter

from ..model.capture import Capture
from ..model.query import UNTIED
from ..analysis.codeloc import short_path, shorten
from ..analysis.endpoints import group
from ..analysis.findings import Settings, find
from ..analysis.summary import endpoint_rows
from ..loading.reread import Reader
from ..analysis.stats import format_ms

MAX_SHOWN_PROBLEMS = 20   # the text report lists the first ones; --json has them all


def build(capture: Capture, settings: Settings = Settings(), findings: bool = True) -> dict:
    """The report as a JSON-ready dict (see the README for the contract); *settings* are the
    findings' thresholds.  Without *findings* the rules are not run (``"findings"`` is
    ``None``): a comparison needs only the endpoint rows."""
    grouped = group(capture)
    return {"requests": len(capture.requests),
            "problems": [p.as_dict() for p in capture.problems],
            "queries": query_counts(capture.queries),
            "endpoints": endpoint_rows(capture, grouped),
            "findings": findings_of(capture, settings) if findings else None}


def findings_of(capture: Capture, settings: Settings = Settings()) -> list:
    """The findings of *capture*, JSON-ready (the report's ``"findings"``)."""
    read = Reader(capture)
    return [f.as_dict() for f in find(capture, group(capture), settings, read=read,
                                      kept=read.kept)]


def json_ready(obj):
    """*obj* with every value JSON can carry: NaN and infinities become null, numbers too
    large for a double become null, and anything else unknown its text (the last line of
    defence: the importers already refuse such values where they read them)."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return obj if -2 ** 63 <= obj < 2 ** 63 else None
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return str(obj)


def query_counts(queries) -> dict:
    """How many statements were read, tied (by how) and untied (by why)."""
    tied = Counter(q.attribution or "exact" for q in queries if q.profile_file is not None)
    untied = Counter(q.untied or "no_request_field" for q in queries if q.profile_file is None)
    n_untied = sum(untied.values())
    return {"loaded": len(queries), "unattributed": n_untied,
            "tied": sum(tied.values()), "untied": n_untied,
            "tied_by": dict(sorted(tied.items())), "untied_by": dict(sorted(untied.items()))}


def _func_label(function: str) -> str:
    # "file:line(name)" → "name  (short/file.py:line)"
    head, _, name = function.rpartition("(")
    filename, _, line = head.rpartition(":")
    if not filename:
        return shorten(function, 60)
    if filename == "~":
        return shorten(name.rstrip(")"), 48)
    return "%s  %s:%s" % (shorten(name.rstrip(")"), 48), short_path(filename, 40), line)


def _render_findings(findings) -> list:
    """The Findings section: severity and title, summary, evidence, fix (and what to copy)."""
    if not findings:
        return []
    lines = ["", "Findings"]
    for f in findings:
        lines.append("")
        lines.append("[%s] %s" % (f["severity"], f["title"]))
        lines.append("  %s" % f["summary"])
        for e in f["evidence"]:
            lines.append("  - %s" % shorten(e["text"], 200))
        lines.append("  Fix: %s" % f["fix"])
        if f.get("copy"):
            lines.append("  Copy: %s" % shorten(" ".join(f["copy"].split()), 300))
    return lines


def _sql_cells(ep: dict) -> list:
    if ep["queries_per_request"] is not None:
        return ["%.1f" % ep["queries_per_request"], format_ms(ep["sql_ms_per_request"])]
    return ["unknown", "unknown"] if ep.get("queries_unknown") else ["", ""]


def _query_lines(counts: dict) -> list:
    lines = ["%d SQL statements loaded, %d not tied to a request" % (
        counts["loaded"], counts["untied"])]
    for reason, n in sorted(counts.get("untied_by", {}).items(), key=lambda kv: -kv[1]):
        lines.append("  %d %s" % (n, UNTIED.get(reason, reason)))
    return lines


def render_text(report: dict) -> str:
    """The report as a plain-text table, endpoints by total time, then N+1 patterns and the
    problems."""
    with_sql = report["queries"]["loaded"] > 0 or any(
        ep["queries_per_request"] is not None for ep in report["endpoints"])
    head = ["endpoint", "requests", "p50", "p95", "max", "total"]
    head += ["queries", "SQL"] if with_sql else []
    rows = [tuple(head + ["top self time"])]
    for ep in report["endpoints"]:
        top = ep["top_functions"][0]["function"] if ep["top_functions"] else ""
        row = [shorten(ep["name"], 48), str(ep["requests"]), format_ms(ep["p50_ms"]),
               format_ms(ep["p95_ms"]), format_ms(ep["max_ms"]), format_ms(ep["total_ms"])]
        if with_sql:
            row += _sql_cells(ep)
        rows.append(tuple(row + [_func_label(top) if top else ""]))
    n = len(head)
    widths = [max(len(r[i]) for r in rows) for i in range(n)]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:n], widths[1:])]
        lines.append(("  ".join(cells) + "  " + row[n]).rstrip())
    # N+1 patterns are told once, as findings (with evidence and the fix), not also here
    lines.extend(_render_findings(report.get("findings", ())))
    n_ep = len(report["endpoints"])
    lines.append("")
    lines.append("%d request%s in %d endpoint%s" % (
        report["requests"], "" if report["requests"] == 1 else "s", n_ep,
        "" if n_ep == 1 else "s"))
    if report["queries"]["loaded"]:
        lines.extend(_query_lines(report["queries"]))
    if report["problems"]:
        lines.append("")
        lines.append("%d problem%s:" % (len(report["problems"]),
                                       "" if len(report["problems"]) == 1 else "s"))
        for p in report["problems"][:MAX_SHOWN_PROBLEMS]:
            where = p["path"] if p["line"] is None else "%s:%d" % (p["path"], p["line"])
            lines.append("  %s: %s" % (shorten(where, 200), shorten(p["message"], 300)))
        more = len(report["problems"]) - MAX_SHOWN_PROBLEMS
        if more > 0:
            lines.append("  and %d more (every one in --json)" % more)
    return "\n".join(lines)

