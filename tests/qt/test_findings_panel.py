"""The Findings panel: found on a real capture, linked to the other views, thresholds from the
settings, and a panel built on a model that changes under it."""
from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QGuiApplication

from profview.analysis.findings import find
from profview.loading.reread import request_graph
from profview.loading.scan import load_capture
from profview.analysis.sql import fingerprint
from profview.app.session import ALL, Session
from profview.qt.views.findings_panel import FindingsPanel, render
from profview.analysis.stats import format_ms

LOAD = 60_000


def _load(qtbot, win, path):
    with qtbot.waitSignal(win.findings.updated, timeout=LOAD):
        win.open_paths([path])


def test_findings_of_the_before_capture_link_to_the_other_views(qtbot, window, before):
    _load(qtbot, window, before)
    panel = window.findings
    titles = [f.title for f in panel.findings]
    assert "N+1 queries in GET /roster" in titles
    assert any(f.rule == "slow_query" for f in panel.findings)
    assert panel.list.topLevelItemCount() == len(panel.findings)
    assert window.docks["Findings"].windowTitle() == "Findings (%d)" % len(panel.findings)
    roster = next(i for i, f in enumerate(panel.findings) if f.title == "N+1 queries in GET /roster")
    f = panel.findings[roster]
    assert panel.list.topLevelItem(roster).text(2) == "%s × %d = %s" % (
        format_ms(f.cost_ms), f.stake_requests, format_ms(f.stake_ms))   # time at stake
    assert "%d findings (see Findings)" % len(panel.findings) in window.status.text()
    # clicking a finding opens its endpoint everywhere
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        window.session.select_scope(ALL)
    row = titles.index("N+1 queries in GET /roster")
    item = panel.list.topLevelItem(row)
    panel.list.setCurrentItem(item)
    with qtbot.waitSignal(window.flame.tree_ready, timeout=LOAD):
        panel.list.itemClicked.emit(item, 1)
    assert window.session.scope.kind == "endpoint"
    assert window.session.scope.endpoint.name == "GET /roster"
    assert "selectinload" in panel.detail.toPlainText()
    # the N+1 statement opens in the SQL panel, selected
    n1 = panel.current()
    ev = next(i for i, e in enumerate(n1.evidence) if e.kind == "statement")
    panel.detail.anchorClicked.emit(QUrl("evidence:%d" % ev))
    qtbot.waitUntil(lambda: window.sql.table.currentIndex().isValid(), timeout=LOAD)
    q, _r = window.sql.table.currentIndex().data(Qt.UserRole + 2)
    assert fingerprint(q.statement) == fingerprint(n1.evidence[ev].statement)


def test_copy_and_function_links(qtbot, window, before):
    _load(qtbot, window, before)
    panel = window.findings
    slow = next(i for i, f in enumerate(panel.findings) if f.rule == "slow_query")
    panel.list.setCurrentItem(panel.list.topLevelItem(slow))
    assert panel.copy_button.isEnabled()
    text = panel.copy()
    # the sample has the plan the capture asked for: the index it names is what is copied
    assert text.startswith("CREATE INDEX ix_attendance_student_id") and \
        QGuiApplication.clipboard().text() == text
    repeated = next(i for i, f in enumerate(panel.findings) if f.rule == "repeated_work")
    panel.list.setCurrentItem(panel.list.topLevelItem(repeated))
    finding = panel.current()
    ev = next(i for i, e in enumerate(finding.evidence) if e.kind == "function")
    panel.detail.anchorClicked.emit(QUrl("evidence:%d" % ev))
    assert window.session.function == finding.evidence[ev].func
    assert window.session.scope.endpoint.name == finding.endpoints[0]


def test_thresholds_come_from_the_settings(qtbot, window, before):
    store = QSettings(window.findings.store.fileName(), QSettings.IniFormat)
    store.setValue("findings/n_plus_one_min", 500)        # nothing repeats 500 times
    store.sync()
    _load(qtbot, window, before)
    rules = {f.rule for f in window.findings.findings}
    assert "n_plus_one" not in rules and "slow_query" in rules


def test_panel_follows_its_session(qtbot, plain, before):
    """Built on a session alone: a new capture clears the list, run() fills it again."""
    session = Session()
    panel = FindingsPanel(session)
    qtbot.addWidget(panel)
    session.set_capture(load_capture([before]))
    assert panel.list.topLevelItemCount() == 0 and "Looking" in panel.info.text()
    with qtbot.waitSignal(panel.updated, timeout=LOAD):
        panel.run()
    expected = [f.title for f in find(session.capture, session.endpoints, read=request_graph)]
    assert [panel.list.topLevelItem(i).text(1)
            for i in range(panel.list.topLevelItemCount())] == expected
    session.set_capture(load_capture([plain]))
    assert panel.list.topLevelItemCount() == 0
    with qtbot.waitSignal(panel.updated, timeout=LOAD):
        panel.run()
    assert any("possible N+1" in f.title for f in panel.findings)


def test_render_escapes_what_the_capture_says():
    from profview.analysis.findings import Evidence, Finding

    f = Finding("n_plus_one", "high", "<script>x</script>", "a < b", ("GET /<b>",),
                ("/tmp/<i>.prof",), (Evidence("metric", "<img src=x>"),), "fix & go",
                copy="SELECT '<'")
    html = render(f)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "&lt;b&gt;" in html and "fix &amp; go" in html
