"""What a daily user of the tables asked for: function names in the first column, locations
elided in the middle, the arrow keys selecting, the sort arrow telling the truth, a selection
from elsewhere scrolled to, compact statistics rows, plain request times."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt

from profview.analysis.endpoints import group
from profview.loading.merge import load_graph
from profview.loading.scan import load_capture
from profview.qt.models import ITEM_ROLE, SORT_ROLE, EdgeModel, EndpointModel, FunctionModel
from profview.qt.models.functions import elide_path, location_text
from profview.qt.views.stats import _MsAxis

LOAD = 60_000


def _open(qtbot, window, path):
    with qtbot.waitSignal(window.ready, timeout=LOAD):
        window.open_paths([path])


def _column(model, col, role=SORT_ROLE) -> list:
    return [model.index(r, col).data(role) for r in range(model.rowCount())]


def _ordered(values, order) -> bool:
    return values == sorted(values, reverse=order == Qt.DescendingOrder)


def test_function_name_first_location_elided(qtmodeltester, before):
    capture = load_capture([before], workers=1)
    graph, _ = load_graph(group(capture)[0].requests)
    model = FunctionModel()
    model.set_graph(graph)
    qtmodeltester.check(model)
    assert model.headerData(0, Qt.Horizontal) == "function"
    assert _column(model, 0, Qt.DisplayRole) == [key[2] for key, _s in model.rows]
    loc = model.columnCount() - 1
    assert model.headerData(loc, Qt.Horizontal) == "file:line"
    # sqlalchemy/sql/_selectable_constructors.py: the middle folder goes, the package and
    # the file name stay; the tooltip has the whole path
    row = next(r for r, (key, _s) in enumerate(model.rows)
               if key[0].endswith("sqlalchemy/sql/_selectable_constructors.py"))
    key = model.rows[row][0]
    text = model.index(row, loc).data()
    assert text == "sqlalchemy/…/_selectable_constructors.py:%d" % key[1]
    assert model.index(row, loc).data(Qt.ToolTipRole) == "%s:%d" % (key[0], key[1])
    assert key[0].startswith("/srv/school/.venv/lib/python3.11/site-packages/")
    # sorting by a figure still orders the rows (cumtime, both ways)
    for order in (Qt.DescendingOrder, Qt.AscendingOrder):
        model.sort(4, order)
        assert _ordered(_column(model, 4), order)
        assert _column(model, 0, Qt.DisplayRole) == [k[2] for k, _s in model.rows]
    model.sort(loc, Qt.AscendingOrder)
    assert _ordered(_column(model, loc), Qt.AscendingOrder)
    edges = EdgeModel()
    edges.set_edges(graph.callees(model.rows[0][0]) or graph.callers(model.rows[0][0]))
    qtmodeltester.check(edges)
    assert edges.headerData(0, Qt.Horizontal) == "function"
    assert edges.index(0, 4).data() == location_text(edges.rows[0][0])


def test_elide_path_keeps_first_folder_and_file():
    long = "/home/someone/projects/school/app/views/admin/reports.py"
    assert elide_path(long) == "/home/…/app/views/admin/reports.py"
    win = r"C:\Users\me\AppData\Local\Programs\Python\Python313\Lib\asyncio\base_events.py"
    assert elide_path(win) == "C:\\…\\Lib\\asyncio\\base_events.py"
    assert elide_path("/srv/app.py") == "/srv/app.py"
    assert location_text(("~", 0, "<built-in method time.sleep>")) == "(built-in)"


def test_arrow_keys_select_the_function(qtbot, window, before):
    _open(qtbot, window, before)
    panel, session = window.functions, window.session
    table, model = panel.table, panel.model
    session.select_function(model.rows[0][0])
    assert table.currentIndex().row() == 0
    table.setFocus()
    qtbot.keyClick(table, Qt.Key_Down)
    func = model.rows[1][0]
    assert table.currentIndex().row() == 1
    assert session.function == func
    assert panel.callers_model.rowCount() == len(session.graph.callers(func)) > 0
    assert func[2] in panel.title.text()
    assert window.flame.view.selected == func


def test_sort_indicator_says_the_order(qtbot, window, before):
    _open(qtbot, window, before)
    panel = window.functions
    panel.session.select_function(panel.model.rows[0][0])
    qtbot.waitUntil(lambda: window.stats.model.rowCount() == 7, timeout=LOAD)
    for table in (panel.table, panel.callers, window.stats.table):
        header = table.horizontalHeader()
        values = _column(table.model(), header.sortIndicatorSection())
        assert len(values) > 0
        assert header.sortIndicatorOrder() == Qt.DescendingOrder
        assert _ordered(values, header.sortIndicatorOrder()), table
    # callers by time, not by name (the proxy used to re-sort them by the first column)
    assert panel.callers.horizontalHeader().sortIndicatorSection() == EdgeModel.TIME
    # a click on a header: the rows and the arrow agree, both ways
    header = panel.table.horizontalHeader()
    for _ in range(2):
        qtbot.mouseClick(header.viewport(), Qt.LeftButton,
                         pos=_section_centre(header, 4))
        assert header.sortIndicatorSection() == 4
        assert _ordered(_column(panel.model, 4), header.sortIndicatorOrder())
    assert panel.model.sort_order() == (4, header.sortIndicatorOrder())


def _section_centre(header, section):
    from PySide6.QtCore import QPoint
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    return QPoint(x, header.height() // 2)


def test_selection_from_elsewhere_is_scrolled_to(qtbot, window, before):
    _open(qtbot, window, before)
    panel = window.functions
    table, model = panel.table, panel.model
    window.docks["Functions"].raise_()
    qtbot.waitUntil(lambda: table.isVisible(), timeout=LOAD)
    last = model.rowCount() - 1
    assert table.visualRect(model.index(last, 0)).top() > table.viewport().height()
    window.session.select_function(model.rows[last][0])   # as a flame graph click does
    index = table.currentIndex()
    assert index.row() == last
    assert table.viewport().rect().contains(table.visualRect(index))
    # chosen while the Functions dock is closed: shown again, the row is in view
    window.session.select_function(model.rows[0][0])
    window.docks["Functions"].hide()
    qtbot.waitUntil(lambda: not table.isVisible(), timeout=LOAD)
    window.session.select_function(model.rows[last - 1][0])
    window.docks["Functions"].show()
    qtbot.waitUntil(lambda: table.viewport().rect().contains(
        table.visualRect(table.currentIndex())), timeout=LOAD)
    assert table.currentIndex().row() == last - 1
    # a filter keeps the selected function current
    panel.filter.setText(model.rows[last - 1][0][2])
    assert table.currentIndex().data(ITEM_ROLE) == window.session.function


def test_statistics_rows_compact_and_ticks_readable(qtbot, window, before):
    _open(qtbot, window, before)
    table = window.stats.table
    qtbot.waitUntil(lambda: window.stats.model.rowCount() == 7, timeout=LOAD)
    height = table.fontMetrics().height()
    assert table.verticalHeader().defaultSectionSize() <= height + 8
    assert table.rowHeight(0) <= height + 8
    axis = _MsAxis(orientation="bottom")
    for low_ms, high_ms, px in ((0.5, 5000, 300), (80, 99, 300), (1, 30, 600), (0.01, 1e6, 200)):
        levels = axis.tickValues(math.log10(low_ms), math.log10(high_ms), px)
        values = levels[0][1]
        labels = axis.tickStrings(values, 1.0, levels[0][0])
        assert 2 <= len(values) <= max(2, px // 50), (low_ms, high_ms, values)
        assert all(len(t) <= 7 for t in labels), labels
        assert len(set(labels)) == len(labels), labels


def test_request_times_without_zero_millis(plain):
    capture = load_capture([plain], workers=1)
    model = EndpointModel()
    model.set_capture(capture, group(capture))
    first = model.index(1, 0)
    text = model.index(0, 0, first).data()
    assert ".000" not in text and text.split()[0].count(":") == 2
