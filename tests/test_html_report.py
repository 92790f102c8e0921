"""``profview report --html FILE``: one self-contained, well-formed, escaped page, on real
captures (the samples, and a crafted one whose names are HTML)."""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from profiles import profile_call
from profview.app import comparison
from profview.report import build as report
from profview.report.html_charts import MAX_DOTS, before_after_strip, latency_strip
from profview.report.html_page import esc, findings_section
from profview.report.html_report import render_report
from profview.loading.scan import load_capture
from profview.analysis.stats import format_ms
from profview.cli import main

VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source", "area", "base"}


class _Checker(HTMLParser):
    """Collects tags and attributes and checks that every element is closed in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.attrs, self.errors = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes %s" % (tag, self.stack[-1:]))
        else:
            self.stack.pop()


def _check_page(text: str) -> _Checker:
    """Well-formed, self-contained: no external resource, every SVG parses as XML."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert text.startswith("<!DOCTYPE html>")
    assert "link" not in checker.tags and "img" not in checker.tags
    assert "iframe" not in checker.tags and "object" not in checker.tags
    for tag, attrs in checker.attrs:
        assert "src" not in attrs, tag
        assert attrs.get("href", "#").startswith("#"), attrs  # in-page anchors only
    assert checker.tags.count("script") == 1       # ours, inline
    assert "@import" not in text and "url(" not in text
    svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
    assert len(svgs) == checker.tags.count("svg")
    for svg in svgs:
        ET.fromstring(svg)
    return checker


def _run(tmp_path, *args, name="out.html"):
    out = tmp_path / name
    code = main(["report", *map(str, args), "--html", str(out)])
    return code, out


def test_report_page_from_the_sample_capture(before, tmp_path, capsys):
    code, out = _run(tmp_path, before)
    assert code == 0
    text = out.read_text(encoding="utf-8")
    _check_page(text)
    assert "http://" not in text and "https://" not in text
    assert "GET /roster" in capsys.readouterr().out   # the terminal table is still printed
    built = report.build(load_capture([before]))
    assert esc(str(before)) in text
    assert ">%d requests in %d endpoints" % (built["requests"], len(built["endpoints"])) in text
    for ep in built["endpoints"]:
        name = esc(ep["name"])
        assert name in text
        # the table row: every figure as report.build computed it, with its raw sort key
        row = re.search(r"<tr><td data-v=\"\"><a href=\"#ep-\d+\">%s</a></td>(.*?)</tr>"
                        % re.escape(name), text).group(1)
        for key in ("p50_ms", "p95_ms", "max_ms", "total_ms"):
            assert '<td data-v="%r">%s</td>' % (float(ep[key]), esc(format_ms(ep[key]))) in row
        assert ">%d</td>" % ep["requests"] in row
        assert ">%.1f</td>" % ep["queries_per_request"] in row
    assert text.count('<section class="endpoint"') == len(built["endpoints"])
    assert text.count('<svg class="chart"') == len(built["endpoints"])
    assert "N+1" in text and esc(built["endpoints"][0]["n_plus_one"][0]["statement"]) in text
    findings = built.get("findings") or []
    if findings:    # report.build grew its findings: the first one is on the page
        assert esc(findings[0]["title"]) in text
    else:
        assert "No findings." in text


def test_findings_rendered_in_severity_order_with_evidence(before):
    capture = load_capture([before])
    built = report.build(capture)
    evil = "<script>alert('f')</script>"
    findings = [
        {"rule": "low_thing", "severity": "low", "title": "Low thing " + evil,
         "endpoints": ["GET /roster"], "requests": ["/roster"], "summary": "s " + evil,
         "evidence": [{"kind": "metric", "text": "3 ms"}], "fix": "do less", "copy": None},
        {"rule": "n_plus_one", "severity": "high", "title": "N+1 in GET /roster",
         "endpoints": ["GET /roster", "GET /nowhere"], "requests": ["/roster?page=1&x=<b>"],
         "summary": "103 statements per request",
         "evidence": [{"kind": "function", "text": "called here", "function": "a.py:1(f)"},
                      {"kind": "statement", "text": "runs 103 times",
                       "statement": "SELECT * FROM t WHERE a < ?"}],
         "fix": "selectinload()", "copy": "EXPLAIN SELECT * FROM t WHERE a < 1 AND b = '<x>'"},
        {"rule": "odd", "severity": "<weird>", "title": "unknown severity", "endpoints": [],
         "requests": [], "summary": "", "evidence": [], "fix": "", "copy": None},
    ]
    text = render_report(dict(built, findings=findings), capture, [str(before)])
    checker = _check_page(text)
    assert evil not in text and "x=<b>" not in text and "<weird>" not in text
    assert "script" not in [t for t in checker.tags[:-1]]   # only our own script, last
    titles = [m for m in re.findall(r'<article class="finding sev-(\w+)">', text)]
    assert titles == ["high", "low", "info"]                 # most severe first
    assert '<a href="#ep-0">GET /roster</a>' in text          # endpoint linked to its section
    assert ", GET /nowhere</p>" in text                       # no section: plain text
    assert ('<pre class="copyable">%s</pre>' % esc(findings[1]["copy"])) in text
    assert "<code>%s</code>" % esc("SELECT * FROM t WHERE a < ?") in text
    assert "<code>a.py:1(f)</code>" in text
    quoted = [{"kind": "statement", "text": "SELECT  1 FROM x", "statement": "SELECT 1\nFROM x"}]
    assert "<code>" not in findings_section([dict(findings[2], evidence=quoted)], {})
    assert "Fix:</b> selectinload()" in text


def test_resolved_findings_listed_in_a_comparison():
    before = [{"rule": "n_plus_one", "severity": "high", "title": "N+1 (103 per request)",
               "endpoints": ["GET /roster"]},
              {"rule": "slow_query", "severity": "medium", "title": "Slow query",
               "endpoints": ["GET /a"]}]
    after = [{"rule": "slow_query", "severity": "medium", "title": "Slow query (changed)",
              "endpoints": ["GET /a"]}]
    text = findings_section(after, {}, "After", resolved=before)
    assert "No longer found" in text
    resolved = text.split("No longer found")[1]
    assert "N+1 (103 per request)" in resolved and "Slow query" not in resolved
    assert "No findings." in findings_section([], {})


def _evil_capture(root):
    """A capture whose URL path, function, source file and file names are HTML."""
    source = "def view():\n    x = 0\n    for i in range(30000):\n        x += i\n    return x\n"
    ns = {}
    exec(compile(source, "/srv/<script>alert('file')</script>/app.py", "exec"), ns)
    view = ns["view"]
    view.__code__ = view.__code__.replace(co_name="<script>alert('func')</script>")
    profile_call(root / "GET.<img src=x onerror=alert(1)>.5ms.1795300000.prof", view)
    profile_call(root / "GET.<img src=x onerror=alert(1)>.7ms.1795300001.prof", view)
    profile_call(root / "<svg onload=alert(2)>.prof", view)
    (root / "bad<iframe srcdoc=x>.prof").write_bytes(b"\x00junk")


def test_names_from_the_capture_are_escaped(tmp_path):
    cap = tmp_path / "cap"
    _evil_capture(cap)
    code, out = _run(tmp_path, cap)
    assert code == 0
    text = out.read_text(encoding="utf-8")
    checker = _check_page(text)
    for raw in ("<script>alert", "<img", "<svg onload", "<iframe"):
        assert raw not in text
    assert {"img", "iframe"}.isdisjoint(checker.tags)
    assert esc("GET /<img src=x onerror=alert(1)>") in text        # the endpoint
    assert esc("<script>alert('func')</script>") in text            # the function
    assert esc("bad<iframe srcdoc=x>.prof") in text                 # the problem's path
    assert "1 problem" in text


def test_escape_drops_control_characters():
    assert esc("a\x00<b>\x1b[31m\t\"'") == "a&lt;b&gt;[31m\t&quot;&#x27;"


def test_compare_page_has_verdicts_deltas_and_charts(before, after, tmp_path):
    code, out = _run(tmp_path, before, "--compare", after)
    assert code == 0
    text = out.read_text(encoding="utf-8")
    _check_page(text)
    assert "http://" not in text and "https://" not in text
    result = comparison.compare(load_capture([before]), load_capture([after]))
    assert esc(str(before)) in text and esc(str(after)) in text
    for r in result["endpoints"]:
        row = re.search(r'<a href="#ep-\d+">%s</a></td>(.*?)</tr>' % re.escape(esc(r["name"])),
                        text).group(1)
        assert '<span class="badge %s">%s</span>' % (r["verdict"], r["verdict"]) in row
        assert ">%s</td>" % esc(format_ms(r["before"]["p50_ms"])) in row
        assert ">%s</td>" % esc(format_ms(r["after"]["p50_ms"])) in row
        assert ">%.3g</td>" % r["p_value"] in row
        # The q-value the verdict rests on (Benjamini–Hochberg), or why there is none.
        assert (">%.3g</td>" % r["q_value"] if r["q_value"] is not None
                else ">not tested</td>") in row
    assert "Benjamini–Hochberg" in text and "false discovery rate" in text
    verdicts = {r["name"]: r["verdict"] for r in result["endpoints"]}
    assert verdicts["GET /roster"] == "faster"
    roster = text[text.index('<h3>GET /roster <span class="badge faster">'):]
    roster = roster[:roster.index("</section>")]
    assert "fetchall" in roster and "before</text>" in roster and "after</text>" in roster
    assert "SQL statements per request that changed" in roster and "103.0" in roster
    deltas = [d for r in result["endpoints"] if r["name"] == "GET /roster"
              for d in r["function_deltas"] if d["significant"]]
    assert deltas and ">%.3g, significant</td>" % deltas[0]["q_value"] in roster
    assert text.count('<svg class="chart"') == len(result["endpoints"])
    assert "Findings after the change" in text


def _snapshot(root):
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_html_never_written_into_a_loaded_directory(before, after, tmp_path, capsys):
    was_before, was_after = _snapshot(before), _snapshot(after)
    code, out = _run(tmp_path, before, "--compare", after)
    assert code == 0 and out.exists()
    for inside in (before / "report.html", after / "sub" / "report.html", before):
        code = main(["report", str(before), "--compare", str(after), "--html", str(inside)])
        assert code == 2
        assert "being read" in capsys.readouterr().err
    assert _snapshot(before) == was_before and _snapshot(after) == was_after


def test_charts_switch_to_a_histogram_and_a_log_axis():
    few = latency_strip(esc, [1.0, 2.0, 3.0], ["a", "b", "<c>"], "t")
    assert few.count("<circle") == 3 and "&lt;c&gt;: 3.0 ms" in few and ">log<" not in few
    many = [1.0 + i % 50 for i in range(MAX_DOTS + 1)] + [5000.0]
    svg = latency_strip(esc, many, [""] * len(many), "t")
    ET.fromstring(svg)
    assert "<circle" not in svg and "<rect" in svg and ">log<" in svg   # 1 ms to 5 s
    pair = before_after_strip(esc, [10.0, 12.0], [3.0], ["x", "y"], ["z"], "t")
    ET.fromstring(pair)
    assert pair.count("<circle") == 3 and pair.count("stroke-width=\"2\"") == 2  # 2 medians
    assert html.unescape(esc("<&>")) == "<&>"


def test_compare_page_with_new_and_gone_endpoints(plain, after, tmp_path):
    # plain has no sidecars, so its endpoints are named by inferred patterns, not rules:
    # some names exist only on one side.
    code, out = _run(tmp_path, plain, "--compare", after)
    assert code == 0
    text = out.read_text(encoding="utf-8")
    _check_page(text)
    assert '<span class="badge new">new</span>' in text
    assert '<span class="badge gone">gone</span>' in text
    assert esc("GET /attendance/<...>") in text and esc("GET /stats") in text
