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


@pytest.fixture
def samples() -> Path:
    """The committed capture of the demo app (sample_profiles/basic)."""
    path = SAMPLES / "basic"
    assert any(path.glob("*.prof")), "sample_profiles/basic is missing: run make_samples.py"
    return path
