"""The window on a laptop: 1024 px wide is accepted in every state, and at 1280×720 and
1366×768 every panel's main columns are on screen without scrolling sideways."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

LOAD = 60_000
MAX_MIN_WIDTH = 1024


def _load(qtbot, window, before, after=None, size=(1280, 720)):
    window.resize(*size)
    with qtbot.waitSignal(window.ready, timeout=LOAD):
        window.open_paths([before])
    if after is not None:
        with qtbot.waitSignal(window.compared, timeout=LOAD):
            window.compare_with([after])
    qtbot.wait(50)   # the first-run layout is applied after the window is shown


def _column_on_screen(view, column: int) -> bool:
    """Whether *column* of a table/tree is wholly inside its viewport."""
    header = view.header() if hasattr(view, "header") else view.horizontalHeader()
    left = header.sectionViewportPosition(column)
    return left >= 0 and left + header.sectionSize(column) <= view.viewport().width() + 1


def test_a_1024_px_window_is_accepted_loaded_and_compared(qtbot, window, before, after):
    _load(qtbot, window, before, size=(1024, 700))
    assert window.minimumSizeHint().width() <= MAX_MIN_WIDTH
    assert window.width() == 1024
    with qtbot.waitSignal(window.compared, timeout=LOAD):
        window.compare_with([after])
    assert window.minimumSizeHint().width() <= MAX_MIN_WIDTH
    assert window.minimumWidth() <= MAX_MIN_WIDTH and window.width() == 1024


@pytest.mark.parametrize("size", [(1280, 720), (1366, 768)])
def test_main_columns_visible_at_laptop_sizes(qtbot, window, before, after, size, tmp_path):
    _load(qtbot, window, before, after, size)
    assert (window.width(), window.height()) == size
    # endpoints: the name, p50, p95 and share; functions: the name and the first figures
    endpoints = window.endpoints.view
    for column in (0, 2, 3, 5):          # name, p50, p95, share (model columns)
        assert _column_on_screen(endpoints, column), endpoints.model().headerData(
            column, Qt.Horizontal)
    functions = window.functions.table
    assert functions.model().headerData(0, Qt.Horizontal).lower().startswith("function")
    for column in (0, 1, 2):
        assert _column_on_screen(functions, column)
    # the comparison, in the centre: endpoint, verdict and the change of its median
    compare = window.compare
    assert window.centre.currentWidget() is compare
    for column in (0, 1, 4):
        assert _column_on_screen(compare.table, column)
    assert compare.table.viewport().height() >= 4 * compare.table.verticalHeader() \
        .defaultSectionSize()                     # at least four verdicts on show
    assert compare.flame.height() >= 6 * 18 and compare.flame.width() >= 400
    # and the flame graph, back in front, has the room
    window.centre.setCurrentWidget(window.flame)
    assert window.flame.view.width() >= 600 and window.flame.view.height() >= 200
    assert window.grab().save(str(tmp_path / ("%dx%d.png" % size)))
