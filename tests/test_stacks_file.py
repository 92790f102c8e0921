"""The stacks file importer: a valid file round-trips, a cut one loads with a note, and every
kind of damage is a StacksError naming its line (never a crash, never a half-read profile)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from profview.importers import stacks_file
from profview.importers.stacks_file import StacksError

START = 1_700_000_000.25


def key(name):
    """A frame given by name ("view") or as a whole FuncKey."""
    return name if isinstance(name, tuple) else ("app.py", 1, name)


def stacks_lines(samples, end=None, start=START, interval=1.0, missed=0, lines=None):
    """The lines of a stacks file of *samples*: ``[(t_ms, [frames root first])]``, frames
    as names or FuncKeys; *lines* gives a frame's line (default 10) by its name."""
    # laid out as the capture writes it: frames, then stacks, then samples
    head = [{"stacks": 1, "request": "r1", "pid": 123, "thread": 456,
             "interval_ms": interval, "start": start}]
    fids, sids = {}, {}
    frames, stacks, body = [], [], []
    for t, path in samples:
        sid = None
        for name in path:
            func = key(name)
            if func not in fids:
                fids[func] = len(fids)
                frames.append({"frame": [fids[func], *func]})
            line = (lines or {}).get(func[2], 10)
            node = (sid, func, line)
            if node not in sids:
                sids[node] = len(sids)
                stacks.append({"stack": [sids[node], sid, fids[func], line]})
            sid = sids[node]
        body.append({"sample": [t, sid]})
    out = head + frames + stacks + body
    if end is not None:
        out.append({"end": end, "samples": len(samples), "missed": missed})
    return [json.dumps(r, separators=(",", ":")) for r in out]


def write(tmp_path, lines, name="GET.root.4ms.1700000000.ab12.stacks"):
    path = tmp_path / name
    text = lines if isinstance(lines, (bytes, str)) else "\n".join(lines) + "\n"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


SAMPLES = [(0.0, ["A", "B"]), (1.0, ["A", "B"]), (2.0, ["A", "B"]), (3.0, ["A", "C"])]


def test_load_round_trips(tmp_path):
    prof = stacks_file.load(write(tmp_path, stacks_lines(SAMPLES, end=4.0, missed=2)))
    assert (prof.request, prof.pid, prof.thread, prof.interval_ms) == ("r1", 123, 456, 1.0)
    assert prof.start == START and prof.end_ms == 4.0 and prof.missed == 2
    assert prof.frames == (("app.py", 1, "A"), ("app.py", 1, "B"), ("app.py", 1, "C"))
    assert prof.stack_parent.tolist() == [-1, 0, 0]
    assert prof.stack_frame.tolist() == [0, 1, 2]
    assert prof.stack_line.tolist() == [10, 10, 10]
    assert prof.sample_t.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert prof.sample_stack.tolist() == [1, 1, 1, 2]
    assert prof.path(2) == (("app.py", 1, "A"), ("app.py", 1, "C"))
    assert prof.notes == ()
    assert prof.weights().tolist() == pytest.approx([0.001] * 4)
    assert prof.weights().sum() == pytest.approx(0.004)
    assert prof.sample_t.flags.writeable is False      # immutable, shared by views


def test_weights_without_an_end_line_count_one_interval(tmp_path):
    prof = stacks_file.load(write(tmp_path, stacks_lines(SAMPLES, interval=2.5)))
    assert prof.end_ms is None
    assert prof.weights().tolist() == pytest.approx([0.001, 0.001, 0.001, 0.0025])
    assert any("no end line" in n for n in prof.notes)


def test_names_and_sniffing():
    assert stacks_file.stacks_name("GET.root.4ms.1700000000.ab12.prof") == \
        "GET.root.4ms.1700000000.ab12.stacks"
    assert stacks_file.sniff("x.stacks")
    assert stacks_file.sniff(b'{"stacks": 1, "request": "r"}\n')
    assert stacks_file.sniff("x.log", b'{"stacks":1}')
    assert not stacks_file.sniff(b'{"statement": "SELECT 1"}')
    assert not stacks_file.sniff("x.prof", b"\xfb")


def test_a_cut_last_line_is_passed_over_with_a_note(tmp_path):
    lines = stacks_lines(SAMPLES, end=4.0)
    cut = "\n".join(lines[:-2]) + "\n" + lines[-2][:7]     # mid-way through the last sample
    prof = stacks_file.load(write(tmp_path, cut))
    assert len(prof) == 3 and prof.end_ms is None
    assert any("line %d" % (len(lines) - 1) in n and "incomplete" in n for n in prof.notes)


def test_a_last_line_cut_inside_a_utf8_character_is_passed_over(tmp_path):
    lines = stacks_lines([(0.0, ["vue_é"])], end=1.0)
    data = ("\n".join(lines[:2]) + "\n").encode() + '{"stack":[0,null,0,"é'.encode()[:-1]
    prof = stacks_file.load(write(tmp_path, data))
    assert len(prof) == 0 and prof.frames == (("app.py", 1, "vue_é"),)
    assert prof.notes


def test_names_are_kept_as_text(tmp_path):
    odd = ("<string>", 0, "__import__('os').system('x'); <lambda>")
    prof = stacks_file.load(write(tmp_path, stacks_lines([(0.0, [odd])], end=1.0)))
    assert prof.frames == (odd,)


def _error(tmp_path, lines) -> str:
    with pytest.raises(StacksError) as info:
        stacks_file.load(write(tmp_path, lines))
    return str(info.value)


def test_bad_lines_name_their_line(tmp_path):
    good = stacks_lines(SAMPLES, end=4.0)
    # 0 header, 1-3 frames A B C, 4-6 stacks A A;B A;C, 7-10 samples, 11 end
    cases = {
        "forward stack": (7, '{"sample":[0.0,7]}', "not defined before it"),
        "forward parent": (5, '{"stack":[1,3,1,10]}', "parent 3"),
        "negative parent": (5, '{"stack":[1,-1,1,10]}', "parent -1"),
        "unknown frame": (5, '{"stack":[1,0,9,10]}', "frame 9"),
        "frame out of order": (2, '{"frame":[5,"app.py",1,"B"]}', "out of order"),
        "time goes back": (9, '{"sample":[0.5,1]}', "goes back"),
        "negative time": (7, '{"sample":[-1.0,1]}', "sample time"),
        "not an object": (7, "[1, 2]", "not a JSON object"),
        "foreign record": (7, '{"statement":"SELECT 1"}', "unknown record"),
        "not JSON": (7, "{nope", "not JSON"),
        "wrong type": (2, '{"frame":[1,"app.py","1","B"]}', "a frame is not"),
        "bool id": (7, '{"sample":[1.0,true]}', "not defined"),
        "huge float": (7, '{"sample":[1e400,1]}', "sample time"),
        "huge digits": (7, '{"sample":[%s,1]}' % ("9" * 5000), "sample time"),
        "huge int": (2, '{"frame":[1,"app.py",%s,"B"]}' % ("9" * 5000), "too long"),
        "huge line": (2, '{"frame":[1,"app.py",%d,"B"]}' % 10 ** 12, "a frame is not"),
        "NaN": (7, '{"sample":[NaN,1]}', "sample time"),
        "end before sample": (11, '{"end":2.0,"samples":4,"missed":0}', "before the last"),
        "wrong count": (11, '{"end":4.0,"samples":9,"missed":0}', "counts 9"),
        "long line": (7, '{"sample":[0.0,1],"x":"%s"}' % ("y" * 70000), "longer than"),
    }
    for name, (index, replacement, expected) in cases.items():
        lines = good[:]
        lines[index] = replacement
        message = _error(tmp_path, lines)
        assert message.startswith("line %d:" % (index + 1)), (name, message)
        assert expected in message, (name, message)


def test_lines_after_the_end_are_refused(tmp_path):
    lines = stacks_lines(SAMPLES, end=4.0) + ['{"sample":[5.0,1]}']
    assert _error(tmp_path, lines).startswith("line 13: more lines after the end")


def test_invalid_utf8_is_refused(tmp_path):
    lines = [s.encode() for s in stacks_lines(SAMPLES, end=4.0)]
    lines[1] = b'{"frame":[0,"app\xff.py",1,"A"]}'
    message = _error(tmp_path, b"\n".join(lines) + b"\n")
    assert message == "line 2: not UTF-8 text"


def test_missing_or_foreign_header(tmp_path):
    lines = stacks_lines(SAMPLES, end=4.0)
    assert "not a stacks file" in _error(tmp_path, lines[1:])
    assert "not a stacks file" in _error(tmp_path, ['{"statement":"SELECT 1"}'] + lines[1:])
    assert "version 2" in _error(tmp_path, [lines[0].replace('"stacks":1', '"stacks":2')]
                                 + lines[1:])
    assert "start" in _error(tmp_path, [lines[0].replace(str(START), '"soon"')] + lines[1:])
    assert "pid" in _error(tmp_path, [lines[0].replace("123", "-1")] + lines[1:])
    assert _error(tmp_path, b"") == "empty file"
    assert "no header" in _error(tmp_path, lines[0][:10])     # the header itself cut


def test_too_deep_and_over_the_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(stacks_file, "MAX_DEPTH", 3)
    deep = stacks_lines([(0.0, ["A", "B", "C", "D"])], end=1.0)
    assert "deeper than 3" in _error(tmp_path, deep)
    path = write(tmp_path, stacks_lines(SAMPLES, end=4.0))
    with pytest.raises(StacksError, match="limit"):
        stacks_file.load(path, max_bytes=100)


def test_equal_sample_times_weigh_nothing(tmp_path):
    # the writer rounds to 1 µs and keeps samples whose times do not go back
    prof = stacks_file.load(write(tmp_path, stacks_lines(
        [(0.0, ["A"]), (0.0, ["A", "B"]), (1.0, ["A"])], end=2.0)))
    assert prof.weights().tolist() == pytest.approx([0.0, 0.001, 0.001])
    assert np.all(np.diff(prof.sample_t) >= 0)
