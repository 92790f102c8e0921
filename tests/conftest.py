"""Shared fixtures.  With PROFVIEW_BLOCK_QT=1 (CI's Qt-free run), importing Qt fails."""
from __future__ import annotations

import importlib.abc
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_profiles"
sys.path.insert(0, str(Path(__file__).resolve().parent))


class _BlockQt(importlib.abc.MetaPathFinder):
    BLOCKED = ("PySide6", "shiboken6", "pyqtgraph")

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError("Qt is blocked in this test run: %s" % name)
        return None


if os.environ.get("PROFVIEW_BLOCK_QT") == "1":
    sys.meta_path.insert(0, _BlockQt())


def _sample(name: str) -> Path:
    path = SAMPLES / name
    assert any(path.glob("*.prof")), "sample_profiles/%s is missing: run make_samples.py" % name
    return path


@pytest.fixture
def plain() -> Path:
    """The demo app under Werkzeug's ProfilerMiddleware alone: default names, no sidecars."""
    return _sample("plain")


@pytest.fixture
def before() -> Path:
    """The demo app captured with profview.capture, before the fixes."""
    return _sample("before")


@pytest.fixture
def after() -> Path:
    """The same traffic against the fixed app."""
    return _sample("after")
