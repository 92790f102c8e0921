"""Files and values that used to lose the whole capture: each is now one problem, the rest
loads (a FIFO, /dev/zero, absurd numbers, a very deep directory, thousands of problems)."""
from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from profview.report import build as report
from profview.loading.scan import load_capture
from profview.analysis.stats import format_clock
from profview.cli import main
from profview.importers import pstats_file

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
ROOT = ("~", 0, "<built-in method builtins.exec>")
VIEW = ("/srv/app/views.py", 3, "view")
GOOD = {ROOT: (1, 1, 0.001, 0.002, {}), VIEW: (1, 1, 0.001, 0.001, {ROOT: (1, 1, 0.001, 0.001)})}


def _write(directory, name, stats):
    (directory / name).write_bytes(marshal.dumps(stats))


def _with(key, value):
    stats = dict(GOOD)
    stats[key] = value
    return stats


@pytest.mark.parametrize("stats, why", [
    (_with(VIEW, (1, 1, 10 ** 400, 0.001, {})), "malformed stats"),           # OverflowError
    (_with(("/srv/app/v.py", 10 ** 5000, "f"), (1, 1, 0.0, 0.0, {})), "malformed function key"),
    (_with(VIEW, (10 ** 5000, 10 ** 5000, 0.001, 0.001, {})), "malformed stats"),
    (_with(VIEW, (1, 1, 1e306, 1e306, {})), "malformed stats"),
    (_with(VIEW, (1, 1, 0.001, 0.001, {ROOT: 10 ** 30})), "malformed call"),
])
def test_absurd_numbers_are_a_problem_not_a_crash(stats, why):
    with pytest.raises(pstats_file.ProfileError, match=why) as info:
        pstats_file.parse(marshal.dumps(stats))
    assert len(str(info.value)) < 400


def test_fifo_and_device_are_refused_without_blocking(tmp_path, capsys):
    _write(tmp_path, "GET.ok.2ms.1795300000.prof", GOOD)
    os.mkfifo(tmp_path / "GET.fifo.1ms.1795300001.prof")
    os.mkfifo(tmp_path / "queries.jsonl")
    os.mkfifo(tmp_path / "app.log")
    os.symlink("/dev/zero", tmp_path / "GET.zero.1ms.1795300002.prof")
    done = []
    worker = threading.Thread(target=lambda: done.append(load_capture([tmp_path], workers=1)),
                              daemon=True)
    worker.start()
    worker.join(60)    # it used to block forever on the FIFO, or read /dev/zero until OOM
    assert done, "loading blocked"
    capture = done[0]
    assert len(capture.requests) == 1
    messages = {os.path.basename(p.path): p.message for p in capture.problems}
    assert "FIFO" in messages["GET.fifo.1ms.1795300001.prof"]
    assert "character device" in messages["GET.zero.1ms.1795300002.prof"]
    assert "FIFO" in messages["queries.jsonl"] and "FIFO" in messages["app.log"]


def test_a_directory_1100_levels_deep():
    # Not under tmp_path: pytest's own clean-up (shutil.rmtree) recurses once per level.
    top = Path(tempfile.mkdtemp(prefix="profview-deep-"))
    here = os.getcwd()
    try:
        os.chdir(top)
        for _ in range(1100):   # os.makedirs itself recurses too deep for this
            os.mkdir("d")
            os.chdir("d")
        _write(Path(os.getcwd()), "GET.deep.1ms.1795300000.prof", GOOD)
        os.chdir(here)
        capture = load_capture([top], workers=1)
        assert [r.url_path for r in capture.requests] == ["/deep"] and not capture.problems
    finally:
        os.chdir(here)
        subprocess.run(["rm", "-rf", str(top)], check=False)   # GNU rm walks it iteratively


def test_thousands_of_problems_are_capped_in_text_not_in_json(tmp_path, capsys):
    _write(tmp_path, "GET.ok.2ms.1795300000.prof", GOOD)
    for i in range(60):
        (tmp_path / ("GET.bad%d.1ms.%d.prof" % (i, 1795300001 + i))).write_bytes(b"{garbage")
    assert main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "60 problems:" in out and "and 40 more (every one in --json)" in out
    assert main(["report", str(tmp_path), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["problems"]) == 60


def test_writers_never_see_a_value_they_cannot_write():
    value = {"a": float("nan"), "b": [float("inf"), 1e306, 10 ** 400], "c": (1, "x")}
    assert json.dumps(report.json_ready(value), allow_nan=False) == (
        '{"a": null, "b": [null, 1e+306, null], "c": [1, "x"]}')
    assert format_clock(1e300) == "?" and format_clock(float("nan")) == "?"
    assert format_clock(0.25, "%S", millis=True).endswith(".250")


def test_a_profile_that_crashes_marshal_is_a_problem_not_a_crash(tmp_path):
    # A real profile of tests/data/smorest with three small edits (found by
    # tests/test_fuzz_mutation.py): marshal.loads of it is a segmentation fault in CPython
    # 3.11, 3.12 and 3.13.
    crash = tmp_path / "crash" / "GET.bad.1ms.1796176556.prof"
    crash.parent.mkdir()
    crash.write_bytes((HOSTILE / "marshal-segfault.prof").read_bytes())
    probe = subprocess.run([sys.executable, "-c", "import marshal, sys; "
                            "marshal.loads(open(sys.argv[1], 'rb').read())", str(crash)],
                           capture_output=True, timeout=60)
    if probe.returncode >= 0:
        pytest.skip("this Python's marshal survives the crafted file (rc %d)" % probe.returncode)
    _write(crash.parent, "GET.ok.2ms.1795300000.prof", GOOD)
    capture = load_capture([crash.parent], workers=1)       # in this process: screened
    assert [r.url_path for r in capture.requests] == ["/ok"]
    assert [os.path.basename(p.path) for p in capture.problems] == [crash.name]
    assert "crashed a Python interpreter" in capture.problems[0].message


def test_absurd_sidecar_numbers_are_bad_lines_and_the_report_writes(tmp_path, capsys):
    names = ["GET.a.1ms.%d.prof" % (1795300000 + i) for i in range(4)]
    for name in names:
        _write(tmp_path, name, GOOD)
    lines = [{"id": "r%d" % i, "profile": n, "method": "GET", "path": "/a", "status": 200,
              "start": 1795300000.0 + i, "elapsed_ms": 1.0} for i, n in enumerate(names)]
    lines[0]["start"] = 1e300
    lines[1]["elapsed_ms"] = float("nan")
    (tmp_path / "requests.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    (tmp_path / "queries.jsonl").write_text(
        json.dumps({"request": "r2", "statement": "SELECT 1", "duration_ms": 1e306}) + "\n"
        + '{"request": "r3", "statement": "SELECT 2", "duration_ms": ' + "9" * 4000 + "}\n"
        + json.dumps({"request": "r3", "statement": "SELECT 3", "duration_ms": 2.5}) + "\n")
    assert main(["report", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["requests"] == 4
    messages = " | ".join(p["message"] for p in result["problems"])
    assert "'start' is 1e+300" in messages and "'elapsed_ms' should be a number" in messages
    assert "'duration_ms' is 1e+306" in messages and "a value too long" not in messages
    assert main(["report", str(tmp_path), "--html", str(tmp_path.parent / "page.html")]) == 0


def test_an_importer_that_raises_loses_only_its_file(tmp_path, monkeypatch):
    from profview.importers import echo_log

    _write(tmp_path, "GET.ok.2ms.1795300000.prof", GOOD)
    (tmp_path / "app.log").write_text("2026-12-01 10:00:00,123 INFO sqlalchemy.engine.Engine "
                                      "SELECT 1\n")

    def broken(path):
        raise KeyError("an importer bug")

    monkeypatch.setattr(echo_log, "load", broken)
    capture = load_capture([tmp_path], workers=1)
    assert len(capture.requests) == 1
    assert any("could not be read: KeyError" in p.message for p in capture.problems)
