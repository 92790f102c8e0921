"""``profview report``: the capture summarised as a table or as JSON (a stable contract)."""
from __future__ import annotations

import math
from collections import Counter

from ..model.callgraph import format_func
from ..model.capture import Capture
from ..model.query import UNTIED
from . import sql
from .codeloc import short_path, shorten
from .endpoints import group
from .findings import Settings, find
from .stats import format_ms, p50, p95

MAX_SHOWN_PROBLEMS = 20   # the text report lists the first ones; --json has them all
TOP_FUNCTIONS = 10


def _top(functions, n: int = TOP_FUNCTIONS) -> list:
    items = sorted(functions.items(), key=lambda kv: (-kv[1].tottime, kv[0]))
    return items[:n]


def build(capture: Capture, settings: Settings = Settings(), findings: bool = True) -> dict:
    """The report as a JSON-ready dict (see the README for the contract); *settings* are the
    findings' thresholds.  Without *findings* the rules are not run (``"findings"`` is
    ``None``): a comparison needs only the endpoint rows."""
    grouped = group(capture)
    return {"requests": len(capture.requests),
            "problems": [p.as_dict() for p in capture.problems],
            "queries": query_counts(capture.queries),
            "endpoints": endpoint_rows(capture, grouped),
            "findings": [f.as_dict() for f in find(capture, grouped, settings)]
            if findings else None}


def findings_of(capture: Capture, settings: Settings = Settings()) -> list:
    """The findings of *capture*, JSON-ready (the report's ``"findings"``)."""
    return [f.as_dict() for f in find(capture, group(capture), settings)]


def endpoint_rows(capture: Capture, grouped: list) -> list:
    """One JSON-ready row per endpoint of *grouped* (``endpoints.group(capture)``)."""
    endpoints = []
    per_request = sql.by_request(capture.queries) if capture.has_queries else {}
    for ep in grouped:
        elapsed = ep.elapsed_ms
        queries = sql_ms = sql_share = unknown = None
        n_plus_one = []
        if capture.has_queries:
            unknown = sum(1 for r in ep.requests if r.n_queries is None)
            n_plus_one = sql.endpoint_n_plus_one(ep, per_request)
        if capture.has_queries and not unknown:
            queries = sum(r.n_queries for r in ep.requests) / len(ep.requests)
            sql_ms = sum(r.sql_ms or 0.0 for r in ep.requests) / len(ep.requests)
            sql_share = sql_ms * len(ep.requests) / ep.total_ms if ep.total_ms else None
        endpoints.append({
            "name": ep.name,
            "method": ep.method,
            "requests": len(ep.requests),
            "p50_ms": p50(elapsed),
            "p95_ms": p95(elapsed),
            "max_ms": float(max(elapsed)),
            "total_ms": float(sum(elapsed)),
            "view": format_func(ep.view) if ep.view else None,
            "rule": ep.key[2] if ep.key[0] == "rule" else None,
            "keyed_by": ep.keyed_by,
            "why": ep.why,
            "queries_per_request": queries,
            "queries_unknown": unknown,
            "sql_ms_per_request": sql_ms,
            "sql_share": sql_share,
            "n_plus_one": n_plus_one,
            "top_functions": [
                {"function": format_func(key), "tottime_s": s.tottime, "cumtime_s": s.cumtime,
                 "ncalls": int(s.ncalls)}
                for key, s in _top(ep.functions)],
            "files": [r.name for r in ep.requests],
        })
    return endpoints


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

