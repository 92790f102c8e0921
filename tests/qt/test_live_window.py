"""The window follows a directory being written to, and pauses on request."""
from __future__ import annotations

import shutil

LOAD = 60_000


def test_new_profiles_appear_and_pause_holds_them(qtbot, window, before, tmp_path):
    capture_dir = tmp_path / "live"
    capture_dir.mkdir()
    files = sorted(before.glob("GET.roster*.prof"))
    for f in files[:2]:
        shutil.copy(f, capture_dir)
    with qtbot.waitSignal(window.ready, timeout=LOAD):
        window.open_paths([capture_dir])
    assert len(window.session.capture.requests) == 2
    shutil.copy(files[2], capture_dir)
    qtbot.waitUntil(lambda: len(window.session.capture.requests) == 3, timeout=LOAD)
    assert window.session.scope.kind == "endpoint"                 # still showing the endpoint
    qtbot.waitUntil(lambda: "1 new request" in window.status.text(), timeout=LOAD)
    window.follow.setChecked(False)                              # pause
    shutil.copy(files[3], capture_dir)
    qtbot.wait(3000)
    assert len(window.session.capture.requests) == 3
    window.follow.setChecked(True)                               # resume: it comes in
    qtbot.waitUntil(lambda: len(window.session.capture.requests) == 4, timeout=LOAD)
