"""Inverted (bottom-up) and callers (sandwich) trees: written as folded stacks, compared as text."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from profview.analysis.calltree import ESTIMATED, EXACT, SCALED, SEVERAL
from profview.analysis.inverted import callers_tree, inverted_tree
from profview.importers.folded import callgraph_from_folded, dump, key_of
from profview.loading.merge import load_graph
from profview.loading.scan import load_capture

SEVERAL_BLOCK = "(called from several places)"


def inverted(text, mode="estimated", threshold=0.0):
    return inverted_tree(callgraph_from_folded(text), mode=mode, threshold=threshold)


def callers(text, name, mode="estimated", threshold=0.0):
    return callers_tree(callgraph_from_folded(text), key_of(name), mode=mode,
                        threshold=threshold)


def _check_invariants(t):
    assert t.parent[0] == -1 and t.depth[0] == 0
    for i in range(1, len(t)):
        p = t.parent[i]
        assert p < i and t.depth[i] == t.depth[p] + 1
        assert t.start[i] >= t.start[p] - 1e-12
        assert t.start[i] + t.total[i] <= t.start[p] + t.total[p] + 1e-9
    children_sum = np.zeros(len(t))
    np.add.at(children_sum, t.parent[1:], t.total[1:])
    assert np.all(children_sum <= t.total - t.self_time + 1e-9)
    assert np.all(t.self_time >= 0) and np.all(t.self_time <= t.total + 1e-12)


def test_tree_shaped_input_is_exact_and_reversed():
    stacks = "A;B;C 5\nA;D;C 3\nA 1"
    for mode in ("estimated", EXACT):
        t = inverted(stacks, mode)
        assert t.total[0] == 9.0   # all the self time
        assert dump(t, "total") == "\n".join([
            "A 1", "C 8", "C;B 5", "C;B;A 5", "C;D 3", "C;D;A 3"]), mode
        # self time is where a stack starts: the input's stacks, read bottom-up
        assert dump(t) == "A 1\nC;B;A 5\nC;D;A 3"
        assert not any(t.flags & (ESTIMATED | SEVERAL | SCALED))
        _check_invariants(t)


def test_shared_caller_is_estimated_and_marked():
    # B is called from X and Y; which of them called B when it called C is not in pstats.
    t = inverted("X;B;C 6\nY;B;E 2")
    assert dump(t, "total") == "\n".join([
        "C 6", "C;B 6", "C;B;X* 4.5", "C;B;Y* 1.5",
        "E 2", "E;B 2", "E;B;X* 1.5", "E;B;Y* 0.5"])
    # the exact levels are not marked: the roots and their callers
    assert [bool(f & ESTIMATED) for f, d in zip(t.flags, t.depth) if d <= 2] == [False] * 5
    _check_invariants(t)


def test_exact_mode_gives_a_several_block_and_no_estimates():
    t = inverted("X;B;C 6\nY;B;E 2", EXACT)
    assert dump(t, "total") == "\n".join([
        "C 6", "C;B 6", "C;B;%s 6" % SEVERAL_BLOCK, "E 2", "E;B 2", "E;B;%s 2" % SEVERAL_BLOCK])
    assert not any(t.flags & ESTIMATED)
    blocks = [i for i in range(len(t)) if t.flags[i] & SEVERAL]
    assert len(blocks) == 2 and all(t.funcs[i] is None for i in blocks)
    assert t.labels()[blocks[0]] == SEVERAL_BLOCK
    _check_invariants(t)


def test_a_node_holding_all_of_its_function_is_split_exactly():
    # C has two callers, but this node holds all of C's time: the edges split it exactly
    stacks = "X;C;F 2\nY;C;F 1"
    for mode in ("estimated", EXACT):
        t = inverted(stacks, mode)
        assert dump(t, "total") == "F 3\nF;C 3\nF;C;X 2\nF;C;Y 1", mode
        assert not any(t.flags & (ESTIMATED | SEVERAL))


def test_recursion_stays_finite_and_inside():
    t = inverted("A;B;A;B;C 4\nA;B 1\nA;X;X;X 2")
    assert dump(t, "total") == "B 1\nB;A 1\nC 4\nC;B 4\nC;B;A 4\nX 2"
    _check_invariants(t)
    names = [f[2] for f in t.funcs[1:]]
    for i in range(1, len(t)):   # no function twice on one path
        path, j = [], i
        while j > 0:
            path.append(t.funcs[j])
            j = t.parent[j]
        assert len(path) == len(set(path)), names


def test_recursion_that_does_not_fit_is_shrunk_and_marked():
    # A's callers X and B (B only through A: recursion) each have an edge of all A's 5 s
    for mode in ("estimated", EXACT):
        t = inverted("X;A;B;A;C 5", mode)
        assert dump(t, "total") == "C 5\nC;A 5\nC;A;B 2.5\nC;A;X 2.5"
        shrunk = {t.funcs[i][2]: (t.total[i], t.unscaled[i]) for i in range(len(t))
                  if t.flags[i] & SCALED}
        assert shrunk == {"B": (2.5, 5.0), "X": (2.5, 5.0)}, mode
        _check_invariants(t)


def test_threshold_is_relative_to_all_self_time():
    stacks = "A;B 990\nA;C 9\nA;C;D 1"
    assert dump(inverted(stacks, threshold=0.005), "total") == "B 990\nB;A 990\nC 9\nC;A 9"
    t = inverted(stacks, threshold=0.0)
    assert t.total[0] == 1000 and "D;C;A 1" in dump(t, "total").splitlines()


def test_max_nodes_bounds_the_tree():
    stacks = "\n".join("R;M%d;L%d 1" % (i, i) for i in range(50))
    t = inverted_tree(callgraph_from_folded(stacks), threshold=0.0, max_nodes=20)
    assert len(t) == 20
    _check_invariants(t)


def test_callers_tree_of_a_function_called_from_two_places():
    stacks = "A;B;F;G 4\nA;C;F 2\nX;C 1\nA 3"
    t = callers(stacks, "F")
    assert t.total[0] == t.total[1] == 6.0 and t.funcs[1] == key_of("F")
    assert dump(t, "total") == "\n".join([
        "F 6", "F;B 4", "F;B;A 4", "F;C 2", "F;C;A* 1.33333", "F;C;X* 0.666667"])
    _check_invariants(t)
    exact = callers(stacks, "F", EXACT)
    assert dump(exact, "total") == "\n".join([
        "F 6", "F;B 4", "F;B;A 4", "F;C 2", "F;C;%s 2" % SEVERAL_BLOCK])
    assert not any(exact.flags & ESTIMATED)
    _check_invariants(exact)


def test_callers_tree_of_an_entry_point_is_just_itself():
    t = callers("A;B 2\nA 1", "A")
    assert dump(t, "total") == "A 3" and dump(t) == "A 3"
    with pytest.raises(KeyError):
        callers("A;B 2", "nope")


@pytest.fixture(scope="module")
def real_graph():
    samples = Path(__file__).resolve().parent.parent / "sample_profiles"
    capture = load_capture([samples / "before"], workers=1)
    graph, problems = load_graph(capture.requests, workers=1)
    assert not problems and graph is not None
    return graph


@pytest.mark.parametrize("mode", ["estimated", EXACT])
def test_inverted_tree_of_a_real_capture(real_graph, mode):
    t = inverted_tree(real_graph, mode=mode, threshold=0.001)
    _check_invariants(t)
    assert 20 < len(t) < 20000
    assert t.total[0] == pytest.approx(sum(s.tottime for s in real_graph.functions.values()))
    roots = np.flatnonzero(t.depth == 1)
    for r in roots:
        tottime = real_graph.functions[t.funcs[r]].tottime
        assert t.total[r] == pytest.approx(tottime)
        level1 = t.total[t.parent == r].sum()
        assert level1 <= tottime + 1e-9
        assert not t.flags[r] & ESTIMATED and not any(t.flags[t.parent == r] & ESTIMATED)
    # the biggest root is the function with the most self time
    top = max(real_graph.functions, key=lambda k: real_graph.functions[k].tottime)
    assert t.funcs[roots[0]] == top
    if mode == EXACT:
        assert not any(t.flags & ESTIMATED)
    else:
        assert any(t.flags & ESTIMATED)


def test_callers_tree_of_a_real_function(real_graph):
    stats = real_graph.functions
    func = next(k for k in stats if k[2] == "_class_statistics")
    t = callers_tree(real_graph, func)
    _check_invariants(t)
    assert t.funcs[1] == func and t.total[0] == t.total[1] == stats[func].cumtime
    for i in np.flatnonzero(t.parent == 1):   # its callers: pstats' edges, exact
        assert t.total[i] == pytest.approx(real_graph.edges[(t.funcs[i], func)].cumtime)
        assert not t.flags[i] & ESTIMATED
