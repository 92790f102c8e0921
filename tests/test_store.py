"""The sums a capture keeps in memory give the same graphs as reading the profiles again:
per endpoint, for all requests, for time ranges that cut buckets, for one request, with
every request kept and with only a sample kept.  On a real app's profiles."""
from __future__ import annotations

import marshal
import shutil
from pathlib import Path

import numpy as np
import pytest

from profview.analysis.endpoints import group
from profview.importers import pstats_arrays as pa
from profview.importers import pstats_file
from profview.loading import scan
from profview.loading.merge import load_graph
from profview.loading.reread import Reader, request_graph
from profview.loading.scan import extend_capture, load_capture
from profview.loading.scopes import plan, scope_graph

SMOREST = Path(__file__).parent / "data" / "smorest"
MICROBLOG = Path(__file__).parent / "data" / "microblog"


def assert_same_graph(a, b) -> None:
    assert a.requests == b.requests
    assert set(a.functions) == set(b.functions)
    assert set(a.edges) == set(b.edges)
    for mine, theirs in ((a.functions, b.functions), (a.edges, b.edges)):
        keys = list(mine)
        x = np.array([mine[k] for k in keys], float).reshape(-1, 4)
        y = np.array([theirs[k] for k in keys], float).reshape(-1, 4)
        assert (x[:, :2] == y[:, :2]).all()           # call counts: exact
        assert np.allclose(x[:, 2:], y[:, 2:], rtol=1e-6, atol=1e-9)


def scopes_of(capture) -> list:
    reqs = capture.requests
    out = [ep.requests for ep in group(capture)]
    out += [reqs, reqs[:7], reqs[3:-2], reqs[5:6], reqs[::3]]
    return out


@pytest.mark.parametrize("folder", [SMOREST, MICROBLOG], ids=["smorest", "microblog"])
def test_every_scope_from_memory_equals_reading_its_files(folder):
    capture = load_capture([folder], workers=1)
    assert len(capture.store.kept) == len(capture.requests)     # small: every one kept
    for requests in scopes_of(capture):
        graph, problems = scope_graph(capture, requests)
        disk, _ = load_graph(requests, workers=1)
        assert problems == []
        assert_same_graph(graph, disk)


def test_with_a_sample_kept_a_cut_bucket_is_read_or_subtracted(monkeypatch):
    monkeypatch.setattr(scan, "KEEP_REQUESTS", 6)
    capture = load_capture([SMOREST], workers=1)
    kept = len(capture.store.kept)
    assert 0 < kept < len(capture.requests)
    members: dict = {}
    for r in capture.requests:
        members.setdefault(r.bucket, []).append(r)
    bucket, biggest = max(members.items(), key=lambda kv: len(kv[1]))
    assert len(biggest) >= 3
    most = biggest[1:]               # most of one bucket: its sum less one file
    whole, add, minus = plan(capture, most)
    assert (whole, add, minus) == ([bucket], [], [biggest[0].file])
    for requests in scopes_of(capture) + [most]:
        graph, _ = scope_graph(capture, requests)
        assert_same_graph(graph, load_graph(requests, workers=1)[0])


def test_a_scope_asked_again_is_the_same_object():
    capture = load_capture([SMOREST], workers=1)
    first = scope_graph(capture, capture.requests[2:9])
    assert scope_graph(capture, capture.requests[2:9]) is first


def test_a_kept_request_reads_as_its_file():
    capture = load_capture([SMOREST], workers=1)
    read = Reader(capture)
    for r in capture.requests[:5]:
        assert read.kept(r)
        assert_same_graph(read(r), request_graph(r))


def test_a_live_capture_grows_its_sums(tmp_path):
    files = sorted(SMOREST.glob("*.prof"))
    for f in files[:10]:
        shutil.copy(f, tmp_path / f.name)
    first = load_capture([tmp_path], workers=1)
    for f in files[10:]:
        shutil.copy(f, tmp_path / f.name)
    grown, retry = extend_capture(first, [tmp_path])
    fresh = load_capture([tmp_path], workers=1)
    assert retry == [] and len(grown.requests) == len(fresh.requests) == len(files)
    assert_same_graph(scope_graph(grown, grown.requests)[0],
                      scope_graph(fresh, fresh.requests)[0])
    assert len(grown.store.kept) == len(files)


def _arrays_as_dict(arrays, interner) -> dict:
    return {interner.keys[i]: tuple(row) for i, row in zip(arrays.ids.tolist(),
                                                           arrays.vals.tolist())}


def test_the_column_reader_agrees_with_the_validator_on_real_profiles():
    for path in sorted(SMOREST.glob("*.prof"))[:8] + sorted(MICROBLOG.glob("*.prof"))[:8]:
        stats = marshal.loads(path.read_bytes())
        fast_in = pa.Interner()
        fast = pa.from_dict(stats, fast_in)
        assert fast is not None
        checked = pstats_file.parse(path.read_bytes())
        slow_in = pa.Interner()
        slow = pa.from_validated(checked.stats, slow_in)
        assert _arrays_as_dict(fast, fast_in) == _arrays_as_dict(slow, slow_in)
        assert fast.total_tt == pytest.approx(checked.total_tt)
        assert len(fast.callers) == len(slow.callers)


GOOD = {("a.py", 1, "f"): (1, 1, 0.5, 1.0, {}),
        ("a.py", 9, "g"): (2, 2, 0.5, 0.5, {("a.py", 1, "f"): (2, 2, 0.5, 0.5)})}


@pytest.mark.parametrize("change, why", [
    (lambda s: s[("a.py", 9, "g")][4].__setitem__(("a.py", 1, "f"), 2), "profile's bare count"),
    (lambda s: s.__setitem__(("a.py", 1, "f"), (1.5, 1, 0.5, 1.0, {})), "float call count"),
    (lambda s: s.__setitem__(("a.py", 1, "f"), (1, 1, "0.5", 1.0, {})), "a string time"),
    (lambda s: s.__setitem__(("a.py", 1, "f"), (1, 1, float("nan"), 1.0, {})), "NaN"),
    (lambda s: s.__setitem__(("a.py", 1, "f"), (1, 1, 0.5, 1.0, [])), "callers not a dict"),
    (lambda s: s[("a.py", 9, "g")][4].__setitem__(("b.py", 2, "h"), (1, 1, 0.0, 0.0)),
     "a caller that is not in the profile"),
    (lambda s: s.__setitem__(("a.py", 1, "f"), (10 ** 20, 1, 0.5, 1.0, {})), "a huge count"),
])
def test_anything_unusual_goes_to_the_validator(change, why):
    stats = {k: (v[0], v[1], v[2], v[3], dict(v[4])) for k, v in GOOD.items()}
    change(stats)
    assert pa.from_dict(stats, pa.Interner()) is None, why


def test_a_bad_key_is_named_and_built_ins_by_address_are_added_up(tmp_path):
    with pytest.raises(pa.BadKey):
        pa.from_dict({("a.py", "1", "f"): (1, 1, 0.0, 0.0, {})}, pa.Interner())
    lock = "<method '__enter__' of '_thread.lock' objects at 0x%x>"
    stats = {("a.py", 1, "f"): (1, 1, 0.1, 1.0, {}),
             ("~", 0, lock % 0x7f01): (1, 1, 0.2, 0.2, {("a.py", 1, "f"): (1, 1, 0.2, 0.2)}),
             ("~", 0, lock % 0x7f02): (3, 3, 0.3, 0.3, {("a.py", 1, "f"): (3, 3, 0.3, 0.3)})}
    interner = pa.Interner()
    arrays = pa.from_dict(stats, interner)
    plain = ("~", 0, "<method '__enter__' of '_thread.lock' objects>")
    got = _arrays_as_dict(arrays, interner)
    assert got[plain] == pytest.approx((4, 4, 0.5, 0.5))
    assert len(arrays.callers) == 1 and arrays.evals[0].tolist() == pytest.approx([4, 4, .5, .5])
    # and the file reads the same through the loader
    path = tmp_path / "GET.x.1ms.1796176556.prof"
    path.write_bytes(marshal.dumps(stats))
    capture = load_capture([tmp_path], workers=1)
    graph = scope_graph(capture, capture.requests)[0]
    assert graph.functions[plain].ncalls == 4
    assert np.isclose(graph.edges[(("a.py", 1, "f"), plain)].tottime, 0.5)


def _edges_as_dict(arrays, interner) -> dict:
    keys = interner.keys
    return {(keys[a], keys[b]): tuple(row) for a, b, row in
            zip(arrays.callers.tolist(), arrays.callees.tolist(), arrays.evals.tolist())}


def test_profiles_of_one_shape_share_their_numbering_and_keep_their_own_numbers():
    """The interner's shape cache: a second profile with the same functions and edges is
    numbered from the cache, and reads exactly as it does through a fresh interner."""
    paths = sorted(MICROBLOG.glob("*.prof"))
    interner = pa.Interner()
    hits = 0
    for path in paths:
        stats = marshal.loads(path.read_bytes())
        before = len(interner.shapes)
        arrays = pa.from_dict(stats, interner)
        hits += len(interner.shapes) == before
        fresh_in = pa.Interner()
        fresh = pa.from_dict(stats, fresh_in)
        assert _arrays_as_dict(arrays, interner) == _arrays_as_dict(fresh, fresh_in)
        assert _edges_as_dict(arrays, interner) == _edges_as_dict(fresh, fresh_in)
    assert hits > 0, "the real capture repeats shapes: some profiles must hit the cache"
    assert len(interner.shapes) < len(paths)


def test_a_changed_edge_or_function_is_another_shape():
    interner = pa.Interner()
    base = {k: (v[0], v[1], v[2], v[3], dict(v[4])) for k, v in GOOD.items()}
    pa.from_dict(base, interner)
    same_numbers_other_edge = {
        ("a.py", 1, "f"): (1, 1, 0.5, 1.0, {("a.py", 9, "g"): (1, 1, 0.5, 0.5)}),
        ("a.py", 9, "g"): (2, 2, 0.5, 0.5, {})}
    arrays = pa.from_dict(same_numbers_other_edge, interner)
    assert len(interner.shapes) == 2
    edges = _edges_as_dict(arrays, interner)
    assert list(edges) == [(("a.py", 9, "g"), ("a.py", 1, "f"))]
    renamed = {("a.py", 2, "f"): base[("a.py", 1, "f")], ("a.py", 9, "g"): (
        2, 2, 0.5, 0.5, {("a.py", 2, "f"): (2, 2, 0.5, 0.5)})}
    arrays = pa.from_dict(renamed, interner)
    assert len(interner.shapes) == 3 and ("a.py", 2, "f") in _arrays_as_dict(arrays, interner)


def test_chunks_numbered_by_one_interner_build_the_same_store_as_one_chunk():
    """A worker keeps its interner across chunks and sends only new keys (``News``); the
    Builder must map them as if every chunk had sent all its keys."""
    from profview.importers.discover import discover
    from profview.model.store import Builder

    found = discover([SMOREST])[0]
    whole = scan.scan_chunk(found, "view", 10 ** 9, 1.0, pa.Interner())
    interner, parts = pa.Interner(), []
    for start in range(0, len(found), 7):
        parts.append(scan.scan_chunk(found[start:start + 7], "view", 10 ** 9, 1.0, interner))
    assert parts[1][2][0].start > 0     # later chunks send only the keys that are new
    one, many = Builder(), Builder()
    one.add(*whole[2])
    for part in parts:
        many.add(*part[2])
    a, b = one.finish(), many.finish()
    assert set(a.buckets) == set(b.buckets)
    for bucket in a.buckets:
        fa, fb = a.functions(bucket), b.functions(bucket)
        assert set(fa) == set(fb)
        for key in fa:   # sums in another order: the last digits may differ
            assert fa[key][:2] == fb[key][:2]
            assert fa[key][2:] == pytest.approx(fb[key][2:], rel=1e-9)
    with pytest.raises(ValueError):     # a chunk out of its interner's order is refused
        Builder().add(*parts[1][2])
