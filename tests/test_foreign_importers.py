"""Other profilers' files: speedscope JSON (py-spy), folded stacks (py-spy raw, Austin) and
pyinstrument's JSON (a saved session, the json renderer's tree), read by their importers into
exact stack trees and into the same requests, endpoints and report as pstats files.

``tests/data/foreign`` is the demo app profiled by py-spy and pyinstrument themselves
(``make_foreign.py`` there); the malformed and small inputs are written by the tests.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from profview.analysis import stacks as stack_analysis
from profview.importers import collapsed, profiles, pyinstrument_json, speedscope
from profview.importers.pstats_file import ProfileError
from profview.loading.scan import load_capture
from profview.report.build import build

FOREIGN = Path(__file__).resolve().parent / "data" / "foreign"


def _doc(name):
    return json.loads((FOREIGN / name).read_text())


def test_py_spy_speedscope_reads_every_thread_with_its_weights():
    doc = _doc("demo.speedscope.json")
    got = speedscope.load(FOREIGN / "demo.speedscope.json")
    assert [p.request for p in got] == [p["name"] for p in doc["profiles"]]
    for prof, raw in zip(got, doc["profiles"]):
        # samples with time and a stack (py-spy writes idle ones with none)
        weights = [w for w, s in zip(raw["weights"], raw["samples"]) if w > 0 and s]
        assert len(prof) == len(weights)
        assert prof.weights().sum() * 1000 == pytest.approx(sum(weights) * 1000)
        # every sample's stack is the file's stack, root first, frame for frame
        i = next(k for k, (w, s) in enumerate(zip(raw["weights"], raw["samples"])) if w and s)
        names = [doc["shared"]["frames"][f]["name"] for f in raw["samples"][i]]
        assert [f[2] for f, _line in prof.lines(int(prof.sample_stack[0]))] == names
        assert prof.timed and not prof.clock


def test_the_exact_tree_of_a_speedscope_file_is_its_samples():
    got = profiles.load_stacks(FOREIGN / "demo.speedscope.json")
    tree = stack_analysis.stack_tree(got).tree
    assert tree.total[0] == pytest.approx(sum(p.weights().sum() for p in got))
    table = profiles.read(FOREIGN / "demo.speedscope.json")
    assert table.total_tt == pytest.approx(tree.total[0])
    # the demo app's view is there, by py-spy's qualified name
    assert any(k[2] == "create_app.<locals>.roster" for k in table.stats)


def test_py_spy_folded_frames_and_the_estimate_it_must_state():
    prof, = collapsed.load(FOREIGN / "demo.folded")
    counts = sum(int(line.rsplit(" ", 1)[1]) for line in
                 (FOREIGN / "demo.folded").read_text().splitlines()
                 if line.strip() and not line.startswith(" "))
    assert prof.weights().sum() * 1000 == pytest.approx(counts * collapsed.DEFAULT_INTERVAL_MS)
    assert not prof.timed and not prof.clock
    assert any("estimated" in n for n in prof.notes)
    roster = [f for f in prof.frames if f[2] == "create_app.<locals>.roster"]
    assert roster and roster[0][0] == "demo_app.py" and roster[0][1] > 0


def test_folded_units_austin_and_profviews_own(tmp_path):
    mine = tmp_path / "a.folded"
    mine.write_text("# interval_ms: 2\nview;work 3\nview 1\n")
    prof, = collapsed.load(mine)
    assert prof.weights().sum() == pytest.approx(0.008) and prof.notes == ()
    austin = tmp_path / "b.collapsed"
    austin.write_text("# austin: 3.6.0\nP42;T7f00:1;/srv/app.py:view:10;/srv/app.py:work:20 1500\n")
    prof, = collapsed.load(austin)
    assert prof.frames == (("/srv/app.py", 10, "view"), ("/srv/app.py", 20, "work"))
    assert prof.weights().sum() == pytest.approx(0.0015)      # microseconds


def test_pyinstrument_sessions_are_requests_grouped_by_their_names():
    capture = load_capture([FOREIGN], workers=1)
    report = build(capture)
    names = {e["name"]: e for e in report["endpoints"]}
    assert {"GET /roster", "GET /my_class", "GET /health"} <= set(names)
    assert names["GET /roster"]["requests"] == 2
    assert all(e["flame"] == "exact" for e in report["endpoints"])
    for request in capture.requests:
        if request.file.suffix == ".pyisession":
            doc = _doc(request.file.name)
            sampled = sum(t for _s, t in doc["frame_records"])
            # the samples' own times, the last one until the session's end (as profview's
            # sampler does), and the session's duration as the request's
            assert sampled - 1e-9 <= request.total_tt <= max(sampled, doc["duration"]) + 1e-9
            assert request.elapsed_ms == pytest.approx(max(sampled, doc["duration"]) * 1000)
            assert request.sampled and request.stacks == request.file
    problems = [p for p in capture.problems if p.kind != "note"]
    assert problems == []


def test_a_session_keeps_its_clock_and_drops_the_thread_frame():
    path = next(FOREIGN.glob("GET.roster.*.pyisession"))
    prof, = pyinstrument_json.load(path)
    assert prof.clock and prof.timed and prof.start == _doc(path.name)["start_time"]
    assert all(f[0] != "<thread>" for f in prof.frames)
    lines = {f[2]: line for f, line in prof.lines(int(prof.sample_stack[-1]))}
    assert all(isinstance(v, int) for v in lines.values())


def test_the_json_renderers_tree_sums_to_its_root():
    doc = _doc("my_class.pyinstrument.json")
    prof, = pyinstrument_json.load(FOREIGN / "my_class.pyinstrument.json")
    assert prof.weights().sum() == pytest.approx(doc["root_frame"]["time"])
    assert not prof.timed


def test_an_evented_profile_is_cut_at_its_events(tmp_path):
    doc = {"$schema": speedscope.SCHEMA, "shared": {"frames": [{"name": "view"},
                                                               {"name": "query"}]},
           "profiles": [{"type": "evented", "name": "req", "unit": "milliseconds",
                         "startValue": 0, "endValue": 10,
                         "events": [{"type": "O", "frame": 0, "at": 0},
                                    {"type": "O", "frame": 1, "at": 2},
                                    {"type": "C", "frame": 1, "at": 7},
                                    {"type": "C", "frame": 0, "at": 10}]}]}
    path = tmp_path / "x.speedscope.json"
    path.write_text(json.dumps(doc))
    table = profiles.read(path).stats
    view, query = ("<unknown>", 0, "view"), ("<unknown>", 0, "query")
    assert table[view][2:4] == pytest.approx((0.005, 0.010))
    assert table[query][2:4] == pytest.approx((0.005, 0.005))


@pytest.mark.parametrize("name,text,message", [
    ("cut.speedscope.json", '{"$schema": "https://www.speedscope.app/file-format-schema.json", '
     '"shared": {"frames": [', "not JSON"),
    ("bytes.speedscope.json", json.dumps({"shared": {"frames": [{"name": "a"}]}, "profiles": [
        {"type": "sampled", "name": "m", "unit": "bytes", "samples": [[0]], "weights": [1]}]}),
     "not in time"),
    ("open.speedscope.json", json.dumps({"shared": {"frames": [{"name": "a"}]}, "profiles": [
        {"type": "evented", "name": "e", "unit": "seconds", "startValue": 0, "endValue": 1,
         "events": [{"type": "C", "frame": 0, "at": 0}]}]}), "not the innermost open"),
    ("index.speedscope.json", json.dumps({"shared": {"frames": [{"name": "a"}]}, "profiles": [
        {"type": "sampled", "name": "s", "unit": "seconds", "samples": [[5]],
         "weights": [1]}]}), "not a list of frame indexes"),
    ("bad.pyisession", json.dumps({"start_time": 1.7e9, "frame_records": [["x", 1]]}),
     "not [stack, seconds]"),
    ("bad.folded", "a;b 1\nthis is not folded\n", "line 2"),
    ("empty.folded", "", "no stack in the file"),
    ("empty.pyisession", "", "not JSON"),
])
def test_bad_input_is_named_and_the_rest_still_loads(tmp_path, name, text, message):
    shutil.copy(next(FOREIGN.glob("GET.my_class.*.pyisession")), tmp_path)
    (tmp_path / name).write_text(text)
    with pytest.raises(ProfileError, match=re.escape(message)):
        profiles.read(tmp_path / name)
    capture = load_capture([tmp_path], workers=1)
    assert len(capture.requests) == 1
    (problem,) = [p for p in capture.problems if p.kind != "note"]
    assert problem.path.endswith(name) and message.split()[0] in problem.message


def test_a_hostile_frame_name_stays_text(tmp_path):
    doc = {"shared": {"frames": [{"name": "<script>alert(1)</script>", "file": "$(rm -rf ~)",
                                  "line": 10 ** 30}]},
           "profiles": [{"type": "sampled", "name": "x", "unit": "seconds", "samples": [[0]],
                         "weights": [0.5]}]}
    path = tmp_path / "h.speedscope.json"
    path.write_text(json.dumps(doc))
    (key,) = profiles.read(path).stats
    assert key == ("$(rm -rf ~)", 0, "<script>alert(1)</script>")


def test_a_folded_file_cut_while_written_keeps_its_whole_lines(tmp_path):
    path = tmp_path / "cut.folded"
    path.write_bytes(b"# interval_ms: 1\na;b 3\na;c 2\na;b;d")      # the last line cut
    prof, = collapsed.load(path)
    assert prof.weights().sum() == pytest.approx(0.005)
    assert any("incomplete last line" in n for n in prof.notes)
