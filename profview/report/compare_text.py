"""The before/after comparison as a plain-text table (``profview report --compare``)."""
from __future__ import annotations

from ..analysis.codeloc import shorten
from ..analysis.stats import format_ms


def _ms(side, key):
    return format_ms(side[key]) if side else "–"


def _q(side):
    return "–" if not side or side["queries_per_request"] is None else "%.1f" % (
        side["queries_per_request"])


def render_compare(result: dict) -> str:
    """Endpoints with p50 before/after, Δ, verdict; then what changed inside the changed ones."""
    head = ("endpoint", "before", "after", "p50 before", "p50 after", "Δ", "Δ %", "queries",
            "verdict", "p", "q")
    rows = [head]
    for r in result["endpoints"]:
        b, a = r["before"], r["after"]
        rows.append((shorten(r["name"], 44), str(b["requests"]) if b else "–",
                     str(a["requests"]) if a else "–", _ms(b, "p50_ms"), _ms(a, "p50_ms"),
                     "%+.1f ms" % r["delta_p50_ms"] if r["delta_p50_ms"] is not None else "",
                     "%+.0f%%" % r["delta_p50_pct"] if r["delta_p50_pct"] is not None else "",
                     "%s → %s" % (_q(b), _q(a)), r["verdict"],
                     "%.3g" % r["p_value"] if r["p_value"] is not None else "",
                     "%.3g" % r["q_value"] if r.get("q_value") is not None else ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in rows]
    for r in result["endpoints"]:
        if r["note"]:
            lines.append("%s: %s" % (r["name"], r["note"]))
    for r in result["endpoints"]:
        if r["verdict"] in ("unchanged", "new", "gone"):
            continue
        lines.append("")
        sig = [d for d in r["function_deltas"] if d.get("significant", True)]
        lines.append("%s is %s: largest significant changes per request" % (
            r["name"], r["verdict"]) if sig else "%s is %s: no function changed "
                     "significantly on its own" % (r["name"], r["verdict"]))
        for d in sig[:5]:
            lines.append("  %+9.3f ms  %s" % (
                1000 * (d["after_s_per_request"] - d["before_s_per_request"]),
                shorten(d["function"], 100)))
        for c in r["sql_changes"][:3]:
            lines.append("  SQL %.1f → %.1f per request: %s" % (
                c["before"], c["after"], shorten(c["statement"], 90)))
    s = result["settings"]
    lines.append("")
    lines.append("%d requests before, %d after; a verdict needs q < %g (Mann–Whitney U, "
                 "Benjamini–Hochberg across endpoints) and a median change of at least %g%% "
                 "and %g ms, beyond the timing resolution" % (
                     result["before"]["requests"], result["after"]["requests"], s["alpha"],
                     s["min_pct"], s["min_ms"]))
    return "\n".join(lines)
