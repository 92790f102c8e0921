"""Timeline points, rolling percentiles, outliers and endpoint statistics, without Qt."""
from __future__ import annotations

import json
import statistics

import numpy as np
import pytest

from profview.analysis import summary, timeline
from profview.analysis.endpoints import group
from profview.loading import names
from profview.loading.scan import load_capture


def test_spread_seconds_keeps_points_inside_their_second():
    x = timeline.spread_seconds(np.array([10.0, 10.0, 10.0, 11.0, 10.0]))
    assert sorted(x[[0, 1, 2, 4]]) == pytest.approx([9.625, 9.875, 10.125, 10.375])
    assert x[3] == 11.0
    assert len(set(x.tolist())) == 5


def test_name_points_before_parsing(plain, before):
    pts = names.name_points([plain])
    assert len(pts) == 12 and not pts.exact_time
    assert set(pts.groups) == {"GET /roster", "GET /attendance/<...>", "GET /my_class",
                               "GET /student/<...>", "GET /health"}
    assert len(set(pts.x.tolist())) == 12               # spread: no two points on one spot
    full = names.name_points([before])
    assert full.exact_time and len(full) == 29
    rows = {r["profile"]: r for r in map(json.loads,
                                         (before / "requests.jsonl").read_text().splitlines())}
    assert full.requests == () and full.request(0) is None   # a preview: names only
    for name, x, y in zip(full.names, full.x, full.y):
        assert (x, y) == (rows[name]["start"], rows[name]["elapsed_ms"])
    assert "GET /attendance/<int:student_id>" in full.groups   # the URL rule names the series


def test_capture_points_rolling_outliers_and_stats(before):
    capture = load_capture([before], workers=1)
    endpoints = group(capture)
    pts = timeline.capture_points(capture, endpoints)
    assert len(pts) == 29 and pts.exact_time
    assert pts.groups == tuple(e.name for e in endpoints)
    roster = pts.groups.index("GET /roster")
    assert np.nansum(pts.queries[pts.group == roster]) > 400
    xs, p50s = timeline.rolling(pts, roster, 50, window=3)
    ys = pts.y[pts.group == roster][np.argsort(pts.x[pts.group == roster])]
    assert list(xs) == sorted(xs)
    assert p50s[2] == sorted(ys[:3])[1]
    out = timeline.outliers(pts)
    assert not out.any()   # 5 or fewer requests per endpoint: none beyond its own p95
    forced = timeline.outliers(pts, threshold_ms=50)
    assert set(np.nonzero(forced)[0]) == set(np.nonzero(pts.y > 50)[0]) != set()
    order = timeline.slowest(pts, 3)
    assert list(pts.y[order]) == sorted(pts.y, reverse=True)[:3]
    middle = float(np.median(pts.x))
    span = pts.in_range(pts.x.min(), middle)
    assert set(span) == set(np.nonzero(pts.x <= middle)[0]) and 0 < len(span) < 29
    assert set(pts.in_range(pts.x.min(), middle, groups=[roster])) == set(
        i for i in span if pts.group[i] == roster)
    total = sum(e.total_ms for e in endpoints)
    (ep, stats), *_rest = summary.endpoint_summaries(endpoints, capture.has_queries)
    assert ep is endpoints[0]
    elapsed = [r.elapsed_ms for r in endpoints[0].requests]
    assert stats.p50_ms == statistics.median(elapsed) and stats.count == 5
    assert stats.p99_ms == max(elapsed) and stats.queries > 100
    assert stats.share == pytest.approx(sum(elapsed) / total)
    # the report's row is the same summary
    row = summary.endpoint_rows(capture, endpoints)[0]
    assert (row["p50_ms"], row["p95_ms"], row["queries_per_request"]) == (
        stats.p50_ms, stats.p95_ms, stats.queries)
    edges, counts = timeline.log_histogram(elapsed, bins=4)
    assert counts.sum() == 5 and edges[0] == pytest.approx(min(elapsed))


def test_outliers_beyond_own_p95():
    pts = timeline.Points(np.arange(40.0), np.array([10.0] * 19 + [100.0] + [1.0] * 20),
                          np.array([0] * 20 + [1] * 20, np.int32), ("a", "b"), tuple(range(40)),
                          True)
    assert list(np.nonzero(timeline.outliers(pts))[0]) == [19]
