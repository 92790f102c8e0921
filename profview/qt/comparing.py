"""Comparing the open capture with another (File › Compare, ``--compare``, Shift+drop): load
the "after" capture, compare in a worker, show the verdicts in the Compare panel."""
from __future__ import annotations

import os

from PySide6.QtWidgets import QFileDialog

from ..app import pipeline
from ..loading import pool
from ..loading.scan import load_capture
from .workers import Task


def ask(window) -> None:
    """Pick the "after" capture (and the "before" one when nothing is open)."""
    if not window.paths:
        before = QFileDialog.getExistingDirectory(window, "Compare: the BEFORE capture")
        if not before:
            return
        window.open_paths([before])
    after = QFileDialog.getExistingDirectory(window, "Compare with: the AFTER capture")
    if after:
        compare_with(window, [after])


def compare_with(window, paths) -> None:
    """Load *paths* as the "after" capture (once the open one has its first picture) and
    compare the open capture with it."""
    window.compare_paths = [os.fspath(p) for p in paths]
    if window.session.capture is None:
        def when_loaded():
            window.ready.disconnect(when_loaded)
            compare_with(window, window.compare_paths)
        window.ready.connect(when_loaded)
        return
    window.line.say("Loading the capture to compare with…")
    pool.warm_imports("scipy.stats")   # the tests need it (0.8 s); the workers parse meanwhile
    Task(load_capture, window.compare_paths, mp_context="forkserver", background=True,
         max_bytes=window.max_bytes).start(
        on_done=lambda after: _compare(window, after), on_failed=window._on_failed,
        owner=window)


def _compare(window, after) -> None:
    before = window.session.capture
    Task(pipeline.compare_with_points, before, after).start(
        on_done=lambda result: _show(window, before, after, result),
        on_failed=window._on_failed, owner=window)


def _show(window, before, after, computed) -> None:
    result, after_points = computed
    window.compare.set_captures(before, after, result)
    window.timeline.set_comparison(after_points)
    window.show_comparison()
    slower = sum(r["verdict"] == "slower" for r in result["endpoints"])
    faster = sum(r["verdict"] == "faster" for r in result["endpoints"])
    window.line.say("Compared with %s: %d %s faster, %d slower" % (
        ", ".join(window.compare_paths), faster, "endpoint" if faster == 1 else "endpoints",
        slower))
    window.compared.emit()
