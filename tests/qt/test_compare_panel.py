"""Comparing two captures in the window: verdicts, function deltas, differential flame."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from profview.analysis.stats import format_ms
from profview.qt.views.flame import DIFF_COLOURS

LOAD = 60_000




def test_compare_before_after(qtbot, qtmodeltester, window, before, after):
    with qtbot.waitSignal(window.compared, timeout=LOAD):
        window.open_paths([before])
        window.compare_with([after])
    panel = window.compare
    rows = {r["name"]: r for r in panel.endpoints.rows}
    assert rows["GET /roster"]["verdict"] == "faster"
    assert panel.endpoints.index(0, 0).data() == "GET /roster"          # changes first
    qtbot.waitUntil(lambda: panel.flame.tree is not None, timeout=LOAD)
    assert panel.functions.rowCount() > 10
    shown = panel.functions.rows
    assert all(d["significant"] for d in shown)                          # by default
    panel.all_functions.setChecked(True)
    assert panel.functions.rowCount() > len(shown)
    assert any(not d["significant"] for d in panel.functions.rows)
    grey = next(i for i, d in enumerate(panel.functions.rows) if not d["significant"])
    assert panel.functions.index(grey, 0).data(Qt.ForegroundRole) is not None
    qtmodeltester.check(panel.functions)
    panel.all_functions.setChecked(False)
    assert panel.functions.rows == shown
    assert panel.endpoints.index(0, 7).data() == "%.3g" % rows["GET /roster"]["q_value"]
    qtmodeltester.check(panel.endpoints)
    qtmodeltester.check(panel.functions)
    assert panel.endpoints.index(0, 8).data() == "%s → %s" % tuple(
        format_ms(rows["GET /roster"][side]["p95_ms"]) for side in ("before", "after"))
    first = panel.functions.rows[0]
    assert first["after_s_per_request"] < first["before_s_per_request"]
    assert any("103.0 → 0.0" in panel.sql.item(i).text() for i in range(panel.sql.count()))
    tree, delta = panel.flame.tree, panel.flame.delta
    roster = next(i for i, f in enumerate(tree.funcs) if f and f[2] == "roster")
    assert delta[roster] < 0                                             # faster: blue
    assert "change per request" in panel.flame.tooltip_text(roster)
    # frames whose function did not change significantly are greyed
    sig = panel.flame.significant
    assert sig is not None and len(sig) == len(tree.funcs) and sig[roster]
    assert not sig.all()
    quiet = next(i for i in np.flatnonzero(~sig) if tree.funcs[i] is not None)
    assert "not significant" in panel.flame.tooltip_text(quiet)
    panel.flame.grab()                                                   # paints in diff colours
    assert len(DIFF_COLOURS) == 9
    # the timeline overlays the after capture
    qtbot.waitUntil(lambda: window.timeline._compare_item is not None, timeout=LOAD)
    assert len(window.timeline._compare_item.points()) == 29
    # frames sized by the before capture
    panel.size_by.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.flame.tree is not tree, timeout=LOAD)
    lazy = [i for i, f in enumerate(panel.flame.tree.funcs) if f and f[2] == "_emit_lazyload"]
    assert lazy and np.all(panel.flame.delta[lazy] < 0)                # gone after the fix
    assert np.all(panel.flame.significant[lazy])


def test_shift_drop_compares(qtbot, window, before, after):
    with qtbot.waitSignal(window.ready, timeout=LOAD):
        window.open_paths([before])
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(after))])
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.ShiftModifier)
    with qtbot.waitSignal(window.compared, timeout=LOAD):
        window.dropEvent(event)
    assert window.compare_paths == [str(after)] and window.paths == [str(before)]
