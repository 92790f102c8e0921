"""The status bar's text, as state: the capture's summary (counts, problems, N+1, new
requests), the findings note after it, and what the window is doing now."""
from __future__ import annotations


class StatusLine:
    """Composes the text of *label* (a QLabel).  ``say`` shows a passing message (loading,
    merging); ``show`` the summary, the findings note and an optional activity after it;
    a findings update re-renders the summary only while it is on show."""

    def __init__(self, label):
        self.label = label
        self.summary = ""
        self.findings = ""        # "; 4 findings (see Findings)"
        self._activity = None     # None: a passing message is on show, not the summary

    def say(self, text: str) -> None:
        self._activity = None
        self.label.setText(text)

    def set_summary(self, text: str) -> None:
        """A new capture: its summary, no findings yet."""
        self.summary, self.findings = text, ""
        self.show()

    def add(self, text: str) -> None:
        """Append to the summary (N+1 counts, new requests); shown at the next ``show``."""
        self.summary += text

    def set_findings(self, n: int) -> None:
        self.findings = "; %d finding%s (see Findings)" % (n, "" if n == 1 else "s") \
            if n else ""
        if self._activity is not None:
            self.show(self._activity)

    def show(self, activity: str = "") -> None:
        self._activity = activity
        self.label.setText(self.summary + self.findings + ("  ·  " + activity if activity
                                                           else ""))
