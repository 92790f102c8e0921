"""Views of sampled stacks: exact flame trees (stated as folded text), a request's time
order, where it waited, and which stack ran each SQL statement."""
from __future__ import annotations

import numpy as np
import pytest

from profview.analysis import calltree
from profview.analysis import stacks as sa
from profview.importers import stacks_file
from profview.importers.folded import dump
from profview.model.query import Query
from profview.model.stacks import StackProfile

from test_stacks_file import START, stacks_lines, write

SAMPLES = [(0.0, ["A", "B"]), (1.0, ["A", "B"]), (2.0, ["A", "B"]), (3.0, ["A", "C"])]
SOCKET = ("/usr/lib/python3.11/socket.py", 691, "readinto")
WAIT = ("/usr/lib/python3.11/threading.py", 288, "wait")


def load(tmp_path, samples, end=None, name="x.stacks", **kw):
    return stacks_file.load(write(tmp_path, stacks_lines(samples, end=end, **kw), name))


def profile(stacks, samples, end_ms):
    """A StackProfile from ``[(parent, name, line)]`` and ``[(t_ms, sid)]``."""
    names = list(dict.fromkeys(n for _, n, _ in stacks))
    return StackProfile("r", 1, 2, 1.0, START, end_ms, tuple(("app.py", 1, n) for n in names),
                        [-1 if p is None else p for p, _, _ in stacks],
                        [names.index(n) for _, n, _ in stacks], [ln for _, _, ln in stacks],
                        [t for t, _ in samples], [s for _, s in samples])


def test_stack_tree_is_exact(tmp_path):
    prof = load(tmp_path, SAMPLES, end=4.0)
    tree, counts, self_counts = sa.stack_tree(prof)
    assert dump(tree, "total") == "A 0.004\nA;B 0.003\nA;C 0.001"
    assert dump(tree, "self") == "A;B 0.003\nA;C 0.001"
    assert tree.mode == calltree.EXACT == "exact"
    assert not tree.flags.any()                       # nothing estimated, shared, scaled
    assert tree.total[0] == pytest.approx(prof.weights().sum())
    assert tree.funcs[0] is None and tree.parent.tolist() == [-1, 0, 1, 1]
    assert [f[2] for f in tree.funcs[1:]] == ["A", "B", "C"]   # biggest child first
    assert tree.depth.tolist() == [0, 1, 2, 2]
    assert tree.start.tolist() == pytest.approx([0.0, 0.0, 0.0, 0.003])
    assert counts.tolist() == [4, 4, 3, 1] and self_counts.tolist() == [0, 0, 3, 1]


def test_merging_profiles_sums_them(tmp_path):
    one = load(tmp_path, SAMPLES, end=4.0, name="1.stacks")
    two = load(tmp_path, [(0.0, ["A", "C"]), (5.0, ["D"])], end=6.0, name="2.stacks")
    tree, counts, _ = sa.stack_tree([one, two])
    assert dump(tree, "total") == "A 0.009\nA;B 0.003\nA;C 0.006\nD 0.001"
    assert tree.total[0] == pytest.approx(one.weights().sum() + two.weights().sum())
    assert [f[2] for f in tree.funcs[1:]] == ["A", "C", "B", "D"]
    assert counts[0] == 6


def test_recursion_is_kept_and_lines_are_merged(tmp_path):
    prof = load(tmp_path, [(0.0, ["A", "B", "A"]), (1.0, ["A", "B"]), (2.0, ["A", "B", "A"])],
                end=3.0)
    assert dump(sa.stack_tree(prof).tree, "self") == "A;B 0.001\nA;B;A 0.002"
    # the same function at two lines is one node of the tree
    lines = profile([(None, "A", 10), (None, "A", 12), (0, "B", 5), (1, "B", 5)],
                    [(0.0, 2), (1.0, 3)], 2.0)
    assert dump(sa.stack_tree(lines).tree, "total") == "A 0.002\nA;B 0.002"


def test_folded_text_in_ms(tmp_path):
    prof = load(tmp_path, SAMPLES + [(3.5, ["A"])], end=4.0)
    assert sa.folded(prof) == "A 0.5\nA;B 3\nA;C 0.5"
    assert sa.folded([prof, prof]) == "A 1\nA;B 6\nA;C 1"


def test_an_empty_profile_is_a_root_alone(tmp_path):
    prof = load(tmp_path, [], end=3.0)
    tree, counts, _ = sa.stack_tree(prof)
    assert len(tree) == 1 and tree.total[0] == 0 and counts.tolist() == [0]
    assert len(sa.time_order(prof)) == 0 and sa.gaps(prof) == []


def test_time_order_spans(tmp_path):
    prof = load(tmp_path, [(0.0, ["A", "B"]), (1.0, ["A", "B"]), (2.0, ["A", "C"]),
                           (3.0, ["A", "B"]), (3.5, ["A", "B", "A"])], end=5.0)
    chart = sa.time_order(prof)
    got = [(d, s, e, f[2], ln) for d, s, e, f, ln in chart.spans()]
    assert got == [(0, 0.0, 5.0, "A", 10),
                   (1, 0.0, 2.0, "B", 10), (1, 2.0, 3.0, "C", 10), (1, 3.0, 5.0, "B", 10),
                   (2, 3.5, 5.0, "A", 10)]
    assert chart.cut_ms is None
    assert chart.depth.dtype == np.int32 and chart.start_ms.dtype == np.float64


def test_time_order_a_new_call_site_is_a_new_call():
    # A calls B from line 10, then B again from line 12: two calls of B, one of A
    prof = profile([(None, "A", 10), (None, "A", 12), (0, "B", 5), (1, "B", 5), (0, "B", 6)],
                   [(0.0, 2), (1.0, 4), (2.0, 3), (3.0, 1)], 4.0)
    got = [(d, s, e, f[2], ln) for d, s, e, f, ln in sa.time_order(prof).spans()]
    assert got == [(0, 0.0, 4.0, "A", 10), (1, 0.0, 2.0, "B", 5), (1, 2.0, 3.0, "B", 5)]


def test_time_order_stops_at_max_spans(tmp_path):
    prof = load(tmp_path, [(float(t), ["A", "B" if t % 2 else "C"]) for t in range(10)],
                end=10.0)
    chart = sa.time_order(prof, max_spans=4)
    assert len(chart) <= 4 and chart.cut_ms == 3.0
    assert chart.end_ms.max() <= 3.0


def test_gaps_classify_the_innermost_python_frame(tmp_path):
    pymysql = ("/srv/venv/lib/python3.11/site-packages/pymysql/connections.py", 700, "_read")
    prof = load(tmp_path, [(0.0, ["A"]), (1.0, ["A", SOCKET]), (2.0, ["A", SOCKET]),
                           (3.0, ["A", WAIT]), (4.0, ["A", ("socket.py", 1, "readinto")]),
                           (5.0, ["A", pymysql, SOCKET]), (6.0, ["A"])], end=7.0)
    assert [g[:3] for g in sa.gaps(prof)] == [(1.0, 3.0, "socket"), (3.0, 4.0, "lock")]
    assert [g[:3] for g in sa.gaps(prof, min_ms=1.5)] == [(1.0, 3.0, "socket")]
    assert sa.wait_kind(("/usr/lib/python3.12/selectors.py", 451, "select")) == "select"
    assert sa.wait_kind(("~", 0, "<built-in method time.sleep>")) == "sleep"
    assert sa.wait_kind(("/usr/lib/python3.12/queue.py", 154, "get")) == "lock"
    assert sa.wait_kind(("app.py", 1, "wait")) is None


def test_sql_spans_find_the_stack_that_ran_a_statement(tmp_path):
    execute = ("/srv/venv/lib/python3.11/site-packages/sqlalchemy/engine/default.py", 920,
               "do_execute")
    prof = load(tmp_path, [(0.0, ["view", "render"]), (1.0, ["view", "render"]),
                           (2.0, ["view", "query", execute]), (3.0, ["view", "query", execute]),
                           (4.0, ["view"])], end=5.0)
    queries = [Query("SELECT 1", START + 0.0019, 1.5),     # the sample at 2 ms is inside
               Query("SELECT 2", None, 1.0),                # no time: left out
               Query("SELECT 3", START + 0.0041, 0.3)]      # between samples: no stack
    spans = sa.sql_spans(prof, queries)
    assert [s.statement_index for s in spans] == [0, 2]
    first = spans[0]
    assert first.start_ms == pytest.approx(1.9, abs=1e-3)
    assert first.end_ms == pytest.approx(3.4, abs=1e-3)
    assert prof.path(first.sid)[-1] == execute
    i = int(np.searchsorted(prof.sample_t, first.start_ms))
    assert prof.sample_t[i - 1] <= first.start_ms < prof.sample_t[i] <= first.end_ms
    assert spans[1].sid is None
