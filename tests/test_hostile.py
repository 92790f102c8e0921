"""Hostile input: any bytes give a profile or a problem; a crashing file spares the rest.

The fuzz tests run a bounded number of examples here (PROFVIEW_FUZZ_EXAMPLES, default 150);
``PROFVIEW_FUZZ_EXAMPLES=20000 python -m pytest tests/test_hostile.py`` runs a long campaign.
"""
from __future__ import annotations

import marshal
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marshal_oracle import ORACLE
from profiles import profile_call
from profview.loading import scan
from profview.loading.scan import load_capture
from profview.importers import (echo_log, flask_sqlalchemy_log, profiles, pstats_file,
                                query_jsonl, sidecar)

EXAMPLES = int(os.environ.get("PROFVIEW_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

_GOOD = marshal.dumps({("app.py", 1, "view"): (1, 1, 0.5, 1.0, {}),
                       ("~", 0, "<built-in method time.sleep>"): (
                           1, 1, 0.5, 0.5, {("app.py", 1, "view"): (1, 1, 0.5, 0.5)})})

# Python values marshal can write, nested: the shapes a foreign or crafted file can have.
_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                  st.binary(max_size=20), st.complex_numbers())
_values = st.recursive(_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.tuples(inner, inner), st.tuples(inner, inner, inner),
    st.dictionaries(st.one_of(st.text(max_size=5), st.integers(),
                              st.tuples(st.text(max_size=5), st.integers(),
                                        st.text(max_size=5))), inner, max_size=5),
    st.frozensets(st.integers(), max_size=4)), max_leaves=30)


def _check_pstats(data: bytes) -> None:
    if not ORACLE.survives(data):   # marshal itself would kill this process: the product
        return                      # reports such a file (analysis/preflight), never reads it
    try:
        result = pstats_file.parse(data)
    except pstats_file.ProfileError as exc:
        assert str(exc)
    else:
        assert result.stats and isinstance(result.total_tt, float)


@FUZZ
@given(st.binary(max_size=2048))
def test_pstats_any_bytes(data):
    _check_pstats(data)


@FUZZ
@given(_values)
def test_pstats_any_marshal_value(value):
    _check_pstats(marshal.dumps(value))


@FUZZ
@given(st.binary(max_size=len(_GOOD)), st.integers(0, len(_GOOD)))
def test_pstats_mutated_real_profile(patch, at):
    _check_pstats(_GOOD[:at] + patch + _GOOD[at + len(patch):])


@FUZZ
@given(st.binary(max_size=4096))
def test_line_importers_any_bytes(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    for name, load in (("requests.jsonl", sidecar.load_requests),
                       ("queries.jsonl", sidecar.load_queries),
                       ("echo.log", lambda p: echo_log.load(p)[:2]),
                       ("dump.log", flask_sqlalchemy_log.load),
                       ("own.jsonl", query_jsonl.load)):
        path = folder / name
        path.write_bytes(data)
        records, problems = load(path)
        assert all(p.message for p in problems)
        assert len(problems) <= 51


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(
    ["x.speedscope.json", "x.pyisession", "x.folded", "x.stacks", "x.json"]))
def test_stack_importers_any_bytes(tmp_path_factory, data, name):
    """Any bytes under any stack format's name: a ProfileError with a message, or a table."""
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    try:
        table = profiles.read(path)
    except pstats_file.ProfileError as exc:
        assert str(exc)
    else:
        assert table.total_tt >= 0


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(
                        ["shared", "frames", "profiles", "type", "unit", "samples", "weights",
                         "events", "name", "at", "frame", "start_time", "frame_records",
                         "root_frame", "time", "children", "function"]), inner, max_size=5),
                    max_leaves=30))
def test_stack_importers_any_json_shape(tmp_path_factory, value):
    folder = tmp_path_factory.mktemp("fuzz")
    for name in ("x.speedscope.json", "x.pyisession"):
        path = folder / name
        path.write_text(json.dumps(value))
        try:
            profiles.read(path)
        except pstats_file.ProfileError as exc:
            assert str(exc)


def test_line_importers_huge_single_line(tmp_path):
    path = tmp_path / "echo.log"
    path.write_bytes(b"2026-11-22 03:00:00,001 INFO sqlalchemy.engine.Engine " + b"x" * 5_000_000)
    queries, problems, _ = echo_log.load(path)
    assert queries == [] and "characters" in problems[0].message


def _crash_on_poison(chunk, grouping, max_bytes, fraction=1.0):
    """A scan_chunk whose process dies on one file, as if marshal had crashed on it."""
    if any(item.path.name.startswith("POISON") for item in chunk):
        os._exit(77)
    return _real_scan_chunk(chunk, grouping, max_bytes, fraction)


_real_scan_chunk = scan.scan_chunk


def _work():
    return sorted(str(i) for i in range(500))


def test_a_file_that_crashes_the_parser_is_reported_and_the_rest_loads(tmp_path, monkeypatch):
    for i in range(6):
        profile_call(tmp_path / ("GET.item.%d.1ms.%d.prof" % (i, 1795300000 + i)), _work)
    profile_call(tmp_path / "POISON.prof", _work)
    monkeypatch.setattr(scan, "scan_chunk", _crash_on_poison)
    capture = load_capture([tmp_path], workers=2, isolate=True, mp_context="fork")
    assert len(capture.requests) == 6
    (problem,) = capture.problems
    assert problem.path.endswith("POISON.prof") and "crashed the parser" in problem.message


def test_size_limit_is_configurable(tmp_path, capsys):
    from profview.cli import main

    path = profile_call(tmp_path / "GET.x.1ms.1795300000.prof", _work)
    assert main(["report", str(path), "--max-size", "0.0001"]) == 2
    assert "over the" in capsys.readouterr().out
    assert main(["report", str(path)]) == 0


def test_crafted_container_lengths_fail_without_memory(tmp_path):
    import resource

    # Without the address-space cap, the tuple alone made marshal take 16 GB (and 29 s).
    for data in (b"{(\xff\xff\xff\x7f", b"{[\xff\xff\xff\x7f", b"{<\xff\xff\xff\x7f"):
        with pytest.raises(pstats_file.ProfileError):
            pstats_file.parse(data)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 4 * 1024 * 1024  # < 4 GB


@pytest.mark.parametrize("data", [b"\x80\x04\x95" + b"\x00" * 20, marshal.dumps(
    {("a", 1, "f"): (1, 1, 0.1, 0.1, {})})[:-1]])
def test_never_unpickles_never_crashes(data):
    with pytest.raises(pstats_file.ProfileError):
        pstats_file.parse(data)
