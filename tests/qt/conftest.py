import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.qt)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """A main window with its settings in a temporary file; tasks finished at the end."""
    from profview.qt.main_window import MainWindow
    from profview.qt.workers import wait_all

    monkeypatch.setenv("PROFVIEW_SETTINGS", str(tmp_path / "settings.ini"))
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1300, 900)
    win.show()
    yield win
    win.close()
    wait_all()
