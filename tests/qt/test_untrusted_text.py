"""Names from a capture are shown as text: never as headings, images or links."""
from __future__ import annotations

import marshal

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt

from profview.qt.models import ITEM_ROLE

LOAD = 60_000
HEADING = "<h1>x</h1>"
IMAGE = "<img src=x width=5000 height=5000>"
PKG = "/srv/venv/lib/python3.11/site-packages/<b>pkg<b>/mod.py"


def _hostile_capture(directory):
    """Two requests whose functions, file and package names carry HTML."""
    view = ("/srv/app/<i>views<i>.py", 3, HEADING)
    lib = (PKG, 10, IMAGE)
    root = ("~", 0, "<built-in method builtins.exec>")
    stats = {
        root: (1, 1, 0.001, 0.010, {}),
        view: (1, 1, 0.004, 0.009, {root: (1, 1, 0.004, 0.009)}),
        lib: (2, 2, 0.005, 0.005, {view: (2, 2, 0.005, 0.005)}),
    }
    directory.mkdir()
    for i in range(2):
        (directory / ("GET.<h1>page<h1>.10ms.%d.prof" % (1795300000 + i))).write_bytes(
            marshal.dumps(stats))
    return view, lib


def literal(text) -> bool:
    """True when Qt would show *text* as the characters it holds."""
    return text is None or not GuiQt.mightBeRichText(text) or (
        "&lt;" in text and "<h1>" not in text and "<img" not in text)


def test_html_in_a_capture_stays_text(qtbot, window, tmp_path):
    view, lib = _hostile_capture(tmp_path / "cap")
    with qtbot.waitSignal(window.ready, timeout=LOAD):
        window.open_paths([tmp_path / "cap"])
    assert window.status.textFormat() == Qt.PlainText
    # Endpoint tooltips (the name holds the HTML of the path)
    model = window.endpoints.model
    tips = [model.data(model.index(r, 0), Qt.ToolTipRole) for r in range(model.rowCount())]
    assert any(t and "&lt;h1&gt;page" in t for t in tips) and all(map(literal, tips))
    # The functions table: its tooltips, and the title naming the selected function
    window.session.select_function(lib)
    table = window.functions.table
    proxy = table.proxy
    for row in range(proxy.rowCount()):
        for col in range(proxy.columnCount()):
            assert literal(proxy.index(row, col).data(Qt.ToolTipRole))
    title = window.functions.title
    assert title.textFormat() == Qt.PlainText and IMAGE in title.text()
    # The flame graph's tooltip and legend
    qtbot.waitUntil(lambda: window.flame.view.tree is not None, timeout=LOAD)
    tree = window.flame.view.tree
    node = next(i for i in range(len(tree)) if tree.funcs[i] == lib)
    from profview.qt import safe_text
    assert literal(safe_text.tip(window.flame.view.tooltip_text(node)))
    swatches = [w.text() for w in window.flame.legend.findChildren(type(window.status))]
    assert any("&lt;b&gt;pkg" in s for s in swatches)
    assert not any("<b>pkg" in s for s in swatches)
    # Statistics title
    hist_title = window.stats.histogram.plotItem.titleLabel.text
    assert "<h1>" not in hist_title
    assert all(proxy.index(r, 0).data(ITEM_ROLE) is not None for r in range(proxy.rowCount()))
