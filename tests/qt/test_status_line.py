"""The status bar's text as state: a findings update never overwrites a passing message."""
from __future__ import annotations

from profview.qt.status import StatusLine


class _Label:
    text = ""

    def setText(self, text):
        self.text = text


def test_summary_findings_and_passing_messages():
    label = _Label()
    line = StatusLine(label)
    line.set_summary("29 requests in 7 endpoints")
    line.add("; N+1 queries in 1 endpoint")
    line.show("GET /roster: 5 requests merged")
    assert label.text == ("29 requests in 7 endpoints; N+1 queries in 1 endpoint  ·  "
                          "GET /roster: 5 requests merged")
    line.set_findings(4)      # re-rendered, the activity kept
    assert label.text == ("29 requests in 7 endpoints; N+1 queries in 1 endpoint; 4 findings "
                          "(see Findings)  ·  GET /roster: 5 requests merged")
    line.say("Merging 29 profiles…")
    line.set_findings(1)      # a passing message is on show: left alone
    assert label.text == "Merging 29 profiles…"
    line.show()
    assert label.text.endswith("; 1 finding (see Findings)")
    line.set_summary("3 requests in 1 endpoint")   # a new capture: no findings yet
    assert label.text == "3 requests in 1 endpoint"
