"""Loading whole directories: junk is reported, everything else loads, nothing is written."""
from __future__ import annotations

import marshal
import os

from profiles import profile_call
from profview.loading.scan import load_capture


def _snapshot(root):
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(root.rglob("*"))
            if p.is_file()}


def _work():
    return sorted(str(i) for i in range(3000))


def test_directory_with_junk_loads_the_rest(tmp_path):
    good = [
        "GET.user.alice.23ms.1795313503.prof",
        "nested/deeper/POST.login.40ms.1795313504.prof",
        ".hidden.prof",                        # dot-files load like any other
        "GET.café au lait.7ms.1795313505.prof",  # non-ASCII and spaces
        "run.pstats",                          # not a Werkzeug name: time from mtime
    ]
    for name in good:
        profile_call(tmp_path / name, _work)
    (tmp_path / "GET.truncated.3ms.1795313506.prof").write_bytes(
        (tmp_path / good[0]).read_bytes()[:100])
    (tmp_path / "GET.empty.3ms.1795313507.prof").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a profile, not looked at")
    before = _snapshot(tmp_path)

    capture = load_capture([tmp_path], workers=1)

    assert sorted(r.name for r in capture.requests) == sorted(good)
    assert sorted(os.path.basename(p.path) for p in capture.problems) == [
        "GET.empty.3ms.1795313507.prof", "GET.truncated.3ms.1795313506.prof"]
    assert all(p.message for p in capture.problems)
    assert _snapshot(tmp_path) == before  # profview never writes into what it reads
    by_name = {r.name: r for r in capture.requests}
    alice = by_name[good[0]]
    assert (alice.method, alice.url_path, alice.elapsed_ms) == ("GET", "/user/alice", 23.0)
    assert by_name[good[3]].url_path == "/café au lait"
    plain = by_name["run.pstats"]
    assert plain.method is None and not plain.named
    assert plain.elapsed_ms == plain.total_tt * 1000 > 0
    assert abs(plain.time - (tmp_path / "run.pstats").stat().st_mtime) < 1


def test_parallel_and_serial_loads_agree(tmp_path):
    for i in range(40):
        profile_call(tmp_path / ("GET.item.%d.%dms.%d.prof" % (i, i, 1795313500 + i)), _work)
    (tmp_path / "GET.bad.1ms.1795313400.prof").write_bytes(marshal.dumps([1]))
    serial = load_capture([tmp_path], workers=1)
    import profview.loading.scan as scan
    old = scan.PARALLEL_FROM
    scan.PARALLEL_FROM = 1
    try:
        parallel = load_capture([tmp_path], workers=2)
    finally:
        scan.PARALLEL_FROM = old
    assert [r.name for r in serial.requests] == [r.name for r in parallel.requests]
    assert [p.message for p in serial.problems] == [p.message for p in parallel.problems]
    assert set(serial.buckets) == set(parallel.buckets)
    for bucket, funcs in serial.buckets.items():
        other = parallel.buckets[bucket]
        assert set(funcs) == set(other)
        for key, s in funcs.items():
            assert s.ncalls == other[key].ncalls
            assert abs(s.tottime - other[key].tottime) < 1e-9


def test_files_and_missing_paths_given_explicitly(tmp_path):
    one = profile_call(tmp_path / "a" / "GET.x.1ms.1795313503.prof", _work)
    capture = load_capture([one, one, tmp_path / "missing"], workers=1)
    assert [r.name for r in capture.requests] == ["GET.x.1ms.1795313503.prof"]
    assert [p.message for p in capture.problems] == ["no such file or directory"]
