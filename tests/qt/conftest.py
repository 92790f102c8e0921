import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.qt)
