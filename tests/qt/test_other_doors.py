"""Doors other than the capture files: the editor, the settings file, the command line."""
from __future__ import annotations

import subprocess
import sys

from profview.qt.views import flame_panel

BAD_SETTINGS = ("[General]\nrecent=not json\ngeometry=garbage\nstate=@ByteArray(nonsense)\n"
                "[findings]\nn_plus_one_min=inf\nhigh_ms=nan\n")


def test_a_file_named_like_an_editor_command_is_only_a_file(tmp_path, monkeypatch):
    hostile = tmp_path / "+:!touch PWNED"
    hostile.write_text("x = 1\n")
    started = []
    monkeypatch.setattr(flame_panel.subprocess, "Popen",
                        lambda argv, **kw: started.append(argv))
    monkeypatch.setenv("EDITOR", "vim")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert flame_panel.open_in_editor("+:!touch PWNED", 3)
    assert started == [["vim", "+3", "--", str(hostile)]]
    # an absurd line number from a crafted profile: line 1, not a 5,000-digit argument
    assert flame_panel.editor_command("nano -w", "/x.py", 10 ** 5000) == [
        "nano", "-w", "+1", "--", "/x.py"]
    assert flame_panel.editor_command("code -w", "rel.py", 7)[-1].startswith("/")


def test_the_window_starts_whatever_the_settings_file_holds(qtbot, tmp_path, monkeypatch):
    from profview.qt.main_window import MainWindow

    path = tmp_path / "settings.ini"
    path.write_text(BAD_SETTINGS)
    monkeypatch.setenv("PROFVIEW_SETTINGS", str(path))
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    messages = [win.problems.topLevelItem(i).text(2)
                for i in range(win.problems.topLevelItemCount())]
    assert any("recent files" in m for m in messages)
    assert any("geometry" in m for m in messages)
    assert not win.recent_menu.isEnabled()
    win.close()


def test_bad_numbers_on_the_command_line_are_one_line(before):
    for args in (["--max-size", "nan"], ["--max-size", "-1"],
                 ["--threshold", "n_plus_one_min=inf"], ["--threshold", "high_ms=1e999"]):
        done = subprocess.run([sys.executable, "-m", "profview", "report", str(before), *args],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "Traceback" not in done.stderr, (args, done.stderr)
        assert done.stderr.strip().splitlines()[-1].startswith("profview report: error:")
